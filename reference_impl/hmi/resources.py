"""The HTTP resources of the HMI API, derived from the generated interface of ``hmi_api``.

No field is listed here by hand: the snapshot is every output of the component
(:data:`~reference_impl.interfaces.COMPONENT_OUTPUTS`), the Annex VII state-of-health and
lifetime data are the inputs it serves unchanged (every input no ``hmi_`` output mirrors),
the fault memory is ``hmi_dtc_status`` beside the spec's DTC table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..interfaces import (
    COMPONENT_INPUTS,
    COMPONENT_OUTPUTS,
    DTC_TABLE,
    ContactorState,
    DtcStatus,
    SafetyState,
)

COMPONENT = "hmi_api"
#: every output of the component, in the spec's order
SNAPSHOT_FIELDS: tuple[str, ...] = COMPONENT_OUTPUTS[COMPONENT]
#: the inputs served unchanged (EU 2023/1542 Annex VII): those no hmi_ output mirrors
ANNEX_VII_FIELDS: tuple[str, ...] = tuple(
    s for s in COMPONENT_INPUTS[COMPONENT] if f"hmi_{s}" not in SNAPSHOT_FIELDS)
#: the cell arrays of the pack (the measured values the cell monitor reports)
CELL_FIELDS: tuple[str, ...] = ("cell_voltage_V", "cell_temperature_degC")
#: the enum of each enumerated snapshot field, to name its value
ENUM_FIELDS: dict[str, type[Any]] = {"hmi_safety_state": SafetyState,
                                      "hmi_contactor_state": ContactorState}
#: the OpenAPI document generated from the spec (conformance/spec/exporters/openapi.py)
OPENAPI_PATH = Path(__file__).with_name("obsa_hmi_openapi.json")
OPENAPI: dict[str, Any] = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
#: the resources, path → what it serves (the document's paths)
RESOURCES: dict[str, str] = {path: item["get"]["summary"]
                             for path, item in OPENAPI["paths"].items()}
#: the declared limits the cell arrays are served with (safety supervisor parameters)
LIMIT_PARAMETERS: tuple[str, ...] = tuple(
    OPENAPI["components"]["schemas"]["Cells"]["properties"]["limits"]["properties"])


def plain(value: Any) -> Any:
    """A signal value as JSON: arrays as lists, numpy scalars as Python numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def snapshot(signals: Mapping[str, Any]) -> dict[str, Any]:
    """Every hmi_api output, and the name of each enumerated one (``<field>_name``)."""
    out = {f: plain(signals[f]) for f in SNAPSHOT_FIELDS}
    for field, enum in ENUM_FIELDS.items():
        out[f"{field}_name"] = enum(int(out[field])).name.lower()
    return out


def faults(signals: Mapping[str, Any]) -> dict[str, Any]:
    """The fault memory of the snapshot: one row per DTC of the spec's table."""
    status = plain(signals["hmi_dtc_status"])
    if len(status) != len(DTC_TABLE):
        raise ValueError(f"hmi_dtc_status has {len(status)} entries; expected one per DTC "
                         f"of the spec ({len(DTC_TABLE)})")
    rows = [{"dtc": f"0x{e.dtc:04X}", "component": e.component, "fault": e.fault,
             "severity": e.severity, "status": int(s),
             "status_name": DtcStatus(int(s)).name.lower()}
            for e, s in zip(DTC_TABLE, status, strict=True)]
    return {"hmi_snapshot_time_s": plain(signals["hmi_snapshot_time_s"]),
            "hmi_active_dtc_count": plain(signals["hmi_active_dtc_count"]), "dtcs": rows}


def annex_vii(signals: Mapping[str, Any]) -> dict[str, Any]:
    """The Annex VII data as the component reads them (it serves them unchanged)."""
    return {f: plain(signals[f]) for f in ANNEX_VII_FIELDS}


def cells(signals: Mapping[str, Any], limits: Mapping[str, float]) -> dict[str, Any]:
    """The cell arrays and the declared limits they are drawn against."""
    return {**{f: plain(signals[f]) for f in CELL_FIELDS}, "limits": dict(limits)}
