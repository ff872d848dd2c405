"""The recording shortcuts of the closed loop are exact: the fault memory's rows (shared
while its arrays are the very objects or equal lists of the last step) and the compiled
trace recorder record at every step what a plain copy of the pool would."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from conformance.harness.loop import TraceChannel, _Recorder
from conformance.harness.monitors import Watch
from conformance.spec import load_spec

DIAG = "diagnostics"


@pytest.fixture(scope="module")
def watch() -> Watch:
    return Watch(load_spec(), [DIAG])


def test_the_fault_memory_is_recorded_as_it_was_at_every_step(watch: Watch) -> None:
    """Tuples kept, replaced by equal ones, changed; lists kept and changed in place, new
    equal lists; a mix of both; a numpy array changed in place: each step's rows are the
    arrays of that step, the channel the sum of its occurrence counters."""
    read = next(ch.read for ch in watch.channels() if ch.name == "dtc_occurrences_total")
    assert read is not None
    n = len(watch.rows)
    flags = dict.fromkeys(watch.flags_signals, 0)

    def tuples(occ: int = 0) -> list[Any]:
        return [tuple([0] * n), tuple([occ] * n), tuple([-1.0] * n), tuple([-1.0] * n)]

    kept = tuples()
    lists: list[Any] = [[0] * n, [0] * n, [-1.0] * n, [-1.0] * n]
    array = np.zeros(n)
    steps: list[list[Any]] = [kept] * 5 + [tuples()] * 2 + [tuples(1), tuples(1)]
    steps += [lists] * 3
    steps += ["in place", lists, [list(a) for a in lists], [kept[0], *lists[1:]], kept,
              [lists[0], lists[1], lists[2], array], "array in place",
              [lists[0], lists[1], lists[2], array], kept]
    expected: list[list[np.ndarray]] = []
    totals: list[float] = []
    for k, arrays in enumerate(steps):
        if arrays == "in place":
            lists[1][3] += 1  # the very lists of the steps before
            lists[2][3] = 0.25 * k
            arrays = lists
        elif arrays == "array in place":
            array[0] = 7.0
            arrays = [lists[0], lists[1], lists[2], array]
        flags = {name: k for name in flags}
        pool = {**flags, **dict(zip(watch.dtc_names, arrays, strict=True))}
        totals.append(read(pool))
        expected.append([np.array(a, dtype=float) for a in arrays])
    recorded = watch.dtc
    for i, name in enumerate(watch.dtc_names):
        assert len(recorded[name]) == len(steps)
        for k, row in enumerate(recorded[name]):
            assert np.array_equal(row, expected[k][i]), (name, k)
            assert not row.flags.writeable
    assert totals == [float(rows[1].sum()) for rows in expected]
    assert all(v == list(range(len(steps))) for v in watch.flags.values())


@pytest.mark.parametrize("channels", [
    [],
    [TraceChannel("x", "1", "x")],
    [TraceChannel("v_max", "V", "v", reduce="max")],
    [TraceChannel("twice_x", "1", read=lambda pool: 2.0 * pool["x"])],
    [TraceChannel("v_max", "V", "v", reduce="max"), TraceChannel("x", "1", "x"),
     TraceChannel("w_sum", "V", "w", reduce="sum")],
])
def test_the_compiled_recorder_records_any_set_of_channels(channels: list[TraceChannel]) -> None:
    """No channel, one of each kind, a mix: each column holds every step's value, whichever
    array was replaced at that step."""
    recorder = _Recorder(channels)
    v = np.array([1.0, 2.0])
    pool: dict[str, Any] = {"x": 0.0, "v": v, "w": np.array([3.0])}
    expected: dict[str, list[float]] = {ch.name: [] for ch in channels}
    for k in range(12):
        pool["x"] = float(k)
        if k == 4:
            pool["v"] = np.array([1.0, 5.0])
        if k == 8:
            pool["w"] = np.array([3.0, float(k)])
        recorder.record(pool)
        values = {"x": float(k), "v_max": float(max(pool["v"])), "w_sum": float(sum(pool["w"])),
                  "twice_x": 2.0 * k}
        for name in expected:
            expected[name].append(values[name])
    for name, column in expected.items():
        assert recorder.column(name) == column, name
    assert set(recorder.where) == set(expected)
