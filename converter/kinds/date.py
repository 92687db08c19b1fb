"""A date: a real date from Excel (ISO text from the reader), JJ/MM/AAAA-like text, « 1er mars
2024 » or an Excel serial number. Written JJ/MM/AAAA in the deposit file, as the seeds show it
(« VARCHAR (format « JJ/MM/AAAA ») »: no range). A year before 1900 or after 2099 was likely
mistyped (1850 or 2204 for 2024), but the seeds are silent: the date is kept, with a warning,
« date_annee_hors_limites ».

>>> validate("5 mars 2024"), validate("2024-03-05 00:00:00"), validate("45356"), validate("12/03/1850")
('05/03/2024', '05/03/2024', '05/03/2024', '12/03/1850')
>>> is_valid("31/02/2024")
False
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from .base import NONE, FieldCheck, codes, quoted, scalar_forms, string_schema

NAME = "date"
TEXT = False
NUM_FORMAT = "dd/mm/yyyy"
WIDTH = None
# a date cell whose format shows the month before the day (« mm/dd/yyyy » shows 04/03/2024 for
# 3 April, which a French reader reads 4 March): the seeds fix the form of the deposit only
# (« VARCHAR (format « JJ/MM/AAAA ») », seed 000), not what a workbook shows; the date the cell
# holds is deposited, and the reader warns, naming what the cell shows (reading.RawWorkbook.shown)
SHOWN_CODE = "date_affichee_mois_jour"
SHOWN_FROM = "month_first"
CODES = ("date_invalide", "date_annee_hors_limites", "date_annee_deux_chiffres", "date_nombre_hors_limites",
         "date_heure_ignoree", "date_heure_seule", SHOWN_CODE)
PATTERN = r"^(0[1-9]|[12][0-9]|3[01])/(0[1-9]|1[0-2])/[0-9]{4}$"

_MONTHS = {name: f"{i:02d}" for i, names in enumerate(
    (("janvier", "janv"), ("février", "fevrier", "févr", "fevr", "fév", "fev"), ("mars",), ("avril", "avr"),
     ("mai",), ("juin",), ("juillet", "juil"), ("août", "aout"), ("septembre", "sept"), ("octobre", "oct"),
     ("novembre", "nov"), ("décembre", "decembre", "déc", "dec")), start=1) for name in names}
_YEAR = r"([0-9]{4})"  # any year of four digits: one outside YEARS is said as such
YEARS = (1900, 2099)  # a date of an order or an invoice: a year outside was likely mistyped (a warning)
# a date from Excel (the reader's ISO text): its first 10 characters are « AAAA-MM-JJ »
_FROM_EXCEL = rf"^{_YEAR}-[0-9][0-9]-[0-9][0-9](?:[ T][0-9]{{2}}:[0-9]{{2}}(?::[0-9]{{2}}(?:\.[0-9]+)?)?)?$"
# (pattern, replacement): the other text forms of a date, rewritten as « =AAAA-M-J », the only
# text read as a date (a value matching none stays as typed, and is no date)
# a time of day after the date (« 04/03/2024 12:00 »): the seeds ask for JJ/MM/AAAA only; the
# date is unambiguous, it is kept and the time dropped, with a warning (« date_heure_ignoree »)
_TIME = r"(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]+)?)?"
_AS_ISO = (
    (rf"^([0-9]{{1,2}})[/.\-]([0-9]{{1,2}})[/.\-]{_YEAR}(?:\s+{_TIME})?$", "=$3-$2-$1"),  # JJ/MM/AAAA [HH:MM]
    (rf"^{_YEAR}[/.]([0-9]{{1,2}})[/.]([0-9]{{1,2}})$", "=$1-$2-$3"),  # AAAA/MM/JJ
)
_SERIAL_DAYS = (2, 73050)  # Excel serial numbers of 1 January 1900 and 31 December 2099
# a day and a month, then a year of two digits (« 12/03/26 », « 5 mars 24 »): the seeds ask for
# « JJ/MM/AAAA », the century is not guessed, the message says to write the year in full
_TWO_DIGIT_YEAR = (r"^(?:(?:0?[1-9]|[12][0-9]|3[01])[/.\-](?:0?[1-9]|1[0-2])[/.\-]"
                   r"|(?:0?[1-9]|[12][0-9]|3[01])(?:er)?\s+[a-zA-Zéû]+\.?\s+)[0-9]{2}$")
# a time cell, as the reader gives it: Excel's day 0 and a time (« 14:30 » typed: on a French
# keyboard « : » and « / » share a key); midnight alone is a date cell of 31/12/1899
_TIME_ALONE = r"^1899-12-3[01][ T](?:[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?)$"
_MIDNIGHT = r"[ T]0?0:00(?::00(?:\.0+)?)?$"
# a number past 31 December 2099 as an Excel serial (a date cell formatted as a number shows it)
_LATE_SERIAL = r"^[0-9]{5,7}(?:\.[0-9]+)?$"


def from_excel(c: pl.Expr) -> pl.Expr:
    """A date from Excel rewritten « =AAAA-MM-JJ », any other value as typed: a regex without
    captures and a slice (a capturing `str.replace` cost 2.5 times as much).

    >>> pl.DataFrame({"c": ["2024-03-05 00:00:00", "2024-03-05", "5/3/2024"]}).select(from_excel(pl.col("c")))[:, 0].to_list()
    ['=2024-03-05', '=2024-03-05', '5/3/2024']
    """
    return pl.when(c.str.contains(_FROM_EXCEL)).then(pl.concat_str(pl.lit("="), c.str.slice(0, 10))).otherwise(c)


def parsed(c: pl.Expr) -> pl.Expr:
    """The date of a cleaned cell, null unless it is a real date with a year of four digits
    (`check` warns of a year outside YEARS).

    >>> pl.DataFrame({"c": ["2024-03-05 00:00:00", "5/3/2024", "2024.03.05", "5 mars 2024",
    ...                     "45356", "31/02/2024", "5/3/2124", "2150-03-05", "5/3/24"]}).select(parsed(pl.col("c")))[:, 0].to_list()
    [datetime.date(2024, 3, 5), datetime.date(2024, 3, 5), datetime.date(2024, 3, 5), datetime.date(2024, 3, 5), datetime.date(2024, 3, 5), None, datetime.date(2124, 3, 5), datetime.date(2150, 3, 5), None]
    """
    excel = from_excel(c)
    # the other forms are read only in the cells that are no date from Excel: each of them starts
    # with a digit, never with « = ». Polars computes each form on every cell it is given, and
    # the dates of a workbook Excel typed are all from Excel (`parsed` cost 1.6 times as much)
    other = pl.when(excel.str.starts_with("=")).then(pl.lit(None, dtype=pl.String)).otherwise(c)
    text = other
    for pattern, replacement in _AS_ISO:  # a value matches one pattern at most, « =… » none
        text = text.str.replace(pattern, replacement)
    text = pl.coalesce(text, excel)
    # the month in words: only read in the cells holding letters (the others skip it, null)
    words = pl.when(other.str.contains("[a-zA-Zéû]")).then(other.str.to_lowercase()) \
        .str.extract_groups(rf"^([0-9]{{1,2}})(?:er)?\s+([a-zéû]+)\.?\s+{_YEAR}$")
    month = words.struct.field("2").replace_strict(_MONTHS, default=None, return_dtype=pl.String)
    named = pl.concat_str(pl.lit("="), words.struct.field("3"), pl.lit("-"), month, pl.lit("-"), words.struct.field("1"))
    serial = other.str.extract(r"^([0-9]{5})(?:\.[0-9]+)?$", 1).cast(pl.Int64, strict=False)  # its fraction: a time
    return pl.coalesce(
        pl.coalesce(named, text).str.to_date("=%Y-%m-%d", strict=False),  # chrono reads 2024-3-5
        pl.when(serial.is_between(*_SERIAL_DAYS)).then(pl.lit(date(1899, 12, 30)) + pl.duration(days=serial)),
    )


def check(definition: Any, field: Any, c: pl.Expr, name: str) -> FieldCheck:
    day = pl.col(f"{name}date")
    alone = c.str.contains(_TIME_ALONE) & ~c.str.contains(_MIDNIGHT)
    error = codes((alone, "date_heure_seule"), (day.is_null() & c.str.contains(_TWO_DIGIT_YEAR), "date_annee_deux_chiffres"),
                  (day.is_null() & c.str.contains(_LATE_SERIAL) & (c.cast(pl.Float64, strict=False) > _SERIAL_DAYS[1]),
                   "date_nombre_hors_limites"),
                  (day.is_null(), "date_invalide"))
    # a time other than midnight: a serial's fraction, or a time after the date (a date-time cell)
    timed = c.str.contains(rf"^[0-9]{{5}}\.[0-9]*[1-9]|[0-9][ T]+{_TIME}$") & ~c.str.contains(_MIDNIGHT)
    warning = codes((day.is_not_null() & ~alone & ~day.dt.year().is_between(*YEARS), "date_annee_hors_limites"),
                    (day.is_not_null() & timed & ~alone, "date_heure_ignoree"))
    return FieldCheck(day.dt.strftime("%d/%m/%Y"), error, warning, ({f"{name}date": parsed(c)},))


validate, is_valid = scalar_forms(check, NAME)  # the Polars check, on one value


def json_schema(definition: Any, field: Any) -> dict[str, Any]:
    return string_schema(field, PATTERN)


def describe(definition: Any, field: Any) -> str:
    return "date au format JJ/MM/AAAA"


def json_literal(definition: Any, field: Any, col: pl.Expr) -> pl.Expr:
    return quoted(col)
