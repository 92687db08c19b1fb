"""The JSON Schema of a deposit file, derived from the format definition's `json:` layout."""

from __future__ import annotations

from typing import Any

from .formats import Field, FormatDefinition, Sheet, get_format
from .kinds import kind
from .kinds.base import UPPER_PATTERN
from .validation import PATTERN_HINTS

def _field_schema(definition: FormatDefinition, f: Field) -> dict[str, Any]:
    s = kind(f.kind).json_schema(definition, f)
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
    schema = {
        "type": "object",
        "properties": {k: _node(definition, sheet, v) for k, v in node.items()},
        "required": list(node),
        "additionalProperties": False,
    }
    rules = _conditional_lists(definition, node)
    if rules:
        schema["allOf"] = rules
    return schema


def _conditional_lists(definition: FormatDefinition, node: dict[str, Any]) -> list[dict[str, Any]]:
    """if/then rules for the lists whose parent link has `required_if` / `forbidden_unless`,
    when the tested balises sit in the same JSON object as the list (e.g. commandePour beside
    liberalRPPS): at least one item when the condition holds, none unless it does."""
    where = {v: k for k, v in node.items() if isinstance(v, str)}  # balise → JSON key
    rules = []
    for key, child in node.items():
        if not (isinstance(child, dict) and "each" in child):
            continue
        link = definition.by_name[child["each"]].parent
        for cond, then in ((link and link.required_if, {"minItems": 1}),
                           (link and link.forbidden_unless, {"maxItems": 0})):
            if cond is None or not cond.balises <= set(where):
                continue
            test = {"anyOf": [
                {"properties": {where[b]: {"const": v} for b, v in alt}, "required": [where[b] for b, _ in alt]}
                for alt in cond.alternatives
            ]}
            rule = {"if": test, "then": {"properties": {key: then}}}
            if "maxItems" in then:
                rule = {"if": {"not": test}, "then": {"properties": {key: then}}}
            rules.append(rule)
    return rules


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


def json_schema(format_id: str) -> dict[str, Any]:
    """The JSON Schema of the deposit files of `format_id`, as its definition stands."""
    return _schema_of(get_format(format_id))


_built: dict[str, tuple[FormatDefinition, dict[str, Any]]] = {}


def _schema_of(definition: FormatDefinition) -> dict[str, Any]:
    """Built once per definition: a definition replaced under the same id (a file of other
    limits) gets a schema of its own, never the one built for its predecessor."""
    kept = _built.get(definition.id)
    if kept is None or kept[0] is not definition:
        kept = _built[definition.id] = (definition, _build(definition))
    return kept[1]


def _build(definition: FormatDefinition) -> dict[str, Any]:
    schema = _node(definition, definition.header, definition.envelope)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"Fichier de dépôt ASP — {definition.title}",
        "description": f"Dérivé de la définition du format {definition.id} ({definition.source}).",
        **schema,
        PATTERN_HINTS: _pattern_hints(definition),
    }


def _pattern_hints(definition: FormatDefinition) -> dict[str, str]:
    """Each « pattern » of the schema → what it asks, in French, for the messages of its
    errors (validation.said): the field's `pattern_hint` for its own pattern, « en MAJUSCULES »
    for `upper`, else its kind's description (« date au format JJ/MM/AAAA »)."""
    hints: dict[str, str] = {}
    for sheet in (definition.header, *definition.sheets):
        for f in sheet.fields:
            for pattern in _patterns(kind(f.kind).json_schema(definition, f)):
                hints.setdefault(pattern, f.pattern_hint if pattern == f.pattern and f.pattern_hint else
                                 "en MAJUSCULES" if pattern == UPPER_PATTERN else
                                 kind(f.kind).describe(definition, f))
    return hints


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [*([node["pattern"]] if isinstance(node.get("pattern"), str) else []),
                *(p for v in node.values() for p in _patterns(v))]
    if isinstance(node, list):
        return [p for v in node for p in _patterns(v)]
    return []
