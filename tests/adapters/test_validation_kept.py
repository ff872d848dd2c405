"""Reply validation's shortcut for a module that keeps its arrays as tuples (as the
reference's fault memory does): the very tuples of the last valid reply are valid again at
the cost of an identity test each, and nothing else is let through by it."""

from __future__ import annotations

import math

import pytest

from conformance.adapters import AdapterError
from conformance.adapters.validation import compile_outputs

from .replies import valid_reply

DIAG = "diagnostics"


def _refused(check, reply) -> AdapterError:
    with pytest.raises(AdapterError) as err:
        check(reply)
    return err.value


def test_the_very_tuples_of_the_last_valid_reply_are_valid_again(spec, dims):
    check = compile_outputs(spec, DIAG, dims)
    kept = {name: tuple(value) for name, value in valid_reply(check).items()}
    assert all(rule.array for rule in check.rules.values())
    for _ in range(3):
        assert check.fast(dict(kept))  # certain at once
    name, rule = next((n, r) for n, r in check.rules.items() if r.kind == "number")
    bad = (math.nan, *kept[name][1:])
    assert _refused(check, kept | {name: bad}).field == name
    assert check.fast(dict(kept))  # the kept tuples, after a bad reply: still valid
    ints = next(n for n, r in check.rules.items() if r.kind == "integer")
    as_floats = tuple(float(v) for v in kept[ints])  # equal values, not integers
    assert _refused(check, kept | {ints: as_floats}).field == ints
    assert "unexpected output" in _refused(check, kept | {"extra": 1}).message
    del_one = dict(kept)
    del del_one[name]
    assert _refused(check, del_one).field == name


def test_a_list_or_a_subclass_of_tuple_is_never_vouched_for_by_identity(spec, dims):
    """Only exact tuples are kept: a tuple subclass with the same items, or a list that is
    then changed in place, is checked as it is at every step."""

    class Row(tuple):
        pass

    check = compile_outputs(spec, DIAG, dims)
    reply = {name: tuple(value) for name, value in valid_reply(check).items()}
    name = next(n for n, r in check.rules.items() if r.kind == "number")
    check(reply)
    subclassed = reply | {name: Row(reply[name])}
    check(subclassed)  # valid: the exact path decides
    assert not check.fast(subclassed)
    items = list(reply[name])
    as_list = reply | {name: items}
    check(as_list)
    check(as_list)
    items[0] = math.inf
    assert _refused(check, as_list).message.startswith("item [0]:")


def test_a_scalar_is_vouched_for_only_by_the_very_value_found_valid(spec, dims):
    """A scalar field's last valid value is valid again by identity; an equal value of
    another type, or a bad one after it, is still refused with its message."""
    check = compile_outputs(spec, "safety_supervisor", dims)
    reply = valid_reply(check)
    flags = next(n for n, r in check.rules.items() if r.kind == "integer" and r.enum is None)
    number = next(n for n, r in check.rules.items() if r.kind == "number")
    one = 1
    for _ in range(3):
        check(reply | {flags: one})
    assert _refused(check, reply | {flags: 1.0}).field == flags  # == 1, not an integer
    assert _refused(check, reply | {flags: True}).field == flags
    assert check.fast(reply | {flags: one})
    value = reply[number]
    assert _refused(check, reply | {number: math.nan}).field == number
    assert check.fast(reply | {number: value})
    assert "finite number" in _refused(check, reply | {number: math.inf}).message
