"""`xl2segur importer`: deposits made before xl2segur brought into the ledger, checked
against their format's schema, with their ASP returns, so their soldes are prepared the same way."""

from __future__ import annotations

import sqlite3
import sys
from datetime import date
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from converter import api
from converter.cli import app
from converter.files import OutputError
from converter.ledger import default_path
from tests.builders import workbook
from tests.test_cycle import DAY, asp_return, avance_rows, sheet_rows
from tests.test_ledger_core import _kill_when
from tests.test_returns_crash import withdrawn_and_restored_through_kills


def _words(text: str) -> str:
    return " ".join(text.split())


def _made_elsewhere(tmp_path: Path, *numeros: str) -> Path:
    """A deposit file another tool wrote (here xl2segur in a folder of its own)."""
    return api.convert(workbook(tmp_path / "a.xlsx", avance_rows(*numeros)), tmp_path / "ailleurs", DAY,
                       registre=tmp_path / "ailleurs.sqlite").files[0]


def test_an_imported_deposit_is_known_to_the_ledger_like_its_own(tmp_path: Path) -> None:
    made = _made_elsewhere(tmp_path, "00001", "00002")
    by_hand = tmp_path / "depot-mars.json"
    by_hand.write_bytes(made.read_bytes())
    registre = tmp_path / "depot" / "xl2segur.sqlite"
    [imported] = api.import_deposits([by_hand], registre)
    assert (imported.refused, imported.format_id, imported.demandes) == ("", "ms2-dui-pds-avance", 2)
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT numero_editeur, montant, finess, statut FROM demandes").fetchall() == [
            ("00001", "4866.67", '["123456789","234567891","345678912"]', "deposee"),
            ("00002", "4866.67", '["123456789","234567891","345678912"]', "deposee")]
    # converted again: the same demandes, nothing to correct; a new one goes
    again = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00001", "00003")), registre.parent, DAY,
                        registre=registre)
    assert [(i.code, i.numero_editeur) for i in again.errors] == [("deja_deposee", "00001")]
    assert "depot-mars.json" in again.errors[0].message
    # a file named as the ASP wants keeps its rank: xl2segur's next file takes the next one
    [named] = api.import_deposits([_made_elsewhere(tmp_path / "x", "00004")], tmp_path / "r2" / "xl2segur.sqlite")
    assert named.refused == ""
    later = api.convert(workbook(tmp_path / "c.xlsx", avance_rows("00005")), tmp_path / "r2", DAY,
                        registre=tmp_path / "r2" / "xl2segur.sqlite")
    assert later.files[0].name == "JSON-0123456789-20240312-002.json"


def test_an_imported_return_records_its_outcomes_and_prepares_the_soldes(tmp_path: Path) -> None:
    made = _made_elsewhere(tmp_path, "00001", "00002")
    returned = asp_return(made, tmp_path / "retour.json", {"00001": "FINMS2000001", "00002": "Pièce illisible"})
    registre = tmp_path / "depot" / "xl2segur.sqlite"
    result = CliRunner().invoke(app, ["importer", str(returned), "--registre", str(registre)])
    assert result.exit_code == 0, result.output
    text = _words(result.output)
    assert "retour.json : inscrit (ms2-dui-pds-avance, 2 demandes, déposé le" in text
    assert "retour de l'ASP enregistré : acceptée 1, rejetée 1" in text
    _, [(book, count)] = api.write_solde_workbooks(registre, None, tmp_path / "soldes")
    assert count == 1 and [(d["numeroEditeur"], d["numeroASP"]) for d in sheet_rows(book, "Demandes")] == [
        ("00001", "FINMS2000001")]
    # the rejected avance may not come back under its number
    again = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), registre.parent, DAY, registre=registre)
    assert [i.code for i in again.errors] == ["rejetee_nouveau_numero"]


def _import_edited(tmp_path: Path, edit) -> tuple[object, Path]:
    """`importer` of demande 00001's file made elsewhere, its JSON changed by `edit` (in place),
    saved as faux.json: (the command's result, the ledger it was given)."""
    data = orjson.loads(_made_elsewhere(tmp_path, "00001").read_bytes())
    edit(data)
    bad = tmp_path / "faux.json"
    bad.write_bytes(orjson.dumps(data))
    registre = tmp_path / "depot" / "xl2segur.sqlite"
    return CliRunner().invoke(app, ["importer", str(bad), "--registre", str(registre)]), registre


def test_a_file_the_schema_refuses_is_not_imported_and_no_ledger_is_created(tmp_path: Path) -> None:
    result, registre = _import_edited(tmp_path, lambda data: data["lignesImport"][0]["commande"].update(montantSegurHT="cinq"))
    assert result.exit_code == 1
    text = _words(result.output)
    assert "faux.json : non inscrit — il ne respecte pas le schéma du format ms2-dui-pds-avance" in text
    assert "lignesImport/0/commande/montantSegurHT" in text and not registre.exists()
    (tmp_path / "tronque.json").write_bytes((tmp_path / "faux.json").read_bytes()[:100])
    result = CliRunner().invoke(app, ["importer", str(tmp_path / "tronque.json"), "--registre", str(registre)])
    assert result.exit_code == 2 and "il s'arrête avant la fin" in _words(result.output)


def test_a_value_of_the_wrong_shape_is_said_in_french_not_as_a_regex(tmp_path: Path) -> None:
    """A value the schema's « pattern » refuses was shown with the raw regex (« n'a pas la forme
    attendue (^([0-9]{9}|2[AB][0-9]{7})$) »): the message says what the format asks instead,
    as the definition describes it."""
    made = _made_elsewhere(tmp_path, "00001")
    data = orjson.loads(made.read_bytes())
    data["lignesImport"][0]["commande"]["dateCommande"] = "2024-03-12"
    data["lignesImport"][0]["beneficiaires"]["etablissementsClients"][0]["FINESSJuridique"] = "12345"
    bad = tmp_path / "faux.json"
    bad.write_bytes(orjson.dumps(data))
    [refused] = api.import_deposits([bad], tmp_path / "depot" / "xl2segur.sqlite")
    text = _words(refused.refused)
    assert '"2024-03-12" n\'a pas la forme attendue (date au format JJ/MM/AAAA)' in text
    assert '"12345" n\'a pas la forme attendue (texte de 9 caractères : 9 chiffres, ou 2A / 2B suivis de 7 chiffres' \
        in text
    assert "^(" not in text and "[0-9]" not in text


def test_a_file_whose_demandes_the_ledger_holds_is_refused_whole(tmp_path: Path) -> None:
    out = tmp_path / "depot"
    api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), out, DAY)
    made = _made_elsewhere(tmp_path / "x", "00001", "00002")
    [refused] = api.import_deposits([made], default_path())
    assert "des demandes sont au registre, déjà déposées, non rejetées : 00001 (JSON-0123456789-20240312-001.json)" \
        in refused.refused
    with sqlite3.connect(default_path()) as db:
        assert db.execute("SELECT count(*) FROM demandes").fetchone()[0] == 1


def test_the_return_of_a_deposit_the_ledger_holds_is_sent_to_retour(tmp_path: Path) -> None:
    """Given to `importer`, the ASP's return of a file xl2segur wrote is refused (its demandes are
    deposited already), and it says where a return goes: it was not recorded."""
    deposit_file = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "depot", DAY).files[0]
    returned = asp_return(deposit_file, tmp_path / "retours" / deposit_file.name, {"00001": "FINMS2000001"})
    [imported] = api.import_deposits([returned], default_path())
    assert "déjà déposées, non rejetées : 00001" in imported.refused
    assert f"c'est un retour de l'ASP : enregistrez-le avec « xl2segur retour {returned} »" in imported.refused
    with sqlite3.connect(default_path()) as db:
        assert db.execute("SELECT statut FROM demandes").fetchall() == [("deposee",)]


def test_importer_answers_in_french_for_what_a_user_can_give(tmp_path: Path) -> None:
    runner = CliRunner()
    registre = tmp_path / "depot" / "xl2segur.sqlite"
    result = runner.invoke(app, ["importer", str(tmp_path), "--registre", str(registre)])
    assert result.exit_code == 2 and "est un dossier : donnez le chemin d'un fichier .json" in _words(result.output)
    made = _made_elsewhere(tmp_path, "00001")
    result = runner.invoke(app, ["importer", str(made), "--format", "hop-pfi-va2-commandes", "--registre", str(registre)])
    assert result.exit_code == 1 and "ne produit pas de fichier de dépôt" in _words(result.output)
    result = runner.invoke(app, ["importer", str(made), "--format", "bidule", "--registre", str(registre)])
    assert result.exit_code == 2 and "format inconnu « bidule »" in _words(result.output)
    assert not registre.exists()


def _without_profil_metier(path: Path, logiciel: str) -> Path:
    """The deposit file with profilMetier and IsRefSoins emptied (both optional), its
    attachments named for `logiciel` (« DUI » for a PDS, « DUI PDE » for a PDE)."""
    data = orjson.loads(path.read_bytes())
    for line in data["lignesImport"]:
        for scenario in line["scenarioInstallation"]:
            scenario.update(profilMetier=None, IsRefSoins=None)
        for piece in line["piecesJustificatives"]:
            piece["nomFichier"] = piece["nomFichier"].replace("MS2-DUI-", f"MS2-{logiciel}-")
    target = path.with_name(f"{logiciel}.json")
    target.write_bytes(orjson.dumps(data))
    return target


@pytest.mark.parametrize(("logiciel", "expected"), [("DUI", "ms2-dui-pds-avance"), ("DUI PDE", "ms2-dui-pde-avance")])
def test_a_pds_or_pde_avance_without_profil_metier_is_told_by_its_attachments_names(
        tmp_path: Path, logiciel: str, expected: str) -> None:
    """Both schemas accept such a file: the names the attachments bear tell the format."""
    made = _without_profil_metier(_made_elsewhere(tmp_path, "00001"), logiciel)
    [imported] = api.import_deposits([made], tmp_path / "r.sqlite")
    assert (imported.refused, imported.format_id) == ("", expected)


def test_a_file_whose_attachments_names_do_not_tell_asks_for_the_format(tmp_path: Path) -> None:
    made = _without_profil_metier(_made_elsewhere(tmp_path, "00001"), "AUTRE")
    [imported] = api.import_deposits([made], tmp_path / "r.sqlite")
    assert "plusieurs formats (ms2-dui-pde-avance, ms2-dui-pds-avance)" in imported.refused
    assert "--format" in imported.refused


def test_a_file_naming_a_demande_twice_is_not_imported(tmp_path: Path) -> None:
    """numeroEditeur is unique per demande (seeds 000, 001): recorded twice, the file's ASP
    return could never be recorded (it « nomme deux fois la demande »)."""
    data = orjson.loads(_made_elsewhere(tmp_path, "00001", "00002").read_bytes())
    data["lignesImport"][1]["numeroEditeur"] = "00001"
    for piece in data["lignesImport"][1]["piecesJustificatives"]:
        piece["nomFichier"] = piece["nomFichier"].replace("00002", "00001")
    twice = tmp_path / "JSON-0123456789-20240312-001.json"
    twice.write_bytes(orjson.dumps(data))
    registre = tmp_path / "depot" / "xl2segur.sqlite"
    result = CliRunner().invoke(app, ["importer", str(twice), "--registre", str(registre)])
    assert result.exit_code == 1, result.output
    assert ("non inscrit — il nomme deux fois la demande 00001 (demandes n° 1 et 2 de lignesImport)"
            in _words(result.output))
    assert not registre.exists()


def test_a_file_named_with_an_upper_case_extension_keeps_its_rank(tmp_path: Path) -> None:
    """« JSON-…-001.JSON » (Windows) is the ASP's name all the same: its rank is claimed, and
    xl2segur's next file in its folder does not take the same name in another case."""
    out = tmp_path / "depot"
    out.mkdir()
    upper = out / "JSON-0123456789-20240312-001.JSON"
    upper.write_bytes(_made_elsewhere(tmp_path, "00001").read_bytes())
    registre = tmp_path / "registre.sqlite"
    [imported] = api.import_deposits([upper], registre)
    assert (imported.refused, imported.day) == ("", DAY)
    later = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), out, DAY, registre=registre)
    assert [p.name for p in later.files] == ["JSON-0123456789-20240312-002.json"]


def test_a_file_of_more_than_200_demandes_is_refused_in_a_few_french_words(tmp_path: Path) -> None:
    """Seeds: « Le nombre exact de demandes maximum par fichier JSON est fixé à 200 ». The schema
    validator's own message quoted the whole list of demandes (300,000 characters on the console),
    in English; each error is said in French, quoting a value briefly."""
    data = orjson.loads(_made_elsewhere(tmp_path, "00001").read_bytes())
    line = data["lignesImport"][0]
    data["lignesImport"] = [{**line, "numLigne": i, "numeroEditeur": f"{i:05d}"} for i in range(1, 202)]
    data["lignesImport"][0]["commande"] = {**line["commande"], "montantSegurHT": "mille"}
    big = tmp_path / "gros.json"
    big.write_bytes(orjson.dumps(data))
    result = CliRunner().invoke(app, ["importer", str(big), "--registre", str(tmp_path / "r.sqlite")])
    assert result.exit_code == 1
    text = _words(result.output)
    assert "lignesImport : 201 éléments, pour 200 au plus" in text
    assert "lignesImport/0/commande/montantSegurHT : \"mille\" n'est pas un nombre" in text
    assert "lignesImport/200/numLigne : 201 dépasse le maximum, 200" in text
    assert len(text) < 1000 and "beneficiaires" not in text


_STOPPED_AFTER_THE_FIRST_FILE = """
import sys, time
from pathlib import Path
from converter import launch, ledger
flag = Path(sys.argv[1])
recorded = ledger.Ledger.record_import
def record_import(self, **kwargs):
    recorded(self, **kwargs)
    flag.touch()
    time.sleep(60)
ledger.Ledger.record_import = record_import
sys.argv = ["xl2segur", *sys.argv[2:]]
launch.main()
"""


def test_importer_killed_between_two_files_then_run_again_records_each_once_and_succeeds(tmp_path: Path) -> None:
    """SIGKILL once the first file is recorded, then the same command again: the first file is
    said « déjà inscrit » (it was: nothing to do, not a failure), the second is recorded; before,
    the rerun said the first « non inscrit » (its demandes in the ledger: in itself), code 1."""
    first = _made_elsewhere(tmp_path / "a", "00001", "00002")
    second = _made_elsewhere(tmp_path / "b", "00003")
    second = second.rename(second.with_name("JSON-0123456789-20240312-002.json"))
    registre, flag = tmp_path / "registre.sqlite", tmp_path / "recorded"
    command = ["importer", str(first), str(second), "--registre", str(registre)]
    assert _kill_when([sys.executable, "-c", _STOPPED_AFTER_THE_FIRST_FILE, str(flag), *command], flag.exists)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    text = _words(result.output)
    assert ("JSON-0123456789-20240312-001.json : déjà inscrit au registre, tel quel (ms2-dui-pds-avance, "
            "2 demandes, déposé le 12/03/2024) : rien à faire") in text
    assert "JSON-0123456789-20240312-002.json : inscrit (ms2-dui-pds-avance, 1 demande" in text
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT f.nom, d.numero_editeur FROM demandes d JOIN fichiers f ON f.id = d.fichier_id "
                          "ORDER BY d.id").fetchall() == [
            ("JSON-0123456789-20240312-001.json", "00001"), ("JSON-0123456789-20240312-001.json", "00002"),
            ("JSON-0123456789-20240312-002.json", "00003")]
    # the same content under another name is still refused: recorded under the first one
    copy = tmp_path / "copie.json"
    copy.write_bytes(first.read_bytes())
    [refused] = api.import_deposits([copy], registre)
    assert "déjà déposées, non rejetées : 00001, 00002 (JSON-0123456789-20240312-001.json)" in refused.refused



def test_a_return_imported_again_is_already_recorded_and_one_killed_halfway_gets_its_outcomes(tmp_path: Path) -> None:
    """importer given an ASP return records its deposit file, then its outcomes. Run again (or
    after a SIGKILL between the two steps), it said « non inscrit — des demandes sont au
    registre, déjà déposées » (in the very file it had recorded), exit code 1, and sent the user
    to « xl2segur retour »; killed halfway, the outcomes waited for that. The file recorded from
    this very path is « déjà inscrit », and its outcomes are recorded if they were not."""
    made = _made_elsewhere(tmp_path / "a", "00001", "00002")
    returned = asp_return(made, tmp_path / "retours" / made.name, {"00001": "FINMS2000001", "00002": "Pièce illisible"})
    registre, flag = tmp_path / "registre.sqlite", tmp_path / "recorded"
    command = ["importer", str(returned), "--registre", str(registre)]
    assert _kill_when([sys.executable, "-c", _STOPPED_AFTER_THE_FIRST_FILE, str(flag), *command], flag.exists)
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT statut FROM demandes ORDER BY id").fetchall() == [("deposee",), ("deposee",)]
    runner = CliRunner()
    result = runner.invoke(app, command)
    assert result.exit_code == 0, result.output
    text = _words(result.output)
    assert (f"{made.name} : déjà inscrit au registre, tel quel (ms2-dui-pds-avance, 2 demandes, déposé le "
            "12/03/2024) retour de l'ASP enregistré : acceptée 1, rejetée 1") in text, text
    result = runner.invoke(app, command)
    assert result.exit_code == 0, result.output
    assert (f"{made.name} : déjà inscrit au registre, tel quel (ms2-dui-pds-avance, 2 demandes, déposé le "
            "12/03/2024) : rien à faire") in _words(result.output)
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT numero_editeur, statut, numero_asp FROM demandes ORDER BY id").fetchall() == [
            ("00001", "acceptee", "FINMS2000001"), ("00002", "rejetee", None)]
        assert db.execute("SELECT count(*) FROM fichiers").fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM retours").fetchone()[0] == 2

def test_a_file_saved_with_a_bom_imported_in_its_deposit_folder_lets_later_conversions_run(tmp_path: Path) -> None:
    """importer reads a file saved in UTF-8 with a BOM (Windows tools); left in the deposit
    folder, it stopped every later conversion there: « n'a plus les demandes que le registre a
    inscrites sous ce nom (modifié à la main…) : mettez-le de côté », false."""
    out = tmp_path / "depot"
    out.mkdir()
    saved = out / "JSON-0123456789-20240312-001.json"
    saved.write_bytes(b"\xef\xbb\xbf" + _made_elsewhere(tmp_path, "00001").read_bytes().replace(b"\n", b"\r\n"))
    registre = tmp_path / "registre.sqlite"
    assert [i.refused for i in api.import_deposits([saved], registre)] == [""]
    later = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00001", "00002")), out, DAY, registre=registre)
    assert [p.name for p in later.files] == ["JSON-0123456789-20240312-002.json"]
    assert [(i.code, i.numero_editeur) for i in later.errors] == [("deja_deposee", "00001")]


def test_reecrire_keeps_an_imported_file_found_in_place_as_it_is(tmp_path: Path) -> None:
    """The ledger keeps an imported file as deposited, not byte for byte: found in place (saved
    with a BOM and CRLF), it was « un autre contenu que celui inscrit au registre », exit 2,
    with the advice to move it away; it is the recorded file, kept as it is."""
    out = tmp_path / "depot"
    out.mkdir()
    saved = out / "JSON-0123456789-20240312-001.json"
    saved.write_bytes(b"\xef\xbb\xbf" + _made_elsewhere(tmp_path, "00001").read_bytes().replace(b"\n", b"\r\n"))
    kept = saved.read_bytes()
    registre = tmp_path / "registre.sqlite"
    assert [i.refused for i in api.import_deposits([saved], registre)] == [""]
    result = CliRunner().invoke(app, ["reecrire", saved.name, "--registre", str(registre)])
    assert result.exit_code == 0, result.output
    assert "est déjà là, identique à celui inscrit au registre : il est gardé tel quel" in _words(result.output)
    assert saved.read_bytes() == kept
    saved.write_bytes(kept.replace(b'"00001"', b'"00009"'))  # another demande: still never overwritten
    result = CliRunner().invoke(app, ["reecrire", saved.name, "--registre", str(registre)])
    assert result.exit_code == 2 and "existe déjà avec un autre contenu" in _words(result.output)


def test_a_withdrawn_file_imported_again_is_sent_to_retirer_annuler(tmp_path: Path) -> None:
    """A file withdrawn, then found to be uploaded after all, given to importer: its name is in
    the ledger (withdrawn), so it is not recorded twice; the message said only « un fichier
    nommé … est déjà au registre », no way out; it names « xl2segur retirer --annuler », which works."""
    made = _made_elsewhere(tmp_path, "00001", "00002")
    registre = tmp_path / "registre.sqlite"
    api.import_deposits([made], registre)
    _, aside = api.withdraw(made.name, registre)
    [again] = api.import_deposits([aside], registre)
    assert again.refused == (
        f"un fichier nommé {made.name} est au registre, retiré le {date.today().isoformat()} : s'il a été déposé sur "
        f"le portail, annulez ce retrait avec « xl2segur retirer --annuler {made.name} » (ses demandes sont de "
        "nouveau inscrites, son retour s'enregistre ensuite)")
    assert api.restore(made.name, registre)[0] == 2


def test_a_file_that_is_not_json_is_refused_with_advice_for_a_deposit_file(tmp_path: Path) -> None:
    """A deposit file is the user's own: « Téléchargez-le à nouveau depuis le portail Ségur »
    (a return's advice) was no way out for a file saved in UTF-16, or a workbook given by mistake."""
    utf16 = tmp_path / "JSON-0123456789-20240312-001.json"
    utf16.write_bytes(_made_elsewhere(tmp_path, "00001").read_bytes().decode().encode("utf-16"))
    registre = tmp_path / "r.sqlite"
    for given in (utf16, workbook(tmp_path / "classeur.xlsx", avance_rows("00002"))):
        result = CliRunner().invoke(app, ["importer", str(given), "--registre", str(registre)])
        text = _words(result.output)
        assert result.exit_code == 2 and ("n'est pas un fichier JSON valide (il n'est pas encodé en UTF-8)" in text
                                          if given == utf16 else "n'est pas un fichier JSON : c'est une archive .zip" in text)
        assert "portail Ségur, sans le modifier" not in text
        assert "un classeur .xlsx ou .ods se convertit avec « xl2segur convertir »" in text
        assert "s'enregistre de nouveau en UTF-8" in text
    assert not registre.exists()


def test_an_imported_file_withdrawn_by_its_path_after_its_folder_moved_is_set_aside(tmp_path: Path) -> None:
    """retirer sets aside the file the user names when its folder moved, if it is the recorded
    one; an imported file (recorded as deposited, not byte for byte) was left where it could
    still be uploaded, with « où qu'il soit, mettez-le de côté »."""
    old = tmp_path / "anciens"
    old.mkdir()
    saved = old / "JSON-0123456789-20240312-001.json"
    saved.write_bytes(_made_elsewhere(tmp_path, "00001").read_bytes().replace(b"\n", b"\r\n"))
    registre = tmp_path / "registre.sqlite"
    api.import_deposits([saved], registre)
    old.rename(tmp_path / "archives")
    freed, aside = api.withdraw(str(tmp_path / "archives" / saved.name), registre)
    assert (freed, aside) == (1, tmp_path / "archives" / "retires" / saved.name)
    assert not (tmp_path / "archives" / saved.name).exists()


def test_an_imported_file_whose_withdrawal_was_killed_is_set_aside_when_run_again(tmp_path: Path) -> None:
    """Killed once the ledger freed the demandes, before the file went into retires/: run again,
    retirer finishes the job for a file xl2segur wrote; for an imported one (recorded as
    deposited, not byte for byte) it said « déjà retiré », exit 2, and left it uploadable; the
    same for its undoing (« n'est pas retiré », the file left in retires/)."""
    out = tmp_path / "depot"
    out.mkdir()
    saved = out / "JSON-0123456789-20240312-001.json"
    saved.write_bytes(b"\xef\xbb\xbf" + _made_elsewhere(tmp_path, "00001").read_bytes().replace(b"\n", b"\r\n"))
    registre = tmp_path / "registre.sqlite"
    api.import_deposits([saved], registre)
    withdrawn_and_restored_through_kills(tmp_path, saved, registre)


def test_an_imported_file_renamed_by_hand_in_its_folder_is_told_by_its_content(tmp_path: Path) -> None:
    """A file renamed by hand in the deposit folder is recognised by its content: the message
    gives the name to give back. An imported one (recorded as deposited, not byte for byte) was
    « unknown to the ledger … inscrivez-les avec xl2segur importer », which then refused it (its
    demandes in the ledger): no way out."""
    out = tmp_path / "depot"
    out.mkdir()
    saved = out / "JSON-0123456789-20240312-001.json"
    saved.write_bytes(_made_elsewhere(tmp_path, "00001").read_bytes())
    registre = tmp_path / "registre.sqlite"
    api.import_deposits([saved], registre)
    saved.rename(out / "JSON-0123456789-20240312-009.json")
    with pytest.raises(OutputError) as refused:
        api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00002")), out, DAY, registre=registre)
    assert ("« JSON-0123456789-20240312-009.json » est le fichier « JSON-0123456789-20240312-001.json » du "
            "registre, renommé : rendez-lui son nom") in str(refused.value)
    assert "ne connaît pas" not in str(refused.value)


def test_an_amount_beyond_the_cent_is_refused_not_rounded(tmp_path: Path) -> None:
    """The seeds want « FLOAT (2 chiffres après la virgule) »; the schema lets any number pass,
    and the ledger recorded 4866.675 as 4866.68, a silent rounding (FORMATS.md: never)."""
    made = _made_elsewhere(tmp_path, "00001", "00002")
    data = orjson.loads(made.read_bytes())
    data["lignesImport"][1]["commande"]["montantSegurHT"] = 4866.675
    beyond = tmp_path / "JSON-0123456789-20240312-001.json"
    beyond.write_bytes(orjson.dumps(data))
    registre = tmp_path / "registre.sqlite"
    [refused] = api.import_deposits([beyond], registre)
    assert refused.refused == (
        "la demande n° 2 (00002) a un montantSegurHT de 4866.675 : plus de deux décimales, quand l'ASP veut un montant "
        "au centime (FLOAT à 2 chiffres après la virgule) ; xl2segur ne l'arrondit pas : corrigez le fichier")
    assert not registre.exists()
    data["lignesImport"][1]["commande"]["montantSegurHT"] = 4866  # a whole number of euros is to the cent
    beyond.write_bytes(orjson.dumps(data))
    assert [i.refused for i in api.import_deposits([beyond], registre)] == [""]
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT montant FROM demandes ORDER BY id").fetchall() == [("4866.67",), ("4866.00",)]


def test_a_colleague_s_file_named_as_one_of_the_ledger_s_says_how_to_import_it(tmp_path: Path) -> None:
    """Two ledgers each wrote their JSON-0123456789-20240312-001.json, with other demandes;
    importing the colleague's said « un fichier nommé … est déjà au registre », no way out.
    A copy under another name is imported (its date, the copy's modification day)."""
    mine = api.convert(workbook(tmp_path / "a.xlsx", avance_rows("00001")), tmp_path / "depot", DAY).files[0]
    theirs = _made_elsewhere(tmp_path / "collegue", "00002")
    assert theirs.name == mine.name
    [refused] = api.import_deposits([theirs], default_path())
    assert _words(refused.refused) == (
        f"un autre fichier de dépôt, avec d'autres demandes, est déjà inscrit au registre sous le nom {mine.name} (écrit "
        "avec un autre registre le même jour, au même rang) : deux dépôts ne peuvent pas y porter le même nom. Si "
        f"celui-ci a bien été déposé sur le portail, inscrivez-en une copie sous un autre nom (par exemple "
        f"« collegue-{mine.name} »), datée du jour de sa dernière modification")
    copy = tmp_path / f"collegue-{theirs.name}"
    copy.write_bytes(theirs.read_bytes())
    [imported] = api.import_deposits([copy], default_path())
    assert imported.refused == "" and imported.demandes == 1


def test_an_imported_return_whose_outcomes_are_not_recorded_says_why(tmp_path: Path) -> None:
    """An MS2 solde file's return, one solde left untreated: its deposit is imported, its outcomes
    cannot be recorded (a solde file is recorded only if all its soldes pass). importer said
    « retour de l'ASP enregistré : non enregistrée 2 », no reason, exit code 0."""
    from tests.test_returns import _edit, _ms2_soldes, _untreated

    _, _, solde = _ms2_soldes(tmp_path)
    returned = _edit(asp_return(solde, tmp_path / "ailleurs" / "retour-solde.json",
                                {"00001": "Demande acceptée", "00002": "Demande acceptée"}), _untreated("00002"))
    registre = tmp_path / "autre.sqlite"
    result = CliRunner().invoke(app, ["importer", str(returned), "--registre", str(registre)])
    assert result.exit_code == 1, result.output
    text = _words(result.output)
    assert "retour-solde.json : inscrit (ms2-dui-pds-solde, 2 demandes" in text
    assert "retour de l'ASP enregistré" not in text
    assert ("retour de l'ASP non enregistré — 00001 : L'ASP n'a pas traité 00002 dans ce retour (codeTraitement et "
            "libelleTraitement vides)") in text
    with sqlite3.connect(registre) as db:
        assert db.execute("SELECT statut FROM demandes").fetchall() == [("deposee",), ("deposee",)]


def test_the_attachments_key_spelled_another_way_is_said_to_be_a_reading_not_an_asp_refusal(tmp_path: Path) -> None:
    """A solde file spelling its attachments « piecesJustificatives » was refused with « l'ASP le
    rejetterait »: no document says so (seed 001 shows only a label, the solde seeds spell it
    « piecesjustificatives »). It is still not recorded, and the message says what is known."""
    def respelled(data: dict) -> None:
        line = data["lignesImport"][0]
        line["piecesjustificatives"] = line.pop("piecesJustificatives")
    result, registre = _import_edited(tmp_path, respelled)
    assert result.exit_code == 1
    text = _words(result.output)
    assert "rejetterait" not in text and not registre.exists()
    assert "tel que xl2segur le lit dans les documents de l'ASP" in text
    assert ("La balise des pièces justificatives y est écrite « piecesjustificatives », xl2segur l'écrit "
            "« piecesJustificatives » pour ce format : c'est une lecture des documents de l'ASP") in text
    assert "rien ne dit que l'ASP refuse l'autre écriture" in text
