"""`xl2segur`, the command (the entry point in pyproject.toml, and `python -m converter`).

Before Python imports the rest of the tool (Polars, typer, the definitions: 0.4 s), the
workbook of a conversion starts opening in a thread of its own: fastexcel parses its shared
strings (0.3 s at 100,000 demandes) without holding the GIL; a workbook read by two readers
(concurrency.two_readers) gets both at once. The package is checked first, as reading.py
checks it (container.py), so no file reaches fastexcel that reading.py would have kept from
it. reading.py takes those readers (`opened`) only for the same file, unchanged since;
otherwise it opens the file itself and says, in French, what is wrong with it.

This module imports neither Polars, the definitions nor concurrency.py (0.14 s before the
opening started, 0.05 s now); concurrency.py lists this overlap with the others. A conversion
called from the library API opens its workbook where it reads it.
"""

from __future__ import annotations

import gc
import os
import stat
import sys
import threading
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import fastexcel

from . import container

_READING = frozenset({"convertir", "verifier"})  # the commands whose CLASSEUR is read whole
_OPENED_AHEAD = (".xlsx", ".xlsm")  # an .ods is scanned whole before fastexcel opens it

Identity = tuple[int, int, int, int]
_ahead: dict[Identity, tuple[threading.Thread, dict[int, Any]]] = {}
_taking = threading.Lock()


def main() -> None:
    try:
        open_ahead(sys.argv[1:])
        # the modules, classes and functions of the tool are no garbage: the cyclic collector is
        # off while Python imports them, then they are set apart from its collections (`freeze`);
        # some 160 collections walked them again and again, 0.1 to 0.15 s of the main thread
        gc.disable()
        try:
            from .cli import main as command  # the imports the opening overlaps
        finally:
            gc.freeze()
            gc.enable()
    except KeyboardInterrupt:  # Ctrl-C while Python imports the tool: no traceback
        _say("\nCommande interrompue (Ctrl-C) avant d'avoir commencé : rien n'a été fait.")
        sys.exit(130)
    command()


def _say(text: str) -> None:
    """`text` on stderr, before console.py makes it tolerate any encoding: its letters
    without accents where they cannot be written."""
    try:
        print(text, file=sys.stderr)
    except UnicodeEncodeError:
        plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        print(plain, file=sys.stderr)


def open_ahead(args: list[str]) -> None:
    """Start opening the workbook of `xl2segur <args>`, when the command reads one: the first
    argument after the command naming an .xlsx or .xlsm file. A wrong guess costs a thread."""
    words = [i for i, arg in enumerate(args) if not arg.startswith("-")]
    if not words or args[words[0]] not in _READING:
        return
    for arg in args[words[0] + 1:]:
        path = Path(arg)
        if path.suffix.lower() in _OPENED_AHEAD:
            identity = _identity(path)
            if identity is not None:
                opened: dict[int, Any] = {}
                # not a daemon: a thread still inside fastexcel when the interpreter ends would
                # take the process down with it (`--help`, a usage error: it is waited for)
                thread = threading.Thread(target=_open, args=(path, opened), name="xl2segur-ouverture")
                _ahead[identity] = (thread, opened)
                thread.start()
            return


def opened(path: Path) -> list[Any]:
    """fastexcel's readers of `path` opened ahead (one, or two for a workbook read by two), if
    it is the same file, unchanged since `open_ahead`; else none. Taken once: the readers of
    other files are dropped."""
    with _taking:
        ahead = dict(_ahead)
        _ahead.clear()
    identity = _identity(path)
    found: list[Any] = []
    for key, (thread, readers) in ahead.items():
        thread.join()
        if key == identity and 0 in readers:
            found = [readers[k] for k in sorted(readers)]
    return found


def _identity(path: Path) -> Identity | None:
    """The file as the system knows it: a rewrite, a copy over it or a rename of another file
    to its name changes one of these."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None


def _open(path: Path, readers: dict[int, Any]) -> None:
    """reading.py's checks of the package, then its reader, or both readers at once."""
    try:
        container.check_container(path)
        with zipfile.ZipFile(path) as zf:
            if container.is_ods(zf):
                return
            members = container.check_package(path, zf)
            sheet_bytes = container.sheet_bytes(zf, members)
    except Exception:  # noqa: BLE001 — reading.py opens it again and says why, in French
        return
    second = threading.Thread(target=_second_reader, args=(path, readers, sheet_bytes), name="xl2segur-ouverture-2")
    second.start()
    _read_excel(path, readers, 0)
    second.join()


def _second_reader(path: Path, readers: dict[int, Any], sheet_bytes: int) -> None:
    """The second reader, for a workbook read by two. concurrency.py is imported here, not by
    this module: its imports (SQLite, jsonschema-rs, multiprocessing: 0.08 s) would delay the
    first reader; the command imports it meanwhile."""
    from . import concurrency

    if concurrency.two_readers(sheet_bytes):
        _read_excel(path, readers, 1)


def _read_excel(path: Path, readers: dict[int, Any], k: int) -> None:
    try:
        readers[k] = fastexcel.read_excel(path)
    except Exception:  # noqa: BLE001 — as above
        return
