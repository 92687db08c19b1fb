"""The ledger's promise, as the user meets it: every demande of a converted workbook ends in
exactly one live deposit file, or in the error workbook; the ledger lists exactly the deposit
files on disk (live: under their name, wherever the user put them; withdrawn: set aside);
nothing is deposited twice, nothing is lost, whatever the user does with the files in between
(moves one into another folder, renames it, deletes it and has it written again with
`reecrire`, withdraws it where it now is, converts the same workbook into another folder, the
first conversion having failed, killed or stopped by a full disk, deletes one and leaves it
deleted for a while) and whatever the ASP says (contradictory returns, `--confirmer`, `--depot`,
a return for a withdrawn file, a return named after the file as the user renamed it, an older
return brought back, the return of another ledger's file).

The checks look at the disk and at the ledger (`etat`), never at the code's own bookkeeping:
the files the test knows it put somewhere are read there."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import orjson
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule

from converter import api
from converter.files import OutputError
from converter.ledger import ENVIRONMENT, Ledger
from converter.returns import UNKNOWN
from converter.status import ledger_status
from tests.builders import workbook
from tests.ledger_machine import LedgerMachine, failed_conversion
from tests.builders_solde import seed_000_rows
from tests.test_cycle import DAY, asp_return, avance_rows

POOL = ["00001", "00002", "00003"]
numeros = st.lists(st.sampled_from(POOL), min_size=1, max_size=3, unique=True)
FOLDERS = ["depot", "depot-juin"]


class UserCycle(LedgerMachine):
    PREFIX = "xl2segur-promise-"
    WORK = "work"

    def __init__(self) -> None:
        super().__init__()
        # a ledger of this machine alone: a failed run's folder without its lock file is settled
        # from another folder (a shared ledger leaves it to its own folder, test_pending_elsewhere)
        self.shared_ledger = os.environ.pop(ENVIRONMENT, None)
        self.returns: list[tuple[Path, str]] = []  # (return file, the deposit it answers)
        self.where: dict[str, Path] = {}  # name → where the user keeps a live file now, when not where written
        self.lost: set[str] = set()  # deleted by the user, not written again
        self.aside: list[Path] = []  # withdrawn files the user set aside by hand

    def teardown(self) -> None:
        if self.shared_ledger is not None:
            os.environ[ENVIRONMENT] = self.shared_ledger
        super().teardown()

    def _live(self) -> list[sqlite3.Row]:
        return [r for r in self._recorded() if r["retire_le"] is None]

    def _found(self, row: sqlite3.Row) -> Path | None:
        """Where the user has the live file `row` now, None when deleted."""
        if row["nom"] in self.lost:
            return None
        return self.where.get(row["nom"], Path(row["chemin"]))

    @rule(chosen=numeros, folder=st.sampled_from(FOLDERS))
    def convert(self, chosen: list[str], folder: str) -> None:
        """Each demande of the workbook in exactly one written file, or in the error workbook."""
        done = api.convert(workbook(self._path("a.xlsx"), avance_rows(*chosen)), self.root / folder, DAY,
                           registre=self.registre)
        written = [line["numeroEditeur"] for f in done.files for line in orjson.loads(f.read_bytes())["lignesImport"]]
        assert sorted(written) == sorted(done.accepted)
        assert sorted(done.accepted + done.rejected) == sorted(chosen)
        assert (done.error_workbook is not None) == bool(done.rejected)

    @rule(chosen=numeros, folder=st.sampled_from(FOLDERS), named=st.booleans(), killed=st.booleans())
    def convert_fails_then_elsewhere(self, chosen: list[str], folder: str, named: bool, killed: bool) -> None:
        """A conversion into `folder` fails (killed, or its disk full), its file named or not, the
        ledger unable to settle it; then the same workbook converted into the other folder: each
        demande in exactly one written file (the failed run's, when named) or in the error workbook."""
        book = workbook(self._path("a.xlsx"), avance_rows(*chosen))
        failed_conversion(book, self.root / folder, self.registre, named, killed)
        other = next(f for f in FOLDERS if f != folder)
        done = api.convert(book, self.root / other, DAY, registre=self.registre)
        written = [line["numeroEditeur"] for f in done.files for line in orjson.loads(f.read_bytes())["lignesImport"]]
        assert sorted(written) == sorted(done.accepted)
        assert sorted(done.accepted + done.rejected) == sorted(chosen)

    @rule(pick=st.integers(min_value=0), rename=st.booleans())
    def user_moves(self, pick: int, rename: bool) -> None:
        """The user moves a live file into another folder, renamed or not."""
        present = [r for r in self._live() if self._found(r) is not None]
        if not present:
            return
        row = present[pick % len(present)]
        target = self.root / "ailleurs" / (f"copie-{self.steps}-{row['nom']}" if rename else row["nom"])
        if target.exists():
            return
        target.parent.mkdir(exist_ok=True)
        self._found(row).rename(target)
        self.where[row["nom"]] = target

    @rule(pick=st.integers(min_value=0))
    def user_deletes_then_rewrites(self, pick: int) -> None:
        """A live file deleted by the user: lost until `reecrire` writes it again where it was written."""
        row = self._delete(pick)
        if row is None:
            return
        done = api.rewrite(row["nom"], self.registre)
        assert done.path == Path(row["chemin"]) and done.path.is_file()
        self.lost.discard(row["nom"])

    @rule(pick=st.integers(min_value=0), by_path=st.booleans())
    def withdraw(self, pick: int, by_path: bool) -> None:
        """retirer, by its name or by the path where the user has it; what is not set aside by
        the command the user sets aside, as it says."""
        live = self._live()
        if not live:
            return
        row = live[pick % len(live)]
        found = self._found(row)
        name = str(found) if by_path and found is not None else row["nom"]
        try:
            freed, moved = api.withdraw(name, self.registre)
        except OutputError as exc:
            if "renommé" not in str(exc):
                assert "l'ASP a déjà répondu" in str(exc), exc
                return
            # a renamed file is refused by its new name: the user renames it back, as told
            assert found is not None and found.name != row["nom"] and f"« {row['nom']} »" in str(exc), exc
            found = found.rename(found.with_name(row["nom"]))
            self.where[row["nom"]] = found
            try:
                freed, moved = api.withdraw(str(found), self.registre)
            except OutputError as again:  # under its name again, it is found answered by the ASP
                assert "l'ASP a déjà répondu" in str(again), again
                return
        assert freed == row["n"]
        self.where.pop(row["nom"], None)
        self.lost.discard(row["nom"])
        if moved is None and found is not None and found.exists():
            set_aside = self.root / "cote" / f"{self.steps}-{found.name}"
            set_aside.parent.mkdir(exist_ok=True)
            found.rename(set_aside)
            self.aside.append(set_aside)

    @rule(pick=st.integers(min_value=0))
    def user_deletes(self, pick: int) -> None:
        """A live file deleted by the user, left deleted: its demandes stay deposited (it may have
        been uploaded), the ledger keeps it for `reecrire`."""
        self._delete(pick)

    def _delete(self, pick: int) -> sqlite3.Row | None:
        """The user deletes a live file found on disk (None: there is none); it is lost."""
        present = [r for r in self._live() if self._found(r) is not None]
        if not present:
            return None
        row = present[pick % len(present)]
        self._found(row).unlink()
        self.where.pop(row["nom"], None)
        self.lost.add(row["nom"])
        return row

    @rule(pick=st.integers(min_value=0))
    def rewrite_lost(self, pick: int) -> None:
        """`reecrire` of a file the user deleted some steps before: back where it was written, as recorded."""
        lost = [r for r in self._live() if r["nom"] in self.lost]
        if not lost:
            return
        row = lost[pick % len(lost)]
        done = api.rewrite(row["nom"], self.registre)
        assert done.path == Path(row["chemin"]) and done.path.is_file()
        self.lost.discard(row["nom"])

    @rule(first=st.integers(min_value=90, max_value=97))
    def foreign_return(self, first: int) -> None:
        """The ASP's return of a file another ledger wrote (a colleague's, other demandes): no
        answer recorded, the ledger as it was."""
        if not self.registre.exists():
            return
        colleague = api.convert(workbook(self._path("c.xlsx"), avance_rows(f"{first:05d}", f"{first + 1:05d}")),
                                self._path("collegue"), DAY, registre=self._path("collegue.sqlite")).files[0]
        returned = asp_return(colleague, self._path("retour") / colleague.name,
                              {f"{first:05d}": "FINMS2000090", f"{first + 1:05d}": "Pièce illisible"})
        before = self._ledger_rows()
        lines, _ = api.ingest_returns([returned], self.registre, self._path("bilan.xlsx"))
        assert {x.result for x in lines} == {UNKNOWN}, [(x.result, x.remark) for x in lines]
        assert self._ledger_rows() == before

    def _ledger_rows(self) -> tuple[list[tuple], list[tuple], list[tuple]]:
        with sqlite3.connect(self.registre) as db:
            found = tuple(db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
                          for table in ("fichiers", "demandes", "retours"))
        db.close()
        return found

    @rule(pick=st.integers(min_value=0))
    def restore(self, pick: int) -> None:
        """retirer --annuler: the file comes back, under its name, where it is expected."""
        done = self._restored(pick)
        if done is not None and done[1] is None:  # set aside by hand, or from another folder: the user puts it back
            row = done[0]
            self.lost.add(row["nom"])
            assert api.rewrite(row["nom"], self.registre).path is not None
            self.lost.discard(row["nom"])

    @rule(pick=st.integers(min_value=0), accept=st.lists(st.booleans(), min_size=3, max_size=3),
          confirm=st.booleans(), named=st.booleans(), withdrawn=st.booleans(), as_renamed=st.booleans())
    def retour(self, pick: int, accept: list[bool], confirm: bool, named: bool, withdrawn: bool,
               as_renamed: bool) -> None:
        """The ASP's return of a recorded file (withdrawn or not), contradicting an earlier one
        or not, given with --confirmer or not, with --depot or not; `as_renamed`: named after the
        file as the user has it (renamed, then uploaded under that name)."""
        recorded = [r for r in self._recorded() if (r["retire_le"] is not None) == withdrawn]
        if not recorded:
            return
        row = recorded[pick % len(recorded)]
        returned = self._asp_return(row, accept, self.steps)
        found = self._found(row) if row["retire_le"] is None else None
        if as_renamed and found is not None and found.name != row["nom"]:
            returned = returned.rename(returned.with_name(found.name))
        self.returns.append((returned, row["nom"]))
        api.ingest_returns([returned], self.registre, self._path("bilan.xlsx"), confirm=confirm,
                           deposit=row["nom"] if named else None)

    @rule(pick=st.integers(min_value=0), named=st.booleans())
    def older_return_brought_back(self, pick: int, named: bool) -> None:
        """A return given before, given again alone with --confirmer."""
        if not self.returns:
            return
        returned, name = self.returns[pick % len(self.returns)]
        api.ingest_returns([returned], self.registre, self._path("bilan.xlsx"), confirm=True,
                           deposit=name if named else None)

    @rule(ne=st.sampled_from(POOL))
    def solde(self, ne: str) -> None:
        """The solde workbook of the accepted avances; a solde converted for one of them."""
        if not self.registre.exists():
            return
        with Ledger(self.registre) as book:
            found = [asp for (asp,) in book.db.execute(
                "SELECT numero_asp FROM demandes WHERE numero_editeur = ? AND nature = 'avance' AND statut = "
                "'acceptee' AND numero_asp IS NOT NULL ORDER BY id DESC", (ne,))]
        api.write_solde_workbooks(self.registre, "ms2-dui-pds-avance", self._path("soldes"))
        if found:
            done = api.convert(workbook(self._path("s.xlsx"), seed_000_rows(ne, found[0]), fmt="ms2-dui-pds-solde"),
                               self.root / "depot", DAY, registre=self.registre)
            assert sorted(done.accepted + done.rejected) == [ne]

    @invariant()
    def the_ledger_lists_exactly_the_files_on_disk(self) -> None:
        """Every live recorded file is on disk where the user has it, with its recorded content;
        no other deposit file lies in a deposit folder; every withdrawn file is out of them."""
        recorded = self._recorded()
        if not recorded:
            return
        assert [r["nom"] for r in recorded if r["en_attente"] is not None] == []
        expected: dict[Path, bytes] = {}
        with Ledger(self.registre) as book:
            for r in recorded:
                if r["retire_le"] is None and self._found(r) is not None:
                    expected[self._found(r).resolve()] = book.file_bytes(r)
        on_disk = {p.resolve(): p.read_bytes() for folder in [*FOLDERS, "ailleurs"]
                   for p in (self.root / folder).glob("*.json")}
        assert on_disk == expected

    @invariant()
    def no_demande_live_twice_on_disk_nor_in_the_ledger(self) -> None:
        """Across the deposit files on disk, no avance (or solde) is live twice; the ledger says the same."""
        if not self.registre.exists():
            return
        with sqlite3.connect(self.registre) as db:
            live = db.execute("SELECT d.nature, d.numero_editeur, f.nom FROM demandes d JOIN fichiers f "
                              "ON f.id = d.fichier_id WHERE d.statut NOT IN ('rejetee', 'retiree')").fetchall()
        seen = [(nature, ne) for nature, ne, _ in live]
        assert len(seen) == len(set(seen)), live
        names = {r["nom"]: self._found(r) for r in self._live()}
        for _, ne, name in live:  # each live demande in its file, on disk unless the user lost it
            assert name in names, (ne, name)
            if names[name] is not None:
                assert ne in [line["numeroEditeur"] for line in orjson.loads(names[name].read_bytes())["lignesImport"]]

    @invariant()
    def etat_counts_the_ledger(self) -> None:
        if not self.registre.exists():
            return
        with Ledger(self.registre) as book:
            status = ledger_status(book)
            truth = {(f, s): n for f, s, n in book.db.execute("SELECT format, statut, count(*) FROM demandes GROUP BY 1, 2")}
        assert {(c.format_id, c.state): c.demandes for c in status.counts if c.state != "attente_solde"} == truth


# no shrinking: a failing sequence of conversions took minutes to shrink, and is printed whole
UserCycle.TestCase.settings = settings(max_examples=40, stateful_step_count=10, deadline=None,
                                       suppress_health_check=[HealthCheck.too_slow],
                                       phases=(Phase.explicit, Phase.reuse, Phase.generate))
test_the_ledger_keeps_its_promise_whatever_the_user_does_with_the_files = UserCycle.TestCase
