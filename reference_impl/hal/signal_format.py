"""Measuring as the data dictionary declares it: clamped to the signal's range, rounded to its
resolution (both from the generated :data:`reference_impl.interfaces.SIGNAL_FORMAT`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..interfaces import SIGNAL_FORMAT

__all__ = ["SIGNAL_FORMAT", "measure", "measure_array"]


def _quantise(values: Any, resolution: float | None) -> Any:
    """Round to the resolution; a power of ten rounds to decimals (3.7, not 3.7000000000000002)."""
    if resolution is None:
        return values
    decimals = round(-math.log10(resolution))
    if math.isclose(10.0 ** -decimals, resolution):
        return np.round(values, decimals)
    return np.round(values / resolution) * resolution


def _decimals(resolution: float | None) -> int | None:
    """The decimals a power-of-ten resolution rounds to (0.01 → 2), else None."""
    if resolution is None:
        return None
    decimals = round(-math.log10(resolution))
    return decimals if math.isclose(10.0 ** -decimals, resolution) else None


#: signal → (low, high, resolution, its decimals): the scalar path's table, computed once
_SCALAR = {name: (low, high, resolution, _decimals(resolution))
           for name, (low, high, resolution) in SIGNAL_FORMAT.items()}


def measure(signal: str, true_value: float) -> float:
    """A scalar measurement: clamped to the signal's range, rounded to its resolution (plain
    float arithmetic: a call per sensor per step, where numpy's per-call cost would be most
    of the block's).

    NaN stays NaN: a measurement that does not exist must not look like a number.
    """
    low, high, resolution, decimals = _SCALAR[signal]
    value = float(true_value)
    if math.isnan(value):
        return math.nan
    value = min(max(value, low), high)
    if resolution is None:
        return value
    if decimals is not None:
        return round(value, decimals)
    return round(value / resolution) * resolution


def measure_array(signal: str, true_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(measured values, valid) of an array signal.

    A value is valid when it is finite and inside the signal's range — what an analog front
    end reports as open wire or open/shorted sensor lies outside it. An invalid value is
    reported clamped into the range (NaN as the range minimum) so that the record stays a
    record of the dictionary; its validity flag tells the functions not to trust it.
    """
    low, high, resolution = SIGNAL_FORMAT[signal]
    valid = np.isfinite(true_values) & (true_values >= low) & (true_values <= high)
    values = np.clip(np.nan_to_num(true_values, nan=low), low, high)
    return _quantise(values, resolution), valid
