"""The last guard before a deposit file is written: its rendered text is parsed as JSON and
validated against the format's JSON Schema (converter/schema.py).

Parsing and validating cost as much as rendering, and orjson and jsonschema-rs hold the GIL:
for a large conversion they run in a second process, while the first renders and records the
next files (`FileChecker(parallel=True)`). A small one stays in process: starting a process
costs more than it saves. Both ways run the same `inspect`.

Each valid file is also written under a temporary name in the output folder, and packed
as the ledger keeps it (`ledger.pack`), there, in a thread, while the next file is checked:
the first process only names it and records it, under the ledger's lock (converter/ledger.py).

This module imports neither Polars nor the definitions: the second process starts light.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson

from .files import RUN_ID, OutputError, running, write_temporary
from .deposit import LINES
from .ledger import pack

PARALLEL_FROM = 2_000
"""Accepted demandes from which files are checked in a second process (ten files of 200)."""


@dataclass(frozen=True)
class FileCheck:
    """What the schema found in one rendered file."""

    errors: list[tuple[int | None, str]]  # (index of the demande in lignesImport or None, message)
    written: Path | None = None  # the valid file, written under a temporary name (files.write_temporary)
    packed: bytes | None = None  # the valid file as the ledger keeps it (ledger.pack)


def inspect(validator: Any, data: bytes | str) -> FileCheck:
    """Parse `data` and validate it with `validator` (jsonschema-rs, built from a format's schema).

    >>> validator = jsonschema_rs.validator_for({"type": "object", "properties": {"lignesImport":
    ...     {"type": "array", "items": {"type": "object", "required": ["numLigne"]}}}})
    >>> inspect(validator, b'{"lignesImport": [{"numLigne": 1}, {"numLigne": 2}]}')
    FileCheck(errors=[], written=None, packed=None)
    >>> inspect(validator, b'{"lignesImport": [{"numLigne": 1}, {}]}').errors
    [(1, 'lignesImport/1 : "numLigne" is a required property')]
    """
    document = orjson.loads(data)
    if validator.is_valid(document):  # the common case, a third faster than listing no error
        return FileCheck([])
    errors = []
    for error in validator.iter_errors(document):
        path = list(error.instance_path)
        index = path[1] if len(path) > 1 and path[0] == LINES else None
        errors.append((index, f"{'/'.join(map(str, path))} : {error.message}"))
    return FileCheck(errors)


class FileChecker:
    """`submit(data)` → a Future of the file's `FileCheck`; `result(future, data)` waits for it.

    With a `folder`, each valid file is also written there under a temporary name
    (`FileCheck.written`), for the caller to name (files.publish) and then remove;
    those the caller never got are removed on exit. Each valid file is also packed
    (`FileCheck.packed`).

    Parallel: the files go to a second Python process (`python -m converter.validation`,
    talking through its standard input and output), whose answers a thread collects. A
    subprocess and not multiprocessing: that one would re-import the caller's main script.
    Should the second process fail, the file is checked here: nothing is ever written unchecked.
    The validator is built once per checker (under a millisecond)."""

    def __init__(self, schema: dict[str, Any], parallel: bool, folder: Path | None = None):
        self.validator = jsonschema_rs.validator_for(schema)
        self.folder = Path(folder) if folder is not None else None
        self.stack = contextlib.ExitStack()
        if self.folder is not None:  # the second process's temporaries are this run's: they live while it lives
            self.stack.enter_context(running(self.folder))
        self.worker: subprocess.Popen[bytes] | None = None
        self.waiting: deque[Future[FileCheck]] = deque()
        self.unclaimed: set[Path] = set()  # written ahead, not yet handed to the caller
        if parallel:
            package_parent = str(Path(__file__).resolve().parent.parent)  # also when run from a checkout
            path = os.pathsep.join(filter(None, (package_parent, os.environ.get("PYTHONPATH"))))
            try:
                self.worker = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,
                                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                               env={**os.environ, "PYTHONPATH": path})
            except OSError:
                return
            # the connections own copies of the pipes' descriptors
            self.send = Connection(os.dup(self.worker.stdin.fileno()), readable=False)
            self.receive = Connection(os.dup(self.worker.stdout.fileno()), writable=False)
            self.worker.stdin.close()
            self.worker.stdout.close()
            self.outbox: queue.Queue[bytes | None] = queue.Queue()
            self.outbox.put(orjson.dumps({"schema": schema, "folder": str(self.folder) if self.folder else None,
                                         "run": RUN_ID}))
            self.sender = threading.Thread(target=self._send, daemon=True)
            self.reader = threading.Thread(target=self._collect, daemon=True)
            self.sender.start()
            self.reader.start()

    def _send(self) -> None:
        """In a thread: hands the files over; writing to the pipe waits while the second
        process is busy, and this way the caller renders the next file meanwhile."""
        try:
            while (data := self.outbox.get()) is not None:
                self.send.send_bytes(data)
        except OSError:  # gone: the reader fails what waits, and it is checked here
            pass
        finally:
            with contextlib.suppress(OSError):
                self.send.close()  # end of input: the second process stops

    def _collect(self) -> None:
        """In a thread: each answer of the second process settles the oldest waiting file."""
        try:
            while True:
                errors, written, packed = pickle.loads(self.receive.recv_bytes())
                if written is not None:
                    written = Path(written)
                    self.unclaimed.add(written)
                self.waiting.popleft().set_result(FileCheck(errors, written, packed))
        except Exception as exc:  # noqa: BLE001 — whatever broke, what waits is checked here
            while self.waiting:
                self.waiting.popleft().set_exception(exc)

    def submit(self, data: bytes) -> Future[FileCheck]:
        future: Future[FileCheck] = Future()
        if self.worker is not None and self.sender.is_alive():  # a second process gone: the reader fails its files
            self.waiting.append(future)
            self.outbox.put(data)
            return future
        future.set_result(inspect(self.validator, data))
        return future

    def result(self, future: Future[FileCheck], data: bytes) -> FileCheck:
        """The check of `data`; its `written` file (with a folder, when valid) is the caller's,
        and a valid file is `packed`."""
        while True:
            try:
                found = future.result(timeout=1)
                break
            except TimeoutError:
                if self.worker is not None and self.worker.poll() is None:
                    continue  # still at work
            except Exception:  # noqa: BLE001 — the second process failed
                pass
            found = inspect(self.validator, data)  # checked here, never written unchecked
            break
        if found.errors:
            return found
        if found.written is not None:
            self.unclaimed.discard(found.written)
        elif self.folder is not None:
            # valid, but not written yet: checked here, or the second process could not write it
            # (then this raises the French OutputError saying why)
            found = FileCheck(found.errors, write_temporary(self.folder, data), found.packed)
        if found.packed is None:
            found = FileCheck(found.errors, found.written, pack(data))
        return found

    def __enter__(self) -> FileChecker:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.worker is not None:
            self.outbox.put(None)
            self.sender.join(timeout=5)
            try:
                self.worker.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait()
            self.reader.join(timeout=5)
            self.receive.close()
        for written in list(self.unclaimed):  # checked ahead, then not wanted (a refusal re-planned them)
            written.unlink(missing_ok=True)
        self.stack.close()


def _serve() -> None:
    """The second process: a schema and a folder, then files, each answered with its pickled
    FileCheck."""
    # Ctrl-C in a terminal reaches the whole process group: the first process decides, and ends
    # the input; stopping here would leave written files that nobody names or removes
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    receive = Connection(sys.stdin.fileno(), writable=False)
    send = Connection(os.dup(sys.stdout.fileno()), readable=False)
    sys.stdout = sys.stderr  # nothing else may write into the answers
    setup = orjson.loads(receive.recv_bytes())
    validator = jsonschema_rs.validator_for(setup["schema"])
    folder = Path(setup["folder"]) if setup["folder"] else None
    run = setup["run"]
    checked: queue.Queue[tuple[bytes, FileCheck] | None] = queue.Queue(maxsize=2)

    def write_and_answer() -> None:
        """In a thread: packing and writing a file let go of the GIL, so the next one is
        parsed and validated meanwhile. The answers go in the files' order."""
        try:
            while (item := checked.get()) is not None:
                data, check = item
                written = packed = None
                if not check.errors:
                    packed = pack(data)
                    if folder is not None:
                        # cannot write: the first process writes it, and says why if it fails too
                        with contextlib.suppress(OutputError):
                            written = write_temporary(folder, data, run)
                # sent as plain data: here FileCheck is __main__'s
                send.send_bytes(pickle.dumps((check.errors, str(written) if written else None, packed)))
        except BaseException:  # noqa: BLE001 — answers lost: end this process, the first checks by itself
            os._exit(1)

    answering = threading.Thread(target=write_and_answer)
    answering.start()
    while True:
        try:
            data = receive.recv_bytes()
        except (EOFError, OSError):
            break
        checked.put((data, inspect(validator, data)))
    checked.put(None)
    answering.join()


if __name__ == "__main__":
    _serve()
