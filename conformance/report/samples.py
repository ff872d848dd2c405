"""Evidence samples as compact JSON arrays, at the resolution they carry.

A trace is hundreds of thousands of samples; written with every digit of a double
(``3.771509696835295``) and one number per line, report.json grew to about 17 MB. The
bench's signals are not that precise: values are kept to :data:`SIGNIFICANT_DIGITS`
significant digits (10 µV on a cell voltage, 1 mV on a pack voltage), sample times to the
microsecond (the bench steps by milliseconds), a channel of whole numbers (flags, states,
counters) without decimals, and each array is written on one line. The measured values of
the criteria, which decide verdicts, are not rounded.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import orjson

SIGNIFICANT_DIGITS = 6
TIME_DECIMALS = 6
_EXACT_INT = 2.0**53


def round_significant(values: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits; NaN and infinities unchanged.

    The decimal shift is a multiplication by an exact power of ten for small numbers and a
    division for large ones, so the result is the double nearest to the rounded decimal
    (``3.77151``, not ``3.7715100000000004``)."""
    v = np.asarray(values, dtype=float)
    out = v.copy()
    ok = np.isfinite(v) & (v != 0)
    if not ok.any():
        return out
    x = v[ok]
    shift = (digits - 1 - np.floor(np.log10(np.abs(x)))).astype(int)
    up = shift >= 0
    r = np.empty_like(x)
    scale = 10.0 ** shift[up]
    r[up] = np.round(x[up] * scale) / scale
    scale = 10.0 ** -shift[~up]
    r[~up] = np.round(x[~up] / scale) * scale
    out[ok] = r
    return out


def round_times(t_s: Sequence[float] | np.ndarray) -> np.ndarray:
    """Sample times rounded to the microsecond (sums of step periods: 0.35000000000000003
    is 0.35)."""
    return np.round(np.asarray(t_s, dtype=float), TIME_DECIMALS)


def json_array(values: np.ndarray) -> bytes:
    """One JSON array: null for NaN and infinities, whole numbers without decimals when
    every sample is one."""
    finite = np.isfinite(values)
    if finite.all() and values.size and np.all(np.abs(values) < _EXACT_INT) and np.all(
            values == np.round(values)):
        return orjson.dumps(values.astype(np.int64), option=orjson.OPT_SERIALIZE_NUMPY)
    if not finite.all():
        values = np.where(finite, values, np.nan)  # orjson writes NaN as null
    return orjson.dumps(np.ascontiguousarray(values), option=orjson.OPT_SERIALIZE_NUMPY)


def values_array(values: Sequence[float | None] | np.ndarray) -> orjson.Fragment:
    """A channel's samples, rounded, as a ready-made JSON array."""
    return orjson.Fragment(json_array(round_significant(np.array(values, dtype=float))))


def times_array(t_s: Sequence[float] | np.ndarray) -> orjson.Fragment:
    """Sample times, rounded, as a ready-made JSON array."""
    return orjson.Fragment(json_array(round_times(t_s)))
