"""The telemetry's wire format (an interface's ``wire`` section): what a gateway publishes
over MQTT and a collector stores.

- ``schemas/telemetry/<component>.record.schema.json``: the JSON Schema (draft 2020-12) of
  one record: the sequence number, the wall-clock time stamp and every field the section
  lists, each with the schema of its dictionary signal (range, unit, resolution, enum);
  every key required, no other allowed;
- ``<component>.status.schema.json``: the presence message of the status topic;
- ``<component>.topics.json``: the MQTT topic layout — per topic its pattern, QoS, retain
  flag and payload, with the keys of the record in order.

The reference gateway (:mod:`reference_impl.connectivity`) never imports ``conformance``, so
it reads the same three documents from one file generated into its own package
(:data:`REFERENCE`: ``reference_impl/connectivity/obsa_telemetry_wire.json``), checked in and
drift-checked like every other artefact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..loader import Spec
from ..models import Interface
from ._files import json_text, write_files
from .records import DIALECT, signal_schema

BASE_ID = "https://obsa.dev/schemas/telemetry/"
REFERENCE_FILE = "obsa_telemetry_wire.json"


def wired(spec: Spec) -> list[Interface]:
    """The interfaces with a wire format, by component id."""
    return [spec.interfaces[c] for c in sorted(spec.interfaces)
            if spec.interfaces[c].wire is not None]


def record_schema(spec: Spec, itf: Interface) -> dict[str, Any]:
    """The JSON Schema of one record of ``itf``."""
    wire = itf.wire
    assert wire is not None
    properties: dict[str, Any] = {
        wire.sequence.name: {"type": "integer", "minimum": 0, "title": wire.sequence.name,
                             "description": " ".join(wire.sequence.description.split()),
                             "x-obsa-unit": "1"},
        wire.timestamp.name: {"type": "number", "minimum": 0, "title": wire.timestamp.name,
                              "description": " ".join(wire.timestamp.description.split()),
                              "x-obsa-unit": "s"},
    }
    for name in wire.fields:
        properties[name] = signal_schema(spec, spec.signals[name])
    return {
        "$schema": DIALECT,
        "$id": f"{BASE_ID}{itf.component}.record.schema.json",
        "title": f"{itf.component} record",
        "description": " ".join(wire.description.split()),
        "type": "object",
        "properties": properties,
        "required": [wire.sequence.name, wire.timestamp.name, *wire.fields],
        "additionalProperties": False,
        "x-obsa-component": itf.component,
        "x-obsa-spec-version": spec.version,
    }


def status_schema(spec: Spec, itf: Interface) -> dict[str, Any]:
    """The JSON Schema of the presence message of ``itf``'s status topics."""
    return {
        "$schema": DIALECT,
        "$id": f"{BASE_ID}{itf.component}.status.schema.json",
        "title": f"{itf.component} status",
        "description": "The publisher's presence: true once connected, false as its last "
                       "will and when it disconnects cleanly.",
        "type": "object",
        "properties": {"online": {"type": "boolean"}},
        "required": ["online"],
        "additionalProperties": False,
        "x-obsa-component": itf.component,
        "x-obsa-spec-version": spec.version,
    }


def topics(spec: Spec, itf: Interface) -> dict[str, Any]:
    """The topic layout of ``itf``: every topic, and the record's keys in order."""
    wire = itf.wire
    assert wire is not None
    return {
        "component": itf.component,
        "spec_version": spec.version,
        "encoding": wire.encoding,
        "sequence": wire.sequence.name,
        "timestamp": wire.timestamp.name,
        "fields": list(wire.fields),
        "topics": {t.name: {"pattern": t.pattern, "qos": t.qos, "retain": t.retain,
                            "payload": t.payload,
                            "description": " ".join(t.description.split())}
                   for t in wire.topics},
    }


def render(spec: Spec) -> dict[str, str]:
    """``{"<component>.record.schema.json": text, ...status..., ...topics.json}``."""
    out: dict[str, str] = {}
    for itf in wired(spec):
        out[f"{itf.component}.record.schema.json"] = json_text(record_schema(spec, itf))
        out[f"{itf.component}.status.schema.json"] = json_text(status_schema(spec, itf))
        out[f"{itf.component}.topics.json"] = json_text(topics(spec, itf))
    return out


def dump(spec: Spec, out_dir: Path) -> list[Path]:
    return write_files(render(spec), out_dir)


class _Reference:
    """The same documents in one file of the reference implementation's package."""

    @staticmethod
    def render(spec: Spec) -> dict[str, str]:
        doc = {itf.component: {"record_schema": record_schema(spec, itf),
                               "status_schema": status_schema(spec, itf),
                               **topics(spec, itf)} for itf in wired(spec)}
        return {REFERENCE_FILE: json_text(doc)}

    @staticmethod
    def dump(spec: Spec, out_dir: Path) -> list[Path]:
        return write_files(_Reference.render(spec), out_dir)


REFERENCE = _Reference()
