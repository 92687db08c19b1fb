"""The format id of the Entête sheet: text, pre-filled in every workbook written here.

>>> validate("ms2-dui-pds-avance")
'ms2-dui-pds-avance'
"""

from __future__ import annotations

from typing import Any

from . import text

NAME = "format_id"
TEXT = True
NUM_FORMAT = None
WIDTH = None
CODES = text.CODES


check, validate, is_valid, json_schema, json_literal = (
    text.check, text.validate, text.is_valid, text.json_schema, text.json_literal)


def describe(definition: Any, field: Any) -> str:
    return f"identifiant du format, pré-rempli ({definition.id}) : ne pas modifier"
