"""Semantic checks across spec files, and the ``obsa spec validate`` command.

The meta-schemas and the pydantic models check each file on its own; the rules here
relate files to each other (references, units, ranges, who produces which signal).
Each class of rule is one generator function in :data:`CHECKS`, yielding
:class:`~conformance.spec.source.Issue` objects located with :meth:`Spec.issue`, and
every message says what was expected and what was found.

Signal flow rule (see :func:`check_signal_flow`): every signal that is an output is
produced by exactly one component. A component input that no component produces must
come from outside the BMS, which the dictionary marks with the signal's ``source``:

* ``source: plant`` — the physical truth (by convention named ``true_*``) that only the
  hardware abstraction layer (the layer with the lowest ``order``) may read, and no
  component may output (the bench plant produces it);
* ``source: external`` — set by the vehicle, the charger, the operator or the network
  (commands such as ``close_request``); no component may output it either.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..paths import spec_dir
from . import conditions
from .can import CAN_CHECKS
from .loader import Spec, check_spec
from .models import Interface, Parameter, Range, Requirement, Signal
from .source import Issue, ReadError

Check = Callable[[Spec], Iterator[Issue]]


# ---------------------------------------------------------------------------- helpers
def _at(spec: Spec, obj: BaseModel, *subpath: str | int) -> str:
    file, line, _ = spec.where(obj, *subpath)
    return f"{file}:{line}" if line else file


def _unique(
    spec: Spec,
    items: Iterable[BaseModel],
    key: str,
    what: str,
    scope: str = "",
    show: Callable[[Any], str] = lambda v: f"'{v}'",
) -> Iterator[Issue]:
    """One issue per item whose ``key`` repeats an earlier item's, pointing at the first."""
    first: dict[Any, BaseModel] = {}
    for item in items:
        value = getattr(item, key)
        if value in first:
            yield spec.issue(
                item, (key,),
                f"expected a unique {what}{scope}, found {show(value)} again "
                f"(first at {_at(spec, first[value], key)})",
            )
        else:
            first[value] = item


def _interfaces(spec: Spec) -> list[Interface]:
    """Interfaces in the order the standard lists their files."""
    return list(spec.interfaces.values())


def _interface_of(spec: Spec, component: str) -> Interface | None:
    return spec.interfaces.get(component)


def _semver_key(version: str) -> tuple[Any, ...]:
    """Sort key that orders versions as semver 2.0 does (a pre-release sorts first)."""
    core, _, pre = version.partition("-")
    major, minor, patch = (int(p) for p in core.split("."))
    ids = pre.split(".") if pre else []
    pre_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in ids)
    return (major, minor, patch, 0 if pre else 1, pre_key)


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _fmt(x: float | int | bool | str | None) -> str:
    """A value as the YAML author wrote it: 2 not 2.0, strings quoted."""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return repr(x) if isinstance(x, str) else str(x)


# ---------------------------------------------------------------------------- unique ids
def check_unique_ids(spec: Spec) -> Iterator[Issue]:
    """Every id, name and number that other entries refer to is unique in its scope."""
    arch, dic, prof = spec.architecture, spec.dictionary, spec.profiles_file
    yield from _unique(spec, arch.layers, "id", "layer id")
    # the order is the layering: two layers at one order leave "which is lower" undefined
    yield from _unique(spec, arch.layers, "order", "layer order", show=str)
    yield from _unique(spec, arch.topology.nodes, "id", "topology node id")
    yield from _unique(spec, arch.components, "id", "component id")
    yield from _unique(spec, dic.units, "symbol", "unit symbol")
    yield from _unique(spec, dic.dimensions, "id", "dimension id")
    yield from _unique(spec, dic.enums, "id", "enum id")
    for enum in dic.enums:
        yield from _unique(spec, enum.values, "name", "value name", f" in enum '{enum.id}'")
        yield from _unique(spec, enum.values, "value", "value", f" in enum '{enum.id}'", str)
    yield from _unique(spec, dic.signals, "name", "signal name")
    yield from _unique(spec, prof.features, "id", "feature id")
    yield from _unique(spec, prof.profiles, "id", "profile id")
    for profile in prof.profiles:
        seen: dict[str, int] = {}
        for i, c in enumerate(profile.components):
            if c in seen:
                yield spec.issue(
                    profile, ("components", i),
                    f"expected each component once in profile '{profile.id}', found '{c}' again "
                    f"(first at components[{seen[c]}])",
                )
            seen.setdefault(c, i)
        nodes = [n.id for n in arch.topology.nodes]
        if profile.node is not None and profile.node not in nodes:
            yield spec.issue(profile, ("node",),
                             f"expected a node of architecture.yaml's topology "
                             f"({', '.join(nodes)}), found '{profile.node}'")
    yield from _unique(
        spec, (r for f in spec.requirement_files for r in f.requirements), "id", "requirement id"
    )
    for req in (r for f in spec.requirement_files for r in f.requirements):
        yield from _unique(spec, req.acceptance, "name", "criterion name", f" in {req.id}")
    for itf in _interfaces(spec):
        scope = f" in the interface of '{itf.component}'"
        yield from _unique(spec, itf.parameters, "name", "parameter name", scope)
        yield from _unique(spec, itf.inputs + itf.outputs, "signal", "port signal", scope)
        yield from _unique(spec, itf.fault_codes, "name", "fault code name", scope)
        yield from _unique(spec, itf.fault_codes, "bit", "fault code bit", scope, str)
        yield from _unique(spec, itf.limit_sets, "quantity", "limit set quantity", scope)
    yield from _unique(
        spec, (fc for itf in _interfaces(spec) for fc in itf.fault_codes), "dtc",
        "DTC number", " across all interfaces", lambda v: f"0x{v:04X}",
    )


# ---------------------------------------------------------------------------- references
def check_architecture_refs(spec: Spec) -> Iterator[Issue]:
    """Components sit on declared layers and nodes; links join declared nodes."""
    arch = spec.architecture
    layers = {layer.id for layer in arch.layers}
    nodes = {n.id for n in arch.topology.nodes}
    for comp in arch.components:
        if comp.layer not in layers:
            yield spec.issue(comp, ("layer",),
                             f"expected a layer id ({', '.join(sorted(layers))}), "
                             f"found '{comp.layer}'")
        if comp.node not in nodes:
            yield spec.issue(comp, ("node",),
                             f"expected a topology node id ({', '.join(sorted(nodes))}), "
                             f"found '{comp.node}'")
    for link in arch.topology.links:
        for end in ("source", "target"):
            value = getattr(link, end)
            if value not in nodes:
                yield spec.issue(link, (end,),
                                 f"expected a topology node id ({', '.join(sorted(nodes))}), "
                                 f"found '{value}'")


def check_interface_coverage(spec: Spec) -> Iterator[Issue]:
    """Every component has exactly one interface, and every interface a component."""
    for comp in spec.architecture.components:
        if comp.id not in spec.interfaces:
            yield spec.issue(comp, ("id",),
                             f"expected an interface file for component '{comp.id}' "
                             "(listed in standard.yaml files.interfaces), found none")
    for itf in _interfaces(spec):
        if itf.component not in spec.components:
            yield spec.issue(itf, ("component",), "expected a component id of architecture.yaml, "
                                                  f"found '{itf.component}'")


def check_signal_refs(spec: Spec) -> Iterator[Issue]:
    """Signals name declared enums, dimensions and fault-code owners; ports name signals."""
    enums, dims = spec.enums, {d.id for d in spec.dictionary.dimensions}
    for sig in spec.dictionary.signals:
        if sig.enum is not None and sig.enum not in enums:
            yield spec.issue(sig, ("enum",),
                             f"expected an enum id of the dictionary, found '{sig.enum}'")
        if sig.dimension is not None and sig.dimension not in dims:
            yield spec.issue(sig, ("dimension",),
                             f"expected a dimension id ({', '.join(sorted(dims))}), "
                             f"found '{sig.dimension}'")
        if sig.flags_of is not None:
            itf = _interface_of(spec, sig.flags_of)
            if sig.flags_of not in spec.components:
                yield spec.issue(sig, ("flags_of",),
                                 f"expected a component id, found '{sig.flags_of}'")
            elif itf is not None and not itf.fault_codes:
                yield spec.issue(sig, ("flags_of",),
                                 f"expected a component with fault codes, found '{sig.flags_of}' "
                                 "whose interface declares none")
    for itf in _interfaces(spec):
        for direction in ("inputs", "outputs"):
            for i, port in enumerate(getattr(itf, direction)):
                if port.signal not in spec.signals:
                    yield spec.issue(itf, (direction, i, "signal"),
                                     f"expected a signal of the dictionary, found '{port.signal}'")


def check_wire(spec: Spec) -> Iterator[Issue]:
    """A wire format carries outputs of its interface, each key once, each topic name once."""
    for itf in _interfaces(spec):
        wire = itf.wire
        if wire is None:
            continue
        outputs = {p.signal for p in itf.outputs}
        seen: set[str] = {wire.sequence.name, wire.timestamp.name}
        if wire.sequence.name == wire.timestamp.name:
            yield spec.issue(itf, ("wire", "timestamp", "name"),
                             f"expected a key other than the sequence's, found "
                             f"'{wire.timestamp.name}'")
        for i, name in enumerate(wire.fields):
            if name not in outputs:
                yield spec.issue(itf, ("wire", "fields", i),
                                 f"expected an output of {itf.component}, found '{name}'")
            elif name in seen:
                yield spec.issue(itf, ("wire", "fields", i),
                                 f"expected each key once, found '{name}' again")
            seen.add(name)
        names: set[str] = set()
        for i, topic in enumerate(wire.topics):
            if topic.name in names:
                yield spec.issue(itf, ("wire", "topics", i, "name"),
                                 f"expected each topic name once, found '{topic.name}' again")
            names.add(topic.name)


def check_http(spec: Spec) -> Iterator[Issue]:
    """An HTTP binding carries ports of its interface, names and paths once each, includes
    resources it declares, limits that are parameters of the named component."""
    for itf in _interfaces(spec):
        http = itf.http
        if http is None:
            continue
        outputs = {p.signal for p in itf.outputs}
        inputs = {p.signal for p in itf.inputs}
        names = [r.name for r in http.resources]
        for i, res in enumerate(http.resources):
            at = ("http", "resources", i)
            if res.name in names[:i]:
                yield spec.issue(itf, (*at, "name"),
                                 f"expected each resource name once, found '{res.name}' again")
            if res.path in [r.path for r in http.resources[:i]]:
                yield spec.issue(itf, (*at, "path"),
                                 f"expected each path once, found '{res.path}' again")
            for j, name in enumerate(res.outputs):
                if name not in outputs:
                    yield spec.issue(itf, (*at, "outputs", j),
                                     f"expected an output of {itf.component}, found '{name}'")
            for j, name in enumerate(res.inputs):
                if name not in inputs:
                    yield spec.issue(itf, (*at, "inputs", j),
                                     f"expected an input of {itf.component}, found '{name}'")
            if res.dtc_rows is not None:
                sig = spec.signals.get(res.dtc_rows)
                if res.dtc_rows not in outputs or sig is None or sig.dimension != "dtc":
                    yield spec.issue(itf, (*at, "dtc_rows"),
                                     f"expected an output of {itf.component} along the dtc "
                                     f"dimension, found '{res.dtc_rows}'")
            for j, name in enumerate(res.includes):
                if name not in names or name == res.name:
                    yield spec.issue(itf, (*at, "includes", j),
                                     f"expected another resource of the binding, found "
                                     f"'{name}'")
            if res.limits is not None:
                other = spec.interfaces.get(res.limits.component)
                known = {p.name for p in other.parameters} if other is not None else set()
                for j, name in enumerate(res.limits.parameters):
                    if name not in known:
                        yield spec.issue(itf, (*at, "limits", "parameters", j),
                                         f"expected a parameter of {res.limits.component}, "
                                         f"found '{name}'")
            carries = bool(res.outputs or res.inputs or res.dtc_rows or res.includes)
            if not carries:
                yield spec.issue(itf, at, f"expected resource '{res.name}' to carry outputs, "
                                          "inputs or other resources, found none")


def check_parameter_refs(spec: Spec) -> Iterator[Issue]:
    """An enum parameter names a declared enum; only enum parameters name one."""
    for itf in _interfaces(spec):
        for p in itf.parameters:
            if p.type == "enum" and p.enum is None:
                yield spec.issue(p, ("type",),
                                 "expected 'enum' with the enum id for type 'enum', found none")
            elif p.type != "enum" and p.enum is not None:
                yield spec.issue(p, ("enum",),
                                 f"expected no 'enum' for type '{p.type}', found '{p.enum}'")
            elif p.enum is not None and p.enum not in spec.enums:
                yield spec.issue(p, ("enum",),
                                 f"expected an enum id of the dictionary, found '{p.enum}'")


def check_limit_sets(spec: Spec) -> Iterator[Issue]:
    """Limit levels are float parameters of the same interface with one unit, ordered by default.

    Upper limits need MOL < RSL < MSL, lower limits MOL > RSL > MSL (defaults compared).
    """
    for itf in _interfaces(spec):
        params = {p.name: p for p in itf.parameters}
        for ls in itf.limit_sets:
            levels: list[tuple[str, Parameter]] = []
            for level in ("mol", "rsl", "msl"):
                name = getattr(ls.levels, level)
                p = params.get(name)
                if p is None:
                    yield spec.issue(ls, ("levels", level),
                                     f"expected a parameter of the interface of '{itf.component}', "
                                     f"found '{name}'")
                elif p.type != "float":
                    yield spec.issue(ls, ("levels", level),
                                     f"expected a parameter of type 'float', found '{name}' "
                                     f"of type '{p.type}'")
                else:
                    levels.append((level, p))
            if len(levels) != 3:
                continue
            unit = levels[0][1].unit
            mismatch = False
            for level, p in levels[1:]:
                if p.unit != unit:
                    mismatch = True
                    yield spec.issue(ls, ("levels", level),
                                     f"expected unit '{unit}' like levels.mol "
                                     f"({levels[0][1].name}), found '{p.unit}' of {p.name}")
            yield from _limit_companions(spec, ls, params, unit)
            defaults = [p.default for _, p in levels]
            if mismatch or not all(_is_number(d) for d in defaults):
                continue
            mol, rsl, msl = (float(d) for d in defaults)  # type: ignore[arg-type]
            ordered = mol < rsl < msl if ls.direction == "upper" else mol > rsl > msl
            if not ordered:
                rel = "<" if ls.direction == "upper" else ">"
                yield spec.issue(ls, ("levels",),
                                 f"expected defaults MOL {rel} RSL {rel} MSL for a {ls.direction} "
                                 f"limit, found {_fmt(mol)}, {_fmt(rsl)}, {_fmt(msl)} "
                                 f"({', '.join(p.name for _, p in levels)})")


def _limit_companions(spec: Spec, ls: Any, params: dict[str, Parameter],
                      unit: str) -> Iterator[Issue]:
    """A limit set's hysteresis (the levels' unit; K for degC) and fault delay (s) are
    float parameters of its interface."""
    for field, want in (("hysteresis", "K" if unit == "degC" else unit), ("fault_delay", "s")):
        name = getattr(ls, field)
        p = params.get(name)
        if p is None:
            yield spec.issue(ls, (field,), f"expected a parameter of the interface, found "
                                           f"'{name}'")
        elif p.type != "float" or p.unit != want:
            yield spec.issue(ls, (field,), f"expected a float parameter in {want}, found "
                                           f"'{name}' of type '{p.type}' in {p.unit}")


def check_parameter_features(spec: Spec) -> Iterator[Issue]:
    """A parameter's ``feature`` is a feature id of profiles.yaml."""
    for itf in _interfaces(spec):
        for p in itf.parameters:
            if p.feature is not None and p.feature not in spec.features:
                yield spec.issue(p, ("feature",),
                                 f"expected a feature id of profiles.yaml "
                                 f"({', '.join(sorted(spec.features))}), found '{p.feature}'")


def check_requirement_refs(spec: Spec) -> Iterator[Issue]:
    """Requirements name a component, profiles that contain it, and its parameters."""
    for rf in spec.requirement_files:
        for req in rf.requirements:
            yield from _requirement_refs(spec, req, rf.area)


def _requirement_refs(spec: Spec, req: Requirement, area: str) -> Iterator[Issue]:
    req_area = req.id.split("-")[1]
    if req_area != area:
        yield spec.issue(req, ("id",),
                         f"expected an id in the file's area OBSA-{area}-NNN, found '{req.id}'")
    if _semver_key(req.since) > _semver_key(spec.version):
        yield spec.issue(req, ("since",),
                         f"expected a version no later than the standard's {spec.version}, "
                         f"found {req.since}")
    known_component = req.component in spec.components
    if not known_component:
        yield spec.issue(req, ("component",),
                         f"expected a component id of architecture.yaml, found '{req.component}'")
    for i, pid in enumerate(req.profiles):
        profile = spec.profiles.get(pid)
        if profile is None:
            yield spec.issue(req, ("profiles", i),
                             f"expected a profile id ({', '.join(sorted(spec.profiles))}), "
                             f"found '{pid}'")
        elif known_component and req.component not in profile.components:
            yield spec.issue(req, ("profiles", i),
                             f"expected a profile that contains component '{req.component}', found "
                             f"'{pid}' with components [{', '.join(profile.components)}]")
    itf = _interface_of(spec, req.component)
    params = {p.name: p for p in itf.parameters} if itf is not None else {}
    for crit in req.acceptance:
        if crit.parameter is None or itf is None:
            continue
        param = params.get(crit.parameter)
        if param is None:
            yield spec.issue(crit, ("parameter",),
                             f"expected a parameter of the interface of '{req.component}', "
                             f"found '{crit.parameter}'")
        elif crit.unit != param.unit:
            yield spec.issue(crit, ("unit",),
                             f"expected unit '{param.unit}' of parameter {param.name}, "
                             f"found '{crit.unit}'")
    if req.condition is not None:
        try:
            used = conditions.names(req.condition)
        except conditions.ConditionError as exc:
            yield spec.issue(req, ("condition",), str(exc))
        else:
            for name in sorted(used - spec.features):
                yield spec.issue(req, ("condition",),
                                 f"expected feature ids of profiles.yaml "
                                 f"({', '.join(sorted(spec.features))}), found '{name}'")


def check_profile_refs(spec: Spec) -> Iterator[Issue]:
    """Profiles bundle declared components."""
    for profile in spec.profiles_file.profiles:
        for i, comp in enumerate(profile.components):
            if comp not in spec.components:
                yield spec.issue(profile, ("components", i),
                                 f"expected a component id of architecture.yaml, found '{comp}'")


# ---------------------------------------------------------------------------- units
def check_units(spec: Spec) -> Iterator[Issue]:
    """Every unit is a symbol of the dictionary's unit list."""
    symbols = {u.symbol for u in spec.dictionary.units}
    listing = ", ".join(sorted(symbols))

    def bad(obj: BaseModel, unit: str) -> Iterator[Issue]:
        if unit not in symbols:
            yield spec.issue(obj, ("unit",),
                             f"expected a unit symbol of the dictionary ({listing}), "
                             f"found '{unit}'")

    for sig in spec.dictionary.signals:
        yield from bad(sig, sig.unit)
    for itf in _interfaces(spec):
        for p in itf.parameters:
            yield from bad(p, p.unit)
    for rf in spec.requirement_files:
        for req in rf.requirements:
            for crit in req.acceptance:
                yield from bad(crit, crit.unit)


#: Name suffixes that announce a unit the dictionary does not list, with that unit: a
#: name ending in one of them must carry that unit (which check_units then refuses), so
#: ``pack_voltage_mV`` with unit V is caught. Every unit symbol of the dictionary that can
#: end a name (letters and digits, not "1") is a suffix of itself: ``_V`` ↔ ``V``.
OTHER_UNIT_SUFFIXES: dict[str, str] = {
    "mV": "mV", "kV": "kV", "mA": "mA", "kA": "kA", "ms": "ms", "us": "us",
    "pct": "%", "percent": "%", "mohm": "mohm", "kohm": "kohm", "Mohm": "Mohm",
    "degF": "degF", "mAh": "mAh", "kW": "kW", "kWh": "kWh", "Hz": "Hz", "J": "J",
}


def unit_suffixes(spec: Spec) -> dict[str, str]:
    """The one table of name suffix → unit (see :data:`OTHER_UNIT_SUFFIXES`)."""
    table = dict(OTHER_UNIT_SUFFIXES)
    for unit in spec.dictionary.units:
        if unit.symbol != "1" and unit.symbol.isalnum():
            table[unit.symbol] = unit.symbol
    return table


def check_unit_suffixes(spec: Spec) -> Iterator[Issue]:
    """A name's unit suffix and its unit agree, both ways: ``…_V`` has unit V, and a
    quantity with unit V ends in ``_V`` (house rule: units in names)."""
    table = unit_suffixes(spec)
    suffix_of = {unit: suffix for suffix, unit in table.items()}
    symbols = {u.symbol for u in spec.dictionary.units}
    named: list[tuple[BaseModel, str, str]] = [(s, s.name, s.unit) for s in spec.dictionary.signals]
    named += [(p, p.name, p.unit) for itf in _interfaces(spec) for p in itf.parameters]
    units = {(itf.component, p.name): p.unit for itf in _interfaces(spec) for p in itf.parameters}
    for req in (r for rf in spec.requirement_files for r in rf.requirements):
        # a criterion whose unit differs from its parameter's is reported by
        # check_requirement_refs; its name is then judged against the wrong unit
        named += [(c, c.name, c.unit) for c in req.acceptance
                  if units.get((req.component, c.parameter or ""), c.unit) == c.unit]
    for obj, name, unit in named:
        if unit not in symbols:  # check_units reports it
            continue
        suffix = name.rsplit("_", 1)[-1] if "_" in name else ""
        if suffix in table and table[suffix] != unit:
            yield spec.issue(obj, ("unit",),
                             f"expected unit '{table[suffix]}' as the name's suffix _{suffix} "
                             f"says ({name}), found '{unit}'")
        elif suffix not in table and unit in suffix_of:
            yield spec.issue(obj, ("name",),
                             f"expected a name ending in _{suffix_of[unit]} for unit '{unit}', "
                             f"found '{name}'")


# ---------------------------------------------------------------------------- ranges
def _range_issues(spec: Spec, obj: Signal | Parameter, rng: Range | None) -> Iterator[Issue]:
    if rng is not None and rng.min is not None and rng.max is not None and rng.min > rng.max:
        yield spec.issue(obj, ("range",),
                         f"expected min <= max, found min {_fmt(rng.min)} > max {_fmt(rng.max)}")


def check_ranges(spec: Spec) -> Iterator[Issue]:
    """Ranges are ordered, resolutions fit inside them, defaults have the type and fit."""
    for sig in spec.dictionary.signals:
        yield from _range_issues(spec, sig, sig.range)
        rng = sig.range
        if sig.resolution is not None:
            if sig.resolution <= 0:
                yield spec.issue(sig, ("resolution",),
                                 f"expected a positive resolution, found {_fmt(sig.resolution)}")
            elif rng and rng.min is not None and rng.max is not None and rng.min <= rng.max \
                    and sig.resolution > rng.max - rng.min:
                yield spec.issue(sig, ("resolution",),
                                 f"expected a resolution no larger than the range width "
                                 f"{_fmt(rng.max - rng.min)}, found {_fmt(sig.resolution)}")
    for itf in _interfaces(spec):
        for p in itf.parameters:
            range_issues = list(_range_issues(spec, p, p.range))
            yield from range_issues
            if p.default is not None:
                yield from _default_issues(spec, p, check_range=not range_issues)


def _default_issues(spec: Spec, p: Parameter, check_range: bool) -> Iterator[Issue]:
    d = p.default
    number = _is_number(d)
    expected = {
        "float": ("a number", number),
        "int": ("an integer", isinstance(d, int) and not isinstance(d, bool)),
        "bool": ("true or false", isinstance(d, bool)),
        "enum": ("an enum value name", isinstance(d, str)),
    }[p.type]
    if not expected[1]:
        yield spec.issue(p, ("default",),
                         f"expected {expected[0]} for type '{p.type}', found {_fmt(d)}")
        return
    if p.type == "enum" and p.enum in spec.enums:
        names = [v.name for v in spec.enums[p.enum].values]
        if d not in names:
            yield spec.issue(p, ("default",),
                             f"expected a value of enum '{p.enum}' ({', '.join(names)}), "
                             f"found {d!r}")
    if number and check_range and p.range is not None:
        value = float(d)  # type: ignore[arg-type]
        lo, hi = p.range.min, p.range.max
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            yield spec.issue(p, ("default",),
                             f"expected a default inside the range [{_fmt(lo)}, {_fmt(hi)}], "
                             f"found {_fmt(d)}")


# ---------------------------------------------------------------------------- enums and flags
def check_enum_signals(spec: Spec) -> Iterator[Issue]:
    """Enum, flags and bool signals carry no numeric range: their values are names or bits."""
    for sig in spec.dictionary.signals:
        if sig.type in ("enum", "flags", "bool") and sig.range is not None:
            yield spec.issue(sig, ("range",),
                             f"expected no range for a signal of type '{sig.type}', found one")


# ---------------------------------------------------------------------------- signal flow
def check_signal_flow(spec: Spec) -> Iterator[Issue]:
    """One producer per output; unproduced inputs are plant or external signals."""
    hal_order = min((layer.order for layer in spec.architecture.layers), default=0)
    layer_order = {layer.id: layer.order for layer in spec.architecture.layers}
    hal_layers = sorted(lid for lid, order in layer_order.items() if order == hal_order)
    producer: dict[str, tuple[Interface, int]] = {}
    for itf in _interfaces(spec):
        for i, port in enumerate(itf.outputs):
            source = _source(spec, port.signal)
            if source is not None:
                yield spec.issue(itf, ("outputs", i, "signal"),
                                 f"expected no component to output a signal of source "
                                 f"'{source}' (it comes from outside the BMS), found "
                                 f"'{port.signal}'")
                continue
            if port.signal in producer:
                other, j = producer[port.signal]
                yield spec.issue(itf, ("outputs", i, "signal"),
                                 f"expected exactly one component to output '{port.signal}', found "
                                 f"it also output by '{other.component}' "
                                 f"({_at(spec, other, 'outputs', j, 'signal')})")
            else:
                producer[port.signal] = (itf, i)
    for itf in _interfaces(spec):
        comp = spec.components.get(itf.component)
        is_hal = comp is not None and layer_order.get(comp.layer) == hal_order
        for i, port in enumerate(itf.inputs):
            name = port.signal
            source = _source(spec, name)
            if source == "plant":
                if comp is not None and not is_hal:
                    yield spec.issue(itf, ("inputs", i, "signal"),
                                     "expected plant signals (source: plant) to be read "
                                     "only by the hardware abstraction layer "
                                     f"({', '.join(hal_layers)}), found '{name}' read by "
                                     f"'{itf.component}' (layer '{comp.layer}')")
            elif source is None and name not in producer and name in spec.signals:
                yield spec.issue(itf, ("inputs", i, "signal"),
                                 "expected an input that some component outputs, or a signal "
                                 "whose dictionary entry says where it comes from (source: "
                                 f"plant or external), found '{name}' that no component "
                                 "outputs")


def _source(spec: Spec, name: str) -> str | None:
    signal = spec.signals.get(name)
    return signal.source if signal is not None else None


CHECKS: tuple[Check, ...] = (
    check_unique_ids,
    check_architecture_refs,
    check_interface_coverage,
    check_signal_refs,
    check_wire,
    check_http,
    check_parameter_refs,
    check_limit_sets,
    check_parameter_features,
    check_requirement_refs,
    check_profile_refs,
    check_units,
    check_unit_suffixes,
    check_ranges,
    check_enum_signals,
    check_signal_flow,
    *CAN_CHECKS,
)


def _internal_error(spec: Spec, check: Check, exc: Exception) -> Issue:
    """An unexpected exception inside a check, located at the innermost model object in use."""
    message = f"internal error in {check.__name__}: {type(exc).__name__}: {exc}"
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames):
        for value in frame.f_locals.values():
            if isinstance(value, BaseModel):
                try:
                    return spec.issue(value, (), message)
                except KeyError:
                    continue
    return Issue("standard.yaml", 1, "", message)


def _sort_key(issue: Issue) -> tuple[str, int, str]:
    return (issue.file, issue.line or 0, issue.field)


def semantic_issues(spec: Spec) -> list[Issue]:
    """Every cross-file problem of a structurally valid spec, sorted by file and line."""
    issues: list[Issue] = []
    for check in CHECKS:
        try:
            issues.extend(check(spec))
        except Exception as exc:  # a bug in a check must not hide the other checks' issues
            issues.append(_internal_error(spec, check, exc))
    return sorted(issues, key=_sort_key)


# ---------------------------------------------------------------------------- command
def _display(root: Path) -> str:
    try:
        shown = root.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        shown = root
    text = str(shown)
    return text if text.endswith("/") else text + "/"


def run_validate(path: str | None, quiet: bool = False) -> int:
    """``obsa spec validate [PATH]``: 0 valid, 1 invalid, 2 could not read.

    Each issue is printed as ``file:line: field: message`` (file relative to the spec
    directory), then one summary line unless ``quiet``.
    """
    root = Path(path) if path is not None else spec_dir()
    if root.is_file():
        root = root.parent
    shown = _display(root)
    try:
        spec, issues = check_spec(root)
    except ReadError as exc:
        print(f"obsa spec validate: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a loader bug: say where, never a traceback
        print(f"obsa spec validate: {shown}: internal error: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return 2
    issues = sorted(issues, key=_sort_key)
    for issue in issues:
        print(issue)
    if not quiet:
        print(_summary(shown, spec, issues))
    return 1 if issues else 0


def _summary(shown: str, spec: Spec | None, issues: list[Issue]) -> str:
    verdict = f"{len(issues)} problem{'' if len(issues) == 1 else 's'}" if issues else "valid"
    if spec is None:  # a file failed its structural checks: the rest was not built
        return f"{shown}: {verdict}"
    n_req = sum(len(f.requirements) for f in spec.requirement_files)
    return (f"{shown} {spec.standard.name} {spec.version}: {len(spec.sources)} files, "
            f"{n_req} requirements, {verdict}")
