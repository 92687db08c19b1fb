"""Money helpers: Decimal amounts rounded half-up to the cent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import NamedTuple

from .parameters import AVANCE_RATE_WAVE1, SOLDE_RATE_WAVE1

CENT = Decimal("0.01")
# No seed sets a maximum amount: products and roundings to the cent stay exact whatever their
# digits (Decimal's default context keeps 28 and refused to round a 30-digit amount, « etat »
# stopping on InvalidOperation). Only multiplications and roundings to the cent use it.
_EXACT = Context(prec=1000, rounding=ROUND_HALF_UP)

__all__ = [
    "CENT",
    "AVANCE_RATE_WAVE1",
    "SOLDE_RATE_WAVE1",
    "AvanceDemande",
    "AVANCE_VAT_FACTOR",
    "AVANCE_ON_TTC",
    "round_cent",
    "avance",
    "avance_demande",
    "to_decimal",
    "format_euros",
    "format_number",
    "format_rate",
    "amount_ttc",
    "solde",
]


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Convert an int, str or Decimal to a finite Decimal (floats and bools refused)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"montant attendu en Decimal, int ou str, reçu {type(value).__name__}")
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, str):
        try:
            d = Decimal(value.strip().replace(" ", "").replace("\u00a0", "").replace(",", "."))
        except InvalidOperation as exc:
            raise ValueError(f"nombre illisible : {value!r}") from exc
    else:
        raise TypeError(f"montant attendu en Decimal, int ou str, reçu {type(value).__name__}")
    if not d.is_finite():
        raise ValueError(f"nombre non fini : {value!r}")
    return d


def round_cent(amount: Decimal | int | str) -> Decimal:
    """Round to the cent, half-up (0.005 -> 0.01)."""
    return to_decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP, context=_EXACT)


def avance(amount: Decimal | int | str, rate: Decimal | int | str) -> Decimal:
    """Advance = montant × taux, rounded half-up to the cent (e.g. taux 0.30 in wave 1)."""
    return round_cent(_EXACT.multiply(to_decimal(amount), to_decimal(rate)))


# « Le montant plafond qu'il pourra demander dans son JSON pour cet exemple sera donc 5840,00 /
# 1,2 soit de 4866,67 euros HT » (seed 000 §3.1): the TTC of a wave-1 demande is HT × 1,2.
AVANCE_VAT_FACTOR = Decimal("1.2")
AVANCE_ON_TTC = "TTC"  # the regimeTVA whose advance is on the TTC amount


def amount_ttc(amount_ht: Decimal | int | str) -> Decimal:
    """HT × 1,2 to the cent: 4866.67 → 5840.00 (seed 000 §3.1, read backwards)."""
    return round_cent(_EXACT.multiply(to_decimal(amount_ht), AVANCE_VAT_FACTOR))


class AvanceDemande(NamedTuple):
    """A wave-1 demande's amounts and its expected advance (a tuple: the summary builds one per
    demande, 100 000 of them for a large workbook)."""

    amount_ht: Decimal
    amount_ttc: Decimal | None  # only for a supplier whose regimeTVA is TTC
    avance: Decimal

    @property
    def base(self) -> str:
        """« TTC » or « HT »: the amount the advance is computed on."""
        return "HT" if self.amount_ttc is None else "TTC"


def avance_demande(amount_ht: Decimal | int | str, vat_regime: str | None, rate: Decimal | int | str) -> AvanceDemande:
    """The advance of one demande, on what its supplier invoices: the TTC amount for a TTC
    supplier (seed 000 §3.1: « perçoit 30% de 5840.00€ TTC soit 1752.00€ TTC » for 4 866,67 €
    HT), the HT amount for an HT one (seed 003: « perçoit 30% de 1 075 € HT (le régime TVA qui
    s'applique dans cet exemple est HT) »). Rounded half-up to the cent, as `avance`; the same
    rule over columns: converter/lifecycle/advances.py."""
    ht = (amount_ht if isinstance(amount_ht, Decimal) else to_decimal(amount_ht)).quantize(CENT, ROUND_HALF_UP, _EXACT)
    rate = rate if isinstance(rate, Decimal) else to_decimal(rate)
    ttc = _EXACT.multiply(ht, AVANCE_VAT_FACTOR).quantize(CENT, ROUND_HALF_UP, _EXACT) if vat_regime == AVANCE_ON_TTC else None
    return AvanceDemande(ht, ttc, _EXACT.multiply(ht if ttc is None else ttc, rate).quantize(CENT, ROUND_HALF_UP, _EXACT))


def solde(amount: Decimal | int | str, avance_rate: Decimal | int | str) -> Decimal:
    """Balance = montant − avance(montant, taux_avance), so that both add up to montant.

    For 40 %/60 % this always equals round(montant × 0.60) (the fractional cents of 40 %
    and 60 % of a whole number of cents are never .5); for 30 %/70 % subtracting avoids
    a one-cent excess when both halves round up.
    """
    # inferred: the seeds give rates, not a rounding rule for the split; the remainder
    # keeps avance + solde == montant.
    m = round_cent(amount)
    return _EXACT.subtract(m, avance(m, avance_rate))


# French formatting (used by error messages and cli_text)


def _groups(whole: str) -> str:
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    parts = []
    while len(digits) > 3:
        parts.insert(0, digits[-3:])
        digits = digits[:-3]
    parts.insert(0, digits)
    return sign + " ".join(parts)


def format_number(value: Decimal | int, decimals: int | None = None) -> str:
    """French number: '15 000', '1 234,5'; ``decimals`` fixes the count of decimals."""
    d = Decimal(value)
    if d.is_zero():  # « -0 » typed, or a negative amount rounded to nothing: 0, never « -0 »
        d = d.copy_abs()
    if decimals is not None:
        d = d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP, context=_EXACT)
    elif d == d.to_integral_value():
        d = d.quantize(Decimal(1), context=_EXACT)
    else:
        d = d.normalize()
    text = format(d, "f")
    whole, _, frac = text.partition(".")
    return _groups(whole) + ("," + frac if frac else "")


def format_euros(amount: Decimal | int) -> str:
    """French amount: Decimal('8156.25') -> '8 156,25 €'."""
    return f"{format_number(amount, 2)} €"


def format_rate(rate: Decimal) -> str:
    """Decimal('0.40') -> '40 %'."""
    return f"{format_number(rate * 100)} %"
