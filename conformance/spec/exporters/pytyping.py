"""Python typing of the interfaces: ``reference_impl/interfaces.py``.

The reference implementation takes every fact of the standard it needs (enum values, fault
bits, record fields, step periods, parameter defaults, the DTC order) from this one
generated module, so it cannot drift from the spec. The text is formatted here, line by
line, so that the output is ruff-clean and identical on every machine without running a
formatter.
"""

from __future__ import annotations

import keyword
import textwrap
from pathlib import Path

from ..loader import Spec
from ..models import Range, Signal
from ._files import write_files
from .records import _default, port_description

FILE = "interfaces.py"
WIDTH = 100
PY_TYPE = {"float": "float", "int": "int", "bool": "bool", "enum": "int", "flags": "int"}


def camel(ident: str) -> str:
    """``safety_supervisor`` → ``SafetySupervisor``."""
    return "".join(part[:1].upper() + part[1:] for part in ident.split("_"))


def member(name: str) -> str:
    """Spec name of an enum value or fault code → Python member name."""
    return name.upper()


def _escape_doc(text: str) -> str:
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return text[:-1] + '\\"' if text.endswith('"') else text


def docstring(text: str, indent: str) -> list[str]:
    """A docstring of ``text``, wrapped to the line width."""
    text = _escape_doc(" ".join(text.split()))
    one = f'{indent}"""{text}"""'
    if len(one) <= WIDTH:
        return [one]
    lines = textwrap.wrap(text, width=WIDTH - len(indent) - 3, break_long_words=False,
                          break_on_hyphens=False)
    return [f'{indent}"""{lines[0]}', *(indent + ln for ln in lines[1:]), f'{indent}"""']


def comment(text: str, indent: str) -> list[str]:
    text = " ".join(text.split())
    return textwrap.wrap(text, width=WIDTH, initial_indent=indent + "#: ",
                         subsequent_indent=indent + "#: ", break_long_words=False,
                         break_on_hyphens=False)


def literal(value: object) -> str:
    """Python literal of a spec value; strings in double quotes (the ruff/black style)."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def _signal_type(signal: Signal) -> str:
    base = PY_TYPE[signal.type]
    return f"Sequence[{base}]" if signal.dimension is not None else base


def _signal_note(spec: Spec, signal: Signal, description: str | None) -> str:
    facts = [f"Unit {signal.unit}"]
    if signal.range is not None and (signal.range.min is not None or signal.range.max is not None):
        facts.append(_range(signal.type, signal.range))
    if signal.enum is not None:
        facts.append(f"enum {camel(signal.enum)}")
    if signal.flags_of is not None:
        facts.append(f"flags {camel(signal.flags_of)}Fault")
    if signal.dimension is not None:
        facts.append(f"one per {signal.dimension}")
    return _sentence(port_description(signal, description), facts)


def _range(kind: str, rng: Range) -> str:
    """``range [0, 65535]`` for an int, ``range [-1.0, inf]`` for an open float interval."""

    def show(value: float | None, missing: str) -> str:
        if value is None:
            return missing
        return str(int(value)) if kind == "int" else repr(value)

    return f"range [{show(rng.min, '-inf')}, {show(rng.max, 'inf')}]"


def _sentence(text: str, facts: list[str]) -> str:
    """``Measured voltage. Unit V, range [0.0, 5.0].``: a description, then its facts."""
    text = " ".join(text.split())
    if not text.endswith((".", "!", "?")):
        text += "."
    return f"{text} {', '.join(facts)}." if facts else text


def _check_field(name: str, where: str) -> str:
    if keyword.iskeyword(name) or not name.isidentifier():
        raise ValueError(f"{where}: '{name}' cannot be a Python field name")
    return name


def _enums(spec: Spec) -> list[str]:
    out: list[str] = []
    for e in spec.dictionary.enums:
        out += ["", "", f"class {camel(e.id)}(enum.IntEnum):", *docstring(e.description, "    "),
                ""]
        for v in e.values:
            out += [*comment(v.description, "    "), f"    {member(v.name)} = {v.value}"]
    return out


def _faults(spec: Spec) -> list[str]:
    out: list[str] = []
    for c, itf in spec.interfaces.items():
        if not itf.fault_codes:
            continue
        out += ["", "", f"class {camel(c)}Fault(enum.IntFlag):",
                *docstring(f"Fault codes of the {c} component: bits of its flags signals.", "    "),
                ""]
        for f in itf.fault_codes:
            out += [*comment(_sentence(f.description, [f"DTC 0x{f.dtc:04X}", f.severity]), "    "),
                    f"    {member(f.name)} = 1 << {f.bit}"]
    return out


def _records(spec: Spec) -> list[str]:
    out: list[str] = []
    for c, itf in spec.interfaces.items():
        name = camel(c)
        out += ["", "", f"class {name}Parameters(TypedDict, total=False):",
                *docstring(f"Parameters of the {c} component (configure()); all optional.",
                           "    ")]
        if itf.parameters:
            out.append("")
        for p in itf.parameters:
            facts = [f"Unit {p.unit}"]
            if p.range is not None:
                facts.append(_range(p.type, p.range))
            if p.enum is not None:
                facts.append(f"enum {camel(p.enum)}")
            if p.default is not None:
                facts.append(f"default {p.default}")
            out += [*comment(_sentence(p.description, facts), "    "),
                    f"    {_check_field(p.name, c)}: {PY_TYPE[p.type]}"]
        for record, ports in (("Inputs", itf.inputs), ("Outputs", itf.outputs)):
            out += ["", "", f"class {name}{record}(TypedDict):",
                    *docstring(f"{record} of the {c} component, one record per step().", "    ")]
            if ports:
                out.append("")
            for port in ports:
                sig = spec.signals[port.signal]
                out += [*comment(_signal_note(spec, sig, port.description), "    "),
                        f"    {_check_field(port.signal, c)}: {_signal_type(sig)}"]
    return out


def _mapping(name: str, type_: str, items: list[tuple[str, str]], doc: str) -> list[str]:
    out = ["", *comment(doc, ""), f"{name}: Final[{type_}] = {{"]
    out += [f"    {k}: {v}," for k, v in items]
    return [*out, "}"]


def _tables(spec: Spec) -> list[str]:
    out: list[str] = []
    out += _mapping("STEP_PERIOD_S", "dict[str, float]",
                    [(literal(c), literal(i.step_period_s)) for c, i in spec.interfaces.items()],
                    "Nominal step period of every component, in seconds.")
    out += ["", *comment("Default of every parameter that has one, per component, as a record "
                         "value (an enum default is its number).", ""),
            "PARAMETER_DEFAULTS: Final[dict[str, dict[str, float | int | bool | str]]] = {"]
    for c, itf in spec.interfaces.items():
        defaults = [(p.name, _default(spec, p)) for p in itf.parameters if p.default is not None]
        if not defaults:
            out.append(f"    {literal(c)}: {{}},")
            continue
        out.append(f"    {literal(c)}: {{")
        out += [f"        {literal(k)}: {literal(v)}," for k, v in defaults]
        out.append("    },")
    out.append("}")
    out += ["", *comment("The type of every parameter, per component (float, int, bool or "
                         "enum: an enum's value is its number); a parameter without a default "
                         "must be given.", ""),
            "PARAMETER_TYPES: Final[dict[str, dict[str, str]]] = {"]
    for c, itf in spec.interfaces.items():
        if not itf.parameters:
            out.append(f"    {literal(c)}: {{}},")
            continue
        out.append(f"    {literal(c)}: {{")
        out += [f"        {literal(p.name)}: {literal(p.type)}," for p in itf.parameters]
        out.append("    },")
    out.append("}")
    out += ["", *comment("The optional feature of every parameter that belongs to one, per "
                         "component: the bench passes such a parameter to configure() only "
                         "when the module claims the feature.", ""),
            "PARAMETER_FEATURES: Final[dict[str, dict[str, str]]] = {"]
    for c, itf in spec.interfaces.items():
        owned = [(p.name, p.feature) for p in itf.parameters if p.feature is not None]
        if owned:
            out.append(f"    {literal(c)}: {{")
            out += [f"        {literal(k)}: {literal(v)}," for k, v in owned]
            out.append("    },")
    out.append("}")
    out += ["", *comment("The components of every profile, in their execution order within "
                         "a step.", ""),
            "PROFILE_COMPONENTS: Final[dict[str, tuple[str, ...]]] = {"]
    for pid, profile in spec.profiles.items():
        out.append(f"    {literal(pid)}: (")
        out += [f"        {literal(c)}," for c in profile.components]
        out.append("    ),")
    out.append("}")
    for name, doc, ports in (
            ("COMPONENT_INPUTS", "The input signals of every component.", "inputs"),
            ("COMPONENT_OUTPUTS", "The output signals of every component.", "outputs")):
        out += ["", *comment(doc, ""), f"{name}: Final[dict[str, tuple[str, ...]]] = {{"]
        for c, itf in spec.interfaces.items():
            out.append(f"    {literal(c)}: (")
            out += [f"        {literal(port.signal)}," for port in getattr(itf, ports)]
            out.append("    ),")
        out.append("}")
    out += _mapping("COMPONENT_PERIOD_S", "dict[str, float]",
                    [(literal(c), literal(float(itf.step_period_s)))
                     for c, itf in spec.interfaces.items()],
                    "The step period of every component (s): it is stepped that often.")
    out += _mapping("SIGNAL_START", "dict[str, float | int | bool]",
                    [(literal(sig.name), literal(sig.start_value))
                     for sig in spec.dictionary.signals],
                    "The value every signal (every element of an array signal) holds before "
                    "anything produced it: zero, False or the first enum value.")
    out += _mapping("SIGNAL_DIMENSION", "dict[str, str]",
                    [(literal(sig.name), literal(sig.dimension)) for sig in spec.dictionary.signals
                     if sig.dimension is not None],
                    "The dimension of every array signal (its length is the module's count "
                    "of that dimension).")
    faults = [(literal(c), f"{camel(c)}Fault") for c, i in spec.interfaces.items() if i.fault_codes]
    out += _mapping("FAULTS", "dict[str, type[enum.IntFlag]]", faults,
                    "The fault flag type of every component that has fault codes.")
    out += ["", "", "class DtcEntry(NamedTuple):",
            *docstring("One diagnostic trouble code: a fault code of one component.", "    "),
            "", "    dtc: int", "    component: str", "    fault: str", "    bit: int",
            "    severity: str", "", ""]
    out += [*comment("Every fault code of the spec in ascending DTC order; this order is the "
                     "dtc dimension of the diagnostics outputs.", ""),
            "DTC_TABLE: Final[tuple[DtcEntry, ...]] = ("]
    for c, f in spec.dtc_table:
        args = [f"0x{f.dtc:04X}", literal(c), literal(f.name), str(f.bit), literal(f.severity)]
        line = f"    DtcEntry({', '.join(args)}),"
        if len(line) <= WIDTH:
            out.append(line)
        else:
            out += ["    DtcEntry(", *(f"        {a}," for a in args), "    ),"]
    out.append(")")
    flags = [(literal(s.name), literal(s.flags_of)) for s in spec.dictionary.signals
             if s.flags_of is not None]
    out += _mapping("FLAGS_SIGNALS", "dict[str, str]", flags,
                    "Every flags signal → the component whose fault codes are its bits.")
    formats = [(literal(s.name), f"({literal(float(s.range.min))}, {literal(float(s.range.max))}, "
                f"{literal(s.resolution)})")
               for s in spec.dictionary.signals if s.type == "float" and s.range is not None
               and s.range.min is not None and s.range.max is not None]
    out += _mapping("SIGNAL_FORMAT", "dict[str, tuple[float, float, float | None]]", formats,
                    "Every float signal with a closed range → (range min, range max, "
                    "resolution or None).")
    return out


def render_module(spec: Spec) -> str:
    body = _enums(spec) + _faults(spec) + _records(spec)
    tables = _tables(spec)
    uses_seq = any("Sequence[" in line for line in body)
    head = [
        f'"""Interfaces of the {spec.standard.name} components {spec.version}: enums, fault '
        "flags, records, tables.",
        "",
        "GENERATED from spec/ by ``python -m conformance.spec.exporters``. Do not edit this file:",
        "change the spec and regenerate. The reference implementation takes every fact of the",
        "standard from here. Enum and fault members are the spec's names in upper case",
        "(``SafetyState.NORMAL`` is the value ``normal`` of the enum ``safety_state``); a fault",
        "member is worth ``1 << bit``.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import enum",
    ]
    if uses_seq:
        head += ["from collections.abc import Sequence"]
    head += [
        "from typing import Final, NamedTuple, TypedDict",
        "",
        f"SPEC_VERSION: Final = {literal(spec.version)}",
    ]
    return "\n".join(head + body + [""] + tables) + "\n"


def render(spec: Spec) -> dict[str, str]:
    """``{"interfaces.py": text}``."""
    return {FILE: render_module(spec)}


def dump(spec: Spec, out_dir: Path) -> list[Path]:
    return write_files(render(spec), out_dir)
