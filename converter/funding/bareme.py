"""Price caps (plafonds) of HOP-PFI-Va2 and SFP-LGC-Va2, read from the reference CSVs.

HOP-PFI-Va2 (seed 002 §5.3): a piecewise affine function of the activité combinée
(AC). Four tranches A–D with AC bounds [0, 7 000], [7 000, 22 500], [22 500, 230 000],
[230 000, 1 600 000]; « au sein de chaque tranche, le montant plafond est calculé de
manière linéaire entre ces montants minimum et maximum de la tranche »::

    plafond = min + (ac − ac_min) × (max − min) / (ac_max − ac_min)

computed exactly, then rounded half-up to the cent, separately for each regime column
of the table (TTC 20 %, TTC 8,5 %, HT).

Bound values (7 000, 22 500, 230 000) appear in the seed's table both as « Max » of a
tranche and « Min » of the next one, with the same amounts, so the cap is continuous and
the choice only changes the tranche letter shown. We classify a bound in the tranche of
which it is the « Min » (tranches are [ac_min, ac_max[), like 0, the « Min » of A; the
last tranche D is closed: [230 000, 1 600 000]. The seed defines no amount below 0 or
above 1 600 000: such an AC raises ``HorsBaremeError`` (the « Base des ES éligibles »
is authoritative for real establishments).

SFP-LGC-Va2 (seed 004 §5.3): flat caps per profession, and per tranche A–E for a Centre
de santé infirmier (tranche read in the « Base de référence »).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal, localcontext
from functools import lru_cache
from pathlib import Path

from .montants import arrondi_centime, avance, en_decimal, format_nombre, solde
from .parametres import HOP, REGIMES, SFP, ClientSfp, PrestationHop, Regime

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"


class HorsBaremeError(ValueError):
    """Input outside what the seed's price table defines (message in French)."""


@dataclass(frozen=True)
class TrancheHop:
    """One row of bareme-hop-pfi-va2.csv (amounts by regime)."""

    prestation: str
    tranche: str
    ac_min: Decimal
    ac_max: Decimal
    montants_min: dict[str, Decimal]
    montants_max: dict[str, Decimal]


@dataclass(frozen=True)
class Interpolation:
    """The terms of min + (ac − ac_min) × (max − min) / (ac_max − ac_min)."""

    activite_combinee: Decimal
    ac_min: Decimal
    ac_max: Decimal
    montant_min: Decimal
    montant_max: Decimal
    valeur_exacte: Decimal  # before rounding to the cent
    resultat: Decimal  # rounded half-up to the cent


@dataclass(frozen=True)
class PlafondHop:
    """Cap of a HOP-PFI-Va2 Prestation Ségur, with its advance and balance."""

    prestation: str
    regime: str
    activite_combinee: Decimal
    tranche: str
    ac_min: Decimal
    ac_max: Decimal
    interpolation: Interpolation
    plafond: Decimal
    taux_avance: Decimal
    avance: Decimal
    taux_solde: Decimal
    solde: Decimal


@dataclass(frozen=True)
class PlafondSfp:
    """Flat cap of a SFP-LGC-Va2 Prestation Ségur, with its advance and balance."""

    client: str
    tranche: str | None
    regime: str
    plafond: Decimal
    taux_avance: Decimal
    avance: Decimal
    taux_solde: Decimal
    solde: Decimal


def _lire_csv(nom: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / nom).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def tranches_hop() -> tuple[TrancheHop, ...]:
    """All rows of the HOP-PFI-Va2 table, in file order."""
    rows = []
    for r in _lire_csv(HOP.bareme_csv):
        rows.append(
            TrancheHop(
                prestation=r["prestation"],
                tranche=r["tranche"],
                ac_min=Decimal(r["ac_min"]),
                ac_max=Decimal(r["ac_max"]),
                montants_min={reg: Decimal(r[f"{col}_min"]) for reg, (col, _) in REGIMES.items()},
                montants_max={reg: Decimal(r[f"{col}_max"]) for reg, (col, _) in REGIMES.items()},
            )
        )
    return tuple(rows)


@lru_cache(maxsize=1)
def montants_sfp() -> dict[str, dict[str, Decimal]]:
    """CSV row key (``IDE``, ``CSI_B``…) -> regime -> cap."""
    return {
        r["client"]: {reg: Decimal(r[col]) for reg, (col, _) in REGIMES.items()}
        for r in _lire_csv(SFP.bareme_csv)
    }


def _verifier_regime(regime: str) -> None:
    if regime not in REGIMES:
        raise HorsBaremeError(
            f"Régime de TVA inconnu : {regime!r}. Valeurs possibles : "
            + ", ".join(REGIMES)
            + "."
        )


def _verifier_prestation(prestation: str) -> None:
    if prestation not in HOP.prestations:
        raise HorsBaremeError(
            f"Prestation inconnue : {prestation!r}. Valeurs possibles : V2 "
            f"({HOP.prestations['V2']}) ou V1+V2 ({HOP.prestations['V1+V2']})."
        )


def tranche_hop(activite_combinee: Decimal | int | str, prestation: PrestationHop = "V2") -> TrancheHop:
    """Tranche of an activité combinée: [ac_min, ac_max[, the last one closed."""
    _verifier_prestation(prestation)
    ac = en_decimal(activite_combinee)
    rows = [t for t in tranches_hop() if t.prestation == prestation]
    if ac < rows[0].ac_min:
        raise HorsBaremeError(
            f"Activité combinée négative ({format_nombre(ac)}) : elle doit être comprise "
            f"entre {format_nombre(rows[0].ac_min)} et {format_nombre(rows[-1].ac_max)}."
        )
    # inferred: the seed gives no amount beyond 1 600 000 (nor below 0): refuse, since the
    # « Base des ES éligibles » is authoritative for real establishments.
    if ac > rows[-1].ac_max:
        raise HorsBaremeError(
            f"Activité combinée {format_nombre(ac)} au-delà de la dernière tranche du "
            f"barème (maximum {format_nombre(rows[-1].ac_max)}) : le barème AF-HOP-PFI-Va2 ne définit pas de "
            "plafond au-delà ; reportez-vous au montant de la Base des ES éligibles."
        )
    # inferred: the seed's table lists 7 000 / 22 500 / 230 000 both as « Max » of a tranche
    # and « Min » of the next (same amounts); a bound goes to the tranche it is the « Min »
    # of, like 0 for A; the last tranche is closed at 1 600 000.
    for t in rows:
        if t.ac_min <= ac < t.ac_max:
            return t
    return rows[-1]  # ac == ac_max of the last tranche


def plafond_hop(
    activite_combinee: Decimal | int | str,
    prestation: PrestationHop,
    regime: Regime = "TTC20",
) -> PlafondHop:
    """Cap of a HOP-PFI-Va2 prestation by linear interpolation inside its tranche."""
    _verifier_regime(regime)
    t = tranche_hop(activite_combinee, prestation)
    ac = en_decimal(activite_combinee)
    # inferred: interpolate the regime's own column (the seed's table gives min/max per
    # column), not HT × rate: the published amounts then come out exactly at the bounds.
    mn, mx = t.montants_min[regime], t.montants_max[regime]
    with localcontext() as ctx:
        ctx.prec = 60
        exacte = mn + (ac - t.ac_min) * (mx - mn) / (t.ac_max - t.ac_min)
    plafond = arrondi_centime(exacte)
    return PlafondHop(
        prestation=prestation,
        regime=regime,
        activite_combinee=ac,
        tranche=t.tranche,
        ac_min=t.ac_min,
        ac_max=t.ac_max,
        interpolation=Interpolation(ac, t.ac_min, t.ac_max, mn, mx, exacte, plafond),
        plafond=plafond,
        taux_avance=HOP.taux_avance,
        avance=avance(plafond, HOP.taux_avance),
        taux_solde=HOP.taux_solde,
        solde=solde(plafond, HOP.taux_avance),
    )


@dataclass(frozen=True)
class PlafondFusion:
    """Cap of the establishment born from a merger: the sum of the caps of the merged ones."""

    etablissements: tuple[PlafondHop, ...]
    plafond: Decimal
    taux_avance: Decimal
    avance: Decimal
    taux_solde: Decimal
    solde: Decimal


def plafond_hop_fusion(
    activites_combinees: list[Decimal | int | str],
    prestation: PrestationHop,
    regime: Regime = "TTC20",
) -> PlafondFusion:
    """Seed 002 §5.3: « dans les cas d'une fusion d'établissements présents initialement dans la
    Base des ES éligibles, le prix correspondant à la Prestation Ségur s'appliquant au nouvel
    établissement issu de cette fusion […] correspond à la somme des prix associés aux
    établissements concernés par la fusion »: each establishment's cap from its own activité
    combinée, then their sum (each already rounded to the cent, as each price is)."""
    caps = tuple(plafond_hop(ac, prestation, regime) for ac in activites_combinees)
    total = sum((p.plafond for p in caps), Decimal("0.00"))
    return PlafondFusion(caps, total, HOP.taux_avance, avance(total, HOP.taux_avance),
                         HOP.taux_solde, solde(total, HOP.taux_avance))


def normaliser_client_sfp(client: str) -> str:
    """Accept 'ide', 'IDE', 'masseur_kinesitherapeute', 'Sage-femme'… -> canonical key."""
    cle = client.strip().lower().replace("_", "-").replace(" ", "-")
    for accent, sans in (("é", "e"), ("è", "e"), ("ê", "e")):
        cle = cle.replace(accent, sans)
    if cle not in SFP.clients:
        raise HorsBaremeError(
            f"Type de client inconnu : {client!r}. Valeurs possibles : "
            + ", ".join(SFP.clients)
            + "."
        )
    return cle


def plafond_sfp(
    client: ClientSfp | str,
    tranche: str | None = None,
    regime: Regime = "TTC20",
) -> PlafondSfp:
    """Flat cap of a SFP-LGC-Va2 prestation; ``tranche`` (A–E) is required for a CSI only."""
    _verifier_regime(regime)
    cle = normaliser_client_sfp(client)
    if cle == "csi":
        if tranche is None or not str(tranche).strip():
            raise HorsBaremeError(
                "Un centre de santé infirmier (csi) exige une tranche (A, B, C, D ou E), "
                "lue dans la Base de référence publiée par l'ANS pour son FINESS géographique."
            )
        tr = str(tranche).strip().upper()
        if tr not in SFP.tranches_csi:
            raise HorsBaremeError(
                f"Tranche CSI inconnue : {tranche!r}. Valeurs possibles : "
                + ", ".join(SFP.tranches_csi)
                + "."
            )
        ligne = f"{SFP.clients[cle][0]}_{tr}"
    else:
        if tranche is not None and str(tranche).strip():
            raise HorsBaremeError(
                f"La tranche ne s'applique qu'aux centres de santé infirmiers : retirez "
                f"--tranche pour le client {cle!r} (plafond forfaitaire)."
            )
        tr = None
        ligne = SFP.clients[cle][0]
    plafond = montants_sfp()[ligne][regime]
    return PlafondSfp(
        client=cle,
        tranche=tr,
        regime=regime,
        plafond=plafond,
        taux_avance=SFP.taux_avance,
        avance=avance(plafond, SFP.taux_avance),
        taux_solde=SFP.taux_solde,
        solde=solde(plafond, SFP.taux_avance),
    )
