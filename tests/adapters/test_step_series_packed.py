"""obsa.step_series with packed arrays (hello ``"packed": true``): the times, the inputs and
the outputs travel as little-endian arrays in hex, and every value is checked as strictly as
a reply of one step — a bad value is named at its step and time, a malformed array at the
steps of its message; a module that does not offer it keeps the plain form."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from conformance.adapters import AdapterError, open_adapter, wire
from conformance.adapters.serve import Server, packed_outputs
from conformance.adapters.validation import FieldRule, RecordCheck
from conformance.manifest.model import Manifest

from .conftest import manifest_with, ref

SS = "safety_supervisor"
PACKED_MODULE = Path(__file__).with_name("packed_module.py")
SERIES_MODULE = Path(__file__).with_name("series_module.py")


def _module(script: Path, mode: str) -> Manifest:
    data = manifest_with({SS: "unused"}, 1.0, transport="process").model_dump()
    data["adapter"]["options"] = {"command": [sys.executable, str(script), mode]}
    return Manifest.model_validate(data)


def _encodings(monkeypatch) -> list[str | None]:
    """The encoding of every obsa.step_series request the bench writes from now on."""
    seen: list[str | None] = []
    real = wire.encode

    def spy(message):
        if isinstance(message, dict) and message.get("method") == "obsa.step_series":
            seen.append(message["params"].get("encoding"))
        return real(message)

    monkeypatch.setattr(wire, "encode", spy)
    return seen


TIMES = [0.5 * i for i in range(20)]
CURRENT = np.linspace(0.0, 9.5, 20)


@pytest.mark.parametrize("mode", ["ok", "list"])
def test_a_packed_series_answers_as_one_step_at_a_time(spec, dims, mode, monkeypatch):
    """A module that offers packed arrays gets them (and may answer with them or with the
    list of records); the records are those of one step at a time."""
    with open_adapter(_module(PACKED_MODULE, mode), spec, dims) as adapter:
        assert adapter.hello["packed"] is True
        one_by_one = [adapter.step(SS, t, {"pack_current_A": float(i)})
                      for t, i in zip(TIMES, CURRENT, strict=True)]
        sent = _encodings(monkeypatch)
        assert adapter.step_columns(SS, TIMES, {"pack_current_A": CURRENT}) == one_by_one
        assert sent == ["packed"]


@pytest.mark.parametrize("script,mode", [(PACKED_MODULE, "ok"), (PACKED_MODULE, "list"),
                                         (SERIES_MODULE, "ok")])
def test_step_outputs_are_the_columns_of_the_records(spec, dims, script, mode, monkeypatch):
    """step_outputs (a replay's call) gives each output's values as one float column, the
    same as the records of step_columns, over several messages; a bad value is named at its
    step and time as step_columns names it."""
    with monkeypatch.context() as patch, open_adapter(_module(script, mode), spec,
                                                      dims) as adapter:
        patch.setattr("conformance.adapters.process.SERIES_MAX_STEPS", 7)  # 3 messages
        records = adapter.step_columns(SS, TIMES, {"pack_current_A": CURRENT})
        columns = adapter.step_outputs(SS, TIMES, {"pack_current_A": CURRENT})
        assert list(columns) == list(records[0])
        for name, column in columns.items():
            assert column.dtype == np.float64 and column.shape == (len(TIMES),)
            assert column.tolist() == [float(r[name]) for r in records]
        assert adapter.step_outputs(SS, [], {"pack_current_A": CURRENT[:0]}) == {}
    if script is PACKED_MODULE:
        with open_adapter(_module(script, "nan"), spec, dims) as adapter, \
                pytest.raises(AdapterError) as err:
            adapter.step_outputs(SS, TIMES, {"pack_current_A": CURRENT})
        assert "at step 7 of the series (t = 3.5 s): expected a finite number" in str(err.value)


def test_a_module_without_packed_arrays_gets_the_plain_form(spec, dims, monkeypatch):
    with open_adapter(_module(SERIES_MODULE, "ok"), spec, dims) as adapter:
        assert adapter.hello["series"] is True and "packed" not in adapter.hello
        sent = _encodings(monkeypatch)
        replies = adapter.step_columns(SS, TIMES, {"pack_current_A": CURRENT})
        assert [r["charge_current_limit_A"] for r in replies] == TIMES
        assert sent == [None]


@pytest.mark.parametrize("mode,field,message", [
    ("nan", "charge_current_limit_A", "at step 7 of the series (t = 3.5 s): expected a "
                                      "finite number in [0, 2000], found nan"),
    ("enum", "safety_state", "at step 3 of the series (t = 1.5 s): expected one of 0, 1, 2, 3, 4, "
                             "found 99"),
])
def test_a_bad_packed_value_is_named_at_its_step_and_time(spec, dims, mode, field, message):
    with open_adapter(_module(PACKED_MODULE, mode), spec, dims) as adapter:
        with pytest.raises(AdapterError) as err:
            adapter.step_columns(SS, TIMES, {"pack_current_A": CURRENT})
        assert err.value.field == field and err.value.call == "step"
        assert message in str(err.value)
        assert adapter.broken is None  # an invalid reply, as one step at a time
        assert adapter.step(SS, 1.0, {"pack_current_A": 2.0})["charge_current_limit_A"] == 1.0


def test_an_input_out_of_range_comes_back_as_a_bad_output_at_its_step(spec, dims):
    """The echoed current is an output whose range starts at 0: -1 A at step 12 (t = 6 s)."""
    current = CURRENT.copy()
    current[12] = -1.0
    with open_adapter(_module(PACKED_MODULE, "ok"), spec, dims) as adapter:
        with pytest.raises(AdapterError) as err:
            adapter.step_columns(SS, TIMES, {"pack_current_A": current})
        assert err.value.field == "discharge_current_limit_A"
        assert "at step 12 of the series (t = 6 s)" in str(err.value)
        assert "found -1.0" in str(err.value)


@pytest.mark.parametrize("mode,field,message", [
    ("dtype", "charge_current_limit_A", "expected dtype 'f8', found 'i8'"),
    ("shape", "safety_state", "expected shape [20], found [19]"),
    ("bytes", "discharge_current_limit_A", "expected 160 bytes of data (320 hex digits) for "
                                           "shape [20] of f8, found 304 digits"),
    ("bool", "contactor_open_request", "a b1 item is a byte 0 or 1, found 2 at flat index 4"),
    ("missing", "safety_fault_flags", "missing output(s): safety_fault_flags"),
])
def test_a_malformed_packed_reply_is_named_at_the_steps_of_its_message(spec, dims, mode, field,
                                                                      message):
    with open_adapter(_module(PACKED_MODULE, mode), spec, dims) as adapter:
        with pytest.raises(AdapterError) as err:
            adapter.step_columns(SS, TIMES, {"pack_current_A": CURRENT})
        assert err.value.field == field and message in str(err.value)
        assert "steps 0 to 19 of the series (t = 0 to 9.5 s)" in str(err.value)


def test_the_python_server_packs_only_what_is_one_kind(spec, dims):
    """A column of mixed kinds (an int among floats, a value that is no number) goes back as
    the list of records, which the bench checks one by one; a NaN in a packed column is
    caught all the same (tests/adapters/fakes.py: TurnsNaN, TurnsFloatFlags)."""
    good = {"x": 1.0, "v": np.array([1.0, 2.0]), "ok": True, "n": 3}
    columns = packed_outputs([good, {**good, "x": 2.5}])
    assert columns is not None and columns["v"]["shape"] == [2, 2]
    assert [columns[k]["dtype"] for k in ("x", "v", "ok", "n")] == ["f8", "f8", "b1", "i8"]
    for odd in ({"x": 2}, {"x": None}, {"v": np.array([1.0])}, {"v": [1.0, True]},
                {"ok": 1}, {"n": 3.0}):
        assert packed_outputs([good, {**good, **odd}]) is None, odd
    assert packed_outputs([good, {"x": 1.0}]) is None  # not the same outputs
    for fake, field in (("TurnsNaN", "charge_current_limit_A"),
                        ("TurnsFloatFlags", "safety_fault_flags")):
        with open_adapter(manifest_with({SS: ref(fake)}, 1.0), spec, dims) as adapter:
            with pytest.raises(AdapterError) as err:
                adapter.step_columns(SS, [0.01 * i for i in range(5)],
                                     {"pack_current_A": np.zeros(5)})
            assert err.value.field == field
            assert "at step 3 of the series (t = 0.03 s)" in str(err.value)


def test_a_malformed_packed_request_is_refused_naming_the_input():
    server = Server({}, {})
    server.array_signals = {"cell_voltage_V"}
    t = wire.pack(np.array([0.0, 1.0]))

    def ask(inputs, times=t):
        return server.handle(wire.encode(wire.request(1, "obsa.step_series", {
            "component": SS, "encoding": "packed", "t": times, "inputs": inputs})))

    reply = ask({"cell_voltage_V": wire.pack(np.zeros(2))})
    assert reply is not None and reply["error"]["code"] == wire.INVALID_PARAMS
    assert "input 'cell_voltage_V': expected shape [2, 'any'], found [2]" in \
        reply["error"]["message"]
    reply = ask({}, {"dtype": "f8", "shape": [2], "data": "not hex!" * 4})
    assert reply is not None and "'t': 'data' is not hex digits" in reply["error"]["message"]
    reply = ask({}, {"dtype": "f8", "shape": [2], "data": "00" * 15 + " 0"})
    assert reply is not None and "'t': 'data' is not hex digits" in reply["error"]["message"]


def test_packed_array_outputs_are_checked_value_by_value():
    """An array output (the estimators' per-cell values): a NaN in one cell of one step, a
    row of the wrong length, an item out of range — each found, the first step named."""
    check = RecordCheck("x", [FieldRule("v", "number", 0.0, 10.0, array=True, length=3),
                              FieldRule("s", "number", 0.0, None)])
    v = np.ones((5, 3))
    s = np.ones(5)
    columns, at, problem = check.columns({"v": wire.pack(v), "s": wire.pack(s)}, 5)
    assert columns is not None and at is None and problem is None
    np.testing.assert_array_equal(columns["v"], v)
    v[3, 1], s[4] = math.nan, -1.0
    _, at, problem = check.columns({"v": wire.pack(v), "s": wire.pack(s)}, 5)
    assert at == 3 and problem == ("v", "item [1]: expected a finite number in [0, 10], "
                                        "found nan")
    v[3, 1] = 11.0
    assert check.columns({"v": wire.pack(v), "s": wire.pack(s)}, 5)[1:] == \
        (3, ("v", "item [1]: expected a finite number in [0, 10], found 11.0"))
    v[3, 1] = 1.0
    assert check.columns({"v": wire.pack(v), "s": wire.pack(s)}, 5)[1:] == \
        (4, ("s", "expected a finite number in [0, inf], found -1.0"))
    _, at, problem = check.columns({"v": wire.pack(np.ones((5, 4))), "s": wire.pack(s)}, 5)
    assert at is None and problem is not None and "expected shape [5, 3]" in problem[1]


def test_pack_and_unpack_keep_every_value():
    """Each dtype there and back, NaN included; what i8 cannot hold is not packed (the bench
    then sends the plain form)."""
    for values in (np.array([[1.5, math.nan], [-0.0, 3e300]]), np.float32([3.9512, 2.5]),
                   np.array([True, False]), np.array([-(2 ** 63), 2 ** 63 - 1]),
                   np.array([7, 9], dtype=np.uint32), [0.1, 0.2]):
        packed = wire.pack(values)
        expected = np.asarray(values)
        back = wire.unpack(packed, (packed["dtype"],), expected.shape)
        np.testing.assert_array_equal(back, expected)
        assert not back.flags.writeable
    with pytest.raises(wire.PackedError):
        wire.pack(np.array([2 ** 64 - 1], dtype=np.uint64))
    with pytest.raises(wire.PackedError):
        wire.pack(np.array(["text"]))


@pytest.mark.parametrize(("value", "says"), [
    ({"dtype": "f8", "shape": [2, 2 ** 62], "data": "00" * 16}, "expected 73786976294838206464 "),
    ({"dtype": "f8", "shape": [2, True], "data": "00" * 16}, "expected shape"),
    ({"dtype": "f8", "shape": [2, -1], "data": ""}, "expected shape"),
    ({"dtype": "f8", "shape": [2, 1], "data": "zz" * 16}, "not hex digits"),
    ({"dtype": "f8", "shape": [2, 1], "data": "00" * 15 + " 0"}, "not hex digits"),
    ({"dtype": "f8", "shape": [2, 1]}, "expected a packed array"),
    ({"dtype": "f4", "shape": [2, 1], "data": "00" * 8}, "expected dtype 'f8'"),
], ids=["shape_overflowing_int64", "bool_length", "negative_length", "not_hex", "space",
        "no_data", "other_dtype"])
def test_a_malformed_packed_array_is_refused_saying_why(value: dict, says: str) -> None:
    with pytest.raises(wire.PackedError, match=says):
        wire.unpack(value, ("f8",), (2, -1))
