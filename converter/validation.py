"""The last guard before a deposit file is written: its rendered text is parsed as JSON and
validated against the format's JSON Schema (converter/schema.py). `inspect` runs in the
converting process or in a second one (converter/concurrency.py): the same check either way.

This module imports neither Polars nor the definitions: the second process starts light.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs  # noqa: F401 — the doctest builds its validator with it
import orjson

from .deposit import LINES
from .wording import counted

# the key of a deposit file's JSON Schema (schema.py) that says in French what each of its
# « pattern » asks: {pattern: description}; a key the validators ignore
PATTERN_HINTS = "x-formes-attendues"


def pattern_hints(schema: dict[str, Any]) -> dict[str, str]:
    """What each « pattern » of `schema` asks, in French (`PATTERN_HINTS`), for `said`."""
    found = schema.get(PATTERN_HINTS)
    return found if isinstance(found, dict) else {}


@dataclass(frozen=True)
class FileCheck:
    """What the schema found in one rendered file."""

    errors: list[tuple[int | None, str]]  # (index of the demande in lignesImport or None, message)
    written: Path | None = None  # the valid file, written under a temporary name (files.write_temporary)
    packed: bytes | None = None  # the valid file as the ledger keeps it (ledger.pack)


def inspect(validator: Any, data: bytes | str, hints: dict[str, str] | None = None) -> FileCheck:
    """Parse `data` and validate it with `validator` (jsonschema-rs, built from a format's schema;
    `hints`: its `pattern_hints`).

    >>> validator = jsonschema_rs.validator_for({"type": "object", "properties": {"lignesImport":
    ...     {"type": "array", "items": {"type": "object", "required": ["numLigne"]}}}})
    >>> inspect(validator, b'{"lignesImport": [{"numLigne": 1}, {"numLigne": 2}]}')
    FileCheck(errors=[], written=None, packed=None)
    >>> inspect(validator, b'{"lignesImport": [{"numLigne": 1}, {}]}').errors
    [(1, 'demande n° 2 du fichier : la balise « numLigne » manque')]

    Text that is not JSON (a rendering fault) is refused as a whole, never written; before,
    it stopped the conversion with a traceback, or left the second process waiting forever.

    >>> inspect(validator, b'{"lignesImport": [}').errors
    [(None, 'JSON illisible : unexpected character, expected a JSON value: line 1 column 19 (char 18)')]
    """
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return FileCheck([(None, f"JSON illisible : {exc}")])
    if validator.is_valid(document):  # the common case, a third faster than listing no error
        return FileCheck([])
    errors = []
    for error in validator.iter_errors(document):
        path = list(error.instance_path)
        index = path[1] if len(path) > 1 and path[0] == LINES else None
        errors.append((index, f"{_where(document, path)} : {said(error, hints)}"))
    return FileCheck(errors)


def _where(document: Any, path: list[Any]) -> str:
    """Where in a deposit file the schema error `path` lies, in French: the demande (its
    numeroEditeur) and the balise within it.

    >>> _where({"lignesImport": [{"numeroEditeur": "00007", "etablissementsClients": []}]},
    ...        ["lignesImport", 0, "etablissementsClients", 0, "FINESSJuridique"])
    'demande 00007, balise « etablissementsClients/0/FINESSJuridique »'
    """
    if len(path) > 1 and path[0] == LINES and isinstance(path[1], int):
        line = document[LINES][path[1]]
        numero = line.get("numeroEditeur") if isinstance(line, dict) else None
        demande = f"demande {numero}" if isinstance(numero, str) else f"demande n° {path[1] + 1} du fichier"
        inner = "/".join(map(str, path[2:]))
        return f"{demande}, balise « {inner} »" if inner else demande
    return f"balise « {'/'.join(map(str, path))} »" if path else "fichier"


SHOWN = 60  # characters of a value the message quotes
TYPES = {"string": "un texte", "integer": "un entier", "number": "un nombre", "boolean": "true ou false",
         "null": "null", "object": "un objet { }", "array": "une liste [ ]"}


def _short(value: Any) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


def said(error: Any, hints: dict[str, str] | None = None) -> str:
    """A schema error in French, quoting at most SHOWN characters of the value: the validator's
    own message (English) quotes the value whole, a list of 201 demandes included. A
    « pattern » is said as `hints` (`pattern_hints`) describe it, never as its regex.

    >>> print(*(said(e, {"^[0-9]{9}$": "9 chiffres"}) for e in jsonschema_rs.validator_for({"pattern": "^[0-9]{9}$"}).iter_errors("12")))
    "12" n'a pas la forme attendue (9 chiffres)

    >>> import jsonschema_rs
    >>> [said(e) for e in jsonschema_rs.validator_for({"not": {"const": "a"}, "multipleOf": 2}).iter_errors(3)]
    ['3 est refusé par le schéma du format (règle « multipleOf »)']
    >>> [said(e) for e in jsonschema_rs.validator_for({"minItems": 2, "maxProperties": 9}).iter_errors([1])]
    ['1 élément, pour 2 au moins']
    >>> schema = {"properties": {"a": {"minLength": 1}}, "additionalProperties": False}
    >>> [said(e) for e in jsonschema_rs.validator_for(schema).iter_errors({"a": "", "b": 1})]
    ['"" a moins de 1 caractère', 'balise inconnue du format : b']
    >>> print(*(said(e) for e in jsonschema_rs.validator_for({"not": {"const": "a"}}).iter_errors("a")))
    "a" n'est pas permis ici
    """
    kind, value = error.kind, error.instance
    said = {
        "maxItems": lambda: f"{len(value)} éléments, pour {kind.limit} au plus",
        "minItems": lambda: f"{counted(len(value), 'élément')}, pour {kind.limit} au moins",
        "maximum": lambda: f"{_short(value)} dépasse le maximum, {kind.limit}",
        "minimum": lambda: f"{_short(value)} est sous le minimum, {kind.limit}",
        "exclusiveMaximum": lambda: f"{_short(value)} doit être inférieur à {kind.limit}",
        "exclusiveMinimum": lambda: f"{_short(value)} doit être supérieur à {kind.limit}",
        "maxLength": lambda: f"{_short(value)} dépasse {kind.limit} caractères",
        "minLength": lambda: f"{_short(value)} a moins de {counted(kind.limit, 'caractère')}",
        "type": lambda: f"{_short(value)} n'est pas {' ni '.join(TYPES.get(t, t) for t in kind.types)}",
        "required": lambda: f"la balise « {kind.property} » manque",
        "additionalProperties": lambda: (f"{'balise inconnue' if len(kind.unexpected) < 2 else 'balises inconnues'} du "
                                         f"format : {', '.join(kind.unexpected)}"),
        "enum": lambda: f"{_short(value)} n'est pas une valeur permise ({_short(kind.options)})",
        "const": lambda: f"{_short(value)} au lieu de {_short(kind.expected_value)}",
        "pattern": lambda: f"{_short(value)} n'a pas la forme attendue" + (
            f" ({(hints or {})[kind.pattern]})" if kind.pattern in (hints or {}) else ""),
        "anyOf": lambda: f"{_short(value)} n'est pas une valeur permise",
        "not": lambda: f"{_short(value)} n'est pas permis ici",
    }.get(kind.name)
    return said() if said else f"{_short(value)} est refusé par le schéma du format (règle « {kind.name} »)"
