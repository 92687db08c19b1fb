"""The ASP's return files as they arrive: matched to their deposit file by content, read
whatever their label's spelling, kept as history, refused with a French reason.

Issue 17, items 2, 3, 6 and 8."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import orjson
import pytest
from typer.testing import CliRunner

from converter import api
from converter.cli import app
from converter.ledger import default_path
from converter.files import OutputError
from tests.builders import seed_001_rows, workbook
from tests.test_cycle import (DAY, _solde, _soldes, _without_profil, asp_return, avance_rows, deposited,
                              pieces_folder, sheet_rows)


def _today() -> str:
    return date.today().strftime("%d/%m/%Y")


def _words(text: str) -> str:
    return " ".join(text.split())


def _refused(command: list[str]) -> str:
    """What the CLI says running `command`, which must end in code 1, its words on one line."""
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1, result.output
    return _words(result.output)


def _avances(tmp_path: Path, *numeros: str) -> tuple[Path, Path]:
    """(deposit file, ledger) of seed 001's avance under each numero."""
    out = tmp_path / "depot"
    outcome = api.convert(workbook(tmp_path / "a.xlsx", avance_rows(*numeros)), out, DAY)
    return outcome.files[0], default_path()


def _statuts(registre: Path) -> list[tuple[str, str, str, str | None]]:
    with sqlite3.connect(registre) as db:
        return db.execute("SELECT f.nom, d.numero_editeur, d.statut, d.numero_asp FROM demandes d "
                          "JOIN fichiers f ON f.id = d.fichier_id ORDER BY d.id").fetchall()


def _history(registre: Path) -> list[tuple[str, str, str | None, int]]:
    with sqlite3.connect(registre) as db:
        return db.execute("SELECT r.fichier_retour, r.statut, r.numero_asp, r.confirme FROM retours r "
                          "ORDER BY r.id").fetchall()


def _edit(path: Path, change) -> Path:
    data = orjson.loads(path.read_bytes())
    change(data)
    path.write_bytes(orjson.dumps(data))
    return path


# ------------------------------------------------------------ item 2: matched by content, not by name


def test_an_old_solde_return_saved_again_under_another_name_rewrites_nothing(tmp_path: Path) -> None:
    """Issue 17, item 2: the first solde file is rejected as a whole (one of its soldes fails),
    the same soldes go again in a second file, accepted. The first return, saved again by the
    browser as « … (1).json », is the first file's return: not the newest file's."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    out = registre.parent
    asp_return(deposit_file, tmp_path / "ra.json", {"00001": "FINMS2000001", "00002": "FINMS2000002"})
    api.ingest_returns([tmp_path / "ra.json"], registre)
    soldes = workbook(tmp_path / "s.xlsx", {k: v + w for (k, v), w in zip(
        _solde("ms2-dui-pds-solde", "00001", "FINMS2000001").items(),
        _solde("ms2-dui-pds-solde", "00002", "FINMS2000002").values())}, "ms2-dui-pds-solde")
    first = api.convert(soldes, out, DAY).files[0]
    old = asp_return(first, tmp_path / "retours" / first.name, {"00001": "FINMS2000001", "00002": "Facture illisible"})
    api.ingest_returns([old], registre)
    second = api.convert(soldes, out, DAY).files[0]  # both rejected: deposited again, same content
    assert deposited(second) == ["00001", "00002"]
    new = asp_return(second, tmp_path / "retours" / second.name, {"00001": "FINMS2000001", "00002": "FINMS2000002"})
    _edit(new, lambda d: d.update(impId=4343))  # another import at the ASP
    api.ingest_returns([new], registre)

    again = tmp_path / "retours" / f"{first.stem} (1).json"
    again.write_bytes(old.read_bytes())
    lines, _ = api.ingest_returns([again], registre)
    assert {x.deposit_file for x in lines} == {first.name}
    soldes_now = [s for s in _statuts(registre) if s[0] == second.name]
    assert [s[2] for s in soldes_now] == ["acceptee", "acceptee"]
    assert api.write_solde_workbooks(registre, "ms2-dui-pds-avance", tmp_path / "w") == ("ms2-dui-pds-solde", [])


def test_the_same_return_recorded_again_is_kept_once_in_the_history(tmp_path: Path) -> None:
    """The same return given twice in one command, then again saved under another name and
    re-encoded: its outcomes are recorded once (the history, and etat's « Historique des
    retours », would count one answer of the ASP two or three times)."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    returned = asp_return(deposit_file, tmp_path / "r.json", {"00001": "FINMS2000001", "00002": "Pièce illisible"})
    lines, _ = api.ingest_returns([returned, returned], registre)
    assert [x.result for x in lines] == ["Acceptée", "Rejetée"] * 2
    assert all("déjà enregistré le" in x.remark and "r.json" in x.remark for x in lines[2:])
    again = tmp_path / "r (1).json"
    again.write_bytes(orjson.dumps(orjson.loads(returned.read_bytes()), option=orjson.OPT_INDENT_2))
    lines, _ = api.ingest_returns([again], registre)
    assert [x.result for x in lines] == ["Acceptée", "Rejetée"] and all("déjà enregistré" in x.remark for x in lines)
    assert _history(registre) == [("r.json", "acceptee", "FINMS2000001", 0), ("r.json", "rejetee", None, 0)]
    status, _ = api.ledger_status(registre, tmp_path / "etat.xlsx")
    assert status.history.height == 2
    assert [s[2:] for s in _statuts(registre)] == [("acceptee", "FINMS2000001"), ("rejetee", None)]


def test_a_return_two_deposit_files_could_answer_is_refused_until_depot_names_one(tmp_path: Path) -> None:
    deposit_file, registre = _avances(tmp_path, "00001")
    # the same demandes, byte for byte, recorded in a second file (another tool's deposit, imported)
    with sqlite3.connect(registre) as db:
        db.execute("INSERT INTO fichiers (nom, chemin, format, nature, numero_ans, siret, date_depot, rang, ecrit_le, "
                   "contenu) SELECT 'JSON-0123456789-20240312-009.json', chemin, format, nature, numero_ans, siret, "
                   "date_depot, 9, ecrit_le, contenu FROM fichiers")
        db.execute("INSERT INTO demandes (fichier_id, format, nature, numero_ans, numero_editeur, num_ligne, montant, "
                   "finess, rpps) SELECT 2, format, nature, numero_ans, numero_editeur, num_ligne, montant, finess, "
                   "rpps FROM demandes")
    returned = asp_return(deposit_file, tmp_path / "r2.json", {"00001": "FINMS2000001"})
    _edit(returned, lambda d: d.update(impId=777))
    lines, _ = api.ingest_returns([returned], registre)
    [line] = lines
    assert line.result == "Non enregistrée"
    assert "JSON-0123456789-20240312-001.json, JSON-0123456789-20240312-009.json" in line.remark
    assert "--depot" in line.remark and "rien n'est deviné" in line.remark
    # the return is recognised (both files hold its demandes): which deposit it answers is not certain
    assert line.remark.startswith("Retour reconnu, non enregistré : plusieurs fichiers déposés contiennent")
    assert "non reconnu" not in line.remark
    assert [s[2] for s in _statuts(registre)] == ["deposee", "deposee"]
    result = CliRunner().invoke(app, ["retour", str(returned), "--registre", str(registre), "-o",
                                      str(tmp_path / "b.xlsx"), "--depot", "JSON-0123456789-20240312-009.json"])
    assert result.exit_code == 0, result.output
    # recorded for the file --depot named, not « reconnu à son contenu »: its content names two
    assert ("Le retour r2.json répond au dépôt JSON-0123456789-20240312-009.json (désigné par --depot)"
            in _words(result.output))
    assert "reconnu à son contenu" not in result.output
    assert [s[2:] for s in _statuts(registre)] == [("deposee", None), ("acceptee", "FINMS2000001")]


def _ms2_soldes(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(ledger, soldes workbook, its solde file) of seed 000's soldes 00001 and 00002, their
    avances accepted."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    asp_return(deposit_file, tmp_path / "ra.json", {"00001": "FINMS2000001", "00002": "FINMS2000002"})
    api.ingest_returns([tmp_path / "ra.json"], registre)
    soldes = workbook(tmp_path / "s.xlsx", {k: v + w for (k, v), w in zip(
        _solde("ms2-dui-pds-solde", "00001", "FINMS2000001").items(),
        _solde("ms2-dui-pds-solde", "00002", "FINMS2000002").values())}, "ms2-dui-pds-solde")
    return registre, soldes, api.convert(soldes, registre.parent, DAY).files[0]


def _soldes_deposited_twice(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    """(ledger, first solde file, its return rejecting both soldes, second solde file): the
    two soldes of seed 000 rejected as a file, then deposited again unchanged."""
    registre, soldes, first = _ms2_soldes(tmp_path)
    old = asp_return(first, tmp_path / "retours" / first.name, {"00001": "Facture illisible", "00002": "Facture illisible"})
    _edit(old, lambda d: d.update(impId=None))
    api.ingest_returns([old], registre)
    second = api.convert(soldes, registre.parent, DAY).files[0]
    assert deposited(second) == ["00001", "00002"]
    return registre, first, old, second


def test_the_deposit_file_named_with_depot_is_the_one_recorded(tmp_path: Path) -> None:
    """--depot is the user's word: it comes before any rule that guesses (here, « the file still
    awaiting its return » would have taken the second file)."""
    registre, first, old, second = _soldes_deposited_twice(tmp_path)
    again = asp_return(first, tmp_path / "r-portail.json", {"00001": "Facture illisible", "00002": "Facture illisible"})
    _edit(again, lambda d: d.update(impId=31))
    lines, _ = api.ingest_returns([again], registre, deposit=first.name)
    assert {(x.deposit_file, x.result) for x in lines} == {(first.name, "Rejetée")}
    assert [s[2] for s in _statuts(registre) if s[0] == second.name] == ["deposee", "deposee"]


@pytest.mark.parametrize("encode", [
    lambda data: orjson.dumps(data, option=orjson.OPT_INDENT_2).replace(b"\n", b"\r\n"),  # pretty, CRLF
    lambda data: b"\xef\xbb\xbf" + orjson.dumps(dict(reversed(list(data.items())))),  # BOM, keys reordered
], ids=["indente-crlf", "bom-cles"])
def test_an_old_return_saved_again_re_encoded_is_still_its_own_files(tmp_path: Path, encode) -> None:
    """A return without impId, opened and saved again by an editor (indented, CRLF, a BOM, keys
    in another order), is the same return: it answered the first solde file, not the second one
    still awaiting its return (taken for it, that file's soldes were rejected and the solde
    workbook offered them a third time)."""
    registre, first, old, second = _soldes_deposited_twice(tmp_path)
    again = tmp_path / "retours" / f"{first.stem} (1).json"
    again.write_bytes(encode(orjson.loads(old.read_bytes())))
    lines, _ = api.ingest_returns([again], registre)
    # without an impId, the same content is also what the second file's own return would be:
    # neither file is guessed, the user is asked (test_an_identical_return_of_a_solde_file_...)
    assert {x.result for x in lines} == {"Non enregistrée"}
    assert f"identique au retour {old.name} enregistré le" in _words(lines[0].remark)
    assert f"pour le dépôt {first.name}, et {second.name}" in _words(lines[0].remark)
    assert [s[2] for s in _statuts(registre) if s[0] == second.name] == ["deposee", "deposee"]
    assert api.write_solde_workbooks(registre, "ms2-dui-pds-avance", tmp_path / "w") == ("ms2-dui-pds-solde", [])


def test_a_return_recorded_for_one_deposit_file_is_not_recorded_for_another_one_depot_names(tmp_path: Path) -> None:
    """The first solde file's return (both rejected) recorded, then given again with --depot
    naming the second file (the same soldes deposited again, still awaiting its return): it was
    recorded for both, the second file's soldes rejected without any answer of the ASP for it
    (and offered a third time by the solde workbook). One return answers one deposit: refused,
    naming the file it answers, unless the user confirms the ASP gave both the same answer."""
    registre, first, old, second = _soldes_deposited_twice(tmp_path)
    history = _history(registre)
    command = ["retour", str(old), "--registre", str(registre), "-o", str(tmp_path / "b.xlsx"), "--depot", second.name]
    text = _refused(command)
    assert (f"00001 : Non enregistrée — FINMS2000001 (Retour reconnu, non enregistré : ce retour (même contenu, ou même "
            f"impId) est déjà enregistré pour le dépôt {first.name} (fichier {old.name}, le") in text
    assert f"un retour répond à un seul dépôt, rien n'est enregistré pour {second.name}" in text
    assert f"relancez avec --depot {second.name} --confirmer" in text
    assert [s[2] for s in _statuts(registre) if s[0] == second.name] == ["deposee", "deposee"]
    assert _history(registre) == history
    result = CliRunner().invoke(app, [*command, "--confirmer"])
    assert result.exit_code == 0, result.output
    assert f"Enregistré pour {second.name} comme demandé (--depot, --confirmer)" in _words(result.output)
    assert [s[2] for s in _statuts(registre) if s[0] == second.name] == ["rejetee", "rejetee"]


def test_an_identical_return_of_a_solde_file_deposited_again_is_not_taken_for_the_first_files(tmp_path: Path) -> None:
    """The soldes rejected as a file, deposited again unchanged, rejected again: without an
    impId, the ASP's second return is byte for byte the first one. It was taken for the first
    file (« déjà enregistré », exit code 0) and the second file awaited its return for ever, its
    soldes never offered again. Nothing tells the two apart: the user is asked (--depot), and
    the answer is then recorded for the file named."""
    registre, first, old, second = _soldes_deposited_twice(tmp_path)
    new = _edit(asp_return(second, tmp_path / "retours" / f"{second.stem}-portail.json",
                           {"00001": "Facture illisible", "00002": "Facture illisible"}), lambda d: d.update(impId=None))
    assert new.read_bytes() == old.read_bytes()
    lines, _ = api.ingest_returns([new], registre)
    assert {x.result for x in lines} == {"Non enregistrée"}
    remark = _words(lines[0].remark)
    assert (f"ce retour, sans impId, est identique au retour {old.name} enregistré le") in remark
    assert f"pour le dépôt {first.name}, et {second.name}, qui contient les mêmes demandes, attend encore" in remark
    assert f"relancez avec --depot {second.name} --confirmer" in remark
    assert [s[2] for s in _statuts(registre) if s[0] == second.name] == ["deposee", "deposee"]
    lines, _ = api.ingest_returns([new], registre, deposit=second.name, confirm=True)
    assert {(x.deposit_file, x.result) for x in lines} == {(second.name, "Rejetée")}
    assert [s[2] for s in _statuts(registre) if s[0] in (first.name, second.name)] == ["rejetee"] * 4
    # given once more, it is recorded for both: nothing new, nothing asked
    lines, _ = api.ingest_returns([new], registre)
    assert {x.result for x in lines} == {"Rejetée"} and all("déjà enregistré" in x.remark for x in lines)


def test_a_rejection_confirmed_away_while_its_demandes_are_deposited_again_is_refused(tmp_path: Path) -> None:
    """The first solde file was recorded rejected, its soldes deposited again in a second file;
    a later return says the first was accepted after all. Recorded, even with --confirmer, each
    solde would be live in two deposit files (the second one, uploaded, pays it twice): refused,
    as `retirer --annuler` is, with the way out."""
    registre, first, old, second = _soldes_deposited_twice(tmp_path)
    good = asp_return(first, tmp_path / "r-portail.json", {"00001": "Demande acceptée", "00002": "Demande acceptée"})
    _edit(good, lambda d: d.update(impId=31))
    lines, _ = api.ingest_returns([good], registre, confirm=True, deposit=first.name)
    assert {x.result for x in lines} == {"Non enregistrée"}
    remark = _words(lines[0].remark)
    assert f"déposées de nouveau depuis ce rejet : 00001, 00002 ({second.name})" in remark
    assert f"Si {second.name} n'a pas été déposé sur le portail, retirez-le (« xl2segur retirer NOM »)" in remark
    assert "rien n'est enregistré" in remark
    assert [s[2] for s in _statuts(registre) if s[0] in (first.name, second.name)] == ["rejetee"] * 2 + ["deposee"] * 2
    # the second file never uploaded: withdrawn, the return is recorded
    api.withdraw(second.name, registre)
    lines, _ = api.ingest_returns([good], registre, confirm=True, deposit=first.name)
    assert {x.result for x in lines} == {"Acceptée"}
    assert [s[2] for s in _statuts(registre) if s[0] in (first.name, second.name)] == ["acceptee"] * 2 + ["retiree"] * 2


def test_a_depot_that_does_not_hold_the_returned_demandes_is_refused(tmp_path: Path) -> None:
    registre, first, old, second = _soldes_deposited_twice(tmp_path)
    again = asp_return(first, tmp_path / "r-portail.json", {"00001": "FINMS2000001", "00002": "FINMS2000002"})
    _edit(again, lambda d: d.update(impId=31))
    avance = "JSON-0123456789-20240312-001.json"
    lines, _ = api.ingest_returns([again], registre, deposit=avance)
    assert {x.result for x in lines} == {"Non enregistrée"}
    remark = _words(lines[0].remark)
    assert f"le fichier {avance} donné par --depot ne contient pas exactement ces 2 demandes" in remark
    assert f"{first.name}, {second.name}" in remark
    assert [s[2] for s in _statuts(registre) if s[0] in (first.name, second.name)] == ["rejetee"] * 2 + ["deposee"] * 2


def test_a_return_whose_demandes_no_deposit_file_holds_is_refused_whole(tmp_path: Path) -> None:
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    returned = asp_return(deposit_file, tmp_path / "r.json", {"00001": "FINMS2000001", "00002": "FINMS2000002"})
    _edit(returned, lambda d: d["lignesImport"][1].update(numeroEditeur="00009"))
    result = CliRunner().invoke(app, ["retour", str(returned), "--registre", str(registre), "-o", str(tmp_path / "b.xlsx")])
    assert result.exit_code == 1
    text = _words(result.output)
    assert "00001 : Inconnue du registre" in text and "00009 : Inconnue du registre" in text
    assert "le plus proche, JSON-0123456789-20240312-001.json, en contient 1 sur ses 2" in text
    assert [s[2] for s in _statuts(registre)] == ["deposee", "deposee"] and _history(registre) == []


def test_a_return_naming_a_demande_twice_is_refused_whole(tmp_path: Path) -> None:
    """Two answers for one demande (accepted, then rejected) in one return, and none for
    another: matched by count, the second answer overwrote the first and the other demande
    stayed unanswered. Seeds 000 and 001, §2: « pour chaque demande, un code de traitement et
    libellé de traitement »: one answer per demande."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    returned = asp_return(deposit_file, tmp_path / "r.json", {"00001": "FINMS2000001", "00002": "FINMS2000002"})
    _edit(returned, lambda d: d["lignesImport"].__setitem__(
        1, {**d["lignesImport"][0], "numeroASP": None, "codeTraitement": "E12", "libelleTraitement": "Pièce illisible"}))
    with pytest.raises(OutputError) as caught:
        api.ingest_returns([returned], registre)
    assert "nomme deux fois la demande 00001 (demandes n° 1 et 2 de lignesImport)" in _words(str(caught.value))
    assert [s[2] for s in _statuts(registre)] == ["deposee", "deposee"] and _history(registre) == []


def test_a_numero_editeur_returned_as_a_number_is_named_as_such(tmp_path: Path) -> None:
    """« 00001 » come back as 1 (a tool that read it as a number on its way): the return has a
    numeroEditeur, not of the ASP's type; it was said to have none."""
    deposit_file, registre = _avances(tmp_path, "00001")
    returned = _edit(asp_return(deposit_file, tmp_path / "r.json", {"00001": "FINMS2000001"}),
                     lambda d: d["lignesImport"][0].update(numeroEditeur=1))
    with pytest.raises(OutputError) as caught:
        api.ingest_returns([returned], registre)
    message = _words(str(caught.value))
    assert "demande n° 1 de lignesImport, a un numeroEditeur qui n'est pas un texte (1)" in message
    assert "Téléchargez-le à nouveau depuis le portail Ségur, sans le modifier" in message


@pytest.mark.parametrize("field,value,shown", [
    ("numeroEditeur", True, "(true)"), ("numeroEditeur", ["00001"], '(["00001"])'),
    ("libelleTraitement", False, "(false)"), ("numeroASP", {"numero": "FINMS2000001"}, '({"numero":"FINMS2000001"})'),
])
def test_a_value_of_another_json_type_is_shown_as_the_file_writes_it(tmp_path: Path, field, value, shown) -> None:
    """The value is echoed as it is in the return file (true, a list), not as Python writes it
    (True, ['00001']), which the user would look for in the file in vain."""
    deposit_file, registre = _avances(tmp_path, "00001")
    returned = _edit(asp_return(deposit_file, tmp_path / "r.json", {"00001": "FINMS2000001"}),
                     lambda d: d["lignesImport"][0].update({field: value}))
    with pytest.raises(OutputError) as caught:
        api.ingest_returns([returned], registre)
    message = _words(str(caught.value))
    assert f"a un {field} qui n'est pas un texte {shown}" in message, message


def test_empty_texts_the_asp_fields_hold_are_no_answer(tmp_path: Path) -> None:
    """codeTraitement and libelleTraitement « » (empty, not null): no answer, not a rejection
    (recorded rejected, the avance would have been deposited again); a numeroASP « » is no
    number (the solde workbook offered the avance with an empty dossier)."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    returned = _edit(asp_return(deposit_file, tmp_path / "r.json", {"00001": "FINMS2000001", "00002": "FINMS2000002"}),
                     lambda d: (d["lignesImport"][0].update(numeroASP=" "),
                                d["lignesImport"][1].update(codeTraitement="", libelleTraitement=" ", numeroASP="")))
    lines, _ = api.ingest_returns([returned], registre)
    assert [(x.result, x.numero_asp) for x in lines] == [("Acceptée", None), ("Sans traitement ASP", None)]
    assert [s[2:] for s in _statuts(registre)] == [("acceptee", None), ("deposee", None)]
    assert api.write_solde_workbooks(registre, "ms2-dui-pds-avance", tmp_path / "w") == ("ms2-dui-pds-solde", [])


# ------------------------------------------------------------ a solde file recorded whole, or per demande


def test_an_ms2_solde_file_with_a_rejected_demande_records_none_of_its_soldes(tmp_path: Path) -> None:
    """DTJSONSOLDE-MS2-DUI PDE-VA1 (seed 000), §1.2 : « Les demandes de solde sont
    définitivement enregistrées dans le portail Ségur seulement lorsque l'ensemble des demandes
    d'un JSON sont passantes. »"""
    registre, _, solde = _ms2_soldes(tmp_path)
    asp_return(solde, tmp_path / "rs.json", {"00001": "FINMS2000001", "00002": "Facture illisible"})
    lines, _ = api.ingest_returns([tmp_path / "rs.json"], registre)
    assert [(x.numero_editeur, x.statut) for x in lines] == [("00001", "rejetee"), ("00002", "rejetee")]
    assert "toutes ses demandes passent" in lines[0].remark
    # rejected, 00001 has no numéro ASP, in the ledger as in its history (etat's « Historique des
    # retours » showed FINMS2000001 beside « Rejetée », as if the ASP had given it one)
    assert [x.numero_asp for x in lines] == [None, None]
    assert _history(registre)[-2:] == [("rs.json", "rejetee", None, 0)] * 2


@pytest.mark.parametrize("untreated", [False, True], ids=["acceptee", "sans-traitement"])
def test_etat_says_a_solde_rejected_with_its_file_is_to_be_deposited_again(tmp_path: Path, untreated: bool) -> None:
    """00001 accepted by the ASP, 00002 rejected: the MS2 file is not recorded (seed 000 §1.2), so
    00001 is recorded rejected with the ASP's own « 0 » and « Demande acceptée ». etat showed
    « Rejetées » beside « Demande acceptée », nothing telling it was to be deposited again, and
    retour's codes counted « 0 » as a rejection's code. Now etat (console, summary and row) says
    it, the ASP's code and label kept as given; the codes are counted as the ASP gave them."""
    registre, _, solde = _ms2_soldes(tmp_path)
    returned = asp_return(solde, tmp_path / "rs.json", {"00001": "FINMS2000001", "00002": "Facture illisible"})
    if untreated:
        _edit(returned, _untreated("00001"))
    result = CliRunner().invoke(app, ["retour", str(returned), "--registre", str(registre), "-o", str(tmp_path / "b.xlsx")])
    assert result.exit_code == 0, result.output
    codes = "« E12 » : rejetée 1" if untreated else "« 0 » : acceptée 1 ; « E12 » : rejetée 1"
    assert f"Codes de traitement rencontrés : {codes}" in result.output
    result = CliRunner().invoke(app, ["etat", "--registre", str(registre), "-o", str(tmp_path / "etat.xlsx")])
    assert result.exit_code == 0, result.output
    assert ("ms2-dui-pds-solde (solde)\n  Rejetées : 2 — 9 733,34 € HT\n    dont rejetées avec leur fichier, à déposer "
            "de nouveau (déjà comptées dans « Rejetées ») : 1 — 4 866,67 € HT\n") in result.output
    rows = {(r["Format"], r["numeroEditeur"]): r for r in sheet_rows(tmp_path / "etat.xlsx", "Demandes")}
    mine = rows[("ms2-dui-pds-solde", "00001")]
    assert mine["État"] == "Rejetées avec leur fichier (un autre solde y est rejeté) : à déposer de nouveau"
    assert (mine["codeTraitement"], mine["libelleTraitement"]) == ((None, None) if untreated else ("0", "Demande acceptée"))
    assert rows[("ms2-dui-pds-solde", "00002")]["État"] == "Rejetées"


def _untreated(ne: str):
    def change(data: dict) -> None:
        for line in data["lignesImport"]:
            if line["numeroEditeur"] == ne:
                line.update(codeTraitement=None, libelleTraitement=None)
    return change


def test_an_ms2_solde_left_untreated_beside_a_rejected_one_is_not_recorded_either(tmp_path: Path) -> None:
    """Seed 000 §1.2: « Les demandes de solde sont définitivement enregistrées dans le portail
    Ségur seulement lorsque l'ensemble des demandes d'un JSON sont passantes »: with 00002
    rejected, 00001 is not recorded by the ASP, treated or not. Left « deposited », it could
    never be deposited again (« déjà déposée »): its solde lost."""
    registre, _, solde = _ms2_soldes(tmp_path)
    returned = _edit(asp_return(solde, tmp_path / "rs.json", {"00001": "FINMS2000001", "00002": "Facture illisible"}),
                     _untreated("00001"))
    lines, _ = api.ingest_returns([returned], registre)
    assert [(x.numero_editeur, x.result, x.statut) for x in lines] == [
        ("00001", "Rejetée", "rejetee"), ("00002", "Rejetée", "rejetee")]
    assert "toutes ses demandes passent" in lines[0].remark
    assert [s[2] for s in _statuts(registre) if s[0] == solde.name] == ["rejetee", "rejetee"]


def test_an_ms2_solde_file_partly_untreated_is_not_recorded_as_accepted(tmp_path: Path) -> None:
    """The same rule: 00001 accepted beside 00002 left untreated is not known to be recorded by
    the ASP; recorded « accepted », it would never be deposited again, maybe never paid."""
    registre, _, solde = _ms2_soldes(tmp_path)
    returned = _edit(asp_return(solde, tmp_path / "rs.json", {"00001": "FINMS2000001", "00002": "FINMS2000002"}),
                     _untreated("00002"))
    lines, _ = api.ingest_returns([returned], registre)
    assert [x.result for x in lines] == ["Non enregistrée"] * 2
    remark = _words(lines[0].remark)
    assert "L'ASP n'a pas traité 00002" in remark and "vérifiez sur le portail Ségur" in remark
    assert [s[2] for s in _statuts(registre) if s[0] == solde.name] == ["deposee", "deposee"]
    assert len(_history(registre)) == 2  # the avances' return only


def test_an_mdv_solde_accepted_beside_a_rejected_one_stays_accepted(tmp_path: Path) -> None:
    """DTJSONSOLDE-MDV-LGC-VA1 (seed 003), §1.2 says nothing of a file recorded whole, unlike
    seed 000 : « Les demandes rejetées à la suite de ce deuxième contrôle ne sont pas intégrées
    en base. Elles peuvent donc être resoumises directement dans un autre fichier JSON après
    modification de l'erreur. » The ASP's « Demande acceptée » is recorded as it is."""
    from tests.builders_solde import seed_003_rows

    registre = default_path()
    solde = api.convert(workbook(tmp_path / "s.xlsx", seed_003_rows(), "mdv-lgc-solde"), registre.parent, DAY)
    assert solde.errors == [] and len(solde.files) == 1
    asp_return(solde.files[0], tmp_path / "rs.json", {"00002": "FINMDV000002", "00001": "Facture illisible"})
    lines, _ = api.ingest_returns([tmp_path / "rs.json"], registre)
    assert [(x.numero_editeur, x.statut, x.result) for x in lines] == [
        ("00002", "acceptee", "Acceptée"), ("00001", "rejetee", "Rejetée")]
    assert [s[1:3] for s in _statuts(registre)] == [("00002", "acceptee"), ("00001", "rejetee")]


# ------------------------------------------------------------ item 3: acceptance, whatever the spelling


@pytest.mark.parametrize("label", ["Demande acceptée.", "DEMANDE ACCEPTEE", "demande  acceptée !", "Demande-acceptée"])
def test_acceptance_is_read_whatever_case_accents_and_punctuation(tmp_path: Path, label: str) -> None:
    """Issue 17, item 3: « Demande acceptée. » with a numeroASP was recorded as rejected."""
    deposit_file, registre = _avances(tmp_path, "00001")
    returned = asp_return(deposit_file, tmp_path / "r.json", {"00001": "FINMS2000001"})
    _edit(returned, lambda d: d["lignesImport"][0].update(libelleTraitement=label))
    lines, _ = api.ingest_returns([returned], registre)
    assert [(x.result, x.numero_asp, x.remark) for x in lines] == [("Acceptée", "FINMS2000001", "")]
    assert _statuts(registre)[0][2:] == ("acceptee", "FINMS2000001")


def test_an_avance_given_a_numero_asp_is_accepted_and_the_codes_met_are_shown(tmp_path: Path) -> None:
    """Seed 001: « Les demandes acceptées se voient attribuer un numéro ASP dans le fichier JSON »."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    returned = asp_return(deposit_file, tmp_path / "r.json", {"00001": "FINMS2000001", "00002": "Pièce illisible"})
    _edit(returned, lambda d: d["lignesImport"][0].update(libelleTraitement="OK", codeTraitement="A1"))
    result = CliRunner().invoke(app, ["retour", str(returned), "--registre", str(registre), "-o", str(tmp_path / "b.xlsx")])
    assert result.exit_code == 0, result.output
    text = _words(result.output)
    assert "00001 : Acceptée — FINMS2000001" in text and "malgré le libellé « OK »" in text
    assert "Codes de traitement rencontrés : « A1 » : acceptée 1 ; « E12 » : rejetée 1" in text
    assert [s[2] for s in _statuts(registre)] == ["acceptee", "rejetee"]


# ------------------------------------------------------------ item 6: history, contradictions


def test_a_later_return_that_contradicts_is_refused_unless_confirmed(tmp_path: Path) -> None:
    """Issue 17, item 6: a second return replaced FINMS2000001 by FINMS2000099 without a word."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    first = asp_return(deposit_file, tmp_path / "r1.json", {"00001": "FINMS2000001", "00002": "FINMS2000002"})
    api.ingest_returns([first], registre)
    api.ingest_returns([first], registre)  # the same return again: nothing contradicts, recorded once
    later = asp_return(deposit_file, tmp_path / "r2.json", {"00001": "FINMS2000099", "00002": "FINMS2000002"})
    _edit(later, lambda d: d.update(impId=5151))
    runner = CliRunner()
    command = ["retour", str(later), "--registre", str(registre), "-o", str(tmp_path / "b.xlsx")]
    result = runner.invoke(app, command)
    assert result.exit_code == 1
    text = _words(result.output)
    assert "00001 : Non enregistrée — FINMS2000099" in text
    assert "contredit le retour enregistré le" in text and "(fichier r1.json) : numéro ASP FINMS2000001 → FINMS2000099" in text
    assert "relancez avec --confirmer" in text
    assert _statuts(registre)[0][3] == "FINMS2000001"
    assert _history(registre) == [("r1.json", "acceptee", "FINMS2000001", 0), ("r1.json", "acceptee", "FINMS2000002", 0)]

    result = runner.invoke(app, [*command, "--confirmer"])
    assert result.exit_code == 0, result.output
    assert "Remplace, comme demandé (--confirmer), le retour enregistré le" in _words(result.output)
    assert _statuts(registre)[0][3] == "FINMS2000099"
    assert _history(registre)[-2:] == [("r2.json", "acceptee", "FINMS2000099", 1), ("r2.json", "acceptee", "FINMS2000002", 1)]


def test_a_rejection_after_an_acceptance_is_a_contradiction(tmp_path: Path) -> None:
    deposit_file, registre = _avances(tmp_path, "00001")
    api.ingest_returns([asp_return(deposit_file, tmp_path / "r1.json", {"00001": "FINMS2000001"})], registre)
    later = _edit(asp_return(deposit_file, tmp_path / "r2.json", {"00001": "Pièce illisible"}),
                  lambda d: d.update(impId=1))
    [line], _ = api.ingest_returns([later], registre)
    assert line.result == "Non enregistrée" and "Acceptée → Rejetée" in line.remark
    assert _statuts(registre)[0][2] == "acceptee"


def test_a_deposit_answered_under_another_impid_is_said_imported_twice(tmp_path: Path) -> None:
    """Seed 001: impId « sera rempli par l'ASP pour identifier le fichier JSON ». The same deposit
    answered under a second impId was imported twice on the portal (its demandes may be there
    twice): recorded silently. Now said loudly, the answer recorded when it agrees; a copy of
    the first return given again says nothing new."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    verdicts = {"00001": "FINMS2000001", "00002": "Pièce illisible"}
    r1 = _edit(asp_return(deposit_file, tmp_path / "r1.json", verdicts), lambda d: d.update(impId=100))
    r2 = _edit(asp_return(deposit_file, tmp_path / "r2.json", verdicts), lambda d: d.update(impId=200))
    command = ["retour", "--registre", str(registre), "-o", str(tmp_path / "b.xlsx")]
    first = CliRunner().invoke(app, [*command, str(r1)])
    assert first.exit_code == 0 and "Attention" not in first.output, first.output
    text = _words(CliRunner().invoke(app, [*command, str(r2)]).output)
    assert (f"Attention : ce retour porte l'impId 200, et le retour r1.json, enregistré le {_today()} pour le même "
            f"dépôt {deposit_file.name}, l'impId 100 : l'ASP remplit l'impId « pour identifier le fichier JSON » qu'elle "
            "importe, ce dépôt a donc été importé deux fois sur le portail Ségur. Vérifiez-le sur le portail : si ses "
            f"demandes y sont deux fois, signalez-le à l'ASP (numeroAns 0123456789, fichier {deposit_file.name}) pour "
            "qu'elle n'en traite qu'une.") in text
    # a warning of the whole file, on each of its demandes (200 of them): in full once beside the
    # first, and once under « Attention : », not once per demande
    assert text.count("ce dépôt a donc été importé deux fois") == 2
    assert "(ATTENTION : la même que pour la demande précédente)" in text
    assert [s[2:] for s in _statuts(registre)] == [("acceptee", "FINMS2000001"), ("rejetee", None)]
    again = tmp_path / "r1 (1).json"
    again.write_bytes(r1.read_bytes())
    result = CliRunner().invoke(app, [*command, str(again)])
    assert result.exit_code == 0 and "déjà enregistré" in result.output and "Attention" not in result.output


def test_a_contradiction_under_another_impid_is_not_called_the_newer_answer(tmp_path: Path) -> None:
    """The deposit imported a second time: the ASP rejects its demandes (« déjà déposée »). The
    refusal said « si ce retour est bien le plus récent, relancez avec --confirmer »: it is, and,
    confirmed, the avance accepted by the first import was recorded rejected, its numéro ASP lost
    (deposited again under a new number, funded twice). It answers another import: said so."""
    deposit_file, registre = _avances(tmp_path, "00001")
    r1 = _edit(asp_return(deposit_file, tmp_path / "r1.json", {"00001": "FINMS2000001"}), lambda d: d.update(impId=100))
    api.ingest_returns([r1], registre)
    r2 = _edit(asp_return(deposit_file, tmp_path / "r2.json", {"00001": "Demande déjà déposée"}),
               lambda d: d.update(impId=300))
    text = _refused(["retour", str(r2), "--registre", str(registre), "-o", str(tmp_path / "b.xlsx")])
    assert ("Acceptée → Rejetée. Rien n'est enregistré pour ce fichier : si l'ASP vous confirme que ce retour, d'un "
            "autre import de ce dépôt (impId 300), remplace sa première réponse, relancez avec --confirmer.") in text
    assert "si ce retour est bien le plus récent" not in text
    assert "Attention : ce retour porte l'impId 300, et le retour r1.json" in text
    assert [s[2:] for s in _statuts(registre)] == [("acceptee", "FINMS2000001")]
    # confirmed, the user's word that the ASP replaced its first answer: recorded, not said twice imported
    result = CliRunner().invoke(app, ["retour", str(r2), "--registre", str(registre), "-o", str(tmp_path / "b.xlsx"),
                                      "--confirmer"])
    assert result.exit_code == 0 and "Attention" not in result.output, result.output
    assert [s[2:] for s in _statuts(registre)] == [("rejetee", None)]


def test_one_impid_answering_two_deposit_files_is_said(tmp_path: Path) -> None:
    """An impId identifies one imported file: a return of another deposit under an impId
    recorded already was recorded silently (one of the two returns is not what it seems)."""
    out = tmp_path / "depot"
    one = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY).files[0]
    two = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), out, DAY).files[0]
    registre = default_path()
    api.ingest_returns([_edit(asp_return(one, tmp_path / "r1.json", {"00001": "FINMS2000001"}),
                              lambda d: d.update(impId=100))], registre)
    r2 = _edit(asp_return(two, tmp_path / "r2.json", {"00002": "FINMS2000002"}), lambda d: d.update(impId=100))
    [line], _ = api.ingest_returns([r2], registre)
    assert line.result == "Acceptée"
    assert _words(line.warning) == (
        f"l'impId 100 de ce retour est aussi celui du retour r1.json, enregistré le {_today()} pour un autre dépôt, "
        f"{one.name} : l'ASP remplit l'impId « pour identifier le fichier JSON », un seul fichier par impId. L'un de "
        "ces deux fichiers de retour n'est pas celui qu'il paraît (modifié, ou rendu pour un autre dépôt) : vérifiez "
        f"sur le portail Ségur les réponses de l'ASP aux dépôts {two.name} et {one.name}.")
    assert line.remark.startswith("ATTENTION : l'impId 100 de ce retour")


def test_an_avance_rejected_with_confirmer_loses_its_numero_asp(tmp_path: Path) -> None:
    """Accepted with FINMS2000001, then rejected (--confirmer): the ASP's number went with the
    acceptance; etat showed it on a rejected demande (the history keeps it)."""
    deposit_file, registre = _avances(tmp_path, "00001")
    api.ingest_returns([asp_return(deposit_file, tmp_path / "r1.json", {"00001": "FINMS2000001"})], registre)
    later = _edit(asp_return(deposit_file, tmp_path / "r2.json", {"00001": "Pièce illisible"}), lambda d: d.update(impId=5))
    api.ingest_returns([later], registre, confirm=True)
    assert [s[2:] for s in _statuts(registre)] == [("rejetee", None)]
    status, _ = api.ledger_status(registre, tmp_path / "etat.xlsx")
    assert status.demandes["numeroASP"].to_list() == [None]
    assert _history(registre) == [("r1.json", "acceptee", "FINMS2000001", 0), ("r2.json", "rejetee", None, 1)]


def test_a_confirmed_return_that_changes_an_avance_names_its_solde_deposited_already(tmp_path: Path) -> None:
    """Its solde was deposited with the numeroASP the avance had (seed 000: the solde names its
    avance's dossier ASP); a later return gives the avance another number, then rejects it: each
    time, the solde already deposited is named, with what to do."""
    deposit_file, registre = _avances(tmp_path, "00001")
    api.ingest_returns([asp_return(deposit_file, tmp_path / "r1.json", {"00001": "FINMS2000001"})], registre)
    solde = api.convert(workbook(tmp_path / "s.xlsx", _solde("ms2-dui-pds-solde", "00001", "FINMS2000001"),
                                 "ms2-dui-pds-solde"), registre.parent, DAY).files[0]
    other = _edit(asp_return(deposit_file, tmp_path / "r2.json", {"00001": "FINMS2000099"}), lambda d: d.update(impId=7))
    [line], _ = api.ingest_returns([other], registre, confirm=True)
    assert line.result == "Acceptée"
    assert (f"Son solde est déjà déposé (fichier {solde.name}) avec le numéro ASP FINMS2000001 : s'il n'a pas été "
            f"déposé sur le portail, retirez-le (« xl2segur retirer {solde.name} »)") in _words(line.remark)
    rejected = _edit(asp_return(deposit_file, tmp_path / "r3.json", {"00001": "Pièce illisible"}), lambda d: d.update(impId=8))
    [line], _ = api.ingest_returns([rejected], registre, confirm=True)
    assert line.result == "Rejetée"
    assert f"Son solde est déjà déposé (fichier {solde.name}) pour cette avance désormais rejetée" in _words(line.remark)


@pytest.mark.parametrize("confirm", [False, True])
def test_two_returns_of_one_command_that_contradict_each_other_leave_the_choice_to_the_user(
        tmp_path: Path, confirm: bool) -> None:
    """`retour *.json --confirmer` with an old and a new return of the same file: the order of
    the arguments (the shell's, alphabetical) chose which answer stayed. Nothing tells which is
    the newer: the second is not recorded, and the user is told how to choose."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    old = asp_return(deposit_file, tmp_path / "b.json", {"00001": "FINMS2000001", "00002": "Pièce illisible"})
    new = _edit(asp_return(deposit_file, tmp_path / "a.json", {"00001": "FINMS2000001", "00002": "FINMS2000002"}),
                lambda d: d.update(impId=77))
    lines, _ = api.ingest_returns([new, old], registre, confirm=confirm)
    assert [(x.source, x.result) for x in lines] == [("a.json", "Acceptée")] * 2 + [("b.json", "Non enregistrée")] * 2
    remark = _words(lines[3].remark)
    assert "contredit le retour a.json, donné dans la même commande" in remark
    assert "si c'est celui-ci, enregistrez-le seul, avec --confirmer" in remark
    assert [s[2:] for s in _statuts(registre)] == [("acceptee", "FINMS2000001"), ("acceptee", "FINMS2000002")]


def test_confirmer_among_several_returns_confirms_no_contradiction_the_user_never_saw(tmp_path: Path) -> None:
    """`retour r1b.json` said r1b contradicts r1, « relancez avec --confirmer »; the user ran
    `retour retours/*.json --confirmer`, where r2b, never shown, contradicted r2 too: both were
    recorded, 00002 lost its numéro ASP without a word. --confirmer confirms one return given
    alone: among several, none; each says the command that confirms it alone."""
    first, registre = _avances(tmp_path, "00001")
    second = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), first.parent, DAY).files[0]
    api.ingest_returns([asp_return(first, tmp_path / "r1.json", {"00001": "FINMS2000001"}),
                        asp_return(second, tmp_path / "r2.json", {"00002": "FINMS2000002"})], registre)
    r1b = _edit(asp_return(first, tmp_path / "retours ASP" / "r1b.json", {"00001": "Pièce illisible"}),
                lambda d: d.update(impId=10))
    r2b = _edit(asp_return(second, tmp_path / "retours ASP" / "r2b.json", {"00002": "Pièce illisible"}),
                lambda d: d.update(impId=11))
    assert "relancez avec --confirmer" in _refused(["retour", str(r1b), "-o", str(tmp_path / "b1.xlsx")])
    before = _statuts(registre), _history(registre)
    text = _refused(["retour", str(tmp_path / "retours ASP" / "*.json"), "--confirmer", "-o", str(tmp_path / "b2.xlsx")])
    assert (_statuts(registre), _history(registre)) == before
    for returned in (r1b, r2b):
        assert (f'relancez avec ce seul fichier et --confirmer (« xl2segur retour "{returned}" --confirmer ») : '  # to paste as is
                "--confirmer ne vaut que pour un fichier de retour donné seul, il ne confirme jamais une "
                "contradiction que vous n'avez pas vue.") in text
    lines, _ = api.ingest_returns([r1b], registre, confirm=True)  # the one seen, given alone
    assert [x.result for x in lines] == ["Rejetée"]
    assert [s[1:] for s in _statuts(registre)] == [("00001", "rejetee", None), ("00002", "acceptee", "FINMS2000002")]


def test_the_contradiction_is_checked_under_the_write_lock_it_is_recorded_under(tmp_path: Path, monkeypatch) -> None:
    """Two `retour` at once must not both find the ledger free of contradiction, then both
    record: while one checks, no other writer can get in (until it has recorded)."""
    from converter import returns

    deposit_file, registre = _avances(tmp_path, "00001")
    checked = []
    contradiction = returns._contradiction

    def check_while_another_writes(line, row):
        other = sqlite3.connect(registre, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
        checked.append(line.numero_editeur)
        return contradiction(line, row)

    monkeypatch.setattr(returns, "_contradiction", check_while_another_writes)
    api.ingest_returns([asp_return(deposit_file, tmp_path / "r1.json", {"00001": "FINMS2000001"})], registre)
    assert checked == ["00001"]
    assert _statuts(registre)[0][2:] == ("acceptee", "FINMS2000001")


# ------------------------------------------------------------ item 8: return files as they arrive


def test_a_return_saved_with_a_utf8_bom_is_read(tmp_path: Path) -> None:
    deposit_file, registre = _avances(tmp_path, "00001")
    returned = asp_return(deposit_file, tmp_path / "r.json", {"00001": "FINMS2000001"})
    returned.write_bytes(b"\xef\xbb\xbf" + returned.read_bytes())
    lines, _ = api.ingest_returns([returned], registre)
    assert [x.result for x in lines] == ["Acceptée"]


def test_a_retour_interrupted_by_ctrl_c_says_what_is_kept_and_runs_again(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C between two return files: the first is recorded whole, the second not at all;
    the command says so in French (typer alone ended with 130 and no word), and run again it
    records the second and recognises the first."""
    from converter import returns

    first, registre = _avances(tmp_path, "00001")
    second = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), tmp_path / "depot", DAY).files[0]
    given = [asp_return(first, tmp_path / "retours" / first.name, {"00001": "FINMS2000001"}),
             asp_return(second, tmp_path / "retours" / second.name, {"00002": "FINMS2000002"})]
    ingest_file = returns._ingest_file

    def interrupted_at_the_second(returned, *args, **kwargs):
        if returned.path.name == second.name:
            raise KeyboardInterrupt
        return ingest_file(returned, *args, **kwargs)

    monkeypatch.setattr(returns, "_ingest_file", interrupted_at_the_second)
    result = CliRunner().invoke(app, ["retour", *map(str, given), "--registre", str(registre)])
    assert result.exit_code == 130, result.output
    assert "Commande interrompue (Ctrl-C)" in result.output and "relancez la même commande" in _words(result.output)
    assert [s[2] for s in _statuts(registre)] == ["acceptee", "deposee"]
    monkeypatch.setattr(returns, "_ingest_file", ingest_file)
    result = CliRunner().invoke(app, ["retour", *map(str, given), "--registre", str(registre)])
    assert result.exit_code == 0, result.output
    assert [s[2] for s in _statuts(registre)] == ["acceptee", "acceptee"]
    assert "déjà enregistré" in result.output


def test_a_return_s_own_texts_are_shown_on_one_line_that_commands_nothing(tmp_path: Path) -> None:
    """The return file's texts (numeroASP, libellé, codeTraitement) reach the console as a cell's
    value does: a control character by its code, a line break « ↵ », a long text abridged."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    given = asp_return(deposit_file, tmp_path / "retours" / deposit_file.name,
                       {"00001": "FIN\x1b[2JMS200001", "00002": "Rejet\npour " + "x" * 5000})
    _edit(given, lambda data: data["lignesImport"][0].update(codeTraitement="0\x07"))
    result = CliRunner().invoke(app, ["retour", str(given), "--registre", str(registre)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "FIN\\x1b[2JMS200001" in result.output and "« 0\\x07 »" in result.output
    assert "Rejet↵pour xxx" in result.output and "(valeur de 5011 caractères, abrégée)" in result.output
    assert "x" * 1000 not in result.output
    assert [s[3] for s in _statuts(registre)] == ["FIN\x1b[2JMS200001", None]  # recorded as given


@pytest.mark.parametrize("command", ["retour", "importer"])
def test_a_workbook_given_for_a_json_file_is_named_as_such_not_as_a_wrong_encoding(tmp_path: Path, command: str) -> None:
    """`retour retours/*` takes the review workbook an earlier retour wrote in that folder;
    « not encoded in UTF-8 » sent the user looking for an encoding."""
    _, registre = _avances(tmp_path, "00001")
    book = workbook(tmp_path / "retours" / "retour-ASP-20240612.xlsx", avance_rows("00001"))
    result = CliRunner().invoke(app, [command, str(book), "--registre", str(registre)])
    assert result.exit_code == 2, result.output
    said = _words(result.output)
    assert "n'est pas un fichier JSON : c'est une archive .zip, comme un classeur .xlsx ou .ods" in said
    assert "UTF-8" not in said.split("c'est une archive")[0]


def test_a_truncated_return_gets_a_french_message(tmp_path: Path) -> None:
    deposit_file, registre = _avances(tmp_path, "00001")
    returned = asp_return(deposit_file, tmp_path / "r.json", {"00001": "FINMS2000001"})
    returned.write_bytes(returned.read_bytes()[:300])
    result = CliRunner().invoke(app, ["retour", str(returned), "--registre", str(registre)])
    assert result.exit_code == 2
    text = _words(result.output)
    assert "n'est pas un fichier JSON valide (il s'arrête avant la fin (ligne 1, colonne" in text
    assert "téléchargement a sans doute été interrompu" in text
    assert "unexpected" not in text and "end of data" not in text
    (tmp_path / "latin1.json").write_bytes('{"numeroAns": "é"}'.encode("latin-1"))
    with pytest.raises(OutputError, match="il n'est pas encodé en UTF-8"):
        api.ingest_returns([tmp_path / "latin1.json"], registre)
    (tmp_path / "vide.json").write_bytes(b"\xef\xbb\xbf")
    with pytest.raises(OutputError, match=r"n'est pas un fichier JSON valide \(il est vide\)"):
        api.ingest_returns([tmp_path / "vide.json"], registre)


def test_the_deposit_file_given_as_a_return_is_refused(tmp_path: Path) -> None:
    deposit_file, registre = _avances(tmp_path, "00001")
    result = CliRunner().invoke(app, ["retour", str(deposit_file), "--registre", str(registre)])
    assert result.exit_code == 2
    assert "c'est un fichier de dépôt, pas un retour" in _words(result.output)
    assert _statuts(registre)[0][2] == "deposee" and not list(registre.parent.glob("retour-ASP-*"))


def test_a_file_the_asp_answered_is_kept_though_its_dead_run_left_it_pending_and_it_moved(tmp_path: Path) -> None:
    """A conversion killed after naming a file, before marking it done: the user uploads it,
    files it away in another folder, records its return. The next conversion into that folder
    took it for a file that never got its name and dropped it: « FOREIGN KEY constraint failed »
    (its return holds it), a traceback, every conversion into that folder stopped. The ASP
    answered it: it was named and uploaded, it is kept."""
    deposit_file, registre = _avances(tmp_path, "00001")
    with sqlite3.connect(registre) as db:
        db.execute("UPDATE fichiers SET en_attente = '0123456789abcdef'")  # a run that is no more
    api.ingest_returns([asp_return(deposit_file, tmp_path / "r.json", {"00001": "FINMS2000001"})], registre)
    (tmp_path / "archive").mkdir()
    deposit_file.rename(tmp_path / "archive" / deposit_file.name)
    outcome = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), deposit_file.parent, DAY)
    assert outcome.errors == [] and deposited(outcome.files[0]) == ["00002"]
    [kept] = [i for i in outcome.warnings if i.code.startswith("fichier_")]
    assert kept.code == "fichier_adopte_repondu" and "l'ASP y a répondu" in kept.message
    assert [s[1:] for s in _statuts(registre)] == [("00001", "acceptee", "FINMS2000001"), ("00002", "deposee", None)]
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT count(*) FROM fichiers WHERE en_attente IS NOT NULL").fetchone() == (0,)


def test_a_return_of_another_numero_ans_names_it(tmp_path: Path) -> None:
    deposit_file, registre = _avances(tmp_path, "00001")
    returned = _edit(asp_return(deposit_file, tmp_path / "r.json", {"00001": "FINMS2000001"}),
                     lambda d: d.update(numeroAns="9876543210"))
    [line], _ = api.ingest_returns([returned], registre)
    assert line.result == "Inconnue du registre"
    assert "aucun fichier déposé pour le numeroAns 9876543210 (numeroAns du registre : 0123456789)" in line.remark


def test_a_return_of_a_withdrawn_file_says_it_was_withdrawn_and_so_uploaded(tmp_path: Path) -> None:
    """The ASP answers a file withdrawn as « never uploaded »: it was uploaded. Not « no deposit
    file holds these demandes »: the ledger knows that file, and its demandes, freed by the
    withdrawal, must not go a second time. Nothing is recorded."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    returned = asp_return(deposit_file, tmp_path / "r.json", {"00001": "FINMS2000001", "00002": "FINMS2000002"})
    api.withdraw(deposit_file.name, registre)
    result = CliRunner().invoke(app, ["retour", str(returned), "--registre", str(registre), "-o", str(tmp_path / "b.xlsx")])
    assert result.exit_code == 1
    text = _words(result.output)
    assert ("00001 : Non enregistrée — FINMS2000001 (Retour reconnu, non enregistré : ces demandes sont exactement celles "
            "du fichier JSON-0123456789-20240312-001.json, retiré du registre le") in text
    assert "si l'ASP y répond, il a été déposé" in text and "ne doivent pas être déposées une seconde fois" in text
    assert "ne contient ces numéros" not in text
    assert [s[2] for s in _statuts(registre)] == ["retiree", "retiree"] and _history(registre) == []


def test_a_withdrawal_of_a_file_uploaded_after_all_is_undone_then_its_return_recorded(tmp_path: Path) -> None:
    """The file withdrawn as « never uploaded » was uploaded: the ASP answers it. Its demandes,
    freed, could be deposited a second time, and nothing undid the withdrawal. `retirer
    --annuler` does: the file comes back from retires/, its demandes are deposited again (the
    same workbook converted again is refused), and its return is recorded."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    returned = asp_return(deposit_file, tmp_path / "r.json", {"00001": "FINMS2000001", "00002": "FINMS2000002"})
    api.withdraw(deposit_file.name, registre)
    assert not deposit_file.exists()
    refused = CliRunner().invoke(app, ["retour", str(returned), "--registre", str(registre), "-o", str(tmp_path / "b.xlsx")])
    assert f"xl2segur retirer --annuler {deposit_file.name}" in _words(refused.output)
    undone = CliRunner().invoke(app, ["retirer", "--annuler", deposit_file.name, "--registre", str(registre)])
    assert undone.exit_code == 0, undone.output
    assert "Retrait annulé" in _words(undone.output) and deposit_file.is_file()
    assert [s[2] for s in _statuts(registre)] == ["deposee", "deposee"]
    again = api.convert(workbook(tmp_path / "again.xlsx", avance_rows("00001", "00002")), tmp_path / "juin", DAY)
    assert not again.files and {(i.code, i.numero_editeur) for i in again.errors} == {
        ("deja_deposee", "00001"), ("deja_deposee", "00002")}
    recorded = CliRunner().invoke(app, ["retour", str(returned), "--registre", str(registre), "-o", str(tmp_path / "c.xlsx")])
    assert recorded.exit_code == 0, recorded.output
    assert [s[2:] for s in _statuts(registre)] == [("acceptee", "FINMS2000001"), ("acceptee", "FINMS2000002")]


def test_a_withdrawal_undone_beside_a_foreign_zip_of_its_zip_name_brings_the_file_back_under_its_name(
        tmp_path: Path) -> None:
    """A zip no ledger knows, under the name of the withdrawn file's zip, in the deposit folder:
    `retirer --annuler` brought the file back as « JSON-…-001 (2).json » (a name the portal
    does not take, and not the one the ledger records) and said « à sa place ». The file gets
    its own name; its zip stays in retires/, said so; the foreign zip is neither replaced nor
    renamed."""
    registre = tmp_path / "registre.sqlite"
    made = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "depot", DAY,
                       pieces=pieces_folder(tmp_path, "00001"), registre=registre)
    (deposit_file,), (archive,) = made.files, made.archives
    ours = archive.read_bytes()
    api.withdraw(deposit_file.name, registre)
    archive.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip of someone else's
    undone = CliRunner().invoke(app, ["retirer", "--annuler", deposit_file.name, "--registre", str(registre)])
    assert undone.exit_code == 0, undone.output
    aside = deposit_file.parent / "retires" / archive.name
    assert sorted(p.name for p in deposit_file.parent.iterdir()) == sorted([deposit_file.name, archive.name, "retires"])
    assert archive.read_bytes() == b"PK\x05\x06" + b"\x00" * 18 and aside.read_bytes() == ours
    text = _words(undone.output)
    assert f"Le fichier est à sa place : {deposit_file}" in text
    assert f"l'archive « {archive.name} » de ce fichier reste mise de côté" in text
    assert "ni remplacé ni renommé" in text
    assert [s[2] for s in _statuts(registre)] == ["deposee"]


def test_a_withdrawal_by_its_path_elsewhere_is_undone_from_where_it_was_set_aside(tmp_path: Path) -> None:
    """The user moved the file into another folder, then withdrew it by that path: it went into
    that folder's retires/. `retirer --annuler` looked only in the retires/ of the folder it was
    written in: the demandes counted as deposited again, the file stayed set aside, and the
    command said nothing of it. Given that path, it comes back there; given its name alone, the
    command says the file is not back, and how to bring it."""
    deposit_file, registre = _avances(tmp_path, "00001")
    moved = tmp_path / "ailleurs" / deposit_file.name
    moved.parent.mkdir()
    deposit_file.rename(moved)
    for given in (deposit_file.name, str(moved)):
        api.withdraw(str(moved), registre)
        assert not moved.exists() and (moved.parent / "retires" / moved.name).is_file()
        undone = CliRunner().invoke(app, ["retirer", "--annuler", given, "--registre", str(registre)])
        assert undone.exit_code == 0, undone.output
        assert [s[2] for s in _statuts(registre)] == ["deposee"]
        text = _words(undone.output)
        if given == deposit_file.name:  # nothing tells where it was set aside: said, not guessed
            assert "il n'est pas revenu" in text and "xl2segur retirer --annuler DOSSIER/JSON-….json" in text, text
            assert not moved.exists()
            again = CliRunner().invoke(app, ["retirer", "--annuler", str(moved), "--registre", str(registre)])
            assert again.exit_code == 0 and moved.is_file(), again.output  # as it says: brought back
        else:
            assert moved.is_file() and f"Le fichier est à sa place : {moved}" in text, text
            assert "n'est pas revenu" not in text


def test_a_withdrawal_is_not_undone_once_its_demandes_were_deposited_again(tmp_path: Path) -> None:
    """Converted again after the withdrawal: undone, each demande would count twice. Refused,
    naming the other file; nothing changes. Nor is a file that was never withdrawn « restored »."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    api.withdraw(deposit_file.name, registre)
    again = api.convert(workbook(tmp_path / "again.xlsx", avance_rows("00002")), tmp_path / "juin", DAY)
    (other,) = again.files
    before = _statuts(registre)
    refused = CliRunner().invoke(app, ["retirer", "--annuler", deposit_file.name, "--registre", str(registre)])
    assert refused.exit_code == 2
    assert f"déposées de nouveau depuis son retrait : 00002 ({other.name})" in _words(refused.output)
    assert _statuts(registre) == before and not deposit_file.exists()
    never = CliRunner().invoke(app, ["retirer", "--annuler", other.name, "--registre", str(registre)])
    assert never.exit_code == 2 and "n'est pas retiré du registre" in _words(never.output)


# ------------------------------------------------------------ item 4: a number reused by another demande


def test_a_numero_reused_by_another_demande_asks_for_a_new_number(tmp_path: Path) -> None:
    """Issue 17, item 4: another demande (other FINESS, other amount) under a number already
    deposited was refused as « déjà déposée … rien à corriger »."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    rows = avance_rows("00001", "00002", "00003")
    rows["Demandes"][0]["montantSegurHT"] = "1200.00"  # 00001: another amount
    for row in rows["FINESS Géo"] + rows["Scénarios"]:
        if row["numeroEditeur"] == "00001" and row["FINESSGeo"] == "234567891":
            row["FINESSGeo"] = "010000032"  # and another ESMS
    outcome = api.convert(workbook(tmp_path / "b.xlsx", rows), registre.parent, DAY)
    assert sorted((i.code, i.numero_editeur) for i in outcome.errors) == [
        ("deja_deposee", "00002"), ("numero_reutilise", "00001")]
    reused = next(i for i in outcome.errors if i.code == "numero_reutilise")
    assert (reused.sheet, reused.row, reused.column, reused.value) == ("Demandes", 2, "A", "00001")
    assert (f"déjà celui d'une autre demande, déposée dans le fichier {deposit_file.name} "
            "(montant HT 4866.67, FINESS 123456789, 234567891, 345678912)") in reused.message
    assert "celle-ci (montant HT 1200.00, FINESS 010000032, 123456789, 345678912)" in reused.message
    assert "nouveau numéro éditeur de 5 caractères" in reused.message
    assert deposited(outcome.files[0]) == ["00003"]

    result = CliRunner().invoke(app, ["convertir", str(tmp_path / "b.xlsx"), "-o", str(registre.parent), "-q",
                                      "--date-depot", "20240312"])
    text = _words(result.output)
    assert result.exit_code == 1 and "à corriger puis reconvertir" in text and "rien à corriger" not in text


def test_a_demande_corrected_after_its_deposit_is_not_told_only_to_take_a_new_number(tmp_path: Path) -> None:
    """The same demande, its amount corrected after the conversion: a new number alone would put
    it in a second deposit file, twice on the portal. The message gives the other way: withdraw
    the file not uploaded yet, then convert again; followed, it is deposited once, same number."""
    deposit_file, registre = _avances(tmp_path, "00001")
    rows = avance_rows("00001")
    rows["Demandes"][0]["montantSegurHT"] = "4900.00"
    corrected = workbook(tmp_path / "b.xlsx", rows)
    [reused] = api.convert(corrected, registre.parent, DAY).errors
    assert reused.code == "numero_reutilise"
    assert ("Si c'est au contraire la même demande, corrigée depuis son dépôt, ne changez pas son numéro : elle serait "
            f"déposée deux fois ; si le fichier {deposit_file.name} n'a pas été déposé sur le portail, retirez-le "
            "(« xl2segur retirer ») puis reconvertissez, sinon attendez le retour de l'ASP.") in reused.message
    api.withdraw(deposit_file.name, registre)
    again = api.convert(corrected, registre.parent, DAY)
    assert again.errors == [] and deposited(again.files[0]) == ["00001"]


def test_the_same_demande_converted_twice_keeps_nothing_to_correct(tmp_path: Path) -> None:
    _, registre = _avances(tmp_path, "00001")
    result = CliRunner().invoke(app, ["convertir", str(tmp_path / "a.xlsx"), "-o", str(registre.parent), "-q",
                                      "--date-depot", "20240312"])
    assert result.exit_code == 1
    assert "refusées parce que déjà déposées (rien à corriger, ne le reconvertissez pas)" in _words(result.output)


# ------------------------------------------------------------ item 10: a rejected solde refills its workbook


def test_after_a_rejected_solde_the_solde_workbook_is_refilled_from_it(tmp_path: Path) -> None:
    """Issue 17, item 10: the regenerated solde workbook was blank."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    api.ingest_returns([asp_return(deposit_file, tmp_path / "ra.json",
                                   {"00001": "FINMS2000001", "00002": "FINMS2000002"})], registre)
    rows = _solde("ms2-dui-pds-solde", "00001", "FINMS2000001")
    rows["Demandes"][0].update(dateFacture="15/06/2024", montantSegurHTFacture="4800.00")
    solde = api.convert(workbook(tmp_path / "s.xlsx", rows, "ms2-dui-pds-solde"), registre.parent, DAY)
    assert solde.errors == [] and len(solde.files) == 1
    asp_return(solde.files[0], tmp_path / "rs.json", {"00001": "La facture est illisible"})
    api.ingest_returns([tmp_path / "rs.json"], registre)

    _, [(book, count)] = api.write_solde_workbooks(registre, "ms2-dui-pds-avance", tmp_path / "w")
    assert count == 2
    # the invoice date as a date, its amount as a number (they were text before)
    assert [(d["numeroEditeur"], d["numeroASP"], d["dateFacture"], d["montantSegurHTFacture"])
            for d in sheet_rows(book, "Demandes")] == [
        ("00001", "FINMS2000001", "2024-06-15 00:00:00", "4800"), ("00002", "FINMS2000002", None, None)]
    og = {r["numeroEditeur"]: r["nbreDossiersDUIActifs"] for r in sheet_rows(book, "OG")}
    assert og["00001"] == rows["OG"][0]["nbreDossiersDUIActifs"] and og["00002"] is None


@pytest.mark.parametrize("content", [
    b"", b"\xef\xbb\xbf", "{}".encode("utf-16"), b"PK\x03\x04\x00\x00binary", b"null", b'"texte"',
    b'{"numeroAns": "0123456789", "lignesImport": [1]}', b'{"numeroAns": "0123456789", "lignesImport": []}',
    b'{"numeroAns": "0123456789", "SIRET": 5, "lignesImport": [{"numeroEditeur": "00001", "numLigne": "x"}]}',
    b"[" * 100_000,
])
@pytest.mark.parametrize("command", ["retour", "importer"])
def test_any_file_a_user_can_give_gets_a_french_answer(tmp_path: Path, content: bytes, command: str) -> None:
    _, registre = _avances(tmp_path, "00001")
    given = tmp_path / "donne.json"
    given.write_bytes(content)
    result = CliRunner().invoke(app, [command, str(given), "--registre", str(registre)])
    assert result.exit_code in (1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and ("Erreur :" in result.output or "non inscrit" in result.output)
    assert _statuts(registre)[0][2] == "deposee"


def _r1_then_r2_confirmed(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(ledger, r1, r2): two avances deposited; r1 accepted both, then r2, another import
    (impId 99), rejected 00001 and was recorded with --confirmer."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    r1 = asp_return(deposit_file, tmp_path / "r1.json", {"00001": "FINMS2000001", "00002": "FINMS2000002"})
    api.ingest_returns([r1], registre)
    r2 = _edit(asp_return(deposit_file, tmp_path / "r2.json", {"00001": "Pièce illisible", "00002": "FINMS2000002"}),
               lambda d: d.update(impId=99))
    api.ingest_returns([r2], registre, confirm=True)
    return registre, r1, r2


@pytest.mark.parametrize("confirm", [False, True])
def test_a_return_replaced_since_given_again_among_the_others_changes_nothing(tmp_path: Path, confirm: bool) -> None:
    """r1 recorded, then r2 replaced it with --confirmer; `retour retours/*.json` (both given
    again, r1 first) said r1 contradicted the ledger and asked for --confirmer, which then
    brought r1's outdated answer back (and refused r2, « given in the same command »). A return
    already recorded is recorded once: it changes nothing, and says what replaced it."""
    registre, r1, r2 = _r1_then_r2_confirmed(tmp_path)
    history = _history(registre)
    runner = CliRunner()
    result = runner.invoke(app, ["retour", str(r1), str(r2), "--registre", str(registre), "-o", str(tmp_path / "b.xlsx"),
                                 *(["--confirmer"] if confirm else [])])
    assert result.exit_code == 0, result.output
    text = _words(result.output)
    assert ("r1.json — 00001 : Acceptée — FINMS2000001 (Ce retour est déjà enregistré le" in text
            and "(fichier r1.json), et le retour r2.json, enregistré le" in text
            and "l'a remplacé depuis (Rejetée) : rien n'est changé.)" in text), text
    assert "r2.json — 00001 : Rejetée — Pièce illisible (Ce retour est déjà enregistré le" in text
    assert "Non enregistrée" not in text and "--confirmer" not in text
    assert [s[2:] for s in _statuts(registre)] == [("rejetee", None), ("acceptee", "FINMS2000002")]
    assert _history(registre) == history


def test_a_mistaken_confirmer_is_undone_by_the_older_return_given_alone_with_confirmer(tmp_path: Path) -> None:
    """r2 recorded with --confirmer by mistake (it was the older return): r1 given again only
    said « déjà enregistré … rien n'est changé », --confirmer or not; nothing brought its answer
    back. Given alone with --confirmer it does, said so and kept in the history; given alone
    without it, the way back is said."""
    registre, r1, r2 = _r1_then_r2_confirmed(tmp_path)
    command = ["retour", str(r1), "--registre", str(registre), "-o", str(tmp_path / "b.xlsx")]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    assert ("Si c'est au contraire ce retour-ci le plus récent (r2.json enregistré par erreur), donnez-le seul avec "
            "--confirmer : il le remplacera de nouveau.") in _words(result.output)
    assert [s[2:] for s in _statuts(registre)] == [("rejetee", None), ("acceptee", "FINMS2000002")]
    result = CliRunner().invoke(app, [*command, "--confirmer"])
    assert result.exit_code == 0, result.output
    text = _words(result.output)
    assert ("r1.json — 00001 : Acceptée — FINMS2000001 (Rétabli, comme demandé (--confirmer) : ce retour, enregistré "
            "le") in text and "(fichier r1.json), remplace de nouveau le retour enregistré le" in text
    assert "(fichier r2.json) : Rejetée → Acceptée.)" in text
    assert [s[2:] for s in _statuts(registre)] == [("acceptee", "FINMS2000001"), ("acceptee", "FINMS2000002")]
    assert _history(registre)[-2:] == [("r1.json", "acceptee", "FINMS2000001", 1), ("r1.json", "acceptee", "FINMS2000002", 1)]
    history = _history(registre)
    result = CliRunner().invoke(app, [*command, "--confirmer"])  # run again: nothing new
    assert result.exit_code == 0 and "rien de nouveau" in _words(result.output)
    assert _history(registre) == history


def test_an_avance_rejected_then_accepted_beside_its_redeposit_under_a_new_numero_is_said_funded_twice(
        tmp_path: Path) -> None:
    """Seed 001: « Si la demande est rejetée, un nouveau numéro unique doit être généré par
    l'éditeur pour soumettre à nouveau cette demande. » 00001 rejected, the same client deposited
    again as 00003; a later return, confirmed, says 00001 was accepted after all: both live, the
    client funded twice (seed 002: « Chaque Client éligible ne peut bénéficier que d'une
    Prestation Ségur financée »), without a word. Nothing tells which one the ASP will pay:
    retour and etat say both numbers, their files, the FINESS they share and what to do."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    api.ingest_returns([asp_return(deposit_file, tmp_path / "r1.json",
                                   {"00001": "Pièce illisible", "00002": "FINMS2000002"})], registre)
    again = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00003")), deposit_file.parent, DAY).files[0]
    status, _ = api.ledger_status(registre, tmp_path / "etat.xlsx")
    assert status.twice == []  # the redeposit the seed asks for: nothing to say
    later = _edit(asp_return(deposit_file, tmp_path / "r2.json", {"00001": "FINMS2000001", "00002": "FINMS2000002"}),
                  lambda d: d.update(impId=5))
    result = CliRunner().invoke(app, ["retour", str(later), "--registre", str(registre), "-o",
                                      str(tmp_path / "bilan.xlsx"), "--confirmer"])
    assert result.exit_code == 0, result.output
    said = (f"l'avance 00001 (fichier {deposit_file.name}, acceptée) avait été rejetée par l'ASP, et l'avance 00003 "
            f"(fichier {again.name}, déposée, sans retour de l'ASP), déposée depuis ce rejet sous un nouveau numéro "
            "éditeur, a des FINESSGeo en commun avec elle (123456789, 234567891) : toutes deux sont en cours "
            f"au registre, le même client serait financé deux fois. Vérifiez sur le portail Ségur : si le fichier "
            f"{again.name} n'a pas été déposé, retirez-le (« xl2segur retirer {again.name} ») ; s'il l'a été, "
            "signalez-le à l'ASP (demandes 00001 et 00003, numeroAns 0123456789) pour qu'elle n'en finance qu'une.")
    text = _words(result.output)
    assert f"Attention : {said}" in text and f"ATTENTION : {said}" in text
    assert text.count("Attention :") == 1  # 00002, deposited before the rejection, is not named
    assert [s[1:3] for s in _statuts(registre)] == [("00001", "acceptee"), ("00002", "acceptee"), ("00003", "deposee")]
    shown = CliRunner().invoke(app, ["etat", "--registre", str(registre), "-o", str(tmp_path / "etat2.xlsx")])
    assert shown.exit_code == 0 and f"Attention : {said}" in _words(shown.output)
    # the workbooks users keep and print say it too, not the console only: the etat's « Synthèse »
    # under its figures, the bilan's remark wrapped (overflowing, it shrank the page printed one wide)
    summary = openpyxl.load_workbook(tmp_path / "etat2.xlsx")["Synthèse"]
    assert [c.value for row in summary.iter_rows() for c in row if "Attention" in str(c.value)] == [
        f"Attention : {said}"]
    bilan = openpyxl.load_workbook(tmp_path / "bilan.xlsx")["Retour ASP"]
    remark = bilan.cell(2, 11)
    assert bilan.cell(2, 3).value == "00001" and f"ATTENTION : {said}" in remark.value
    assert remark.font.b and remark.alignment.wrap_text and bilan.row_dimensions[2].height > 100
    api.withdraw(again.name, registre)  # never uploaded: one avance left
    status, _ = api.ledger_status(registre, tmp_path / "etat3.xlsx")
    assert status.twice == []


@pytest.mark.parametrize("other", ["same OG, another ESMS", "same ESMS, another SONS"])
def test_an_avance_rejected_then_accepted_is_not_said_funded_twice_beside_another_client(
        tmp_path: Path, other: str) -> None:
    """The client funded once is an ESMS (seed 000 §3.1: « Le client final est un ESSMS identifié
    par son FINESS géographique »), once per SONS (seed 002: « au titre du SONS »). 00001 (ESMS
    123456789 and 234567891 of OG 345678912) rejected, then accepted by a later return: 00003,
    deposited since for another ESMS of the same OG, or for the same ESMS in the other
    programme (DUI PDE), funds no client twice; the warning named the OG's FINESS juridique."""
    deposit_file, registre = _avances(tmp_path, "00001")
    api.ingest_returns([asp_return(deposit_file, tmp_path / "r1.json", {"00001": "Pièce illisible"})], registre)
    rows, fmt = seed_001_rows("00003"), "ms2-dui-pds-avance"
    if other == "same OG, another ESMS":
        rows["FINESS Géo"] = [{"numeroEditeur": "00003", "FINESSJuridique": "345678912", "FINESSGeo": "130000010"}]
        rows["Scénarios"] = [dict(rows["Scénarios"][1], FINESSGeo="130000010")]
    else:
        rows, fmt = _without_profil(rows), "ms2-dui-pde-avance"
    again = api.convert(workbook(tmp_path / "b.xlsx", rows, fmt), deposit_file.parent, DAY)
    assert again.accepted == ["00003"], again
    later = _edit(asp_return(deposit_file, tmp_path / "r2.json", {"00001": "FINMS2000001"}), lambda d: d.update(impId=5))
    lines, _ = api.ingest_returns([later], registre, confirm=True)
    assert [(x.result, x.warning) for x in lines] == [("Acceptée", "")] and "ATTENTION" not in lines[0].remark
    status, _ = api.ledger_status(registre, tmp_path / "etat.xlsx")
    assert status.twice == []


def test_one_numero_asp_given_to_two_avances_is_said_loudly_and_kept(tmp_path: Path) -> None:
    """The numeroASP is the « Référence ASP de la demande », which « permettra de faire le lien
    avec le fichier de demande de solde » (seed 001); the seed does not say it is unique
    (inferred: a warning, the value kept). Given to two live avances, their solde workbook
    carried one number twice, without a word: the solde of one would name the other's dossier."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    other = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00003")), deposit_file.parent, DAY).files[0]
    [first, second], _ = api.ingest_returns([asp_return(deposit_file, tmp_path / "r1.json",
                                                        {"00001": "FINMS2000001", "00002": "FINMS2000002"})], registre)
    assert first.warning == second.warning == ""
    returned = asp_return(other, tmp_path / "r2.json", {"00003": "FINMS2000001"})
    result = CliRunner().invoke(app, ["retour", str(returned), "-o", str(tmp_path / "b2.xlsx")])
    assert result.exit_code == 0, result.output
    said = ("le numéro ASP FINMS2000001 de l'avance 00003 est aussi celui de l'avance 00001 (fichier "
            f"{deposit_file.name}) au registre : l'ASP donne à chaque demande acceptée sa propre référence, que reprend "
            "son solde. Rien n'est changé : vérifiez sur le portail Ségur le numéro ASP de chacune avant de préparer "
            "leur solde.")
    text = _words(result.output)
    assert f"Attention : {said}" in text and f"(ATTENTION : {said})" in text
    assert [s[1:] for s in _statuts(registre)] == [("00001", "acceptee", "FINMS2000001"),
                                                    ("00002", "acceptee", "FINMS2000002"),
                                                    ("00003", "acceptee", "FINMS2000001")]


def test_a_return_run_again_after_a_kill_between_two_contradicting_ones_is_refused_as_the_first_time(tmp_path: Path) -> None:
    """`retour a.json b.json --confirmer`, b contradicting a: b is refused (nothing tells which
    is newer). Killed after a was recorded (or simply run again), the same command recorded b
    « as confirmed », replacing a: a command run again must end as if it ran once."""
    deposit_file, registre = _avances(tmp_path, "00001")
    a = asp_return(deposit_file, tmp_path / "a.json", {"00001": "FINMS2000001"})
    b = _edit(asp_return(deposit_file, tmp_path / "b.json", {"00001": "Pièce illisible"}), lambda d: d.update(impId=5))
    first, _ = api.ingest_returns([a, b], registre, confirm=True)
    state = _statuts(registre), _history(registre)
    again, _ = api.ingest_returns([a, b], registre, confirm=True)
    assert [x.result for x in again] == [x.result for x in first] == ["Acceptée", "Non enregistrée"]
    assert "donné dans la même commande" in again[1].remark
    assert (_statuts(registre), _history(registre)) == state


def test_the_return_of_an_avance_deposited_elsewhere_is_not_recorded_for_its_solde(tmp_path: Path) -> None:
    """An avance and its solde share their numeroEditeur (seed 000), at the same numLigne when
    alone in their files. The avance deposited with a colleague's ledger (or an MDV avance,
    which xl2segur does not write), its solde with this one: the avance's return, matched to
    the solde file « reconnu à son contenu », recorded the solde accepted by the ASP, which
    never answered it. Neither its keys nor its demandes are the solde's: not its return."""
    avance = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "collegue", DAY,
                         registre=tmp_path / "collegue.sqlite").files[0]
    solde = api.convert(workbook(tmp_path / "s.xlsx", _soldes("00001"), "ms2-dui-pds-solde"), tmp_path / "depot",
                        DAY).files[0]
    registre = default_path()
    returned = asp_return(avance, tmp_path / "retours" / avance.name, {"00001": "FINMS2000001"})
    text = _refused(["retour", str(returned), "-o", str(tmp_path / "b.xlsx")])
    assert (f"00001 : Inconnue du registre — FINMS2000001 (Fichier non reconnu : le registre connaît ces numéros "
            f"éditeur à ces numéros de ligne ({solde.name} (ms2-dui-pds-solde)), mais ce retour ne répond pas à ce "
            "dépôt") in text and "enregistrez-le avec ce registre (--registre" in text
    assert "reconnu à son contenu" not in text
    assert [s[1:] for s in _statuts(registre)] == [("00001", "deposee", None)] and _history(registre) == []
    # its own return still is
    lines, _ = api.ingest_returns([asp_return(solde, tmp_path / "rs.json", {"00001": "Demande acceptée"})], registre)
    assert [(x.result, x.deposit_file) for x in lines] == [("Acceptée", solde.name)]


def test_a_return_of_a_deposit_made_with_another_ledger_says_where_it_goes(tmp_path: Path) -> None:
    """A return whose deposit this ledger never recorded (a colleague's ledger, a trial one, a
    deposit made by hand): « Inconnue du registre », with no way out for a numeroAns the ledger
    knows. It names the ledger that wrote it and « xl2segur importer », which takes a return."""
    _avances(tmp_path, "00001")
    elsewhere = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00011")), tmp_path / "collegue",
                            DAY + timedelta(days=1), registre=tmp_path / "collegue.sqlite").files[0]
    returned = asp_return(elsewhere, tmp_path / "retours" / elsewhere.name, {"00011": "FINMS2000011"})
    [line], _ = api.ingest_returns([returned], default_path())
    assert line.result == "Inconnue du registre"
    remark = _words(line.remark)
    assert "ne contient ces numéros éditeur à ces numéros de ligne : s'il répond à un dépôt fait avec un autre " \
           "registre" in remark and "enregistrez-le avec ce registre (--registre" in remark
    assert "inscrivez-le avec « xl2segur importer »" in remark
    [imported] = api.import_deposits([returned], default_path())
    assert imported.refused == "" and [x.result for x in imported.returns] == ["Acceptée"]


def test_the_first_return_of_an_avance_whose_solde_is_deposited_already_names_that_solde(tmp_path: Path) -> None:
    """A solde may be converted before its avance's return is recorded (a warning, « vérifiez que
    l'avance a bien été acceptée »). The avance's first return then rejected it, or gave it
    another numéro ASP than the solde's, without a word: only a return replacing an earlier one
    named the solde deposited already. The solde file, uploaded, asks a solde for a rejected
    avance, or under a wrong dossier ASP: named, with what to do."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002", "00003")
    solde = api.convert(workbook(tmp_path / "s.xlsx", _soldes("00001", "00002", "00003"), "ms2-dui-pds-solde"),
                        deposit_file.parent, DAY)
    assert {i.code for i in solde.warnings} >= {"solde_avance_sans_retour"} and solde.files
    name = solde.files[0].name
    returned = asp_return(deposit_file, tmp_path / "r.json",
                          {"00001": "Pièce illisible", "00002": "FINMS2000099", "00003": "FINMS2000003"})
    lines, _ = api.ingest_returns([returned], registre)
    assert [x.result for x in lines] == ["Rejetée", "Acceptée", "Acceptée"]
    assert _words(lines[0].remark).startswith(
        f"Son solde est déjà déposé (fichier {name}) pour cette avance désormais rejetée, qui n'en a pas : s'il n'a "
        f"pas été déposé sur le portail, retirez-le (« xl2segur retirer {name} »)")
    assert _words(lines[1].remark).startswith(
        f"Son solde est déjà déposé (fichier {name}) avec le numéro ASP FINMS2000002 : s'il n'a pas été déposé")
    assert lines[2].remark == ""  # its solde names the numéro the ASP gave


@pytest.mark.parametrize("command", ["retirer", "reecrire"])
def test_a_deposit_file_renamed_by_hand_given_by_its_new_name_is_named_back(tmp_path: Path, command: str) -> None:
    """retirer or reecrire given a deposit file renamed by hand (« avances-mars.json ») said the
    ledger knew no such file, « vérifiez le nom »: the user could not tell which file it was. Its
    content tells, as for convertir: the message names it and says to give it back its name."""
    deposit_file, registre = _avances(tmp_path, "00001")
    renamed = deposit_file.rename(deposit_file.with_name("avances-mars.json"))
    result = CliRunner().invoke(app, [command, str(renamed), "--registre", str(registre),
                                      *(["--oui"] if command == "retirer" else [])])
    assert result.exit_code == 2
    assert (f"« avances-mars.json » est le fichier « {deposit_file.name} » du registre, renommé : rendez-lui son nom "
            f"(il porte la date et le rang que l'ASP demande), puis relancez la commande avec « {deposit_file.name} »."
            ) in _words(result.output)
    assert renamed.is_file() and [s[2] for s in _statuts(registre)] == ["deposee"]


def test_a_renamed_deposit_file_the_asp_answered_says_so_before_it_is_renamed_back(tmp_path: Path) -> None:
    """`retirer` of a renamed file the ASP had answered said to give it back its name and run
    again, which then said it could not be withdrawn (a sequence the ledger's promise cycle
    drew): the first message says at once that the ASP answered it, so it was uploaded."""
    deposit_file, registre = _avances(tmp_path, "00001")
    api.ingest_returns([asp_return(deposit_file, tmp_path / "retour.json", {"00001": "FINMS2000001"})], registre,
                       tmp_path / "bilan.xlsx")
    renamed = deposit_file.rename(deposit_file.with_name("avances-mars.json"))
    result = CliRunner().invoke(app, ["retirer", str(renamed), "--registre", str(registre), "--oui"])
    assert result.exit_code == 2
    assert ("renommé : l'ASP a déjà répondu pour 1 de ses demandes (« xl2segur retour »), il a donc été déposé ; "
            "rendez-lui son nom") in _words(result.output)


def test_a_return_given_with_depot_naming_a_withdrawn_file_says_it_was_withdrawn(tmp_path: Path) -> None:
    """Withdrawn, then converted again (the same demandes, in a new file), the first file was
    uploaded after all: its return, given with --depot and its name, was said not to « contenir
    exactement ces demandes », the other file named as holding them. It does hold them: it was
    withdrawn, and the way out (undo the withdrawal) is said."""
    deposit_file, registre = _avances(tmp_path, "00001")
    api.withdraw(deposit_file.name, registre)
    again = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00001")), deposit_file.parent, DAY).files[0]
    returned = asp_return(deposit_file.parent / "retires" / deposit_file.name, tmp_path / "r.json",
                          {"00001": "FINMS2000001"})
    [line], _ = api.ingest_returns([returned], registre, deposit=deposit_file.name)
    assert line.result == "Non enregistrée"
    remark = _words(line.remark)
    assert f"ces demandes sont exactement celles du fichier {deposit_file.name}, retiré du registre le" in remark
    assert "ne contient pas exactement" not in remark
    # its demandes were deposited again since: the way out withdraws that file first
    assert (f"ont été déposées de nouveau depuis dans {again.name}. Si {again.name} n'a pas été déposé sur le "
            f"portail, retirez-le (« xl2segur retirer {again.name} »), annulez le retrait de {deposit_file.name} "
            f"(« xl2segur retirer --annuler {deposit_file.name} »)") in remark
    assert [s[2] for s in _statuts(registre)] == ["retiree", "deposee"] and _history(registre) == []


def test_a_return_of_a_withdrawn_file_converted_again_unchanged_is_not_taken_for_the_new_file(tmp_path: Path) -> None:
    """Withdrawn as never uploaded, then converted again unchanged: the ASP's return, the same
    for either file, was recorded for the new one without a word of the withdrawn one, though
    it may prove that one was uploaded after all (the new file then never is, or goes twice).
    Nothing is guessed: both are named, with what to do for each; --depot names the new one."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    api.withdraw(deposit_file.name, registre)
    again = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00001", "00002")), deposit_file.parent, DAY).files[0]
    returned = asp_return(deposit_file.parent / "retires" / deposit_file.name, tmp_path / "retours" / deposit_file.name,
                          {"00001": "FINMS2000001", "00002": "FINMS2000002"})
    text = _refused(["retour", str(returned), "--registre", str(registre), "-o", str(tmp_path / "b.xlsx")])
    assert (f"00001 : Non enregistrée — FINMS2000001 (Retour reconnu, non enregistré : ces demandes sont exactement celles du "
            f"dépôt {again.name}, et aussi celles du fichier {deposit_file.name}, retiré du registre le") in text
    assert f"si c'est {again.name}, relancez avec --depot {again.name}" in text
    assert f"si c'est {deposit_file.name}, il a été déposé malgré son retrait" in text
    assert [s[2] for s in _statuts(registre)] == ["retiree"] * 2 + ["deposee"] * 2 and _history(registre) == []
    lines, _ = api.ingest_returns([returned], registre, deposit=again.name)
    assert {(x.deposit_file, x.result) for x in lines} == {(again.name, "Acceptée")}
    lines, _ = api.ingest_returns([returned], registre)  # given again: recorded already, not asked again
    assert {x.result for x in lines} == {"Acceptée"} and all("déjà enregistré" in x.remark for x in lines)


def test_a_return_of_a_withdrawn_file_converted_again_corrected_proves_the_withdrawn_one_was_uploaded(
        tmp_path: Path) -> None:
    """Withdrawn, corrected (another amount), converted again under the same number: the ASP's
    return holds the withdrawn file's demandes as they were, so that file was uploaded. It was
    recorded for the new file, the corrected amount « accepted » though the ASP never saw it."""
    deposit_file, registre = _avances(tmp_path, "00001")
    api.withdraw(deposit_file.name, registre)
    rows = avance_rows("00001")
    rows["Demandes"][0]["montantSegurHT"] = "4900.00"
    again = api.convert(workbook(tmp_path / "b.xlsx", rows), deposit_file.parent, DAY).files[0]
    returned = asp_return(deposit_file.parent / "retires" / deposit_file.name, tmp_path / "r.json",
                          {"00001": "FINMS2000001"})
    [line], _ = api.ingest_returns([returned], registre)
    assert line.result == "Non enregistrée"
    remark = _words(line.remark)
    assert f"ces demandes sont exactement celles du fichier {deposit_file.name}, retiré du registre le" in remark
    assert "si l'ASP y répond, il a été déposé" in remark
    assert f"retirez-le (« xl2segur retirer {again.name} »)" in remark
    assert [s[2] for s in _statuts(registre)] == ["retiree", "deposee"] and _history(registre) == []


def test_returns_named_by_a_pattern_as_the_windows_console_hands_it_over_are_each_read(tmp_path: Path) -> None:
    """`xl2segur retour retours\\*.json` in a Windows console: no shell expands the pattern,
    and the command said « le fichier de retour « retours/*.json » est introuvable ». The
    AppleDouble companion that macOS leaves beside a file it copied (`._JSON-….json`) is no
    return file: not matched."""
    written = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "depot", DAY).files[0]
    asp_return(written, tmp_path / "retours" / written.name, {"00001": "FINMS2000001"})
    (tmp_path / "retours" / f"._{written.name}").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X")
    result = CliRunner().invoke(app, ["retour", str(tmp_path / "retours" / "*.json"), "-o", str(tmp_path / "bilan.xlsx")])
    assert result.exit_code == 0, result.output
    assert f"{written.name} — 00001 : Acceptée — FINMS2000001" in result.output
    nothing = CliRunner().invoke(app, ["retour", str(tmp_path / "ailleurs" / "*.json")])
    assert nothing.exit_code == 2 and "est introuvable" in nothing.output


def test_a_return_whose_amount_is_not_the_deposited_one_is_recorded_and_said(tmp_path: Path) -> None:
    """Seeds 000 and 001, §1.2: the ASP gives back « le fichier JSON avec, pour chaque demande, un
    code de traitement et libellé de traitement »: the deposit file, answered. A return whose
    montantSegurHT is not the one deposited (4866.76 for 4866.67) was recorded without a word,
    the ledger, `etat` and the solde's ceiling keeping the deposited amount. The seeds say nothing
    of an amount the ASP would change: recorded, said loudly on that demande only (console and
    review workbook), the ledger keeping the amount deposited."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002")
    returned = _edit(asp_return(deposit_file, tmp_path / "r.json", {"00001": "FINMS2000001", "00002": "FINMS2000002"}),
                     lambda d: d["lignesImport"][0]["commande"].update(montantSegurHT=4866.76))
    result = CliRunner().invoke(app, ["retour", str(returned), "--registre", str(registre), "-o",
                                      str(tmp_path / "bilan.xlsx")])
    assert result.exit_code == 0, result.output
    said = ("le montantSegurHT de la demande 00001 dans ce retour (4866.76) n'est pas celui du dépôt "
            f"{deposit_file.name} (4866.67)")
    assert f"Attention : {said}" in _words(result.output)
    assert _words(result.output).count("n'est pas celui du dépôt") == 2  # its remark, then the alert: 00001 only
    assert [s[2:] for s in _statuts(registre)] == [("acceptee", "FINMS2000001"), ("acceptee", "FINMS2000002")]
    review = {r[2]: r for r in openpyxl.load_workbook(tmp_path / "bilan.xlsx")["Retour ASP"].iter_rows(
        min_row=2, values_only=True)}
    assert review["00001"][9] == 4866.67 and said in review["00001"][10]
    assert "dépôt" not in (review["00002"][10] or "")
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT montant FROM demandes ORDER BY id").fetchall() == [("4866.67",), ("4866.67",)]
    # the same amount written otherwise (4866.670, a JSON number of another spelling) is the same amount
    other, _ = _avances(tmp_path / "b", "00003")
    same = _edit(asp_return(other, tmp_path / "r3.json", {"00003": "FINMS2000003"}),
                 lambda d: d["lignesImport"][0]["commande"].update(montantSegurHT=4866.670))
    lines, _ = api.ingest_returns([same], registre)
    assert [(x.result, x.warning) for x in lines] == [("Acceptée", "")]


def test_an_esms_of_a_live_avance_in_a_new_demande_is_a_warning(tmp_path: Path) -> None:
    """Seed 000 §3.1: « Le client final est un ESSMS identifié par son FINESS géographique » ;
    seed 001 §3.1: « La demande de financement ne comporte qu'un seul bon de commande pour les
    ESMS éligibles au SONS de l'organisme gestionnaire ». An avance naming the ESMS of an avance
    deposited earlier, still live, under another numeroEditeur, was converted in silence:
    accepted both, the ESMS would be funded twice. Warned on each of its ESMS, naming the other
    avance, and deposited; once the other is rejected by the ASP (or withdrawn), its ESMS may come
    back under a new number, as seed 001 asks, in silence."""
    deposit_file, registre = _avances(tmp_path, "00001")
    outcome = api.convert(workbook(tmp_path / "b.xlsx", seed_001_rows("00002")), registre.parent, DAY)
    assert outcome.errors == [] and outcome.accepted == ["00002"] and deposited(outcome.files[0]) == ["00002"]
    warned = [i for i in outcome.issues if i.code == "esms_deja_en_cours"]
    assert [(i.sheet, i.row, i.balise, i.value, i.numero_editeur, str(i.severity)) for i in warned] == [
        ("FINESS Géo", 2, "FINESSGeo", "123456789", "00002", "avertissement"),
        ("FINESS Géo", 3, "FINESSGeo", "234567891", "00002", "avertissement")]
    assert warned[0].message.startswith(
        f"L'ESMS 123456789 figure déjà dans l'avance 00001 (fichier {deposit_file.name}, déposée, sans retour de "
        "l'ASP) au registre")
    assert "il serait financé plus d'une fois" in warned[0].message  # « toutes deux »: there may be more
    api.withdraw(outcome.files[0].name, registre)
    api.ingest_returns([asp_return(deposit_file, tmp_path / "r.json", {"00001": "Pièce illisible"})], registre)
    outcome = api.convert(workbook(tmp_path / "c.xlsx", seed_001_rows("00003")), registre.parent, DAY)
    assert outcome.errors == [] and outcome.accepted == ["00003"]
    assert not [i for i in outcome.issues if i.code == "esms_deja_en_cours"]


def test_an_og_of_a_live_avance_in_a_new_demande_is_a_warning(tmp_path: Path) -> None:
    """Seed 001 §3.1: « La demande de financement ne comporte qu'un seul bon de commande pour les
    ESMS éligibles au SONS de l'organisme gestionnaire ». Two demandes of one workbook naming an
    OG are warned (`og_dans_plusieurs_demandes`); converted one after the other, nothing was said.
    The same warning against the ledger's live avances, the demande kept; none once the other
    avance is rejected (its OG comes back under a new number, as seed 001 asks)."""
    deposit_file, registre = _avances(tmp_path, "00001")
    rows = seed_001_rows("00002")  # the same OG, another ESMS: no ESMS funded twice
    rows["FINESS Géo"] = [{**rows["FINESS Géo"][0], "FINESSGeo": "750000010"}]
    rows["Scénarios"] = [{**rows["Scénarios"][0], "FINESSGeo": "750000010"}]
    outcome = api.convert(workbook(tmp_path / "b.xlsx", rows), registre.parent, DAY)
    assert outcome.errors == [] and outcome.accepted == ["00002"] and deposited(outcome.files[0]) == ["00002"]
    assert not [i for i in outcome.issues if i.code == "esms_deja_en_cours"]
    [og] = [i for i in outcome.issues if i.code == "og_deja_en_cours"]
    assert (og.sheet, og.row, og.balise, og.value, og.numero_editeur, str(og.severity)) == (
        "OG", 2, "FINESSJuridique", "345678912", "00002", "avertissement")
    assert og.message.startswith(
        f"L'OG 345678912 figure déjà dans l'avance 00001 (fichier {deposit_file.name}, déposée, sans retour de "
        "l'ASP) au registre, alors que l'ASP écrit « La demande de financement ne comporte qu'un seul bon de commande "
        "pour les ESMS éligibles au SONS de l'organisme gestionnaire ».")
    api.withdraw(outcome.files[0].name, registre)
    api.ingest_returns([asp_return(deposit_file, tmp_path / "r.json", {"00001": "Pièce illisible"})], registre)
    rows = {k: [{**r, "numeroEditeur": "00003"} for r in v] for k, v in rows.items()}
    outcome = api.convert(workbook(tmp_path / "c.xlsx", rows), registre.parent, DAY)
    assert outcome.errors == [] and outcome.accepted == ["00003"]
    assert not [i for i in outcome.issues if i.code == "og_deja_en_cours"]


def test_an_esms_of_many_live_avances_names_three_of_them_then_their_count(tmp_path: Path) -> None:
    """One ESMS in each of 1,500 live avances named all of them on each row of the new avance
    (125,000 characters a message, a minute more to write the error workbook): three, then a count."""
    deposit_file, registre = _avances(tmp_path, "00001", "00002", "00003", "00004", "00005")
    outcome = api.convert(workbook(tmp_path / "b.xlsx", seed_001_rows("00009")), registre.parent, DAY)
    [first, _] = [i for i in outcome.issues if i.code == "esms_deja_en_cours"]
    # a list after a plural (« dans l'avance 00001 (…) ; 00002 (…) ; 00003 (…) ; et 2 autres »: singular before it)
    assert first.message.startswith(
        f"L'ESMS 123456789 figure déjà dans les avances 00001 (fichier {deposit_file.name}, déposée, sans retour de "
        f"l'ASP), 00002 (fichier {deposit_file.name}, déposée, sans retour de l'ASP), 00003 (fichier "
        f"{deposit_file.name}, déposée, sans retour de l'ASP) et 2 autres au registre")


@pytest.mark.parametrize("others, said", [
    (1, "dans l'avance 00001 (fichier {f}, déposée, sans retour de l'ASP) au registre"),
    (2, "dans les avances 00001 (fichier {f}, déposée, sans retour de l'ASP) et 00002 (fichier {f}, déposée, sans "
        "retour de l'ASP) au registre"),
    (3, "dans les avances 00001 (fichier {f}, déposée, sans retour de l'ASP), 00002 (fichier {f}, déposée, sans "
        "retour de l'ASP) et 00003 (fichier {f}, déposée, sans retour de l'ASP) au registre"),
    (4, "dans les avances 00001 (fichier {f}, déposée, sans retour de l'ASP), 00002 (fichier {f}, déposée, sans "
        "retour de l'ASP), 00003 (fichier {f}, déposée, sans retour de l'ASP) et 1 autre au registre"),
], ids=["une", "deux", "trois", "quatre"])
def test_the_live_avances_an_esms_or_an_og_is_in_are_named_in_good_french(tmp_path: Path, others: int, said: str) -> None:
    """« dans l'avance 00001 (…) ; 00002 (…) ; et 1 autres »: a singular before a list, « 1 autres ».
    One avance named after a singular, two or three after a plural joined by « et », more: three
    named, then « et 1 autre » (« et N autres »); the ESMS and the OG warnings alike."""
    numeros = [f"{n:05d}" for n in range(1, others + 1)]
    deposit_file, registre = _avances(tmp_path, *numeros)
    outcome = api.convert(workbook(tmp_path / "b.xlsx", seed_001_rows("00009")), registre.parent, DAY)
    expected = said.format(f=deposit_file.name)
    esms = next(i for i in outcome.issues if i.code == "esms_deja_en_cours")
    og = next(i for i in outcome.issues if i.code == "og_deja_en_cours")
    assert esms.message.startswith(f"L'ESMS 123456789 figure déjà {expected} : ")
    assert og.message.startswith(f"L'OG 345678912 figure déjà {expected}, alors que")


def test_a_label_looking_like_rich_text_is_echoed_as_text_in_the_review_workbook(tmp_path: Path) -> None:
    """A libelleTraitement « <r>Pièce & bon</r> »: xlsxwriter takes a text that begins with <r>
    and ends with </r> for its own rich text and writes it unescaped, a workbook Excel refuses
    to open; the review workbook writes it as the text it is (fastxlsx.TextWorksheet)."""
    deposit_file, registre = _avances(tmp_path, "00001")
    returned = asp_return(deposit_file, tmp_path / "r.json", {"00001": "<r>Pièce & bon</r>"})
    _, review = api.ingest_returns([returned], registre, tmp_path / "bilan.xlsx")
    rows = list(openpyxl.load_workbook(review)["Retour ASP"].iter_rows(min_row=2, values_only=True))
    assert rows[0][7] == "<r>Pièce & bon</r>"
