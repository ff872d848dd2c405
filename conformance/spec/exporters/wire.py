"""JSON Schemas of the wire contract (``schemas/wire/request.schema.json`` and
``response.schema.json``): the protocol's messages, with the names a message may carry taken
from the spec.

The shape of the protocol (JSON-RPC 2.0, the methods and their params and results) is
written once, in ``wire_protocol/*.json`` next to this module; what a request may name is
the spec's: a component is one of the spec's component ids and a signal one of the data
dictionary's names, listed in the generated schemas, so that a module checks a request
against exactly the standard it implements. The records inside the messages are the
per-component schemas of :mod:`.records`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..loader import Spec
from ._files import json_text, write_files

PROTOCOL = Path(__file__).with_name("wire_protocol")
MESSAGES = ("request", "response")


def _template(message: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((PROTOCOL / f"{message}.json").read_text(encoding="utf-8"))
    return doc


def document(spec: Spec, message: str) -> dict[str, Any]:
    """One message schema: the protocol's, with the spec's component and signal names."""
    doc = _template(message)
    defs = doc.get("$defs", {})
    if "component" in defs:
        defs["component"] = {"type": "string", "enum": sorted(spec.interfaces),
                             "description": "a component id of the spec"}
    if "signal_name" in defs:
        defs["signal_name"] = {"type": "string", "enum": sorted(spec.signals),
                               "description": "a signal of the data dictionary"}
    return doc


def render(spec: Spec) -> dict[str, str]:
    """``{"request.schema.json": text, "response.schema.json": text}``."""
    return {f"{m}.schema.json": json_text(document(spec, m)) for m in MESSAGES}


def dump(spec: Spec, out_dir: Path) -> list[Path]:
    return write_files(render(spec), out_dir)
