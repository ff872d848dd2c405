"""The requirements catalogue as a sphinx-needs ``needs.json`` (for ``needimport``).

One need of type ``req`` per requirement and one of type ``spec`` per component interface;
a requirement links to the interface of its component, so the published catalogue shows
which requirements bind each component. The file is rendered without a timestamp so that
it can be checked in and compared byte for byte.

The docs configuration declares :data:`EXTRA_OPTIONS` as ``needs_extra_options``, the two
types ``req`` and ``spec`` in ``needs_types``, and an ``needs_id_regex`` that accepts the
spec's IDs (``OBSA-SAFE-001``, ``OBSA-IF-SAFETY_SUPERVISOR``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..loader import Spec
from ..models import Criterion, Interface, Requirement
from ._files import json_text, write_files

FILE = "needs.json"
ID_REGEX = r"^OBSA-[A-Z0-9_-]+$"
REQ_EXTRA = ("area", "component", "level", "condition", "verification", "since", "rationale",
             "acceptance", "profiles", "spec_source")
SPEC_EXTRA = ("component", "layer", "node", "step_period_s", "parameters", "inputs", "outputs",
              "fault_codes", "spec_source")
EXTRA_OPTIONS = tuple(sorted(set(REQ_EXTRA) | set(SPEC_EXTRA)))
"""Every extra field a need of this file carries (all strings)."""


def interface_need_id(component: str) -> str:
    return f"OBSA-IF-{component.upper()}"


def number(value: float) -> str:
    """``1.0`` → ``1``, ``0.005`` → ``0.005``: limits as a person writes them."""
    return str(int(value)) if float(value).is_integer() else repr(value)


def criterion_text(c: Criterion) -> str:
    """``name <= limit unit: description``; a parameter limit reads 'declared <parameter>'."""
    limit = (f"{number(c.value)} {c.unit}" if c.value is not None
             else f"declared {c.parameter} ({c.unit})")
    return f"{c.name} {c.comparison} {limit}: {' '.join(c.description.split())}"


def _source(spec: Spec, obj: Any) -> str:
    file, line, _ = spec.where(obj)
    return f"{file}:{line}" if line else file


def requirement_need(spec: Spec, req: Requirement, area: str) -> dict[str, Any]:
    links = [interface_need_id(req.component)] if req.component in spec.interfaces else []
    return {
        "id": req.id,
        "type": "req",
        "type_name": "Requirement",
        "title": req.title,
        "description": " ".join(req.statement.split()),
        "tags": [area, req.level, *req.profiles],
        "links": links,
        "area": area,
        "component": req.component,
        "level": req.level,
        "condition": req.condition or "",
        "verification": req.verification,
        "since": req.since,
        "rationale": " ".join(req.rationale.split()),
        "acceptance": "\n".join(criterion_text(c) for c in req.acceptance),
        "profiles": ", ".join(req.profiles),
        "spec_source": _source(spec, req),
    }


def interface_need(spec: Spec, itf: Interface) -> dict[str, Any]:
    comp = spec.components.get(itf.component)
    title = comp.title if comp is not None else itf.component
    return {
        "id": interface_need_id(itf.component),
        "type": "spec",
        "type_name": "Interface",
        "title": f"{title} interface",
        "description": " ".join(itf.description.split()),
        "tags": ["interface", *([comp.layer] if comp is not None else [])],
        "links": [],
        "component": itf.component,
        "layer": comp.layer if comp is not None else "",
        "node": comp.node if comp is not None else "",
        "step_period_s": number(itf.step_period_s),
        "parameters": ", ".join(p.name for p in itf.parameters),
        "inputs": ", ".join(p.signal for p in itf.inputs),
        "outputs": ", ".join(p.signal for p in itf.outputs),
        "fault_codes": ", ".join(f.name for f in itf.fault_codes),
        "spec_source": _source(spec, itf),
    }


def needs(spec: Spec) -> dict[str, dict[str, Any]]:
    """need id → need, for every requirement and every interface."""
    out = {interface_need_id(c): interface_need(spec, itf) for c, itf in spec.interfaces.items()}
    for rf in spec.requirement_files:
        for req in rf.requirements:
            out[req.id] = requirement_need(spec, req, rf.area)
    return out


def document(spec: Spec) -> dict[str, Any]:
    found = needs(spec)
    return {
        "current_version": spec.version,
        "project": spec.standard.name,
        "versions": {spec.version: {"needs": found, "needs_amount": len(found)}},
    }


def render(spec: Spec) -> dict[str, str]:
    """``{"needs.json": text}``."""
    return {FILE: json_text(document(spec))}


def dump(spec: Spec, out_dir: Path) -> list[Path]:
    return write_files(render(spec), out_dir)
