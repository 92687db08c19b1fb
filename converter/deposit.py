"""Deposit files: `JSON-<numeroAns>-<AAAAMMJJ>-<NNN>.json`, at most 200 demandes each.

NNN is the file's rank among those deposited that day for that numeroAns: it continues after
the files already in the folder, and a name taken meanwhile by another run is skipped.
"""

from __future__ import annotations

import os
import re
from functools import cache
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import jsonschema_rs
import orjson

from .files import write_first_free
from .schema import json_schema


def deposit_name(numero_ans: str, day: date, rank: int) -> str:
    """
    >>> deposit_name("0123456789", date(2024, 3, 12), 3)
    'JSON-0123456789-20240312-003.json'
    """
    return f"JSON-{numero_ans}-{day:%Y%m%d}-{rank:03d}.json"


def existing_ranks(folder: Path, numero_ans: str, day: date) -> set[int]:
    prefix = f"JSON-{numero_ans}-{day:%Y%m%d}-"
    pattern = re.compile(rf"^{re.escape(prefix)}(\d{{3}})\.json$")
    if not folder.is_dir():
        return set()
    # os.listdir and a prefix test: this runs before each of the 500 files of 100,000 demandes
    return {int(m.group(1)) for name in os.listdir(folder) if name.startswith(prefix) and (m := pattern.match(name))}


def _candidates(folder: Path, numero_ans: str, day: date, floor: int) -> Iterator[Path]:
    rank = max(existing_ranks(folder, numero_ans, day) | {floor - 1}) + 1
    while rank <= 999:
        yield folder / deposit_name(numero_ans, day, rank)
        rank += 1


@cache
def _validator(format_id: str):
    """Built once per format: building it costs more than validating a file."""
    return jsonschema_rs.validator_for(json_schema(format_id))


def schema_errors(format_id: str, document: object) -> list[tuple[int | None, str]]:
    """(index of the demande in lignesImport or None, message) for each schema violation."""
    validator = _validator(format_id)
    found = []
    for error in validator.iter_errors(document):
        path = list(error.instance_path)
        index = path[1] if len(path) > 1 and path[0] == "lignesImport" else None
        found.append((index, f"{'/'.join(map(str, path))} : {error.message}"))
    return found


def validate(format_id: str, text: str) -> list[tuple[int | None, str]]:
    """Parse the rendered text as JSON and check it against the format's schema."""
    return schema_errors(format_id, orjson.loads(text))


def write_deposit(folder: Path, numero_ans: str, day: date, text: str, floor: int = 1) -> Path:
    """Write one (validated) deposit file atomically under the next free rank."""
    return write_first_free(_candidates(folder, numero_ans, day, floor),
                            lambda tmp: tmp.write_text(text, encoding="utf-8"))
