"""The bench around a CAN node under test: the plant, the nodes it talks to, and a log of
every frame it sends.

The rig emulates, from the catalog (:class:`~.can_frames.CatalogCodec`), every node the
module needs on its buses:

- the CMUs, when the module is the BMU: each module's cell voltages, temperatures and status
  from the bench's cell monitor measurements (the plant seen through the sensor models and
  their faults), with counters and CRCs; each CMU takes the ``bmu_balancing_cmd`` of its
  module and switches the plant's balancing resistors;
- the master, when the module is a CMU: the measurement sync and the balancing command of
  the CMU's module (:attr:`CanRig.balancing`);
- the vehicle controller's state request (:attr:`CanRig.close_request`, its heartbeat
  switchable) and the charger's status, when the module receives them.

Every bench step (the bench's ``dt_s``, 10 ms) the rig sends what is due, hands the node its
input pins (a Python node: the true quantities its hardware sees), takes back its frames and
output pins (contactor commands, balancing switches) and advances the plant. A test case
adds frames of its own with :meth:`CanRig.inject` (corrupt, stale, unknown, short).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import can
import numpy as np

from .base import AdapterError
from .can import COMPONENT, CanAdapter, Frame
from .can_frames import CatalogCodec, CatalogFrame, Checked

#: the longest pattern of due frames (in steps) the rig keeps instead of working it out
MAX_SCHEDULE_CYCLE = 100_000


@dataclass(frozen=True)
class Expected:
    """A periodic frame the module must send, with one multiplexer value (or None)."""

    name: str
    mux: int | None
    period_s: float
    tolerance_s: float


@dataclass
class _Schedule:
    every: int  # steps
    phase: int = 0

    def due(self, k: int) -> bool:
        return k % self.every == self.phase % self.every


@dataclass
class Layout:
    """How the catalog splits the pack into modules (its per-module multiplexers)."""

    cells_per_module: int
    sensors_per_module: int
    modules: int  # the catalog's module values

    def modules_for(self, n_cells: int, n_sensors: int) -> int:
        return max(math.ceil(n_cells / self.cells_per_module),
                   math.ceil(n_sensors / self.sensors_per_module))


def catalog_layout(codec: CatalogCodec) -> Layout:
    per: dict[str, int] = {}
    modules = 1
    for frames in codec.frames.values():
        for cf in frames.values():
            m = cf.frame.multiplexer
            if m is None or m.elements_per_module is None:
                continue
            dim = codec.dimension(cf.name)
            if dim is not None:
                per.setdefault(dim, m.elements_per_module)
            if m.values_per_module == 1:
                modules = m.count
    return Layout(per.get("cell", 1), per.get("temperature_sensor", 1), modules)


def cmu_frame(codec: CatalogCodec, cells_per_module: int, switches: np.ndarray, name: str,
              mux: int | None, m: dict[str, Any]) -> can.Message | None:
    """A CMU's multiplexed frame ``name`` for module ``mux``, as an emulated CMU sends it:
    its status (balancing active on any of its cells' ``switches``, the measurement's age)
    or its share of the cell voltages or temperatures in ``m`` (an invalid or non-finite
    value travels as invalid); None for a frame that is not one of these."""
    cf = codec.frame(name)
    mx = cf.frame.multiplexer
    if mx is None or mux is None:
        return None
    if name == "cmu_status":
        first = mux * cells_per_module
        active = bool(switches[first:first + cells_per_module].any())
        # the age saturates at the field's largest value (encode holds it in range)
        return codec.encode(name, {"balancing_active": active,
                                   "cell_monitor_age_s": float(m["cell_monitor_age_s"])}, mux)
    dim = codec.dimension(cf.name)
    arrays = {"cell": ("cell_voltage_V", "cell_voltage_valid"),
              "temperature_sensor": ("cell_temperature_degC", "cell_temperature_valid")}
    if dim not in arrays:
        return None
    value_name, valid_name = arrays[dim]
    values, valid = m[value_name], m[valid_name]
    out: dict[str, Any] = {}
    for e, i in enumerate(codec.elements(name, mux)):
        if i is None or i >= len(values):
            out[f"{valid_name}_{e}"] = False
            continue
        value = float(values[i])
        ok = bool(valid[i]) and math.isfinite(value)
        out[f"{value_name}_{e}"] = value if ok else None
        out[f"{valid_name}_{e}"] = ok
    return codec.encode(name, out, mux)


@dataclass
class CanRig:
    """One run of a CAN node on a fresh bench (module docstring)."""

    adapter: CanAdapter
    spec: Any
    bench: Any
    manifest: Any
    close_request: bool = True
    fault_reset_request: bool = False
    heartbeat: bool = True  # the vehicle controller sends its state request
    charger_connected: bool = False
    sync: bool = True  # the emulated master sends its measurement sync
    balancing_command: bool = True  # … and its balancing command
    balancing: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    bus_off: set[str] = field(default_factory=set)  # the node's controllers bus-off now
    log: list[Checked] = field(default_factory=list)
    k: int = 0
    t: float = 0.0

    def __post_init__(self) -> None:
        self.codec = CatalogCodec(self.spec)
        self.layout = catalog_layout(self.codec)
        self.node = self.adapter.can.node
        self.module = self.adapter.can.module
        self.dt = float(self.bench.config.dt_s)
        dimensions = self.manifest.dimensions(self.spec)
        self.n_cells = int(dimensions["cell"])
        self.n_sensors = int(dimensions["temperature_sensor"])
        lay = self.layout
        if self.node == "cmu":
            first_c = self.module * lay.cells_per_module
            first_s = self.module * lay.sensors_per_module
            self.cells = range(first_c, min(first_c + lay.cells_per_module, self.n_cells))
            self.sensors = range(first_s, min(first_s + lay.sensors_per_module, self.n_sensors))
            if not len(self.cells):
                raise AdapterError(f"module {self.module} of a {self.n_cells}-cell pack has "
                                   "no cells (manifest pack.cell_count)", component=COMPONENT,
                                   call="configure", field="adapter.options.module")
            self.n_modules = 1
            if not len(self.balancing):
                self.balancing = np.zeros(len(self.cells), dtype=bool)
        else:
            self.cells, self.sensors = range(self.n_cells), range(self.n_sensors)
            self.n_modules = lay.modules_for(self.n_cells, self.n_sensors)
        self.switches = np.zeros(self.n_cells, dtype=bool)
        self._injected: dict[int, list[Frame]] = {}
        #: per step: the plant's true values the module's signals are judged against
        self.truth: list[dict[str, Any]] = []
        #: per step: the node's balancing switches after the step (a CMU's: its module's)
        self.switch_log: list[np.ndarray] = []
        #: the time each frame of the emulated nodes was last sent, and every time it was
        self.sent_at: dict[str, float] = {}
        self.sent_log: dict[str, list[float]] = {}
        #: where a test case found the largest value error: (frame, multiplexer value,
        #: DBC signal, truth key, array index), for its evidence
        self.worst_value: tuple[str, int | None, str, str, int | None] | None = None
        self._schedules = self._emulated()
        cycle = math.lcm(*(sched.every for sched in self._schedules.values()))
        #: steps after which the emulated frames' pattern repeats (0: too long to keep)
        self._cycle = cycle if cycle <= MAX_SCHEDULE_CYCLE else 0
        self._due_by_step: dict[int, list[tuple[str, int | None, str]]] = {}
        self.expected = self._expected()
        #: what the catalog sizes the bus for: every multiplexer value of the node's modules
        #: once per cycle, a group past the last cell or sensor of a module included (a
        #: node may send it, all invalid, or not at all; OBSA-CAN-008)
        self.load_budget = self._expected(whole_modules=True)
        self.power_on()

    # ---- set-up ----------------------------------------------------------------------------
    def setup(self) -> dict[str, Any]:
        return {"node": self.node, "module": self.module, "n_cells": len(self.cells),
                "n_sensors": len(self.sensors)}

    def params(self, component: str) -> dict[str, Any]:
        return dict(self.manifest.effective_parameters(self.spec, component))

    def node_parameters(self) -> dict[str, dict[str, Any]]:
        """The effective parameters of every component the architecture puts on the node
        that the manifest configures (the node's blocks; the rest keep their defaults)."""
        return {c.id: self.params(c.id) for c in self.spec.architecture.components
                if c.node == self.node and c.id in self.manifest.configuration}

    def power_on(self) -> None:
        self.adapter.start(self.setup(), self.node_parameters())

    def _steps(self, seconds: float) -> int:
        return max(1, round(seconds / self.dt))

    def _emulated(self) -> dict[tuple[str, int | None], _Schedule]:
        """The frames the emulated nodes send: (name, multiplexer value) → schedule."""
        out: dict[tuple[str, int | None], _Schedule] = {}
        for bus in self.adapter.can.buses:
            for name, cf in self.codec.frames[bus].items():
                f = cf.frame
                if f.cycle is None or self.node not in f.receivers or self.node in f.senders:
                    continue
                every = self._steps(f.cycle.period_ms / 1000)
                for mux in self._values(cf):
                    out[(name, mux)] = _Schedule(every, phase=1)
        return out

    def _values(self, cf: CatalogFrame, whole_modules: bool = False) -> list[int | None]:
        """The multiplexer values of ``cf`` on this bench: the module's groups (a CMU under
        test, or the command for its module), every module's (the BMU under test); those
        that carry a cell or sensor of the pack, or with ``whole_modules`` every group of
        the modules."""
        m = cf.frame.multiplexer
        if m is None:
            return [None]
        vpm = m.values_per_module or 1
        per = m.elements_per_value or 0
        dim = self.codec.dimension(cf.name)
        modules = [self.module] if self.node == "cmu" else list(range(self.n_modules))
        out: list[int | None] = []
        for mod in modules:
            if m.elements_per_module is None or dim is None or vpm == 1:
                out.append(mod)
                continue
            present = len(self.cells) if dim == "cell" else len(self.sensors)
            if whole_modules:
                present = m.elements_per_module
            elif self.node == "bmu":
                first = mod * m.elements_per_module
                total = self.n_cells if dim == "cell" else self.n_sensors
                present = max(0, min(m.elements_per_module, total - first))
            out += [mod * vpm + k for k in range(vpm) if k * per < present]
        return out

    def _expected(self, whole_modules: bool = False) -> list[Expected]:
        out = []
        for bus in self.adapter.can.buses:
            for name, cf in self.codec.frames[bus].items():
                f = cf.frame
                if f.cycle is None or self.node not in f.senders:
                    continue
                for mux in self._values(cf, whole_modules=whole_modules):
                    out.append(Expected(name, mux, f.cycle.period_ms / 1000,
                                        f.cycle.tolerance_ms / 1000))
        return out

    # ---- running -----------------------------------------------------------------------
    def inject(self, frame: Frame, at_s: float | None = None) -> None:
        """Send ``frame`` (bus, message) at the step of ``at_s`` (default: the next one)."""
        k = self.k if at_s is None else max(self.k, round(at_s / self.dt))
        self._injected.setdefault(k, []).append(frame)

    def step(self) -> list[Checked]:
        k, t = self.k, round(self.k * self.dt, 9)
        self.t = t
        frames: list[Frame] = []
        measured = self.bench.measurements()
        for name, mux, bus in self._due(k):
            msg = self._emulated_frame(name, mux, measured)
            if msg is not None:
                frames.append((bus, msg))
        for bus, msg in frames:
            cf = self.codec.lookup(bus, msg)
            if cf is not None:
                self.sent_at[cf.name] = t
                self.sent_log.setdefault(cf.name, []).append(t)
        frames += self._injected.pop(k, [])
        self.truth.append(self._truth())
        received, pins = self.adapter.exchange(t, frames, self._pins(), sorted(self.bus_off))
        checked = [self.codec.check(at, bus, msg) for at, bus, msg in received]
        self.log += checked
        for c in checked:
            self._listen(c)
        self._apply(pins)
        self.switch_log.append(self.switches[self.cells.start:self.cells.stop].copy())
        self.bench.advance()
        self.k += 1
        return checked

    def _due(self, k: int) -> list[tuple[str, int | None, str]]:
        """The emulated frames due at step ``k`` (name, multiplexer value, bus), in the order
        of :attr:`_schedules`; the pattern repeats every common multiple of their periods,
        so each of its steps is worked out once."""
        cycle = self._cycle
        due = self._due_by_step.get(k % cycle) if cycle else None
        if due is None:
            due = [(name, mux, self.codec.frame(name).bus)
                   for (name, mux), sched in self._schedules.items() if sched.due(k)]
            if cycle:
                self._due_by_step[k % cycle] = due
        return due

    def run(self, seconds: float, until: Callable[[CanRig], bool] | None = None) -> None:
        for _ in range(self._steps(seconds)):
            self.step()
            if until is not None and until(self):
                return

    def _truth(self) -> dict[str, Any]:
        if self.node == "bmu":
            # the cells' extremes and the plant's balancing switches: what the BMU's state
            # signals are judged against (OBSA-CAN-003); the string's true SoC, what its
            # pack_soc is (OBSA-CAN-012)
            out = self.bench.truth(arrays=True)
            v = np.asarray(out.pop("true_cell_voltage_V"), dtype=float)
            temp = np.asarray(out.pop("true_cell_temperature_degC"), dtype=float)
            soc = self.bench.cell_soc()
            lo, hi = float(soc.min()), float(soc.max())
            out.update(true_cell_voltage_min_V=float(v.min()),
                       true_cell_voltage_max_V=float(v.max()),
                       true_cell_temperature_min_degC=float(temp.min()),
                       true_cell_temperature_max_degC=float(temp.max()),
                       balancing_switch_closed=bool(self.switches.any()),
                       # the series string's SoC (the dictionary's pack_soc, OBSA-SOC-005)
                       true_pack_soc=lo / (lo + 1.0 - hi))
            return out
        pins = self.bench.plant_inputs()
        return {"true_cell_voltage_V": np.asarray(pins["true_cell_voltage_V"], dtype=float),
                "true_cell_temperature_degC": np.asarray(pins["true_cell_temperature_degC"],
                                                         dtype=float)}

    def truth_at(self, t: float) -> dict[str, Any]:
        """The plant's truth at the bench step of ``t``."""
        i = min(max(0, round(t / self.dt)), len(self.truth) - 1)
        return self.truth[i]

    def _pins(self) -> dict[str, Any]:
        if self.adapter.realtime:
            return {}
        if self.node == "bmu":
            return {k: float(v) if not isinstance(v, bool) else v
                    for k, v in self.bench.truth(arrays=False).items()}
        pins = self.bench.plant_inputs()
        v = np.asarray(pins["true_cell_voltage_V"], dtype=float)[self.cells.start:self.cells.stop]
        temp = np.asarray(pins["true_cell_temperature_degC"], dtype=float)[
            self.sensors.start:self.sensors.stop]
        return {"true_cell_voltage_V": v.tolist(), "true_cell_temperature_degC": temp.tolist()}

    def _apply(self, pins: dict[str, Any]) -> None:
        if "balancing_switches" in pins:
            closed = np.asarray(pins["balancing_switches"], dtype=bool)
            self.switches[self.cells.start:self.cells.start + len(closed)] = closed
            self.bench.apply({"balancing_cmd": self.switches.copy()})
        commands = {k: bool(v) for k, v in pins.items() if k.endswith("_close_cmd")}
        if commands:
            self.bench.apply(commands)

    # ---- the emulated nodes --------------------------------------------------------------
    def _emulated_frame(self, name: str, mux: int | None, m: dict[str, Any]
                        ) -> can.Message | None:
        codec = self.codec
        if name == "vcu_state_request":
            if not self.heartbeat:
                return None
            return codec.encode(name, {"close_request": self.close_request,
                                       "fault_reset_request": self.fault_reset_request})
        if name == "charger_status":
            return codec.encode(name, {"charger_connected": self.charger_connected})
        if name == "bmu_measurement_sync":
            return codec.encode(name, {}) if self.sync else None
        if name == "bmu_balancing_cmd":
            if not self.balancing_command:
                return None
            return codec.encode(name, {f"balancing_cmd_{i}": bool(b)
                                       for i, b in enumerate(self.balancing)}, mux)
        return cmu_frame(codec, self.layout.cells_per_module, self.switches, name, mux, m)

    def _listen(self, c: Checked) -> None:
        """What the emulated CMUs do with the module's frames: switch the balancing."""
        if self.node != "bmu" or c.frame is None or c.frame.name != "bmu_balancing_cmd":
            return
        if not (c.length_ok and c.crc_ok) or c.mux is None or not c.values:
            return
        per = self.layout.cells_per_module
        first = c.mux * per
        for i in range(per):
            if first + i < self.n_cells:
                self.switches[first + i] = bool(c.values.get(f"balancing_cmd_{i}", 0))
        self.bench.apply({"balancing_cmd": self.switches.copy()})

    # ---- reading the log -----------------------------------------------------------------
    def sent(self, name: str, mux: int | None = None, since: float = -1.0) -> list[Checked]:
        """The module's frames ``name`` (with ``mux`` if given) that arrived after ``since``."""
        return [c for c in self.log if c.frame is not None and c.frame.name == name
                and (mux is None or c.mux == mux) and c.t > since]

    def last_value(self, name: str, signal: str, at: float | None = None) -> float | None:
        """The value of ``signal`` in the last valid frame ``name`` up to ``at``."""
        for c in reversed(self.log):
            if at is not None and c.t > at:
                continue
            if c.frame is not None and c.frame.name == name and c.crc_ok and signal in c.values:
                return c.values[signal]
        return None
