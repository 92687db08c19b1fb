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
above 1 600 000: such an AC raises ``OutsideBaremeError`` (the « Base des ES éligibles »
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

from .amounts import round_cent, avance, to_decimal, format_number, solde
from .parameters import HOP, REGIMES, SFP, ClientSfp, PrestationHop, Regime

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "reference"


class OutsideBaremeError(ValueError):
    """Input outside what the seed's price table defines (message in French)."""


class AboveBaremeError(OutsideBaremeError):
    """An activité combinée above the table's last tranche: the seed gives no cap there, but
    forbids no such establishment either (its cap is in the « Base des ES éligibles »)."""


@dataclass(frozen=True)
class TrancheHop:
    """One row of bareme-hop-pfi-va2.csv (amounts by regime)."""

    prestation: str
    tranche: str
    ac_min: Decimal
    ac_max: Decimal
    min_amounts: dict[str, Decimal]
    max_amounts: dict[str, Decimal]


@dataclass(frozen=True)
class Interpolation:
    """The terms of min + (ac − ac_min) × (max − min) / (ac_max − ac_min)."""

    combined_activity: Decimal
    ac_min: Decimal
    ac_max: Decimal
    min_amount: Decimal
    max_amount: Decimal
    exact_value: Decimal  # before rounding to the cent
    result: Decimal  # rounded half-up to the cent


@dataclass(frozen=True)
class PlafondHop:
    """Cap of a HOP-PFI-Va2 Prestation Ségur, with its advance and balance."""

    prestation: str
    regime: str
    combined_activity: Decimal
    tranche: str
    ac_min: Decimal
    ac_max: Decimal
    interpolation: Interpolation
    plafond: Decimal
    avance_rate: Decimal
    avance: Decimal
    solde_rate: Decimal
    solde: Decimal


@dataclass(frozen=True)
class PlafondSfp:
    """Flat cap of a SFP-LGC-Va2 Prestation Ségur, with its advance and balance."""

    client: str
    tranche: str | None
    regime: str
    plafond: Decimal
    avance_rate: Decimal
    avance: Decimal
    solde_rate: Decimal
    solde: Decimal


def _read_csv(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def tranches_hop() -> tuple[TrancheHop, ...]:
    """All rows of the HOP-PFI-Va2 table, in file order."""
    rows = []
    for r in _read_csv(HOP.bareme_csv):
        rows.append(
            TrancheHop(
                prestation=r["prestation"],
                tranche=r["tranche"],
                ac_min=Decimal(r["ac_min"]),
                ac_max=Decimal(r["ac_max"]),
                min_amounts={reg: Decimal(r[f"{col}_min"]) for reg, (col, _) in REGIMES.items()},
                max_amounts={reg: Decimal(r[f"{col}_max"]) for reg, (col, _) in REGIMES.items()},
            )
        )
    return tuple(rows)


@lru_cache(maxsize=1)
def sfp_amounts() -> dict[str, dict[str, Decimal]]:
    """CSV row key (``IDE``, ``CSI_B``…) -> regime -> cap."""
    return {
        r["client"]: {reg: Decimal(r[col]) for reg, (col, _) in REGIMES.items()}
        for r in _read_csv(SFP.bareme_csv)
    }


def _check_regime(regime: str) -> None:
    if regime not in REGIMES:
        raise OutsideBaremeError(
            f"Régime de TVA inconnu : « {regime} ». Valeurs possibles : "
            + ", ".join(REGIMES)
            + "."
        )


def _check_prestation(prestation: str) -> None:
    if prestation not in HOP.prestations:
        raise OutsideBaremeError(
            f"Prestation inconnue : « {prestation} ». Valeurs possibles : V2 "
            f"({HOP.prestations['V2']}) ou V1+V2 ({HOP.prestations['V1+V2']})."
        )


def tranche_hop(combined_activity: Decimal | int | str, prestation: PrestationHop = "V2") -> TrancheHop:
    """Tranche of an activité combinée: [ac_min, ac_max[, the last one closed."""
    _check_prestation(prestation)
    ac = to_decimal(combined_activity)
    rows = [t for t in tranches_hop() if t.prestation == prestation]
    if ac < rows[0].ac_min:
        raise OutsideBaremeError(
            f"Activité combinée négative ({format_number(ac)}) : elle doit être comprise "
            f"entre {format_number(rows[0].ac_min)} et {format_number(rows[-1].ac_max)}."
        )
    # The seed gives no amount beyond 1 600 000: no cap can be computed, and the « Base des ES
    # éligibles » is authoritative (« Les niveaux d'activité combinée et les prix plafonds
    # correspondant à chaque ES éligible figurent dans la Base des ES éligibles », seed 002
    # §5.3). The seed forbids no such establishment: callers that check an order warn
    # (AboveBaremeError), `xl2segur plafond` has nothing to print.
    if ac > rows[-1].ac_max:
        raise AboveBaremeError(
            f"Activité combinée {format_number(ac)} au-delà de la dernière tranche du "
            f"barème (maximum {format_number(rows[-1].ac_max)}) : le barème AF-HOP-PFI-Va2 ne définit pas de "
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
    combined_activity: Decimal | int | str,
    prestation: PrestationHop,
    regime: Regime = "TTC20",
) -> PlafondHop:
    """Cap of a HOP-PFI-Va2 prestation by linear interpolation inside its tranche."""
    _check_regime(regime)
    t = tranche_hop(combined_activity, prestation)
    ac = to_decimal(combined_activity)
    # inferred: interpolate the regime's own column (the seed's table gives min/max per
    # column), not HT × rate: the published amounts then come out exactly at the bounds.
    mn, mx = t.min_amounts[regime], t.max_amounts[regime]
    with localcontext() as ctx:
        ctx.prec = 60
        exact = mn + (ac - t.ac_min) * (mx - mn) / (t.ac_max - t.ac_min)
    plafond = round_cent(exact)
    return PlafondHop(
        prestation=prestation,
        regime=regime,
        combined_activity=ac,
        tranche=t.tranche,
        ac_min=t.ac_min,
        ac_max=t.ac_max,
        interpolation=Interpolation(ac, t.ac_min, t.ac_max, mn, mx, exact, plafond),
        plafond=plafond,
        avance_rate=HOP.avance_rate,
        avance=avance(plafond, HOP.avance_rate),
        solde_rate=HOP.solde_rate,
        solde=solde(plafond, HOP.avance_rate),
    )


@dataclass(frozen=True)
class PlafondFusion:
    """Cap of the establishment born from a merger: the sum of the caps of the merged ones."""

    establishments: tuple[PlafondHop, ...]
    plafond: Decimal
    avance_rate: Decimal
    avance: Decimal
    solde_rate: Decimal
    solde: Decimal


def plafond_hop_fusion(
    combined_activities: list[Decimal | int | str],
    prestation: PrestationHop,
    regime: Regime = "TTC20",
) -> PlafondFusion:
    """Seed 002 §5.3: « dans les cas d'une fusion d'établissements présents initialement dans la
    Base des ES éligibles, le prix correspondant à la Prestation Ségur s'appliquant au nouvel
    établissement issu de cette fusion […] correspond à la somme des prix associés aux
    établissements concernés par la fusion »: each establishment's cap from its own activité
    combinée, then their sum (each already rounded to the cent, as each price is)."""
    caps = tuple(plafond_hop(ac, prestation, regime) for ac in combined_activities)
    total = sum((p.plafond for p in caps), Decimal("0.00"))
    return PlafondFusion(caps, total, HOP.avance_rate, avance(total, HOP.avance_rate),
                         HOP.solde_rate, solde(total, HOP.avance_rate))


def normalise_sfp_client(client: str) -> str:
    """Accept 'ide', 'IDE', 'masseur_kinesitherapeute', 'Sage-femme'… -> canonical key."""
    client_key = client.strip().lower().replace("_", "-").replace(" ", "-")
    for accent, without in (("é", "e"), ("è", "e"), ("ê", "e")):
        client_key = client_key.replace(accent, without)
    if client_key not in SFP.clients:
        raise OutsideBaremeError(
            f"Type de client inconnu : « {client} ». Valeurs possibles : "
            + ", ".join(SFP.clients)
            + "."
        )
    return client_key


def plafond_sfp(
    client: ClientSfp | str,
    tranche: str | None = None,
    regime: Regime = "TTC20",
) -> PlafondSfp:
    """Flat cap of a SFP-LGC-Va2 prestation; ``tranche`` (A–E) is required for a CSI only."""
    _check_regime(regime)
    client_key = normalise_sfp_client(client)
    if client_key == "csi":
        if tranche is None or not str(tranche).strip():
            raise OutsideBaremeError(
                "Un centre de santé infirmier (csi) exige une tranche (A, B, C, D ou E), "
                "lue dans la Base de référence publiée par l'ANS pour son FINESS géographique."
            )
        tr = str(tranche).strip().upper()
        if tr not in SFP.csi_tranches:
            raise OutsideBaremeError(
                f"Tranche CSI inconnue : « {tranche} ». Valeurs possibles : "
                + ", ".join(SFP.csi_tranches)
                + "."
            )
        line = f"{SFP.clients[client_key][0]}_{tr}"
    else:
        if tranche is not None and str(tranche).strip():
            raise OutsideBaremeError(
                f"La tranche ne s'applique qu'aux centres de santé infirmiers : retirez "
                f"--tranche pour le client « {client_key} » (plafond forfaitaire)."
            )
        tr = None
        line = SFP.clients[client_key][0]
    plafond = sfp_amounts()[line][regime]
    return PlafondSfp(
        client=client_key,
        tranche=tr,
        regime=regime,
        plafond=plafond,
        avance_rate=SFP.avance_rate,
        avance=avance(plafond, SFP.avance_rate),
        solde_rate=SFP.solde_rate,
        solde=solde(plafond, SFP.avance_rate),
    )
