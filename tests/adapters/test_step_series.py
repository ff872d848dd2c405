"""A series of open-loop steps (a vector replay): pipelined on the wire, the same answers and
the same faults as one step at a time."""

from __future__ import annotations

import time

import pytest

from conformance.adapters import AdapterError, open_adapter
from conformance.adapters.process import IN_FLIGHT_BYTES, ProcessAdapter

from .conftest import manifest_with, ref
from .replies import valid_reply

SS = "safety_supervisor"


def _series(adapter, n: int, **at: dict) -> tuple[list[float], list[dict]]:
    """``n`` steps 0.1 s apart, each replying its own charge limit (its index); ``at`` maps
    a step index (as a string) to extra inputs for that step."""
    base = valid_reply(adapter._checks[SS])
    times = [0.1 * i for i in range(n)]
    inputs = [{"reply": {**base, "charge_current_limit_A": float(i)}, **at.get(str(i), {})}
              for i in range(n)]
    return times, inputs


@pytest.mark.parametrize("transport", ["python", "in-process"])
def test_a_series_answers_as_one_step_at_a_time(spec, dims, transport):
    manifest = manifest_with({SS: ref("FailsWhenAsked")}, 1.0)
    with open_adapter(manifest, spec, dims, in_process=transport == "in-process") as adapter:
        assert isinstance(adapter, ProcessAdapter) == (transport == "python")
        times, inputs = _series(adapter, 300)
        one_by_one = [adapter.step(SS, t, i) for t, i in zip(times, inputs, strict=True)]
        assert adapter.step_series(SS, times, iter(inputs)) == one_by_one
        assert [r["charge_current_limit_A"] for r in one_by_one] == list(range(300))


@pytest.mark.parametrize("fault,message", [
    ({"raise": True}, "ValueError: asked to fail at t=5"),
    ({"reply": {"charge_current_limit_A": "ten"}}, "charge_current_limit_A"),
])
def test_a_fault_in_the_middle_names_its_step_and_the_channel_stays_in_step(
        spec, dims, fault, message):
    """The replies to the requests already written are read and dropped: the next call gets
    its own reply, not an earlier step's."""
    with open_adapter(manifest_with({SS: ref("FailsWhenAsked")}, 1.0), spec, dims) as adapter:
        times, inputs = _series(adapter, 200, **{"50": fault})
        if "reply" in fault:
            inputs[50]["reply"] = {**inputs[49]["reply"], **fault["reply"]}
        with pytest.raises(AdapterError) as err:
            adapter.step_series(SS, times, inputs)
        assert message in str(err.value) and err.value.call == "step"
        assert adapter.broken is None
        reply = {**valid_reply(adapter._checks[SS]), "charge_current_limit_A": 7.5}
        assert adapter.step(SS, 30.0, {"reply": reply}) == reply


def test_a_hang_in_the_middle_is_killed_by_the_watchdog(spec, dims):
    with open_adapter(manifest_with({SS: ref("FailsWhenAsked")}, 0.2), spec, dims) as adapter:
        times, inputs = _series(adapter, 100, **{"40": {"hang": True}})
        start = time.perf_counter()
        with pytest.raises(AdapterError, match="no reply within the timeout of 0.2 s"):
            adapter.step_series(SS, times, inputs)
        assert time.perf_counter() - start < 2.0
        assert adapter.broken is not None


def test_requests_larger_than_the_pipe_never_deadlock(spec, dims):
    """Each request alone exceeds what a series keeps in flight (and a pipe's buffer): they
    go one at a time, as step() sends them."""
    with open_adapter(manifest_with({SS: ref("FailsWhenAsked")}, 2.0), spec, dims) as adapter:
        times, inputs = _series(adapter, 12)
        pad = [0.5] * (2 * IN_FLIGHT_BYTES // 4)
        for values in inputs:
            values["pad"] = pad
        replies = adapter.step_series(SS, times, inputs)
        assert [r["charge_current_limit_A"] for r in replies] == list(range(12))


def test_mismatched_times_and_inputs_are_a_bench_error(spec, dims):
    with open_adapter(manifest_with({SS: ref("FailsWhenAsked")}, 1.0), spec, dims) as adapter:
        times, inputs = _series(adapter, 5)
        with pytest.raises(AdapterError, match="transport failed: ValueError"):
            adapter.step_series(SS, times[:4], inputs)
        assert adapter.broken is None
        assert len(adapter.step_series(SS, times, inputs)) == 5
