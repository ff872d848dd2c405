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


def measure(signal: str, true_value: float) -> float:
    """A scalar measurement: clamped to the signal's range, rounded to its resolution.

    NaN stays NaN: a measurement that does not exist must not look like a number.
    """
    low, high, resolution = SIGNAL_FORMAT[signal]
    if math.isnan(true_value):
        return math.nan
    return float(_quantise(min(max(float(true_value), low), high), resolution))


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
