"""A JSON Schema (draft 2020-12, as the project writes them) as reference pages: one table
per object — field, type, required, default, constraints, meaning — and one section per
definition (``$defs``) that the tables link to."""

from __future__ import annotations

import json
from typing import Any

from .rst import esc, esc_doc, heading, lit, slug, table

#: an enum longer than this is summarised ("one of 115 values") rather than listed
MAX_ENUM = 12


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


class SchemaPage:
    """Renders one schema; ``prefix`` makes its section labels unique across pages."""

    def __init__(self, schema: dict[str, Any], prefix: str) -> None:
        self.schema = schema
        self.prefix = prefix
        self.defs: dict[str, Any] = schema.get("$defs", {})

    def label(self, name: str) -> str:
        return f"{self.prefix}-{slug(name)}"

    # ---------------------------------------------------------------- types
    def type_of(self, node: dict[str, Any]) -> str:
        if not isinstance(node, dict):
            return "any"
        if "$ref" in node:
            name = _ref_name(node["$ref"])
            return f":ref:`{esc(name)} <{self.label(name)}>`" if name in self.defs else lit(name)
        if "const" in node:
            return f"constant {lit(json.dumps(node['const']))}"
        if "enum" in node:
            values = node["enum"]
            if len(values) > MAX_ENUM:
                return f"one of {len(values)} values"
            return "one of " + ", ".join(lit(json.dumps(v)) for v in values)
        for key in ("anyOf", "oneOf"):
            if key in node:
                parts = [self.type_of(n) for n in node[key]]
                return " or ".join(p for p in parts if p)
        if "allOf" in node and len(node["allOf"]) == 1:
            return self.type_of(node["allOf"][0])
        t = node.get("type")
        if isinstance(t, list):
            return " or ".join(esc(x) for x in t)
        if t == "array":
            items = node.get("items")
            return f"array of {self.type_of(items)}" if isinstance(items, dict) else "array"
        if t == "object":
            pattern = node.get("patternProperties")
            if pattern:
                (key, value), *_ = pattern.items()
                return f"object: {lit(key)} → {self.type_of(value)}"
            extra = node.get("additionalProperties")
            if isinstance(extra, dict) and extra:
                return f"object: name → {self.type_of(extra)}"
            return "object"
        return esc(t) if t else "any"

    def constraints(self, node: dict[str, Any]) -> str:
        parts = []
        words = {"minimum": "≥", "maximum": "≤", "exclusiveMinimum": ">",
                 "exclusiveMaximum": "<", "minLength": "length ≥", "maxLength": "length ≤",
                 "minItems": "items ≥", "maxItems": "items ≤", "minProperties": "fields ≥",
                 "maxProperties": "fields ≤"}
        for branch in [node, *node.get("anyOf", []), *node.get("oneOf", [])]:
            if not isinstance(branch, dict):
                continue
            for key, word in words.items():
                if key in branch:
                    parts.append(f"{word} {branch[key]}")
            if "pattern" in branch:
                parts.append(f"matches {lit(branch['pattern'])}")
            if "format" in branch:
                parts.append(f"format {esc(branch['format'])}")
        return "; ".join(dict.fromkeys(parts))

    @staticmethod
    def _describe(node: dict[str, Any]) -> str:
        text = node.get("description") or ""
        return esc_doc(text)

    # ---------------------------------------------------------------- tables
    def object_table(self, node: dict[str, Any]) -> str:
        props: dict[str, Any] = node.get("properties", {})
        required = set(node.get("required", []))
        rows = []
        for name, sub in props.items():
            if not isinstance(sub, dict):  # ``true``: anything
                sub = {}
            default = lit(json.dumps(sub["default"])) if "default" in sub else ""
            rows.append([lit(name), self.type_of(sub), "yes" if name in required else "",
                         default, self.constraints(sub), self._describe(sub)])
        text = table(["field", "type", "required", "default", "constraints", "meaning"], rows,
                     widths=[18, 18, 7, 9, 16, 32])
        extra = node.get("additionalProperties")
        if props and extra is False:
            text += "\nNo other field is accepted.\n"
        return text

    def section(self, name: str, node: dict[str, Any], char: str) -> str:
        out = [f".. _{self.label(name)}:", "", heading(esc(name), char)]
        if node.get("description"):
            out += [esc_doc(node["description"]), ""]
        if node.get("type") == "object" or "properties" in node:
            body = self.object_table(node)
            out.append(body or f"Type: {self.type_of(node)}.\n")
        else:
            out.append(f"Type: {self.type_of(node)}. {self.constraints(node)}\n")
        return "\n".join(out)

    def render(self, root_title: str, char: str = "-", sub_char: str = "~") -> str:
        """The root object's table, then every definition."""
        out = [self.section(root_title, self.schema, char)]
        for name in sorted(self.defs):
            out.append(self.section(name, self.defs[name], sub_char))
        return "\n".join(out)
