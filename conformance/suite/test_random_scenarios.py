"""Seeded random scenarios with the always-on monitors as the oracle.

The hand-written test cases set up one situation each; combinations no one wrote down —
a welded contactor during an over-current, a reset in the middle of a precharge retry, a
dropout while derating — come from here. Each scenario is a fresh closed loop in which a
random schedule of operator commands (close request on and off, reset pulses, load
current) and faults drawn from the bench's whole catalogue (``conformance.bench.faults.
catalogue``) plays out; the monitors then check every step.

Reproducible but not tunable: the generator's seed is the harness seed, which comes from
the module's manifest; it and every scenario's schedule are in the evidence. Scenario k
starts its clock at k × 1000 s, so a violation's time names its scenario (and every
scenario also runs on a late clock).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from conformance.bench.faults import MEASURED_SIGNALS, CircuitFault, Fault, catalogue, fault_of
from conformance.harness.context import Harness
from conformance.harness.loop import ClosedLoop
from conformance.harness.monitors import MONITORED, applies
from conformance.report.model import Evidence, TestResult

SUP, CM = "safety_supervisor", "contactor_manager"
#: scenarios per certification and simulated seconds each: about 2 s of wall time in all
SCENARIOS = 6
DURATION_S = 6.0
START_S = 1000.0
RESET_PULSE_S = 0.05


def _spans(h: Harness, cfg: Any) -> dict[str, float]:
    """A magnitude per measured signal that reaches across its declared limits."""
    p = h.params(SUP)
    return {
        "cell_voltage_V": float(p["cell_voltage_max_msl_V"]) - float(p["cell_voltage_min_msl_V"]),
        "cell_temperature_degC": float(p["discharge_temperature_max_msl_degC"])
        - float(p["discharge_temperature_min_msl_degC"]),
        "cell_monitor_age_s": 2 * float(p["cell_monitor_timeout_s"]),
        "current_sensor_age_s": 2 * float(p["current_sensor_timeout_s"]),
        "pack_current_A": float(p["charge_current_max_msl_A"])
        + float(p["discharge_current_max_msl_A"]),
        "pack_voltage_V": 4 * float(p["pack_voltage_tolerance_V"]),
        "link_voltage_V": 4 * float(h.param(CM, "precharge_voltage_tolerance_V")),
        "insulation_resistance_ohm": float(cfg.insulation_resistance_ohm),
    }


def _fault(rng: np.random.Generator, signal: str, kind: str, t: float, spans: dict[str, float],
           sizes: dict[str, int]) -> Fault:
    """One fault of the catalogue with drawn parameters, index and time window."""
    kw: dict[str, Any] = {"signal": signal, "kind": kind, "start_s": t}
    if rng.random() < 0.7:
        kw["end_s"] = t + float(rng.uniform(0.2, 4.0))
    if signal in MEASURED_SIGNALS:
        vtype = MEASURED_SIGNALS[signal][1]
        span = spans.get(signal, 1.0)
        if vtype.endswith("[]") and kind != "dropout" and rng.random() < 0.8:
            kw["index"] = int(rng.integers(sizes[signal]))
        if kind == "offset":
            kw["value"] = float(rng.uniform(-1.0, 1.0) * span)
        elif kind == "gain":
            kw["factor"] = float(rng.uniform(0.5, 1.5))
        elif kind == "noise":
            kw["std"] = float(rng.uniform(0.0, 0.05) * span)
        elif kind == "ramp":
            kw["rate"] = float(rng.uniform(-1.0, 1.0) * span / 3.0)
        elif kind == "stuck" and vtype.startswith("bool"):
            kw["value"] = bool(rng.random() < 0.5)
    return fault_of(**kw)


def _schedule(h: Harness, rng: np.random.Generator, loop: ClosedLoop
              ) -> list[tuple[float, str, Any]]:
    """(time, action, argument) of one scenario, in time order."""
    cfg = loop.bench.config
    t0 = loop.t
    spans = _spans(h, cfg)
    sizes = {"cell_voltage_V": cfg.n_cells, "cell_voltage_valid": cfg.n_cells,
             "cell_temperature_degC": cfg.n_temp_sensors,
             "cell_temperature_valid": cfg.n_temp_sensors}
    faults = catalogue()
    charge = float(h.param(SUP, "charge_current_max_msl_A"))
    discharge = float(h.param(SUP, "discharge_current_max_msl_A"))
    events: list[tuple[float, str, Any]] = [(t0 + float(rng.uniform(0.1, 1.0)), "close", True)]
    for _ in range(int(rng.integers(4, 10))):
        t = t0 + float(rng.uniform(0.2, DURATION_S - 0.5))
        what = rng.choice(["fault", "fault", "fault", "heal", "reset", "close", "load"])
        if what == "fault":
            signal, kind = faults[int(rng.integers(len(faults)))]
            events.append((t, "fault", _fault(rng, signal, kind, t, spans, sizes)))
        elif what == "heal":
            events.append((t, "heal", None))
        elif what == "reset":
            events += [(t, "reset", True), (t + RESET_PULSE_S, "reset", False)]
        elif what == "close":
            events.append((t, "close", bool(rng.random() < 0.6)))
        else:
            events.append((t, "load", float(rng.uniform(-1.1 * discharge, 1.1 * charge))))
    return sorted(events, key=lambda e: e[0])


def _describe(t: float, action: str, arg: Any) -> str:
    if action == "fault":
        f: Fault = arg
        where = "" if f.index is None else f"[{f.index}]"
        params = ", ".join(f"{n}={v:.4g}" for n, v in f.parameters.items()
                           if isinstance(v, float))
        until = "" if f.end_s is None else f" until {f.end_s:.2f}"
        kind = f.kind if isinstance(f, CircuitFault) or not params else f"{f.kind} {params}"
        return f"{t:.2f} {f.signal}{where} {kind}{until}"
    if action == "heal":
        return f"{t:.2f} faults cleared"
    if action == "reset":
        return f"{t:.2f} reset {'on' if arg else 'off'}"
    if action == "close":
        return f"{t:.2f} close_request {'on' if arg else 'off'}"
    return f"{t:.2f} load {arg:.1f} A"


def _play(loop: ClosedLoop, events: list[tuple[float, str, Any]]) -> None:
    pending = list(events)

    def drive(lp: ClosedLoop) -> None:
        while pending and pending[0][0] <= lp.t + 1e-9:
            _, action, arg = pending.pop(0)
            if action == "fault":
                lp.bench.inject(arg)
            elif action == "heal":
                lp.bench.clear_faults()
            elif action == "reset":
                lp.set("fault_reset_request", arg)
            elif action == "close":
                lp.set("close_request", arg)
            else:
                lp.bench.set_load_current(arg)

    loop.run(DURATION_S, every=drive)


@pytest.mark.requirement(*MONITORED)
def test_random_scenarios(obsa: Harness) -> None:
    rng = np.random.default_rng(obsa.seed)
    described = []
    for k in range(1, SCENARIOS + 1):
        loop = obsa.run(clock_start_s=START_S * k, seed=(obsa.seed + k) & 0x7FFFFFFF)
        events = _schedule(obsa, rng, loop)
        _play(loop, events)
        described.append(f"scenario {k} (from t = {START_S * k:g} s): "
                         + "; ".join(_describe(*e) for e in events))
    message = (f"{SCENARIOS} random scenarios of {DURATION_S:g} s from seed {obsa.seed} (the "
               "module's), the always-on monitors as oracle — " + " | ".join(described))
    for rid in MONITORED:
        if not applies(obsa, rid):
            continue
        req = obsa.spec.requirements[rid]
        obsa.record(TestResult(test_case=obsa.test_case, requirement=rid, title=req.title,
                               level=req.level, verdict="pass",
                               evidence=Evidence(message=message)))
