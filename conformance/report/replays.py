"""What the report says about vector replays: which vector each verdict was judged on, the
sensor errors that replay drew, and each vector's record (where it came from).

A replay (:mod:`conformance.harness.replay`) records the sensor errors it drew with
:func:`record_sensor_errors`; a test case, once it has judged a replay, marks its results
with :func:`on_vector` (the vector's id and those sensor errors go into each result's
evidence). The report then gathers, per vector, every requirement judged on it
(:class:`~.model.VectorRecord`), from the results alone.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

from .model import SensorErrors, TestResult, VectorRecord

_DRAWN: weakref.WeakKeyDictionary[Any, dict[str, SensorErrors]] = \
    weakref.WeakKeyDictionary()
"""harness → vector id → the sensor errors its last replay of that vector drew."""


def record_sensor_errors(h: Any, vector_id: str, **values: float) -> SensorErrors:
    """Record the sensor errors a replay of ``vector_id`` drew on the test case of harness
    ``h`` (the fields of :class:`~.model.SensorErrors`, all of them)."""
    drawn = SensorErrors(**values)
    _DRAWN.setdefault(h, {})[vector_id] = drawn
    return drawn


def sensor_errors(h: Any, vector_id: str) -> SensorErrors | None:
    """What :func:`record_sensor_errors` recorded for ``vector_id`` on ``h``, if anything."""
    return _DRAWN.get(h, {}).get(vector_id)


def on_vector(h: Any, vector_id: str, results: list[TestResult] | None = None) -> None:
    """Mark ``results`` (default: every result of ``h`` not yet marked) as judged on
    ``vector_id``, with the sensor errors its replay drew."""
    drawn = sensor_errors(h, vector_id)
    for r in h.results if results is None else results:
        if not r.evidence.vector:
            r.evidence = r.evidence.model_copy(update={"vector": vector_id,
                                                       "sensor_errors": drawn})


def _shown(path: Path) -> str:
    """A path relative to the working directory when under it, else absolute."""
    path = path.resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def vector_record(vector_id: str, sha256: str) -> VectorRecord:
    """The record of a vector judged by the SHA-256 of its arrays: found among this run's
    vectors (:mod:`conformance.vectors.discovery`), else ``unknown``."""
    from ..vectors import VectorError
    from ..vectors.discovery import find, is_drive_cycle, sha256_of

    try:
        found = find(vector_id)
    except (KeyError, VectorError):
        found = None
    if found is None or found.info.sha256 != sha256:
        return VectorRecord(sha256=sha256, source="unknown")
    char = found.path.parent / found.info.characterization
    shipped = found.source == "shipped"
    return VectorRecord(
        sha256=sha256, source=found.source,
        path=f"vectors/{found.path.name}" if shipped else _shown(found.path),
        profile=found.info.profile, drive_cycle=is_drive_cycle(found.info),
        characterization=found.info.characterization,
        characterization_sha256=sha256_of(char))


def sensor_line(s: SensorErrors) -> str:
    """'current gain +0.31 %, offset -0.012 A, noise ±0.006 A; cell voltage ±1.6 mV;
    temperature ±0.8 K; pack voltage ±0.4 V'"""
    return (f"current gain {100 * s.current_gain_error:+.3g} %, offset "
            f"{s.current_offset_A:+.3g} A, noise ±{s.current_noise_A:.3g} A; cell voltage "
            f"±{1000 * s.cell_voltage_noise_V:.3g} mV; temperature "
            f"±{s.cell_temperature_noise_K:.3g} K; pack voltage ±{s.pack_voltage_noise_V:.3g} V")


__all__ = ["on_vector", "record_sensor_errors", "sensor_errors", "sensor_line",
           "vector_record"]
