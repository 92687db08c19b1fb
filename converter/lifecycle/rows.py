"""A deposited demande turned back into workbook rows, by walking the format's `json:` layout:
a leaf names a balise of the sheet in scope, `each:` a child sheet, whose parent keys come
from the enclosing row (the solde workbook, xl2segur importer)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..formats import FormatDefinition, Sheet

PIECES_ALIAS = "pieces"


def amount_balise(sheet: Sheet) -> str | None:
    return next((f.balise for f in sheet.fields if f.kind == "amount"), None)


def json_values(demande: Any, key: str) -> set[str]:
    """The texts under `key` anywhere in a demande's JSON (a text, or a list of texts).

    >>> sorted(json_values({"a": [{"FINESSGeo": "1"}, {"FINESSGeo": "2", "b": {"FINESSGeo": ["3"]}}]}, "FINESSGeo"))
    ['1', '2', '3']
    """
    found: set[str] = set()
    if isinstance(demande, dict):
        for k, value in demande.items():
            if k == key and isinstance(value, str):
                found.add(value)
            elif k == key and isinstance(value, list):
                found |= {v for v in value if isinstance(v, str)}
            else:
                found |= json_values(value, key)
    elif isinstance(demande, list):
        for value in demande:
            found |= json_values(value, key)
    return found


def _text(kind: str, value: Any) -> str | None:
    """A JSON value as the workbook shows it.

    >>> _text("boolean", True), _text("amount", 1075.0), _text("integer", 120), _text("finess", None)
    ('VRAI', '1075.00', '120', None)
    """
    if value is None:
        return None
    if kind == "boolean":
        return "VRAI" if value else "FAUX"
    if kind == "amount":
        return f"{Decimal(str(value)):.2f}"
    return str(value)


def rows_from_json(definition: FormatDefinition, demande: dict[str, Any]) -> dict[str, list[dict[str, str | None]]]:
    """The workbook rows (sheet name → rows of text) of one demande, from its deposit JSON."""
    out: dict[str, list[dict[str, str | None]]] = {s.name: [] for s in definition.sheets}

    def walk(layout: dict[str, Any], data: Any, sheet: Sheet, row: dict[str, str | None]) -> None:
        data = data if isinstance(data, dict) else {}
        lists = []
        for key, node in layout.items():
            if isinstance(node, str):
                row[node] = _text(sheet.by_balise[node].kind, data.get(key)) if node in sheet.by_balise else None
            elif isinstance(node, dict) and "each" in node:
                lists.append((node, data.get(key)))
            elif isinstance(node, dict) and not ({"const", "computed"} & set(node)):
                walk(node, data.get(key), sheet, row)
        for node, items in lists:  # children after the row's own values: they inherit its keys
            child = definition.by_name[node["each"]]
            keys = child.parent.by if child.parent else ()
            for item in items if isinstance(items, list) else []:
                child_row = {k: row.get(k) for k in keys}
                if "value" in node:
                    child_row[node["value"]] = _text(child.by_balise[node["value"]].kind, item)
                else:
                    walk(node["item"], item, child, child_row)
                out[child.name].append(child_row)

    top: dict[str, str | None] = {}
    walk(definition.json or {}, demande, definition.demandes, top)
    out[definition.demandes.name].insert(0, top)
    return out
