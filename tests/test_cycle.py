"""The deposit cycle: attachments and zips, the ledger, ASP return files, the solde.

Attachments are tiny but real (valid PDF / PNG signatures); ASP return files are the deposit
files with codeTraitement, libelleTraitement and numeroASP filled as the ASP does.
"""

from __future__ import annotations

import concurrent.futures
import os
import sqlite3
import subprocess
import sys
import time
import zipfile
import zlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import fastexcel
import openpyxl
import orjson
import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from converter import api, attachments, ledger
from converter.cli import app
from converter.files import NameTaken, OutputError
from converter.formats import all_formats, numero_formats
from converter.formats.model import DefinitionError, parse_definition
from converter.issues import MESSAGES
from converter.ledger import DepositRecord, Ledger, Pending, Placed, default_path, pack
from tests.builders import merge, seed_001_rows, workbook, workbook_parts
from tests.builders_solde import seed_000_rows

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
DAY = date(2024, 3, 12)
FORMATS = Path(__file__).parent.parent / "converter" / "formats"


def avance_rows(*numeros: str) -> dict:
    return merge(*(seed_001_rows(ne) for ne in numeros))


def pieces_folder(tmp_path: Path, *numeros: str, name: str = "pieces") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for ne in numeros:
        (folder / f"MS2-DUI-Va1-BDC-{ne}.pdf").write_bytes(PDF)
    return folder


def deposited(path: Path) -> list[str]:
    return [line["numeroEditeur"] for line in orjson.loads(path.read_bytes())["lignesImport"]]


def asp_return(deposit_file: Path, target: Path, outcomes: dict[str, str]) -> Path:
    """The ASP's answer: an FINMS2… number for an accepted avance, else the error's label; its
    impId identifies the deposit file (seed 001: « pour identifier le fichier JSON »), one per file."""
    data = orjson.loads(deposit_file.read_bytes())
    data["impId"] = 4242 + zlib.crc32(deposit_file.name.encode()) % 10**6
    for line in data["lignesImport"]:
        verdict = outcomes[line["numeroEditeur"]]
        accepted = verdict.startswith("FIN")
        line["codeTraitement"] = "0" if accepted else "E12"
        line["libelleTraitement"] = "Demande acceptée" if accepted else verdict
        if accepted and line["numeroASP"] is None:
            line["numeroASP"] = verdict
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(orjson.dumps(data))
    return target


def sheet_rows(path: Path, sheet: str) -> list[dict]:
    return fastexcel.read_excel(path).load_sheet(sheet, dtypes="string").to_polars().to_dicts()


# ------------------------------------------------------------ the full cycle


def test_full_cycle(tmp_path: Path) -> None:
    out = tmp_path / "depot"
    registre = default_path()
    rows = avance_rows("00001", "00002", "00003")
    rows["Pièces"] = [{"numeroEditeur": "00002", "typeFichier": "BON_COMMANDE", "formatFichier": "PNG",
                       "fichierSource": "scans/bon 2.png"}]
    book = workbook(tmp_path / "avances.xlsx", rows)
    folder = pieces_folder(tmp_path, "00001", "00003")
    (folder / "scans").mkdir()
    (folder / "scans" / "bon 2.png").write_bytes(PNG)

    # 1. the avances: deposit file, zip of the attachments under their nomenclature names, ledger
    outcome = api.convert(book, out, DAY, pieces=folder)
    assert outcome.rejected == [] and outcome.accepted == ["00001", "00002", "00003"]
    [deposit_file] = outcome.files
    assert deposit_file.name == "JSON-0123456789-20240312-001.json"
    assert b"fichierSource" not in deposit_file.read_bytes() and b"bon 2" not in deposit_file.read_bytes()
    [archive] = outcome.archives
    assert archive.name == "JSON-0123456789-20240312-001.zip"
    with zipfile.ZipFile(archive) as zf:
        assert sorted(zf.namelist()) == ["MS2-DUI-Va1-BDC-00001.pdf", "MS2-DUI-Va1-BDC-00002.png",
                                         "MS2-DUI-Va1-BDC-00003.pdf"]
        assert zf.read("MS2-DUI-Va1-BDC-00002.png") == PNG
    assert outcome.registre == registre
    with sqlite3.connect(registre) as db:
        stored = db.execute("SELECT numero_editeur, montant, finess, rpps, statut FROM demandes ORDER BY id").fetchall()
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # WAL fails on a network share
    assert stored[0] == ("00001", "4866.67", '["123456789","234567891","345678912"]', "[]", "deposee")
    assert [s[0] for s in stored] == ["00001", "00002", "00003"]

    # 2. the ASP's return: two accepted, one rejected; an unknown demande is reported
    returned = asp_return(deposit_file, tmp_path / "retours" / deposit_file.name,
                          {"00001": "FINMS2000001", "00002": "FINMS2000002",
                           "00003": "Le FINESS géographique 234567891 n'est pas éligible"})
    stranger = asp_return(deposit_file, tmp_path / "retours" / "autre.json",
                          {"00001": "FINMS2000009", "00002": "FINMS2000009", "00003": "FINMS2000009"})
    data = orjson.loads(stranger.read_bytes())
    data["lignesImport"] = data["lignesImport"][:1]
    data["lignesImport"][0]["numeroEditeur"] = "99999"
    stranger.write_bytes(orjson.dumps(data))
    lines, review = api.ingest_returns([returned, stranger], registre)
    assert [(x.numero_editeur, x.result, x.numero_asp) for x in lines] == [
        ("00001", "Acceptée", "FINMS2000001"), ("00002", "Acceptée", "FINMS2000002"),
        ("00003", "Rejetée", None), ("99999", "Inconnue du registre", "FINMS2000009")]
    sheet = openpyxl.load_workbook(review).active
    table = [[c.value for c in row] for row in sheet.iter_rows()]
    assert table[0][:8] == ["Fichier de retour", "numLigne", "numeroEditeur", "Format", "Résultat", "numeroASP",
                            "codeTraitement", "libelleTraitement"]
    assert table[3][2:8] == ["00003", "ms2-dui-pds-avance", "Rejetée", "", "E12",
                             "Le FINESS géographique 234567891 n'est pas éligible"]
    # numLigne and the amount as numbers, to sort and sum; the rest as text
    assert [(row[1].value, row[9].value, row[9].number_format) for row in sheet.iter_rows(min_row=2, max_row=3)] == [
        (1, 4866.67, "#,##0.00"), (2, 4866.67, "#,##0.00")]
    assert all(c.data_type == "s" for row in sheet.iter_rows(min_row=2) for i, c in enumerate(row) if i not in (1, 9))
    # printed one page wide (it took five pages for four demandes, the results away from them)
    assert sheet.page_setup.orientation == "landscape" and sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.page_setup.fitToHeight == 0 and sheet.print_title_rows == "$1:$1"

    # 3. the accepted avances may not be deposited twice; the rejected one may not come back
    # under its number (seed 001: « un nouveau numéro unique doit être généré »)...
    again = api.convert(book, out, DAY, pieces=folder)
    assert again.accepted == [] and again.files == []
    assert sorted((i.numero_editeur, i.code) for i in again.errors) == [
        ("00001", "deja_deposee"), ("00002", "deja_deposee"), ("00003", "rejetee_nouveau_numero")]
    # ... it comes back as 00004
    renumbered = api.convert(workbook(tmp_path / "avance-00004.xlsx", avance_rows("00004")), out, DAY,
                             pieces=pieces_folder(tmp_path, "00004", name="pieces-00004"))
    assert renumbered.rejected == [] and [f.name for f in renumbered.files] == ["JSON-0123456789-20240312-002.json"]
    assert deposited(renumbered.files[0]) == ["00004"]
    assert renumbered.total_ht == Decimal("4866.67") and list(renumbered.amounts) == ["00004"]

    # 4. the solde workbook, pre-filled from the ledger
    solde_id, written = api.write_solde_workbooks(registre, "ms2-dui-pds-avance", tmp_path / "soldes")
    assert solde_id == "ms2-dui-pds-solde"
    [(solde_book, count)] = written
    assert count == 2 and solde_book.name == "solde-ms2-dui-pds-solde-0123456789.xlsx"
    demandes = sheet_rows(solde_book, "Demandes")
    assert [(d["numeroEditeur"], d["numeroASP"], d["dateFacture"], d["montantSegurHTFacture"]) for d in demandes] == [
        ("00001", "FINMS2000001", None, None), ("00002", "FINMS2000002", None, None)]
    og = sheet_rows(solde_book, "OG")
    assert [(r["numeroEditeur"], r["FINESSJuridique"], r["nbreDossiersDUIActifs"]) for r in og] == [
        ("00001", "345678912", None), ("00002", "345678912", None)]
    geos = sheet_rows(solde_book, "FINESS Géo")
    assert [(r["numeroEditeur"], r["FINESSGeo"]) for r in geos] == [
        ("00001", "123456789"), ("00001", "234567891"), ("00002", "123456789"), ("00002", "234567891")]
    scenarios = sheet_rows(solde_book, "Scénarios")
    assert [(r["FINESSGeo"], r["isMaitreId"], r["operateurMessagerie"]) for r in scenarios][:2] == [
        ("123456789", "VRAI", "ENO_5"), ("234567891", "FAUX", None)]
    assert sheet_rows(solde_book, "Entête")[0]["SIRET"] == "73282932000074"

    # 5. the vendor fills the invoices; 00002 claims more than its avance
    filled = {"Demandes": [{**d, "dateFacture": "15/06/2024",
                            "montantSegurHTFacture": "4866.67" if d["numeroEditeur"] == "00001" else "5000.00"}
                           for d in demandes],
              "OG": [{**r, "nbreDossiersDUIActifs": "120"} for r in og], "FINESS Géo": geos, "Scénarios": scenarios}
    solde_filled = workbook(tmp_path / "soldes-remplis.xlsx", filled, fmt="ms2-dui-pds-solde")
    for ne in ("00001", "00002"):
        for code in ("FACTURE", "VA"):
            (folder / f"MS2-DUI-Va1-{code}-{ne}.pdf").write_bytes(PDF)
    soldes = api.convert(solde_filled, out, DAY, pieces=folder)
    assert soldes.accepted == ["00001"] and soldes.rejected == ["00002"]
    [over] = [i for i in soldes.errors]
    assert (over.code, over.sheet, over.row, over.balise, over.value) == (
        "solde_montant_superieur", "Demandes", 3, "montantSegurHTFacture", "5000.00")
    # the avance's amount as a French message says it, as the value typed is compared with it
    assert "(avance 00002, fichier JSON-0123456789-20240312-001.json : 4 866,67 €)" in over.message, over.message
    [solde_file] = soldes.files
    assert solde_file.name == "JSON-0123456789-20240312-003.json" and deposited(solde_file) == ["00001"]
    line = orjson.loads(solde_file.read_bytes())["lignesImport"][0]
    assert line["numeroASP"] == "FINMS2000001"
    with zipfile.ZipFile(soldes.archives[0]) as zf:
        assert sorted(zf.namelist()) == ["MS2-DUI-Va1-FACTURE-00001.pdf", "MS2-DUI-Va1-VA-00001.pdf"]
    assert soldes.error_workbook is not None and soldes.error_workbook.exists()

    # 6. the solde is accepted: it leaves the next pre-filled solde workbook
    asp_return(solde_file, tmp_path / "retours" / solde_file.name, {"00001": "FINMS2000001"})
    api.ingest_returns([tmp_path / "retours" / solde_file.name], registre)
    _, written = api.write_solde_workbooks(registre, "ms2-dui-pds-solde", tmp_path / "soldes")
    assert [n for _, n in written] == [1]
    assert [d["numeroEditeur"] for d in sheet_rows(written[0][0], "Demandes")] == ["00002"]


def test_solde_compared_with_its_avance(tmp_path: Path) -> None:
    out = tmp_path / "depot"
    avance = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), out, DAY)
    asp_return(avance.files[0], tmp_path / "r.json", {"00001": "FINMS2000001", "00002": "FINMS2000002"})
    api.ingest_returns([tmp_path / "r.json"], default_path())
    _, [(prefilled, _)] = api.write_solde_workbooks(default_path(), None, tmp_path)
    demandes = [{**d, "dateFacture": "15/06/2024", "montantSegurHTFacture": "100.00"}
                for d in sheet_rows(prefilled, "Demandes")]
    demandes[1]["numeroASP"] = "FINMS2000777"
    demandes.append({"numeroEditeur": "00009", "numeroASP": "FINMS2000009", "dateFacture": "15/06/2024",
                     "montantSegurHTFacture": "100.00"})
    og = [{**r, "nbreDossiersDUIActifs": "3"} for r in sheet_rows(prefilled, "OG")]
    og.append({"numeroEditeur": "00009", "FINESSJuridique": "345678912", "nbreDossiersDUIActifs": "3"})
    geos = sheet_rows(prefilled, "FINESS Géo")
    geos[0]["FINESSGeo"] = "999999999"  # 00001: not in its avance, and 123456789 missing
    geos.append({"numeroEditeur": "00009", "FINESSJuridique": "345678912", "FINESSGeo": "123456789"})
    scenarios = sheet_rows(prefilled, "Scénarios")
    scenarios[0]["FINESSGeo"] = "999999999"
    scenarios.append({"numeroEditeur": "00009", "FINESSGeo": "123456789", "ancienneVersion": "1",
                      "isMaitreId": "FAUX", "IsStockageId": "FAUX"})
    rows = {"Demandes": demandes, "OG": og, "FINESS Géo": geos, "Scénarios": scenarios}
    outcome = api.convert(workbook(tmp_path / "s.xlsx", rows, fmt="ms2-dui-pds-solde"), out, DAY)
    found = {(i.code, i.numero_editeur, i.sheet, i.value) for i in outcome.issues}
    assert ("solde_finess_hors_avance", "00001", "FINESS Géo", "999999999") in found
    assert ("solde_finess_hors_avance", "00001", "Scénarios", "999999999") in found
    assert ("solde_finess_manquant", "00001", "Demandes", "123456789") in found
    assert ("solde_numero_asp_different", "00002", "Demandes", "FINMS2000777") in found
    assert ("solde_avance_inconnue", "00009", "Demandes", None) in found
    assert outcome.accepted == ["00009"] and sorted(outcome.rejected) == ["00001", "00002"]
    assert next(i for i in outcome.issues if i.code == "solde_avance_inconnue").severity == "avertissement"


def test_a_finess_geo_moved_to_another_og_in_the_solde_is_an_error(tmp_path: Path) -> None:
    out = tmp_path / "depot"
    rows = avance_rows("00001")  # seed 001: OG 345678912 with ESMS 123456789 and 234567891
    rows["OG"].append({**rows["OG"][0], "FINESSJuridique": "010000024", "demandeCertificatServeur": "FAUX",
                       **{k: None for k in ("contractualisationOG", "statutAdminTechnique", "numeroCarteCPX",
                                            "nomAdminTechnique", "telAdminTechnique", "emailAdminTechnique",
                                            "utiliteCertificat")}})
    rows["FINESS Géo"].append({"numeroEditeur": "00001", "FINESSJuridique": "010000024", "FINESSGeo": "010000032"})
    rows["Scénarios"].append({**rows["Scénarios"][1], "FINESSGeo": "010000032"})
    avance = api.convert(workbook(tmp_path / "a.xlsx", rows), out, DAY)
    assert avance.accepted == ["00001"], [i.render() for i in avance.errors]
    asp_return(avance.files[0], tmp_path / "r.json", {"00001": "FINMS2000001"})
    api.ingest_returns([tmp_path / "r.json"], default_path())
    _, [(prefilled, _)] = api.write_solde_workbooks(default_path(), None, tmp_path)
    solde = {"Demandes": [{**d, "dateFacture": "15/06/2024", "montantSegurHTFacture": "100.00"}
                          for d in sheet_rows(prefilled, "Demandes")],
             "OG": [{**r, "nbreDossiersDUIActifs": "3"} for r in sheet_rows(prefilled, "OG")],
             "FINESS Géo": sheet_rows(prefilled, "FINESS Géo"), "Scénarios": sheet_rows(prefilled, "Scénarios")}
    moved = next(r for r in solde["FINESS Géo"] if r["FINESSGeo"] == "234567891")
    moved["FINESSJuridique"] = "010000024"  # same FINESS, now under the other OG
    outcome = api.convert(workbook(tmp_path / "s.xlsx", solde, fmt="ms2-dui-pds-solde"), out, DAY)
    found = {(i.code, i.sheet, i.value) for i in outcome.errors}
    assert ("solde_finess_hors_avance", "FINESS Géo", "234567891") in found
    assert ("solde_finess_manquant", "Demandes", "234567891 (avec FINESSJuridique 345678912)") in found
    assert outcome.rejected == ["00001"] and outcome.files == []


def _avances_returned(tmp_path: Path, out: Path, verdicts: dict[str, str]) -> Path:
    """Seed 001's avance deposited under each numero, then the ASP's verdict recorded (an
    FINMS2… number: accepted; any other text: rejected); returns the deposit file."""
    avance = api.convert(workbook(tmp_path / "a.xlsx", avance_rows(*verdicts)), out, DAY)
    asp_return(avance.files[0], tmp_path / "r.json", verdicts)
    api.ingest_returns([tmp_path / "r.json"], default_path())
    return avance.files[0]


def _soldes(*numeros: str) -> dict:
    """Seed 000's solde (same OG and ESMS as seed 001's avance, 4866.67 HT) of each numero."""
    return merge(*(_solde("ms2-dui-pds-solde", ne, f"FINMS2{ne:0>6}") for ne in numeros))


def test_solde_amount_up_to_its_avance_to_the_cent(tmp_path: Path) -> None:
    out = tmp_path / "depot"
    _avances_returned(tmp_path, out, {"00001": "FINMS2000001", "00002": "FINMS2000002"})
    rows = _soldes("00001", "00002")
    rows["Demandes"][0]["montantSegurHTFacture"] = "4866.68"  # one cent above its avance's 4866.67
    outcome = api.convert(workbook(tmp_path / "s.xlsx", rows, "ms2-dui-pds-solde"), out, DAY)
    assert [(i.code, i.numero_editeur, i.value) for i in outcome.errors] == [
        ("solde_montant_superieur", "00001", "4866.68")]
    assert outcome.accepted == ["00002"] and deposited(outcome.files[0]) == ["00002"]  # 4866.67: equal, accepted

    # deposited again, now above its avance and under another numéro ASP: refused once, as
    # already deposited, not compared again with the avance
    rows = _soldes("00002")
    rows["Demandes"][0].update(montantSegurHTFacture="5000.00", numeroASP="FINMS2000777")
    again = api.convert(workbook(tmp_path / "s2.xlsx", rows, "ms2-dui-pds-solde"), out, DAY)
    assert [(i.code, i.numero_editeur) for i in again.errors] == [("deja_deposee", "00002")]
    assert again.files == []


def test_solde_of_an_avance_rejected_by_the_asp(tmp_path: Path) -> None:
    out = tmp_path / "depot"
    avance = _avances_returned(tmp_path, out, {"00001": "Le FINESS 234567891 n'est pas éligible",
                                               "00002": "FINMS2000002"})
    rows = _soldes("00001", "00002")
    for row in rows["FINESS Géo"] + rows["Scénarios"]:
        if row["FINESSGeo"] == "234567891":
            row["FINESSGeo"] = "999999999"  # not the avance's ESMS
    outcome = api.convert(workbook(tmp_path / "s.xlsx", rows, "ms2-dui-pds-solde"), out, DAY)
    # 00001: its avance was rejected, nothing else to compare it with; 00002: compared
    assert sorted((i.numero_editeur, i.code) for i in outcome.errors) == [
        ("00001", "solde_avance_rejetee"), ("00002", "solde_finess_hors_avance"),
        ("00002", "solde_finess_hors_avance"), ("00002", "solde_finess_manquant"), ("00002", "solde_finess_manquant")]
    rejected = next(i for i in outcome.errors if i.code == "solde_avance_rejetee")
    assert (rejected.sheet, rejected.row) == ("Demandes", 2) and avance.name in rejected.message
    assert outcome.accepted == [] and outcome.files == []


def test_solde_of_an_avance_the_asp_has_not_answered_yet(tmp_path: Path) -> None:
    out = tmp_path / "depot"
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY)  # no return file yet
    outcome = api.convert(workbook(tmp_path / "s.xlsx", _soldes("00001"), "ms2-dui-pds-solde"), out, DAY)
    assert outcome.errors == [] and deposited(outcome.files[0]) == ["00001"]
    assert [(i.code, i.numero_editeur, str(i.severity)) for i in outcome.issues if i.code.startswith("solde_")] == [
        ("solde_avance_sans_retour", "00001", "avertissement")]



def test_solde_of_an_avance_withdrawn_before_it_was_uploaded(tmp_path: Path) -> None:
    """The avance's file withdrawn (« xl2segur retirer »: never uploaded, the ASP has no avance
    to pay a solde for): its solde was said « Le registre ne connaît pas l'avance », a mere
    warning, and deposited. Refused, naming the withdrawal and how to undo it if the avance was
    uploaded after all; converted again, the avance is the live one."""
    out = tmp_path / "depot"
    avance = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), out, DAY).files[0]
    api.withdraw(avance.name, default_path())
    outcome = api.convert(workbook(tmp_path / "s.xlsx", _soldes("00001"), "ms2-dui-pds-solde"), out, DAY)
    assert [(i.code, i.numero_editeur, i.row) for i in outcome.errors] == [("solde_avance_retiree", "00001", 2)]
    assert " ".join(outcome.errors[0].message.split()) == (
        f"L'avance 00001, fichier {avance.name} a été retirée du registre le {date.today():%d/%m/%Y} (« xl2segur "
        "retirer ») comme jamais déposée : aucun solde ne peut être demandé pour elle. Si elle a bien été déposée sur "
        f"le portail, annulez ce retrait (« xl2segur retirer --annuler {avance.name} »), enregistrez son retour "
        "(« xl2segur retour »), puis reconvertissez ce solde.")
    assert not [i for i in outcome.issues if i.code == "solde_avance_inconnue"] and outcome.files == []
    again = api.convert(workbook(tmp_path / "a2.xlsx", avance_rows("00001")), out, DAY).files[0]
    outcome = api.convert(workbook(tmp_path / "s2.xlsx", _soldes("00001"), "ms2-dui-pds-solde"), out, DAY)
    assert outcome.errors == [] and [i.code for i in outcome.issues if i.code.startswith("solde_")] == [
        "solde_avance_sans_retour"] and again.name != avance.name



def test_solde_under_another_numero_ans_than_its_avance_is_refused_not_unknown(tmp_path: Path) -> None:
    """An avance deposited under numeroAns 0123456789, its solde converted under 0123456780: the
    ledger said only « Le registre ne connaît pas l'avance » (a warning) and deposited it. Seed 000
    §3.4: the demandes of a solde file « correspondent au même numéro de référencement ANS »."""
    out = tmp_path / "depot"
    avance = _avances_returned(tmp_path, out, {"00001": "FINMS2000001"})
    outcome = api.convert(workbook(tmp_path / "s.xlsx", _soldes("00001"), "ms2-dui-pds-solde",
                                   header={"numeroAns": "0123456780"}), out, DAY)
    assert [(i.code, i.numero_editeur, i.row) for i in outcome.errors] == [("solde_autre_numero_ans", "00001", 2)]
    assert (f"L'avance 00001 est dans le registre sous le numéro ANS 0123456789 (fichier {avance.name}), ce solde "
            "sous le numéro ANS 0123456780") in " ".join(outcome.errors[0].message.split())
    assert not [i for i in outcome.issues if i.code == "solde_avance_inconnue"] and outcome.files == []
    outcome = api.convert(workbook(tmp_path / "s2.xlsx", _soldes("00001"), "ms2-dui-pds-solde"), out, DAY)
    assert outcome.errors == [] and deposited(outcome.files[0]) == ["00001"]


@pytest.mark.parametrize("answered", [True, False])
def test_solde_under_another_numero_ans_with_another_numero_asp_is_said_and_kept(tmp_path: Path, answered: bool) -> None:
    """The same numeroEditeur under another numeroAns, but not the same numéro ASP (or none known
    yet): another software of the editor may reuse its numbers, which no seed forbids. Refusing
    it blocked a solde the ASP may well accept: said, naming the avance found, and deposited."""
    out = tmp_path / "depot"
    if answered:
        _avances_returned(tmp_path, out, {"00001": "FINMS2000001"})
    else:
        api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY)
    rows = merge(_solde("ms2-dui-pds-solde", "00001", "FINMS2000009"))
    outcome = api.convert(workbook(tmp_path / "s.xlsx", rows, "ms2-dui-pds-solde", header={"numeroAns": "0123456780"}),
                          out, DAY)
    assert outcome.errors == [] and deposited(outcome.files[0]) == ["00001"]
    [said] = [i for i in outcome.warnings if i.code.startswith("solde_")]
    assert (said.code, said.numero_editeur, said.row) == ("solde_avance_sous_autre_numero_ans", "00001", 2)
    assert "sous le numéro ANS 0123456789 (fichier JSON-0123456789-" in said.message


def test_solde_in_the_other_variant_of_its_avance_is_refused_not_unknown(tmp_path: Path) -> None:
    """A DUI PDS avance, accepted, its solde converted in the DUI PDE solde workbook: the ledger
    said « Le registre ne connaît pas l'avance » (it does), compared nothing and deposited it,
    its pieces named as a PDE's. Refused, naming the avance's format and its solde's."""
    out = tmp_path / "depot"
    avance = _avances_returned(tmp_path, out, {"00001": "FINMS2000001"})
    outcome = api.convert(workbook(tmp_path / "s.xlsx", _solde("ms2-dui-pde-solde", "00001", "FINMS2000001"),
                                   "ms2-dui-pde-solde"), out, DAY)
    assert [(i.code, i.numero_editeur, i.row) for i in outcome.errors] == [("solde_autre_format", "00001", 2)]
    assert (f"L'avance 00001, fichier {avance.name} a été déposée au format ms2-dui-pds-avance : son solde se dépose "
            "au format ms2-dui-pds-solde, pas ms2-dui-pde-solde") in outcome.errors[0].message
    assert not [i for i in outcome.issues if i.code == "solde_avance_inconnue"] and outcome.files == []
    outcome = api.convert(workbook(tmp_path / "s2.xlsx", _soldes("00001"), "ms2-dui-pds-solde"), out, DAY)
    assert outcome.errors == [] and deposited(outcome.files[0]) == ["00001"]


# ------------------------------------------------------------ one numeroEditeur, one demande


def _without_profil(rows: dict) -> dict:
    """Avance rows for ms2-dui-pde-avance (no profilMetier column)."""
    return {**rows, "Scénarios": [{k: v for k, v in r.items() if k != "profilMetier"} for r in rows["Scénarios"]]}


def _avance(fmt: str, *numeros: str) -> dict:
    rows = avance_rows(*numeros)
    return _without_profil(rows) if fmt == "ms2-dui-pde-avance" else rows


def _solde(fmt: str, ne: str, numero_asp: str) -> dict:
    rows = seed_000_rows(ne, numero_asp)
    if fmt == "ms2-dui-pds-solde":  # the PDS variant has no profilMetier either
        rows = _without_profil(rows)
    return rows


@pytest.mark.parametrize("first, again", [
    ("ms2-dui-pds-avance", "ms2-dui-pds-avance"), ("ms2-dui-pde-avance", "ms2-dui-pde-avance"),
    ("ms2-dui-pds-avance", "ms2-dui-pde-avance"), ("ms2-dui-pde-avance", "ms2-dui-pds-avance")])
def test_an_avance_rejected_by_the_asp_comes_back_with_a_new_numero(tmp_path: Path, first: str, again: str) -> None:
    out = tmp_path / "depot"
    avance = api.convert(workbook(tmp_path / "a.xlsx", _avance(first, "00001", "00002"), first), out, DAY)
    asp_return(avance.files[0], tmp_path / "r.json", {"00001": "FINMS2000001", "00002": "Le FINESS 234567891 n'est pas éligible"})
    api.ingest_returns([tmp_path / "r.json"], default_path())

    outcome = api.convert(workbook(tmp_path / "b.xlsx", _avance(again, "00002"), again), out, DAY)
    assert outcome.accepted == [] and outcome.files == [] and outcome.exit_code == 1
    [found] = outcome.errors
    assert (found.code, found.sheet, found.row, found.column, found.balise, found.value, found.numero_editeur) == (
        "rejetee_nouveau_numero", "Demandes", 2, "A", "numeroEditeur", "00002", "00002")
    assert "rejetée par l'ASP" in found.message and avance.files[0].name in found.message
    assert "nouveau numéro éditeur de 5 caractères" in found.message and "toutes les feuilles" in found.message

    renumbered = api.convert(workbook(tmp_path / "c.xlsx", _avance(again, "00003"), again), out, DAY)
    assert renumbered.errors == [] and deposited(renumbered.files[0]) == ["00003"]


def test_the_new_numero_rule_is_declared_by_the_avance_definitions() -> None:
    formats = all_formats()
    assert formats["ms2-dui-pds-avance"].new_numero_after_rejection is True
    assert formats["ms2-dui-pde-avance"].new_numero_after_rejection is True  # inherited (extends:)
    assert [d.id for d in formats.values() if d.new_numero_after_rejection] == ["ms2-dui-pde-avance", "ms2-dui-pds-avance"]
    assert "rejetee_nouveau_numero" in MESSAGES
    raw = yaml.safe_load((FORMATS / "ms2-dui-pds-avance.yaml").read_text(encoding="utf-8"))
    common = yaml.safe_load((FORMATS / "_common.yaml").read_text(encoding="utf-8"))
    with pytest.raises(DefinitionError, match="new_numero_after_rejection"):
        parse_definition({**raw, "new_numero_after_rejection": "oui"}, common)
    assert parse_definition({k: v for k, v in raw.items() if k != "new_numero_after_rejection"},
                            common).new_numero_after_rejection is False


def _solde_rejected(tmp_path: Path) -> dict:
    """Avance 00002 deposited in tmp_path/depot and accepted (FINMS2000002), then its solde
    deposited and rejected by the ASP; returns the solde's rows."""
    out = tmp_path / "depot"
    avance = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00002")), out, DAY)
    asp_return(avance.files[0], tmp_path / "r.json", {"00002": "FINMS2000002"})
    api.ingest_returns([tmp_path / "r.json"], default_path())
    rows = _solde("ms2-dui-pds-solde", "00002", "FINMS2000002")
    solde = api.convert(workbook(tmp_path / "s.xlsx", rows, "ms2-dui-pds-solde"), out, DAY)
    assert solde.errors == [] and len(solde.files) == 1
    asp_return(solde.files[0], tmp_path / "rs.json", {"00002": "La facture est illisible"})
    api.ingest_returns([tmp_path / "rs.json"], default_path())
    return rows


def test_a_rejected_solde_comes_back_with_the_same_numero(tmp_path: Path) -> None:
    """Seed 000: the solde keeps its avance's numeroEditeur; a rejected solde is redeposited as is."""
    rows = _solde_rejected(tmp_path)
    back = api.convert(workbook(tmp_path / "s2.xlsx", rows, "ms2-dui-pds-solde"), tmp_path / "depot", DAY)
    assert back.errors == [] and deposited(back.files[0]) == ["00002"]


def test_a_rejected_solde_comes_back_with_its_date_as_a_date_and_its_amounts_as_numbers(tmp_path: Path) -> None:
    """The solde workbook pre-filled from a rejected solde wrote « 15/06/2024 », « 4866.67 » and
    « 120 » as text: shown left-aligned, not a date in Excel's filters, and the invoices' total
    (=SOMME) ignored them. They are a date and numbers now, read back the same."""
    rows = _solde_rejected(tmp_path)
    _, [(prefilled, _)] = api.write_solde_workbooks(default_path(), None, tmp_path / "soldes")
    book = openpyxl.load_workbook(prefilled)
    head = [c.value for c in book["Demandes"][1]]
    row = book["Demandes"][2]
    when, amount = row[head.index("dateFacture")], row[head.index("montantSegurHTFacture")]
    assert when.is_date and when.value.date() == date(2024, 6, 15) and when.number_format == "dd/mm/yyyy"
    assert amount.data_type == "n" and amount.value == 4866.67
    count = book["OG"][2][[c.value for c in book["OG"][1]].index("nbreDossiersDUIActifs")]
    assert count.data_type == "n" and count.value == int(rows["OG"][0]["nbreDossiersDUIActifs"])
    assert row[0].data_type == "s" and row[0].value == "00002"  # identifiers stay text
    again = api.verify(prefilled)
    assert again.errors == [] and again.accepted == ["00002"]


def test_the_solde_workbooks_rows_rendered_by_polars_are_the_bytes_xlsxwriter_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The solde workbook's rows are rendered by Polars (converter/fastxlsx.py): part by part,
    byte for byte, the workbook its serial twin writes cell by cell (dates, amounts and
    integers typed, identifiers text, empty cells left out), notes, lists and widths included."""
    from converter import concurrency, fastxlsx

    def cell_by_cell(*args: object) -> None:
        raise AssertionError("a row of the solde workbook written cell by cell")

    _solde_rejected(tmp_path)
    with monkeypatch.context() as patched:
        patched.setattr(fastxlsx.TextWorksheet, "write_number", cell_by_cell)
        patched.setattr(fastxlsx.TextWorksheet, "write_datetime", cell_by_cell)
        _, [(fast, _)] = api.write_solde_workbooks(default_path(), None, tmp_path / "rapide")
    monkeypatch.setattr(concurrency, "SERIAL", True)
    _, [(serial, _)] = api.write_solde_workbooks(default_path(), None, tmp_path / "serie")
    assert workbook_parts(fast) == workbook_parts(serial)
    assert b"<v>" in workbook_parts(fast)["xl/worksheets/sheet2.xml"]  # the typed cells of « Demandes »


def test_solde_says_which_demandes_come_back_filled(tmp_path: Path) -> None:
    """« Complétez la date et le montant de chaque facture » was said of a solde workbook whose
    rejected solde came back with its invoice date and amount already filled."""
    _solde_rejected(tmp_path)
    said = " ".join(CliRunner().invoke(app, ["solde", "-o", str(tmp_path / "soldes")]).output.split())
    assert ("La demande reprend la date et le montant de facture de son solde rejeté par l'ASP : vérifiez-les et "
            "corrigez ce qui a motivé le rejet, puis « xl2segur convertir » avec --pieces.") in said
    assert "Complétez" not in said
    # another avance accepted, whose solde was never deposited: its invoice is still to complete
    avance = api.convert(workbook(tmp_path / "a3.xlsx", avance_rows("00003")), tmp_path / "depot", DAY)
    asp_return(avance.files[0], tmp_path / "r3.json", {"00003": "FINMS2000003"})
    api.ingest_returns([tmp_path / "r3.json"], default_path())
    said = " ".join(CliRunner().invoke(app, ["solde", "-o", str(tmp_path / "soldes")]).output.split())
    assert "2 demandes" in said and ("1 demande reprend la date et le montant de facture de son solde rejeté "
                                       "par l'ASP") in said and "pour l'autre, complétez la date et le montant" in said


@pytest.mark.parametrize("first, again", [("ms2-dui-pds-avance", "ms2-dui-pde-avance"),
                                          ("ms2-dui-pde-avance", "ms2-dui-pds-avance")])
def test_an_avance_is_not_deposited_again_as_the_other_variant(tmp_path: Path, first: str, again: str) -> None:
    out = tmp_path / "depot"
    avance = api.convert(workbook(tmp_path / "a.xlsx", _avance(first, "00001"), first), out, DAY)
    assert avance.errors == [] and len(avance.files) == 1
    twice = api.convert(workbook(tmp_path / "b.xlsx", _avance(again, "00001", "00002"), again), out, DAY)
    assert [(i.code, i.numero_editeur, i.balise) for i in twice.errors] == [("deja_deposee", "00001", "numeroEditeur")]
    assert avance.files[0].name in twice.errors[0].message
    assert deposited(twice.files[0]) == ["00002"]


@pytest.mark.parametrize("first, again", [("ms2-dui-pds-solde", "ms2-dui-pde-solde"),
                                          ("ms2-dui-pde-solde", "ms2-dui-pds-solde")])
def test_a_solde_is_not_deposited_again_as_the_other_variant(tmp_path: Path, first: str, again: str) -> None:
    out = tmp_path / "depot"
    variant = first.replace("-solde", "-avance")  # the avance of the first solde's variant
    avance = api.convert(workbook(tmp_path / "a.xlsx", _avance(variant, "00002"), variant), out, DAY)
    asp_return(avance.files[0], tmp_path / "r.json", {"00002": "FINMS2000002"})
    api.ingest_returns([tmp_path / "r.json"], default_path())
    solde = api.convert(workbook(tmp_path / "s.xlsx", _solde(first, "00002", "FINMS2000002"), first), out, DAY)
    assert solde.errors == [] and len(solde.files) == 1
    # the avance's solde is deposited, whichever variant: nothing left to pre-fill
    assert api.write_solde_workbooks(default_path(), variant, tmp_path) == (first, [])
    twice = api.convert(workbook(tmp_path / "t.xlsx", _solde(again, "00002", "FINMS2000002"), again), out, DAY)
    assert [(i.code, i.numero_editeur) for i in twice.errors] == [("deja_deposee", "00002")] and twice.files == []


def test_the_ledger_rechecks_every_variant_under_its_lock(tmp_path: Path) -> None:
    """Ledger.deposit's own check (a run that deposited meanwhile) covers the formats given."""
    out = tmp_path / "depot"
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY)
    family = numero_formats("ms2-dui-pde-avance")
    assert set(family) == {"ms2-dui-pds-avance", "ms2-dui-pde-avance"}
    record = [("00001", "1.00", "[]", "[]", None)]
    placed = []
    with Ledger(default_path()) as book:
        def deposit(**kw) -> None:
            book.record_pending(DepositRecord(format_id="ms2-dui-pde-avance", nature="avance", numero_ans="0123456789",
                                              siret="73282932000074", day=DAY, run="r", demandes=record,
                                              packed=pack(b'{"lignesImport": [{}]}'), **kw), Placing(placed))

        with pytest.raises(OutputError, match="déposées par une autre conversion : 00001"):
            deposit(formats=family)
        # its rejection recorded meanwhile (xl2segur retour): refused where the rule applies
        [(demande_id,)] = book.db.execute("SELECT id FROM demandes").fetchall()
        book.record_returns([(demande_id, "rejetee", None, "E12", "Pièce illisible", "r.json")])
        with pytest.raises(OutputError, match="rejet par l'ASP de demandes vient d'être enregistré au registre : 00001"):
            deposit(formats=family, refuse_rejected=True)
    assert placed == []


class Placing:
    """A deposit folder that notes what it placed."""

    def __init__(self, placed: list | None = None, folder: Path = Path(".")):
        self.placed, self.folder = placed if placed is not None else [], folder

    def place(self, floor: int) -> Placed:
        self.placed.append(floor)
        return Placed(floor, self.folder / f"JSON-0123456789-20260315-{floor:03d}.json")


def test_deposits_are_looked_up_by_numero_ans_and_a_first_one_reads_no_list(tmp_path: Path) -> None:
    """Ledger._deposits: a numeroAns with nothing deposited is answered by the index alone (the
    list of numbers, 100,000 in a large conversion, is not read); one with deposits finds them."""
    records = [("00001", "1.00", "[]", "[]", None)]
    with Ledger(tmp_path / "xl2segur.sqlite") as book:
        book.record_pending(DepositRecord(format_id="ms2-dui-pds-avance", nature="avance", numero_ans="0123456789",
                                          siret="73282932000074", day=DAY, run="r", demandes=records,
                                          packed=pack(b'{"lignesImport": []}')), Placing(folder=tmp_path))
        read: list[str] = []
        book.db.set_trace_callback(read.append)
        assert book.live_deposits(["ms2-dui-pds-avance"], "9999999999", ["00001"]) == {}
        assert not any("json_each" in statement for statement in read)
        found = book.live_deposits(["ms2-dui-pds-avance"], "0123456789", ["00001", "00002"])
        assert {ne: row["nom"] for ne, row in found.items()} == {"00001": "JSON-0123456789-20260315-001.json"}
        assert book.rejected_deposits(["ms2-dui-pds-avance"], "0123456789", ["00001"]) == {}


def test_each_deposit_records_its_resolved_path_and_the_folder_is_resolved_once(tmp_path: Path, monkeypatch) -> None:
    """fichiers.chemin is the file's resolved path (here through a link to the folder); the
    folder is resolved once, not once per file (a dozen system calls in the recording thread)."""
    real = tmp_path / "vrai"
    real.mkdir()
    (tmp_path / "lien").symlink_to(real)
    resolved: list[Path] = []
    resolve = Path.resolve
    monkeypatch.setattr(Path, "resolve", lambda self, strict=False: resolved.append(self) or resolve(self, strict))
    records = [("00001", "1.00", "[]", "[]", None)]
    with Ledger(tmp_path / "xl2segur.sqlite") as book:
        for _ in range(3):
            book.record_pending(DepositRecord(format_id="ms2-dui-pds-avance", nature="avance", numero_ans="0123456789",
                                              siret="73282932000074", day=DAY, run="r", demandes=records,
                                              packed=pack(b'{"lignesImport": []}')), Placing(folder=tmp_path / "lien"))
        kept = [chemin for (chemin,) in book.db.execute("SELECT chemin FROM fichiers ORDER BY id")]
    assert kept == [str(real / f"JSON-0123456789-20260315-00{rank}.json") for rank in (1, 2, 3)]
    assert resolved.count(tmp_path / "lien") == 1


def test_a_deposit_looks_again_once_another_run_wrote(tmp_path: Path) -> None:
    """The second deposit of a run skips the check while nobody else wrote (PRAGMA
    data_version); a deposit or a rejection recorded meanwhile by another connection is seen."""
    path = tmp_path / "xl2segur.sqlite"

    def deposit(book: Ledger, *numeros: str, **kw) -> Path:
        records = [(ne, "1.00", "[]", "[]", None) for ne in numeros]

        return book.record_pending(DepositRecord(format_id="ms2-dui-pds-avance", nature="avance",
                                                 numero_ans="0123456789", siret="73282932000074", day=DAY, run="r",
                                                 demandes=records, packed=pack(b'{"lignesImport": []}'), **kw),
                                   Placing(folder=tmp_path)).path

    with Ledger(path) as run, Ledger(path) as other:
        assert deposit(run, "00001").name.endswith("-001.json")
        assert deposit(run, "00002").name.endswith("-002.json")  # quiet: its own rank + 1
        assert deposit(other, "00003").name.endswith("-003.json")
        with pytest.raises(OutputError, match="déposées par une autre conversion : 00003"):
            deposit(run, "00003")
        assert deposit(run, "00004").name.endswith("-004.json")  # the rank the other run took is seen
        [(demande_id,)] = other.db.execute("SELECT id FROM demandes WHERE numero_editeur = '00004'").fetchall()
        other.record_returns([(demande_id, "rejetee", None, "E12", "Pièce illisible", "r.json")])
        with pytest.raises(OutputError, match="vient d'être enregistré au registre : 00004"):
            deposit(run, "00004", refuse_rejected=True)


def test_a_named_file_is_marked_done_with_the_next_deposit_and_the_last_by_finish(tmp_path: Path) -> None:
    """Issue #19: marking done rewrites each file's row, content included; all at the end it
    cost the run 0.2 s. A file is done once named, never before: pending, recorded, named, done."""
    def deposit(book: Ledger, numero: str) -> Pending:
        records = [(numero, "1.00", "[]", "[]", None)]
        return book.record_pending(DepositRecord(format_id="ms2-dui-pds-avance", nature="avance",
                                                 numero_ans="0123456789", siret="73282932000074", day=DAY, run="r",
                                                 demandes=records, packed=pack(b'{"lignesImport": []}')),
                                   Placing(folder=tmp_path))

    def pending(book: Ledger) -> list[int]:
        return [r[0] for r in book.db.execute("SELECT rang FROM fichiers WHERE en_attente IS NOT NULL ORDER BY id")]

    with Ledger(tmp_path / "xl2segur.sqlite") as book, Ledger(tmp_path / "xl2segur.sqlite") as other:
        first = deposit(book, "00001")
        second = deposit(book, "00002")  # the first not named yet: still pending
        assert pending(book) == [1, 2]
        book.named(first)
        assert pending(book) == [1, 2]
        deposit(other, "00009")
        with pytest.raises(OutputError):  # a deposit refused: nothing marked, kept for the next one
            deposit(book, "00009")
        assert pending(book) == [1, 2, 3]
        book.named(second)
        last = deposit(book, "00003")
        assert pending(book) == [3, 4]
        book.named(last)
        book.finish()
        assert pending(book) == [3]  # never named (the other connection's): left for reconcile to settle



def test_a_files_demandes_are_bound_as_they_are_not_read_again_from_json_by_sqlite(tmp_path: Path) -> None:
    """Issue #19: the ledger took a file's demandes as one JSON array, which SQLite 3.40 parsed
    again for each of the five values of each demande (two thirds of the recording thread). Their
    facts are bound as they are, as many demandes in a statement as SQLite binds values, in file
    order (ids follow the lines)."""
    facts = [(f"{n:05d}", f"{n}.50", '["010002574"]', '["10001234567"]' if n % 3 else "[]", None if n % 2 else "HT")
             for n in range(1, 8)]
    with Ledger(tmp_path / "xl2segur.sqlite") as book:
        book.db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 16)  # two demandes a statement
        said: list[str] = []
        book.db.set_trace_callback(said.append)
        book.record_pending(DepositRecord(format_id="ms2-dui-pds-avance", nature="avance", numero_ans="0123456789",
                                          siret="73282932000074", day=DAY, run="r", demandes=facts,
                                          packed=pack(b'{"lignesImport": []}')), Placing(folder=tmp_path))
        rows = book.db.execute("SELECT numero_editeur, num_ligne, montant, finess, rpps, regime, numero_ans, format "
                               "FROM demandes ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [(ne, n, m, f, r, g, "0123456789", "ms2-dui-pds-avance")
                                        for n, (ne, m, f, r, g) in enumerate(facts, start=1)]
    inserting = [s for s in said if s.startswith("INSERT INTO demandes")]
    assert len(inserting) == 4 and not any("json" in s for s in inserting)


def test_the_facts_keep_the_finess_lists_as_sqlite_took_them_out_of_each_demandes_json(tmp_path: Path) -> None:
    """The FINESS and RPPS lists of `demande_lookup` are the text that json_extract took out of
    the demande's object Polars wrote (before issue #19), escapes included: the same rows."""
    outcome = api.convert(workbook(tmp_path / "w.xlsx", avance_rows("00001", "00002")), tmp_path / "out", DAY)
    lines = orjson.loads(outcome.files[0].read_bytes())["lignesImport"]
    hostile = ['01"0\\002', "é\u2028\x7f\n\t", "\U0001f600/"]
    for line, value in zip(lines, hostile):
        for og in line["beneficiaires"]["etablissementsClients"]:
            og["FINESSJuridique"], og["FINESSGeos"] = value, [value + "x", "123456789"]
    from converter import imports
    facts = imports._records(all_formats()["ms2-dui-pds-avance"], lines)
    objects = pl.DataFrame([{"finess": orjson.loads(f), "rpps": orjson.loads(r)} for _, _, f, r, _ in facts],
                           schema={"finess": pl.List(pl.String), "rpps": pl.List(pl.String)})
    with sqlite3.connect(":memory:") as db:
        taken = [db.execute("SELECT json_extract(?1, '$.finess'), json_extract(?1, '$.rpps')", (o,)).fetchone()
                 for o in objects.select(pl.struct(pl.all()).struct.json_encode()).to_series()]
    assert [(f, r) for _, _, f, r, _ in facts] == taken
    assert hostile[0] in orjson.loads(facts[0][2])


# ------------------------------------------------------------ attachment faults


def _fault(tmp_path: Path, fichier_source: str | None, make) -> api.Outcome:
    rows = avance_rows("00001", "00002")
    if fichier_source is not None:
        rows["Pièces"] = [{"numeroEditeur": "00002", "typeFichier": "BON_COMMANDE", "formatFichier": "PDF",
                           "fichierSource": fichier_source}]
    folder = pieces_folder(tmp_path, "00001")
    make(folder)
    return api.convert(workbook(tmp_path / "a.xlsx", rows), tmp_path / "depot", DAY, pieces=folder)


@pytest.mark.parametrize("case, source, make, code", [
    ("missing", None, lambda f: None, "piece_introuvable"),
    ("missing_named", "bon.pdf", lambda f: None, "piece_introuvable"),
    ("wrong_magic", None, lambda f: (f / "MS2-DUI-Va1-BDC-00002.pdf").write_bytes(b"<html>"), "piece_format_incorrect"),
    ("other_format", None, lambda f: (f / "MS2-DUI-Va1-BDC-00002.pdf").write_bytes(PNG), "piece_autre_format"),
    ("empty", None, lambda f: (f / "MS2-DUI-Va1-BDC-00002.pdf").write_bytes(b""), "piece_vide"),
    ("too_big", None, lambda f: (f / "MS2-DUI-Va1-BDC-00002.pdf").write_bytes(PDF + b"0" * 3_000_000),
     "piece_trop_lourde"),
    ("dotdot", "../secret.pdf", lambda f: (f.parent / "secret.pdf").write_bytes(PDF), "piece_chemin_interdit"),
    ("absolute", "/etc/passwd", lambda f: None, "piece_chemin_interdit"),
    ("windows", "C:\\Users\\x.pdf", lambda f: None, "piece_chemin_interdit"),
    ("symlink", "lien.pdf", lambda f: ((f.parent / "secret.pdf").write_bytes(PDF),
                                       os.symlink(f.parent / "secret.pdf", f / "lien.pdf")), "piece_chemin_interdit"),
    # a link to itself (« Symlink loop » stopped the whole conversion, the workbook blamed), a
    # folder under the piece's name (« n'est pas dans le dossier », though it is there)
    ("loop", None, lambda f: os.symlink("MS2-DUI-Va1-BDC-00002.pdf", f / "MS2-DUI-Va1-BDC-00002.pdf"),
     "piece_illisible"),
    ("folder", None, lambda f: (f / "MS2-DUI-Va1-BDC-00002.pdf").mkdir(), "piece_illisible"),
])
def test_attachment_fault_rejects_its_demande(tmp_path: Path, case: str, source, make, code: str) -> None:
    outcome = _fault(tmp_path, source, make)
    assert outcome.accepted == ["00001"] and outcome.rejected == ["00002"]
    [problem] = outcome.errors
    assert problem.code == code and problem.numero_editeur == "00002"
    if source is None:
        assert (problem.sheet, problem.row, problem.value) == ("Demandes", 3, "MS2-DUI-Va1-BDC-00002.pdf")
    else:
        assert (problem.sheet, problem.row, problem.balise, problem.value) == ("Pièces", 2, "fichierSource", source)
    assert "BON_COMMANDE" in problem.message
    assert [deposited(f) for f in outcome.files] == [["00001"]]
    with zipfile.ZipFile(outcome.archives[0]) as zf:
        assert zf.namelist() == ["MS2-DUI-Va1-BDC-00001.pdf"]
    errors = sheet_rows(outcome.error_workbook, "Demandes")
    assert [r["numeroEditeur"] for r in errors] == ["00002"]
    with sqlite3.connect(default_path()) as db:
        assert db.execute("SELECT numero_editeur FROM demandes").fetchall() == [("00001",)]


def test_a_pdf_whose_header_comes_after_a_few_bytes_is_sent_with_a_warning(tmp_path: Path) -> None:
    """Invoices made by web software often start with a line break or a byte-order mark before
    « %PDF- »: every PDF reader opens them (they look for the header in the first 1,024 bytes),
    yet the demande was rejected, « n'est pas un vrai PDF ». The seeds only ask for « pdf »:
    sent, with a warning; a header beyond that, or none, is still refused."""
    outcome = _fault(tmp_path, None, lambda f: (f / "MS2-DUI-Va1-BDC-00002.pdf").write_bytes(b"\xef\xbb\xbf\r\n" + PDF))
    assert outcome.accepted == ["00001", "00002"] and outcome.rejected == []
    [late] = [w for w in outcome.warnings if w.code.startswith("piece")]
    assert (late.code, late.numero_editeur) == ("piece_pdf_entete_decale", "00002")
    assert "ne commence pas par l'en-tête « %PDF- » (il vient après 5 octets : " in late.message
    with zipfile.ZipFile(outcome.archives[0]) as zf:
        assert zf.read("MS2-DUI-Va1-BDC-00002.pdf") == b"\xef\xbb\xbf\r\n" + PDF
    far = tmp_path / "loin.pdf"
    far.write_bytes(b" " * 1024 + PDF)
    problem, _ = attachments._fault(far, far.name, {"formatFichier": "PDF", "nomFichier": "x.pdf"}, 3_000_000)
    assert problem[0] == "piece_format_incorrect"


def test_an_unreadable_attachment_rejects_its_demande_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A piece the user may not read (rights of another account, a file locked by another
    program): its demande is rejected with the reason, the others are deposited (the whole
    conversion stopped on « permission refusée »)."""
    real = Path.open

    def denied(self: Path, *args, **kwargs):
        if self.name == "MS2-DUI-Va1-BDC-00002.pdf":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    def make(folder: Path) -> None:
        (folder / "MS2-DUI-Va1-BDC-00002.pdf").write_bytes(PDF)
        monkeypatch.setattr(Path, "open", denied)

    outcome = _fault(tmp_path, None, make)
    assert outcome.accepted == ["00001"] and outcome.rejected == ["00002"]
    [problem] = outcome.errors
    assert problem.code == "piece_illisible"
    assert "« MS2-DUI-Va1-BDC-00002.pdf » ne peut pas être lu (permission refusée)" in problem.message


def test_one_file_serving_as_the_piece_of_two_demandes_is_said(tmp_path: Path) -> None:
    """The same file named for two demandes (fichierSource copied down a column; on Windows or
    macOS, whose folders ignore case, « …-AB001.pdf » also opens « …-ab001.pdf »): each demande's
    piece was zipped from it without a word, one of them most likely the wrong piece. The seeds
    give each demande its own pieces and do not forbid sharing one: a warning names the other
    demande; both are deposited."""
    rows = avance_rows("00001", "00002", "00003")
    rows["Pièces"] = [{"numeroEditeur": ne, "typeFichier": "BON_COMMANDE", "formatFichier": "PDF",
                       "fichierSource": "bons/commande.pdf"} for ne in ("00001", "00002")]
    folder = pieces_folder(tmp_path, "00003")
    (folder / "bons").mkdir()
    (folder / "bons" / "commande.pdf").write_bytes(PDF)
    outcome = api.convert(workbook(tmp_path / "a.xlsx", rows), tmp_path / "depot", DAY, pieces=folder)
    assert outcome.accepted == ["00001", "00002", "00003"]
    [shared] = [w for w in outcome.warnings if w.code == "piece_partagee"]
    assert (shared.numero_editeur, shared.sheet, shared.row, shared.value) == ("00002", "Pièces", 3, "bons/commande.pdf")
    assert ("le fichier « bons/commande.pdf » est aussi la pièce BON_COMMANDE de la demande 00001 (MS2-DUI-Va1-BDC-00001.pdf)"
            in shared.message)


def test_symlink_inside_the_folder_is_followed(tmp_path: Path) -> None:
    def make(folder: Path) -> None:
        (folder / "vrai.pdf").write_bytes(PDF)
        os.symlink(folder / "vrai.pdf", folder / "MS2-DUI-Va1-BDC-00002.pdf")
    outcome = _fault(tmp_path, None, make)
    assert outcome.rejected == [] and len(outcome.archives) == 1


def test_a_zip_is_the_same_bytes_whatever_the_dates_and_rights_of_its_pieces(tmp_path: Path) -> None:
    """A piece dated before 1980 (a file copied by a tool that drops dates: 01/01/1970) stopped
    the whole conversion (« ValueError : ZIP does not support timestamps before 1980 », and the
    message blamed the workbook); and each member kept its file's date and rights, so the same
    pieces, copied again, gave another zip. Each member is dated from the deposit day, with
    ordinary rights: the same pieces make the same bytes (`reecrire` gives the zip deposited)."""
    folder = pieces_folder(tmp_path, "00001", "00002")
    os.utime(folder / "MS2-DUI-Va1-BDC-00001.pdf", (0, 0))
    book = workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002"))
    first = api.convert(book, tmp_path / "depot", DAY, pieces=folder, registre=tmp_path / "r1.sqlite")
    assert first.accepted == ["00001", "00002"]
    with zipfile.ZipFile(first.archives[0]) as zf:
        assert [(i.filename, i.date_time) for i in zf.infolist()] == [
            ("MS2-DUI-Va1-BDC-00001.pdf", (2024, 3, 12, 0, 0, 0)), ("MS2-DUI-Va1-BDC-00002.pdf", (2024, 3, 12, 0, 0, 0))]
        assert {i.external_attr >> 16 for i in zf.infolist()} == {0o100644}
    os.utime(folder / "MS2-DUI-Va1-BDC-00001.pdf", (2_000_000_000, 2_000_000_000))
    os.chmod(folder / "MS2-DUI-Va1-BDC-00002.pdf", 0o600)
    second = api.convert(book, tmp_path / "depot2", DAY, pieces=folder, registre=tmp_path / "r2.sqlite")
    assert second.archives[0].read_bytes() == first.archives[0].read_bytes()


def test_zip_split_beyond_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    numeros = [f"0000{i}" for i in range(1, 6)]
    folder = pieces_folder(tmp_path, *numeros)
    for ne in numeros:
        (folder / f"MS2-DUI-Va1-BDC-{ne}.pdf").write_bytes(PDF + b"0" * 900)
    limit = 2500  # two attachments of ~1 ko per archive
    monkeypatch.setattr(attachments, "max_zip_bytes", lambda definition: limit)
    outcome = api.convert(workbook(tmp_path / "a.xlsx", avance_rows(*numeros)), tmp_path / "depot", DAY, pieces=folder)
    assert [a.name for a in outcome.archives] == [
        "JSON-0123456789-20240312-001.zip", "JSON-0123456789-20240312-001-2.zip", "JSON-0123456789-20240312-001-3.zip"]
    names = []
    for archive in outcome.archives:
        assert archive.stat().st_size <= limit
        with zipfile.ZipFile(archive) as zf:
            assert zf.testzip() is None
            names += zf.namelist()
    assert names == [f"MS2-DUI-Va1-BDC-{ne}.pdf" for ne in numeros]


def test_a_zip_that_cannot_be_written_leaves_its_deposit_file_unwritten_and_unrecorded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    numeros = [f"0000{i}" for i in range(1, 6)]
    folder = pieces_folder(tmp_path, *numeros)
    for ne in numeros:
        (folder / f"MS2-DUI-Va1-BDC-{ne}.pdf").write_bytes(PDF + b"0" * 900)
    monkeypatch.setattr(attachments, "max_zip_bytes", lambda definition: 2500)  # three archives
    real = attachments._zip_writer

    def third_fails(target, part, limit, day):
        write = real(target, part, limit, day)
        if target.name.endswith("-3.zip"):
            def full(tmp):
                raise OSError(28, "No space left on device")
            return full
        return write

    monkeypatch.setattr(attachments, "_zip_writer", third_fails)
    out = tmp_path / "depot"
    with pytest.raises(OutputError, match="disque plein"):
        api.convert(workbook(tmp_path / "a.xlsx", avance_rows(*numeros)), out, DAY, pieces=folder)
    assert not out.exists()  # no JSON, no zip, no temporary, no lock: not even the folder it made
    with sqlite3.connect(default_path()) as db:
        assert db.execute("SELECT count(*) FROM demandes").fetchone() == (0,)


@pytest.mark.parametrize("taken", [False, True])
def test_a_zip_that_fails_on_a_full_disk_the_ledger_cannot_forget_is_not_deposited_without_its_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: bool) -> None:
    """The zip fails (disk full), and so does the ledger's forgetting of the file just recorded
    pending (its log cannot grow either): the end of the run marked every file of the run done,
    that one too, never named. The demandes were deposited in no file, « déjà déposées » ever
    after. Now it stays pending, its temporary left: the next run drops it and deposits them."""
    numeros = ["00001", "00002"]
    folder = pieces_folder(tmp_path, *numeros)

    def full(tmp):
        raise OSError(28, "No space left on device")

    if taken:  # the zip's name taken meanwhile: the file recorded at its rank is forgotten, on a full disk
        monkeypatch.setattr(attachments, "write_zips", lambda *args, **kwargs: (_ for _ in ()).throw(NameTaken("pris")))
    else:
        monkeypatch.setattr(attachments, "_zip_writer", lambda target, part, limit, day: full)
    monkeypatch.setattr(Ledger, "forget", lambda self, pending: (_ for _ in ()).throw(
        sqlite3.OperationalError("database or disk is full")))
    out, book = tmp_path / "depot", workbook(tmp_path / "a.xlsx", avance_rows(*numeros))
    with pytest.raises(OutputError, match="disque plein"):
        api.convert(book, out, DAY, pieces=folder)
    with sqlite3.connect(default_path()) as db:  # recorded, not done: no file holds it
        assert db.execute("SELECT count(*) FROM fichiers").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM fichiers WHERE en_attente IS NULL").fetchone() == (0,)
    again = subprocess.run([sys.executable, "-m", "converter", "convertir", str(book), "-o", str(out), "--date-depot",
                            f"{DAY:%Y%m%d}", "--pieces", str(folder)], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert again.returncode == 0, again.stdout + again.stderr  # another run: this one's file is settled
    assert sorted(p.name for p in out.iterdir()) == ["JSON-0123456789-20240312-001.json", "JSON-0123456789-20240312-001.zip"]
    with sqlite3.connect(default_path()) as db:
        assert db.execute("SELECT nom, en_attente FROM fichiers").fetchall() == [("JSON-0123456789-20240312-001.json", None)]


def test_zip_members_follow_the_deposit_file_whatever_order_a_join_gives(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A demande's pieces are zipped in the deposit file's order. That order came from Polars
    joins whose order is not guaranteed (the streaming engine already shuffles it): a future
    Polars could change the zip's bytes, and `reecrire` would no longer give the zip deposited.
    Here a join of attachments.py that does not ask for an order gives its rows in another."""
    real = pl.DataFrame.join

    def unordered(self, *args, **kwargs):
        joined = real(self, *args, **kwargs)
        if kwargs.get("maintain_order") not in (None, "none") or sys._getframe(1).f_globals["__name__"] != attachments.__name__:
            return joined
        return joined.sort("nomFichier", descending=True)

    monkeypatch.setattr(pl.DataFrame, "join", unordered)
    rows = avance_rows("00001", "00002")
    for demande in rows["Demandes"]:
        demande["regimeTVA"] = "HT"
    rows["Pièces"] = [{"numeroEditeur": ne, "typeFichier": "PREUVE_HT", "formatFichier": "PNG"} for ne in ("00001", "00002")]
    folder = pieces_folder(tmp_path, "00001", "00002")
    for ne in ("00001", "00002"):
        (folder / f"MS2-DUI-Va1-HT-{ne}.png").write_bytes(PNG)
    outcome = api.convert(workbook(tmp_path / "a.xlsx", rows), tmp_path / "depot", DAY, pieces=folder)
    assert outcome.errors == [], outcome.errors
    declared = [piece["nomFichier"] for line in orjson.loads(outcome.files[0].read_bytes())["lignesImport"]
                for piece in line["piecesJustificatives"]]
    assert declared == ["MS2-DUI-Va1-BDC-00001.pdf", "MS2-DUI-Va1-HT-00001.png",
                        "MS2-DUI-Va1-BDC-00002.pdf", "MS2-DUI-Va1-HT-00002.png"]
    with zipfile.ZipFile(outcome.archives[0]) as zf:
        assert zf.namelist() == declared


def test_a_zip_name_taken_by_a_file_no_ledger_knows_gives_the_next_rank(tmp_path: Path) -> None:
    """A zip `JSON-…-001.zip` left by a trial (another ledger) stopped `convertir --pieces` with
    « Choisissez un autre nom », which the user cannot do: the names are imposed. As a taken
    deposit file name does, it takes the rank: the deposit file and its zip get the next one,
    and the stray archive is never written over, nor named beside a deposit file not its own."""
    out = tmp_path / "depot"
    out.mkdir()
    stray = out / "JSON-0123456789-20240312-001.zip"
    stray.write_bytes(b"essai")
    folder = pieces_folder(tmp_path, "00001")
    outcome = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY, pieces=folder)
    assert [p.name for p in outcome.files] == ["JSON-0123456789-20240312-002.json"]
    assert [p.name for p in outcome.archives] == ["JSON-0123456789-20240312-002.zip"]
    assert stray.read_bytes() == b"essai"
    # without --pieces too: a deposit file 001 would sit beside an archive not its own
    (tmp_path / "autre").mkdir()
    (tmp_path / "autre" / "JSON-0123456789-20240312-001-2.zip").write_bytes(b"essai")
    other = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), tmp_path / "autre", DAY,
                        registre=tmp_path / "autre.sqlite")
    assert [p.name for p in other.files] == ["JSON-0123456789-20240312-002.json"]


def test_a_zip_alone_whose_rank_is_skipped_is_named_in_a_warning(tmp_path: Path) -> None:
    """A stray `JSON-…-001.zip` (no deposit file, no ledger entry) made the first file of the day
    `…-002.json` without a word (and one of a later rank, the files after it): the user could not tell why the rank jumped, nor that a zip to
    put away lay in the folder. A warning names it, once; none for a zip whose rank the ledger
    knows (its file moved elsewhere), nor for a zip beside its deposit file."""
    out = tmp_path / "depot"
    out.mkdir()
    stray = out / "JSON-0123456789-20240312-001.zip"
    stray.write_bytes(b"essai")
    (out / "JSON-0123456789-20240312-003-2.zip").write_bytes(b"essai")
    outcome = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", *(f"{n:05d}" for n in range(2, 202)))),
                          out, DAY)
    assert [p.name for p in outcome.files] == ["JSON-0123456789-20240312-004.json", "JSON-0123456789-20240312-005.json"]
    warned = [i for i in outcome.warnings if i.code == "archive_seule_rang_saute"]
    assert [(Path(i.file).name, i.numero_editeur) for i in warned] == [
        ("JSON-0123456789-20240312-001.zip", None), ("JSON-0123456789-20240312-003-2.zip", None)]
    assert "L'archive « JSON-0123456789-20240312-001.zip » est dans le dossier de dépôt sans son fichier" in warned[0].message
    assert stray.read_bytes() == b"essai"
    # the file 005 moved elsewhere, a zip left under its name: the ledger knows rank 5, the
    # stray zips were already said
    made = out / "JSON-0123456789-20240312-005.json"
    made.rename(tmp_path / made.name)
    (out / "JSON-0123456789-20240312-005.zip").write_bytes(b"essai")
    again = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00300")), out, DAY)
    assert [p.name for p in again.files] == ["JSON-0123456789-20240312-006.json"]
    assert not [i for i in again.warnings if i.code == "archive_seule_rang_saute"]


def test_a_zip_name_taken_meanwhile_gives_the_next_rank(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A zip name taken after the folder was listed (another run, with another ledger): as a
    deposit file name taken meanwhile, the next rank, never « Choisissez un autre nom »."""
    from converter import deposit
    monkeypatch.setattr(deposit, "existing_ranks", lambda folder, numero_ans, day: set())
    out = tmp_path / "depot"
    out.mkdir()
    (out / "JSON-0123456789-20240312-001.zip").write_bytes(b"essai")
    folder = pieces_folder(tmp_path, "00001")
    outcome = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY, pieces=folder)
    assert [p.name for p in outcome.files] == ["JSON-0123456789-20240312-002.json"]
    assert [p.name for p in outcome.archives] == ["JSON-0123456789-20240312-002.zip"]
    assert (out / "JSON-0123456789-20240312-001.zip").read_bytes() == b"essai"
    with sqlite3.connect(default_path()) as db:
        assert db.execute("SELECT chemin FROM fichiers").fetchall() == [(str((out / outcome.files[0].name).resolve()),)]


def test_a_piece_changed_after_its_check_is_not_zipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A piece replaced while the conversion runs (a scanner, a synchronised folder writing
    it again), after it was checked: whatever it had become (over 3 Mo, empty, another format)
    went into the zip, under the nomenclature name. The bytes zipped must be the bytes checked:
    otherwise the conversion stops, with the way out, and no deposit file is named without its zip."""
    folder = pieces_folder(tmp_path, "00001", "00002")
    real = attachments.collect

    def then_changed(*args, **kwargs):
        found = real(*args, **kwargs)
        (folder / "MS2-DUI-Va1-BDC-00002.pdf").write_bytes(PDF + b"0" * 3_100_000)
        return found

    monkeypatch.setattr(attachments, "collect", then_changed)
    out = tmp_path / "depot"
    with pytest.raises(OutputError, match="La pièce « MS2-DUI-Va1-BDC-00002.pdf » a changé depuis sa vérification"):
        api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001", "00002")), out, DAY, pieces=folder)
    assert not list(out.glob("JSON-*"))
    with sqlite3.connect(default_path()) as db:
        assert db.execute("SELECT count(*) FROM demandes").fetchone() == (0,)


def test_missing_pieces_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="dossier des pièces"):
        api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "depot", DAY,
                    pieces=tmp_path / "absent")
    assert not list((tmp_path / "depot").glob("*.json"))


# ------------------------------------------------------------ the ledger


_LEDGER_V1 = """
CREATE TABLE fichiers (id INTEGER PRIMARY KEY, nom TEXT NOT NULL, chemin TEXT NOT NULL, format TEXT NOT NULL,
    nature TEXT NOT NULL, numero_ans TEXT NOT NULL, siret TEXT NOT NULL, date_depot TEXT NOT NULL,
    rang INTEGER NOT NULL, ecrit_le TEXT NOT NULL);
CREATE INDEX fichiers_rang ON fichiers (numero_ans, date_depot);
CREATE TABLE demandes (id INTEGER PRIMARY KEY, fichier_id INTEGER NOT NULL REFERENCES fichiers (id),
    format TEXT NOT NULL, nature TEXT NOT NULL, numero_ans TEXT NOT NULL, numero_editeur TEXT NOT NULL,
    num_ligne INTEGER NOT NULL, montant TEXT, finess TEXT NOT NULL, rpps TEXT NOT NULL,
    demande_json TEXT NOT NULL, statut TEXT NOT NULL DEFAULT 'deposee', numero_asp TEXT,
    code_traitement TEXT, libelle_traitement TEXT, fichier_retour TEXT, date_retour TEXT);
CREATE INDEX demandes_ne ON demandes (numero_ans, numero_editeur);
PRAGMA user_version = 1;
"""


def ledger_of_version_1(path: Path, demande_json: str, finess: list[str], **columns: str) -> None:
    """A ledger as version 1 wrote it, at `path`: one avance file, JSON-0123456789-20240312-001.json,
    of one demande 00001 of 4866.67 €, its own JSON `demande_json` in its row, and `columns`
    (statut, numero_asp…) as given."""
    names = ", ".join(columns)
    with sqlite3.connect(path) as db:
        db.executescript(_LEDGER_V1)
        db.execute("INSERT INTO fichiers VALUES (1, 'JSON-0123456789-20240312-001.json', '/x', 'ms2-dui-pds-avance', "
                   "'avance', '0123456789', '73282932000074', '2024-03-12', 1, '2024-03-12T10:00:00')")
        db.execute("INSERT INTO demandes (fichier_id, format, nature, numero_ans, numero_editeur, num_ligne, montant, "
                   f"finess, rpps, demande_json{', ' + names if names else ''}) VALUES (1, 'ms2-dui-pds-avance', "
                   "'avance', '0123456789', '00001', 1, '4866.67', ?, '[]', ?" + ", ?" * len(columns) + ")",
                   (orjson.dumps(finess).decode(), demande_json, *columns.values()))
    db.close()


def test_a_ledger_of_version_1_in_the_output_folder_is_migrated_taken_over_and_its_demandes_kept(
        tmp_path: Path) -> None:
    """Version 1 kept each demande's JSON in its row; version 2 keeps each file, compressed.
    Versions before 3 kept the ledger in the output folder: the per-user ledger takes it over."""
    out = tmp_path / "depot"
    fresh = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "ref", DAY,
                        registre=tmp_path / "ref.sqlite")
    deposited = orjson.loads(fresh.files[0].read_bytes())["lignesImport"][0]
    out.mkdir()
    legacy = out / "xl2segur.sqlite"
    ledger_of_version_1(legacy, orjson.dumps(deposited).decode(), ["123456789", "234567891", "345678912"],
                        statut="acceptee", numero_asp="123456")
    with Ledger(legacy) as book:
        assert book.db.execute("PRAGMA user_version").fetchone()[0] == ledger.SCHEMA_VERSION
        assert book.db.execute("SELECT regime FROM demandes").fetchone()[0] == "TTC"  # read from its own JSON
        [row] = book.file_demandes(1)
        assert book.demande(row) == deposited
    again = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00001", "00002")), out, DAY)
    assert [(i.code, i.numero_editeur) for i in again.errors] == [("deja_deposee", "00001")]
    [taken] = [i for i in again.warnings if i.code == "registre_repris"]
    assert f"« {legacy} » d'une version précédente" in taken.message and "(1 fichier de dépôt)" in taken.message
    assert not legacy.exists() and (out / "xl2segur.sqlite.repris").is_file()  # renamed, never deleted
    assert again.files[0].name.endswith("-002.json")  # the rank continues after the migrated file
    with Ledger(default_path()) as book:
        [row] = book.file_demandes(2)
        assert book.demande(row) == orjson.loads(again.files[0].read_bytes())["lignesImport"][0]
    solde = api.write_solde_workbooks(default_path(), "ms2-dui-pds-avance", tmp_path / "soldes")
    assert [count for _, count in solde[1]] == [1]  # the migrated avance, accepted, pre-fills its solde


def test_rank_continues_after_files_moved_away(tmp_path: Path) -> None:
    out = tmp_path / "depot"
    first = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY)
    first.files[0].rename(tmp_path / first.files[0].name)  # deposited, then archived elsewhere
    second = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), out, DAY)
    assert [f.name for f in second.files] == ["JSON-0123456789-20240312-002.json"]


def test_two_runs_write_the_same_ledger_at_once(tmp_path: Path) -> None:
    registre = tmp_path / "registre.sqlite"
    books = {}
    for run in ("a", "b"):
        books[run] = [workbook(tmp_path / f"{run}{k}.xlsx", avance_rows(f"{run.upper()}{k:04d}")) for k in range(3)]
    script = ("import sys; from datetime import date; from converter import api\n"
              "for book in sys.argv[3:]:\n"
              "    api.convert(book, sys.argv[1], date(2024, 3, 12), registre=sys.argv[2])\n")
    runs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / f"out-{run}"), str(registre),
                              *map(str, paths)], cwd=Path(__file__).parents[1], stderr=subprocess.PIPE)
            for run, paths in books.items()]
    for proc in runs:
        _, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, stderr.decode()
    with sqlite3.connect(registre) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ranks = [r for (r,) in db.execute("SELECT rang FROM fichiers ORDER BY rang")]
        numeros = sorted(n for (n,) in db.execute("SELECT numero_editeur FROM demandes"))
    assert ranks == [1, 2, 3, 4, 5, 6]  # two folders, one numbering
    assert numeros == sorted(f"{r.upper()}{k:04d}" for r in "ab" for k in range(3))
    written = sorted(p.name for p in tmp_path.glob("out-*/JSON-*.json"))
    assert written == [f"JSON-0123456789-20240312-00{r}.json" for r in range(1, 7)]


@pytest.mark.parametrize("trial", range(3))
def test_the_same_workbook_converted_twice_at_once_deposits_each_demande_once(tmp_path: Path, trial: int) -> None:
    """Two `xl2segur convertir` of one workbook started together, each into its own folder,
    one ledger: both find nothing deposited, then race to record. Whoever records first
    deposits; the other stops, saying which demandes were just deposited (briefly: 600 of them
    were listed one by one), or finds them all deposited. Each demande ends in one file."""
    book = workbook(tmp_path / "a.xlsx", merge(*(seed_001_rows(f"{i:05d}") for i in range(1, 601))))
    registre = tmp_path / "registre.sqlite"
    runs = [subprocess.Popen([sys.executable, "-m", "converter", "convertir", str(book), "-o", str(tmp_path / out),
                              "--date-depot", "20240312", "--registre", str(registre)],
                             cwd=Path(__file__).parents[1], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for out in ("depot-a", "depot-b")]
    said = [(run.communicate(timeout=300)[0], run.returncode)[::-1] for run in runs]  # drained: 600 lines of errors
    assert sorted(code for code, _ in said)[0] == 0 and sorted(code for code, _ in said)[1] in (1, 2), said
    for code, text in said:
        assert "Traceback" not in text
        if code == 2:
            assert "viennent d'être déposées par une autre conversion" in text and len(text) < 600, text
    files = {p.name: [line["numeroEditeur"] for line in orjson.loads(p.read_bytes())["lignesImport"]]
             for p in tmp_path.glob("depot-*/JSON-*.json")}
    assert sorted(ne for numeros in files.values() for ne in numeros) == [f"{i:05d}" for i in range(1, 601)]
    with sqlite3.connect(registre) as db:
        assert sorted(db.execute("SELECT d.numero_editeur, f.nom FROM demandes d JOIN fichiers f ON f.id = d.fichier_id "
                                 "WHERE f.en_attente IS NULL")) == \
            sorted((ne, name) for name, numeros in files.items() for ne in numeros)


def _open_ledger_at(path: str, start: float) -> str:
    time.sleep(max(0.0, start - time.time()))
    try:
        Ledger(Path(path)).close()
        return "ok"
    except OutputError as exc:
        return str(exc)


def test_runs_creating_the_same_ledger_at_once(tmp_path: Path) -> None:
    # SQLite answers « locked » at once, without its busy timeout, to a second connection
    # switching a new file to WAL: without the retry, about one round in four failed.
    with concurrent.futures.ProcessPoolExecutor(4) as pool:
        for round_ in range(15):
            path, start = str(tmp_path / f"r{round_}.sqlite"), time.time() + 0.3
            outcomes = list(pool.map(_open_ledger_at, [path] * 4, [start] * 4))
            assert outcomes == ["ok"] * 4


def test_ledger_that_is_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "xl2segur.sqlite"
    bad.write_text("pas une base")
    with pytest.raises(OutputError, match=r"n'est pas utilisable \(ce n'est pas une base SQLite\)"):
        Ledger(bad)


@pytest.mark.parametrize("under", ["xl2segur.sqlite", "sous-dossier/xl2segur.sqlite"])
def test_a_ledger_under_a_file_is_refused_in_french_by_the_library_as_by_the_cli(tmp_path: Path, under: str) -> None:
    """A ledger path under a regular file: api.convert raised a raw FileExistsError (or
    NotADirectoryError), where the CLI said it in French."""
    (tmp_path / "fichier").write_text("pas un dossier")
    book = workbook(tmp_path / "a.xlsx", avance_rows("00001"))
    with pytest.raises(OutputError, match=r"Le dossier du registre « .*fichier.* » ne peut pas être créé \((un fichier "
                       r"porte déjà ce nom|un élément du chemin est un fichier, pas un dossier)\) : vérifiez le chemin"):
        api.convert(book, tmp_path / "depot", DAY, registre=tmp_path / "fichier" / under)
    assert not (tmp_path / "depot").exists()


def test_another_programs_database_is_refused_untouched(tmp_path: Path) -> None:
    # --registre pointing at another program's SQLite base got our tables (and WAL) written into it
    other = tmp_path / "clients.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE clients (id INTEGER, nom TEXT)")
    db.close()
    before = other.read_bytes()
    result = CliRunner().invoke(app, ["convertir", str(workbook(tmp_path / "a.xlsx", avance_rows("00001"))),
                                      "-o", str(tmp_path / "depot"), "--registre", str(other)])
    assert result.exit_code == 2, result.output
    assert f"« {other} » n'est pas un registre xl2segur" in result.output
    assert "ses tables : clients" in result.output and "Rien n'y a été écrit" in result.output
    assert other.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir() if "clients" in p.name) == [
        "clients.db"]
    assert not list((tmp_path / "depot").glob("*.json"))
    # a version number of its own does not make it a ledger « written by a newer xl2segur »
    with sqlite3.connect(other) as db:
        db.execute("PRAGMA user_version = 7")
    db.close()
    with pytest.raises(OutputError, match="n'est pas un registre xl2segur"):
        Ledger(other)
    # a folder is said to be one
    with pytest.raises(OutputError, match=r"est un dossier : indiquez le fichier du registre"):
        api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), tmp_path / "depot", DAY, registre=tmp_path)
    # a new name still starts a ledger, which opens again
    Ledger(tmp_path / "neuf.sqlite").close()
    Ledger(tmp_path / "neuf.sqlite").close()


# ------------------------------------------------------------ the CLI


def test_cli_retour_and_solde(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "depot"
    avance = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY)
    returned = asp_return(avance.files[0], tmp_path / "r.json", {"00001": "FINMS2000001"})
    result = runner.invoke(app, ["retour", str(returned), "--registre", str(default_path()),
                                 "-o", str(tmp_path / "bilan.xlsx")])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "00001 : Acceptée — FINMS2000001" in text and "bilan.xlsx" in "".join(text.split())
    result = runner.invoke(app, ["solde", "--depuis", str(default_path()), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "solde-ms2-dui-pds-solde-0123456789.xlsx—1demande" in "".join(result.output.split())


def _words(text: str) -> str:
    return " ".join(text.split())


NOTHING_TO_SETTLE = ("Aucune avance acceptée par l'ASP, avec un numéro ASP, n'attend encore son solde dans le registre")


@pytest.mark.parametrize("options", [[], ["--format", "ms2-dui-pds-avance"]])
def test_cli_solde_with_nothing_to_settle(tmp_path: Path, options: list[str]) -> None:
    """No accepted avance yet, or every accepted avance has its solde: the same answer, exit 0."""
    runner = CliRunner()
    out = tmp_path / "depot"
    registre = default_path()
    avance = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00002")), out, DAY)
    command = ["solde", "--depuis", str(registre), "-o", str(tmp_path / "soldes"), *options]

    def nothing() -> None:
        result = runner.invoke(app, command)
        assert result.exit_code == 0, result.output
        text = _words(result.output)
        assert NOTHING_TO_SETTLE in text and "aucun classeur écrit" in text and "« xl2segur retour »" in text
        assert "--format" not in text and not (tmp_path / "soldes").exists()

    nothing()  # deposited, no return from the ASP yet
    asp_return(avance.files[0], tmp_path / "r.json", {"00002": "FINMS2000002"})
    api.ingest_returns([tmp_path / "r.json"], registre)
    solde = api.convert(workbook(tmp_path / "s.xlsx", _solde("ms2-dui-pds-solde", "00002", "FINMS2000002"),
                                 "ms2-dui-pds-solde"), out, DAY)
    assert solde.errors == []
    nothing()  # accepted, and its solde deposited


@pytest.mark.parametrize("option", ["--depuis", "--registre"])
def test_cli_solde_without_ledger_names_its_own_option(tmp_path: Path, option: str) -> None:
    result = CliRunner().invoke(app, ["solde", option, str(tmp_path / "absent.sqlite"), "-o", str(tmp_path)])
    assert result.exit_code == 2
    text = _words(result.output)
    assert "absent.sqlite » est introuvable : indiquez avec --depuis le fichier xl2segur.sqlite" in text
    assert "--registre" not in text and not (tmp_path / "absent.sqlite").exists()


@pytest.mark.parametrize("content, expected", [
    (b"{pas du json", "n'est pas un fichier JSON valide"),
    (b"[1, 2]", "la liste « lignesImport » manque"),
    (b'{"numeroAns": "0123456789", "lignesImport": [{"numLigne": 1}]}', "n'a pas de numeroEditeur"),
    (b'{"numeroAns": "123", "lignesImport": []}', "numeroAns valide"),
])
def test_cli_malformed_return_file(tmp_path: Path, content: bytes, expected: str) -> None:
    out = tmp_path / "depot"
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY)
    (tmp_path / "r.json").write_bytes(content)
    result = CliRunner().invoke(app, ["retour", str(tmp_path / "r.json"), "--registre", str(default_path())])
    assert result.exit_code == 2
    assert expected in " ".join(result.output.split()) and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_retour_without_ledger(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_bytes(b'{"numeroAns": "0123456789", "lignesImport": []}')
    result = CliRunner().invoke(app, ["retour", str(tmp_path / "r.json"), "--registre", str(tmp_path / "x.sqlite")])
    assert result.exit_code == 2 and "introuvable : indiquez avec --registre" in _words(result.output)
    assert not (tmp_path / "x.sqlite").exists()
