"""The bench plant as one object: what the module under test sees and what really happens.

One closed-loop step is::

    m = bench.measurements()      # what the hardware abstraction delivers at bench.t
    out = dut.step(bench.t, {...m, ...})
    bench.apply(out)              # contactor commands (other keys are ignored)
    bench.advance()               # dt of simulated time

Arrays in ``measurements()`` are read-only snapshots: a module must not write into its
inputs, and a new array is made only when a sensor samples or a fault changes it.
Calling ``truth()`` never changes the simulation, so recording it does not alter a run.
Scenario controls (``set_*``) act from the current instant on; the sensors see their
effect at their next sample.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from .cells import SeriesString
from .clock import Clock
from .config import BenchConfig
from .faults import (
    MEASURED_SIGNALS,
    ActiveFault,
    CircuitFault,
    Dropout,
    Fault,
    FaultError,
    FrontEndFault,
    apply_to_array,
    apply_to_scalar,
)
from .hv import CONTACTORS, HvCircuit, MainPathClosing
from .network import Uplink
from .sensors import (
    OPEN_WIRE_TEMPERATURE_DEGC,
    OPEN_WIRE_VOLTAGE_V,
    CellMonitor,
    CurrentSensor,
    IsolationMonitor,
)

COMMANDS = tuple(f"{name}_close_cmd" for name in CONTACTORS)
_CELL_ARRAYS = ("cell_voltage_V", "cell_voltage_valid", "cell_temperature_degC",
                "cell_temperature_valid")
_SCALAR_SAMPLED_AT_CYCLE = ("insulation_resistance_ohm",)


class Bench:
    """Simulated pack, HV circuit and sensors with fault injection; see the module docstring."""

    def __init__(self, config: BenchConfig | None = None, **overrides: Any) -> None:
        cfg = config if config is not None else BenchConfig()
        if overrides:
            cfg = replace(cfg, **overrides)
        self.config = cfg
        plant_ss, cm_ss, cs_ss, iso_ss, fault_ss = np.random.SeedSequence(cfg.seed).spawn(5)
        self.clock = Clock(cfg.dt_s, cfg.clock_start_s)
        self.cells = SeriesString(cfg, np.random.default_rng(plant_ss))
        self.hv = HvCircuit(cfg, self.cells, self.clock)
        self.insulation_resistance_ohm = float(cfg.insulation_resistance_ohm)
        cm_steps = max(1, round(cfg.cell_monitor_cycle_s / cfg.dt_s))
        iso_steps = max(1, round(cfg.insulation_monitor_cycle_s / cfg.dt_s))
        self.cell_monitor = CellMonitor(cfg, np.random.default_rng(cm_ss), cm_steps)
        self.current_sensor = CurrentSensor(cfg, np.random.default_rng(cs_ss))
        self.isolation_monitor = IsolationMonitor(cfg, np.random.default_rng(iso_ss), iso_steps)
        self._fault_rng = np.random.default_rng(fault_ss)
        #: the gateway's uplink (true_uplink_available): up but in its scheduled outages
        self.uplink = Uplink()
        self._faults: list[ActiveFault] = []
        self._by_signal: dict[str, list[ActiveFault]] = {}
        self._hv_faults: list[ActiveFault] = []
        self._front_faults: list[FrontEndFault] = []
        self._fault_version = 0
        self._measured: dict[str, Any] | None = None
        self._cell_view_key: tuple[int, int] = (-1, -1)
        self._cell_view: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._sample(first=True)

    # ---- time -----------------------------------------------------------------------------------
    @property
    def t(self) -> float:
        """Simulated time, s."""
        return self.clock.t

    def advance(self) -> None:
        """One dt of simulated time: plant, contactors, then every sensor that is due."""
        if self._hv_faults:
            self._update_hv_faults(self.clock.t)
        self.hv.advance()
        self._measured = None
        self._sample(first=False)

    def run(self, duration_s: float) -> None:
        """Advance ``duration_s`` (rounded up to whole steps) with the commands as they are."""
        for _ in range(self.clock.steps_for(duration_s)):
            self.advance()

    def _sample(self, first: bool) -> None:
        step = self.clock.step
        t = self.clock.t
        cm = self.cell_monitor
        if first or step % cm.cycle_steps == 0:
            self.cells.sync()
            if first or not self._dropout("cell_monitor", t):
                cells = self.cells
                cm.sample(step, cells.cell_voltages_V(self.hv.current_A, synced=True),
                          cells.sensor_temperatures_degC(cells.temperature_degC))
        if first or not (self._faults and self._dropout("current_sensor", t)):
            hv = self.hv
            self.current_sensor.sample(step, hv.current_A, hv.pack_voltage_V, hv.link_voltage_V)
        iso = self.isolation_monitor
        if first or (step % iso.cycle_steps == 0 and not self._dropout("isolation_monitor", t)):
            iso.sample(step, self.insulation_resistance_ohm)

    def _dropout(self, sensor: str, t: float) -> bool:
        return any(isinstance(af.fault, Dropout) and af.fault.sensor == sensor
                   and af.fault.active(t) for af in self._faults)

    # ---- the module's side ----------------------------------------------------------------------
    def measurements(self) -> dict[str, Any]:
        """The measured signals at ``t``, as the hardware abstraction delivers them."""
        m = self._measured
        if m is None:
            m = self._measure()
            self._measured = m
        return dict(m)

    def _measure(self) -> dict[str, Any]:
        step = self.clock.step
        dt = self.clock.dt_s
        cm, cs, hv = self.cell_monitor, self.current_sensor, self.hv
        if self._faults:
            v, v_ok, temp, temp_ok = self._faulted_cell_view()
        else:
            v, v_ok, temp, temp_ok = (cm.voltage_V, cm.voltage_valid, cm.temperature_degC,
                                      cm.temperature_valid)
        m: dict[str, Any] = {
            "cell_voltage_V": v,
            "cell_voltage_valid": v_ok,
            "cell_temperature_degC": temp,
            "cell_temperature_valid": temp_ok,
            "cell_monitor_age_s": (step - cm.sample_step) * dt,
            "pack_current_A": cs.current_A,
            "current_sensor_age_s": (step - cs.sample_step) * dt,
            "pack_voltage_V": cs.pack_voltage_V,
            "link_voltage_V": cs.link_voltage_V,
            "insulation_resistance_ohm": self.isolation_monitor.resistance_ohm,
            "main_positive_closed_fb": hv.main_positive.closed,
            "main_negative_closed_fb": hv.main_negative.closed,
            "precharge_closed_fb": hv.precharge.closed,
        }
        if self._faults:
            t = self.clock.t
            iso_t = self.clock.time_of(self.isolation_monitor.sample_step)
            for name, faults in self._by_signal.items():
                if name in _CELL_ARRAYS:
                    continue
                t_ref = iso_t if name in _SCALAR_SAMPLED_AT_CYCLE else t
                m[name] = apply_to_scalar(m[name], faults, t_ref, self._fault_rng)
        return m

    def _faulted_cell_view(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Cell-monitor arrays with faults, recomputed only per sample or fault change."""
        cm = self.cell_monitor
        key = (cm.sample_count, self._fault_version)
        if key != self._cell_view_key or self._cell_view is None:
            t_sample = self.clock.time_of(cm.sample_step)
            get = self._by_signal.get
            rng = self._fault_rng
            v, v_ok = apply_to_array(cm.voltage_V, cm.voltage_valid, get("cell_voltage_V", []),
                                     t_sample, rng, OPEN_WIRE_VOLTAGE_V)
            temp, temp_ok = apply_to_array(
                cm.temperature_degC, cm.temperature_valid, get("cell_temperature_degC", []),
                t_sample, rng, OPEN_WIRE_TEMPERATURE_DEGC)
            assert v_ok is not None and temp_ok is not None
            v_ok, _ = apply_to_array(v_ok, None, get("cell_voltage_valid", []), t_sample, rng, 0.0)
            temp_ok, _ = apply_to_array(temp_ok, None, get("cell_temperature_valid", []),
                                        t_sample, rng, 0.0)
            self._cell_view = (v, v_ok, temp, temp_ok)
            self._cell_view_key = key
        return self._cell_view

    def apply(self, commands: dict[str, Any]) -> None:
        """Take the contactor, MOSFET and balancing commands (and, with the thermal
        actuators, the cooling and heating requests) from ``commands``; other keys are
        ignored, so a module's whole output record can be passed. A missing command
        keeps its value; a command of the other power path is held but moves nothing."""
        step = self.clock.step
        hv = self.hv
        if "main_positive_close_cmd" in commands:
            hv.main_positive.command(bool(commands["main_positive_close_cmd"]), step)
        if "main_negative_close_cmd" in commands:
            hv.main_negative.command(bool(commands["main_negative_close_cmd"]), step)
        if "precharge_close_cmd" in commands:
            hv.precharge.command(bool(commands["precharge_close_cmd"]), step)
        if "charge_fet_cmd" in commands:
            hv.charge_fet.command(bool(commands["charge_fet_cmd"]), step)
        if "discharge_fet_cmd" in commands:
            hv.discharge_fet.command(bool(commands["discharge_fet_cmd"]), step)
        if "balancing_cmd" in commands:
            self.cells.set_balancing(commands["balancing_cmd"])
        if self.config.thermal_actuators and ("cooling_request" in commands
                                              or "heating_request" in commands):
            cells = self.cells
            cells.set_conditioning(bool(commands.get("cooling_request", cells.cooling)),
                                   bool(commands.get("heating_request", cells.heating)))

    # ---- a cell monitor under test -----------------------------------------------------------
    def plant_inputs(self) -> dict[str, Any]:
        """What the input pins of a hardware-abstraction block under test see at ``t``: the
        true cell voltages and sensor temperatures (new arrays) and the true scalars of
        ``truth()``, with the front-end faults (open sense wire, open or shorted sensor, a
        sensor delivering nothing, a stuck auxiliary contact, a drifted conversion) acting
        on them. ``truth()`` stays the truth."""
        cells, hv = self.cells, self.hv
        out = self.truth(arrays=False)
        out["true_cell_voltage_V"] = cells.cell_voltages_V(hv.current_A, synced=False)
        out["true_cell_temperature_degC"] = cells.sensor_temperatures_degC(
            cells.cell_temperatures_now_degC())
        t = self.clock.t
        for f in self._front_faults:
            if f.active(t):
                f.on_pins(out, t)
        out["true_uplink_available"] = self.uplink.available(t)
        return out

    # ---- the truth ------------------------------------------------------------------------------
    def truth(self, arrays: bool = True) -> dict[str, Any]:
        """The ``true_*`` signals of the dictionary at ``t`` (arrays are new copies).

        ``arrays=False`` leaves out the per-cell arrays, for cheap per-step recording.
        """
        hv = self.hv
        out: dict[str, Any] = {
            "true_pack_current_A": hv.current_A,
            "true_pack_voltage_V": hv.pack_voltage_V,
            "true_link_voltage_V": hv.link_voltage_V,
            "true_insulation_resistance_ohm": self.insulation_resistance_ohm,
            "true_main_positive_closed": hv.main_positive.closed,
            "true_main_negative_closed": hv.main_negative.closed,
            "true_precharge_closed": hv.precharge.closed,
        }
        if arrays:
            cells = self.cells
            out["true_cell_voltage_V"] = cells.cell_voltages_V(hv.current_A, synced=False)
            out["true_cell_temperature_degC"] = cells.sensor_temperatures_degC(
                cells.cell_temperatures_now_degC())
        return out

    def cell_soc(self) -> np.ndarray:
        """True state of charge of every cell (a new array)."""
        return self.cells.soc_now()

    def cell_temperatures_degC(self) -> np.ndarray:
        """True temperature of every cell, not only at the sensors (a new array)."""
        return self.cells.cell_temperatures_now_degC()

    # ---- scenario controls ----------------------------------------------------------------------
    def set_load_current(self, current_A: float) -> None:
        """Pack current demanded while the HV path is closed; positive = charge."""
        self.hv.set_load_current(current_A)
        self._measured = None

    def set_cell_temperature(self, degC: float, index: int | None = None) -> None:
        """Force the cells of temperature sensor ``index`` (None: every cell) to ``degC``;
        they then follow the thermal model again."""
        self._check_index(index, self.config.n_temp_sensors, "set_cell_temperature")
        self.cells.set_sensor_temperature(float(degC), index)

    def set_cell_soc(self, soc: float, index: int | None = None) -> None:
        """Force the state of charge of cell ``index`` (None: every cell)."""
        self._check_index(index, self.config.n_cells, "set_cell_soc")
        self.cells.set_soc(float(soc), index)
        self.hv.set_load_current(self.hv.load_current_A)  # the pack voltage moved
        self._measured = None

    def set_ambient_temperature(self, degC: float) -> None:
        self.cells.set_ambient(degC)

    def set_insulation(self, ohm: float) -> None:
        """True insulation resistance; the isolation monitor sees it at its next sample."""
        if not ohm >= 0:
            raise ValueError(f"set_insulation: expected a resistance ≥ 0 Ω, found {ohm!r}")
        self.insulation_resistance_ohm = float(ohm)

    @property
    def main_path_closings(self) -> list[MainPathClosing]:
        """Every closing of the main path: time, link and pack voltage at that instant."""
        return self.hv.closings

    # ---- faults ---------------------------------------------------------------------------------
    def inject(self, fault: Fault) -> None:
        """Add a fault; it acts inside its time window (see conformance.bench.faults)."""
        if not isinstance(fault, Fault) or type(fault) is Fault:
            raise FaultError(f"inject: expected a fault of a kind (conformance.bench.faults), "
                             f"found {type(fault).__name__}")
        if isinstance(fault, FrontEndFault):
            size = fault.channels(self.config.n_cells, self.config.n_temp_sensors)
            if fault.index is not None and fault.index >= size:
                raise FaultError(f"Fault(signal={fault.signal!r}, kind={fault.kind!r}): index: "
                                 f"expected 0 … {size - 1}, found {fault.index}")
            self._faults.append(ActiveFault(fault))
            self._front_faults.append(fault)
            self._changed()
            return
        if fault.index is not None:
            name = fault.signal
            size = (self.config.n_cells if name.startswith("cell_voltage")
                    else self.config.n_temp_sensors)
            if fault.index >= size:
                raise FaultError(f"Fault(signal={name!r}, kind={fault.kind!r}): index: expected "
                                 f"0 … {size - 1}, found {fault.index}")
        af = ActiveFault(fault)
        self._faults.append(af)
        if isinstance(fault, CircuitFault):
            self._hv_faults.append(af)
            self._update_hv_faults(self.clock.t)
        else:
            self._by_signal.setdefault(fault.signal, []).append(af)
        self._changed()

    def clear_faults(self) -> None:
        """Remove every fault; the contactors and precharge circuit are healthy again."""
        self._faults.clear()
        self._by_signal.clear()
        self._hv_faults.clear()
        self._front_faults.clear()
        self._update_hv_faults(self.clock.t)
        self._changed()

    @property
    def faults(self) -> list[Fault]:
        return [af.fault for af in self._faults]

    def _changed(self) -> None:
        self._fault_version += 1
        self._measured = None

    def _update_hv_faults(self, t: float) -> None:
        hv = self.hv
        for c in hv.contactors:
            c.welded = c.fail_to_close = False
        hv.open_resistor = hv.shorted_link = False
        for af in self._hv_faults:
            f = af.fault
            if f.active(t):
                assert isinstance(f, CircuitFault)
                f.on_circuit(hv)

    @staticmethod
    def _check_index(index: int | None, size: int, what: str) -> None:
        if index is not None and not (isinstance(index, int) and 0 <= index < size):
            raise IndexError(f"{what}: index: expected None or 0 … {size - 1}, found {index!r}")


#: every signal measurements() delivers, and every truth() signal, for consumers to check
MEASURED = tuple(MEASURED_SIGNALS)
TRUTH = ("true_cell_voltage_V", "true_cell_temperature_degC", "true_pack_current_A",
         "true_pack_voltage_V", "true_link_voltage_V", "true_insulation_resistance_ohm",
         "true_main_positive_closed", "true_main_negative_closed", "true_precharge_closed")
