"""The in-process Python transport (``obsa certify --in-process``): loading, calls, module
exceptions, timeouts."""

from __future__ import annotations

import signal
import threading
import time
from importlib.metadata import EntryPoint

import pytest

from conformance.adapters import AdapterError, open_adapter
from conformance.adapters import python as python_transport

from .conftest import manifest_with, ref
from .replies import valid_reply

SS = "safety_supervisor"


def _open(spec, dims, cls: str, timeout_s: float | None = 0.2, component: str = SS):
    return open_adapter(manifest_with({component: ref(cls)}, timeout_s), spec, dims,
                        in_process=True)


def _reply(adapter, component: str = SS):
    return valid_reply(adapter._checks[component])


# ---------------------------------------------------------------------------- the happy path
def test_configure_reset_step_reach_the_module(spec, dims):
    with _open(spec, dims, "Echo") as adapter:
        adapter.configure(SS, {"cell_voltage_max_msl_V": 4.25})
        adapter.reset(SS)
        reply = _reply(adapter)
        assert adapter.step(SS, 0.01, {"reply": reply}) is reply  # nothing converted
        module = adapter._instances[SS]
        assert module.parameters == {"cell_voltage_max_msl_V": 4.25} and module.resets == 1
        assert adapter.timeout_mode.startswith("SIGALRM")
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_entry_point_name_is_resolved(spec, dims, monkeypatch):
    ep = EntryPoint(name="fake-echo", value=ref("Echo"), group="obsa.adapters")
    monkeypatch.setattr(python_transport, "entry_points",
                        lambda group: [ep] if group == "obsa.adapters" else [])
    with open_adapter(manifest_with({SS: "fake-echo"}), spec, dims, in_process=True) as adapter:
        adapter.step(SS, 0.0, {"reply": _reply(adapter)})


def test_closed_adapter_refuses_calls(spec, dims):
    adapter = _open(spec, dims, "Echo")
    adapter.close()
    with pytest.raises(AdapterError, match="not open"):
        adapter.step(SS, 0.0, {})


def test_unknown_component_call(spec, dims):
    with _open(spec, dims, "Echo") as adapter, pytest.raises(AdapterError) as err:
        adapter.step("contactor_manager", 0.0, {})
    assert "not a component of this adapter" in str(err.value)


# ---------------------------------------------------------------------------- import errors
@pytest.mark.parametrize("reference,field,message", [
    ("no_such_package_xyz.mod:Class", None, "cannot import module 'no_such_package_xyz.mod'"),
    ("MISSING", None, "has no attribute 'Missing'"),
    ("NoStep", "step", "has no method step()"),
    ("StepWithoutInputs", "step", "step(t, inputs)"),
    ("BrokenInit", None, "OSError: license dongle not found"),
    ("not_a_class", None, "expected a class"),
    ("no-such-entry-point", None, "expected 'package.module:Class' or an entry point"),
])
def test_import_errors(spec, dims, reference, field, message):
    if reference == "MISSING":
        reference = ref("Missing")
    elif ":" not in reference and reference[0].isupper() or reference == "not_a_class":
        reference = ref(reference)
    with pytest.raises(AdapterError) as err:
        open_adapter(manifest_with({SS: reference}), spec, dims, in_process=True)
    e = err.value
    assert e.call == "import" and e.component == SS and e.field == field
    assert message in e.message, str(e)


def test_import_error_names_the_raising_line(spec, dims, tmp_path, monkeypatch):
    (tmp_path / "badmod_for_adapter_test.py").write_text("x = 1\nraise ImportError('no libfoo')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(AdapterError) as err:
        open_adapter(manifest_with({SS: "badmod_for_adapter_test:Cls"}), spec, dims,
                     in_process=True)
    assert "badmod_for_adapter_test.py:2" in err.value.message


# ---------------------------------------------------------------------------- module exceptions
def test_exception_in_step_becomes_adapter_error(spec, dims):
    with _open(spec, dims, "Raises") as adapter:
        with pytest.raises(AdapterError) as err:
            adapter.step(SS, 0.0, {})
        e = err.value
        assert (e.component, e.call) == (SS, "step")
        assert "ValueError: cell index 97 out of range" in e.message
        assert "fakes.py:" in e.message and "in step" in e.message
        assert adapter.broken is None  # an exception is a verdict, not a broken adapter


def test_exception_in_reset_and_system_exit(spec, dims):
    with _open(spec, dims, "RaisesInReset") as adapter, pytest.raises(AdapterError) as err:
        adapter.reset(SS)
    assert err.value.call == "reset" and "RuntimeError: fault memory locked" in err.value.message
    with _open(spec, dims, "Exits") as adapter, pytest.raises(AdapterError) as err:
        adapter.step(SS, 0.0, {})
    assert "SystemExit" in err.value.message


# ---------------------------------------------------------------------------- timeouts
@pytest.mark.parametrize("cls", ["Spins", "Sleeps", "SwallowsEverything"])
def test_hang_ends_within_the_timeout_and_breaks_the_adapter(spec, dims, cls):
    with _open(spec, dims, cls, timeout_s=0.2) as adapter:
        start = time.perf_counter()
        with pytest.raises(AdapterError) as err:
            adapter.step(SS, 0.0, {"reply": _reply(adapter)})
        elapsed = time.perf_counter() - start
        assert 0.15 <= elapsed < 1.0, elapsed
        assert err.value.call == "step" and "no reply within the timeout of 0.2 s" in str(err.value)
        assert adapter.broken is not None
        start = time.perf_counter()
        with pytest.raises(AdapterError, match="unusable after an earlier failure"):
            adapter.step(SS, 0.01, {"reply": _reply(adapter)})
        assert time.perf_counter() - start < 0.05  # fails fast
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_hang_in_configure_times_out(spec, dims):
    with _open(spec, dims, "HangsInConfigure", timeout_s=0.2) as adapter:
        with pytest.raises(AdapterError) as err:
            adapter.configure(SS, {})
        assert err.value.call == "configure" and adapter.broken


def test_interruption_points_at_the_module_line(spec, dims):
    with _open(spec, dims, "Spins", timeout_s=0.2) as adapter, pytest.raises(AdapterError) as err:
        adapter.step(SS, 0.0, {})
    assert "interrupted at" in err.value.message and "fakes.py:" in err.value.message


def test_previous_sigalrm_handler_is_restored(spec, dims):
    def mine(signum, frame):  # pragma: no cover - never fires
        pass

    old = signal.signal(signal.SIGALRM, mine)
    try:
        with _open(spec, dims, "Echo"):
            assert signal.getsignal(signal.SIGALRM) is not mine
        assert signal.getsignal(signal.SIGALRM) is mine
    finally:
        signal.signal(signal.SIGALRM, old)


def test_a_running_foreign_timer_is_left_alone(spec, dims):
    old = signal.signal(signal.SIGALRM, lambda s, f: None)
    signal.setitimer(signal.ITIMER_REAL, 30.0)
    try:
        with _open(spec, dims, "Echo") as adapter:
            assert adapter.timeout_mode.startswith("none")
            adapter.step(SS, 0.0, {"reply": _reply(adapter)})
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 29.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_calls_from_another_thread_run_without_timeout(spec, dims):
    results: list = []
    with _open(spec, dims, "Echo") as adapter:
        reply = _reply(adapter)

        def worker() -> None:
            results.append(adapter.step(SS, 0.0, {"reply": reply}))

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(5)
    assert results == [reply]


def test_no_timeout_configured(spec, dims):
    with _open(spec, dims, "Echo", timeout_s=None) as adapter:
        assert adapter.timeout_mode == "none"
        adapter.step(SS, 0.0, {"reply": _reply(adapter)})


# ---------------------------------------------------------------------------- overhead
def test_overhead_per_call_is_a_few_microseconds(spec, dims, capsys):
    with _open(spec, dims, "Echo", timeout_s=1.0) as adapter:
        inputs = {"reply": _reply(adapter)}
        module = adapter._instances[SS]
        n = 20000

        def per_call(fn) -> float:
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                for _ in range(n):
                    fn()
                best = min(best, (time.perf_counter() - start) / n)
            return best

        direct = per_call(lambda: module.step(0.0, inputs))
        wrapped = per_call(lambda: adapter.step(SS, 0.0, inputs))
    overhead_us = (wrapped - direct) * 1e6
    with capsys.disabled():
        print(f"\n  python adapter overhead per step (timeout + validation, 7 fields): "
              f"{overhead_us:.2f} µs")
    assert overhead_us < 50  # a generous bound for loaded CI machines; typically ~2-3 µs


# ---------------------------------------------------------------------------- step_chain
class Replays:
    """Replies with a new dict of the reply its class holds (the test sets it)."""

    REPLY: dict = {}

    def configure(self, parameters: dict) -> None:
        pass

    def reset(self) -> None:
        pass

    def step(self, t: float, inputs: dict) -> dict:
        return dict(type(self).REPLY)


def test_a_chain_catches_a_bad_reply_after_many_good_ones(spec, dims):
    """step_chain's plan and inlined call: each reply checked at its step, with the message
    step() gives; a component not of the adapter refused before any is stepped."""
    with open_adapter(manifest_with({SS: f"{__name__}:Replays"}), spec, dims,
                      in_process=True) as adapter:
        good = Replays.REPLY = _reply(adapter)
        pool = {name: 0.0 for name in adapter._chain_inputs[SS]}
        for k in range(500):
            adapter.step_chain(k * 0.01, [SS], pool)
        assert all(pool[name] is value for name, value in good.items())
        field = next(n for n, r in adapter._checks[SS].rules.items() if r.kind == "number")
        Replays.REPLY = good | {field: float("nan")}
        with pytest.raises(AdapterError) as chained:
            adapter.step_chain(5.0, [SS], pool)
        with pytest.raises(AdapterError) as single:
            adapter.step(SS, 5.0, {})
        assert chained.value.field == field and str(chained.value) == str(single.value)
        assert pool[field] is good[field]  # a bad reply never reaches the pool
        with pytest.raises(AdapterError, match="not a component of this adapter"):
            adapter.step_chain(5.0, [SS, "diagnostics"], pool)
        del pool[adapter._chain_inputs[SS][0]]
        with pytest.raises(AdapterError, match="transport failed: KeyError"):
            adapter.step_chain(5.0, [SS], pool)


def test_a_hang_in_a_chain_times_out_and_breaks_the_adapter(spec, dims):
    with _open(spec, dims, "Spins", timeout_s=0.2) as adapter:
        pool = {name: 0.0 for name in adapter._chain_inputs[SS]}
        with pytest.raises(AdapterError) as err:
            adapter.step_chain(0.0, [SS], pool)
        assert err.value.call == "step" and "no reply within the timeout of 0.2 s" in str(err.value)
        assert adapter.broken is not None
        with pytest.raises(AdapterError, match="unusable after an earlier failure"):
            adapter.step_chain(0.01, [SS], pool)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
