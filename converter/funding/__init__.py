"""Funding rules: the wave-1 avance and solde amounts, and the Ségur wave-2 programmes
HOP-PFI-Va2 and SFP-LGC-Va2.

Pure library: avance and solde amounts (``amounts``), caps (``bareme``), calendars
(``calendars``), eligibility (``eligibility``), their violations (``violations``), French
CLI text (``cli_text``). Every seed number is in ``parameters`` or in
``converter/reference/bareme-*.csv``.
"""

from .bareme import (
    AboveBaremeError,
    OutsideBaremeError,
    Interpolation,
    PlafondFusion,
    PlafondHop,
    PlafondSfp,
    TrancheHop,
    sfp_amounts,
    normalise_sfp_client,
    plafond_hop,
    plafond_hop_fusion,
    plafond_sfp,
    tranche_hop,
    tranches_hop,
)
from .calendars import (
    Calendar,
    add_months,
    hop_calendar,
    sfp_calendar,
    check_bon_commande,
    check_demande_avance,
    check_demande_solde,
    check_realisation,
)
from .eligibility import (
    sfp_client_key,
    duplicates,
    check_finess_geographique_category,
    check_finess_juridique_category,
    check_hop_client,
    check_order_amount,
    check_hop_prestation,
    check_sfp_profiles,
    check_uniqueness,
)
from .amounts import AVANCE_RATE_WAVE1, SOLDE_RATE_WAVE1, round_cent, avance, solde
from .parameters import HOP, REGIMES, SFP
from .violations import Violation

__all__ = [
    "HOP",
    "REGIMES",
    "SFP",
    "AVANCE_RATE_WAVE1",
    "SOLDE_RATE_WAVE1",
    "Calendar",
    "AboveBaremeError",
    "OutsideBaremeError",
    "Interpolation",
    "PlafondFusion",
    "PlafondHop",
    "PlafondSfp",
    "TrancheHop",
    "Violation",
    "add_months",
    "round_cent",
    "avance",
    "hop_calendar",
    "sfp_calendar",
    "sfp_client_key",
    "duplicates",
    "sfp_amounts",
    "normalise_sfp_client",
    "plafond_hop",
    "plafond_hop_fusion",
    "plafond_sfp",
    "solde",
    "tranche_hop",
    "tranches_hop",
    "check_bon_commande",
    "check_finess_geographique_category",
    "check_finess_juridique_category",
    "check_hop_client",
    "check_demande_avance",
    "check_demande_solde",
    "check_order_amount",
    "check_hop_prestation",
    "check_sfp_profiles",
    "check_realisation",
    "check_uniqueness",
]
