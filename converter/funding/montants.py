"""Money helpers: Decimal amounts rounded half-up to the cent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import NamedTuple

from .parametres import TAUX_AVANCE_VAGUE1, TAUX_SOLDE_VAGUE1

CENTIME = Decimal("0.01")

__all__ = [
    "CENTIME",
    "TAUX_AVANCE_VAGUE1",
    "TAUX_SOLDE_VAGUE1",
    "AvanceDemande",
    "TVA_AVANCE",
    "arrondi_centime",
    "avance",
    "avance_demande",
    "en_decimal",
    "format_euros",
    "format_nombre",
    "format_taux",
    "montant_ttc",
    "solde",
]


def en_decimal(valeur: Decimal | int | str) -> Decimal:
    """Convert an int, str or Decimal to a finite Decimal (floats and bools refused)."""
    if isinstance(valeur, bool) or isinstance(valeur, float):
        raise TypeError(f"montant attendu en Decimal, int ou str, reçu {type(valeur).__name__}")
    if isinstance(valeur, Decimal):
        d = valeur
    elif isinstance(valeur, int):
        d = Decimal(valeur)
    elif isinstance(valeur, str):
        try:
            d = Decimal(valeur.strip().replace(" ", "").replace("\u00a0", "").replace(",", "."))
        except InvalidOperation as exc:
            raise ValueError(f"nombre illisible : {valeur!r}") from exc
    else:
        raise TypeError(f"montant attendu en Decimal, int ou str, reçu {type(valeur).__name__}")
    if not d.is_finite():
        raise ValueError(f"nombre non fini : {valeur!r}")
    return d


def arrondi_centime(montant: Decimal | int | str) -> Decimal:
    """Round to the cent, half-up (0.005 -> 0.01)."""
    return en_decimal(montant).quantize(CENTIME, rounding=ROUND_HALF_UP)


def avance(montant: Decimal | int | str, taux: Decimal | int | str) -> Decimal:
    """Advance = montant × taux, rounded half-up to the cent (e.g. taux 0.30 in wave 1)."""
    return arrondi_centime(en_decimal(montant) * en_decimal(taux))


# « Le montant plafond qu'il pourra demander dans son JSON pour cet exemple sera donc 5840,00 /
# 1,2 soit de 4866,67 euros HT » (seed 000 §3.1): the TTC of a wave-1 demande is HT × 1,2.
TVA_AVANCE = Decimal("1.2")


def montant_ttc(montant_ht: Decimal | int | str) -> Decimal:
    """HT × 1,2 to the cent: 4866.67 → 5840.00 (seed 000 §3.1, read backwards)."""
    return arrondi_centime(en_decimal(montant_ht) * TVA_AVANCE)


class AvanceDemande(NamedTuple):
    """A wave-1 demande's amounts and its expected advance (a tuple: the summary builds one per
    demande, 100 000 of them for a large workbook)."""

    montant_ht: Decimal
    montant_ttc: Decimal | None  # only for a supplier whose regimeTVA is TTC
    avance: Decimal

    @property
    def base(self) -> str:
        """« TTC » or « HT »: the amount the advance is computed on."""
        return "HT" if self.montant_ttc is None else "TTC"


def avance_demande(montant_ht: Decimal | int | str, regime_tva: str | None, taux: Decimal | int | str) -> AvanceDemande:
    """The advance of one demande, on what its supplier invoices: the TTC amount for a TTC
    supplier (seed 000 §3.1: « perçoit 30% de 5840.00€ TTC soit 1752.00€ TTC » for 4 866,67 €
    HT), the HT amount for an HT one (seed 003: « perçoit 30% de 1 075 € HT (le régime TVA qui
    s'applique dans cet exemple est HT) »). Rounded half-up to the cent, as `avance`."""
    ht = (montant_ht if isinstance(montant_ht, Decimal) else en_decimal(montant_ht)).quantize(CENTIME, ROUND_HALF_UP)
    rate = taux if isinstance(taux, Decimal) else en_decimal(taux)
    ttc = (ht * TVA_AVANCE).quantize(CENTIME, ROUND_HALF_UP) if regime_tva == "TTC" else None
    return AvanceDemande(ht, ttc, ((ht if ttc is None else ttc) * rate).quantize(CENTIME, ROUND_HALF_UP))


def solde(montant: Decimal | int | str, taux_avance: Decimal | int | str) -> Decimal:
    """Balance = montant − avance(montant, taux_avance), so that both add up to montant.

    For 40 %/60 % this always equals round(montant × 0.60) (the fractional cents of 40 %
    and 60 % of a whole number of cents are never .5); for 30 %/70 % subtracting avoids
    a one-cent excess when both halves round up.
    """
    # inferred: the seeds give rates, not a rounding rule for the split; the remainder
    # keeps avance + solde == montant.
    m = arrondi_centime(montant)
    return m - avance(m, taux_avance)


# French formatting (used by error messages and cli_text)


def _groupes(entier: str) -> str:
    signe = "-" if entier.startswith("-") else ""
    chiffres = entier.lstrip("-")
    parts = []
    while len(chiffres) > 3:
        parts.insert(0, chiffres[-3:])
        chiffres = chiffres[:-3]
    parts.insert(0, chiffres)
    return signe + " ".join(parts)


def format_nombre(valeur: Decimal | int, decimales: int | None = None) -> str:
    """French number: '15 000', '1 234,5'; ``decimales`` fixes the count of decimals."""
    d = Decimal(valeur)
    if decimales is not None:
        d = d.quantize(Decimal(1).scaleb(-decimales), rounding=ROUND_HALF_UP)
    elif d == d.to_integral_value():
        d = d.quantize(Decimal(1))
    else:
        d = d.normalize()
    texte = format(d, "f")
    entier, _, frac = texte.partition(".")
    return _groupes(entier) + ("," + frac if frac else "")


def format_euros(montant: Decimal | int) -> str:
    """French amount: Decimal('8156.25') -> '8 156,25 €'."""
    return f"{format_nombre(montant, 2)} €"


def format_taux(taux: Decimal) -> str:
    """Decimal('0.40') -> '40 %'."""
    return f"{format_nombre(taux * 100)} %"
