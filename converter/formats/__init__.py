"""Registry of the deposit formats: one YAML definition each, beside this file."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from .model import DefinitionError, Field, FormatDefinition, Sheet, _sheet, parse_definition

__all__ = ["DefinitionError", "Field", "FormatDefinition", "Sheet", "all_formats", "common_header", "get_format"]

_HERE = Path(__file__).parent


class UnknownFormat(KeyError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


@cache
def _common() -> dict:
    return yaml.safe_load((_HERE / "_common.yaml").read_text(encoding="utf-8"))


@cache
def common_header() -> Sheet:
    """The Entête sheet every format starts from."""
    return _sheet(_common()["header"])


@cache
def all_formats() -> dict[str, FormatDefinition]:
    formats = {}
    for path in sorted(_HERE.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        definition = parse_definition(yaml.safe_load(path.read_text(encoding="utf-8")), _common())
        if definition.id != path.stem:
            raise DefinitionError(f"{path.name}: id {definition.id!r} must match the file name")
        formats[definition.id] = definition
    return formats


def get_format(name: str) -> FormatDefinition:
    try:
        return all_formats()[name]
    except KeyError:
        raise UnknownFormat(name) from None
