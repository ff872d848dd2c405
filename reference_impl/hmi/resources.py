"""The HTTP resources of the HMI API, read from the OpenAPI document generated from the spec.

No field or path is listed here by hand: the section ``http`` of ``interfaces/hmi_api.yaml``
names every resource and what it carries, and the generated document
(``obsa_hmi_openapi.json``) holds it under ``x-obsa-resource`` on every path. A resource
serves the outputs it lists (an enumerated scalar also by name, ``<field>_name``), the inputs
it lists as of the snapshot, the fault memory as one row per DTC of the spec's table, the
declared limits it lists, and the resources it includes, each under its name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..interfaces import DTC_TABLE, ContactorState, DtcStatus, SafetyState

COMPONENT = "hmi_api"
#: the OpenAPI document generated from the spec (conformance/spec/exporters/openapi.py)
OPENAPI_PATH = Path(__file__).with_name("obsa_hmi_openapi.json")
OPENAPI: dict[str, Any] = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
#: the enum of each enumerated scalar output, to name its value
ENUM_FIELDS: dict[str, type[Any]] = {"hmi_safety_state": SafetyState,
                                      "hmi_contactor_state": ContactorState}
#: the write methods every resource refuses
WRITE_METHODS: tuple[str, ...] = tuple(OPENAPI["x-obsa-write-methods"])


@dataclass(frozen=True)
class Resource:
    """One resource of the binding, as the document describes it."""

    name: str
    path: str
    media_type: str
    summary: str
    outputs: tuple[str, ...]
    inputs: tuple[str, ...]
    includes: tuple[str, ...]
    dtc_rows: str | None
    limits: tuple[str, ...]
    required: bool


def _resources(doc: Mapping[str, Any]) -> dict[str, Resource]:
    out: dict[str, Resource] = {}
    for path, item in doc["paths"].items():
        get = item["get"]
        x = get["x-obsa-resource"]
        media = next(iter(get["responses"]["200"]["content"]))
        out[x["name"]] = Resource(
            name=x["name"], path=path, media_type=media, summary=get["summary"],
            outputs=tuple(x["outputs"]), inputs=tuple(x["inputs"]),
            includes=tuple(x["includes"]), dtc_rows=x.get("dtc_rows"),
            limits=tuple(x.get("limits", {}).get("parameters", ())), required=x["required"])
    return out


#: every resource of the binding, by name
BINDING: dict[str, Resource] = _resources(OPENAPI)
#: the resources, path → what it serves
RESOURCES: dict[str, str] = {r.path: r.summary for r in BINDING.values()}
#: the declared limits the resources serve (safety supervisor parameters)
LIMIT_PARAMETERS: tuple[str, ...] = tuple(p for r in BINDING.values() for p in r.limits)
#: the signals the service needs from whoever feeds it: outputs, and inputs as of the snapshot
SIGNALS: tuple[str, ...] = tuple(dict.fromkeys(
    s for r in BINDING.values() for s in (*r.outputs, *r.inputs,
                                          *((r.dtc_rows,) if r.dtc_rows else ()))))


def plain(value: Any) -> Any:
    """A signal value as JSON: arrays as lists, numpy scalars as Python numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _dtc_rows(status: Any) -> list[dict[str, Any]]:
    status = plain(status)
    if len(status) != len(DTC_TABLE):
        raise ValueError(f"hmi_dtc_status has {len(status)} entries; expected one per DTC "
                         f"of the spec ({len(DTC_TABLE)})")
    return [{"dtc": f"0x{e.dtc:04X}", "component": e.component, "fault": e.fault,
             "severity": e.severity, "status": int(s),
             "status_name": DtcStatus(int(s)).name.lower()}
            for e, s in zip(DTC_TABLE, status, strict=True)]


def body(name: str, signals: Mapping[str, Any],
         limits: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The JSON object of resource ``name`` over ``signals`` (outputs and inputs by name)."""
    res = BINDING[name]
    out: dict[str, Any] = {}
    for field in (*res.outputs, *res.inputs):
        out[field] = plain(signals[field])
        if field in ENUM_FIELDS:
            out[f"{field}_name"] = ENUM_FIELDS[field](int(out[field])).name.lower()
    if res.dtc_rows is not None:
        out["dtcs"] = _dtc_rows(signals[res.dtc_rows])
    if res.limits:
        out["limits"] = {k: float(v) for k, v in (limits or {}).items() if k in res.limits}
    for other in res.includes:
        out[other] = body(other, signals, limits)
    return out
