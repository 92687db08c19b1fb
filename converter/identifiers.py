"""French health identifiers, in the style of python-stdnum: compact, is_valid, has_valid_key.

The ASP only checks lengths; a wrong check key is therefore only a warning (the seeds' own
examples, such as FINESS 123456789, fail it). Each check exists twice: a scalar function
(documented and tested here) and a Polars expression for whole columns; tests keep them equal.
"""

from __future__ import annotations

import re

import polars as pl
from stdnum.fr import siret as _siret

_FINESS = re.compile(r"^(\d{9}|2[AB]\d{7})$")
_SPACES = re.compile(r"[\s\u00a0\u202f\u200b\u200c\u200d\ufeff]")


def compact(number: str) -> str:
    """Remove spaces (including non-breaking and zero-width ones) and upper-case.

    >>> compact(" 2a 0 000 024\u00a0")
    '2A0000024'
    """
    return _SPACES.sub("", number).upper()


def luhn_is_valid(digits: str) -> bool:
    """The Luhn checksum over a string of digits (key included as last digit).

    >>> luhn_is_valid("010000024"), luhn_is_valid("010000025")
    (True, False)
    """
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def finess_is_valid(number: str) -> bool:
    """9 characters: 9 digits, or 2A/2B then 7 digits for Corsica.

    >>> finess_is_valid("010000024"), finess_is_valid("2A0000010"), finess_is_valid("10000024")
    (True, True, False)
    """
    return bool(_FINESS.match(compact(number)))


def finess_has_valid_key(number: str) -> bool:
    """The 9th digit is a Luhn key over the first eight; 2A/2B count as 20 (inferred).

    >>> finess_has_valid_key("010000024"), finess_has_valid_key("123456789")
    (True, False)
    """
    number = compact(number)
    return finess_is_valid(number) and luhn_is_valid(number.replace("2A", "20", 1).replace("2B", "20", 1))


def rpps_is_valid(number: str) -> bool:
    """11 digits.

    >>> rpps_is_valid("10003456786"), rpps_is_valid("1000345678")
    (True, False)
    """
    number = compact(number)
    return len(number) == 11 and number.isdigit()


def rpps_has_valid_key(number: str) -> bool:
    """The 11th digit is a Luhn key over the first ten.

    >>> rpps_has_valid_key("10003456786"), rpps_has_valid_key("77777777777")
    (True, False)
    """
    return rpps_is_valid(number) and luhn_is_valid(compact(number))


def siret_is_valid(number: str) -> bool:
    """14 digits (what the ASP checks).

    >>> siret_is_valid("73282932000074"), siret_is_valid("7328293200007")
    (True, False)
    """
    number = compact(number)
    return len(number) == 14 and number.isdigit()


def siret_has_valid_key(number: str) -> bool:
    """The key as python-stdnum checks it, La Poste's establishments included.

    >>> siret_has_valid_key("73282932000074"), siret_has_valid_key("73282932000075")
    (True, False)
    >>> siret_has_valid_key("35600000000048")  # La Poste: sum of digits multiple of 5
    True
    """
    return _siret.is_valid(compact(number))


# ----------------------------------------------------------- Polars forms


def luhn_expr(digits: pl.Expr, length: int) -> pl.Expr:
    """Luhn validity of a column of digit strings of a fixed length (null stays null, and so
    does a value that is not `length` digits). The digits are taken by integer arithmetic on
    the parsed number: slicing each character out cost ten times as much."""
    number = pl.when(digits.str.contains(rf"^\d{{{length}}}$")).then(digits.str.to_integer(strict=False))
    total = pl.lit(0, dtype=pl.Int64)
    for from_right in range(length):  # the key is the last digit, never doubled
        d = number // 10**from_right % 10
        if from_right % 2:
            d = d * 2 - pl.when(d > 4).then(9).otherwise(0)
        total = total + d
    return (total % 10) == 0


def finess_key_expr(col: pl.Expr) -> pl.Expr:
    return luhn_expr(col.str.replace(r"^2[AB]", "20"), 9)


def rpps_key_expr(col: pl.Expr) -> pl.Expr:
    return luhn_expr(col, 11)
