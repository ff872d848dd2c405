"""JSON Schemas (draft 2020-12) of every component's parameters, inputs and outputs records.

The harness validates what a module under test sends back against these schemas, so they
are strict: every port is required, no extra field is allowed, numbers carry the range of
their dictionary signal, enumerations list their values and flags fit in 32 bits. A
parameters record may omit any parameter (the module then uses the default written in the
schema) but may not carry one the interface does not declare.

Files: ``<component>.parameters.schema.json``, ``<component>.inputs.schema.json``,
``<component>.outputs.schema.json`` and ``index.json`` (component → its three schemas and
its nominal step period).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..loader import Spec
from ..models import Interface, Parameter, Signal
from ._files import json_text, write_files

DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "https://obsa.dev/schemas/generated/"
RECORDS = ("parameters", "inputs", "outputs")
FLAGS_MAX = 2**32 - 1
DTC_DIMENSION = "dtc"
"""The dimension that holds one entry per fault code of the spec (see the dictionary)."""

JSON_TYPE = {"float": "number", "int": "integer", "bool": "boolean", "enum": "integer",
             "flags": "integer"}


def file_name(component: str, record: str) -> str:
    return f"{component}.{record}.schema.json"


def dimension_lengths(spec: Spec) -> dict[str, int]:
    """Dimensions whose length the spec fixes; the others depend on the module's pack."""
    ids = {d.id for d in spec.dictionary.dimensions}
    if DTC_DIMENSION not in ids:
        return {}
    return {DTC_DIMENSION: len(spec.dtc_table)}


def _value_schema(spec: Spec, kind: str, rng: Any, enum_id: str | None,
                  flags_of: str | None) -> dict[str, Any]:
    """Schema of one scalar value of a signal or parameter."""
    out: dict[str, Any] = {"type": JSON_TYPE[kind]}
    if kind in ("float", "int") and rng is not None:
        if rng.min is not None:
            out["minimum"] = int(rng.min) if kind == "int" else rng.min
        if rng.max is not None:
            out["maximum"] = int(rng.max) if kind == "int" else rng.max
    if kind == "enum" and enum_id is not None and enum_id in spec.enums:
        values = spec.enums[enum_id].values
        out["enum"] = [v.value for v in values]
        out["x-obsa-enum"] = {"id": enum_id, "names": {str(v.value): v.name for v in values}}
    if kind == "flags":
        out["minimum"] = 0
        out["maximum"] = FLAGS_MAX
        itf = spec.interfaces.get(flags_of or "")
        codes = itf.fault_codes if itf is not None else []
        out["x-obsa-flags"] = {str(f.bit): f.name for f in codes}
    return out


def port_description(signal: Signal, port_description: str | None) -> str:
    """The signal's description, followed by what the port adds to it (if anything)."""
    text = " ".join(signal.description.split())
    return f"{text} {' '.join(port_description.split())}" if port_description else text


def signal_schema(spec: Spec, signal: Signal, description: str | None = None) -> dict[str, Any]:
    """Schema of a port: the signal's value, or an array of it over its dimension."""
    value = _value_schema(spec, signal.type, signal.range, signal.enum, signal.flags_of)
    if signal.dimension is not None:
        out: dict[str, Any] = {"type": "array", "items": value,
                               "x-obsa-dimension": signal.dimension}
        length = dimension_lengths(spec).get(signal.dimension)
        if length is not None:
            out["minItems"] = length
            out["maxItems"] = length
    else:
        out = value
    out["title"] = signal.name
    out["description"] = port_description(signal, description)
    out["x-obsa-unit"] = signal.unit
    if signal.resolution is not None:
        out["x-obsa-resolution"] = signal.resolution
    return out


def _default(spec: Spec, param: Parameter) -> Any:
    """The default as a record value: an enum default given by name becomes its number."""
    if param.type == "enum" and isinstance(param.default, str) and param.enum in spec.enums:
        for v in spec.enums[param.enum].values:
            if v.name == param.default:
                return v.value
    if param.type == "int" and isinstance(param.default, float) and param.default.is_integer():
        return int(param.default)
    return param.default


def parameter_schema(spec: Spec, param: Parameter) -> dict[str, Any]:
    out = _value_schema(spec, param.type, param.range, param.enum, None)
    out["title"] = param.name
    out["description"] = param.description
    out["x-obsa-unit"] = param.unit
    if param.default is not None:
        out["default"] = _default(spec, param)
    return out


def _record(spec: Spec, itf: Interface, record: str, properties: dict[str, Any],
            required: list[str], description: str) -> dict[str, Any]:
    return {
        "$schema": DIALECT,
        "$id": BASE_ID + file_name(itf.component, record),
        "title": f"{itf.component} {record}",
        "description": description,
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        "x-obsa-component": itf.component,
        "x-obsa-record": record,
        "x-obsa-spec-version": spec.version,
    }


def record_schemas(spec: Spec, itf: Interface) -> dict[str, dict[str, Any]]:
    """record kind (parameters, inputs, outputs) → JSON Schema of that record."""
    c = itf.component
    params = {p.name: parameter_schema(spec, p) for p in itf.parameters}
    out = {
        "parameters": _record(
            spec, itf, "parameters", params, [],
            f"Configuration of the {c} component, passed to configure(). Every parameter is "
            "optional; an omitted parameter takes its default.",
        )
    }
    for record, ports, when in (("inputs", itf.inputs, "passed to step()"),
                                ("outputs", itf.outputs, "returned by step()")):
        props = {p.signal: signal_schema(spec, spec.signals[p.signal], p.description)
                 for p in ports if p.signal in spec.signals}
        out[record] = _record(
            spec, itf, record, props, [p.signal for p in ports],
            f"{record.capitalize()} of the {c} component, {when} every {itf.step_period_s} s "
            "(nominal); every port is required.",
        )
    return out


def index(spec: Spec) -> dict[str, Any]:
    return {
        "spec_version": spec.version,
        "components": {
            c: {
                **{r: file_name(c, r) for r in RECORDS},
                "step_period_s": itf.step_period_s,
            }
            for c, itf in spec.interfaces.items()
        },
    }


def render(spec: Spec) -> dict[str, str]:
    """File name → text of every record schema and of ``index.json``."""
    files = {"index.json": json_text(index(spec))}
    for c, itf in spec.interfaces.items():
        for record, schema in record_schemas(spec, itf).items():
            files[file_name(c, record)] = json_text(schema)
    return dict(sorted(files.items()))


def dump(spec: Spec, out_dir: Path) -> list[Path]:
    return write_files(render(spec), out_dir)
