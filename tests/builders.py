"""Filled workbooks for the tests, written with the project's own workbook writer."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from converter.formats import get_format
from converter.workbook import write_workbook

HEADER = {"numeroAns": "0123456789", "SIRET": "73282932000074"}


def workbook_parts(path: Path) -> dict[str, bytes]:
    """Each part of an .xlsx, unzipped, its time of writing left out: two workbooks of the same
    rows are the same bytes (converter/fastxlsx.py and its serial twin)."""
    with zipfile.ZipFile(path) as zf:
        return {name: re.sub(rb"<dcterms:(created|modified)[^<]*</dcterms:\1>", b"", zf.read(name))
                for name in zf.namelist()}


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


def sample_avance_rows() -> dict[str, list[dict[str, Any]]]:
    """The shipped sample: seed 001's example, then a mandataire with two OG, and a HT régime."""
    mandataire = {
        "Demandes": [{"numeroEditeur": "00002", "dateCommande": "02/04/2024", "regimeTVA": "TTC",
                      "montantSegurHT": "9733.33", "isMandataire": "VRAI", "nomMandataire": "LEROY",
                      "emailMandataire": "c.leroy@mandataire.fr", "telephoneMandataire": "+33145678901"}],
        "OG": [
            {"numeroEditeur": "00002", "FINESSJuridique": "750000010", "demandeCertificatServeur": "FAUX",
             "nomResponsableOG": "BERNARD", "emailResponsableOG": "direction@asso-bernard.fr",
             "telephoneResponsableOG": "+33140000001"},
            {"numeroEditeur": "00002", "FINESSJuridique": "130000037", "demandeCertificatServeur": "VRAI",
             "contractualisationOG": "FAUX", "statutAdminTechnique": "E", "contractualisationEditeur": "VRAI",
             "numeroCarteCPX": "B987654321", "nomAdminTechnique": "PETIT", "telAdminTechnique": "+33491000002",
             "emailAdminTechnique": "support@editeur.fr", "utiliteCertificat": "INS",
             "nomResponsableOG": "ROUX", "emailResponsableOG": "direction@og-sud.fr",
             "telephoneResponsableOG": "+33491000001"},
        ],
        "FINESS Géo": [
            {"numeroEditeur": "00002", "FINESSJuridique": "750000010", "FINESSGeo": "750000028"},
            {"numeroEditeur": "00002", "FINESSJuridique": "130000037", "FINESSGeo": "690000047"},
        ],
        "Scénarios": [
            {"numeroEditeur": "00002", "FINESSGeo": "750000028", "ancienneVersion": "3.1", "isMaitreId": "VRAI",
             "IsStockageId": "VRAI", "operateurMessagerie": "MAI_15", "profilMetier": "PDS", "IsRefSoins": "FAUX"},
            {"numeroEditeur": "00002", "FINESSGeo": "690000047", "ancienneVersion": "3.1", "isMaitreId": "FAUX",
             "IsStockageId": "FAUX", "operateurMessagerie": "CH _20"},
        ],
    }
    regime_ht = {
        "Demandes": [{"numeroEditeur": "00003", "dateCommande": "15/05/2024", "regimeTVA": "HT",
                      "montantSegurHT": "2920.00", "isMandataire": "FAUX"}],
        "OG": [{"numeroEditeur": "00003", "FINESSJuridique": "330000050", "demandeCertificatServeur": "FAUX",
                "nomResponsableOG": "MOREAU", "emailResponsableOG": "contact@ehpad-moreau.fr",
                "telephoneResponsableOG": "+262262000001"}],
        "FINESS Géo": [{"numeroEditeur": "00003", "FINESSJuridique": "330000050", "FINESSGeo": "590000063"}],
        "Scénarios": [{"numeroEditeur": "00003", "FINESSGeo": "590000063", "ancienneVersion": "2024.1",
                       "isMaitreId": "VRAI", "IsStockageId": "FAUX"}],
        "Pièces": [{"numeroEditeur": "00003", "typeFichier": "PREUVE_HT", "formatFichier": "JPG"}],
    }
    return merge(seed_001_rows(), mandataire, regime_ht)


def many_demandes(n: int) -> dict[str, list[dict[str, Any]]]:
    """n copies of seed 001's example under numeroEditeur 00001…"""
    return merge(*(seed_001_rows(f"{i:05d}") for i in range(1, n + 1)))
