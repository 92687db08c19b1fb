"""A year's ledger: `etat` and `solde` without reading every stored file (ledger version 4 keeps
each demande's VAT regime), advances over columns of integer cents; the same answers, to the
cent, as the funding rule on each demande as deposited; the migration of an older ledger."""

from __future__ import annotations

import os
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


def test_a_damaged_file_stops_the_migration_and_leaves_the_ledger_as_it_was(tmp_path: Path) -> None:
    registre = _year(tmp_path)
    _as_version_3(registre)
    with sqlite3.connect(registre) as db:
        db.execute("UPDATE fichiers SET contenu = ? WHERE id = 2", (ledger.pack(b"{not json"),))
    db.close()
    with pytest.raises(LedgerError, match="est abîmé"):
        Ledger(registre)
    with sqlite3.connect(registre) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 3
    db.close()
    assert "regime" not in _columns(registre)


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
