"""Registry of the deposit formats: one YAML definition each, beside this file."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

# libyaml's loader when PyYAML was built with it: the definitions load ten times faster
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

from .model import DefinitionError, Field, FormatDefinition, Sheet, _sheet, parse_definition, resolve_extends

__all__ = ["DefinitionError", "Field", "FormatDefinition", "Sheet", "all_formats", "common_header", "format_key",
           "get_format", "numero_formats", "typed_format"]

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
    for definition in formats.values():
        family = [formats[f] for f in _family(formats, definition)]
        if len({d.new_numero_after_rejection for d in family}) > 1:
            raise DefinitionError(f"{definition.id}: new_numero_after_rejection must be the same for "
                                  f"{', '.join(d.id for d in family)} (they share their numeroEditeur)")
    return formats


def _family(formats: dict[str, FormatDefinition], definition: FormatDefinition) -> tuple[str, ...]:
    return tuple(d.id for d in formats.values() if d.produces_deposit and (d.couloir, d.nature) ==
                 (definition.couloir, definition.nature)) if definition.produces_deposit else (definition.id,)


def numero_formats(format_id: str) -> tuple[str, ...]:
    """The deposit formats whose demandes share one numeroEditeur space with `format_id`'s:
    those of the same couloir and nature (the variants of one couloir's avance, of its solde).

    A numeroEditeur is unique per editor per demande: a demande deposited as one variant may
    not be deposited again as another. An avance and its solde share their numeroEditeur on
    purpose (seed 000): different natures, different families."""
    formats = all_formats()
    return _family(formats, formats[format_id])


def get_format(name: str) -> FormatDefinition:
    """The definition of format `name`, as the command line or a program gives it: whatever its
    case and spaces, like the Entête's (`typed_format`); UnknownFormat only when no definition
    has this id.

    Loading the definitions happens outside any `except`: a KeyError from a malformed
    definition is a bug of the project and must surface as such, never as « format inconnu »."""
    formats = all_formats()
    if name not in formats:
        return typed_format(name)
    return formats[name]


def format_key(typed: str) -> str:
    """A format id as a user may retype it in the Entête sheet: in any case, with spaces, and
    with the invisible characters a paste brings (zero-width space, BOM…), which the cleaning
    of every cell takes out too (checks/values.py).

    >>> format_key(" MS2-DUI-PDS-Solde ") == format_key("ms2 - dui - pds - solde") == "ms2-dui-pds-solde"
    True
    >>> format_key("\ufeffms2-dui-pds\u200b-solde\u00a0") == "ms2-dui-pds-solde"
    True
    """
    return "".join(c for c in typed if c.isprintable() and not c.isspace()).lower()


def typed_format(typed: str) -> FormatDefinition:
    """The definition of the format id `typed` in the Entête, whatever its case and spaces (the
    check of the cell says when it was not written exactly); UnknownFormat when none."""
    found = {format_key(format_id): d for format_id, d in all_formats().items()}.get(format_key(typed))
    if found is None:
        raise UnknownFormat(typed)
    return found
