"""What the hypothesis command cycles share (test_ledger_properties, test_ledger_promise): a
ledger of their own in a temporary folder, numbered paths for the files they make, and the
ledger's files as it lists them."""

from __future__ import annotations

import errno
import secrets
import shutil
import sqlite3
import tempfile
from pathlib import Path

import orjson
from hypothesis.stateful import RuleBasedStateMachine

from converter import api, files
from converter.files import OutputError
from converter.ledger import Ledger, LedgerError
from tests.test_cycle import DAY, asp_return


def failed_conversion(book: Path, folder: Path, registre: Path, named: bool, killed: bool) -> None:
    """`api.convert(book, folder, registre)` by a run that fails, once over (a run id of its own), and
    whose ledger fails too (its disk full, or the run killed): `named`, its first file gets its
    name but is not marked done; else that file cannot get its name, and the ledger cannot
    forget it (its temporary stays). `killed`: its lock file stays in `folder`, held by
    nobody; else (a full disk: the command ended) it is gone."""
    run = secrets.token_hex(8)

    def full(tmp: Path, target: Path, synced: bool = False) -> bool:
        raise OSError(errno.ENOSPC, "No space left on device")

    def failing(*args: object) -> None:
        raise LedgerError("Le registre n'a pas pu être mis à jour (disque plein).")

    saved = (files.RUN_ID, api.RUN_ID, api.publish, Ledger.forget, Ledger.finish)
    files.RUN_ID = api.RUN_ID = run
    if named:
        Ledger.finish = failing
    else:
        api.publish, Ledger.forget = full, failing
    try:
        api.convert(book, folder, DAY, registre=registre)
    except (OutputError, OSError):
        pass
    finally:
        files.RUN_ID, api.RUN_ID, api.publish, Ledger.forget, Ledger.finish = saved
    if killed and folder.is_dir():
        (folder / f"{files.LOCK_PREFIX}{run}.lock").write_text("")


class LedgerMachine(RuleBasedStateMachine):
    PREFIX = "xl2segur-"
    WORK = ""  # the folder under `root` of the files `_path` names

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix=self.PREFIX))
        self.registre = self.root / "registre.sqlite"
        self.steps = 0

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def _path(self, name: str) -> Path:
        self.steps += 1
        return self.root / self.WORK / f"{self.steps:03d}-{name}"

    def _recorded(self) -> list[sqlite3.Row]:
        if not self.registre.exists():
            return []
        with Ledger(self.registre) as book:
            return book.db.execute("SELECT f.*, (SELECT count(*) FROM demandes d WHERE d.fichier_id = f.id) AS n "
                                   "FROM fichiers f ORDER BY id").fetchall()

    def _restored(self, pick: int) -> tuple[sqlite3.Row, Path | None] | None:
        """`retirer --annuler` of one withdrawn file (`pick`): its row and where it came back
        (None: not in its folder's `retires/`). None when there is none to bring back, or when
        it cannot come back: its demandes deposited again since, or restored already (a name
        withdrawn twice)."""
        withdrawn = [r for r in self._recorded() if r["retire_le"] is not None]
        if not withdrawn:
            return None
        row = withdrawn[pick % len(withdrawn)]
        try:
            restored, path = api.restore(row["nom"], self.registre)
        except OutputError as exc:
            assert "déposées de nouveau depuis son retrait" in str(exc) or "n'est pas retiré" in str(exc), exc
            return None
        assert restored == row["n"]
        return row, path

    def _asp_return(self, row: sqlite3.Row, accept: list[bool], imp_id: int | None) -> Path:
        """The ASP's return of the recorded file `row` (its content as recorded), its demandes
        accepted or rejected in turn as `accept` says, under `imp_id`."""
        with Ledger(self.registre) as book:
            data = book.file_bytes(row)
        sent = self._path(row["nom"])
        sent.parent.mkdir(parents=True, exist_ok=True)
        sent.write_bytes(data)
        lines = orjson.loads(data)["lignesImport"]
        verdicts = {line["numeroEditeur"]: f"FINMS2{int(line['numeroEditeur']):06d}" if accept[i % len(accept)]
                    else "Pièce illisible" for i, line in enumerate(lines)}
        returned = asp_return(sent, self._path("retour") / row["nom"], verdicts)
        returned.write_bytes(orjson.dumps({**orjson.loads(returned.read_bytes()), "impId": imp_id}))
        return returned
