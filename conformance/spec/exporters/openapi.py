"""The OpenAPI 3.1 document of the HMI API over HTTP, from the ``hmi_api`` interface.

The interface's section ``http`` is its HTTP binding: read-only resources (GET only), each
listing the outputs and inputs it carries; their schemas are those dictionary signals. Every
path also names the write methods it refuses, and carries ``x-obsa-resource``: what it
serves, so that a service builds its routes from this document.

It is generated into the reference implementation's package
(``reference_impl/hmi/obsa_hmi_openapi.json``), which serves it at ``/openapi.json`` and
takes its resources from it, and drift-checked like every other artefact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..loader import Spec
from ..models import Http, HttpResource
from ._files import json_text, write_files
from .records import signal_schema

COMPONENT = "hmi_api"
FILE = "obsa_hmi_openapi.json"


def _object(spec: Spec, names: list[str], description: str,
            extra: dict[str, Any] | None = None) -> dict[str, Any]:
    props = {n: signal_schema(spec, spec.signals[n]) for n in names}
    props.update(extra or {})
    return {"type": "object", "description": description, "properties": props,
            "required": list(props), "additionalProperties": False}


def _schema_name(res: HttpResource) -> str:
    return "".join(part.capitalize() for part in res.name.split("_"))


def _enum_names(spec: Spec, names: list[str]) -> dict[str, Any]:
    """<field>_name of every enumerated scalar field (the binding's rule)."""
    return {f"{s}_name": {"type": "string", "description": f"name of {s}'s value "
                          f"(enum {spec.signals[s].enum}, lower case)"}
            for s in names if spec.signals[s].enum is not None
            and spec.signals[s].dimension is None}


def _resource_schema(spec: Spec, res: HttpResource) -> dict[str, Any]:
    extra = _enum_names(spec, res.outputs)
    if res.dtc_rows is not None:
        status = spec.signals[res.dtc_rows]
        row = {"type": "object", "additionalProperties": False,
               "required": ["dtc", "component", "fault", "severity", "status", "status_name"],
               "properties": {
                   "dtc": {"type": "string", "pattern": "^0x[0-9A-F]{4}$"},
                   "component": {"type": "string"}, "fault": {"type": "string"},
                   "severity": {"type": "string"},
                   "status": {"type": "integer", "description": f"{res.dtc_rows} (enum "
                              f"{status.enum})"},
                   "status_name": {"type": "string"}}}
        extra["dtcs"] = {"type": "array", "items": row, "minItems": len(spec.dtc_table),
                         "maxItems": len(spec.dtc_table)}
    schema = _object(spec, res.outputs + res.inputs, res.summary, extra)
    if res.limits is not None:
        schema["properties"]["limits"] = {
            "type": "object", "description": " ".join(res.limits.description.split()),
            "properties": {n: {"type": "number"} for n in res.limits.parameters},
            "additionalProperties": False}
    for name in res.includes:
        schema["properties"][name] = {"$ref": f"#/components/schemas/"
                                              f"{_schema_name(_binding(spec).resource(name))}"}
        schema["required"].append(name)
    return schema


def _binding(spec: Spec) -> Http:
    http = spec.interfaces[COMPONENT].http
    if http is None:
        raise ValueError(f"interfaces/{COMPONENT}: expected a section http, found none")
    return http


def _x_obsa(res: HttpResource) -> dict[str, Any]:
    """What the resource carries, for a service that builds its routes from this document."""
    out: dict[str, Any] = {"name": res.name, "outputs": res.outputs, "inputs": res.inputs,
                           "includes": res.includes, "required": res.required}
    if res.dtc_rows is not None:
        out["dtc_rows"] = res.dtc_rows
    if res.limits is not None:
        out["limits"] = {"component": res.limits.component,
                         "parameters": res.limits.parameters}
    return out


def document(spec: Spec) -> dict[str, Any]:
    """The OpenAPI document (a JSON value)."""
    itf = spec.interfaces[COMPONENT]
    http = _binding(spec)
    schemas: dict[str, Any] = {}
    err = {"description": "error", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}
    refused = {"description": f"every write method ({', '.join(http.write_methods)}) is "
               "refused: the HMI API accepts no command (OBSA-HMI-004)", "content": {
                   "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    paths: dict[str, Any] = {}
    for res in http.resources:
        if res.media_type == "application/json":
            schemas[_schema_name(res)] = _resource_schema(spec, res)
            content = {"application/json": {"schema": {
                "$ref": f"#/components/schemas/{_schema_name(res)}"}}}
            responses = {"200": {"description": "OK", "content": content}, "401": err,
                         "503": err}
        else:
            responses = {"200": {"description": "event stream", "content": {
                res.media_type: {"schema": {"type": "string"}}}}, "401": err}
        op = {"summary": " ".join(res.summary.split()), "responses": responses,
              "x-obsa-resource": _x_obsa(res)}
        paths[res.path] = {"get": op, **{m.lower(): {
            "summary": f"{m} refused", "responses": {"405": refused}}
            for m in http.write_methods}}
    schemas["Error"] = {"type": "object", "properties": {"error": {"type": "string"}},
                        "required": ["error"]}
    return {
        "openapi": "3.1.0",
        "info": {"title": "OBSA HMI API", "version": spec.version,
                 "description": " ".join(itf.description.split()) + " "
                 + " ".join(http.description.split())},
        "servers": [{"url": "http://127.0.0.1:8000"}],
        "security": [{}, {"bearer": []}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "required when the service is started with a token"}}},
        "x-obsa-component": COMPONENT,
        "x-obsa-refresh-parameter": "hmi_refresh_period_s",
        "x-obsa-write-methods": http.write_methods,
    }


def render(spec: Spec) -> dict[str, str]:
    return {FILE: json_text(document(spec))}


def dump(spec: Spec, out_dir: Path) -> list[Path]:
    return write_files(render(spec), out_dir)
