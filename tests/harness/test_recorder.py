"""The closed loop's trace recorder: every channel's value at every step, whichever of the
arrays it reduces changed at that step."""

from __future__ import annotations

import numpy as np

from conformance.harness.loop import TraceChannel, _Recorder


def test_array_channels_follow_each_array_at_its_own_steps() -> None:
    channels = [TraceChannel("v_max", "V", "v", reduce="max"),
                TraceChannel("t_sum", "degC", "temp", reduce="sum"),
                TraceChannel("v_min", "V", "v", reduce="min"),
                TraceChannel("invalid", "1", "ok", reduce="invalid"),
                TraceChannel("x", "1", "x"),
                TraceChannel("twice_x", "1", read=lambda pool: 2.0 * pool["x"]),
                TraceChannel("y", "1", "y")]
    recorder = _Recorder(channels)
    pool = {"v": np.array([1.0, 2.0]), "temp": np.array([3.0, 4.0]),
            "ok": np.array([True, False]), "x": 0.0, "y": False}
    expected: dict[str, list[float]] = {ch.name: [] for ch in channels}
    for k in range(60):
        if k % 7 == 3:  # each array replaced at steps of its own, as sensors are sampled
            pool["v"] = np.array([float(k), -float(k), 0.5])
        if k % 5 == 1:
            pool["temp"] = np.full(3, float(k))
        if k in (20, 41):
            pool["ok"] = np.array([True, False, False, k > 40])
        pool["x"] = float(k)
        pool["y"] = k % 2 == 0
        recorder.record(pool)
        for name, value in (("v_max", max(pool["v"])), ("v_min", min(pool["v"])),
                            ("t_sum", sum(pool["temp"])),
                            ("invalid", len(pool["ok"]) - sum(pool["ok"])),
                            ("x", pool["x"]), ("twice_x", 2.0 * pool["x"]), ("y", pool["y"])):
            expected[name].append(value)
    for name, values in expected.items():
        assert recorder.column(name) == values, name
