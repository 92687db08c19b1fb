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


@dataclass(frozen=True)
class FileCheck:
    """What the schema found in one rendered file."""

    errors: list[tuple[int | None, str]]  # (index of the demande in lignesImport or None, message)
    written: Path | None = None  # the valid file, written under a temporary name (files.write_temporary)
    packed: bytes | None = None  # the valid file as the ledger keeps it (ledger.pack)


def inspect(validator: Any, data: bytes | str) -> FileCheck:
    """Parse `data` and validate it with `validator` (jsonschema-rs, built from a format's schema).

    >>> validator = jsonschema_rs.validator_for({"type": "object", "properties": {"lignesImport":
    ...     {"type": "array", "items": {"type": "object", "required": ["numLigne"]}}}})
    >>> inspect(validator, b'{"lignesImport": [{"numLigne": 1}, {"numLigne": 2}]}')
    FileCheck(errors=[], written=None, packed=None)
    >>> inspect(validator, b'{"lignesImport": [{"numLigne": 1}, {}]}').errors
    [(1, 'lignesImport/1 : "numLigne" is a required property')]

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
        errors.append((index, f"{'/'.join(map(str, path))} : {error.message}"))
    return FileCheck(errors)
