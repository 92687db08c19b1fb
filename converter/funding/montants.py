"""Money helpers: Decimal amounts rounded half-up to the cent."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .parametres import TAUX_AVANCE_VAGUE1, TAUX_SOLDE_VAGUE1

CENTIME = Decimal("0.01")

__all__ = [
    "CENTIME",
    "TAUX_AVANCE_VAGUE1",
    "TAUX_SOLDE_VAGUE1",
    "arrondi_centime",
    "avance",
    "en_decimal",
    "format_euros",
    "format_nombre",
    "format_taux",
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
