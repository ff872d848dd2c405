"""One quantity supervised on three levels, after foxBMS 2's limit model.

MOL (maximum operating limit) sets the warning flag, RSL (recommended safety limit) sets the
request flag that derates the current, MSL (maximum safety limit) starts the fault debounce.
The flags clear once the quantity is back inside their limit by the hysteresis. Every
comparison is written for an upper limit; a lower limit is supervised as the negated quantity
against negated levels, so that one code path serves both directions.

:func:`extremes` reduces a measurement record to the supervised extremes, over the
measurements the hardware vouches for.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..services.debounce import Debounce


class ThreeLevelLimit:
    """Warning, request and fault debounce of one quantity (upper-limit form)."""

    __slots__ = (
        "name", "bit", "sign", "mol", "rsl", "msl", "mol_clear", "rsl_clear", "healed_below",
        "debounce", "warning", "request",
    )

    def __init__(self, name: str, bit: int, upper: bool, mol: float, rsl: float, msl: float,
                 hysteresis: float, delay_s: float) -> None:
        self.name = name
        self.bit = bit
        self.sign = 1.0 if upper else -1.0
        self.mol = self.sign * mol
        self.rsl = self.sign * rsl
        self.msl = self.sign * msl
        self.mol_clear = self.mol - hysteresis
        self.rsl_clear = self.rsl - hysteresis
        #: A latched fault may be reset once the quantity is at or below this (MSL − hysteresis).
        self.healed_below = self.msl - hysteresis
        self.debounce = Debounce(delay_s)
        self.warning = False
        self.request = False

    def clear(self) -> None:
        """Forget flags and debounce, for when the limit does not apply."""
        self.warning = self.request = False
        self.debounce.reset()

    def busy(self, value: float) -> bool:
        """False when ``update`` would change nothing: inside the MOL with no flag set.

        Holds because the levels are ordered (MOL < RSL < MSL): a request flag or a running
        debounce implies the warning flag.
        """
        return self.warning or self.sign * value > self.mol

    def update(self, value: float, t: float) -> bool:
        """Update the flags with one sample; True once the MSL violation has lasted the delay."""
        x = self.sign * value
        if self.warning:
            if x <= self.mol_clear:
                self.warning = False
        elif x > self.mol:
            self.warning = True
        if self.request:
            if x <= self.rsl_clear:
                self.request = False
        elif x > self.rsl:
            self.request = True
        return self.debounce.update(x > self.msl, t)

    def healed(self, value: float) -> bool:
        """True when a latched fault of this quantity may be reset (NaN is never healed)."""
        return self.sign * value <= self.healed_below


_max, _min, _sum, _all = np.maximum.reduce, np.minimum.reduce, np.add.reduce, np.logical_and.reduce
_INF = math.inf


def extremes(values: Any, valid: Any) -> tuple[float, float, float, bool]:
    """(max, min, sum, all usable) over the measurements that are valid and not NaN.

    The fast path is four numpy reductions; only when a measurement is invalid or NaN are the
    extremes taken over the trusted subset (an open wire must not fake an under-voltage).
    """
    if type(values) is not np.ndarray:
        values = np.asarray(values, dtype=float)
    if values.size:
        hi, lo, total = float(_max(values)), float(_min(values)), float(_sum(values))
        if hi == hi and _all(valid):  # hi is NaN when any value is NaN
            return hi, lo, total, True
    trusted = np.asarray(valid, dtype=bool) & np.isfinite(values)
    kept = values[trusted]
    if kept.size == 0:
        return -_INF, _INF, math.nan, False
    return float(_max(kept)), float(_min(kept)), math.nan, False


def _frozen(array: Any) -> Any:
    """The object that owns a read-only array's data (the array, or what it views), or None
    for anything that could change behind its identity."""
    if type(array) is not np.ndarray or array.flags.writeable:
        return None
    owner = array if array.base is None else array.base
    if isinstance(owner, np.ndarray) and owner.flags.writeable:
        return None
    return owner


class Extremes:
    """:func:`extremes` of one measurement record, recomputed only when the record changes.

    A cell monitor samples every 100 ms while the supervisor steps every 10 ms; the bench
    hands over the same read-only arrays between two samples (or read-only views of them).
    Such an array cannot change behind its identity, so the last result is reused while the
    same two arrays come in; anything else is reduced afresh.
    """

    __slots__ = ("_values", "_valid", "_result")

    def __init__(self) -> None:
        self._values: Any = None
        self._valid: Any = None
        self._result = (-_INF, _INF, math.nan, False)

    def __call__(self, values: Any, valid: Any) -> tuple[float, float, float, bool]:
        key_values, key_valid = _frozen(values), _frozen(valid)
        if key_values is not None and key_values is self._values and \
                key_valid is not None and key_valid is self._valid:
            return self._result
        self._result = extremes(values, valid)
        self._values, self._valid = key_values, key_valid
        return self._result
