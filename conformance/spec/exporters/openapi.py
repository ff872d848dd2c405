"""The OpenAPI 3.1 document of the HMI API over HTTP, from the ``hmi_api`` interface.

The interface leaves the transport open; this document is its HTTP binding: read-only
resources (GET only) whose schemas are the dictionary signals the interface lists — the
snapshot (every output), the Annex VII state-of-health and lifetime data (every input no
``hmi_`` output mirrors, served unchanged), the fault memory (the status of every DTC of the
spec's table) and the cell arrays with the declared limits — and a Server-Sent Events stream.

It is generated into the reference implementation's package
(``reference_impl/hmi/obsa_hmi_openapi.json``), which serves it at ``/openapi.json`` and
takes its list of resources from it, and drift-checked like every other artefact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..loader import Spec
from ._files import json_text, write_files
from .records import signal_schema

COMPONENT = "hmi_api"
FILE = "obsa_hmi_openapi.json"
#: the cell arrays the dashboard draws, and the safety supervisor's limits drawn beside them
CELL_SIGNALS = ("cell_voltage_V", "cell_temperature_degC")
LIMIT_COMPONENT = "safety_supervisor"
LIMIT_PREFIXES = ("cell_voltage_max_", "cell_voltage_min_", "discharge_temperature_max_",
                  "discharge_temperature_min_")
LIMIT_LEVELS = ("_mol_", "_rsl_", "_msl_")


def _fields(spec: Spec) -> tuple[list[str], list[str]]:
    itf = spec.interfaces[COMPONENT]
    outputs = [p.signal for p in itf.outputs]
    annex = [p.signal for p in itf.inputs if f"hmi_{p.signal}" not in outputs]
    return outputs, annex


def _object(spec: Spec, names: list[str], description: str,
            extra: dict[str, Any] | None = None) -> dict[str, Any]:
    props = {n: signal_schema(spec, spec.signals[n]) for n in names}
    props.update(extra or {})
    return {"type": "object", "description": description, "properties": props,
            "required": list(props), "additionalProperties": False}


def _limits(spec: Spec) -> list[str]:
    return [p.name for p in spec.interfaces[LIMIT_COMPONENT].parameters
            if p.name.startswith(LIMIT_PREFIXES) and any(lv in p.name for lv in LIMIT_LEVELS)]


def document(spec: Spec) -> dict[str, Any]:
    """The OpenAPI document (a JSON value)."""
    itf = spec.interfaces[COMPONENT]
    outputs, annex = _fields(spec)
    enum_names = {f"{s}_name": {"type": "string", "description": f"name of {s}'s value "
                                f"(enum {spec.signals[s].enum}, lower case)"}
                  for s in outputs if spec.signals[s].enum is not None
                  and spec.signals[s].dimension is None}
    dtc_status = spec.signals["hmi_dtc_status"]
    dtc_row = {"type": "object", "additionalProperties": False,
               "required": ["dtc", "component", "fault", "severity", "status", "status_name"],
               "properties": {
                   "dtc": {"type": "string", "pattern": "^0x[0-9A-F]{4}$"},
                   "component": {"type": "string"}, "fault": {"type": "string"},
                   "severity": {"type": "string"},
                   "status": {"type": "integer", "description": f"enum {dtc_status.enum}"},
                   "status_name": {"type": "string"}}}
    limit_props = {n: {"type": "number"} for n in _limits(spec)}
    schemas: dict[str, Any] = {
        "Snapshot": _object(spec, outputs, " ".join(itf.description.split()), enum_names),
        "AnnexVII": _object(spec, annex, "The state-of-health and lifetime data of EU "
                            "2023/1542 Annex VII, as the HMI API reads them (served unchanged)."),
        "FaultMemory": _object(spec, ["hmi_snapshot_time_s", "hmi_active_dtc_count"],
                               "The fault memory of the snapshot, one row per DTC in the "
                               "order of the dtc dimension.",
                               {"dtcs": {"type": "array", "items": dtc_row,
                                         "minItems": len(spec.dtc_table),
                                         "maxItems": len(spec.dtc_table)}}),
        "Cells": _object(spec, list(CELL_SIGNALS), "The cell arrays and the declared limits "
                         f"({LIMIT_COMPONENT} parameters) they are drawn against.",
                         {"limits": {"type": "object", "properties": limit_props,
                                     "additionalProperties": False}}),
        "Error": {"type": "object", "properties": {"error": {"type": "string"}},
                  "required": ["error"]},
    }
    schemas["All"] = {"type": "object", "additionalProperties": False,
                      "required": ["snapshot", "cells", "faults", "annex_vii"],
                      "properties": {"snapshot": {"$ref": "#/components/schemas/Snapshot"},
                                     "cells": {"$ref": "#/components/schemas/Cells"},
                                     "faults": {"$ref": "#/components/schemas/FaultMemory"},
                                     "annex_vii": {"$ref": "#/components/schemas/AnnexVII"}}}
    err = {"description": "error", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}
    refused = {"405": {"description": "every write method (POST, PUT, PATCH, DELETE) is "
                       "refused: the HMI API accepts no command (OBSA-HMI-004)", **{}}}

    def get(schema: str, summary: str) -> dict[str, Any]:
        return {"get": {"summary": summary, "responses": {
            "200": {"description": "OK", "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{schema}"}}}},
            "401": err, "503": err, **refused}}}

    paths = {
        "/api/snapshot": get("Snapshot", "every output of hmi_api (the snapshot)"),
        "/api/cells": get("Cells", "the cell arrays and their declared limits"),
        "/api/faults": get("FaultMemory", "the fault memory: the status of every DTC"),
        "/api/annex-vii": get("AnnexVII", "the state-of-health and lifetime data of EU "
                              "2023/1542 Annex VII"),
        "/api/all": get("All", "the four resources above in one"),
        "/api/events": {"get": {"summary": "Server-Sent Events: one 'snapshot' event per new "
                                "snapshot, its data the All object with a 'sequence' number",
                                "responses": {"200": {"description": "event stream", "content": {
                                    "text/event-stream": {"schema": {"type": "string"}}}},
                                    "401": err}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "OBSA HMI API", "version": spec.version,
                 "description": " ".join(itf.description.split())},
        "servers": [{"url": "http://127.0.0.1:8000"}],
        "security": [{}, {"bearer": []}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "required when the service is started with a token"}}},
        "x-obsa-component": COMPONENT,
        "x-obsa-refresh-parameter": "hmi_refresh_period_s",
    }


def render(spec: Spec) -> dict[str, str]:
    return {FILE: json_text(document(spec))}


def dump(spec: Spec, out_dir: Path) -> list[Path]:
    return write_files(render(spec), out_dir)
