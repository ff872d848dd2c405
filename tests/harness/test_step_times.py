"""A vector replay steps a component at its own step period whatever the vector's sample
period (the contract's time rule): every n-th sample of a dense vector, a sparse vector's
samples held over the steps between them."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.harness.replay import step_times


def test_a_dense_vector_gives_every_nth_sample() -> None:
    t = np.round(np.arange(0.0, 10.0, 0.1), 10)
    times, rows = step_times(t, 1.0, 0.1)
    assert rows.tolist() == list(range(0, 100, 10))
    assert times == pytest.approx(np.arange(10.0))
    times, rows = step_times(t, 0.1, 0.1)
    assert rows.tolist() == list(range(100))


def test_a_sparse_vector_is_held_over_the_steps_of_the_period() -> None:
    t = np.arange(0.0, 4.0)  # 1 s samples, a 0.1 s component
    times, rows = step_times(t, 0.1, 1.0)
    assert len(times) == 31 and np.allclose(np.diff(times), 0.1)
    assert rows.tolist() == [k // 10 for k in range(31)]  # each sample ten steps, the last one
    # a period that does not divide the sample period: the last sample at or before the step
    times, rows = step_times(np.array([0.0, 0.25, 0.5, 0.75, 1.0]), 0.1, 0.25)
    assert rows.tolist() == [0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 4]


def test_nothing_to_replay() -> None:
    times, rows = step_times(np.zeros(0), 0.1, 1.0)
    assert times.size == 0 and rows.size == 0
