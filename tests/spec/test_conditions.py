"""The condition language of conditional requirements: parse, names, evaluate, errors."""

from __future__ import annotations

import itertools

import pytest

from conformance.spec.conditions import (
    And,
    ConditionError,
    Feature,
    Not,
    Or,
    evaluate,
    names,
    parse,
)


def test_a_single_feature() -> None:
    assert parse("weld_detection") == Feature("weld_detection")
    assert parse("  weld_detection  ") == Feature("weld_detection")


def test_not_binds_tighter_than_and_tighter_than_or() -> None:
    assert parse("a or b and not c") == Or((Feature("a"), And((Feature("b"), Not(Feature("c"))))))
    assert parse("not a and b") == And((Not(Feature("a")), Feature("b")))


def test_parentheses_group() -> None:
    assert parse("(a or b) and c") == And((Or((Feature("a"), Feature("b"))), Feature("c")))
    assert parse("not (a or b)") == Not(Or((Feature("a"), Feature("b"))))
    assert parse("((a))") == Feature("a")


def test_chains_are_flat() -> None:
    assert parse("a and b and c") == And((Feature("a"), Feature("b"), Feature("c")))
    assert parse("a or b or c") == Or((Feature("a"), Feature("b"), Feature("c")))
    assert parse("not not a") == Not(Not(Feature("a")))


def test_names() -> None:
    assert names("insulation_monitoring") == {"insulation_monitoring"}
    assert names("not (a or b) and (c or not a)") == {"a", "b", "c"}


@pytest.mark.parametrize(
    ("text", "truth"),
    [
        ("a", lambda a, b, c: a),
        ("not a", lambda a, b, c: not a),
        ("a and b", lambda a, b, c: a and b),
        ("a or b", lambda a, b, c: a or b),
        ("a or b and c", lambda a, b, c: a or (b and c)),
        ("(a or b) and c", lambda a, b, c: (a or b) and c),
        ("not a and b", lambda a, b, c: (not a) and b),
        ("not (a and b) or c", lambda a, b, c: (not (a and b)) or c),
    ],
)
def test_evaluate_matches_the_truth_table(text: str, truth) -> None:  # type: ignore[no-untyped-def]
    for a, b, c in itertools.product([False, True], repeat=3):
        declared = {n for n, on in zip("abc", (a, b, c), strict=True) if on}
        assert evaluate(text, declared) is bool(truth(a, b, c)), (text, declared)


def test_evaluate_ignores_features_the_condition_does_not_name() -> None:
    assert evaluate("weld_detection", {"weld_detection", "insulation_monitoring"})
    assert not evaluate("weld_detection", frozenset())


@pytest.mark.parametrize(
    ("text", "column", "expected", "found"),
    [
        ("", 1, "a feature id, 'not' or '('", "the end of the condition"),
        ("   ", 1, "a feature id, 'not' or '('", "the end of the condition"),
        ("a and", 6, "a feature id, 'not' or '('", "the end of the condition"),
        ("a or or b", 6, "a feature id, 'not' or '('", "the keyword 'or'"),
        ("and a", 1, "a feature id, 'not' or '('", "the keyword 'and'"),
        ("not", 4, "a feature id, 'not' or '('", "the end of the condition"),
        ("(a or b", 8, "')' to close the '(' at column 1", "the end of the condition"),
        ("a and (b", 9, "')' to close the '(' at column 7", "the end of the condition"),
        ("a)", 2, "'and', 'or' or the end of the condition", "')'"),
        ("a b", 3, "'and', 'or' or the end of the condition", "feature id 'b'"),
        ("a && b", 3, "'and', 'or' or the end of the condition", "'&'"),
        ("Weld", 1, "a lower_snake_case feature id", "feature id 'Weld'"),
        ("a AND b", 3, "'and', 'or' or the end of the condition", "feature id 'AND'"),
        ("()", 2, "a feature id, 'not' or '('", "')'"),
    ],
)
def test_errors_say_where_and_what_was_expected(
    text: str, column: int, expected: str, found: str
) -> None:
    with pytest.raises(ConditionError) as info:
        parse(text)
    err = info.value
    assert err.position == column - 1
    assert err.expected == expected and err.found == found
    assert f"at column {column}: expected {expected}, found {found}" in str(err)


def test_errors_propagate_from_names_and_evaluate() -> None:
    with pytest.raises(ConditionError):
        names("a and")
    with pytest.raises(ConditionError):
        evaluate("(a", {"a"})


def test_a_condition_error_is_a_value_error() -> None:
    assert issubclass(ConditionError, ValueError)


def test_no_python_is_evaluated() -> None:
    with pytest.raises(ConditionError):
        parse("__import__('os')")
