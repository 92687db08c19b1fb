"""Funding rules: the wave-1 avance and solde amounts, and the Ségur wave-2 programmes
HOP-PFI-Va2 and SFP-LGC-Va2.

Pure library: avance and solde amounts (``amounts``), caps (``bareme``), calendars
(``calendars``) and the per-order reading of their rules (``violations``), French CLI text
(``cli_text``). The eligibility rules that `verifier` applies to the wave-2 order workbooks are
declared in their formats' YAML and run by ``converter/checks/rules.py``. Every seed number is in ``parameters`` or in
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
    "sfp_amounts",
    "normalise_sfp_client",
    "plafond_hop",
    "plafond_hop_fusion",
    "plafond_sfp",
    "solde",
    "tranche_hop",
    "tranches_hop",
    "check_bon_commande",
]
