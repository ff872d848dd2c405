"""Safety supervisor as a table of fault channels evaluated with numpy vectors.

Design (independent of the reference implementation):

* Every limit set of the spec becomes a *row*. All measurements are first folded into one
  vector of signed extremes (highest cell voltage, minus the lowest, highest temperature,
  ...), so that a lower limit becomes an upper limit of the negated quantity and every row
  is checked with the same vector comparisons: ``worst > threshold``.
* Every fault code becomes a *channel* with a violation, a "cleared by the hysteresis"
  condition, a delay, and whether it latches and whether a reset may clear it. The eight
  limit rows feed eight channels; the monitors (insulation, plausibility, invalid sensors,
  timeouts, deep discharge) feed the rest.
* A channel does not restart its debounce when the violation drops for one sample: it
  integrates violation time in a leaky (up/down) counter that rises by dt while violated
  and falls by ``LEAK_RATIO`` × dt otherwise. A steady violation latches once the counter
  reaches the declared delay — credited one sample period at its first sample, so at most
  the delay after the first violating sample and never later; a chattering violation still
  latches instead of restarting forever; an isolated transient shorter than the delay
  never reaches it (OBSA-SAFE-012). With ``LEAK_RATIO`` = 1 a gap as long as the transient
  forgets it entirely.

Units: volts, amperes (positive = charging), degrees Celsius, ohms, seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.spec.models import FaultCode

from . import _spec

COMPONENT = "safety_supervisor"
LEAK_RATIO = 1.0
"""Fall rate of a violation integrator relative to its rise rate while the quantity is back."""
TIME_EPS_S = 1e-9
"""Slack on time comparisons, against the rounding of sums of float time steps."""

# Signed extremes, one slot each: a row reads the slot of its (source, direction).
_EXTREME_SLOT = {
    ("cell_voltage", "upper"): 0,  # max V
    ("cell_voltage", "lower"): 1,  # -min V
    ("cell_temperature", "upper"): 2,  # max T
    ("cell_temperature", "lower"): 3,  # -min T
    ("charge_current", "upper"): 4,  # I (positive = charging)
    ("discharge_current", "upper"): 5,  # -I (discharge magnitude)
}


@dataclass(frozen=True)
class Role:
    """What the spec's limit-set table does not say about a quantity: its meaning in the pack.

    source: the measurement the quantity is taken from.
    derates: the current direction ('charge' / 'discharge') limited above its RSL.
    while_charging: supervised only while the pack is charged (charge temperature window).
    inhibits_charge: beyond its RSL charging is not permitted at all (limit 0).
    """

    source: str
    derates: str
    while_charging: bool = False
    inhibits_charge: bool = False


ROLES: dict[str, Role] = {
    "cell_voltage_max": Role("cell_voltage", "charge"),
    "cell_voltage_min": Role("cell_voltage", "discharge"),
    "charge_current_max": Role("charge_current", "charge"),
    "discharge_current_max": Role("discharge_current", "discharge"),
    "charge_temperature_max": Role("cell_temperature", "charge", True, True),
    "charge_temperature_min": Role("cell_temperature", "charge", True, True),
    "discharge_temperature_max": Role("cell_temperature", "discharge"),
    "discharge_temperature_min": Role("cell_temperature", "discharge"),
}

# Monitors that are not limit sets: fault-code name -> parameter holding its delay (None:
# latches in the first sample, the measurement age is itself the debounce).
MONITOR_DELAYS: dict[str, str | None] = {
    "insulation_fault": "insulation_fault_delay_s",
    "insulation_warning": None,
    "pack_voltage_implausible": "plausibility_fault_delay_s",
    "cell_voltage_invalid": "cell_voltage_invalid_delay_s",
    "cell_temperature_invalid": "cell_temperature_invalid_delay_s",
    "cell_monitor_timeout": None,
    "current_sensor_timeout": None,
    "deep_discharge": "deep_discharge_delay_s",
}


def _as_float_array(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=float).reshape(-1)


def _as_bool_array(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=bool).reshape(-1)


class SafetySupervisor:
    """OBSA safety_supervisor: limits on three levels, latched faults, current limits."""

    def __init__(self) -> None:
        self.configure({})

    # ------------------------------------------------------------------ configuration
    def configure(self, parameters: dict[str, Any]) -> None:
        """Build the row and channel tables from the spec and the declared values."""
        p = _spec.resolve_parameters(COMPONENT, parameters)
        self._p = p
        codes = _spec.fault_codes(COMPONENT)
        limit_sets = _spec.interface(COMPONENT).limit_sets
        unknown = [ls.quantity for ls in limit_sets if ls.quantity not in ROLES]
        if unknown:
            raise ValueError(f"{COMPONENT}: no role known for limit set(s) {unknown}")

        roles = [ROLES[ls.quantity] for ls in limit_sets]
        sign = np.array([1.0 if ls.direction == "upper" else -1.0 for ls in limit_sets])
        self._row_slot = np.array([_EXTREME_SLOT[(r.source, ls.direction)]
                                   for r, ls in zip(roles, limit_sets, strict=True)])
        self._mol = sign * [p[ls.levels.mol] for ls in limit_sets]
        self._rsl = sign * [p[ls.levels.rsl] for ls in limit_sets]
        self._msl = sign * [p[ls.levels.msl] for ls in limit_sets]
        self._hyst = np.array([p[ls.hysteresis] for ls in limit_sets], dtype=float)
        self._while_charging = np.array([r.while_charging for r in roles])
        self._inhibits_charge = np.array([r.inhibits_charge for r in roles])
        self._derates_charge = np.array([r.derates == "charge" for r in roles])
        self._derates_discharge = np.array([r.derates == "discharge" for r in roles])
        row_codes = [self._code_of_limit(codes, ls.levels.msl) for ls in limit_sets]
        self._row_weight = np.array([1 << c.bit for c in row_codes], dtype=np.int64)

        # Channels: the limit rows first, then the monitors in MONITOR_DELAYS order.
        channel_codes = row_codes + [codes[name] for name in MONITOR_DELAYS]
        delays = [p[ls.fault_delay] for ls in limit_sets] + [
            0.0 if d is None else p[d] for d in MONITOR_DELAYS.values()]
        self._delay = np.array(delays, dtype=float)
        self._weight = np.array([1 << c.bit for c in channel_codes], dtype=np.int64)
        # fault and lockout codes latch and open the HV path; warning codes do neither
        self._latching = np.array([c.severity in ("fault", "lockout") for c in channel_codes])
        self._resettable = np.array([c.severity != "lockout" for c in channel_codes])
        self._is_lockout = np.array([c.severity == "lockout" for c in channel_codes])
        self._is_warning = np.array([c.severity == "warning" for c in channel_codes])

        states = _spec.enum_values("safety_state")
        self._state = {name: states[name]
                       for name in ("normal", "warning", "derating", "fault", "lockout")}
        self._nominal_period_s = _spec.step_period_s(COMPONENT)
        self._charge_mol_A = float(p["charge_current_max_mol_A"])
        self._discharge_mol_A = float(p["discharge_current_max_mol_A"])
        self.reset()

    @staticmethod
    def _code_of_limit(codes: dict[str, FaultCode], msl_parameter: str) -> FaultCode:
        """The fault code whose description names the limit's MSL parameter."""
        pattern = re.compile(rf"\b{re.escape(msl_parameter)}\b")
        found = [c for c in codes.values() if pattern.search(c.description)]
        if len(found) != 1:
            raise ValueError(f"{COMPONENT}: expected one fault code naming {msl_parameter}, "
                             f"found {[c.name for c in found]}")
        return found[0]

    def reset(self) -> None:
        """Forget every flag, latch and integrator (power-on state)."""
        rows, channels = len(self._mol), len(self._delay)
        self._warn = np.zeros(rows, dtype=bool)  # raw MOL flags, with hysteresis
        self._req = np.zeros(rows, dtype=bool)  # raw RSL flags, with hysteresis
        self._integral_s = np.zeros(channels)
        self._latched = np.zeros(channels, dtype=bool)
        self._t_prev: float | None = None

    # ------------------------------------------------------------------ step
    def step(self, t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        """Evaluate one sample of every measurement at time ``t`` (s)."""
        p = self._p
        dt = self._nominal_period_s if self._t_prev is None else max(0.0, t - self._t_prev)
        self._t_prev = t

        volts = _as_float_array(inputs["cell_voltage_V"])
        v_ok = _as_bool_array(inputs["cell_voltage_valid"])
        temps = _as_float_array(inputs["cell_temperature_degC"])
        t_ok = _as_bool_array(inputs["cell_temperature_valid"])
        current_A = float(inputs["pack_current_A"])
        insulation_ohm = float(inputs["insulation_resistance_ohm"])

        # Invalid samples take no part in the limits (their own channel covers them).
        v_max = float(np.max(volts, where=v_ok, initial=-np.inf))
        v_min = float(np.min(volts, where=v_ok, initial=np.inf))
        t_max = float(np.max(temps, where=t_ok, initial=-np.inf))
        t_min = float(np.min(temps, where=t_ok, initial=np.inf))
        extremes = np.array([v_max, -v_min, t_max, -t_min, current_A, -current_A])
        worst = extremes[self._row_slot]

        # MOL and RSL flags: set beyond the level, clear back inside by the hysteresis.
        self._warn = (worst > self._mol) | (self._warn & (worst > self._mol - self._hyst))
        self._req = (worst > self._rsl) | (self._req & (worst > self._rsl - self._hyst))
        charging = current_A > p["rest_current_A"]
        applies = ~self._while_charging | charging
        warn = self._warn & applies
        req = self._req & applies

        all_v_ok = bool(v_ok.all())
        mismatch_V = abs(float(inputs["pack_voltage_V"]) - float(volts.sum()))
        monitor_violation = [
            insulation_ohm < p["insulation_error_ohm"],
            insulation_ohm < p["insulation_warning_ohm"],
            all_v_ok and mismatch_V > p["pack_voltage_tolerance_V"],
            not all_v_ok,
            not bool(t_ok.all()),
            float(inputs["cell_monitor_age_s"]) > p["cell_monitor_timeout_s"],
            float(inputs["current_sensor_age_s"]) > p["current_sensor_timeout_s"],
            v_min < p["deep_discharge_voltage_V"],
        ]
        monitor_cleared = [
            insulation_ohm >= p["insulation_error_ohm"],
            True,
            mismatch_V <= p["pack_voltage_tolerance_V"],
            all_v_ok,
            bool(t_ok.all()),
            not monitor_violation[5],
            not monitor_violation[6],
            False,  # lockout: never cleared (the resettable mask also says so)
        ]
        violation = np.concatenate(((worst > self._msl) & applies, monitor_violation))
        # A limit fault is healed once back inside the MSL by the hysteresis (a charge
        # temperature fault by temperature alone, whether or not the pack is charged), and
        # only on readings that can be trusted: every sample valid and a number, the current
        # sensor alive (OBSA-SAFE-014).
        i_ok = current_A == current_A and not monitor_violation[6]
        readings_ok = np.array([all_v_ok and bool(np.isfinite(volts).all())] * 2
                               + [bool(t_ok.all()) and bool(np.isfinite(temps).all())] * 2
                               + [i_ok] * 2)[self._row_slot]
        cleared = np.concatenate(((worst <= self._msl - self._hyst) & readings_ok,
                                  monitor_cleared))

        # Leaky integrators; a channel trips when its integral reaches the delay.
        self._integral_s = np.where(violation, self._integral_s + dt,
                                    np.maximum(self._integral_s - LEAK_RATIO * dt, 0.0))
        tripped = violation & (self._integral_s >= self._delay - TIME_EPS_S)
        self._latched |= tripped & self._latching

        if inputs.get("fault_reset_request", False):
            healed = self._latched & cleared & self._resettable
            self._latched &= ~healed
            self._integral_s[healed] = 0.0

        return self._outputs(warn, req, violation)

    def _outputs(self, warn: np.ndarray, req: np.ndarray, violation: np.ndarray) -> dict:
        """Flags, state and current limits from the row flags and the latches."""
        p = self._p
        shown = self._latched | (violation & ~self._latching)  # warnings are not latched
        open_path = bool(self._latched.any())  # only fault and lockout codes latch

        charge_A, discharge_A = self._charge_mol_A, self._discharge_mol_A
        derated = p["derating_factor"]
        if (req & self._derates_charge).any():
            charge_A = min(charge_A, derated * self._charge_mol_A)
        if (req & self._derates_discharge).any():
            discharge_A = min(discharge_A, derated * self._discharge_mol_A)
        if (self._req & self._inhibits_charge).any():  # outside the charge RSL window
            charge_A = 0.0
        if open_path:
            charge_A = discharge_A = 0.0

        if (self._latched & self._is_lockout).any():
            state = self._state["lockout"]
        elif open_path:
            state = self._state["fault"]
        elif req.any():
            state = self._state["derating"]
        elif warn.any() or (shown & self._is_warning).any():
            state = self._state["warning"]
        else:
            state = self._state["normal"]
        return {
            "safety_state": int(state),
            "safety_warning_flags": int(self._row_weight[warn].sum()),
            "safety_request_flags": int(self._row_weight[req].sum()),
            "safety_fault_flags": int(self._weight[shown].sum()),
            "charge_current_limit_A": float(charge_A),
            "discharge_current_limit_A": float(discharge_A),
            "contactor_open_request": open_path,
        }
