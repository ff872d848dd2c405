"""The reference BMU: the battery management unit (master) on the internal and the vehicle bus.

The BMU runs every reference block the architecture places on it — the full BMS's blocks in
the ``full_bms`` profile's order, all but the cell monitor, which lives on the CMUs
(:class:`BmuFunctions`) — on any two python-can buses (:class:`can.BusABC`; nothing here is
specific to one interface). It is stepped with explicit time; each ``step(t)``, per the CAN
catalog (``spec/can/internal.yaml``, ``spec/can/vehicle.yaml``):

1. reads every frame both buses hold and checks each for its CRC and alive counter; a
   failing frame is discarded (its signals keep their last valid values) and counted, and
   the step reports ``crc_error`` or ``alive_counter_error`` in ``can_fault_flags``
   (OBSA-CAN-005);
2. assembles the pack's cell arrays from the CMUs' frames: ``cmu_cell_voltages`` and
   ``cmu_cell_temperatures`` per multiplexed group, ``cmu_status`` per module. A cell is
   valid when its CMU sent it valid, its group's frame is younger than its timeout (300 ms,
   600 ms for temperatures) and its module's status frame younger than 300 ms — the
   catalog's reactions: the group's, or the whole module's cells, invalid.
   ``cell_monitor_age_s`` is the oldest module's measurement age (the age its status frame
   reported plus the time since it arrived; since power-on for a module never heard);
3. takes the vehicle's ``vcu_state_request`` (close_request, fault_reset_request). Its
   alive counter is the heartbeat: once the last valid request is older than 1 s, the BMU
   takes close_request as false — the contactor manager opens the HV path
   (OBSA-CONT-006) within the catalog's 200 ms reaction time — and reports ``rx_timeout``.
   ``charger_status`` gives charger_connected, false once it is older than 3 s;
4. steps the reference blocks on the node's hardware inputs (``hardware(t)``: the true
   pack current and voltages, insulation resistance and contactor positions its own sensors
   and drivers see) and the signals above;
5. sends what is due at ``t`` (``bms_faults`` carries every can_fault_flags bit raised
   since its previous frame, so that a one-step flag such as ``crc_error`` reaches the
   vehicle): on the internal bus ``bmu_measurement_sync`` and
   ``bmu_balancing_cmd`` (one per module, the balancing block's commands) every 100 ms; on
   the vehicle bus ``bms_state``, ``bms_faults``, ``bms_pack_measurements``,
   ``bms_current_limits``, ``bms_power_limits`` every 100 ms, ``bms_state_estimation`` and
   ``bms_charger_request`` every 1 s — every signal the dictionary signal of its name.

``rx_timeout`` covers the received frames whose catalog timeout says ``rx_timeout_fault``
(the CMUs' and the state request). The charger's frame says not: it stops whenever no
charger is plugged in, and its timeout only means charger_connected false (the catalog's
reaction).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import can
import numpy as np

from ..can import FRAMES, NODE_COMPONENTS
from ..component import TIME_EPS_S
from ..interfaces import CanStackFault
from .can_codec import BusCodec, Received, RxCounts, RxStatus, drain, module_layout
from .can_timing import Periodic
from .node import Node

NODE = "bmu"

#: The BMU's outputs that drive its hardware: the contactor coils.
CONTACTOR_COMMANDS = ("main_positive_close_cmd", "main_negative_close_cmd",
                      "precharge_close_cmd")

HardwareSource = Callable[[float], Mapping[str, Any]]
"""``hardware(t)``: what the BMU's own input pins see at ``t`` — true_pack_current_A,
true_pack_voltage_V, true_link_voltage_V, true_insulation_resistance_ohm and the true
positions of the three contactors (the plant side of its hardware abstraction)."""

_E2E_FLAGS = {RxStatus.CRC_ERROR: CanStackFault.CRC_ERROR,
              RxStatus.COUNTER_REPEATED: CanStackFault.ALIVE_COUNTER_ERROR,
              RxStatus.COUNTER_JUMP: CanStackFault.ALIVE_COUNTER_ERROR}


class BmuFunctions(Node):
    """The ``full_bms`` profile's blocks that the architecture places on the BMU, stepped in
    the profile's order (:class:`~.node.Node`): all but the cell monitor, which runs on the
    CMUs — its outputs (cell_voltage_V, cell_temperature_degC, their validity and
    cell_monitor_age_s) are this node's inputs, assembled from the internal bus."""

    def __init__(self, dimensions: Mapping[str, int]) -> None:
        super().__init__("full_bms", dimensions)
        for name in [c for c in self.components if c not in NODE_COMPONENTS[NODE]]:
            del self.components[name]
        self.reset()


class CanBmu:
    """The reference BMU on ``internal`` (BMU ↔ CMUs) and ``vehicle`` (BMU ↔ vehicle control
    unit, charger) for a pack of ``n_cells`` cells and ``n_sensors`` temperature sensors
    (module docstring). Configure its blocks with :meth:`configure` (parameters per
    component, as a manifest declares them) before the first step."""

    def __init__(self, internal: can.BusABC, vehicle: can.BusABC, hardware: HardwareSource,
                 *, n_cells: int, n_sensors: int) -> None:
        self.layout = layout = module_layout()
        self.n_modules = layout.modules_for(n_cells, n_sensors)
        self.n_cells, self.n_sensors = n_cells, n_sensors
        self.internal, self.vehicle, self._hardware = internal, vehicle, hardware
        #: called with every step's signals: the node's output pins (the contactor drivers)
        self.drive: Callable[[Mapping[str, Any]], object] | None = None
        self.functions = BmuFunctions({"cell": n_cells, "temperature_sensor": n_sensors})
        self.internal_codec = BusCodec("internal_can", NODE)
        self.vehicle_codec = BusCodec("vehicle_can", NODE)
        internal_frames, vehicle_frames = FRAMES["internal_can"], FRAMES["vehicle_can"]
        self._timeout_s = {name: rule.timeout_s
                           for frames in (internal_frames, vehicle_frames)
                           for name, rule in frames.items()
                           if NODE in rule.receivers and rule.timeout_s is not None}
        #: the received frames whose timeout is a fault (rx_timeout), as the catalog says
        self._fault_timeouts = [name for frames in (internal_frames, vehicle_frames)
                                for name, rule in frames.items()
                                if NODE in rule.receivers and rule.rx_timeout_fault]
        # the groups that carry at least one of the pack's cells or sensors
        v_groups = [layout.voltage_group(m, j) for m in range(self.n_modules)
                    for j in range(layout.voltage_groups_per_module)]
        t_groups = [layout.temperature_group(m, j) for m in range(self.n_modules)
                    for j in range(layout.temperature_groups_per_module)]
        self._v_members = _present(layout.cells_of, v_groups, n_cells)
        self._t_members = _present(layout.sensors_of, t_groups, n_sensors)
        self._v_groups = np.array(list(self._v_members), dtype=int)
        self._t_groups = np.array(list(self._t_members), dtype=int)
        # per cell (sensor): its group and its module, to judge freshness in one expression
        self._cell_group = np.empty(n_cells, dtype=int)
        self._sensor_group = np.empty(n_sensors, dtype=int)
        for g, members in self._v_members.items():
            for _, i in members:
                self._cell_group[i] = g
        for g, members in self._t_members.items():
            for _, i in members:
                self._sensor_group[i] = g
        self._cell_module = np.arange(n_cells) // layout.cells_per_module
        self._sensor_module = np.arange(n_sensors) // layout.sensors_per_module
        self._periodic = {
            (bus, name): Periodic(rule.period_s)
            for bus, frames in (("internal_can", internal_frames),
                                ("vehicle_can", vehicle_frames))
            for name, rule in frames.items()
            if NODE in rule.senders and rule.period_s is not None}
        self.reset()

    @classmethod
    def from_pins(cls, buses: Mapping[str, can.BusABC], pins: Any,
                  setup: Mapping[str, Any]) -> CanBmu:
        """The BMU as a bench hosts a Python CAN node (``conformance.adapters.can_serve``):
        on ``buses["internal_can"]`` and ``buses["vehicle_can"]``, its hardware inputs
        ``pins.read()`` (as ``hardware(t)``), its contactor commands written to the pins of
        their names after every step; ``setup`` gives the pack's cells and sensors."""
        node = cls(buses["internal_can"], buses["vehicle_can"], lambda t: pins.read(),
                   n_cells=int(setup["n_cells"]), n_sensors=int(setup["n_sensors"]))
        node.drive = lambda signals: [pins.write(name, bool(signals[name]))
                                      for name in CONTACTOR_COMMANDS if name in signals]
        return node

    def configure(self, parameters: Mapping[str, Mapping[str, Any]]) -> None:
        """Parameters per component id (as :meth:`Node.configure`); resets the node."""
        self.functions.configure(parameters)
        self.reset()

    def reset(self) -> None:
        """Power-on: nothing received (every cell invalid, close_request false), counters
        and schedules from the start, every block reset."""
        self.functions.reset()
        self.internal_codec.reset()
        self.vehicle_codec.reset()
        for schedule in self._periodic.values():
            schedule.reset()
        self._t0: float | None = None
        n_v, n_t = self.layout.voltage_groups, self.layout.temperature_groups
        self._v = np.zeros(self.n_cells)
        self._v_ok = np.zeros(self.n_cells, dtype=bool)
        self._v_at = np.full(n_v, np.nan)  # reception time per group (NaN: never)
        self._temp = np.zeros(self.n_sensors)
        self._temp_ok = np.zeros(self.n_sensors, dtype=bool)
        self._temp_at = np.full(n_t, np.nan)
        self._status_at = np.full(self.n_modules, np.nan)
        self._status_age = np.zeros(self.n_modules)
        self.module_balancing_active = np.zeros(self.n_modules, dtype=bool)
        self._request_at: float | None = None
        self._request = {"close_request": False, "fault_reset_request": False}
        self._charger_at: float | None = None
        self._charger_seen_at: float | None = None  # the last valid frame, connected or not
        self._rx_at: dict[tuple[str, int | None], float] = {}  # for the counters' resync
        self.signals: dict[str, Any] = {}
        self.send_errors = 0
        self._flags_unsent = 0  # can_fault_flags raised since the last bms_faults frame

    @property
    def rx_counts(self) -> dict[str, RxCounts]:
        """Frames received per catalog frame (both buses), by fate."""
        return {**self.internal_codec.rx_counts, **self.vehicle_codec.rx_counts}

    # ------------------------------------------------------------------------- step
    def step(self, t: float) -> dict[str, Any]:
        """One cycle at ``t`` (module docstring); every signal of the step."""
        if self._t0 is None:
            self._t0 = t
        flags = 0
        for bus, codec, handle in ((self.internal, self.internal_codec, self._internal),
                                   (self.vehicle, self.vehicle_codec, self._vehicle)):
            for msg in drain(bus):
                rx = codec.decode(msg)
                if rx.status is RxStatus.ACCEPTED:
                    self._rx_at[(rx.name, rx.mux)] = t
                    handle(rx, t)
                else:
                    flags |= _E2E_FLAGS.get(rx.status, 0)
        flags |= self._supervise_timeouts(t)
        flags |= self._bus_off_flags()
        self._flags_unsent |= int(flags)
        inputs = {**self._hardware(t), **self._cell_arrays(t),
                  **self._vehicle_requests(t), "can_fault_flags": int(flags)}
        self.signals = self.functions.step(t, inputs)
        self._send_due(t, self.signals)
        if self.drive is not None:
            self.drive(self.signals)
        return self.signals

    # -------------------------------------------------------------------- receiving
    def _internal(self, rx: Received, t: float) -> None:
        s, g = rx.signals, rx.mux
        assert g is not None
        if rx.name == "cmu_cell_voltages" and g in self._v_members:
            for e, i in self._v_members[g]:
                self._v[i] = s[f"cell_voltage_V_{e}"]
                self._v_ok[i] = bool(s[f"cell_voltage_valid_{e}"])
            self._v_at[g] = t
        elif rx.name == "cmu_cell_temperatures" and g in self._t_members:
            for e, i in self._t_members[g]:
                self._temp[i] = s[f"cell_temperature_degC_{e}"]
                self._temp_ok[i] = bool(s[f"cell_temperature_valid_{e}"])
            self._temp_at[g] = t
        elif rx.name == "cmu_status" and g < self.n_modules:
            self._status_at[g] = t
            self._status_age[g] = s["cell_monitor_age_s"]
            self.module_balancing_active[g] = bool(s["balancing_active"])

    def _vehicle(self, rx: Received, t: float) -> None:
        if rx.name == "vcu_state_request":
            self._request_at = t
            self._request = {"close_request": bool(rx.signals["close_request"]),
                             "fault_reset_request": bool(rx.signals["fault_reset_request"])}
        elif rx.name == "charger_status":
            self._charger_seen_at = t
            self._charger_at = t if rx.signals["charger_connected"] else None

    def _fresh(self, name: str, at: Any, t: float) -> Any:
        """Received within the frame's timeout (NaN, never: not fresh)."""
        return (t - at) <= self._timeout_s[name] + TIME_EPS_S

    def _supervise_timeouts(self, t: float) -> int:
        """rx_timeout while a frame the BMU relies on is older than its timeout (counted from
        power-on if it never came); a timed-out frame's next counter may step by any amount
        but 0 (:meth:`BusCodec.resync_counter`)."""
        assert self._t0 is not None
        expired = [key for key, at in self._rx_at.items() if not self._fresh(key[0], at, t)]
        for name, mux in expired:
            codec = self.vehicle_codec if name in FRAMES["vehicle_can"] else \
                self.internal_codec
            codec.resync_counter(name, mux)
            del self._rx_at[(name, mux)]
        # the oldest reception of each frame the BMU relies on (NaN: never, which counts
        # from power-on); one frame older than its timeout is enough
        since_start = t - self._t0
        never = since_start if since_start > 0 else 0.0
        for name in self._fault_timeouts:
            at = self._first_of_last_received(name)
            age = never if math.isnan(at) else t - at
            if age > self._timeout_s[name] + TIME_EPS_S:
                return int(CanStackFault.RX_TIMEOUT)
        return 0

    def _first_of_last_received(self, name: str) -> float:
        """The oldest of the times the frame ``name`` last came, over each multiplexer value
        the pack uses; NaN if one never came."""
        if name == "cmu_cell_voltages":
            return float(self._v_at[self._v_groups].min())  # NaN wins
        if name == "cmu_cell_temperatures":
            return float(self._temp_at[self._t_groups].min())
        if name == "cmu_status":
            return float(self._status_at.min())
        at = {"vcu_state_request": self._request_at,
              "charger_status": self._charger_seen_at}[name]
        return math.nan if at is None else at

    def _bus_off_flags(self) -> int:
        flags = 0
        for bus, flag in ((self.internal, CanStackFault.INTERNAL_BUS_OFF),
                          (self.vehicle, CanStackFault.VEHICLE_BUS_OFF)):
            if _bus_off(bus):
                flags |= int(flag)
        return flags

    def _cell_arrays(self, t: float) -> dict[str, Any]:
        status_fresh = self._fresh("cmu_status", self._status_at, t)
        v_valid = (self._v_ok & self._fresh("cmu_cell_voltages", self._v_at[self._cell_group], t)
                   & status_fresh[self._cell_module])
        temp_valid = (self._temp_ok
                      & self._fresh("cmu_cell_temperatures",
                                    self._temp_at[self._sensor_group], t)
                      & status_fresh[self._sensor_module])
        assert self._t0 is not None
        ages = np.where(np.isnan(self._status_at), t - self._t0,
                        self._status_age + (t - self._status_at))
        return {"cell_voltage_V": self._v.copy(), "cell_voltage_valid": v_valid,
                "cell_temperature_degC": self._temp.copy(),
                "cell_temperature_valid": temp_valid,
                "cell_monitor_age_s": float(ages.max())}

    def _vehicle_requests(self, t: float) -> dict[str, Any]:
        heartbeat = (self._request_at is not None
                     and self._fresh("vcu_state_request", self._request_at, t))
        charger = (self._charger_at is not None
                   and self._fresh("charger_status", self._charger_at, t))
        request = self._request if heartbeat else {"close_request": False,
                                                   "fault_reset_request": False}
        return {**request, "charger_connected": bool(charger)}

    # ---------------------------------------------------------------------- sending
    def _send_due(self, t: float, signals: Mapping[str, Any]) -> None:
        for (bus, name), schedule in self._periodic.items():
            if not schedule.due(t):
                continue
            if bus == "internal_can":
                self._send_internal(name, t, signals)
                continue
            codec = self.vehicle_codec
            names = [s.name for s in codec.frames[name].message.signals]
            values = {n: signals[n] for n in names if n in signals}
            if "can_fault_flags" not in values:
                self._send(self.vehicle, codec.encode(name, values, t))
                continue
            # a discarded frame's flag lasts one step: the frame carries every flag raised
            # since the last one sent, so that no discard goes unreported — nor a bus-off of
            # the vehicle bus, which the first frame after the recovery carries
            values["can_fault_flags"] = int(values["can_fault_flags"]) | self._flags_unsent
            if self._send(self.vehicle, codec.encode(name, values, t)):
                self._flags_unsent = 0

    def _send_internal(self, name: str, t: float, signals: Mapping[str, Any]) -> None:
        codec = self.internal_codec
        if name == "bmu_measurement_sync":
            self._send(self.internal, codec.encode(name, {}, t))
        elif name == "bmu_balancing_cmd":
            cmd = np.asarray(signals["balancing_cmd"], dtype=bool)
            per = self.layout.cells_per_module
            for m in range(self.n_modules):
                bits = cmd[m * per:(m + 1) * per]
                values = {f"balancing_cmd_{i}": bool(b) for i, b in enumerate(bits)}
                self._send(self.internal, codec.encode(name, values, t, m))

    def _send(self, bus: can.BusABC, msg: can.Message) -> bool:
        """Send ``msg``; whether the controller took it."""
        try:
            bus.send(msg)
        except can.CanError:
            # a full transmit queue or a bus-off controller: the frame is lost, counted here,
            # and bus-off shows in can_fault_flags through the bus state; the schedule goes
            # on, so the frames come again once the controller recovers (OBSA-CAN-011)
            self.send_errors += 1
            return False
        return True


def _present(members_of: Callable[[int], list[tuple[int, int]]], groups: list[int],
             count: int) -> dict[int, list[tuple[int, int]]]:
    """group → its (element, index) pairs that exist in the pack; groups with none left out."""
    out = {g: [(e, i) for e, i in members_of(g) if i < count] for g in groups}
    return {g: members for g, members in out.items() if members}


def _bus_off(bus: can.BusABC) -> bool:
    """The controller reports bus-off (python-can's ``BusState.ERROR``); an interface that
    cannot tell reports its default, active."""
    try:
        return bool(bus.state == can.BusState.ERROR)
    except (NotImplementedError, can.CanError):
        return False
