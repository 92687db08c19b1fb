"""Property: whatever the sequence of convert / retour (contradicting, --confirmer, --depot, saved
again re-encoded) / solde / re-export / withdraw / restore / importer (a colleague's file, into a
deposit folder or from elsewhere, imported again), no numeroEditeur is live (written, neither
rejected nor withdrawn) in two deposits of the same nature and numeroAns; no two recorded files
share a name or a rank; every recorded file is done, on disk where the ledger says with its
recorded content (an imported one: its JSON), and can be written again as it was; each
demande's state is the last answer recorded for it; etat counts the ledger."""

from __future__ import annotations

import os
import sqlite3
from decimal import Decimal
from pathlib import Path

import orjson
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from converter import api
from converter.files import OutputError
from converter.ledger import ENVIRONMENT, RETIREE, Ledger
from converter.status import ledger_status
from tests.builders import workbook
from tests.ledger_machine import LedgerMachine
from tests.builders_solde import seed_000_rows
from tests.test_cycle import DAY, avance_rows

POOL = ["00001", "00002", "00003", "00004"]
numeros = st.lists(st.sampled_from(POOL), min_size=1, max_size=3, unique=True)


class LedgerCycle(LedgerMachine):
    PREFIX = "xl2segur-prop-"

    def __init__(self) -> None:
        super().__init__()
        self.returns: list[Path] = []
        self.imported: dict[str, Path] = {}  # name → the file given to importer, when recorded

    @rule(chosen=numeros, folder=st.sampled_from(["depot", "depot-juin"]))
    def convert_avances(self, chosen: list[str], folder: str) -> None:
        api.convert(workbook(self._path("a.xlsx"), avance_rows(*chosen)), self.root / folder, DAY,
                    registre=self.registre)

    @rule(ne=st.sampled_from(POOL))
    def convert_solde(self, ne: str) -> None:
        with Ledger(self.registre) as book:
            found = [asp for (asp,) in book.db.execute(  # its deposits, newest first
                "SELECT numero_asp FROM demandes WHERE numero_ans = '0123456789' AND numero_editeur = ? "
                f"AND statut != '{RETIREE}' AND numero_asp IS NOT NULL ORDER BY id DESC", (ne,))]
        book_path = workbook(self._path("s.xlsx"), seed_000_rows(ne, found[0] if found else "FINMS2000009"),
                             fmt="ms2-dui-pds-solde")
        api.convert(book_path, self.root / "depot", DAY, registre=self.registre)
        if self.registre.exists():
            api.write_solde_workbooks(self.registre, "ms2-dui-pds-avance", self._path("soldes"))

    @rule(pick=st.integers(min_value=0), accept=st.lists(st.booleans(), min_size=3, max_size=3),
          confirm=st.booleans(), named=st.booleans(), imp_id=st.booleans())
    def retour(self, pick: int, accept: list[bool], confirm: bool, named: bool, imp_id: bool) -> None:
        """The ASP's return of a recorded file (an impId of its own: another import, or none), or
        a later one contradicting it, given with --confirmer or not, with --depot or not."""
        recorded = [r for r in self._recorded() if r["retire_le"] is None]
        if not recorded:
            return
        row = recorded[pick % len(recorded)]
        returned = self._asp_return(row, accept, self.steps if imp_id else None)
        self.returns.append(returned)
        api.ingest_returns([returned], self.registre, self._path("bilan.xlsx"), confirm=confirm,
                           deposit=row["nom"] if named else None)

    @rule(chosen=numeros, folder=st.sampled_from(["depot", "depot-juin", "anciens"]), gap=st.integers(0, 2),
          encoded=st.booleans())
    def import_deposit(self, chosen: list[str], folder: str, gap: int, encoded: bool) -> None:
        """A file a colleague's ledger wrote (re-encoded by an editor, or not), named as the ASP
        wants with a rank none of this ledger's files has (or a later one), imported from a
        deposit folder of later conversions or from elsewhere; refused (its demandes live here
        already), it is moved away, as the user would."""
        made = api.convert(workbook(self._path("i.xlsx"), avance_rows(*chosen)), self._path("collegue"), DAY,
                           registre=self._path("collegue.sqlite")).files[0]
        ranks = [r["rang"] for r in self._recorded()] + [int(p.name[-8:-5]) for p in self.root.glob("*/JSON-*.json")]
        target = self.root / folder / f"JSON-0123456789-{DAY:%Y%m%d}-{max(ranks, default=0) + 1 + gap:03d}.json"
        target.parent.mkdir(exist_ok=True)
        data = made.read_bytes()
        target.write_bytes(b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n") if encoded else data)
        [imported] = api.import_deposits([target], self.registre)
        if imported.refused:  # live here already, or rejected by the ASP: an avance takes a new numéro then
            assert "déjà déposées, non rejetées" in imported.refused \
                or "rejetées par l'ASP, qui exige un nouveau numéro éditeur" in imported.refused, imported.refused
            target.unlink()
        else:
            self.imported[target.name] = target
            assert (imported.day, imported.demandes) == (DAY, len(chosen))

    @rule(pick=st.integers(min_value=0))
    def import_again(self, pick: int) -> None:
        """importer run again on a file it recorded: « déjà inscrit », or refused once its
        demandes are deposited elsewhere (withdrawn, then converted); the ledger unchanged."""
        if not self.imported:
            return
        path = list(self.imported.values())[pick % len(self.imported)]
        if not path.is_file():  # withdrawn, moved into retires/
            return
        before = [tuple(r) for r in self._recorded()]
        [again] = api.import_deposits([path], self.registre)
        assert again.already or again.refused, again
        assert [tuple(r) for r in self._recorded()] == before

    @rule(pick=st.integers(min_value=0), confirm=st.booleans())
    def retour_again(self, pick: int, confirm: bool) -> None:
        """A return given before, saved again by an editor (indented, CRLF, a BOM)."""
        if not self.returns:
            return
        again = self._path("copie.json")
        again.write_bytes(b"\xef\xbb\xbf" + orjson.dumps(orjson.loads(self.returns[pick % len(self.returns)].read_bytes()),
                                                        option=orjson.OPT_INDENT_2).replace(b"\n", b"\r\n"))
        lines, _ = api.ingest_returns([again], self.registre, self._path("bilan.xlsx"), confirm=confirm)
        if confirm:  # given alone and confirmed, its answer is the one the ledger holds (a mistake undone)
            with sqlite3.connect(self.registre) as db:
                for x in lines:
                    if x.statut and x.result in ("Acceptée", "Rejetée"):
                        assert db.execute("SELECT statut FROM demandes WHERE id = ?", (x.demande_id,)).fetchone() == (
                            x.statut,), x

    @rule(pick=st.integers(min_value=0))
    def rewrite(self, pick: int) -> None:
        recorded = [r for r in self._recorded() if r["retire_le"] is None]
        if not recorded:
            return
        row = recorded[pick % len(recorded)]
        Path(row["chemin"]).unlink(missing_ok=True)
        done = api.rewrite(row["nom"], self.registre)
        with Ledger(self.registre) as book:
            assert done.path is not None and done.path.read_bytes() == book.file_bytes(row)

    @rule(pick=st.integers(min_value=0))
    def withdraw(self, pick: int) -> None:
        recorded = self._recorded()
        if not recorded:
            return
        row = recorded[pick % len(recorded)]
        try:
            freed, _ = api.withdraw(row["nom"], self.registre)
        except OutputError as exc:  # withdrawn already, or answered by the ASP: refused
            assert "déjà été retiré" in str(exc) or "l'ASP a déjà répondu" in str(exc)
        else:
            assert freed == row["n"]

    @rule(pick=st.integers(min_value=0))
    def restore(self, pick: int) -> None:
        """retirer --annuler: the withdrawn file was uploaded after all."""
        self._restored(pick)

    @invariant()
    def no_demande_live_twice(self) -> None:
        if not self.registre.exists():
            return
        with sqlite3.connect(self.registre) as db:
            twice = db.execute(
                "SELECT nature, numero_ans, numero_editeur, count(*) FROM demandes "
                "WHERE statut NOT IN ('rejetee', 'retiree') GROUP BY 1, 2, 3 HAVING count(*) > 1").fetchall()
        assert twice == []

    @invariant()
    def no_file_left_pending_and_every_file_where_the_ledger_says(self) -> None:
        """Each recorded file done, under its recorded name with its recorded content (withdrawn:
        in retires/), and no other deposit file in the deposit folders."""
        if not self.registre.exists():
            return
        recorded = self._recorded()
        assert [r["nom"] for r in recorded if r["en_attente"] is not None] == []
        with Ledger(self.registre) as book:
            for r in recorded:
                path = Path(r["chemin"])
                where = path if r["retire_le"] is None else path.parent / "retires" / path.name
                if r["nom"] in self.imported and where.read_bytes() != book.file_bytes(r):  # as given to importer
                    assert orjson.loads(where.read_bytes().removeprefix(b"\xef\xbb\xbf")) == orjson.loads(book.file_bytes(r)), r["nom"]
                else:
                    assert where.read_bytes() == book.file_bytes(r), r["nom"]
        on_disk = sorted(str(p.resolve()) for p in self.root.glob("depot*/JSON-*.json"))
        assert on_disk == sorted(r["chemin"] for r in recorded if r["retire_le"] is None and "/depot" in r["chemin"])
        assert sorted(str(p.resolve()) for p in self.root.glob("anciens/JSON-*.json")) == sorted(
            r["chemin"] for r in recorded if r["retire_le"] is None and "/anciens/" in r["chemin"])

    @invariant()
    def no_name_nor_rank_twice(self) -> None:
        """An imported file keeps its rank: no later conversion names a file after it."""
        names = [r["nom"] for r in self._recorded()]
        assert len(names) == len(set(names))
        ranks = [(r["numero_ans"], r["date_depot"], r["rang"]) for r in self._recorded() if r["rang"]]
        assert len(ranks) == len(set(ranks))

    @invariant()
    def each_statut_is_the_last_recorded_answer(self) -> None:
        """A demande answered by the ASP has the outcome of the last return recorded for it; one
        never answered is deposited, or withdrawn."""
        if not self.registre.exists():
            return
        with sqlite3.connect(self.registre) as db:
            rows = db.execute(
                "SELECT d.statut, (SELECT r.statut FROM retours r WHERE r.demande_id = d.id ORDER BY r.id DESC LIMIT 1) "
                "FROM demandes d").fetchall()
        assert all(last == statut if last else statut in ("deposee", "retiree") for statut, last in rows)

    @invariant()
    def each_return_is_recorded_once(self) -> None:
        """The same return (its content), given again, is recorded a second time for a demande
        only to bring back its answer, confirmed, after another return replaced it (a mistaken
        --confirmer undone): never twice in a row, never unconfirmed."""
        if not self.registre.exists():
            return
        with sqlite3.connect(self.registre) as db:
            rows = db.execute("SELECT demande_id, empreinte, confirme FROM retours ORDER BY demande_id, id").fetchall()
        seen: dict[int, list[str]] = {}
        for demande, digest, confirmed in rows:
            before = seen.setdefault(demande, [])
            if digest in before:
                assert confirmed == 1 and before[-1] != digest, (demande, before, digest)
            before.append(digest)

    @invariant()
    def etat_counts_what_the_ledger_holds(self) -> None:
        """etat's summary: per format and state, the demandes and their amounts, and the avances
        awaiting their solde, as counted straight from the ledger."""
        if not self.registre.exists():
            return
        with Ledger(self.registre) as book:
            status = ledger_status(book)
            truth = {(f, s): (n, Decimal(m)) for f, s, n, m in book.db.execute(
                "SELECT format, statut, count(*), printf('%.2f', sum(montant)) FROM demandes GROUP BY 1, 2")}
            # accepted with a numeroASP, no solde live under its number
            [(waiting,)] = book.db.execute(
                "SELECT count(*) FROM demandes a WHERE a.nature = 'avance' AND a.statut = 'acceptee' AND a.numero_asp "
                "IS NOT NULL AND NOT EXISTS (SELECT 1 FROM demandes s WHERE s.nature = 'solde' AND s.numero_ans = "
                "a.numero_ans AND s.numero_editeur = a.numero_editeur AND s.statut NOT IN ('rejetee', 'retiree'))")
        counts = {(c.format_id, c.state): (c.demandes, c.amount) for c in status.counts}
        assert {k: v for k, v in counts.items() if k[1] != "attente_solde"} == truth
        assert counts.get(("ms2-dui-pds-avance", "attente_solde"), (0,))[0] == waiting
        assert status.demandes.height == sum(n for n, _ in truth.values())


LedgerCycle.TestCase.settings = settings(max_examples=10, stateful_step_count=6, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow])
test_no_demande_is_live_twice = LedgerCycle.TestCase


class LedgerCycleOfThisMachine(LedgerCycle):
    """The same cycle on a ledger of this machine alone, as most users have it: WAL, and a
    thread of its own checkpointing the log while files are recorded (concurrency.
    checkpointed_aside). The other tests' ledgers are shared ones (XL2SEGUR_REGISTRE, set by
    tests/conftest.py), with a rollback journal."""

    def __init__(self) -> None:
        super().__init__()
        self.shared_by = os.environ.pop(ENVIRONMENT, None)

    def teardown(self) -> None:
        if self.shared_by is not None:
            os.environ[ENVIRONMENT] = self.shared_by
        super().teardown()

    @invariant()
    def the_ledger_keeps_a_write_ahead_log(self) -> None:
        if self.registre.exists():
            with sqlite3.connect(self.registre) as db:
                assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


LedgerCycleOfThisMachine.TestCase.settings = LedgerCycle.TestCase.settings
test_no_demande_is_live_twice_in_a_ledger_of_this_machine = LedgerCycleOfThisMachine.TestCase
