"""The process transport: a module in a child process over the wire contract.

``python`` serves the manifest's classes with conformance.adapters.serve; ``process``
starts any program (here tests/adapters/wire_module.py, written against the contract
alone). Every misbehaviour ends in an AdapterError naming component and call, and the
child's process group is gone after close().
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from conformance.adapters import AdapterError, open_adapter, wire
from conformance.adapters.process import ProcessAdapter, PythonProcessAdapter
from conformance.adapters.python import PythonAdapter
from conformance.manifest.model import Manifest
from conformance.paths import schemas_dir

from .conftest import manifest_with, ref
from .replies import valid_reply

SS = "safety_supervisor"
WIRE_MODULE = Path(__file__).with_name("wire_module.py")


def _open(spec, dims, cls: str, timeout_s: float | None = 0.5, **options):
    manifest = manifest_with({SS: ref(cls)}, timeout_s)
    if options:
        data = manifest.model_dump()
        data["adapter"]["options"] = options
        manifest = Manifest.model_validate(data)
    return open_adapter(manifest, spec, dims)


def _foreign(spec, dims, mode: str, timeout_s: float = 0.5):
    data = manifest_with({SS: "unused"}, timeout_s, transport="process").model_dump()
    data["adapter"]["options"] = {"command": [sys.executable, str(WIRE_MODULE), mode]}
    return open_adapter(Manifest.model_validate(data), spec, dims)


def _alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


# ---------------------------------------------------------------------------- the happy path
def test_python_module_runs_in_a_child_process(spec, dims):
    with _open(spec, dims, "Echo") as adapter:
        assert isinstance(adapter, ProcessAdapter) and adapter.proc is not None
        child = adapter.proc.pid
        assert child != os.getpid()
        adapter.configure(SS, {"cell_voltage_max_msl_V": 4.25})
        adapter.reset(SS)
        reply = valid_reply(adapter._checks[SS])
        assert adapter.step(SS, 0.01, {"reply": reply}) == reply
        assert adapter.hello["module"] == {"vendor": "Test", "name": "fake", "version": "0"}
        assert adapter.hello["components"] == [SS] and adapter.hello["batch"] is True
    assert not _alive(child)


def test_a_module_written_against_the_contract_alone(spec, dims):
    with _foreign(spec, dims, "ok") as adapter:
        adapter.configure(SS, {})
        adapter.reset(SS)
        out = adapter.step(SS, 0.0, {"cell_voltage_V": [3.7, math.nan]})
        assert out["contactor_open_request"] is False
        assert adapter.hello["batch"] is False if "batch" in adapter.hello else True
        pool = {name: 0.0 for name in adapter._chain_inputs[SS]}
        adapter.step_chain(0.01, [SS], pool)  # no obsa.step: one call per component
        assert pool["safety_state"] == 0


def test_batched_step_chains_components_through_the_pool(spec, dims):
    """An earlier component's outputs of the same instant reach a later one, as in process."""
    manifest = manifest_with({SS: ref("AlwaysRequestsOpen"),
                              "contactor_manager": ref("SeesOpenRequest")})
    with open_adapter(manifest, spec, dims) as adapter:
        pool: dict = {name: False for c in adapter.components
                      for name in adapter._chain_inputs[c]}
        pool.update(cell_voltage_V=[3.7] * 4, cell_voltage_valid=[True] * 4)
        adapter.step_chain(0.0, [SS, "contactor_manager"], pool)
        assert pool["contactor_open_request"] is True
        assert pool["precharge_attempts"] == 1  # contactor_manager saw the request


def test_an_invalid_reply_is_blamed_before_the_component_that_choked_on_it(spec, dims):
    """In one obsa.step the contactor manager fails on the supervisor's garbage: the fault
    reported is the supervisor's reply, as when stepping one component at a time."""
    manifest = manifest_with({SS: ref("RequestsOpenAsText"),
                              "contactor_manager": ref("SeesOpenRequest")})
    with open_adapter(manifest, spec, dims) as adapter:
        pool: dict = {name: False for c in adapter.components
                      for name in adapter._chain_inputs[c]}
        with pytest.raises(AdapterError) as err:
            adapter.step_chain(0.0, [SS, "contactor_manager"], pool)
    e = err.value
    assert (e.component, e.field) == (SS, "contactor_open_request"), str(e)
    assert "expected a bool, found 'yes'" in e.message


def test_inputs_are_copies_arrays_read_only_and_nan_travels_as_null(spec, dims):
    with _open(spec, dims, "DescribesInputs") as adapter:
        cells = np.array([3.7, math.nan, 3.8])
        cells.flags.writeable = False
        inputs = {name: 0.0 for name in adapter._chain_inputs[SS]}
        inputs.update(cell_voltage_V=cells, pack_current_A=math.inf,
                      cell_voltage_valid=np.array([True, False, True]))
        pool = dict(inputs)
        adapter.step_chain(0.0, [SS], pool)
    seen = adapter.stderr_text()
    assert "cell_voltage_V ndarray float64 writeable=False [3.7, nan, 3.8]" in seen
    assert "pack_current_A float nan" in seen
    assert "cell_voltage_valid ndarray bool writeable=False" in seen
    assert "cell_voltage_V cannot be made writeable" in seen
    assert not cells.flags.writeable and math.isnan(cells[1])  # ours untouched


def test_unchanged_inputs_are_not_resent(spec, dims):
    with _open(spec, dims, "DescribesInputs") as adapter:
        cells = np.array([3.7, 3.8])
        cells.flags.writeable = False
        pool = {name: 0.0 for name in adapter._chain_inputs[SS]}
        pool["cell_voltage_V"] = cells
        sent: list[dict] = []
        real = adapter._exchange

        def spy(method, params, *args):
            if method == "obsa.step":
                sent.append(params["inputs"])
            return real(method, params, *args)

        adapter._exchange = spy
        adapter.step_chain(0.0, [SS], pool)
        adapter.step_chain(0.01, [SS], pool)  # the module saw the same values again
        fresh = np.array([3.9, 3.8])  # writable: it could change behind its identity
        pool["cell_voltage_V"] = fresh
        adapter.step_chain(0.02, [SS], pool)
        adapter.step_chain(0.03, [SS], pool)
    assert "cell_voltage_V" in sent[0] and "cell_voltage_V" not in sent[1]
    assert "cell_voltage_V" in sent[2] and "cell_voltage_V" in sent[3]
    seen = adapter.stderr_text()
    assert seen.count("cell_voltage_V ndarray float64 writeable=False [3.7, 3.8]") == 2
    assert seen.count("cell_voltage_V ndarray float64 writeable=False [3.9, 3.8]") == 2


def test_a_read_only_array_is_encoded_once(spec, dims, monkeypatch):
    """A sensor snapshot the bench hands over again is written as it was encoded the
    first time; a new snapshot, or an array that could change, is encoded afresh."""
    encodings: list = []
    real = wire.encoded
    monkeypatch.setattr(wire, "encoded", lambda value: encodings.append(value) or real(value))
    with _open(spec, dims, "DescribesInputs") as adapter:
        inputs = {name: 0.0 for name in adapter._chain_inputs[SS]}
        for cells in ([3.7, math.nan], [3.6, 3.5]):
            snapshot = np.array(cells)
            snapshot.flags.writeable = False
            inputs["cell_voltage_V"] = snapshot
            adapter.step(SS, 0.0, inputs)
            adapter.step(SS, 0.01, inputs)
        assert len(encodings) == 2
        writable = np.array([3.9, 3.8])
        inputs["cell_voltage_V"] = writable
        adapter.step(SS, 0.02, inputs)
        writable[0] = 4.0
        adapter.step(SS, 0.03, inputs)
        assert len(encodings) == 2
    seen = adapter.stderr_text()
    assert seen.count("cell_voltage_V ndarray float64 writeable=False [3.7, nan]") == 2
    assert seen.count("cell_voltage_V ndarray float64 writeable=False [3.6, 3.5]") == 2
    assert "[3.9, 3.8]" in seen and "[4.0, 3.8]" in seen


@pytest.mark.parametrize("cls,field,found", [
    ("TurnsNaN", "charge_current_limit_A", "null"),
    ("TurnsFloatFlags", "safety_fault_flags", "0.0"),
    ("TurnsText", "contactor_open_request", "'no'"),
])
def test_a_reply_is_caught_the_step_it_turns_bad(spec, dims, cls, field, found):
    """An unchanged reply is not decoded or checked again (its bytes are the last valid
    reply's); the step its bytes change, it is checked and the fault named at once."""
    with _open(spec, dims, cls) as adapter:
        pool = {name: 0.0 for name in adapter._chain_inputs[SS]}
        for t in (0.0, 0.01, 0.02):
            adapter.step_chain(t, [SS], pool)
            assert pool["charge_current_limit_A"] == 10.0
        assert adapter._last is not None  # the shortcut was armed
        with pytest.raises(AdapterError) as err:
            adapter.step_chain(0.03, [SS], pool)
    assert err.value.field == field and found in err.value.message, str(err.value)


# ---------------------------------------------------------------------------- module failures
@pytest.mark.parametrize("cls,raised", [
    ("Raises", "ValueError: cell index 97 out of range"),
    ("Exits", "SystemExit: 3"),
    ("Interrupts", "KeyboardInterrupt"),
    ("RaisesBaseException", "Meltdown: core breach"),
])
def test_any_exception_of_the_module_is_its_error(spec, dims, cls, raised):
    with _open(spec, dims, cls) as adapter:
        with pytest.raises(AdapterError) as err:
            adapter.step(SS, 0.0, {})
        assert (err.value.component, err.value.call) == (SS, "step")
        assert raised in err.value.message and "fakes.py:" in err.value.message
        assert adapter.broken is None  # the process is fine: the next test case may run


@pytest.mark.parametrize("cls,how", [
    ("ExitsHard", "exited with status 0"),
    ("KillsItself", "was killed by SIGTERM"),
])
def test_the_child_dying_breaks_the_adapter(spec, dims, cls, how):
    with _open(spec, dims, cls) as adapter:
        with pytest.raises(AdapterError) as err:
            adapter.step(SS, 0.0, {})
        assert how in err.value.message and err.value.call == "step"
        assert adapter.broken is not None
        with pytest.raises(AdapterError, match="unusable after an earlier failure"):
            adapter.reset(SS)


@pytest.mark.parametrize("cls", ["Spins", "IgnoresAlarm"])
def test_a_hang_is_killed_by_the_watchdog(spec, dims, cls):
    with _open(spec, dims, cls, timeout_s=0.2) as adapter:
        child = adapter.proc.pid
        start = time.perf_counter()
        with pytest.raises(AdapterError) as err:
            adapter.step(SS, 0.0, {"reply": valid_reply(adapter._checks[SS])})
        assert time.perf_counter() - start < 1.5
        assert "no reply within the timeout of 0.2 s" in err.value.message
        assert adapter.broken is not None
    assert not _alive(child)


@pytest.mark.parametrize("cls,message", [
    ("BrokenInit", "OSError: license dongle not found"),
    ("NoStep", "has no method step()"),
])
def test_start_up_errors_name_the_component(spec, dims, cls, message):
    with pytest.raises(AdapterError) as err:
        _open(spec, dims, cls)
    assert err.value.call == "import" and message in err.value.message


def test_a_hang_at_start_up_is_killed(spec, dims):
    start = time.perf_counter()
    with pytest.raises(AdapterError) as err:
        _open(spec, dims, "HangsInInit", startup_timeout_s=1.0)
    assert time.perf_counter() - start < 4
    assert "start-up" in str(err.value) or "no reply within" in err.value.message


def test_prints_of_the_module_never_reach_the_protocol(spec, dims):
    with _open(spec, dims, "PrintsFakeReplies") as adapter:
        reply = valid_reply(adapter._checks[SS])
        assert adapter.step(SS, 0.0, {"reply": reply}) == reply
        assert adapter.step(SS, 0.01, {"reply": reply}) == reply
    assert '"jsonrpc": "2.0"' in adapter.stderr_text()


@pytest.mark.parametrize("mode,message", [
    ("wrong_id", "expected the JSON-RPC 2.0 reply to request"),
    ("garbage", "a line that is not JSON"),
    ("exit", "exited with status 7"),
])
def test_a_module_breaking_the_contract(spec, dims, mode, message):
    with _foreign(spec, dims, mode) as adapter:
        with pytest.raises(AdapterError) as err:
            adapter.step(SS, 0.0, {})
        assert message in err.value.message and adapter.broken is not None


def test_a_reply_without_line_end_times_out(spec, dims):
    with _foreign(spec, dims, "no_newline", timeout_s=0.3) as adapter, \
            pytest.raises(AdapterError, match="no reply within"):
        adapter.step(SS, 0.0, {})


@pytest.mark.parametrize("mode,message", [
    ("old_protocol", "expected protocol '1.0', found '0.9'"),
    ("no_component", "does not implement safety_supervisor"),
    ("no_module", "does not match schemas/wire/response.schema.json (hello_result): the "
                  "message: 'module' is a required property"),
])
def test_hello_is_checked(spec, dims, mode, message):
    with pytest.raises(AdapterError) as err:
        _foreign(spec, dims, mode)
    assert err.value.call == "import" and message in err.value.message


def test_hello_identity_must_match_the_manifest(spec, dims):
    data = manifest_with({SS: "unused"}, 0.5, transport="process").model_dump()
    data["module"]["name"] = "another module"
    data["adapter"]["options"] = {"command": [sys.executable, str(WIRE_MODULE), "ok"]}
    with pytest.raises(AdapterError, match="the manifest declares 'another module'"):
        open_adapter(Manifest.model_validate(data), spec, dims)


def test_missing_command_and_unstartable_program(spec, dims):
    data = manifest_with({SS: "unused"}, transport="process").model_dump()
    with pytest.raises(AdapterError, match="expected adapter.options.command"):
        open_adapter(Manifest.model_validate(data), spec, dims)
    data["adapter"]["options"] = {"command": "/no/such/program --serve"}
    with pytest.raises(AdapterError, match="cannot start /no/such/program"):
        open_adapter(Manifest.model_validate(data), spec, dims)


@pytest.mark.parametrize("transport", [PythonProcessAdapter, PythonAdapter])
@pytest.mark.parametrize("timeout_s", [1e-6, 0.01])
def test_a_timeout_below_the_floor_is_refused(spec, dims, timeout_s, transport):
    settings = {"type": "python", "timeout_s": timeout_s, "components": {SS: ref("Echo")}}
    with pytest.raises(AdapterError) as err:
        transport(settings, spec, [SS], dims)
    assert err.value.field == "adapter.timeout_s" and "at least 0.05 s" in err.value.message
    settings["timeout_s"] = 0.05
    transport(settings, spec, [SS], dims)  # the floor itself is accepted


# ---------------------------------------------------------------------------- the schemas
def test_traffic_matches_the_wire_schemas(spec, dims, monkeypatch):
    """Every request the bench sends and every reply the server gives, on a real run."""
    requests = json.loads((schemas_dir() / "wire" / "request.schema.json").read_text())
    responses = json.loads((schemas_dir() / "wire" / "response.schema.json").read_text())
    seen: list[tuple[str, dict]] = []
    real_encode = wire.encode

    def record_request(message):
        if "jsonrpc" in message:
            seen.append(("request", json.loads(real_encode(message))))
        return real_encode(message)

    monkeypatch.setattr(wire, "encode", record_request)
    manifest = manifest_with({SS: ref("AlwaysRequestsOpen"),
                              "contactor_manager": ref("SeesOpenRequest")})
    with open_adapter(manifest, spec, dims) as adapter:
        real_read = adapter._read_line

        def record_reply(*args):
            line = real_read(*args)
            seen.append(("reply", json.loads(line)))
            return line

        adapter._read_line = record_reply
        adapter.configure(SS, {"x": 1.5, "name": "nmc"})
        adapter.reset(SS)
        cells = np.array([[3.7, math.nan, 3.6, 3.6], [3.7, 3.7, 3.6, 3.6]], dtype=np.float32)
        assert len(adapter.step_columns(SS, np.array([0.0, 0.01]), {
            "cell_voltage_V": cells, "close_request": np.array([False, True])})) == 2
        pool = {n: 0.0 for c in adapter.components for n in adapter._chain_inputs[c]}
        pool.update(cell_voltage_V=np.array([3.7, math.nan]), close_request=True)
        adapter.step_chain(0.0, [SS, "contactor_manager"], pool)
        with pytest.raises(AdapterError):
            adapter.step("contactor_manager", 0.01, {})  # no inputs: a module error
    kinds = [k for k, _ in seen]
    assert kinds.count("request") == kinds.count("reply") + 1 == 6  # hello: read before
    for kind, message in seen:
        jsonschema.validate(message, requests if kind == "request" else responses)
    assert seen[-1][1]["error"]["code"] == wire.MODULE_ERROR
    assert seen[-3][1]["result"]["contactor_manager"]["precharge_attempts"] == 1
    step = next(m for k, m in seen if k == "request" and m["method"] == "obsa.step")
    assert step["params"]["inputs"]["cell_voltage_V"] == [3.7, None]  # NaN travels as null
    # the python server offers packed arrays: the series travels without text numbers
    series = next(m for k, m in seen if k == "request" and m["method"] == "obsa.step_series")
    params = series["params"]
    assert params["component"] == SS and params["encoding"] == "packed"
    assert wire.unpack(params["t"], ("f8",), (2,)).tolist() == [0.0, 0.01]
    volts = wire.unpack(params["inputs"]["cell_voltage_V"], ("f4",), (2, 4))
    np.testing.assert_array_equal(volts, cells)  # NaN travels as itself
    assert wire.unpack(params["inputs"]["close_request"], ("b1",), (2,)).tolist() == \
        [False, True]
    packed = next(m["result"] for k, m in seen if k == "reply" and isinstance(
        m.get("result"), dict) and "safety_state" in m["result"])
    assert set(packed) == set(adapter._checks[SS].rules)
    assert wire.unpack(packed["safety_state"], ("i8",), (2,)).shape == (2,)


def test_wire_schemas_reject_what_the_contract_forbids():
    for message in (
        {"jsonrpc": "2.0", "id": 1, "method": "obsa.step", "params": {"t": 0, "inputs": {}}},
        {"jsonrpc": "2.0", "id": 1, "method": "safety_supervisor.explode", "params": {}},
        {"jsonrpc": "1.0", "id": 1, "method": "obsa.hello", "params": {}},
    ):
        assert wire.problem(message, "request") is not None, message
    assert wire.problem({"jsonrpc": "2.0", "id": 1, "result": 1, "error": {"code": 1,
                                                                          "message": ""}},
                        "response") is not None
    assert wire.problem({"protocol": "1.0"}, "response", "hello_result") is not None
    assert wire.problem({"a": {"x": None}}, "response", "batch_step_result") is not None
    assert wire.problem({"a": {"x": [1.0, True]}}, "response", "batch_step_result") is None
    series = {"component": "soc_estimator", "t": [0.0, 0.1],
              "inputs": {"pack_current_A": [1.0, None]}}
    assert wire.problem({"jsonrpc": "2.0", "id": 1, "method": "obsa.step_series",
                         "params": series}, "request") is None
    for broken in ({**series, "t": []}, {**series, "inputs": {"pack_current_A": 1.0}},
                   {"t": [0.0], "inputs": {}}):
        assert wire.problem({"jsonrpc": "2.0", "id": 1, "method": "obsa.step_series",
                             "params": broken}, "request") is not None, broken
    assert wire.problem([{"x": 1.0}, {"x": [True]}], "response", "series_result") is None
    assert wire.problem([{"x": None}], "response", "series_result") is not None


def test_the_encoder_writes_every_array_the_bench_may_hold_as_the_standard_library_does():
    """Every array and scalar the bench may hold, C-contiguous or not (a column of a
    vector's samples): float32 values with the digits that read back as the same float32
    whatever the array's layout, NaN and inf as null, the rest as the standard library."""
    samples = np.array([[3.7, math.nan, 0.1], [3.6, math.inf, 0.2]], dtype=np.float32)
    message = {"column": samples[:, 0], "row": samples[0], "half": np.float16(1.5),
               "flags": np.array([True, False])[::-1], "count": np.int64(3), "t": math.nan,
               "wide": np.array([[1 / 3, 2.0]])[:, 0]}
    assert not message["column"].flags.c_contiguous
    decoded = json.loads(wire.encode(message))
    assert decoded == {"column": [3.7, 3.6], "row": [3.7, None, 0.1], "half": 1.5,
                       "flags": [False, True], "count": 3, "t": None, "wide": [1 / 3]}
    assert np.array_equal(np.float32(decoded["column"]), samples[:, 0])
    assert json.loads(wire.encode({"set": {1}})) == {"set": "{1}"}  # anything else: its text
