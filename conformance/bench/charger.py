"""A CC-CV charger on the pack's HV terminals, following a module's charge requests.

Each step the charger reads the two requests of the charge control
(``charge_voltage_request_V``, ``charge_current_request_A``) and the voltage at its
terminals, and delivers::

    target = min(current request, own rating, CV limit)
    CV limit = delivered + cv_gain_A_per_V × (voltage request − terminal voltage)
    delivered ← delivered + (target − delivered) × (1 − exp(−dt / lag_s))

so it is a constant-current source up to the voltage request, then holds its terminals at
that voltage (the usual CC-CV charger, e.g. the charge profile of IEC 61851-23 / ISO 15118
DC chargers: the vehicle sends a voltage and a current limit, the charger never exceeds
either), with a first-order lag (its current loop and the bus latency). A request it
cannot serve (a negative or not-a-number value, a voltage above its rating) is refused:
it delivers zero and raises :attr:`Charger.refused` until a request it can serve comes. A
current above its rating is not refused: it delivers its rating.

The charger is connected to the plant through the closed loop's ``every`` hook::

    charger = Charger(current_max_A=10.0, voltage_max_V=500.0)
    loop.run(60.0, every=charger.drive)

:meth:`Charger.drive` writes ``charger_connected`` into the signal pool (the charger bus's
report of the connection), takes the requests the module produced in the step before and
sets the pack's load current (:meth:`Bench.set_load_current`); the current flows while the
HV path is closed.
"""

from __future__ import annotations

import math
from typing import Any

#: below this rating-relative current the charger counts as delivering nothing
_ZERO_A = 1e-9


class ChargerError(ValueError):
    """A charger built with a rating it cannot have."""


class Charger:
    """A CC-CV charger with a rating, a lag and refusal of out-of-range requests."""

    def __init__(self, current_max_A: float, voltage_max_V: float, lag_s: float = 0.2,
                 cv_gain_A_per_V: float | None = None, connected: bool = True) -> None:
        for name, value in (("current_max_A", current_max_A), ("voltage_max_V", voltage_max_V)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ChargerError(f"Charger: {name}: expected a number > 0, found {value!r}")
        if not (isinstance(lag_s, (int, float)) and math.isfinite(lag_s) and lag_s >= 0):
            raise ChargerError(f"Charger: lag_s: expected a number ≥ 0, found {lag_s!r}")
        if cv_gain_A_per_V is not None and not (isinstance(cv_gain_A_per_V, (int, float))
                                                and math.isfinite(cv_gain_A_per_V)
                                                and cv_gain_A_per_V > 0):
            raise ChargerError(f"Charger: cv_gain_A_per_V: expected a number > 0, found "
                               f"{cv_gain_A_per_V!r}")
        self.current_max_A = float(current_max_A)
        self.voltage_max_V = float(voltage_max_V)
        self.lag_s = float(lag_s)
        #: default: the rating over 1 % of the rated voltage
        self.cv_gain_A_per_V = (float(cv_gain_A_per_V) if cv_gain_A_per_V is not None
                                else self.current_max_A / (0.01 * self.voltage_max_V))
        self.connected = bool(connected)
        self.current_A = 0.0  # delivered (charge positive)
        self.refused = False
        self.refusals = 0  # steps with a refused request

    def serves(self, voltage_request_V: float, current_request_A: float) -> bool:
        """Whether the charger can serve these requests (see the module docstring)."""
        v, i = float(voltage_request_V), float(current_request_A)
        if not (math.isfinite(v) and math.isfinite(i)) or v < 0.0 or i < 0.0:
            return False
        return i <= 0.0 or v <= self.voltage_max_V

    def update(self, dt_s: float, voltage_request_V: float, current_request_A: float,
               terminal_voltage_V: float) -> float:
        """One step of ``dt_s``: the current delivered from now on (A, charge positive)."""
        if not (math.isfinite(dt_s) and dt_s >= 0):
            raise ChargerError(f"Charger.update: dt_s: expected a number ≥ 0, found {dt_s!r}")
        if not self.connected:
            self.refused = False
            self.current_A = 0.0
            return 0.0
        if not self.serves(voltage_request_V, current_request_A):
            self.refused = True
            self.refusals += 1
            self.current_A = 0.0
            return 0.0
        self.refused = False
        v_req, i_req = float(voltage_request_V), float(current_request_A)
        target = min(i_req, self.current_max_A)
        if math.isfinite(terminal_voltage_V):
            cv_A = self.current_A + self.cv_gain_A_per_V * (v_req - float(terminal_voltage_V))
            target = min(target, cv_A)
        target = max(target, 0.0)
        if i_req <= 0.0 or v_req <= 0.0:
            target = 0.0
        a = 1.0 if self.lag_s <= 0.0 else 1.0 - math.exp(-dt_s / self.lag_s)
        self.current_A += (target - self.current_A) * a
        if self.current_A < _ZERO_A * self.current_max_A:
            self.current_A = 0.0
        return self.current_A

    def drive(self, loop: Any) -> None:
        """The closed loop's ``every`` hook: report the connection, follow the requests of
        the step before, set the pack's load current."""
        pool = loop.pool
        bench = loop.bench
        pool["charger_connected"] = self.connected
        current = self.update(float(bench.clock.dt_s), float(pool["charge_voltage_request_V"]),
                              float(pool["charge_current_request_A"]),
                              float(bench.hv.link_voltage_V))
        bench.set_load_current(current)
