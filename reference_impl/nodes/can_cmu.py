"""The reference CMU: a cell monitoring unit (slave) on the internal CAN bus.

One CMU per module, on any python-can bus (:class:`can.BusABC`; nothing here is specific
to one interface). Module ``m`` owns the pack's cells ``16·m … 16·m+15`` and temperature
sensors ``8·m … 8·m+7`` (:class:`~.can_codec.ModuleLayout`). Per the internal bus's catalog
(``spec/can/internal.yaml``), each ``step(t)``:

1. reads every frame the bus holds: ``bmu_measurement_sync`` starts a conversion;
   ``bmu_balancing_cmd`` with its own module index sets the balancing switches — each
   checked for its CRC and alive counter first, a failing frame discarded and counted;
2. converts when a sync arrived, and otherwise on its own 100 ms clock once the sync is
   older than its 300 ms timeout (or never came): the sync's catalog reaction, "the CMU goes
   on measuring on its own 100 ms clock". A conversion reads the module's true cell voltages
   and temperatures from the measurement source and passes them through the reference cell
   monitor block (:class:`~reference_impl.hal.cell_monitor.CellMonitor`: quantised to the
   dictionary's resolution, invalid outside the measuring range or NaN — an open wire);
3. opens every balancing switch once the last valid ``bmu_balancing_cmd`` for its module is
   older than its 1 s timeout (the catalog's reaction, within its 100 ms bound: at once);
4. sends what is due at ``t``: ``cmu_cell_voltages`` (its module's 6 groups, every 100 ms),
   ``cmu_cell_temperatures`` (3 groups, every 200 ms) and ``cmu_status`` (every 100 ms:
   balancing_active and cell_monitor_age_s, the age of its last conversion).

Example (in process, on python-can's virtual bus; ``t`` is simulated time)::

    bus = can.Bus(interface="virtual", channel="internal")
    cmu = CanCmu(bus, module=0, measure=lambda t: (cell_voltages_V, temperatures_degC))
    for k in range(1000):
        cmu.step(k * 0.01)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import can
import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..can import FRAMES
from ..component import TIME_EPS_S
from ..hal.cell_monitor import CellMonitor
from .can_codec import BusCodec, RxStatus, drain, module_layout
from .can_timing import Periodic

BUS = "internal_can"
NODE = "cmu"

MeasurementSource = Callable[[float], tuple[ArrayLike, ArrayLike]]
"""``measure(t) -> (cell voltages V, sensor temperatures °C)`` of the module at ``t``: what
the analog front end's input pins see (NaN for a cell behind an open sense wire)."""

SwitchSink = Callable[[NDArray[np.bool_]], None]
"""``switches(closed)``: called with the module's balancing switch states when they change."""


class CanCmu:
    """The reference CMU of module ``module`` on ``bus`` (module docstring).

    ``n_cells`` and ``n_sensors`` (default: a whole module, 16 and 8) are the cells and
    sensors the module has; the last module of a pack may have fewer, and the elements past
    them are sent invalid. ``cell_monitor`` holds the cell monitor's parameters (accuracies);
    its measurement cycle is the sync's, so every conversion samples afresh.
    """

    def __init__(self, bus: can.BusABC, module: int, measure: MeasurementSource, *,
                 switches: SwitchSink | None = None, n_cells: int | None = None,
                 n_sensors: int | None = None,
                 cell_monitor: Mapping[str, Any] | None = None) -> None:
        layout = module_layout()
        if not (isinstance(module, int) and 0 <= module < layout.max_modules):
            raise ValueError(f"CMU: module: expected 0 … {layout.max_modules - 1} (the "
                             f"internal bus's multiplexers), found {module!r}")
        self.n_cells = layout.cells_per_module if n_cells is None else n_cells
        self.n_sensors = layout.sensors_per_module if n_sensors is None else n_sensors
        if not 1 <= self.n_cells <= layout.cells_per_module:
            raise ValueError(f"CMU: n_cells: expected 1 … {layout.cells_per_module}, found "
                             f"{self.n_cells}")
        if not 0 <= self.n_sensors <= layout.sensors_per_module:
            raise ValueError(f"CMU: n_sensors: expected 0 … {layout.sensors_per_module}, "
                             f"found {self.n_sensors}")
        self.bus, self.module, self.layout = bus, module, layout
        self._measure, self._switch_sink = measure, switches
        self.codec = BusCodec(BUS, NODE)
        frames = FRAMES[BUS]
        self._sync_timeout_s = _required(frames["bmu_measurement_sync"].timeout_s)
        self._own_period_s = _required(frames["bmu_measurement_sync"].period_s)
        self._cmd_timeout_s = _required(frames["bmu_balancing_cmd"].timeout_s)
        self._age_max_s = self.codec.frames["cmu_status"].limits["cell_monitor_age_s"][1]
        self._schedules = {name: Periodic(_required(frames[name].period_s))
                           for name in ("cmu_cell_voltages", "cmu_cell_temperatures",
                                        "cmu_status")}
        # the conversion instants are the sync's: the block samples at every call
        self.monitor = CellMonitor()
        self.monitor.configure({**(cell_monitor or {}), "measurement_cycle_s": 0.01})
        self.reset()

    @classmethod
    def from_pins(cls, buses: Mapping[str, can.BusABC], pins: Any,
                  setup: Mapping[str, Any]) -> CanCmu:
        """The CMU as a bench hosts a Python CAN node (``conformance.adapters.can_serve``):
        on ``buses["internal_can"]``, its measurement pins ``pins.read()``'s
        true_cell_voltage_V and true_cell_temperature_degC (its module's), its balancing
        switches written to the pin ``balancing_switches``; ``setup`` gives the module index
        and its cells and sensors."""
        def measure(t: float) -> tuple[ArrayLike, ArrayLike]:
            pin = pins.read()
            return pin["true_cell_voltage_V"], pin["true_cell_temperature_degC"]

        def switches(closed: NDArray[np.bool_]) -> None:
            pins.write("balancing_switches", closed)

        return cls(buses["internal_can"], int(setup["module"]), measure, switches=switches,
                   n_cells=int(setup["n_cells"]), n_sensors=int(setup["n_sensors"]))

    def configure(self, parameters: Mapping[str, Mapping[str, Any]]) -> None:
        """Parameters per component id: the cell monitor's accuracies (its cycle is the
        sync's); resets the node."""
        cell_monitor = dict(parameters.get("cell_monitor", {}))
        self.monitor.configure({**cell_monitor, "measurement_cycle_s": 0.01})
        self.reset()

    def reset(self) -> None:
        """Power-on: switches open, nothing measured, counters and schedules from the start."""
        self.codec.reset()
        self.monitor.reset()
        for schedule in self._schedules.values():
            schedule.reset()
        # every switch open, and the hardware told so if some were closed
        self.switches = getattr(self, "switches", np.zeros(self.n_cells, dtype=bool))
        self._set_switches(np.zeros(self.n_cells, dtype=bool))
        self._t0: float | None = None
        self._sync_at: float | None = None  # the last valid sync's reception
        self._cmd_at: float | None = None  # the last valid balancing command's reception
        self._converted_at: float | None = None
        self._record: dict[str, Any] = {}
        self.conversions = 0
        self.synchronised_conversions = 0
        self.balancing_timeouts = 0
        self.send_errors = 0

    # ------------------------------------------------------------------------- step
    def step(self, t: float) -> None:
        """Receive, convert, supervise the balancing command, send what is due (module
        docstring)."""
        if self._t0 is None:
            self._t0 = t
        sync = self._receive(t)
        if sync or self._own_conversion_due(t):
            self._convert(t, sync)
        self._supervise_command(t)
        self._send_due(t)

    def _receive(self, t: float) -> bool:
        sync = False
        for msg in drain(self.bus):
            rx = self.codec.decode(msg)
            if rx.status is not RxStatus.ACCEPTED:
                continue
            if rx.name == "bmu_measurement_sync":
                sync, self._sync_at = True, t
            elif rx.name == "bmu_balancing_cmd" and rx.mux == self.module:
                self._cmd_at = t
                closed = np.array([bool(rx.signals[f"balancing_cmd_{i}"])
                                   for i in range(self.n_cells)])
                self._set_switches(closed)
        return sync

    def _own_conversion_due(self, t: float) -> bool:
        """Without a fresh sync, the CMU measures on its own clock (the sync's timeout
        reaction); before the first sync the same."""
        assert self._t0 is not None
        sync_age = t - (self._sync_at if self._sync_at is not None else -float("inf"))
        if sync_age <= self._sync_timeout_s + TIME_EPS_S:
            return False
        return (self._converted_at is None
                or t - self._converted_at >= self._own_period_s - TIME_EPS_S)

    def _convert(self, t: float, synchronised: bool) -> None:
        voltages, temperatures = self._measure(t)
        v = np.asarray(voltages, dtype=float).reshape(-1)
        temp = np.asarray(temperatures, dtype=float).reshape(-1)
        if v.size != self.n_cells or temp.size != self.n_sensors:
            raise ValueError(f"CMU {self.module}: the measurement source gave {v.size} cell "
                             f"voltages and {temp.size} temperatures at t={t}; expected "
                             f"{self.n_cells} and {self.n_sensors}")
        self._record = self.monitor.step(t, {"true_cell_voltage_V": v,
                                             "true_cell_temperature_degC": temp})
        self._converted_at = t
        self.conversions += 1
        self.synchronised_conversions += synchronised

    def _supervise_command(self, t: float) -> None:
        assert self._t0 is not None
        since = self._cmd_at if self._cmd_at is not None else self._t0
        if t - since > self._cmd_timeout_s + TIME_EPS_S and self.switches.any():
            self.balancing_timeouts += 1
            self._set_switches(np.zeros(self.n_cells, dtype=bool))

    def _set_switches(self, closed: NDArray[np.bool_]) -> None:
        if np.array_equal(closed, self.switches):
            return
        self.switches = closed
        if self._switch_sink is not None:
            self._switch_sink(closed.copy())

    # ---------------------------------------------------------------------- sending
    def _send_due(self, t: float) -> None:
        layout, record = self.layout, self._record
        if self._schedules["cmu_cell_voltages"].due(t):
            for j in range(layout.voltage_groups_per_module):
                group = layout.voltage_group(self.module, j)
                values = _elements(layout.cells_of(group), self.module * layout.cells_per_module,
                                   self.n_cells, record["cell_voltage_V"],
                                   record["cell_voltage_valid"], "cell_voltage_V",
                                   "cell_voltage_valid")
                self._send("cmu_cell_voltages", values, t, group)
        if self._schedules["cmu_cell_temperatures"].due(t):
            for j in range(layout.temperature_groups_per_module):
                group = layout.temperature_group(self.module, j)
                values = _elements(layout.sensors_of(group),
                                   self.module * layout.sensors_per_module, self.n_sensors,
                                   record["cell_temperature_degC"],
                                   record["cell_temperature_valid"], "cell_temperature_degC",
                                   "cell_temperature_valid")
                self._send("cmu_cell_temperatures", values, t, group)
        if self._schedules["cmu_status"].due(t):
            assert self._converted_at is not None
            age = min(t - self._converted_at, self._age_max_s)  # saturating, as the catalog says
            self._send("cmu_status", {"balancing_active": bool(self.switches.any()),
                                      "cell_monitor_age_s": age}, t, self.module)

    def _send(self, name: str, values: Mapping[str, Any], t: float, mux: int) -> None:
        self._put(self.codec.encode(name, values, t, mux))

    def _put(self, msg: can.Message) -> None:
        """Hand ``msg`` to the controller."""
        try:
            self.bus.send(msg)
        except can.CanError:
            # a full transmit queue or a bus-off controller: the frame is lost and counted;
            # the schedule goes on, so the frames come again once the controller recovers
            # (OBSA-CAN-011)
            self.send_errors += 1


def _elements(members: list[tuple[int, int]], first: int, present: int, measured: Any,
              valid: Any, value_name: str, valid_name: str) -> dict[str, Any]:
    """The DBC values of one group: each element's value and validity (an element past the
    module's cells or sensors: invalid, its value raw 0)."""
    out: dict[str, Any] = {}
    for element, index in members:
        local = index - first
        if local < present:
            out[f"{value_name}_{element}"] = float(measured[local])
            out[f"{valid_name}_{element}"] = bool(valid[local])
        else:
            out[f"{valid_name}_{element}"] = False
    return out


def _required(value: float | None) -> float:
    if value is None:
        raise ValueError("the CAN catalog lacks a period or timeout the reference CMU needs")
    return value
