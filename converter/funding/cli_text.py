"""French text for ``xl2segur plafond hop-pfi-va2`` and ``xl2segur plafond sfp-lgc-va2``.

Pure functions returning strings; the typer command only parses options and prints.
Invalid input raises ``InputError`` whose message is French and says how to fix.
"""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, Decimal

from .bareme import (
    OutsideBaremeError,
    PlafondHop,
    PlafondSfp,
    normalise_sfp_client,
    plafond_hop,
    plafond_hop_fusion,
    plafond_sfp,
)
from .amounts import to_decimal, format_euros, format_number, format_rate
from .parameters import HOP, REGIMES, SFP, Regime

MINUS = "\u2212"  # « − »


class InputError(ValueError):
    """Invalid command-line input; ``str(e)`` is the French message to show."""


# ---------------------------------------------------------------- input parsing


def regime_from_tva(tva: str | None) -> Regime | None:
    """'--tva' value -> regime: '20' -> TTC20, '8.5'/'8,5' -> TTC8.5, 'HT' -> HT; None -> None."""
    if tva is None:
        return None
    t = str(tva).strip().upper().replace(",", ".").replace("%", "").strip()
    mapping: dict[str, Regime] = {
        "20": "TTC20",
        "TTC20": "TTC20",
        "8.5": "TTC8.5",
        "TTC8.5": "TTC8.5",
        "HT": "HT",
    }
    if t not in mapping:
        raise InputError(
            f"Taux de TVA inconnu : « {tva} ». Indiquez --tva 20, --tva 8.5 ou --tva HT "
            "(fournisseur non assujetti)."
        )
    return mapping[t]


# « 22.500 », « 22,500 »: 22 500 or 22,5? Refused, as in the workbook's activiteCombinee
# (hop-pfi-va2-commandes.yaml) and as for an amount (kinds/amount.py).
AMBIGUOUS = re.compile(r"[0-9]{1,3}[.,][0-9]{3}")


def _ac(combined_activity: Decimal | int | float | str) -> Decimal:
    if isinstance(combined_activity, float):  # typer may hand a float: use its repr
        combined_activity = repr(combined_activity)
    if isinstance(combined_activity, str) and AMBIGUOUS.fullmatch(combined_activity.strip()):
        raise InputError(
            f"Activité combinée ambiguë : « {combined_activity.strip()} », le point ou la virgule sépare-t-il "
            "les milliers ou les décimales ? Écrivez-la sans séparateur ou avec des espaces pour les "
            "milliers (22500, 22 500), avec une virgule pour les décimales (22,5)."
        )
    try:
        value = to_decimal(combined_activity)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"Activité combinée illisible : « {str(combined_activity).strip()} ». Indiquez un nombre de "
            "journées, par exemple --activite-combinee 15000."
        ) from exc
    if not value.is_finite() or abs(value) >= ABSURD_ACTIVITY:  # no table reaches it; nor does Decimal's precision
        raise InputError(
            f"Activité combinée hors de toute mesure : « {combined_activity} ». Indiquez un nombre de "
            "journées, par exemple --activite-combinee 15000."
        )
    return value


ABSURD_ACTIVITY = Decimal(10) ** 15


def _merged(combined_activity: Decimal | int | float | str) -> list[Decimal | int | float | str]:
    """« 10000 + 20000 »: the activités combinées of merged establishments, written as in the
    workbook's activiteCombinee (each part read by `_ac`, the whole value named if one is not)."""
    if not isinstance(combined_activity, str) or "+" not in combined_activity:
        return [combined_activity]
    parts = combined_activity.split("+")
    if any(not part.strip() for part in parts):
        raise InputError(
            f"Activité combinée illisible : « {str(combined_activity).strip()} ». Pour un établissement issu d'une "
            "fusion, indiquez l'activité combinée de chaque établissement fusionné, par exemple "
            "--activite-combinee \"10000 + 20000\"."
        )
    return parts


# ---------------------------------------------------------------- HOP-PFI-Va2


def interpolation_formula(p: PlafondHop) -> str:
    """'min + (ac − ac_min) × (max − min) / (ac_max − ac_min) = …' with the figures."""
    i = p.interpolation
    n, e = format_number, format_euros
    text = (
        f"{e(i.min_amount)} + ({n(i.combined_activity)} {MINUS} {n(i.ac_min)}) × "
        f"({e(i.max_amount)} {MINUS} {e(i.min_amount)}) / ({n(i.ac_max)} {MINUS} {n(i.ac_min)})"
    )
    if i.exact_value == i.result:
        return f"{text} = {e(i.result)}"
    shown = i.exact_value.quantize(Decimal("0.0001"), rounding=ROUND_DOWN)
    cut = "…" if shown != i.exact_value else ""  # « … » only where digits are left out
    return f"{text} = {format_number(shown)}{cut} ≈ {e(i.result)} (arrondi au centime)"


def _tranche_bounds(p: PlafondHop) -> str:
    n = format_number
    if p.tranche == HOP.tranches[-1]:
        return f"activité combinée de {n(p.ac_min)} à {n(p.ac_max)} (bornes incluses)"
    return f"activité combinée de {n(p.ac_min)} (incluse) à {n(p.ac_max)} (exclue)"


HOP_FORMULA = ("Plafond = montant min + (AC " + MINUS + " AC min) × (montant max " + MINUS
               + " montant min) / (AC max " + MINUS + " AC min)")


def plafond_hop_text(
    combined_activity: Decimal | int | float | str | list[Decimal | int | float | str], prestation: str,
    tva: str | None = None,
) -> str:
    """Output of ``xl2segur plafond hop-pfi-va2`` (all regimes when ``tva`` is None); several
    activités combinées are merged establishments (``plafond_hop_fusion_text``)."""
    prestation = "".join(prestation.split()).upper()  # « v2 », « V1 + V2 »: as the workbook takes them
    given = combined_activity if isinstance(combined_activity, list) else [combined_activity]
    given = [part for a in given for part in _merged(a)]
    if len(given) > 1:
        return plafond_hop_fusion_text(given, prestation, tva)
    combined_activity = given[0]
    regime = regime_from_tva(tva)
    ac = _ac(combined_activity)
    regimes: list[Regime] = [regime] if regime else list(REGIMES)  # type: ignore[list-item]
    try:
        results = [plafond_hop(ac, prestation, r) for r in regimes]  # type: ignore[arg-type]
    except OutsideBaremeError as exc:
        raise InputError(str(exc)) from exc
    p0 = results[0]
    lines = [
        f"Plafond {HOP.code} — {HOP.prestations[prestation]}",
        f"Activité combinée : {format_number(ac)}",
        f"Tranche {p0.tranche} : {_tranche_bounds(p0)}",
        HOP_FORMULA,
    ]
    for p in results:
        lines += [
            "",
            f"{REGIMES[p.regime][1]}",
            f"  Plafond : {interpolation_formula(p)}",
            f"  Avance ({format_rate(p.avance_rate)}) : {format_euros(p.avance)}",
            f"  Solde ({format_rate(p.solde_rate)}) : {format_euros(p.solde)}",
        ]
    return "\n".join(lines)


def plafond_hop_fusion_text(
    combined_activities: list[Decimal | int | float | str], prestation: str, tva: str | None = None
) -> str:
    """Output of ``xl2segur plafond hop-pfi-va2`` for merged establishments: each one's cap,
    then their sum, its advance and balance (seed 002 §5.3, ``plafond_hop_fusion``)."""
    regime = regime_from_tva(tva)
    acs = [_ac(a) for a in combined_activities]
    regimes: list[Regime] = [regime] if regime else list(REGIMES)  # type: ignore[list-item]
    try:
        mergers = [plafond_hop_fusion(acs, prestation, r) for r in regimes]  # type: ignore[arg-type]
    except OutsideBaremeError as exc:
        raise InputError(str(exc)) from exc
    lines = [
        f"Plafond {HOP.code} — {HOP.prestations[prestation]}",
        f"Établissement issu de la fusion de {len(acs)} établissements : son plafond est la somme des "
        "plafonds des établissements fusionnés (AF HOP-PFI-Va2 §5.3).",
        HOP_FORMULA,
    ]
    lines += [f"Établissement {n} — activité combinée {format_number(p0.combined_activity)}, "
               f"tranche {p0.tranche} : {_tranche_bounds(p0)}" for n, p0 in enumerate(mergers[0].establishments, start=1)]
    for f in mergers:
        lines += ["", f"{REGIMES[f.establishments[0].regime][1]}"]
        for n, p in enumerate(f.establishments, start=1):
            lines.append(f"  Plafond de l'établissement {n} : {interpolation_formula(p)}")
        summed = " + ".join(format_euros(p.plafond) for p in f.establishments)
        lines += [
            f"  Plafond de l'établissement fusionné : {summed} = {format_euros(f.plafond)}",
            f"  Avance ({format_rate(f.avance_rate)}) : {format_euros(f.avance)}",
            f"  Solde ({format_rate(f.solde_rate)}) : {format_euros(f.solde)}",
        ]
    return "\n".join(lines)


# ---------------------------------------------------------------- SFP-LGC-Va2


def plafond_sfp_text(client: str, tranche: str | None = None, tva: str | None = None) -> str:
    """Output of ``xl2segur plafond sfp-lgc-va2`` (all regimes when ``tva`` is None)."""
    regime = regime_from_tva(tva)
    regimes: list[Regime] = [regime] if regime else list(REGIMES)  # type: ignore[list-item]
    try:
        client_key = normalise_sfp_client(client)
        results: list[PlafondSfp] = [plafond_sfp(client_key, tranche, r) for r in regimes]
    except OutsideBaremeError as exc:
        raise InputError(str(exc)) from exc
    p0 = results[0]
    label = SFP.clients[client_key][1]
    title = f"Plafond {SFP.code} — {label}"
    if p0.tranche:
        title += f", tranche {p0.tranche}"
    lines = [title]
    if client_key == "csi":
        lines.append(
            "Plafond forfaitaire par centre, selon la tranche de la Base de référence "
            "(FINESS géographique)."
        )
    else:
        lines.append("Plafond forfaitaire par professionnel (identifié par son RPPS).")
    for p in results:
        lines += [
            "",
            f"{REGIMES[p.regime][1]}",
            f"  Plafond : {format_euros(p.plafond)}",
            f"  Avance ({format_rate(p.avance_rate)}) : {format_euros(p.avance)}",
            f"  Solde ({format_rate(p.solde_rate)}) : {format_euros(p.solde)}",
        ]
    return "\n".join(lines)
