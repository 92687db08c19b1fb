"""The format id of the Entête sheet: text, pre-filled in every workbook written here. Retyped
in another case or with spaces, it is read as the id it stands for, with a warning.

>>> validate("ms2-dui-pds-avance"), validate(" MS2-DUI-PDS-Avance")
('ms2-dui-pds-avance', 'ms2-dui-pds-avance')
"""

from __future__ import annotations

from typing import Any

import polars as pl

from . import text
from .base import FieldCheck, codes, scalar_forms, without_spaces

NAME = "format_id"
TEXT = True
NUM_FORMAT = None
WIDTH = None
CODES = (*text.CODES, "format_ecriture_corrigee")


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    from ..formats import all_formats, format_key  # the definitions' model asks the kinds: imported late

    ids = {format_key(format_id): format_id for format_id in all_formats()}
    # « format_key » in Polars: its spaces out (a cleaned value holds no other), in lower case
    value = without_spaces(c).str.to_lowercase().replace_strict(ids, default=c, return_dtype=pl.String)
    found = text.check(definition, field, value, name)
    return FieldCheck(value, found.error, pl.coalesce(found.warning, codes((value != c, "format_ecriture_corrigee"))),
                      found.steps)


validate, is_valid = scalar_forms(check, NAME)  # the Polars check, on one value
json_schema, json_literal = text.json_schema, text.json_literal


def describe(definition: Any, field: Any) -> str:
    return f"identifiant du format, pré-rempli ({definition.id}) : ne pas modifier"
