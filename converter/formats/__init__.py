"""Registry of the deposit formats: one YAML definition each, beside this file."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

# libyaml's loader when PyYAML was built with it: the definitions load ten times faster
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

from .model import DefinitionError, Field, FormatDefinition, Sheet, _sheet, parse_definition, resolve_extends

__all__ = ["DefinitionError", "Field", "FormatDefinition", "Sheet", "all_formats", "common_header", "get_format"]

_HERE = Path(__file__).parent


class UnknownFormat(KeyError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


@cache
def _common() -> dict:
    return yaml.load((_HERE / "_common.yaml").read_text(encoding="utf-8"), _Loader)


@cache
def common_header() -> Sheet:
    """The Entête sheet every format starts from."""
    return _sheet(_common()["header"])


def _raw(format_id: str) -> dict:
    path = _HERE / f"{format_id}.yaml"
    if format_id.startswith("_") or not path.is_file():
        raise DefinitionError(f"extends: unknown format {format_id!r}")
    return yaml.load(path.read_text(encoding="utf-8"), _Loader)


@cache
def all_formats() -> dict[str, FormatDefinition]:
    formats = {}
    for path in sorted(_HERE.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        raw = resolve_extends(yaml.load(path.read_text(encoding="utf-8"), _Loader), _raw)
        definition = parse_definition(raw, _common())
        if definition.id != path.stem:
            raise DefinitionError(f"{path.name}: id {definition.id!r} must match the file name")
        formats[definition.id] = definition
    for definition in formats.values():
        solde = definition.solde_format
        if solde is not None and (solde not in formats or formats[solde].nature != "solde"):
            raise DefinitionError(f"{definition.id}: solde_format {solde!r} is not a known solde format")
    return formats


def get_format(name: str) -> FormatDefinition:
    """The definition of format `name`; UnknownFormat only when no definition has this id.

    Loading the definitions happens outside any `except`: a KeyError from a malformed
    definition is a bug of the project and must surface as such, never as « format inconnu »."""
    formats = all_formats()
    if name not in formats:
        raise UnknownFormat(name)
    return formats[name]
