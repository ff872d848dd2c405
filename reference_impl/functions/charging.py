"""The charge control (spec: interfaces/charge_control.yaml, requirements OBSA-CHG-*).

Constant-current / constant-voltage requests to a charger that follows them. Each step:

1. permission (OBSA-CHG-004): no charger connected → idle; a charger but the HV path not
   closed, the safety state fault or lockout (or not a known state), no charge current
   permitted (charge_current_limit_A not above zero), or a cell voltage the cell monitor
   cannot vouch for (invalid or not a number: then nothing proves that no cell is above the
   limit) → inhibited. Both requests are zero in the step in which charging stops being
   permitted;
2. constant current (OBSA-CHG-005): the current request is the smallest of
   charge_current_max_A, charge_current_limit_A and sop_charge_current_limit_A of the same
   step; once the highest cell reaches charge_voltage_limit_V (``>=``) the phase becomes
   constant voltage;
3. constant voltage (OBSA-CHG-002): an integral controller on the highest cell,
   ``dI/dt = I_cc · (V_limit − V_max) / (0.05 V·s)``, started from the constant-current
   request and integrated over the time the component has seen, so that it does the same at
   any step interval. Its gain is scaled by the current smallest limit I_cc: the loop gain is
   the cell's IR drop at that current over 0.05 V per second (tests: IR drops of 0.03 to
   0.15 V, a 0.1 s measurement cycle, a charger one step late; a few mV of overshoot). The
   request stays between zero and the smallest limit of the step (OBSA-CHG-003);
4. completion (OBSA-CHG-006): in constant voltage, once the measured charge current has
   *fallen* below charge_termination_current_A (it was at or above it earlier in the phase,
   since the last interruption: a resumed phase starts from zero current),
   the phase is complete and both requests are zero until the charger is disconnected.

The voltage request is the number of series cells times charge_voltage_limit_V while charging
(OBSA-CHG-001), never above its signal's range. Constant voltage, once reached, lasts until
the charger is disconnected: after an interruption (HV path opened, a fault reset) the
controller restarts from zero current and ramps up, instead of stepping a nearly full pack
back to the full current, whose IR jump would carry the fullest cell above the limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..component import Block
from ..interfaces import ChargePhase, ContactorState, SafetyState
from .limits import extremes

COMPONENT = "charge_control"

_IDLE, _CC, _CV = int(ChargePhase.IDLE), int(ChargePhase.CONSTANT_CURRENT), int(
    ChargePhase.CONSTANT_VOLTAGE)
_COMPLETE, _INHIBITED = int(ChargePhase.COMPLETE), int(ChargePhase.INHIBITED)
_CLOSED = int(ContactorState.CLOSED)
#: safety states in which charging may be permitted (neither fault nor lockout)
_CHARGEABLE = frozenset({int(SafetyState.NORMAL), int(SafetyState.WARNING),
                         int(SafetyState.DERATING)})

#: Integral gain of the constant-voltage loop: the smallest limit per (V_limit − V_max) × s.
CV_GAIN_VOLT_SECONDS = 0.05
#: Longest interval integrated at once (a larger gap between steps counts as this).
MAX_INTEGRATION_S = 0.1
#: Ranges of the output signals (dictionary).
CURRENT_REQUEST_MAX_A = 2000.0
VOLTAGE_REQUEST_MAX_V = 1500.0


class ChargeControl(Block):
    """CC/CV charge requests with permission, limits and termination."""

    COMPONENT = COMPONENT

    def _setup(self, p: dict[str, Any]) -> None:
        self._v_limit = p["charge_voltage_limit_V"]
        self._i_max = p["charge_current_max_A"]
        self._i_term = p["charge_termination_current_A"]

    def reset(self) -> None:
        """Power-on state: idle, no charge under way, no time seen."""
        self._phase = _IDLE
        self._cv = False  # constant voltage reached since the charger was connected
        self._complete = False
        self._above_termination = False  # the current was >= termination during CV
        self._request_A = 0.0  # the controller's current request (the integrator)
        self._t_last: float | None = None

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        dt = 0.0 if self._t_last is None else min(max(t - self._t_last, 0.0),
                                                  MAX_INTEGRATION_S)
        self._t_last = t
        voltages = inputs["cell_voltage_V"]
        v_max, _, _, cells_ok = extremes(voltages, inputs["cell_voltage_valid"])
        limit_A = float(inputs["charge_current_limit_A"])
        sop_A = float(inputs["sop_charge_current_limit_A"])
        current_A = float(inputs["pack_current_A"])
        if not bool(inputs["charger_connected"]):
            # a new connection starts a new charge
            self._cv = self._complete = self._above_termination = False
            return self._stopped(_IDLE)
        permitted = (int(inputs["contactor_state"]) == _CLOSED
                     and int(inputs["safety_state"]) in _CHARGEABLE
                     and limit_A > 0.0 and cells_ok and len(voltages) > 0 and sop_A == sop_A)
        if not permitted:
            return self._stopped(_INHIBITED)
        if self._complete:
            return self._stopped(_COMPLETE)
        smallest_A = min(self._i_max, limit_A, sop_A, CURRENT_REQUEST_MAX_A)
        smallest_A = max(smallest_A, 0.0)
        if not self._cv:
            # constant current; the integrator continues from this request once the highest
            # cell reaches the limit (after an interruption it restarts from zero: _stopped)
            self._request_A = smallest_A
            self._cv = v_max >= self._v_limit
        if self._cv:
            gain = smallest_A / CV_GAIN_VOLT_SECONDS
            self._request_A += gain * (self._v_limit - v_max) * dt
            self._request_A = min(max(self._request_A, 0.0), smallest_A)
        if self._cv:
            if current_A >= self._i_term:
                self._above_termination = True
            elif self._above_termination and current_A < self._i_term:
                self._complete = True
                return self._stopped(_COMPLETE)
        self._phase = _CV if self._cv else _CC
        voltage_V = min(len(voltages) * self._v_limit, VOLTAGE_REQUEST_MAX_V)
        return {
            "charge_voltage_request_V": voltage_V,
            "charge_current_request_A": self._request_A,
            "charge_phase": self._phase,
        }

    def _stopped(self, phase: int) -> dict[str, Any]:
        """Both requests zero, in ``phase``."""
        self._phase = phase
        self._request_A = 0.0  # a resumed constant-voltage phase ramps up from zero
        self._above_termination = False  # ... and its current must rise again before
        return {"charge_voltage_request_V": 0.0, "charge_current_request_A": 0.0,
                "charge_phase": phase}

