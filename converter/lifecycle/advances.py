"""The expected advances of a conversion's accepted demandes, over columns of integer cents.

`funding.amounts.avance_demande` is the rule, one demande at a time in `Decimal`; here is the
same rule as Polars expressions, for the summary and the report of a conversion: at 100,000
demandes, a `Decimal` per demande cost more than a second. Same cents as the scalar rule
(tests/test_advances.py checks both on random amounts, regimes and rates, half-cent ties
included); the factors are the funding constants themselves, read as ratios of integers. It
lives here and not in converter/funding/, which imports only the standard library.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

import polars as pl

from ..funding.amounts import AVANCE_ON_TTC, AVANCE_VAT_FACTOR, AvanceDemande

CENTS = pl.Int128  # exact to 10^36 €, where the Decimal context of 28 digits stops being exact
NUMERO, REGIME, HT, TTC, AVANCE = "numeroEditeur", "regime", "ht", "ttc", "avance"
NO_AMOUNTS = pl.DataFrame(schema={NUMERO: pl.String, REGIME: pl.String, HT: CENTS})


def cents(amount: pl.Expr) -> pl.Expr:
    """A checked amount, always written with two decimals ('1234.50': converter/kinds/amount.py),
    as integer cents (123450)."""
    return amount.str.replace(".", "", literal=True).cast(CENTS)


def _int(value: int) -> pl.Expr:
    return pl.lit(value, CENTS)


def times_half_up(amount: pl.Expr, factor: Decimal) -> pl.Expr:
    """Cents × `factor`, rounded to the cent half away from zero, as `Decimal.quantize(CENT,
    ROUND_HALF_UP)` does (funding.amounts.round_cent): exact, `factor` taken as the ratio of two
    integers (1.2 = 6/5), so that a half cent is a tie, never a float just under or over it."""
    numerator, denominator = factor.as_integer_ratio()
    rounded = (amount.abs() * _int(2 * numerator) + _int(denominator)) // _int(2 * denominator)
    return pl.when(amount < 0).then(_int(0) - rounded).otherwise(rounded)


def euros_text(amount: pl.Expr) -> pl.Expr:
    """Cents as `f"{Decimal:.2f}"` writes the euros: 123450 → '1234.50', 5 → '0.05'; null stays null."""
    whole = amount.abs()
    return pl.concat_str(pl.when(amount < 0).then(pl.lit("-")).otherwise(pl.lit("")),
                         (whole // _int(100)).cast(pl.String), pl.lit("."),
                         (whole % _int(100)).cast(pl.String).str.zfill(2))


def euros_said(amount: pl.Expr) -> pl.Expr:
    """An amount as xl2segur writes it ('9733.33', converter/kinds/amount.py), as a French message
    says it: '9 733,33 €' (funding.amounts.format_euros on a column). The thousands are grouped
    from the right: on the reversed digits, a space after each three, the last one dropped.

    >>> amounts = pl.DataFrame({"a": ["9733.33", "120.00", "1234567.5", "-1000.00"]})
    >>> amounts.select(euros_said(pl.col("a"))).to_series().to_list()
    ['9 733,33 €', '120,00 €', '1 234 567,50 €', '-1 000,00 €']
    """
    whole = amount.str.split(".").list.get(0)
    digits = whole.str.strip_chars_start("-")
    grouped = digits.str.reverse().str.replace_all(r"(\d{3})", "$1 ").str.strip_chars_end(" ").str.reverse()
    cents_part = amount.str.split(".").list.get(1, null_on_oob=True).fill_null("").str.pad_end(2, "0")
    return pl.concat_str(pl.when(whole.str.starts_with("-")).then(pl.lit("-")).otherwise(pl.lit("")),
                         grouped, pl.lit(","), cents_part, pl.lit(" €"))


def euros(amount: int | None) -> Decimal | None:
    """Cents as an exact Decimal of two decimals (a string, so that no context rounds it)."""
    return None if amount is None else Decimal(f"{amount}E-2")


class ExpectedAdvances(NamedTuple):
    """The expected advances of a conversion's accepted demandes (api.Outcome.expected_advances):
    one row per demande (numeroEditeur, regime, ht, ttc, avance: cents), turned into Python
    values only where they are shown: the summary's first demandes, every one in the report."""

    frame: pl.DataFrame
    total: Decimal  # the sum of the per-demande advances (each paid on its own)
    total_ttc: Decimal  # the sum of the TTC amounts of the demandes whose regime is TTC

    def first(self, count: int | None = None) -> dict[str, AvanceDemande]:
        """numeroEditeur → its amounts and advance, for the first `count` demandes (all by default)."""
        rows = self.frame.head(count) if count is not None else self.frame
        return {ne: AvanceDemande(euros(ht), euros(ttc), euros(avance))
                for ne, ht, ttc, avance in rows.select(NUMERO, HT, TTC, AVANCE).iter_rows()}

    @property
    def each(self) -> dict[str, AvanceDemande]:
        """numeroEditeur → its amounts and advance, for every demande."""
        return self.first()

    def report_rows(self) -> list[dict[str, Any]]:
        """The report's `avances_par_demande`: each demande's amounts as two-decimal text."""
        return self.frame.select(
            pl.col(NUMERO), pl.col(REGIME).alias("regime_tva"), euros_text(pl.col(HT)).alias("montant_ht"),
            euros_text(pl.col(TTC)).alias("montant_ttc"),
            pl.when(pl.col(TTC).is_null()).then(pl.lit("HT")).otherwise(pl.lit("TTC")).alias("base_avance"),
            euros_text(pl.col(AVANCE)).alias("avance"),
        ).to_dicts()


def expected_advances(amounts: pl.DataFrame, rate: Decimal) -> ExpectedAdvances:
    """`funding.amounts.avance_demande` over `amounts` (numeroEditeur, regime, ht in cents): the
    TTC amount, HT × 1,2 to the cent, of a demande whose regime is TTC, and the advance, `rate`
    of the TTC amount for a TTC supplier (seed 000 §3.1: « perçoit 30% de 5840.00€ TTC soit
    1752.00€ TTC » for 4 866,67 € HT), of the HT one otherwise (seed 003: « perçoit 30% de
    1 075 € HT (le régime TVA qui s'applique dans cet exemple est HT) »)."""
    ttc = pl.when(pl.col(REGIME) == AVANCE_ON_TTC).then(times_half_up(pl.col(HT), AVANCE_VAT_FACTOR))
    frame = amounts.with_columns(ttc.alias(TTC)).with_columns(
        times_half_up(pl.coalesce(TTC, HT), rate).alias(AVANCE))
    total, total_ttc = frame.select(pl.col(AVANCE).sum(), pl.col(TTC).sum()).row(0)
    return ExpectedAdvances(frame, euros(total), euros(total_ttc))


def total(amounts: pl.DataFrame) -> Decimal:
    """The sum of the amounts HT (cents) of `amounts`, in euros."""
    return euros(amounts[HT].sum())
