"""Valid replies built from a compiled outputs check, so tests follow the spec as it grows."""

from __future__ import annotations

from typing import Any

from conformance.adapters.validation import FieldRule, RecordCheck


def value_of(rule: FieldRule) -> Any:
    if rule.kind == "boolean":
        scalar: Any = False
    elif rule.enum is not None:
        scalar = min(rule.enum)
    elif rule.kind == "integer":
        scalar = int(rule.minimum) if rule.minimum is not None else 0
    else:
        scalar = float(rule.minimum) if rule.minimum is not None else 0.0
    return [scalar] * (rule.length or 0) if rule.array else scalar


def valid_reply(check: RecordCheck) -> dict[str, Any]:
    return {name: value_of(rule) for name, rule in check.rules.items()}
