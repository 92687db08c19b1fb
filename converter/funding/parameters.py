"""Every number and list taken from the seeds, in one place per programme.

- HOP-PFI-Va2: seed 002 (AF-HOP-PFI-Va2 v1.2, 12/12/2025).
- SFP-LGC-Va2: seed 004 (AF-SFP-LGC-Va2).
- Wave 1 rates: FORMATS.md §5, last line (seeds 000, 001, 003).

The cap amounts themselves live in ``converter/reference/bareme-*.csv`` (verified
transcriptions of the seeds' tables); this module only names those files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Literal, Mapping

Regime = Literal["TTC20", "TTC8.5", "HT"]
PrestationHop = Literal["V2", "V1+V2"]
ClientSfp = Literal[
    "sage-femme",
    "ipa",
    "ide",
    "masseur-kinesitherapeute",
    "orthophoniste",
    "orthoptiste",
    "pedicure-podologue",
    "csi",
]

# Regime -> (CSV column prefix, French label).  Seeds §5.2: the cap is the amount
# including the VAT rate that applies, or the HT amount if the supplier is not liable.
REGIMES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "TTC20": ("ttc20", "TTC (TVA 20 %)"),
        "TTC8.5": ("ttc85", "TTC (TVA 8,5 %)"),
        "HT": ("ht", "HT"),
    }
)

# ---------------------------------------------------------------- wave 1 (FORMATS.md §5)
AVANCE_RATE_WAVE1 = Decimal("0.30")
SOLDE_RATE_WAVE1 = Decimal("0.70")


@dataclass(frozen=True)
class HopParameters:
    """Constants of AF-HOP-PFI-Va2 (seed 002)."""

    code: str
    bareme_csv: str
    # §2: absolute dates, each "à 12h".
    # inferred: Date 0 (JO publication of the arrêté) is not dated in the seed, so it is
    # a parameter of the calendar functions, not a constant.
    dates: Mapping[int, datetime]
    avance_rate: Decimal
    solde_rate: Decimal
    signature_days_before_complete_file: int
    prestations: Mapping[str, str]
    tranches: tuple[str, ...]
    finess_juridique_categories: frozenset[str]
    finess_geographique_categories: frozenset[str]


HOP = HopParameters(
    code="HOP-PFI-Va2",
    bareme_csv="bareme-hop-pfi-va2.csv",
    dates=MappingProxyType(
        {
            1: datetime(2024, 11, 19, 12, 0),  # référencement : dépôt dossier administratif
            2: datetime(2025, 6, 25, 12, 0),  # référencement : dossier complet de preuves
            3: datetime(2025, 9, 25, 12, 0),  # référencement : fin des échanges ANS
            4: datetime(2026, 9, 23, 12, 0),  # financement : fin des demandes d'avance
            5: datetime(2027, 6, 22, 12, 0),  # financement : fin de réalisation des prestations
            6: datetime(2027, 9, 28, 12, 0),  # financement : fin des demandes de solde
        }
    ),
    avance_rate=Decimal("0.40"),  # §6: avance = 40 %
    solde_rate=Decimal("0.60"),  # §6: solde = 60 %
    signature_days_before_complete_file=120,  # §4.3: 120 jours calendaires
    prestations=MappingProxyType(
        {
            "V2": "Prestation Ségur Vague 2",
            "V1+V2": "Prestation Ségur Vague 1 + Vague 2",
        }
    ),
    tranches=("A", "B", "C", "D"),  # §5.3: 4 tranches
    # §4.2 (v1.1 added FINESS géographique category 146).
    finess_juridique_categories=frozenset(
        "1101 1102 1103 1104 1106 1107 1109 1110 1111 1201 1203 1205 2205".split()
    ),
    finess_geographique_categories=frozenset(
        (
            "101 106 109 114 115 122 127 128 129 131 141 146 156 161 292 362 355 365 366"
            " 412 415 425 430 444 697"
        ).split()
    ),
)


@dataclass(frozen=True)
class SfpParameters:
    """Constants of AF-SFP-LGC-Va2 (seed 004)."""

    code: str
    bareme_csv: str
    # §2: Date n = Date 0 + offset months (no hour given in this seed).
    month_offsets: Mapping[int, int]
    signature_min_months: int
    avance_rate: Decimal
    solde_rate: Decimal
    signature_days_before_complete_file: int
    # client -> (CSV row key, French label)
    clients: Mapping[str, tuple[str, str]]
    csi_tranches: tuple[str, ...]


SFP = SfpParameters(
    code="SFP-LGC-Va2",
    bareme_csv="bareme-sfp-lgc-va2.csv",
    month_offsets=MappingProxyType({1: 7, 2: 22, 3: 25, 4: 28, 5: 32, 6: 35}),
    signature_min_months=12,  # §4.3: signature pas antérieure à Date 0 + 12 mois
    avance_rate=Decimal("0.40"),  # §6 point 3
    solde_rate=Decimal("0.60"),  # §6 point 4
    signature_days_before_complete_file=120,  # §4.3
    clients=MappingProxyType(
        {
            "sage-femme": ("SAGE_FEMME", "Sage-femme"),
            "ipa": ("IPA", "Infirmier(ère) en pratique avancée (IPA)"),
            "ide": ("IDE", "Infirmier(ère) diplômé(e) d'État (IDE)"),
            "masseur-kinesitherapeute": (
                "MASSEUR_KINESITHERAPEUTE",
                "Masseur-kinésithérapeute",
            ),
            "orthophoniste": ("ORTHOPHONISTE", "Orthophoniste"),
            "orthoptiste": ("ORTHOPTISTE", "Orthoptiste"),
            "pedicure-podologue": ("PEDICURE_PODOLOGUE", "Pédicure-podologue"),
            "csi": ("CSI", "Centre de santé infirmier (CSI)"),
        }
    ),
    # §5.3: the tranche of a CSI is read in the « Base de référence » (by FINESS
    # géographique, from its declared headcount excluding administrative staff, end
    # of 2024). The seed publishes no headcount thresholds: no rule can compute it.
    csi_tranches=("A", "B", "C", "D", "E"),
)
