"""A value from a list: the field's `values`, or a list named by `values_from` (the 355
messaging operators of the ASP's annex, the format's attachment types, the attachment formats).
A value typed in another case, with other spaces or without the accent of a capital
(« HOP_302 » for the annex's « HÔP_302 ») is corrected, with a warning. An operator's name
typed instead of its code is refused, the message naming the code (the seeds fix the codes:
the name is never replaced silently).

>>> from converter.formats import get_format
>>> d = get_format("ms2-dui-pds-avance")
>>> validate(" eno_5", d.by_name["Scénarios"].by_balise["operateurMessagerie"], d)
'ENO_5'
>>> validate("hop_302", d.by_name["Scénarios"].by_balise["operateurMessagerie"], d)
'HÔP_302'
>>> validate("Enovacom", d.by_name["Scénarios"].by_balise["operateurMessagerie"], d)
Traceback (most recent call last):
...
converter.kinds.base.Invalid: operateur_nom_au_lieu_du_code
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import polars as pl

from ..reference import operator_codes, operators
from .base import FieldCheck, codes, encoded, quoted, scalar_forms, without_spaces

NAME = "choice"
TEXT = True
NUM_FORMAT = None
WIDTH = None
CODES = ("valeur_non_autorisee", "casse_corrigee", "operateur_nom_au_lieu_du_code", "operateur_nom_partiel",
         "operateur_nom_ambigu")
_NOT_PLAIN = re.compile(r'["\\\x00-\x1f]')
# a name as a user may retype it, once in capitals without its spaces: without its accents and
# punctuation (« Clinique Sainte Barbe » for « CLINIQUE SAINTE-BARBE », « HÔPITAL » for « HOPITAL »)
_NAME_FOLDED = {**dict(zip("ÀÂÄÁÃÇÉÈÊËÎÏÍÌÔÖÓÒÕÙÛÜÚŸ", "AAAAACEEEEIIIIOOOOOUUUUY")), "Œ": "OE", "Æ": "AE",
                **dict.fromkeys(("-", "'", "’", ".", '"', "(", ")", "/", "_"), "")}


def allowed_values(definition: Any, field: Any) -> tuple[str, ...]:
    if field.values_from == "operateurs-messagerie":
        return operator_codes()
    if field.values_from == "attachments":
        return definition.attachments.type_names
    if field.values_from == "attachment_formats":
        return definition.limits.attachment_formats
    return field.values


def _folded(key: pl.Expr) -> pl.Expr:
    """A name in capitals without its spaces (`check`'s key), without accents and punctuation."""
    return key.str.replace_many(list(_NAME_FOLDED), list(_NAME_FOLDED.values()))


def named_values(field: Any) -> dict[str, str]:
    """The codes of the list by their name folded (`_folded`): the messaging operators'
    libellés of the annex (« ENOVACOM » → ENO_5); none for the other lists."""
    if field.values_from != "operateurs-messagerie":
        return {}
    return _operators_by_name()


@cache
def _operators_by_name() -> dict[str, str]:
    names = pl.DataFrame({"code": [c for c, _ in operators()], "libelle": [n for _, n in operators()]})
    folded = names.select("code", key=_folded(without_spaces(pl.col("libelle").str.to_uppercase())))
    return dict(zip(folded["key"], folded["code"]))


_PART_CANDIDATES = 5  # a part of a name found in more operators' names says nothing (« CH », « SANTE »)
_PART_LENGTH = 3  # and a part shorter than this neither


@cache
def _operators_by_part() -> tuple[dict[str, str], dict[str, str]]:
    """A part of the messaging operators' names (a run of their words, folded as `_folded`)
    that is not a whole name (`_operators_by_name`): (the part of one operator's name → « CODE »
    (name), the part of two to `_PART_CANDIDATES` operators' names → « CODE » (name), « CODE »
    (name)…), for the message to name them: « MIPIH » for « GIP MIPIH » (GIP_1)."""
    whole = _operators_by_name()
    found: dict[str, dict[str, str]] = {}
    for code, name in operators():
        folded = name.upper().translate(str.maketrans({k: v or " " for k, v in _NAME_FOLDED.items()}))
        words = [w for w in re.split(r"[^0-9A-Z]+", folded) if w]
        for i in range(len(words)):
            for j in range(i + 1, len(words) + 1):
                part = "".join(words[i:j])
                if len(part) >= _PART_LENGTH and part not in whole:
                    found.setdefault(part, {})[code] = name
    named = {part: ", ".join(f"« {c} » ({n.replace(chr(39) * 2, chr(39))})" for c, n in codes.items())
             for part, codes in found.items() if len(codes) <= _PART_CANDIDATES}
    return ({p: n for p, n in named.items() if len(found[p]) == 1},
            {p: n for p, n in named.items() if len(found[p]) > 1})


# a capital's accent, which a keyboard may not type: the annex's « HÔP_302 » typed « HOP_302 »
_ACCENTS = {k: v for k, v in _NAME_FOLDED.items() if k.isalpha()}
_UNACCENTED = str.maketrans(_ACCENTS)


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    values = allowed_values(definition, field)
    mapping: dict[str, str] = {}
    for v in values:  # a value as typed in other capitals, without its spaces or its accents
        mapping.setdefault(v.upper().replace(" ", "").translate(_UNACCENTED), v)
    value, exact = pl.col(f"{name}value"), pl.col(f"{name}exact")
    # folded only where the value is not one of the list as typed (most cells are): Polars computes
    # both sides of a `when`, and folding every cell of a column cost more than all the rest of its check
    key = without_spaces(pl.when(~exact).then(c).str.to_uppercase()) \
        .str.replace_many(list(_ACCENTS), list(_ACCENTS.values()))
    found = pl.when(exact).then(c).otherwise(key.replace_strict(mapping, default=None, return_dtype=pl.String))
    steps = ({f"{name}exact": c.is_in(list(values))}, {f"{name}value": found})
    named = named_values(field)
    if not named:
        return FieldCheck(
            value,
            codes((value.is_null(), "valeur_non_autorisee")),
            codes((~exact & value.is_not_null(), "casse_corrigee")),
            steps,
        )
    # the name of a value instead of its code: refused, its code kept as the value for the
    # message to name it (« {written} »; a refused value is never deposited); a part of a name
    # (« MIPIH » for « GIP MIPIH »), the operator or operators whose name it is a part of
    code, one, several = pl.col(f"{name}code"), pl.col(f"{name}one"), pl.col(f"{name}several")
    by_one, by_several = _operators_by_part()
    folded = _folded(key)
    return FieldCheck(
        pl.coalesce(value, code, one, several),
        codes((value.is_null() & code.is_not_null(), "operateur_nom_au_lieu_du_code"),
              (value.is_null() & one.is_not_null(), "operateur_nom_partiel"),
              (value.is_null() & several.is_not_null(), "operateur_nom_ambigu"), (value.is_null(), "valeur_non_autorisee")),
        codes((~exact & value.is_not_null(), "casse_corrigee")),
        (*steps, {f"{name}code": pl.when(value.is_null()).then(folded.replace_strict(named, default=None, return_dtype=pl.String))},
         {f"{name}one": pl.when(value.is_null() & code.is_null()).then(
             folded.replace_strict(by_one, default=None, return_dtype=pl.String)),
          f"{name}several": pl.when(value.is_null() & code.is_null()).then(
             folded.replace_strict(by_several, default=None, return_dtype=pl.String))}),
    )


validate, is_valid = scalar_forms(check, NAME)  # the Polars check, on one value


def choices(definition: Any, field: Any) -> list[str]:
    """The template's drop-down list."""
    return list(allowed_values(definition, field))


def drop_down_message(values: list[str]) -> str:
    if len(values) <= 12:
        return "Valeurs possibles : " + ", ".join(f"« {v} »" for v in values) + "."  # « DMP, INS » is one
    return f"Choisissez l'un des {len(values)} codes du menu déroulant, écrit exactement."


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    return {"enum": list(allowed_values(definition, field))}


def describe(definition: Any, field: Any) -> str:
    values = allowed_values(definition, field)
    if len(values) <= 12:
        return "une valeur parmi : " + ", ".join(f"« {v} »" for v in values)  # « DMP », « DMP, INS »
    return f"un des {len(values)} codes du menu déroulant, écrit exactement"


def json_literal(definition: Any, field: Any, col: pl.Expr) -> pl.Expr:
    # none of the values has a quote, a backslash or a control character: quoted as they are
    if not any(_NOT_PLAIN.search(v) for v in allowed_values(definition, field)):
        return quoted(col)
    return encoded(col)
