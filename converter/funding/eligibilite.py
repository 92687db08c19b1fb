"""Eligibility rules: HOP FINESS categories and prestation, SFP client keys and profiles,
one financed order per client, amount within the cap."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from .bareme import normaliser_client_sfp
from .montants import en_decimal, format_euros
from .parametres import HOP, SFP
from .violations import Violation

_FINESS = re.compile(r"^(\d{2}|2A|2B)\d{7}$")
_RPPS = re.compile(r"^\d{11}$")


def _categorie(valeur: int | str) -> str:
    return str(valeur).strip()


def verifier_categorie_finess_juridique(categorie: int | str) -> list[Violation]:
    """§4.2: FINESS juridique category must be one of the 13 listed values."""
    c = _categorie(categorie)
    if c in HOP.categories_finess_juridique:
        return []
    return [
        Violation(
            f"{HOP.code}.CATEGORIE_FINESS_JURIDIQUE",
            f"Catégorie FINESS juridique {c!r} non éligible à {HOP.code} : valeurs admises "
            + ", ".join(sorted(HOP.categories_finess_juridique))
            + ". Vérifiez la catégorie saisie ou l'entité juridique du Client.",
            c,
        )
    ]


def verifier_categorie_finess_geographique(categorie: int | str) -> list[Violation]:
    """§4.2: FINESS géographique category must be one of the 25 listed values (146 since v1.1)."""
    c = _categorie(categorie)
    if c in HOP.categories_finess_geographique:
        return []
    return [
        Violation(
            f"{HOP.code}.CATEGORIE_FINESS_GEOGRAPHIQUE",
            f"Catégorie FINESS géographique {c!r} non éligible à {HOP.code} : valeurs admises "
            + ", ".join(sorted(HOP.categories_finess_geographique, key=int))
            + ". Vérifiez la catégorie saisie ou l'établissement du Client.",
            c,
        )
    ]


def verifier_client_hop(
    categorie_juridique: int | str,
    categorie_geographique: int | str,
    *,
    activite_pmsi_2022_non_nulle: bool | None = None,
) -> list[Violation]:
    """§4.2: both FINESS categories eligible and a non-zero PMSI activity in 2022."""
    v = verifier_categorie_finess_juridique(categorie_juridique)
    v += verifier_categorie_finess_geographique(categorie_geographique)
    if activite_pmsi_2022_non_nulle is False:
        v.append(
            Violation(
                f"{HOP.code}.ACTIVITE_PMSI_NULLE",
                "Le Client n'a pas déclaré d'activité PMSI (séjours) en 2022 : il n'est pas "
                "éligible.",
                activite_pmsi_2022_non_nulle,
            )
        )
    return v


def verifier_prestation_hop(
    prestation: str,
    *,
    beneficiaire_hop_pfi_va1: bool | None = None,
    maj_va1_financee_sur_fonds_propres: bool | None = None,
) -> list[Violation]:
    """§4.2: « V1+V2 » only for clients with neither a HOP-PFI-Va1 prestation nor a
    self-funded update to a wave-1 version; anyone else gets « V2 »."""
    if prestation not in HOP.prestations:
        return [
            Violation(
                f"{HOP.code}.PRESTATION_INCONNUE",
                f"Prestation {prestation!r} inconnue : indiquez V2 ({HOP.prestations['V2']}) "
                f"ou V1+V2 ({HOP.prestations['V1+V2']}).",
                prestation,
            )
        ]
    if prestation == "V1+V2" and (beneficiaire_hop_pfi_va1 or maj_va1_financee_sur_fonds_propres):
        return [
            Violation(
                f"{HOP.code}.PRESTATION_V1V2_NON_ELIGIBLE",
                "La Prestation Ségur Vague 1 + Vague 2 est réservée aux Clients qui n'ont ni "
                "bénéficié du SONS HOP-PFI-Va1 ni financé eux-mêmes une PFI référencée "
                "vague 1 : commandez la Prestation Ségur Vague 2 (V2).",
                prestation,
            )
        ]
    return []


def verifier_montant_commande(montant: Decimal | int | str, plafond: Decimal) -> list[Violation]:
    """§4.3: the order's amount is > 0 and at most the applicable cap."""
    m = en_decimal(montant)
    if m <= 0:
        return [
            Violation(
                "MONTANT_NUL",
                "Le montant de la Prestation Ségur doit figurer sur le bon de commande et ne "
                "peut pas être nul : saisissez le montant (pris en charge par l'État).",
                m,
            )
        ]
    if m > plafond:
        return [
            Violation(
                "MONTANT_AU_DELA_DU_PLAFOND",
                f"Montant {format_euros(m)} supérieur au plafond applicable {format_euros(plafond)} : ramenez-le au plus "
                "au plafond.",
                m,
            )
        ]
    return []


# ------------------------------------------------------------------ SFP-LGC-Va2


def cle_client_sfp(client: str, identifiant: str) -> tuple[str, list[Violation]]:
    """§4.2 « Unicité »: key of a client, RPPS (11 digits) or FINESS géographique (9 chars)
    for a CSI. Returns the normalised key and the format violations."""
    cle = normaliser_client_sfp(client)
    ident = str(identifiant).strip().upper()
    if cle == "csi":
        if not _FINESS.match(ident):
            return ident, [
                Violation(
                    f"{SFP.code}.FINESS_INVALIDE",
                    f"FINESS géographique {ident!r} invalide : 9 caractères (chiffres, ou "
                    "2A/2B pour la Corse en tête) ; un centre de santé infirmier est identifié "
                    "par son FINESS géographique.",
                    ident,
                )
            ]
    elif not _RPPS.match(ident):
        return ident, [
            Violation(
                f"{SFP.code}.RPPS_INVALIDE",
                f"N° RPPS {ident!r} invalide : 11 chiffres ; un professionnel libéral est "
                "identifié par son RPPS.",
                ident,
            )
        ]
    return ident, []


def verifier_profils_sfp(client: str, profils_solution: Iterable[str]) -> list[Violation]:
    """§4.2: the referenced software must hold the profile(s) of the client's profession."""
    cle = normaliser_client_sfp(client)
    presents = {p.strip().casefold() for p in profils_solution}
    manquants = [p for p in SFP.profils_requis[cle] if p.casefold() not in presents]
    return [
        Violation(
            f"{SFP.code}.PROFIL_MANQUANT",
            f"La Solution logicielle doit disposer du Profil « {p} » pour un client "
            f"{SFP.clients[cle][1]} : choisissez une solution référencée avec ce profil.",
            p,
        )
        for p in manquants
    ]


# ------------------------------------------------------------------ unicity


def doublons(cles: Iterable[str]) -> dict[str, list[int]]:
    """Keys seen more than once -> their 0-based positions (whitespace/case ignored)."""
    positions: dict[str, list[int]] = {}
    for i, k in enumerate(cles):
        positions.setdefault(str(k).strip().upper(), []).append(i)
    return {k: p for k, p in positions.items() if len(p) > 1}


def verifier_unicite(cles: Iterable[str], programme: str) -> list[Violation]:
    """One financed prestation/order per client: a violation per duplicated key.

    HOP (§4.2 « Unicité du financement »): key = the client's FINESS PMSI.
    SFP (§4.2): key = RPPS, or FINESS géographique for a CSI (see ``cle_client_sfp``).
    """
    if programme not in (HOP.code, SFP.code):
        raise ValueError(f"programme inconnu : {programme!r} ({HOP.code} ou {SFP.code})")
    quoi = "prestation Ségur" if programme == HOP.code else "commande de Prestation Ségur"
    return [
        Violation(
            f"{programme}.CLIENT_EN_DOUBLE",
            f"Le client {k} apparaît {len(p)} fois (lignes {', '.join(str(i + 1) for i in p)}) : "
            f"une seule {quoi} est financée par client ; gardez une seule ligne.",
            k,
        )
        for k, p in doublons(cles).items()
    ]
