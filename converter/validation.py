"""The last guard before a deposit file is written: its rendered text is parsed as JSON and
validated against the format's JSON Schema (converter/schema.py).

Parsing and validating cost as much as rendering, and orjson and jsonschema-rs hold the GIL:
for a large conversion they run in a second process, while the first renders and records the
next files (`FileChecker(parallel=True)`). A small one stays in process: starting a process
costs more than it saves. Both ways run the same `inspect`.

This module imports neither Polars nor the definitions: the second process starts light.
"""

from __future__ import annotations

import contextlib
import os
import pickle
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

PARALLEL_FROM = 2_000
"""Accepted demandes from which files are checked in a second process (ten files of 200)."""


@dataclass(frozen=True)
class FileCheck:
    """What the schema found in one rendered file."""

    errors: list[tuple[int | None, str]]  # (index of the demande in lignesImport or None, message)
    demandes: list[str]  # each demande of lignesImport as compact JSON, for the ledger


def inspect(validator: Any, text: str) -> FileCheck:
    """Parse `text` and validate it with `validator` (jsonschema-rs, built from a format's schema).

    >>> validator = jsonschema_rs.validator_for({"type": "object", "properties": {"lignesImport":
    ...     {"type": "array", "items": {"type": "object", "required": ["numLigne"]}}}})
    >>> inspect(validator, '{"lignesImport": [{"numLigne": 1}, {"numLigne": 2}]}')
    FileCheck(errors=[], demandes=['{"numLigne":1}', '{"numLigne":2}'])
    >>> inspect(validator, '{"lignesImport": [{"numLigne": 1}, {}]}').errors
    [(1, 'lignesImport/1 : "numLigne" is a required property')]
    """
    document = orjson.loads(text)
    errors = []
    for error in validator.iter_errors(document):
        path = list(error.instance_path)
        index = path[1] if len(path) > 1 and path[0] == "lignesImport" else None
        errors.append((index, f"{'/'.join(map(str, path))} : {error.message}"))
    if errors:
        return FileCheck(errors, [])
    return FileCheck([], [orjson.dumps(line).decode() for line in document["lignesImport"]])


class FileChecker:
    """`submit(text)` → a Future of the file's `FileCheck`; `result(future, text)` waits for it.

    Parallel: the files go to a second Python process (`python -m converter.validation`,
    talking through its standard input and output), whose answers a thread collects. A
    subprocess and not multiprocessing: that one would re-import the caller's main script.
    Should the second process fail, the file is checked here: nothing is ever written unchecked.
    The validator is built once per checker (under a millisecond)."""

    def __init__(self, schema: dict[str, Any], parallel: bool):
        self.validator = jsonschema_rs.validator_for(schema)
        self.worker: subprocess.Popen[bytes] | None = None
        self.waiting: deque[Future[FileCheck]] = deque()
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
            self.send.send_bytes(orjson.dumps(schema))
            self.reader = threading.Thread(target=self._collect, daemon=True)
            self.reader.start()

    def _collect(self) -> None:
        """In a thread: each answer of the second process settles the oldest waiting file."""
        try:
            while True:
                errors, demandes = pickle.loads(self.receive.recv_bytes())
                self.waiting.popleft().set_result(FileCheck(errors, demandes))
        except Exception as exc:  # noqa: BLE001 — whatever broke, what waits is checked here
            while self.waiting:
                self.waiting.popleft().set_exception(exc)

    def submit(self, text: str) -> Future[FileCheck]:
        future: Future[FileCheck] = Future()
        if self.worker is not None and self.worker.poll() is None:
            self.waiting.append(future)
            try:
                self.send.send_bytes(text.encode())
                return future
            except OSError:  # gone: the reader fails what waits; this one is checked below
                future = Future()
        future.set_result(inspect(self.validator, text))
        return future

    def result(self, future: Future[FileCheck], text: str) -> FileCheck:
        while True:
            try:
                return future.result(timeout=1)
            except TimeoutError:
                if self.worker is not None and self.worker.poll() is None:
                    continue  # still at work
            except Exception:  # noqa: BLE001 — the second process failed
                pass
            return inspect(self.validator, text)  # checked here, never written unchecked

    def __enter__(self) -> FileChecker:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.worker is not None:
            with contextlib.suppress(OSError):
                self.send.close()  # end of input: the second process stops
            try:
                self.worker.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait()
            self.reader.join(timeout=5)
            self.receive.close()


def _serve() -> None:
    """The second process: a schema, then files, each answered with its pickled FileCheck."""
    receive = Connection(sys.stdin.fileno(), writable=False)
    send = Connection(os.dup(sys.stdout.fileno()), readable=False)
    sys.stdout = sys.stderr  # nothing else may write into the answers
    validator = jsonschema_rs.validator_for(orjson.loads(receive.recv_bytes()))
    while True:
        try:
            text = receive.recv_bytes()
        except EOFError:
            return
        check = inspect(validator, text)  # sent as plain data: here FileCheck is __main__'s
        send.send_bytes(pickle.dumps((check.errors, check.demandes)))


if __name__ == "__main__":
    _serve()
