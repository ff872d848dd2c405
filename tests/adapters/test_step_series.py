"""A series of open-loop steps (a vector replay): pipelined on the wire, or many steps in one
message (obsa.step_series) to a module that offers it; the same answers and the same faults
as one step at a time, each fault named at its step."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conformance.adapters import AdapterError, open_adapter, wire
from conformance.adapters.process import IN_FLIGHT_BYTES, SERIES_MAX_STEPS, ProcessAdapter
from conformance.manifest.model import Manifest

from .conftest import manifest_with, ref
from .replies import valid_reply

SS = "safety_supervisor"
WIRE_MODULE = Path(__file__).with_name("wire_module.py")
SERIES_MODULE = Path(__file__).with_name("series_module.py")


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
        assert "at step 50 of the series (t = 5 s)" in str(err.value)
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


# ------------------------------------------------------------ many steps in one message
def _columns(adapter, n: int, **at: dict) -> tuple[list[float], dict[str, list]]:
    """The steps of :func:`_series` as columns (``obsa.step_series``'s shape): every input
    a list of one value per step, False where a step does not ask for a fault."""
    times, rows = _series(adapter, n, **at)
    names = sorted({name for row in rows for name in row})
    return times, {name: [row.get(name, False) for row in rows] for name in names}


def _methods(monkeypatch) -> list[str]:
    """The methods of the requests the bench writes from now on."""
    sent: list[str] = []
    real = wire.encode

    def spy(message):
        if isinstance(message, dict) and "method" in message:
            sent.append(message["method"])
        return real(message)

    monkeypatch.setattr(wire, "encode", spy)
    return sent


@pytest.mark.parametrize("transport", ["python", "in-process"])
def test_columns_answer_as_one_step_at_a_time_in_few_messages(spec, dims, transport,
                                                                monkeypatch):
    """The python server offers obsa.step_series: a series longer than a message's steps
    goes in ⌈n / SERIES_MAX_STEPS⌉ messages and answers step for step as step() does."""
    n = 2 * SERIES_MAX_STEPS + 7
    manifest = manifest_with({SS: ref("FailsWhenAsked")}, 1.0)
    with open_adapter(manifest, spec, dims, in_process=transport == "in-process") as adapter:
        if transport == "python":
            assert adapter.hello["series"] is True
        times, columns = _columns(adapter, n)
        one_by_one = [adapter.step(SS, t, {"reply": r}) for t, r
                      in zip(times, columns["reply"], strict=True)]
        sent = _methods(monkeypatch)
        assert adapter.step_columns(SS, times, columns) == one_by_one
        if transport == "python":
            assert sent == ["obsa.step_series"] * 3


def test_a_module_without_series_is_stepped_one_call_per_step(spec, dims, monkeypatch):
    """A module whose hello does not offer obsa.step_series (tests/adapters/wire_module.py,
    written before it, as the C example is) gets one <component>.step per step."""
    data = manifest_with({SS: "unused"}, 1.0, transport="process").model_dump()
    data["adapter"]["options"] = {"command": [sys.executable, str(WIRE_MODULE), "ok"]}
    with open_adapter(Manifest.model_validate(data), spec, dims) as adapter:
        assert "series" not in adapter.hello
        sent = _methods(monkeypatch)
        replies = adapter.step_columns(SS, [0.1 * i for i in range(40)],
                                       {"pack_current_A": np.zeros(40)})
        assert len(replies) == 40 and sent == [f"{SS}.step"] * 40


def test_a_series_timeout_scales_with_the_steps_of_a_message(spec, dims):
    """Each step of a message has the whole timeout_s: 12 steps at 0.2 s, 2.4 s; a hang
    after it is killed, naming the message's steps."""
    manifest = manifest_with({SS: ref("FailsWhenAsked")}, 0.2)
    with open_adapter(manifest, spec, dims) as adapter:
        times, columns = _columns(adapter, 12, **{"7": {"hang": True}})
        start = time.perf_counter()
        with pytest.raises(AdapterError) as err:
            adapter.step_columns(SS, times, columns)
        waited = time.perf_counter() - start
        assert "no reply within the timeout of 2.4 s" in str(err.value)
        assert "steps 0 to 11 of the series (t = 0 to 1.1 s)" in str(err.value)
        assert 2.4 <= waited < 6.0 and adapter.broken is not None


@pytest.mark.parametrize("fault,message", [
    ({"raise": True}, "ValueError: asked to fail at t=5"),
    ({"reply": {"charge_current_limit_A": "ten"}}, "charge_current_limit_A"),
    ({"reply": {"charge_current_limit_A": None}}, "null (no number"),
])
def test_a_bad_step_in_the_middle_of_a_message_is_reported_at_its_step(
        spec, dims, fault, message):
    """A module error or an invalid reply at step 50 of a message is reported at step 50
    with its time; the channel stays in step (the next call gets its own reply)."""
    with open_adapter(manifest_with({SS: ref("FailsWhenAsked")}, 1.0), spec, dims) as adapter:
        times, columns = _columns(adapter, 200, **{"50": fault})
        if "reply" in fault:
            columns["reply"][50] = {**columns["reply"][49], **fault["reply"]}
        with pytest.raises(AdapterError) as err:
            adapter.step_columns(SS, times, columns)
        assert message in str(err.value) and err.value.call == "step"
        assert "at step 50 of the series (t = 5 s)" in str(err.value)
        assert adapter.broken is None
        reply = {**valid_reply(adapter._checks[SS]), "charge_current_limit_A": 7.5}
        assert adapter.step(SS, 30.0, {"reply": reply}) == reply


def test_an_invalid_reply_before_the_failing_step_is_the_fault_reported(spec, dims):
    """The module choked at step 50 on what it did at step 30: step 30's invalid reply (sent
    along with the error) is the fault."""
    with open_adapter(manifest_with({SS: ref("FailsWhenAsked")}, 1.0), spec, dims) as adapter:
        times, columns = _columns(adapter, 100, **{"50": {"raise": True}})
        columns["reply"][30] = {**columns["reply"][30], "safety_state": 99}
        with pytest.raises(AdapterError) as err:
            adapter.step_columns(SS, times, columns)
        assert err.value.field == "safety_state"
        assert "at step 30 of the series (t = 3 s)" in str(err.value)


@pytest.mark.parametrize("mode,message", [
    ("exit", "exited with status 7"),
    ("garbage", "a line that is not JSON"),
    ("short", "expected a list of 20 outputs records (one per step), found a list of 19"),
])
def test_a_module_breaking_a_series_names_the_steps_of_the_message(spec, dims, mode, message):
    """A module that dies or replies what the contract forbids in the middle of a series
    (tests/adapters/series_module.py): the message's steps and times are named, and the
    adapter is unusable, as after any broken contract."""
    data = manifest_with({SS: "unused"}, 1.0, transport="process").model_dump()
    data["adapter"]["options"] = {"command": [sys.executable, str(SERIES_MODULE), mode]}
    with open_adapter(Manifest.model_validate(data), spec, dims) as adapter:
        assert adapter.hello.get("series") is True
        times = [0.5 * i for i in range(20)]
        with pytest.raises(AdapterError) as err:
            adapter.step_columns(SS, times, {"pack_current_A": [0.0] * 20})
        assert message in str(err.value)
        assert "steps 0 to 19 of the series (t = 0 to 9.5 s)" in str(err.value)
        assert adapter.broken is not None


def test_a_module_that_dies_in_a_message_says_its_last_words(spec, dims):
    with open_adapter(manifest_with({SS: ref("FailsWhenAsked")}, 1.0), spec, dims) as adapter:
        times, columns = _columns(adapter, 100, **{"60": {"exit": True}})
        with pytest.raises(AdapterError) as err:
            adapter.step_columns(SS, times, columns)
        assert "exited with status 7" in str(err.value)
        assert "fatal: asked to exit at t=6" in str(err.value)
        assert "steps 0 to 99 of the series" in str(err.value)


def test_a_series_of_large_steps_goes_in_fewer_steps_per_message(spec, dims, monkeypatch):
    """A message over SERIES_MAX_BYTES is not written: the steps go in halves (and the rest
    of the series in messages of that size), answering as before."""
    from conformance.adapters import process

    monkeypatch.setattr(process, "SERIES_MAX_BYTES", 3000)
    with open_adapter(manifest_with({SS: ref("FailsWhenAsked")}, 1.0), spec, dims) as adapter:
        times, columns = _columns(adapter, 40)
        sizes: list[int] = []
        real = wire.encode

        def spy(message):
            data = real(message)
            if isinstance(message, dict) and message.get("method") == "obsa.step_series":
                sizes.append(len(message["params"]["t"]) if len(data) <= 3000 else -1)
            return data

        monkeypatch.setattr(wire, "encode", spy)
        replies = adapter.step_columns(SS, times, columns)
        assert [r["charge_current_limit_A"] for r in replies] == list(range(40))
        sent = [n for n in sizes if n > 0]
        assert sum(sent) == 40 and max(sent) < 40 and -1 in sizes


@pytest.mark.parametrize("fault,message", [
    ({"raise": True}, "ValueError: asked to fail at t=5"),
    ({"reply": {"charge_current_limit_A": "ten"}}, "charge_current_limit_A"),
])
def test_a_bad_step_in_a_later_message_leaves_the_channel_in_step(spec, dims, monkeypatch,
                                                                   fault, message):
    """Messages of 20 steps: step 50 is in the third, and the fourth is on its way when the
    third's reply fails. The fault is named at step 50; the fourth's reply is read and
    dropped, so the next call gets its own reply; the series' outputs as columns fail
    alike."""
    from conformance.adapters import process

    monkeypatch.setattr(process, "SERIES_MAX_STEPS", 20)
    with open_adapter(manifest_with({SS: ref("FailsWhenAsked")}, 1.0), spec, dims) as adapter:
        times, columns = _columns(adapter, 200, **{"50": fault})
        if "reply" in fault:
            columns["reply"][50] = {**columns["reply"][49], **fault["reply"]}
        for call in (adapter.step_columns, adapter.step_outputs):
            with pytest.raises(AdapterError) as err:
                call(SS, times, columns)
            assert message in str(err.value) and err.value.call == "step"
            assert "at step 50 of the series (t = 5 s)" in str(err.value)
            assert adapter.broken is None
            reply = {**valid_reply(adapter._checks[SS]), "charge_current_limit_A": 7.5}
            assert adapter.step(SS, 30.0, {"reply": reply}) == reply


@pytest.mark.parametrize("overlap,order", [
    (True, ["send", "send", "check", "send", "check", "send", "check", "check"]),
    (False, ["send", "check"] * 4),
])
def test_the_next_message_goes_before_a_reply_is_checked(spec, dims, monkeypatch, overlap,
                                                          order):
    """The module steps a message while the bench checks the reply before it: each message
    but the first is sent as soon as the reply before it is in, before that reply is
    decoded; the first reply is decoded after the second message went. Without the overlap
    (a benchmark's anchor) each message waits for the check of the reply before it."""
    from conformance.adapters import process

    monkeypatch.setattr(process, "SERIES_MAX_STEPS", 10)
    with open_adapter(manifest_with({SS: ref("FailsWhenAsked")}, 1.0), spec, dims) as adapter:
        adapter.overlap_series = overlap
        times, columns = _columns(adapter, 35)
        events: list[str] = []
        send, result = adapter._send, adapter._result
        monkeypatch.setattr(adapter, "_send", lambda *a: (events.append("send"), send(*a))[1])
        monkeypatch.setattr(adapter, "_result",
                            lambda *a: (events.append("check"), result(*a))[1])
        replies = adapter.step_columns(SS, times, columns)
        assert [r["charge_current_limit_A"] for r in replies] == list(range(35))
        assert events == order
