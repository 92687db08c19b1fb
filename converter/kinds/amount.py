"""An amount in euros: spaces and « € » taken out, a decimal comma read as a point, thousands
separators (1.234,56 or 1,234.56) dropped; at most 2 decimals (the ASP wants it to the cent).
Written with two decimals, as a JSON number.

>>> validate("4 866,67 €"), validate("1.234,5"), validate("1,234.56")
('4866.67', '1234.50', '1234.56')
>>> is_valid("4866.674")
False

Zero or a negative amount: the deposit seeds give the amounts no minimum (« FLOAT (2 chiffres
après le point) », seeds 000, 001, 003), so it is kept, with a warning; a field declared
`positive` (the order-check workbooks: « dont le total ne peut donc apparaitre égal à zéro »,
seeds 002 and 004 §4.3) refuses it.

>>> validate("-5"), validate("0")
('-5.00', '0.00')

One separator before exactly 3 digits (« 15.000 », « 2,000 ») is a thousands separator as
much as a decimal one: it is refused, never read as either. After a lone 0 (« 0,001 », « 0.500 »)
it is no thousands separator (no one writes 1 as 0.001): decimals, at most 2 of them that count
(seed 001: « FLOAT (2 chiffres après le point) »).

>>> is_valid("15.000"), validate("15.000,00"), is_valid("0,001"), validate("0.500")
(False, '15000.00', False, '0.50')

A number shown as a percentage (« 30 % », which the spreadsheet holds as 0.3; the reader
reads it as shown) is no amount in euros, as the seeds ask (« Montant total en Euros et hors
taxe », FLOAT): it is refused, never deposited as 0.30 €.

>>> is_valid("30 %")
False
"""

from __future__ import annotations

from typing import Any

import polars as pl

from .base import NONE, FieldCheck, codes, scalar_forms

NAME = "amount"
TEXT = False
NUM_FORMAT = "0.00"
WIDTH = None
# a number cell whose format shows fewer decimals than it holds (4866.67 shown « 4867 » by the
# format « 0 »): the number held is deposited, as the contract says (« Never round a user's amount
# silently »), and the seeds ask no more than « FLOAT (2 chiffres après le point) » (seed 001):
# the reader warns, naming both (reading.RawWorkbook.shown); such a cell is read to the 15
# significant digits a spreadsheet keeps, not to the 9 decimals fastexcel gives
SHOWN_CODE = "montant_affiche_arrondi"
SHOWN_FROM = "rounded"
NOT_POSITIVE, KEPT_NOT_POSITIVE = "montant_non_positif", "montant_nul_ou_negatif"
CODES = ("montant_pourcentage", "montant_ambigu", "montant_invalide", "montant_decimales", NOT_POSITIVE,
         KEPT_NOT_POSITIVE, SHOWN_CODE)


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    t = c.str.replace_many([" ", "€"], ["", ""])
    text, parts, frac, value = (pl.col(f"{name}{k}") for k in ("text", "parts", "frac", "value"))
    normalised = (  # 1.234,56 and 1,234.56 lose their thousands separator; a decimal comma becomes a point
        pl.when(text.str.contains(r"^[0-9]{1,3}(\.[0-9]{3})+,[0-9]+$"))
        .then(text.str.replace_all(".", "", literal=True).str.replace(",", ".", literal=True))
        .when(text.str.contains(r"^[0-9]{1,3}(,[0-9]{3})+\.[0-9]+$")).then(text.str.replace_all(",", "", literal=True))
        .otherwise(text.str.replace(",", ".", literal=True))
    )
    whole = parts.struct.field("2").str.strip_chars_start("0")
    not_positive = (parts.struct.field("1") == "-") | (value == "0.00")
    positive = bool(getattr(field, "positive", False))
    error = codes(
        (text.str.ends_with("%"), "montant_pourcentage"),  # a cell shown as a percentage (reading.py)
        (text.str.contains(r"^[1-9][0-9]{0,2}[.,][0-9]{3}$"), "montant_ambigu"),  # « 0,001 »: 3 decimals
        (parts.struct.field("2").is_null(), "montant_invalide"),
        (frac.str.len_chars() > 2, "montant_decimales"),
        *([(not_positive, NOT_POSITIVE)] if positive else []),
    )
    read = ~text.str.ends_with("%") & ~text.str.contains(r"^[1-9][0-9]{0,2}[.,][0-9]{3}$") \
        & parts.struct.field("2").is_not_null() & (frac.str.len_chars() <= 2)  # no error above
    warning = NONE if positive else codes((read & not_positive, KEPT_NOT_POSITIVE))
    steps = (
        {f"{name}text": t},
        {f"{name}parts": normalised.str.extract_groups(r"^(-?)([0-9]+)(?:\.([0-9]*))?$")},
        {f"{name}frac": parts.struct.field("3").fill_null("").str.strip_chars_end("0")},
        {f"{name}value": pl.concat_str(  # the sign kept, but never on zero (« -0 » is 0.00)
            pl.when((parts.struct.field("1") == "-") & ((whole != "") | (frac != ""))).then(pl.lit("-"))
            .otherwise(pl.lit("")),
            pl.when(whole == "").then(pl.lit("0")).otherwise(whole), pl.lit("."),
            pl.concat_str(frac, pl.lit("00")).str.slice(0, 2))},
    )
    return FieldCheck(value, error, warning, steps)


validate, is_valid = scalar_forms(check, NAME)  # the Polars check, on one value


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    if field is not None and field.positive:
        return {"type": "number", "exclusiveMinimum": 0}  # two decimals: written by the template
    return {"type": "number"}


def describe(definition: Any, field: Any) -> str:
    return "nombre avec au plus 2 décimales" + (", strictement positif" if field is not None and field.positive else "")


def json_literal(definition: Any, field: Any, col: pl.Expr) -> pl.Expr:
    return col.cast(pl.String).fill_null("null")
