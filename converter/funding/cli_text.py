"""French text for ``xl2segur plafond hop-pfi-va2`` and ``xl2segur plafond sfp-lgc-va2``.

Pure functions returning strings; the typer command only parses options and prints.
Invalid input raises ``ErreurSaisie`` whose message is French and says how to fix.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from .bareme import (
    HorsBaremeError,
    PlafondHop,
    PlafondSfp,
    normaliser_client_sfp,
    plafond_hop,
    plafond_hop_fusion,
    plafond_sfp,
)
from .montants import en_decimal, format_euros, format_nombre, format_taux
from .parametres import HOP, REGIMES, SFP, Regime

MOINS = "\u2212"  # « − »


class ErreurSaisie(ValueError):
    """Invalid command-line input; ``str(e)`` is the French message to show."""


# ---------------------------------------------------------------- input parsing


def regime_depuis_tva(tva: str | None) -> Regime | None:
    """'--tva' value -> regime: '20' -> TTC20, '8.5'/'8,5' -> TTC8.5, 'HT' -> HT; None -> None."""
    if tva is None:
        return None
    t = str(tva).strip().upper().replace(",", ".").replace("%", "").strip()
    correspondance: dict[str, Regime] = {
        "20": "TTC20",
        "TTC20": "TTC20",
        "8.5": "TTC8.5",
        "TTC8.5": "TTC8.5",
        "HT": "HT",
    }
    if t not in correspondance:
        raise ErreurSaisie(
            f"Taux de TVA inconnu : {tva!r}. Indiquez --tva 20, --tva 8.5 ou --tva HT "
            "(fournisseur non assujetti)."
        )
    return correspondance[t]


def _ac(activite_combinee: Decimal | int | float | str) -> Decimal:
    if isinstance(activite_combinee, float):  # typer may hand a float: use its repr
        activite_combinee = repr(activite_combinee)
    try:
        valeur = en_decimal(activite_combinee)
    except (TypeError, ValueError) as exc:
        raise ErreurSaisie(
            f"Activité combinée illisible : {activite_combinee!r}. Indiquez un nombre de "
            "journées, par exemple --activite-combinee 15000."
        ) from exc
    if not valeur.is_finite() or abs(valeur) >= ACTIVITE_ABSURDE:  # no table reaches it; nor does Decimal's precision
        raise ErreurSaisie(
            f"Activité combinée hors de toute mesure : {activite_combinee}. Indiquez un nombre de "
            "journées, par exemple --activite-combinee 15000."
        )
    return valeur


ACTIVITE_ABSURDE = Decimal(10) ** 15


# ---------------------------------------------------------------- HOP-PFI-Va2


def formule_interpolation(p: PlafondHop) -> str:
    """'min + (ac − ac_min) × (max − min) / (ac_max − ac_min) = …' with the figures."""
    i = p.interpolation
    n, e = format_nombre, format_euros
    texte = (
        f"{e(i.montant_min)} + ({n(i.activite_combinee)} {MOINS} {n(i.ac_min)}) × "
        f"({e(i.montant_max)} {MOINS} {e(i.montant_min)}) / ({n(i.ac_max)} {MOINS} {n(i.ac_min)})"
    )
    if i.valeur_exacte == i.resultat:
        return f"{texte} = {e(i.resultat)}"
    approx = format_nombre(i.valeur_exacte.quantize(Decimal("0.0001"), rounding=ROUND_DOWN))
    return f"{texte} = {approx}… ≈ {e(i.resultat)} (arrondi au centime)"


def _bornes_tranche(p: PlafondHop) -> str:
    n = format_nombre
    if p.tranche == HOP.tranches[-1]:
        return f"activité combinée de {n(p.ac_min)} à {n(p.ac_max)} (bornes incluses)"
    return f"activité combinée de {n(p.ac_min)} (incluse) à {n(p.ac_max)} (exclue)"


FORMULE_HOP = ("Plafond = montant min + (AC " + MOINS + " AC min) × (montant max " + MOINS
               + " montant min) / (AC max " + MOINS + " AC min)")


def texte_plafond_hop(
    activite_combinee: Decimal | int | float | str | list[Decimal | int | float | str], prestation: str,
    tva: str | None = None,
) -> str:
    """Output of ``xl2segur plafond hop-pfi-va2`` (all regimes when ``tva`` is None); several
    activités combinées are merged establishments (``texte_plafond_hop_fusion``)."""
    if isinstance(activite_combinee, list):
        if len(activite_combinee) > 1:
            return texte_plafond_hop_fusion(activite_combinee, prestation, tva)
        activite_combinee = activite_combinee[0]
    regime = regime_depuis_tva(tva)
    ac = _ac(activite_combinee)
    regimes: list[Regime] = [regime] if regime else list(REGIMES)  # type: ignore[list-item]
    try:
        resultats = [plafond_hop(ac, prestation, r) for r in regimes]  # type: ignore[arg-type]
    except HorsBaremeError as exc:
        raise ErreurSaisie(str(exc)) from exc
    p0 = resultats[0]
    lignes = [
        f"Plafond {HOP.code} — {HOP.prestations[prestation]}",
        f"Activité combinée : {format_nombre(ac)}",
        f"Tranche {p0.tranche} : {_bornes_tranche(p0)}",
        FORMULE_HOP,
    ]
    for p in resultats:
        lignes += [
            "",
            f"{REGIMES[p.regime][1]}",
            f"  Plafond : {formule_interpolation(p)}",
            f"  Avance ({format_taux(p.taux_avance)}) : {format_euros(p.avance)}",
            f"  Solde ({format_taux(p.taux_solde)}) : {format_euros(p.solde)}",
        ]
    return "\n".join(lignes)


def texte_plafond_hop_fusion(
    activites_combinees: list[Decimal | int | float | str], prestation: str, tva: str | None = None
) -> str:
    """Output of ``xl2segur plafond hop-pfi-va2`` for merged establishments: each one's cap,
    then their sum, its advance and balance (seed 002 §5.3, ``plafond_hop_fusion``)."""
    regime = regime_depuis_tva(tva)
    acs = [_ac(a) for a in activites_combinees]
    regimes: list[Regime] = [regime] if regime else list(REGIMES)  # type: ignore[list-item]
    try:
        fusions = [plafond_hop_fusion(acs, prestation, r) for r in regimes]  # type: ignore[arg-type]
    except HorsBaremeError as exc:
        raise ErreurSaisie(str(exc)) from exc
    lignes = [
        f"Plafond {HOP.code} — {HOP.prestations[prestation]}",
        f"Établissement issu de la fusion de {len(acs)} établissements : son plafond est la somme des "
        "plafonds des établissements fusionnés (AF HOP-PFI-Va2 §5.3).",
        FORMULE_HOP,
    ]
    lignes += [f"Établissement {n} — activité combinée {format_nombre(p0.activite_combinee)}, "
               f"tranche {p0.tranche} : {_bornes_tranche(p0)}" for n, p0 in enumerate(fusions[0].etablissements, start=1)]
    for f in fusions:
        lignes += ["", f"{REGIMES[f.etablissements[0].regime][1]}"]
        for n, p in enumerate(f.etablissements, start=1):
            lignes.append(f"  Plafond de l'établissement {n} : {formule_interpolation(p)}")
        somme = " + ".join(format_euros(p.plafond) for p in f.etablissements)
        lignes += [
            f"  Plafond de l'établissement fusionné : {somme} = {format_euros(f.plafond)}",
            f"  Avance ({format_taux(f.taux_avance)}) : {format_euros(f.avance)}",
            f"  Solde ({format_taux(f.taux_solde)}) : {format_euros(f.solde)}",
        ]
    return "\n".join(lignes)


# ---------------------------------------------------------------- SFP-LGC-Va2


def texte_plafond_sfp(client: str, tranche: str | None = None, tva: str | None = None) -> str:
    """Output of ``xl2segur plafond sfp-lgc-va2`` (all regimes when ``tva`` is None)."""
    regime = regime_depuis_tva(tva)
    regimes: list[Regime] = [regime] if regime else list(REGIMES)  # type: ignore[list-item]
    try:
        cle = normaliser_client_sfp(client)
        resultats: list[PlafondSfp] = [plafond_sfp(cle, tranche, r) for r in regimes]
    except HorsBaremeError as exc:
        raise ErreurSaisie(str(exc)) from exc
    p0 = resultats[0]
    libelle = SFP.clients[cle][1]
    titre = f"Plafond {SFP.code} — {libelle}"
    if p0.tranche:
        titre += f", tranche {p0.tranche}"
    lignes = [titre]
    if cle == "csi":
        lignes.append(
            "Plafond forfaitaire par centre, selon la tranche de la Base de référence "
            "(FINESS géographique)."
        )
    else:
        lignes.append("Plafond forfaitaire par professionnel (identifié par son RPPS).")
    for p in resultats:
        lignes += [
            "",
            f"{REGIMES[p.regime][1]}",
            f"  Plafond : {format_euros(p.plafond)}",
            f"  Avance ({format_taux(p.taux_avance)}) : {format_euros(p.avance)}",
            f"  Solde ({format_taux(p.taux_solde)}) : {format_euros(p.solde)}",
        ]
    return "\n".join(lignes)
