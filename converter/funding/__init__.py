"""Funding rules of the Ségur wave-2 programmes HOP-PFI-Va2 and SFP-LGC-Va2.

Pure library: caps (``bareme``), calendars (``calendrier``), eligibility
(``eligibilite``), French CLI text (``cli_text``). Every seed number is in
``parametres`` or in ``converter/reference/bareme-*.csv``.
"""

from .bareme import (
    HorsBaremeError,
    Interpolation,
    PlafondFusion,
    PlafondHop,
    PlafondSfp,
    TrancheHop,
    montants_sfp,
    normaliser_client_sfp,
    plafond_hop,
    plafond_hop_fusion,
    plafond_sfp,
    tranche_hop,
    tranches_hop,
)
from .calendrier import (
    Calendrier,
    ajouter_mois,
    calendrier_hop,
    calendrier_sfp,
    verifier_bon_commande,
    verifier_demande_avance,
    verifier_demande_solde,
    verifier_realisation,
)
from .eligibilite import (
    cle_client_sfp,
    doublons,
    verifier_categorie_finess_geographique,
    verifier_categorie_finess_juridique,
    verifier_client_hop,
    verifier_montant_commande,
    verifier_prestation_hop,
    verifier_profils_sfp,
    verifier_unicite,
)
from .montants import TAUX_AVANCE_VAGUE1, TAUX_SOLDE_VAGUE1, arrondi_centime, avance, solde
from .parametres import HOP, REGIMES, SFP
from .violations import Violation

__all__ = [
    "HOP",
    "REGIMES",
    "SFP",
    "TAUX_AVANCE_VAGUE1",
    "TAUX_SOLDE_VAGUE1",
    "Calendrier",
    "HorsBaremeError",
    "Interpolation",
    "PlafondFusion",
    "PlafondHop",
    "PlafondSfp",
    "TrancheHop",
    "Violation",
    "ajouter_mois",
    "arrondi_centime",
    "avance",
    "calendrier_hop",
    "calendrier_sfp",
    "cle_client_sfp",
    "doublons",
    "montants_sfp",
    "normaliser_client_sfp",
    "plafond_hop",
    "plafond_hop_fusion",
    "plafond_sfp",
    "solde",
    "tranche_hop",
    "tranches_hop",
    "verifier_bon_commande",
    "verifier_categorie_finess_geographique",
    "verifier_categorie_finess_juridique",
    "verifier_client_hop",
    "verifier_demande_avance",
    "verifier_demande_solde",
    "verifier_montant_commande",
    "verifier_prestation_hop",
    "verifier_profils_sfp",
    "verifier_realisation",
    "verifier_unicite",
]
