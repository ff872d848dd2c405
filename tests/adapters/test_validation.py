"""Reply validation: every kind of bad reply names its field; valid replies pass fast;
the compiled checks agree with jsonschema on random replies."""

from __future__ import annotations

import copy
import math
import random
import time

import jsonschema
import numpy as np
import pytest

from conformance.adapters import AdapterError
from conformance.adapters.validation import (
    INT_TYPES,
    compile_outputs,
    compile_schema,
    outputs_schema,
)

from .replies import valid_reply

SS = "safety_supervisor"
DIAG = "diagnostics"


@pytest.fixture(scope="module")
def ss(spec, dims):
    return compile_outputs(spec, SS, dims)


@pytest.fixture(scope="module")
def diag(spec, dims):
    return compile_outputs(spec, DIAG, dims)


def _field_of(check, reply):
    with pytest.raises(AdapterError) as err:
        check(reply)
    assert err.value.call == "step" and err.value.component == check.component
    return err.value


def _first(check, kind, enum=False, array=False):
    return next(n for n, r in check.rules.items()
                if r.kind == kind and (r.enum is not None) == enum and r.array == array)


def test_valid_reply_passes(ss, diag):
    ss(valid_reply(ss))
    diag(valid_reply(diag))


def test_not_a_dict(ss):
    for garbage in (None, [], "ok", 42, (("safety_state", 0),)):
        e = _field_of(ss, garbage)
        assert e.field is None and "expected a dict of the outputs" in e.message


def test_missing_field(ss):
    reply = valid_reply(ss)
    name = next(iter(reply))
    del reply[name]
    e = _field_of(ss, reply)
    assert e.field == name and "missing output" in e.message


def test_extra_field(ss):
    reply = valid_reply(ss) | {"bonus_V": 1.0}
    e = _field_of(ss, reply)
    assert e.field == "bonus_V" and "unexpected output" in e.message


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), np.float64("nan")])
def test_non_finite_number(ss, bad):
    name = _first(ss, "number")
    e = _field_of(ss, valid_reply(ss) | {name: bad})
    assert e.field == name and "expected a finite number" in e.message


def test_number_out_of_range(ss):
    name = _first(ss, "number")
    rule = ss.rules[name]
    e = _field_of(ss, valid_reply(ss) | {name: rule.maximum * 2 + 1})
    assert e.field == name and "found" in e.message


@pytest.mark.parametrize("kind,enum,bad", [
    ("boolean", False, 1),           # an int is not a bool
    ("boolean", False, "false"),
    ("integer", True, True),         # a bool is not an enum value
    ("integer", True, 99),           # not a value of the enum
    ("integer", True, 2.0),          # an integral float is not an integer
    ("integer", False, -1),          # flags below 0
    ("integer", False, 2**32),       # flags above 32 bits
    ("integer", False, False),       # bool vs int matters
    ("number", False, True),
    ("number", False, "4.2"),
    ("number", False, None),
])
def test_wrong_type_or_value(ss, kind, enum, bad):
    name = _first(ss, kind, enum)
    e = _field_of(ss, valid_reply(ss) | {name: bad})
    assert e.field == name and "expected" in e.message and "found" in e.message


def test_wrong_array_length(diag):
    name = _first(diag, "integer", enum=True, array=True)
    reply = valid_reply(diag)
    e = _field_of(diag, reply | {name: reply[name][:-1]})
    assert e.field == name and f"expected an array of {len(reply[name])} values" in e.message
    e = _field_of(diag, reply | {name: reply[name] + reply[name][:1]})
    assert e.field == name


def test_bad_array_item_is_located(diag):
    name = _first(diag, "number", array=True)
    reply = valid_reply(diag)
    items = list(reply[name])
    items[3] = float("nan")
    e = _field_of(diag, reply | {name: items})
    assert e.field == name and e.message.startswith("item [3]:")
    e = _field_of(diag, reply | {name: 5.0})
    assert e.field == name and "expected an array" in e.message


def test_an_array_seen_before_is_checked_again_when_it_changed(spec, dims):
    """A valid array met again costs an identity scan, but a list changed in place, a
    writeable array changed in place or reshaped, is caught the step it changes."""
    diag = compile_outputs(spec, DIAG, dims)
    name = _first(diag, "number", array=True)
    reply = valid_reply(diag)
    items = reply[name]
    diag(reply)
    diag(reply)  # the same list, the same items
    items[2] = float("nan")
    assert _field_of(diag, reply).message.startswith("item [2]:")
    items[2] = 1.0
    diag(reply)
    arr = np.zeros(len(items))
    diag(reply | {name: arr})
    arr[1] = math.inf
    assert _field_of(diag, reply | {name: arr}).field == name
    frozen = np.zeros(len(items))
    frozen.flags.writeable = False
    diag(reply | {name: frozen})
    diag(reply | {name: frozen})  # read-only, owns its data: valid again
    frozen.shape = (1, len(items))
    assert "1-d" in _field_of(diag, reply | {name: frozen}).message
    ints = _first(diag, "integer", enum=True, array=True)
    same = reply | {ints: [float(v) for v in reply[ints]]}  # equal values, not integers
    assert _field_of(diag, same).field == ints
    as_tuple = tuple(items)
    diag(reply | {name: as_tuple})
    diag(reply | {name: as_tuple})  # the very tuple again: valid without a scan
    bad = (*as_tuple[:2], math.nan, *as_tuple[3:])  # an equal-length tuple is scanned
    assert _field_of(diag, reply | {name: bad}).message.startswith("item [2]:")
    assert _field_of(diag, reply | {name: tuple(items[:-1])}).field == name


def test_a_bad_change_after_many_identical_good_replies_is_caught(spec, dims):
    """The arrays of a reply like the last valid one are valid again after one identity
    scan; any change the scan cannot vouch for is caught at its step, with the message of
    a check that never saw a reply before."""
    diag = compile_outputs(spec, DIAG, dims)
    reply = valid_reply(diag)
    ints = _first(diag, "integer", enum=True, array=True)
    numbers = _first(diag, "number", array=True)
    for _ in range(1000):
        diag(dict(reply))  # a new dict each step, the same lists, as a module does

    def caught(bad):
        fresh = compile_outputs(spec, DIAG, dims)
        expected = _field_of(fresh, bad)
        e = _field_of(diag, bad)
        assert (e.field, e.message) == (expected.field, expected.message)
        return e

    class Zero(int):
        pass

    lists = reply[ints], reply[numbers]
    same = diag._check.__globals__["SAME"]  # the compiled check's memory of the last lists
    for items, bad in ((lists[0], 0.0), (lists[0], False), (lists[1], math.nan),
                       (lists[1], True), (lists[1], math.inf), (lists[0], Zero(0)),
                       (lists[0], b"\0" * 8), (lists[1], -math.inf)):
        for _ in range(200):  # long enough for the shortcut to be in use again
            diag(dict(reply))
        assert same.last is not None
        kept = items[3]
        items[3] = bad  # changed in place, to an equal value of a wrong type or to garbage
        assert caught(reply).message.startswith("item [3]:")
        items[3] = np.int64(kept) if type(kept) is int else np.float64(kept)  # valid
        diag(reply)
        items[3] = b"\0" * 8  # the bytes of numpy's int64 0: not an integer
        assert caught(reply).message.startswith("item [3]:")
        items[3] = kept
        diag(reply)
    # the same items, shifted from one array to the next: each array's length counts
    same_items = [n for n, r in diag.rules.items() if r.array and r.kind == "integer"]
    a, b = same_items[:2]
    assert reply[a][0] is reply[b][0]  # (both start at 0: the items of the scan line up)
    shifted = reply | {a: reply[a] + reply[a][:1], b: reply[b][:-1]}
    assert caught(shifted).field == a
    diag(reply | {ints: list(reply[ints])})  # a new list of the very items: valid
    diag(reply | {numbers: [float(x) for x in reply[numbers]]})  # new equal floats: valid
    diag(reply)


def test_numpy_values_are_accepted_unchanged(ss, diag):
    reply = valid_reply(ss)
    for name, rule in ss.rules.items():
        if rule.kind == "number":
            reply[name] = np.float32(reply[name])
        elif rule.kind == "integer":
            reply[name] = np.int64(reply[name])
        else:
            reply[name] = np.bool_(reply[name])
    ss(reply)
    d = {name: np.asarray(v) for name, v in valid_reply(diag).items()}
    diag(d)
    name = _first(diag, "integer", enum=True, array=True)
    e = _field_of(diag, d | {name: d[name].astype(float)})  # a float array for an enum
    assert e.field == name and "dtype" in e.message
    e = _field_of(diag, d | {name: np.stack([d[name], d[name]])})
    assert e.field == name and "1-d" in e.message


def test_validation_is_fast_for_valid_replies(ss, capsys):
    reply = valid_reply(ss)
    n = 20000
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            ss(reply)
        best = min(best, (time.perf_counter() - start) / n)
    with capsys.disabled():
        print(f"\n  reply validation, {len(reply)}-field record: {best * 1e6:.2f} µs")
    assert best < 50e-6  # target < 10 µs; generous for loaded machines


# ---------------------------------------------------------------------------- equivalence
def _random_value(rng: random.Random, rule, length: int | None):
    pick = rng.random()
    if rule.array and pick < 0.85:
        n = length if rng.random() < 0.9 else rng.choice([0, 1, max(0, (length or 1) - 1)])
        return [_random_value(rng, _scalar(rule), None) for _ in range(n)]
    candidates = [True, False, 0, 1, 2, 3, 7, -1, 2**32 - 1, 2**32, 0.0, 0.5, 2.0, -0.5,
                  1e9, 1e10, 2000.0, 2000.5, -1.0, "x", None]
    if rule.enum:
        candidates += sorted(rule.enum)
    if rule.minimum is not None:
        candidates += [rule.minimum, rule.minimum - 1]
    if rule.maximum is not None:
        candidates += [rule.maximum, rule.maximum + 1]
    return rng.choice(candidates)


def _scalar(rule):
    from conformance.adapters.validation import FieldRule

    return FieldRule(rule.name, rule.kind, rule.minimum, rule.maximum, rule.enum)


def _json_schema_with_lengths(schema, dims):
    schema = copy.deepcopy(schema)
    for prop in schema["properties"].values():
        if prop.get("type") == "array" and prop.get("x-obsa-dimension") in dims:
            prop["minItems"] = prop["maxItems"] = dims[prop["x-obsa-dimension"]]
    return schema


def _deliberately_stricter(value) -> bool:
    """Values jsonschema accepts and the bench refuses (see validation.py)."""
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, float) and (v.is_integer() or not math.isfinite(v)) for v in values)


@pytest.mark.parametrize("component", ["safety_supervisor", "contactor_manager", "diagnostics",
                                       "cell_monitor"])
def test_compiled_checks_agree_with_jsonschema(spec, dims, component):
    schema = outputs_schema(spec, component)
    check = compile_schema(component, schema, dims)
    validator = jsonschema.Draft202012Validator(_json_schema_with_lengths(schema, dims))
    rng = random.Random(1234)
    base = valid_reply(check)
    agreed = disagreed = 0
    for _ in range(800):
        reply = dict(base)
        for name in rng.sample(list(reply), k=rng.randint(1, 2)):
            rule = check.rules[name]
            reply[name] = _random_value(rng, rule, rule.length)
        ours = check.explain(reply) is None
        theirs = validator.is_valid(reply)
        if ours == theirs:
            agreed += 1
            continue
        # we may only be stricter, and only for the documented reasons
        assert theirs and not ours, reply
        field, _ = check.explain(reply)
        assert _deliberately_stricter(reply[field]), (field, reply[field])
        disagreed += 1
        # and the fast path never accepts what the exact path refuses
    for _ in range(300):
        reply = dict(base)
        name = rng.choice(list(reply))
        reply[name] = _random_value(rng, check.rules[name], check.rules[name].length)
        fast_ok = True
        try:
            check(reply)
        except AdapterError:
            fast_ok = False
        assert fast_ok == (check.explain(reply) is None)
    assert agreed > 500


def test_int_types_cover_numpy_integers():
    assert {np.int32, np.int64, np.uint8} <= INT_TYPES


@pytest.mark.parametrize("component", ["diagnostics", "cell_monitor", "soc_estimator",
                                       "soh_estimator"])
def test_a_series_is_valid_at_once_only_when_every_reply_is(spec, dims, component):
    """The replies of a series checked together (RecordCheck.all_valid) are never found
    valid when one of them is not (whatever its step), and a series of valid replies as
    they come off the wire (fresh lists) is found valid at once."""
    check = compile_schema(component, outputs_schema(spec, component), dims)
    assert any(r.array for r in check.rules.values())
    rng = random.Random(99)
    base = valid_reply(check)

    def fresh(reply: dict) -> dict:  # as decoded from JSON: new lists, no numpy
        return {k: list(v) if isinstance(v, (list, tuple, np.ndarray)) else v
                for k, v in copy.deepcopy(reply).items()}

    assert check.all_valid([fresh(base) for _ in range(20)])
    rejected = 0
    for _ in range(400):
        series = [fresh(base) for _ in range(rng.randint(1, 6))]
        bad = series[rng.randrange(len(series))]
        name = rng.choice(list(bad))
        rule = check.rules[name]
        bad[name] = _random_value(rng, rule, rule.length)
        valid = all(check.explain(reply) is None for reply in series)
        if check.all_valid(series):
            assert valid, (name, bad[name])
        rejected += not valid
    series = [fresh(base) for _ in range(3)]
    del series[1][name]
    assert not check.all_valid(series)
    series[1][name] = series[0][name]
    series[1]["unexpected"] = 1.0
    del series[1][next(n for n in series[1] if n != "unexpected" and n != name)]
    assert not check.all_valid(series)
    assert rejected > 100
