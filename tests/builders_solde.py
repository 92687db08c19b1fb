"""Rows of the solde formats' workbooks (seeds 000 and 003), for the tests and samples/.

Written with the project's own writer through `tests.builders.workbook`.
"""

from __future__ import annotations

from typing import Any

Rows = dict[str, list[dict[str, Any]]]


def seed_000_rows(ne: str = "00002", numero_asp: str = "FINMS2000002") -> Rows:
    """Seed 000's example (ms2-dui-pde-solde): OG 345678912 with ESMS 123456789 and 234567891,
    numeroEditeur 00002, dossier FINMS2000002 (the seed prints FINMS200002, 11 characters, but
    its table says =12: FORMATS.md §1), invoice of 4866.67 HT (the order's HT ceiling)."""
    return {
        "Demandes": [{"numeroEditeur": ne, "numeroASP": numero_asp, "dateFacture": "15/06/2024",
                      "montantSegurHTFacture": "4866.67"}],
        "OG": [{"numeroEditeur": ne, "FINESSJuridique": "345678912", "nbreDossiersDUIActifs": "120"}],
        "FINESS Géo": [{"numeroEditeur": ne, "FINESSJuridique": "345678912", "FINESSGeo": "123456789"},
                       {"numeroEditeur": ne, "FINESSJuridique": "345678912", "FINESSGeo": "234567891"}],
        "Scénarios": [{"numeroEditeur": ne, "FINESSGeo": "123456789", "ancienneVersion": "4.2",
                       "isMaitreId": "VRAI", "IsStockageId": "FAUX"},
                      {"numeroEditeur": ne, "FINESSGeo": "234567891", "ancienneVersion": "4.2",
                       "isMaitreId": "FAUX", "IsStockageId": "FAUX", "operateurMessagerie": "ENO_5"}],
    }


# The structure's doctors: seed 003 gives DMP logins « test » and « test1 » (wording before the
# 03/02/2023 version, which asks for the RPPS of every doctor of the structure), so the sample
# uses two illustrative RPPS with a valid check key.
STRUCTURE_DOCTORS = ["10000000009", "10000000017"]


def seed_003_liberal_rows(ne: str = "00002", numero_asp: str = "FINMDV000002") -> Rows:
    """Seed 003's first example: a group practice of three doctors (RPPS 77777777777,
    88888888888, 99999999999), 1075.00 HT, dossier FINMDV000002; documents sent by MSS Pro
    (the MSS balises stay null since 07/04/2023), not directly to the DMP."""
    return {
        "Demandes": [{"numeroEditeur": ne, "numeroASP": numero_asp, "dateFacture": "15/06/2024",
                      "montantSegurHTFacture": "1075.00", "commandePour": "LIBERAL", "isDirectToDMP": "FAUX"}],
        "RPPS": [{"numeroEditeur": ne, "liberalRPPS": r} for r in ("77777777777", "88888888888", "99999999999")],
    }


def seed_003_structure_rows(ne: str = "00001", numero_asp: str = "FINMDV000001") -> Rows:
    """Seed 003's second example: the Centre de santé des acacias (FINESS juridique 111111111,
    which no balise carries), three sites 999999991–999999993, 10750.00 HT, dossier
    FINMDV000001, documents sent to the DMP directly by the LGC."""
    return {
        "Demandes": [{"numeroEditeur": ne, "numeroASP": numero_asp, "dateFacture": "15/06/2024",
                      "montantSegurHTFacture": "10750.00", "commandePour": "STRUCTURE", "isDirectToDMP": "VRAI"}],
        "FINESS Géo": [{"numeroEditeur": ne, "structureFINESSGeo": g} for g in ("999999991", "999999992", "999999993")],
        "identDMP": [{"numeroEditeur": ne, "identDMP": r} for r in STRUCTURE_DOCTORS],
    }


def seed_003_rows() -> Rows:
    """Both examples of seed 003, in the seed's order."""
    from tests.builders import merge

    return merge(seed_003_liberal_rows(), seed_003_structure_rows())
