"""A year's ledger: `etat` and `solde` without reading every stored file (ledger version 4 keeps
each demande's VAT regime), advances over columns of integer cents; the same answers, to the
cent, as the funding rule on each demande as deposited; the migration of an older ledger."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import orjson
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converter import api, ledger, status
from converter.funding.amounts import avance_demande
from converter.ledger import ACCEPTEE, DEPOSEE, REJETEE, RETIREE, Ledger, LedgerError
from tests.builders import workbook, workbook_parts
from tests.test_cycle import DAY, asp_return, avance_rows

RATE = Decimal("0.30")
AMOUNTS = ["4866.67", "1000.05", "0.05", "1234.50", "999999.99", "0.15", "33.33", "12.35"]


def _year(tmp_path: Path) -> Path:
    """A small ledger of a year's kinds: avances TTC and HT of both MS2 formats, returned
    (accepted, rejected), one withdrawn, one imported (its amounts as JSON numbers give them)."""
    registre = tmp_path / "registre.sqlite"
    out = tmp_path / "depot"
    for fmt, first in (("ms2-dui-pds-avance", 1), ("ms2-dui-pde-avance", 20)):
        numeros = [f"{first + i:05d}" for i in range(len(AMOUNTS))]
        rows = avance_rows(*numeros)
        if fmt == "ms2-dui-pde-avance":
            for row in rows["Scénarios"]:
                row.pop("profilMetier", None)
        for i, (row, amount) in enumerate(zip(rows["Demandes"], AMOUNTS)):
            row["montantSegurHT"], row["regimeTVA"] = amount, "HT" if i % 3 == 0 else "TTC"
        made = api.convert(workbook(tmp_path / f"{fmt}.xlsx", rows, fmt), out, DAY, registre=registre)
        assert made.errors == [], made.errors
        returned = asp_return(made.files[0], tmp_path / f"r-{fmt}.json",
                              {ne: f"FINMS2{ne:0>6}" if i % 4 else "Pièce illisible" for i, ne in enumerate(numeros)})
        api.ingest_returns([returned], registre)
    rows = avance_rows("00040", "00041")
    again = api.convert(workbook(tmp_path / "w.xlsx", rows), out, DAY, registre=registre)
    api.withdraw(again.files[0].name, registre)
    rows = avance_rows("00050", "00051")
    rows["Demandes"][1]["regimeTVA"] = "HT"
    last = api.convert(workbook(tmp_path / "x.xlsx", rows), tmp_path / "ailleurs", DAY, registre=tmp_path / "autre.sqlite")
    data = orjson.loads(last.files[0].read_bytes())
    data["lignesImport"][0]["commande"]["montantSegurHT"] = 4866.5  # one decimal, as a JSON number may be
    imported = tmp_path / "import" / "JSON-0123456789-20240313-001.json"
    imported.parent.mkdir()
    imported.write_bytes(orjson.dumps(data))
    assert not api.import_deposits([imported], registre)[0].refused
    return registre


def _expected(registre: Path) -> dict[str, str | None]:
    """numeroEditeur → its expected advance, by the rule, one demande at a time, from the
    deposit file as stored (its regimeTVA and amount as deposited)."""
    expected = {}
    with Ledger(registre) as book:
        for row in book.db.execute("SELECT * FROM demandes ORDER BY id").fetchall():
            demande = book.demande(row)
            paid = row["statut"] in (DEPOSEE, ACCEPTEE)
            expected[row["numero_editeur"]] = str(avance_demande(
                row["montant"], demande["commande"]["regimeTVA"], RATE).avance) if paid else None
    return expected


def _status(registre: Path, target: Path) -> tuple[list[tuple], list[tuple], list[list]]:
    found, written = api.ledger_status(registre, target)
    book = openpyxl.load_workbook(written, read_only=True)
    cells = [[c for row in sheet.iter_rows(values_only=True) for c in row] for sheet in book]
    return ([(c.format_id, c.state, c.demandes, c.amount, c.advance) for c in found.counts],
            found.demandes.rows(), cells)


def test_etat_gives_each_advance_as_the_rule_does_on_the_demande_as_deposited(tmp_path: Path) -> None:
    registre = _year(tmp_path)
    found, _ = api.ledger_status(registre, tmp_path / "etat.xlsx")
    got = dict(zip(found.demandes["numeroEditeur"], found.demandes["Avance attendue"]))
    expected = _expected(registre)
    assert got == expected
    # TTC (1000.05 × 1,2 × 30 %) and HT (1234.50 × 30 %) both met, and an amount of one decimal imported
    assert (expected["00002"], expected["00004"], expected["00050"]) == ("360.02", "370.35", "1751.94")
    assert sorted(set(zip(found.demandes["numeroEditeur"], found.demandes["État"])))[0][0] == "00001"
    for count in found.counts:  # each total the sum of its demandes' advances
        if count.advance is not None and count.state in (DEPOSEE, ACCEPTEE):
            mine = found.demandes.filter(pl.col("Format") == count.format_id)
            assert count.advance == sum(
                (Decimal(a) for a, e in zip(mine["Avance attendue"], mine["État"]) if a and e == status.STATES[count.state]
                 or (a and count.state == ACCEPTEE and e == status.STATES[status.WAITING_SOLDE])), Decimal(0))


def _plain_amounts() -> st.SearchStrategy[str]:
    digits = st.integers(0, 10**33)
    return st.one_of(
        st.builds(lambda s, w, d: f"{s}{w}" + (f".{d}" if d is not None else ""), st.sampled_from(["", "-"]), digits,
                  st.one_of(st.none(), st.text("0123456789", max_size=5))),
        st.sampled_from(["1e3", "1E+2", "12.5e-1", "4866.675", "0.005", "-0.005", "0.0049999", "12."]))


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(_plain_amounts(), st.sampled_from(["TTC", "HT", None, "ttc"]),
                               st.sampled_from([DEPOSEE, ACCEPTEE, REJETEE, RETIREE]),
                               st.sampled_from(["ms2-dui-pds-avance", "ms2-dui-pde-avance", "ms2-dui-pds-solde"])),
                     max_size=30))
def test_the_advances_over_columns_are_the_rules_to_the_cent(rows: list[tuple[str, str | None, str, str]]) -> None:
    frame = pl.DataFrame(rows, schema={"montant": pl.String, "regime": pl.String, "statut": pl.String,
                                       "format": pl.String}, orient="row")
    expected = [avance_demande(m, r, RATE).avance if s in (DEPOSEE, ACCEPTEE) and f.endswith("avance") else None
                for m, r, s, f in rows]
    found = status._advances(frame).to_list()
    # « -0.00 » for « -0.001 » in Decimal: the same cents (the workbook holds Polars decimals, without a sign for 0)
    assert [None if a is None else Decimal(a) for a in found] == expected
    assert all(a is None or a == f"{Decimal(a):.2f}" for a in found)


def _as_version_3(registre: Path) -> None:
    """The ledger as the previous version left it: no `regime` column, user_version 3."""
    with sqlite3.connect(registre) as db:
        db.execute("ALTER TABLE demandes DROP COLUMN regime")
        db.execute("PRAGMA user_version = 3")
    db.close()


def _columns(registre: Path) -> list[str]:
    with sqlite3.connect(registre) as db:
        names = [r[1] for r in db.execute("PRAGMA table_info(demandes)")]
    db.close()
    return names


def test_a_ledger_of_version_3_opens_migrated_and_says_the_same(tmp_path: Path) -> None:
    registre = _year(tmp_path)
    with sqlite3.connect(registre) as db:
        regimes = db.execute("SELECT id, regime FROM demandes ORDER BY id").fetchall()
    db.close()
    assert {r for _, r in regimes} == {"TTC", "HT"}
    before = _status(registre, tmp_path / "avant.xlsx")
    _as_version_3(registre)
    assert "regime" not in _columns(registre)
    after = _status(registre, tmp_path / "apres.xlsx")
    assert after == before
    with sqlite3.connect(registre) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == ledger.SCHEMA_VERSION == 4
        assert db.execute("SELECT id, regime FROM demandes ORDER BY id").fetchall() == regimes
    db.close()


_KILLED_MIGRATION = """
import os, signal, sys
from converter import ledger
calls = []
unpack = ledger.unpack
def dying(packed):
    calls.append(1)
    if len(calls) == 2:  # the regimes of the first file updated, in the migration's transaction
        os.kill(os.getpid(), signal.SIGKILL)
    return unpack(packed)
ledger.unpack = dying
ledger.Ledger(sys.argv[1]).close()
"""


def test_a_migration_killed_halfway_leaves_the_older_ledger_whole(tmp_path: Path) -> None:
    registre = _year(tmp_path)
    before = _status(registre, tmp_path / "avant.xlsx")
    _as_version_3(registre)
    with sqlite3.connect(registre) as db:
        rows = db.execute("SELECT * FROM demandes ORDER BY id").fetchall()
    db.close()
    killed = subprocess.run([sys.executable, "-c", _KILLED_MIGRATION, str(registre)],
                            cwd=Path(__file__).parents[1], capture_output=True, env={**os.environ})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    with sqlite3.connect(registre) as db:  # the journal rolled back: version 3, as it was
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3
        assert db.execute("SELECT * FROM demandes ORDER BY id").fetchall() == rows
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    assert "regime" not in _columns(registre)
    assert _status(registre, tmp_path / "apres.xlsx") == before  # migrated at the next opening


def _damaged_ledger(tmp_path: Path, version: int, blob: bytes) -> tuple[Path, Path, Path, Path]:
    """A ledger of `version` (3: as the previous version left it) whose stored copy of its first
    file (00001 TTC, 00002 HT) is `blob`, a second file (00003) beside it: (ledger, first file,
    second file, the ASP's return of the second)."""
    registre, out = tmp_path / "registre.sqlite", tmp_path / "depot"
    rows = avance_rows("00001", "00002")
    rows["Demandes"][1]["regimeTVA"] = "HT"
    first = api.convert(workbook(tmp_path / "a.xlsx", rows), out, DAY, registre=registre).files[0]
    second = api.convert(workbook(tmp_path / "b.xlsx", avance_rows("00003")), out, DAY, registre=registre).files[0]
    returned = asp_return(second, tmp_path / "retours" / second.name, {"00003": "FINMS2000003"})
    if version == 3:
        _as_version_3(registre)
    with sqlite3.connect(registre) as db:
        db.execute("UPDATE fichiers SET contenu = ? WHERE nom = ?", (blob, first.name))
    db.close()
    return registre, first, second, returned


DAMAGES = {"zstd": b"\x28\xb5\x2f\xfd abime", "json": ledger.pack(b'{"lignesImport": [{"numeroEdit')}


@pytest.mark.parametrize("version", [3, 4])
@pytest.mark.parametrize("damage", list(DAMAGES))
def test_a_damaged_stored_file_locks_out_only_the_commands_that_need_it(tmp_path: Path, version: int,
                                                                       damage: str) -> None:
    """One stored copy that no longer reads back (a ledger of version 3 could not be migrated:
    every command refused it). The ledger still knows each demande (numéro, amount, FINESS,
    state): convertir, retour, retirer keep the promise without the copy; the commands that need
    it (reecrire, the advance of etat for a ledger migrated from version 3) name the file and say
    how to get it back: `importer` of the file as deposited."""
    registre, first, second, returned = _damaged_ledger(tmp_path, version, DAMAGES[damage])
    # convertir, into the same folder (its files compared with the ledger's) and elsewhere
    again = api.convert(workbook(tmp_path / "c.xlsx", avance_rows("00001", "00004")), tmp_path / "depot", DAY,
                        registre=registre)
    assert (again.accepted, again.rejected) == (["00004"], ["00001"])  # 00001 still deposited: refused
    elsewhere = api.convert(workbook(tmp_path / "d.xlsx", avance_rows("00002", "00005")), tmp_path / "ailleurs", DAY,
                            registre=registre)
    assert (elsewhere.accepted, elsewhere.rejected) == (["00005"], ["00002"])
    with sqlite3.connect(registre) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == ledger.SCHEMA_VERSION
        regimes = dict(db.execute("SELECT numero_editeur, regime FROM demandes"))
    db.close()
    assert regimes == {"00001": None if version == 3 else "TTC", "00002": None if version == 3 else "HT",
                       "00003": "TTC", "00004": "TTC", "00005": "TTC"}
    # etat: the advance of a demande whose regime is unknown is not guessed (HT would be 30 % of
    # 4 866,67 € when the supplier is TTC); the file is named
    found, _ = api.ledger_status(registre, tmp_path / "etat.xlsx")
    advances = dict(zip(found.demandes["numeroEditeur"], found.demandes["Avance attendue"]))
    assert advances["00003"] == "1752.00"
    if version == 3:
        assert (advances["00001"], advances["00002"]) == (None, None)
        [said] = found.unread
        assert f"« {first.name} »" in said and "xl2segur importer" in said, said
    else:
        assert (advances["00001"], advances["00002"], found.unread) == ("1752.00", "1460.00", [])
    # reecrire of that file: refused, the file named
    with pytest.raises(LedgerError, match=f"sa copie du fichier de dépôt « {first.name} »"):
        api.rewrite(first.name, registre, tmp_path / "copie")
    assert api.rewrite(second.name, registre, tmp_path / "copie").path.read_bytes() == second.read_bytes()
    # importer of another file under its name (other demandes) gives nothing back; of the file as
    # deposited, its copy: reecrire writes it again, etat counts its advances
    other = tmp_path / "autre" / first.name
    other.parent.mkdir()
    other.write_bytes(second.read_bytes())
    [refused] = api.import_deposits([other], registre)
    assert refused.refused and not refused.repaired
    [repaired] = api.import_deposits([first], registre)
    assert (repaired.refused, repaired.repaired, repaired.demandes) == ("", True, 2)
    assert api.rewrite(first.name, registre, tmp_path / "copie").path.read_bytes() == first.read_bytes()
    found, _ = api.ledger_status(registre, tmp_path / "etat-2.xlsx")
    advances = dict(zip(found.demandes["numeroEditeur"], found.demandes["Avance attendue"]))
    assert (advances["00001"], advances["00002"], found.unread) == ("1752.00", "1460.00", [])
    with sqlite3.connect(registre) as db:
        db.execute("UPDATE fichiers SET contenu = ? WHERE nom = ?", (DAMAGES[damage], first.name))
    db.close()
    # retour, then retirer of the damaged file (undone, then again): its demandes freed, converted again
    api.ingest_returns([returned], registre, tmp_path / "bilan.xlsx")
    assert api.withdraw(first.name, registre) == (2, tmp_path / "depot" / "retires" / first.name)
    assert api.restore(first.name, registre) == (2, tmp_path / "depot" / first.name)  # retirer --annuler
    assert api.withdraw(first.name, registre) == (2, tmp_path / "depot" / "retires" / first.name)
    last = api.convert(workbook(tmp_path / "e.xlsx", avance_rows("00001")), tmp_path / "depot", DAY, registre=registre)
    assert last.accepted == ["00001"]


@pytest.mark.parametrize("version", [3, 4])
def test_a_damaged_stored_file_is_answered_and_its_solde_names_it(tmp_path: Path, version: int) -> None:
    """The ASP's return of the file whose copy is damaged is recorded (matched by the demandes the
    ledger holds); the solde of its avances needs the copy (what the avance declared): the file
    is named, and given back by importer, the solde is written."""
    registre, first, _, _ = _damaged_ledger(tmp_path, version, DAMAGES["zstd"])
    returned = asp_return(first, tmp_path / "retours" / first.name, {"00001": "FINMS2000001", "00002": "FINMS2000002"})
    lines, _ = api.ingest_returns([returned], registre, tmp_path / "bilan.xlsx")
    assert [(x.numero_editeur, x.statut) for x in lines] == [("00001", ACCEPTEE), ("00002", ACCEPTEE)]
    with pytest.raises(LedgerError, match=f"sa copie du fichier de dépôt « {first.name} »"):
        api.write_solde_workbooks(registre, "ms2-dui-pds-avance", tmp_path / "soldes")
    assert not (tmp_path / "soldes").exists() or not list((tmp_path / "soldes").iterdir())
    [repaired] = api.import_deposits([returned], registre)  # the ASP's return holds the file as deposited
    assert repaired.repaired and repaired.returns == []
    _, written = api.write_solde_workbooks(registre, "ms2-dui-pds-avance", tmp_path / "soldes")
    assert [n for _, n in written] == [2]


def test_a_ledger_of_version_1_with_a_damaged_demande_is_migrated_and_etat_names_its_file(tmp_path: Path) -> None:
    """Version 1 kept each demande's JSON in its row: one that no longer reads back leaves its
    regime unknown, as a damaged file of version 2 or 3."""
    from tests.test_cycle import ledger_of_version_1

    registre = tmp_path / "registre.sqlite"
    ledger_of_version_1(registre, '{"commande": {"regimeTV', ["123456789"])
    found, _ = api.ledger_status(registre, tmp_path / "etat.xlsx")
    assert found.demandes["Avance attendue"].to_list() == [None]
    [said] = found.unread
    assert "« JSON-0123456789-20240312-001.json »" in said


def test_a_moved_folder_holding_a_file_whose_copy_is_damaged_is_still_converted_into(tmp_path: Path) -> None:
    """The deposit folder moved: each file is known by its name and its demandes; one whose copy
    is damaged by the demandes the ledger holds of it (its numbers, in order), not taken for
    another ledger's file (the conversion refused)."""
    registre, first, _, _ = _damaged_ledger(tmp_path, 4, DAMAGES["zstd"])
    moved = (tmp_path / "depot").rename(tmp_path / "depot-2024")
    again = api.convert(workbook(tmp_path / "c.xlsx", avance_rows("00001", "00004")), moved, DAY, registre=registre)
    assert (again.accepted, again.rejected) == (["00004"], ["00001"])
    # another file under its name, with other demandes, is still a stranger there
    (moved / first.name).write_bytes((moved / again.files[0].name).read_bytes().replace(b'"00004"', b'"00009"'))
    with pytest.raises(LedgerError, match="n'a plus les demandes|ne connaît pas"):
        api.convert(workbook(tmp_path / "d.xlsx", avance_rows("00005")), moved, DAY, registre=registre)


def test_a_renamed_or_copied_file_whose_copy_is_damaged_is_named_not_unknown(tmp_path: Path) -> None:
    """A synced folder renamed the file « … (1).json » (OneDrive), or left a « conflicted copy »
    of it (Dropbox), and the ledger's copy of it is damaged: `convertir` refused the folder
    (safe) calling the file one « que le registre ne connaît pas », written with another
    ledger: the way out it gave (`importer`) fails, its demandes being in the ledger. Known by
    the demandes the ledger holds of it, it is named: give its name back, or delete the copy."""
    registre, first, _, _ = _damaged_ledger(tmp_path, 4, DAMAGES["zstd"])
    renamed = first.rename(first.with_name(f"{first.stem} (1).json"))
    book = workbook(tmp_path / "c.xlsx", avance_rows("00004"))
    with pytest.raises(LedgerError) as refused:
        api.convert(book, first.parent, DAY, registre=registre)
    said = " ".join(str(refused.value).split())
    assert f"« {renamed.name} » est le fichier « {first.name} » du registre, renommé : rendez-lui son nom" in said, said
    assert "ne connaît pas" not in said
    renamed.rename(first)
    conflicted = first.with_name(f"{first.stem} (conflicted copy 2024-03-12).json")
    conflicted.write_bytes(first.read_bytes())
    with pytest.raises(LedgerError, match=f"« {re.escape(conflicted.name)} » est une copie de « {first.name} »"):
        api.convert(book, first.parent, DAY, registre=registre)
    conflicted.unlink()
    assert api.convert(book, first.parent, DAY, registre=registre).accepted == ["00004"]


def test_a_damaged_migration_is_still_atomic(tmp_path: Path) -> None:
    """Migrated with a damaged file, then killed before the commit: version 3, as it was."""
    registre, *_ = _damaged_ledger(tmp_path, 3, DAMAGES["zstd"])
    killed = subprocess.run([sys.executable, "-c", _KILLED_MIGRATION, str(registre)],
                            cwd=Path(__file__).parents[1], capture_output=True, env={**os.environ})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert "regime" not in _columns(registre)
    with Ledger(registre):
        pass
    assert "regime" in _columns(registre)


TEXTS = ["00001", " un espace devant", "après ", "a & b < c > d", "_x0001_ écrit tel quel", "\x01contrôle\x1f",
         "\ufffe", "tab\tet\nligne", "« Demande acceptée »", "", "=SOMME(A1)", "x" * 40_000]


def test_the_rows_rendered_by_polars_are_the_bytes_xlsxwriter_writes(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows of « Demandes » and « Historique des retours » are rendered by Polars
    (converter/fastxlsx.py): the workbook is, part by part, byte for byte, the one its serial
    twin writes cell by cell with xlsxwriter (escapes, kept spaces, amounts and their style)."""
    from converter import concurrency

    n = len(TEXTS)
    frame = pl.DataFrame({"numeroAns": TEXTS, "Montant HT": ["4866.67", None, "-0.05", "1" * 20 + ".05"] * (n // 4),
                          "Avance attendue": [None, "1460.00", "0.07", "12.30"] * (n // 4),
                          "Fichier": [None, *TEXTS[1:]]})
    counts = [status.Count("ms2-dui-pds-avance", "avance", ACCEPTEE, 3, Decimal("12.50"), Decimal("3.75"))]
    fast = status.write_status(status.LedgerStatus(counts, frame, frame.head(3), ["deux fois"]), tmp_path / "etat.xlsx")
    monkeypatch.setattr(concurrency, "SERIAL", True)
    serial = status.write_status(status.LedgerStatus(counts, frame, frame.head(3), ["deux fois"]), tmp_path / "serie.xlsx")
    assert workbook_parts(fast) == workbook_parts(serial)
    assert b"<v>0.07000000000000001</v>" in workbook_parts(fast)["xl/worksheets/sheet2.xml"]  # as xlsxwriter writes 0.07


def test_etat_reads_no_stored_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`etat` read each demande's VAT regime from its file's stored content, decompressed: 25 s
    of a year's ledger. The ledger keeps it (version 4): no stored file is read."""
    registre = _year(tmp_path)
    expected = _expected(registre)

    def unread(packed: bytes) -> bytes:
        raise AssertionError("etat decompressed a stored deposit file")

    monkeypatch.setattr(ledger, "unpack", unread)
    found, _ = api.ledger_status(registre, tmp_path / "etat.xlsx")
    assert dict(zip(found.demandes["numeroEditeur"], found.demandes["Avance attendue"])) == expected


def test_the_solde_workbook_is_written_without_holding_every_cell(tmp_path: Path) -> None:
    """The solde workbook of a year's accepted avances (40,000 demandes): xlsxwriter held every
    cell until it saved, 400 Mio for `solde`. Its rows now go to the file as they are written
    (as an error workbook's): four times the rows, not four times the memory."""
    import tracemalloc

    from converter.formats import get_format
    from converter.workbook import write_workbook
    from tests.builders_solde import seed_000_rows

    definition = get_format("ms2-dui-pds-solde")
    one = seed_000_rows()

    def peak(n: int) -> int:
        rows = {name: [{**row, "numeroEditeur": f"{i:05d}"} for i in range(n) for row in found]
                for name, found in one.items()}
        tracemalloc.start()
        try:
            write_workbook(definition, tmp_path / f"solde-{n}.xlsx", header={"numeroAns": "0123456789"}, rows=rows,
                           numbered=True, typed=True)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(100)  # what is made once (formats, caches), then only what grows with the rows
    small, large = peak(500), peak(2_000)
    # held whole, some 4,000 bytes more per row (3.0 then 9.0 Mo); row by row, under 500 (the
    # rows' places kept for the issues: 1.0 then 1.7 Mo)
    assert (large - small) / 1_500 < 1_500, (small, large)
