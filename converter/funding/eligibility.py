"""Eligibility rules: HOP FINESS categories and prestation, SFP client keys and profiles,
one financed order per client, amount within the cap."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from .bareme import normalise_sfp_client
from .amounts import to_decimal, format_euros
from .parameters import HOP, SFP
from .violations import Violation

# An identifier's validator: the identifier normalised, or a ValueError. The converter's field
# kinds hold the patterns (converter.kinds.finess.validate, converter.kinds.rpps.validate); this
# package imports only the standard library, so its caller hands them in.
Validate = Callable[[str], str]
FIRST_DATA_ROW = 2  # the templates' sheets: balises in row 1, data from row 2


def _category(value: int | str) -> str:
    return str(value).strip()


def check_finess_juridique_category(category: int | str) -> list[Violation]:
    """§4.2: FINESS juridique category must be one of the 13 listed values."""
    c = _category(category)
    if c in HOP.finess_juridique_categories:
        return []
    return [
        Violation(
            f"{HOP.code}.CATEGORIE_FINESS_JURIDIQUE",
            f"Catégorie FINESS juridique {c!r} non éligible à {HOP.code} : valeurs admises "
            + ", ".join(sorted(HOP.finess_juridique_categories))
            + ". Vérifiez la catégorie saisie ou l'entité juridique du Client.",
            c,
        )
    ]


def check_finess_geographique_category(category: int | str) -> list[Violation]:
    """§4.2: FINESS géographique category must be one of the 25 listed values (146 since v1.1)."""
    c = _category(category)
    if c in HOP.finess_geographique_categories:
        return []
    return [
        Violation(
            f"{HOP.code}.CATEGORIE_FINESS_GEOGRAPHIQUE",
            f"Catégorie FINESS géographique {c!r} non éligible à {HOP.code} : valeurs admises "
            + ", ".join(sorted(HOP.finess_geographique_categories, key=int))
            + ". Vérifiez la catégorie saisie ou l'établissement du Client.",
            c,
        )
    ]


def check_hop_client(
    juridique_category: int | str,
    geographique_category: int | str,
    *,
    pmsi_2022_activity_non_zero: bool | None = None,
) -> list[Violation]:
    """§4.2: both FINESS categories eligible and a non-zero PMSI activity in 2022."""
    v = check_finess_juridique_category(juridique_category)
    v += check_finess_geographique_category(geographique_category)
    if pmsi_2022_activity_non_zero is False:
        v.append(
            Violation(
                f"{HOP.code}.ACTIVITE_PMSI_NULLE",
                "Le Client n'a pas déclaré d'activité PMSI (séjours) en 2022 : il n'est pas "
                "éligible.",
                pmsi_2022_activity_non_zero,
            )
        )
    return v


def check_hop_prestation(
    prestation: str,
    *,
    hop_pfi_va1_beneficiary: bool | None = None,
    va1_update_self_funded: bool | None = None,
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
    if prestation == "V1+V2" and (hop_pfi_va1_beneficiary or va1_update_self_funded):
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


def check_order_amount(amount: Decimal | int | str, plafond: Decimal) -> list[Violation]:
    """§4.3: the order's amount is > 0 and at most the applicable cap."""
    m = to_decimal(amount)
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


def sfp_client_key(client: str, identifier: str, *, finess: Validate,
                   rpps: Validate) -> tuple[str, list[Violation]]:
    """§4.2 « Unicité »: key of a client, RPPS (11 digits) or FINESS géographique (9 chars)
    for a CSI, as `finess` / `rpps` validate it. Returns the normalised key and the format
    violations."""
    csi = normalise_sfp_client(client) == "csi"
    ident = str(identifier).strip().upper()
    try:
        return (finess if csi else rpps)(ident), []
    except ValueError:
        pass
    if csi:
        return ident, [
            Violation(
                f"{SFP.code}.FINESS_INVALIDE",
                f"FINESS géographique {ident!r} invalide : 9 caractères (chiffres, ou "
                "2A/2B pour la Corse en tête) ; un centre de santé infirmier est identifié "
                "par son FINESS géographique.",
                ident,
            )
        ]
    return ident, [
        Violation(
            f"{SFP.code}.RPPS_INVALIDE",
            f"N° RPPS {ident!r} invalide : 11 chiffres ; un professionnel libéral est "
            "identifié par son RPPS.",
            ident,
        )
    ]


def check_sfp_profiles(client: str, solution_profiles: Iterable[str]) -> list[Violation]:
    """§4.2: the referenced software must hold the profile(s) of the client's profession."""
    client_key = normalise_sfp_client(client)
    present = {p.strip().casefold() for p in solution_profiles}
    missing = [p for p in SFP.required_profiles[client_key] if p.casefold() not in present]
    return [
        Violation(
            f"{SFP.code}.PROFIL_MANQUANT",
            f"La Solution logicielle doit disposer du Profil « {p} » pour un client "
            f"{SFP.clients[client_key][1]} : choisissez une solution référencée avec ce profil.",
            p,
        )
        for p in missing
    ]


# ------------------------------------------------------------------ unicity


def duplicates(keys: Iterable[str]) -> dict[str, list[int]]:
    """Keys seen more than once -> their 0-based positions (whitespace/case ignored)."""
    positions: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        positions.setdefault(str(k).strip().upper(), []).append(i)
    return {k: p for k, p in positions.items() if len(p) > 1}


def check_uniqueness(keys: Iterable[str], programme: str, rows: Iterable[int] | None = None) -> list[Violation]:
    """One financed prestation/order per client: a violation per duplicated key, naming the
    workbook rows of the key (`Violation.rows`). `rows`: the row of each key in the workbook;
    by default the rows of a sheet of the templates, whose data start in row 2.

    HOP (§4.2 « Unicité du financement »): key = the client's FINESS PMSI.
    SFP (§4.2): key = RPPS, or FINESS géographique for a CSI (see ``sfp_client_key``).
    """
    if programme not in (HOP.code, SFP.code):
        raise ValueError(f"programme inconnu : {programme!r} ({HOP.code} ou {SFP.code})")
    keys = list(keys)
    numbers = list(rows) if rows is not None else [FIRST_DATA_ROW + i for i in range(len(keys))]
    if len(numbers) != len(keys):
        raise ValueError(f"{len(keys)} clés pour {len(numbers)} lignes")
    what = "prestation Ségur" if programme == HOP.code else "commande de Prestation Ségur"
    found = []
    for k, p in duplicates(keys).items():
        where = tuple(numbers[i] for i in p)
        found.append(Violation(
            f"{programme}.CLIENT_EN_DOUBLE",
            f"Le client {k} apparaît {len(p)} fois (lignes {', '.join(map(str, where))}) : "
            f"une seule {what} est financée par client ; gardez une seule ligne.",
            k, where,
        ))
    return found
