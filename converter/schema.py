"""The JSON Schema of a deposit file, derived from the format definition's `json:` layout."""

from __future__ import annotations

from functools import cache
from typing import Any

from .checks.values import allowed_values
from .formats import Field, FormatDefinition, Sheet, get_format

_PATTERNS = {
    "finess": r"^(\d{9}|2[AB]\d{7})$",
    "rpps": r"^\d{11}$",
    "siret": r"^\d{14}$",
    "numero_ans": r"^\d{10}$",
    "numero_editeur": r"^[A-Za-z0-9]{5}$",
    "date": r"^(0[1-9]|[12]\d|3[01])/(0[1-9]|1[0-2])/(19|20)\d{2}$",
    "email": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    "phone": r"^\+[1-9]\d{4,}$",
}


def _field_schema(definition: FormatDefinition, f: Field) -> dict[str, Any]:
    if f.kind == "boolean":
        s: dict[str, Any] = {"type": "boolean"}
    elif f.kind == "amount":
        s = {"type": "number", "exclusiveMinimum": 0}  # two decimals: written by the template
    elif f.kind == "integer":
        s = {"type": "integer"}
        if f.minimum is not None:
            s["minimum"] = f.minimum
    elif f.kind == "choice":
        s = {"enum": list(allowed_values(definition, f))}
    else:
        s = {"type": "string"}
        if f.kind in _PATTERNS:
            s["pattern"] = _PATTERNS[f.kind]
        if f.kind == "numero_asp":
            s["pattern"] = rf"^{f.prefix}[A-Z0-9]{{{12 - len(f.prefix or '')}}}$"
        if f.kind == "email":
            s["maxLength"] = 149
        if f.kind == "phone":
            s["maxLength"] = 49
        if f.length is not None:
            s["minLength"] = s["maxLength"] = f.length
        if f.max_length is not None:
            s["maxLength"] = f.max_length
        if f.pattern:
            s["allOf"] = [{"pattern": f.pattern}]
    if f.presence.mode != "required":
        s = {"anyOf": [s, {"type": "null"}]}
    s["description"] = f.note
    return s


def _node(definition: FormatDefinition, sheet: Sheet, node: Any) -> dict[str, Any]:
    if isinstance(node, str):
        return _field_schema(definition, sheet.by_balise[node])
    if "const" in node:
        return {"const": node["const"]}
    if "computed" in node:
        return _computed(definition, node["computed"])
    if "each" in node:
        child = definition.by_name[node["each"]]
        item = _field_schema(definition, child.by_balise[node["value"]]) if "value" in node \
            else _node(definition, child, node["item"])
        return {"type": "array", "minItems": 1 if child.parent and child.parent.required else 0, "items": item}
    return {
        "type": "object",
        "properties": {k: _node(definition, sheet, v) for k, v in node.items()},
        "required": list(node),
        "additionalProperties": False,
    }


def _computed(definition: FormatDefinition, name: str) -> dict[str, Any]:
    if name == "numLigne":
        return {"type": "integer", "minimum": 1, "maximum": definition.limits.max_demandes_per_file}
    if name == "attachments":
        return {
            "type": "array", "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "nomFichier": {"type": "string", "maxLength": 49},
                    "formatFichier": {"enum": list(definition.limits.attachment_formats)},
                    "typeFichier": {"enum": list(definition.attachments.type_names)},
                },
                "required": ["nomFichier", "formatFichier", "typeFichier"],
                "additionalProperties": False,
            },
        }
    if name == "demandes":
        return {
            "type": "array", "minItems": 1, "maxItems": definition.limits.max_demandes_per_file,
            "items": _node(definition, definition.demandes, definition.json),
        }
    raise ValueError(f"unknown computed value {name!r}")


@cache
def json_schema(format_id: str) -> dict[str, Any]:
    definition = get_format(format_id)
    schema = _node(definition, definition.header, definition.envelope)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Fichier de dépôt ASP — {definition.title}",
        "description": f"Dérivé de la définition du format {definition.id} ({definition.source}).",
        **schema,
    }
