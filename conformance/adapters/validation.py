"""Fast validation of every reply of ``step()`` against the component's outputs schema.

The closed loop calls ``step`` about three times per 10 ms of simulated time and must run
hundreds of times faster than real time, so a full JSON Schema validation per reply is
far too slow. Instead the outputs schema (``schemas/generated/<component>.outputs.
schema.json``, rendered from the spec by :mod:`conformance.spec.exporters.records`) is
compiled once into one function per record that checks every field inline. A valid
reply costs a dict lookup and a type and range test per field (an identity test when it
is the very value the field held when last found valid: numbers and bools are immutable);
array outputs that are
lists of the same plain values as the last valid reply's cost one serialisation of them
all (:class:`_SameLists`), arrays that are the very tuples of the last valid reply an
identity test each, an array whose items are the very objects of the last valid one (or the
same read-only numpy array) one identity scan. Only a reply that fails goes
through the slow, exact explanation, which
names the field, what was expected and what was found. The replies of a series of steps
(``obsa.step_series``) can be checked together first (:meth:`RecordCheck.all_valid`): each
array output's items of every step in one pass; where that does not prove every reply
valid, each is checked alone, and the first invalid one is the fault.

The checks accept exactly what the schema accepts, with two deliberate restrictions that
JSON Schema cannot express: NaN and ±inf are never numbers, and an integer field (int,
enum, flags) takes an integer, never an integral float like ``2.0`` (the bench does bit
arithmetic on flags). numpy scalars and 1-d arrays are accepted as they are; nothing is
converted. tests/adapters/test_validation.py checks the equivalence on random replies.
"""

from __future__ import annotations

import marshal
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np

from ..frozen import frozen

if TYPE_CHECKING:
    from ..spec.loader import Spec

INT_TYPES = frozenset({int, np.int8, np.int16, np.int32, np.int64,
                       np.uint8, np.uint16, np.uint32, np.uint64})
NUMBER_TYPES = INT_TYPES | {float, np.float16, np.float32, np.float64}
BOOL_TYPES = frozenset({bool, np.bool_})
ARRAY_TYPES = (list, tuple)
_DTYPE_KINDS = {"number": "iuf", "integer": "iu", "boolean": "b"}
_TYPES = {"number": NUMBER_TYPES, "integer": INT_TYPES, "boolean": BOOL_TYPES}

Check = Callable[[Any], bool]
_NOTHING = object()  # what no reply holds


@dataclass(frozen=True)
class FieldRule:
    """What one output field must hold, distilled from its JSON Schema property."""

    name: str
    kind: str  # "number" | "integer" | "boolean"
    minimum: float | None = None
    maximum: float | None = None
    enum: frozenset[int] | None = None
    array: bool = False
    length: int | None = None  # array length, when known

    def describe(self) -> str:
        """'a finite number in [0, 2000]', 'one of 0, 1, 2', ... for messages."""
        if self.kind == "boolean":
            what = "a bool"
        elif self.enum is not None:
            what = f"one of {', '.join(str(v) for v in sorted(self.enum))}"
        else:
            what = "an integer" if self.kind == "integer" else "a finite number"
            if self.minimum is not None or self.maximum is not None:
                lo = "-inf" if self.minimum is None else f"{self.minimum:.10g}"
                hi = "inf" if self.maximum is None else f"{self.maximum:.10g}"
                what += f" in [{lo}, {hi}]"
        return what


def rule_of(name: str, prop: dict[str, Any], dimensions: dict[str, int]) -> FieldRule:
    """The rule of one property of an outputs schema."""
    array = prop.get("type") == "array"
    item = prop.get("items", {}) if array else prop
    length = None
    if array:
        length = dimensions.get(prop.get("x-obsa-dimension", ""), prop.get("minItems"))
    kind = item.get("type")
    if kind not in _TYPES:
        raise ValueError(f"outputs schema: property '{name}' has unsupported type {kind!r}")
    enum = frozenset(item["enum"]) if "enum" in item else None
    return FieldRule(name, kind, item.get("minimum"), item.get("maximum"), enum, array, length)


# --------------------------------------------------------------------------- fast checks
def _scalar_check(rule: FieldRule) -> Check:
    types = _TYPES[rule.kind]
    if rule.kind == "boolean":
        return lambda v: type(v) in types
    if rule.enum is not None:
        values = rule.enum
        return lambda v: type(v) in types and v in values
    lo = -math.inf if rule.minimum is None else rule.minimum
    hi = math.inf if rule.maximum is None else rule.maximum
    if rule.kind == "number" and (rule.minimum is None or rule.maximum is None):
        return lambda v: type(v) in types and lo <= v <= hi and v - v == 0  # finite
    return lambda v: type(v) in types and lo <= v <= hi  # NaN fails every comparison


def _array_check(rule: FieldRule) -> Check:
    types = _TYPES[rule.kind]
    kinds = _DTYPE_KINDS[rule.kind]
    n = rule.length
    shape = (n,)
    lo = -math.inf if rule.minimum is None else rule.minimum
    hi = math.inf if rule.maximum is None else rule.maximum
    values = rule.enum
    boolean = rule.kind == "boolean"
    number = rule.kind == "number"
    # the last valid value: a list whose items are the very objects of the last valid list
    # holds the same values of the same types; the very tuple validated last (kept as it
    # is: tuple(v) is v) and a read-only array that owns its data (or views read-only data)
    # hold the values they held. Each is valid again at no cost (the tuple and the array
    # without a scan).
    last: list[Any] = [None, ()]
    is_ = operator.is_

    def check(v: Any) -> bool:
        # Conservative: may reject a valid array (the exact slow path then decides), never
        # accepts an invalid one. min/max skip a NaN inside a list, so a float sum catches it.
        tv = type(v)
        if tv is np.ndarray:
            if (v.shape != shape if n is not None else v.ndim != 1) or v.dtype.kind not in kinds:
                return False
            if boolean:
                return True
            if v is last[0] and frozen(v):
                return True
            items = v.tolist()  # plain Python values: faster to scan than numpy reductions
        elif tv is not list and tv is not tuple or (n is not None and len(v) != n):
            return False
        else:
            seen = last[1]
            if v is seen:  # the very tuple validated last: immutable, of immutable items
                return True
            if len(seen) == len(v) and all(map(is_, v, seen)):
                return True
            if not set(map(type, v)) <= types:
                return False
            if boolean:
                last[1] = tuple(v)
                return True
            items = v
        if values is not None:
            ok = set(items) <= values
        elif not (lo <= min(items) and max(items) <= hi):
            return False
        elif number:
            total = sum(items)
            ok = total - total == 0
        else:
            ok = True
        if ok:
            if tv is np.ndarray:
                last[0] = v
            else:
                last[1] = tuple(v)
        return ok

    return check


def _series_array_check(rule: FieldRule) -> Check:
    """The values of one array output over many replies (a list of them), checked in one
    pass over all their items: True when each is certainly valid (a list of the rule's
    length of valid items), False to let the checks of the single replies decide."""
    types = _TYPES[rule.kind]
    n = rule.length
    lo = -math.inf if rule.minimum is None else rule.minimum
    hi = math.inf if rule.maximum is None else rule.maximum
    values = rule.enum
    boolean = rule.kind == "boolean"
    number = rule.kind == "number"

    def check(column: list[Any]) -> bool:
        if set(map(type, column)) != {list}:  # a JSON array decodes to a list
            return False
        if n is not None and set(map(len, column)) != {n}:
            return False
        items = list(chain.from_iterable(column))
        if not items or not set(map(type, items)) <= types:  # (empty: nothing to gain)
            return False
        if boolean:
            return True
        if values is not None:
            return set(items) <= values
        if not (lo <= min(items) and max(items) <= hi):
            return False
        if number:  # min/max skip a NaN: a sum catches it (an overflow only sends it slowly)
            total = sum(items)
            return bool(total - total == 0)
        return True

    return check


class _SameLists:
    """Whether a reply's arrays (a tuple of them) are, value for value and type for type,
    the lists of the last reply whose arrays were all valid lists of plain ``int``,
    ``float`` and ``bool`` (:meth:`valid` records them).

    Both are compared as their ``marshal`` serialisations (format 2, no references), which
    are equal only for equal structures: each list is written with its length, each item
    with a code of its exact type — int, float (its 8 bytes: -0.0, NaN and every value
    apart) or True/False — so a value changed in place, an integral float or a bool for an
    int, an array lengthened at the cost of the next are all told apart, in C. Anything
    else (a subclass, a numpy scalar, which marshal writes as bytes) is never equal to the
    record of plain values: it is checked the slow way. A module that keeps or rebuilds
    the same arrays pays one serialisation per reply instead of a scan per item."""

    __slots__ = ("last", "wait", "backoff")
    PLAIN = frozenset({int, float, bool})
    MAX_BACKOFF = 64

    def __init__(self) -> None:
        self.last: bytes | None = None
        # after a miss (the values changed), how many valid replies to let pass before the
        # next record, doubled at each miss in a row: arrays that change at every step
        # (measurements) cost one serialisation per MAX_BACKOFF steps, not two per step
        self.wait = self.backoff = 0

    def __call__(self, arrays: tuple[Any, ...]) -> bool:
        if self.last is None:  # (the last valid arrays were not all lists of plain values)
            return False
        try:
            if marshal.dumps(arrays, 2) == self.last:
                self.backoff = 0
                return True
        except Exception:  # an unmarshallable item (a subclass, an object): not the same
            pass
        self.last = None
        self.wait = self.backoff = min(max(1, 2 * self.backoff), self.MAX_BACKOFF)
        return False

    def valid(self, arrays: tuple[Any, ...]) -> None:
        """Record ``arrays``, just found valid, if they are lists of plain values."""
        if self.wait:
            self.wait -= 1
        elif (type(arrays[0]) is list and set(map(type, arrays)) == {list}
              and set(map(type, chain.from_iterable(arrays))) <= self.PLAIN):
            self.last = marshal.dumps(arrays, 2)


def _compile_record(rules: list[FieldRule], size: int | None = None) -> Callable[[Any], bool]:
    """One function that checks a whole record, each field inline (no call per scalar
    field): True when the reply is certainly valid, False to let the exact path decide.
    ``size``: the record's number of fields, when ``rules`` are only some of them.

    The array fields are checked last, all at once first: arrays that are the very tuples
    of the last valid reply are valid again at the cost of an identity test each; arrays
    that are the lists of the last valid reply again, or lists of the same values of the
    same exact types (:class:`_SameLists`), at the cost of one serialisation. Else each
    array is checked alone."""
    env: dict[str, Any] = {"SAME": _SameLists()}
    lines = ["def check(r):",
             f"    if type(r) is not dict or len(r) != {len(rules) if size is None else size}:",
             "        return False",
             "    try:"]
    arrays: list[str] = []
    for i, rule in enumerate(rules):
        if rule.array:
            env[f"A{i}"] = _array_check(rule)
            arrays.append(f"A{i}(r[{rule.name!r}])")
            continue
        lines += [f"        v = r[{rule.name!r}]",
                  f"        if v is not P[{i}]:"]  # else the very value found valid before
        env[f"T{i}"] = _TYPES[rule.kind]
        test = f"type(v) not in T{i}"
        if rule.kind == "boolean":
            pass
        elif rule.enum is not None:
            env[f"E{i}"] = rule.enum
            test += f" or v not in E{i}"
        else:
            lo = -math.inf if rule.minimum is None else rule.minimum
            hi = math.inf if rule.maximum is None else rule.maximum
            env[f"L{i}"], env[f"H{i}"] = lo, hi
            finite = (rule.kind == "number" and (rule.minimum is None or rule.maximum is None))
            test += (f" or not (L{i} <= v <= H{i} and v - v == 0)" if finite
                     else f" or not L{i} <= v <= H{i}")  # NaN fails every comparison
        lines += [f"            if {test}: return False",
                  f"            P[{i}] = v"]
    # P: per scalar field, the last value found valid (of an immutable type: valid again)
    env["P"] = [_NOTHING] * len(rules)
    if arrays:
        names = [rule.name for rule in rules if rule.array]
        # KEPT: the arrays of the last valid reply when each was a tuple (immutable, of
        # immutable items: the very tuples are valid again), else objects no reply holds
        env["KEPT"] = [_NOTHING] * len(names)
        kept = " and ".join(f"B[{j}] is KEPT[{j}]" for j in range(len(names)))
        tuples = " and ".join(f"type(B[{j}]) is tuple" for j in range(len(names)))
        lines += [f"        B = ({''.join(f'r[{n!r}], ' for n in names)})",
                  f"        if {kept}: return True",
                  "        if SAME(B): return True"]
        lines += [f"        if not {call}: return False" for call in arrays]
        lines += ["        SAME.valid(B)",
                  f"        KEPT[:] = B if {tuples} else NOTHING"]
        env["NOTHING"] = (_NOTHING,) * len(names)
    if not rules:  # only the size to check (a series' replies whose outputs are arrays)
        lines.append("        pass")
    lines += ["    except Exception:  # a missing key, an exotic value: decide slowly",
              "        return False",
              "    return True"]
    exec("\n".join(lines), env)  # noqa: S102 - source built above from the spec's rules
    check: Callable[[Any], bool] = env["check"]
    return check


# --------------------------------------------------------------------------- explanations
def _found(value: Any) -> str:
    if value is None:  # over the wire contract NaN and ±inf arrive as null
        return "null (no number: NaN and infinities travel as null)"
    if isinstance(value, (bool, np.bool_)):
        return f"{bool(value)} (a bool)"
    if type(value) in NUMBER_TYPES:
        return repr(value.item() if isinstance(value, np.generic) else value)
    text = repr(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def explain_value(rule: FieldRule, value: Any) -> str | None:
    """Exactly why ``value`` is not valid for ``rule``; None when it is valid."""
    if not rule.array:
        if _scalar_check(rule)(value):
            return None
        return f"expected {rule.describe()}, found {_found(value)}"
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            return f"expected a 1-d array, found an array of shape {value.shape}"
        if value.dtype.kind not in _DTYPE_KINDS[rule.kind]:
            return f"expected an array of {rule.kind}s, found dtype {value.dtype}"
        items = list(value)
    elif isinstance(value, ARRAY_TYPES):
        items = list(value)
    else:
        return f"expected an array of {rule.length or 'n'} values, found {_found(value)}"
    if rule.length is not None and len(items) != rule.length:
        return f"expected an array of {rule.length} values, found {len(items)}"
    scalar = FieldRule(rule.name, rule.kind, rule.minimum, rule.maximum, rule.enum)
    ok = _scalar_check(scalar)
    for i, item in enumerate(items):
        if not ok(item):
            return f"item [{i}]: expected {scalar.describe()}, found {_found(item)}"
    return None


# --------------------------------------------------------------------------- records
class RecordCheck:
    """Compiled check of one component's outputs record; call it with a reply."""

    __slots__ = ("component", "rules", "_names", "_check", "fast", "_scalars", "_columns")

    def __init__(self, component: str, rules: list[FieldRule]) -> None:
        self.component = component
        self.rules = {r.name: r for r in rules}
        self._names = frozenset(self.rules)
        self._check = _compile_record(rules)
        #: the compiled check alone: True when a reply is certainly valid, False when only
        #: the exact check (a call of this object) can tell — for a caller that calls
        #: it at every step, to skip this call's own cost when the reply is valid
        self.fast = self._check
        # a series' replies: the scalar fields of each reply (the arrays left out), then
        # each array output over all replies at once
        scalars = [r for r in rules if not r.array]
        self._scalars = _compile_record(scalars, len(rules)) if len(scalars) < len(rules) \
            else None
        self._columns = [(r.name, _series_array_check(r)) for r in rules if r.array]

    def all_valid(self, replies: Sequence[Any]) -> bool:
        """True when every reply of ``replies`` (the steps of a series) is certainly valid,
        found faster than one by one; False when that is not certain (then check each)."""
        scalars = self._scalars
        if scalars is None or not replies:  # no array outputs: nothing to gain
            return False
        if not all(map(scalars, replies)):  # the size and the scalar fields of each
            return False
        try:  # with the size right, every array output present means no other field
            return all(check([reply[name] for reply in replies])
                       for name, check in self._columns)
        except Exception:  # a missing output, an exotic value: decide one by one
            return False

    def columns(self, packed: Any, count: int) -> tuple[dict[str, Any] | None, int | None,
                                                        tuple[str | None, str] | None]:
        """The outputs of ``count`` steps of a series sent as packed arrays (``obsa.
        step_series`` with ``"encoding": "packed"``: output → its values, one per step, a
        row per step for an array output) as ``(columns, None, None)`` when every value is valid,
        checked as strictly as one reply at a time — the dtype of the output's kind (f8 for
        a number, i8 for an integer, b1 for a bool), the shape, every value finite, in range
        and in the enum — else ``(None, step, (field, message))``: the first invalid step
        and its first invalid output (a step of None: the message as a whole is malformed)."""
        from ..adapters import wire

        if type(packed) is not dict:
            return None, None, (None, f"expected an object of packed arrays, one per output "
                                f"({', '.join(self.rules)}), found {_found(packed)}")
        missing = [n for n in self.rules if n not in packed]
        if missing:
            return None, None, (missing[0], f"missing output(s): {', '.join(missing)}")
        extra = [str(k) for k in packed if k not in self._names]
        if extra:
            return None, None, (extra[0], f"unexpected output(s): {', '.join(extra)} "
                                          f"(expected only {', '.join(self.rules)})")
        columns: dict[str, Any] = {}
        first_bad = count
        for name, rule in self.rules.items():
            shape = (count, -1 if rule.length is None else rule.length) if rule.array \
                else (count,)
            try:
                column = wire.unpack(packed[name], (_PACKED_CODES[rule.kind],), shape)
            except wire.PackedError as exc:
                return None, None, (name, f"{exc} (a packed array of {rule.describe()} per step)")
            columns[name] = column
            bad = _bad_steps(rule, column)
            if bad.size and bad[0] < first_bad:
                first_bad = int(bad[0])
        if first_bad == count:
            return columns, None, None
        record = {name: column[first_bad].tolist() for name, column in columns.items()}
        return None, first_bad, self.explain(record) or (None, "an invalid value")

    def __call__(self, reply: Any) -> None:
        """Return when ``reply`` is valid; raise AdapterError(call='step') naming the field."""
        if self._check(reply):
            return
        problem = self.explain(reply)
        if problem is not None:
            from .base import AdapterError

            field, message = problem
            raise AdapterError(message, component=self.component, call="step", field=field)

    def explain(self, reply: Any) -> tuple[str | None, str] | None:
        """(field, message) of the first problem of ``reply``; None when it is valid."""
        if not isinstance(reply, dict):
            return None, (f"expected a dict of the outputs ({', '.join(self.rules)}), "
                          f"found {_found(reply)}")
        missing = [n for n in self.rules if n not in reply]
        if missing:
            return missing[0], f"missing output(s): {', '.join(missing)}"
        extra = [str(k) for k in reply if k not in self._names]
        if extra:
            return extra[0], (f"unexpected output(s): {', '.join(extra)} "
                              f"(expected only {', '.join(self.rules)})")
        for name, rule in self.rules.items():
            try:
                message = explain_value(rule, reply[name])
            except Exception as exc:  # the value broke a comparison: still the module's fault
                message = f"expected {rule.describe()}, found an unusable value ({exc})"
            if message is not None:
                return name, message
        return None


_PACKED_CODES = {"number": "f8", "integer": "i8", "boolean": "b1"}


def _bad_steps(rule: FieldRule, column: np.ndarray) -> np.ndarray:
    """The indices of the steps (rows) of a packed output whose value breaks ``rule``."""
    if rule.kind == "boolean":  # (wire.unpack has refused any byte but 0 and 1)
        return np.zeros(0, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(column) if rule.kind == "number" else np.zeros(column.shape, bool)
        if rule.minimum is not None:
            bad |= column < rule.minimum
        if rule.maximum is not None:
            bad |= column > rule.maximum
        if rule.enum is not None:
            bad |= ~np.isin(column, list(rule.enum))
    if column.ndim == 2:
        bad = bad.any(axis=1)
    return np.flatnonzero(bad)


def compile_schema(component: str, schema: dict[str, Any],
                   dimensions: dict[str, int]) -> RecordCheck:
    """Compile an outputs record schema (all properties required, no extras)."""
    props = schema.get("properties", {})
    return RecordCheck(component, [rule_of(n, p, dimensions) for n, p in props.items()])


def outputs_schema(spec: Spec, component: str) -> dict[str, Any]:
    """The outputs schema of ``component``, rendered from ``spec`` by the same exporter
    that writes ``schemas/generated/`` (so a custom spec directory is honoured)."""
    from ..spec.exporters.records import record_schemas

    return record_schemas(spec, spec.interfaces[component])["outputs"]


def compile_outputs(spec: Spec, component: str, dimensions: dict[str, int]) -> RecordCheck:
    """The compiled reply check of ``component`` for the given dimension lengths."""
    return compile_schema(component, outputs_schema(spec, component), dimensions)
