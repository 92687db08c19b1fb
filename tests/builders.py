"""Filled workbooks for the tests, written with the project's own workbook writer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from converter.formats import get_format
from converter.workbook import write_workbook

HEADER = {"numeroAns": "0123456789", "SIRET": "73282932000074"}


def seed_001_rows(ne: str = "00001") -> dict[str, list[dict[str, Any]]]:
    """Seed 001's example: OG 345678912, ESMS 123456789 and 234567891, 4866.67 HT, TTC."""
    return {
        "Demandes": [{"numeroEditeur": ne, "dateCommande": "12/03/2024", "regimeTVA": "TTC",
                      "montantSegurHT": "4866.67", "isMandataire": "FAUX"}],
        "OG": [{"numeroEditeur": ne, "FINESSJuridique": "345678912", "demandeCertificatServeur": "VRAI",
                "contractualisationOG": "VRAI", "statutAdminTechnique": "S", "numeroCarteCPX": "A123456789",
                "nomAdminTechnique": "MARTIN", "telAdminTechnique": "+33612345678",
                "emailAdminTechnique": "it@og.fr", "utiliteCertificat": "DMP, INS",
                "nomResponsableOG": "DURAND", "emailResponsableOG": "direction@og.fr",
                "telephoneResponsableOG": "+33123456789"}],
        "FINESS Géo": [{"numeroEditeur": ne, "FINESSJuridique": "345678912", "FINESSGeo": "123456789"},
                       {"numeroEditeur": ne, "FINESSJuridique": "345678912", "FINESSGeo": "234567891"}],
        "Scénarios": [{"numeroEditeur": ne, "FINESSGeo": "123456789", "ancienneVersion": "4.2", "isMaitreId": "VRAI",
                       "IsStockageId": "FAUX", "operateurMessagerie": "ENO_5", "profilMetier": "PDS", "IsRefSoins": "VRAI"},
                      {"numeroEditeur": ne, "FINESSGeo": "234567891", "ancienneVersion": "4.2", "isMaitreId": "FAUX",
                       "IsStockageId": "FAUX"}],
    }


def merge(*parts: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    merged: dict[str, list[dict[str, Any]]] = {}
    for part in parts:
        for sheet, rows in part.items():
            merged.setdefault(sheet, []).extend(rows)
    return merged


def workbook(path: Path, rows: dict[str, list[dict[str, Any]]], fmt: str = "ms2-dui-pds-avance",
             header: dict[str, str] | None = None) -> Path:
    return write_workbook(get_format(fmt), path, header={**HEADER, **(header or {})}, rows=rows)
