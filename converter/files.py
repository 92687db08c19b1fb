"""Writing outputs safely: atomically, and never over an existing file.

A file is written under a hidden temporary name in the target folder, flushed to disk,
then hard-linked to its final name. `os.link` fails if the name exists, so two runs can
never take the same name, and a run killed midway leaves no partial file under a real name.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

TMP_PREFIX = ".xl2segur-tmp-"


class OutputError(Exception):
    """An output could not be written; the message is French and says what to do."""


STALE_AFTER_SECONDS = 3600  # a temporary file older than this was left by a run that was killed

_WHY = {errno.EACCES: "permission refusée", errno.EPERM: "opération non permise",
        errno.EROFS: "disque en lecture seule", errno.ENOSPC: "disque plein",
        errno.ENOTDIR: "un élément du chemin est un fichier, pas un dossier",
        errno.EEXIST: "un fichier porte déjà ce nom", errno.ENAMETOOLONG: "nom trop long"}


def why(exc: OSError) -> str:
    """The reason of an OS error, in French when we know it."""
    return _WHY.get(exc.errno, exc.strerror or type(exc).__name__)


def clean_stale(folder: Path, now: float | None = None) -> list[Path]:
    """Remove the temporary files that killed runs left in `folder` (older than an hour).
    A conversion calls it once on its output folder."""
    now = time.time() if now is None else now
    removed = []
    try:
        with os.scandir(folder) as entries:  # not glob: this runs before each of a conversion's files
            stale = [entry.name for entry in entries if entry.name.startswith(TMP_PREFIX)]
    except OSError:  # no such folder (yet), or not readable: nothing to clean
        return removed
    for name in stale:
        tmp = folder / name
        try:
            if now - tmp.stat().st_mtime > STALE_AFTER_SECONDS:
                tmp.unlink()
                removed.append(tmp)
        except OSError:  # taken by another run meanwhile, or not ours to remove
            continue
    return removed


# a new file only, in binary mode on Windows; 0o666 less the umask, as an ordinary file (not
# mkstemp's 0600)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _open_temporary(folder: Path) -> tuple[int, Path]:
    """A new hidden file in `folder` (created if need be), open for writing: (descriptor, path).
    Raises OutputError."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for _ in range(100):
            tmp = folder / f"{TMP_PREFIX}{secrets.token_hex(8)}"
            try:
                return os.open(tmp, _CREATE, 0o666), tmp
            except FileExistsError:
                continue
        raise FileExistsError(errno.EEXIST, "no free temporary name")
    except OSError as exc:
        raise OutputError(f"Impossible d'écrire dans le dossier « {folder} » ({why(exc)}). Choisissez un dossier accessible en écriture.") from exc


def _new_temporary(folder: Path) -> Path:
    fd, tmp = _open_temporary(folder)
    os.close(fd)
    return tmp


@contextlib.contextmanager
def _temporary(folder: Path) -> Iterator[Path]:
    tmp = _new_temporary(folder)
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def write_temporary(folder: Path, data: bytes) -> Path:
    """Write `data` under a hidden temporary name in `folder`, flushed to disk, for
    `publish_first_free` to name later (the deposit files are written ahead, in a second
    process, and named under the ledger's lock). Raises OutputError; leaves nothing then.

    Few system calls, straight on the descriptor: each one lets another thread take the GIL,
    and getting it back may wait for that thread."""
    fd, tmp = _open_temporary(folder)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"Impossible d'écrire dans le dossier « {folder} » ({why(exc)}). Libérez de la place ou choisissez un autre dossier.") from exc
    return tmp


def _publish(tmp: Path, target: Path, synced: bool = False) -> bool:
    """Give tmp the name target unless it exists. Returns False if taken."""
    if not synced:
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
    try:
        os.link(tmp, target)
    except FileExistsError:
        return False
    except OSError:  # file systems without hard links: exclusive create, then replace
        try:
            fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        os.close(fd)
        os.replace(tmp, target)
    return True


def publish_first_free(tmp: Path, candidates: Iterator[Path]) -> Path:
    """Name a file of `write_temporary` after the first candidate that is free; return it.
    The temporary name stays (a hard link): the caller removes it."""
    for target in candidates:
        if _publish(tmp, target, synced=True):
            return target
    raise OutputError(f"Aucun nom de fichier libre pour « {tmp.name} » : déplacez les fichiers déjà écrits "
                      "ou choisissez un autre dossier.")


def write_new(target: Path, write: Callable[[Path], None]) -> Path:
    """Write `target` atomically with `write(tmp_path)`; fail if it already exists."""
    return write_first_free([target], write)


def write_first_free(candidates: "Iterator[Path] | list[Path]", write: Callable[[Path], None]) -> Path:
    """Write atomically under the first candidate name that is free; return it."""
    candidates = iter(candidates)
    first = next(candidates, None)
    if first is None:
        raise OutputError("Aucun nom de fichier libre : déplacez les fichiers déjà écrits ou choisissez un autre dossier.")
    with _temporary(first.parent) as tmp:
        try:
            write(tmp)
        except OSError as exc:  # disk full, quota, file system gone…
            raise OutputError(f"Impossible d'écrire « {first} » ({why(exc)}). Libérez de la place ou choisissez un autre dossier.") from exc
        for target in itertools.chain((first,), candidates):  # lazily: `numbered` never ends
            if _publish(tmp, target):
                return target
    raise OutputError(f"Le fichier « {first} » existe déjà : il n'est jamais écrasé. Choisissez un autre nom ou déplacez l'ancien.")


def numbered(path: Path) -> Iterator[Path]:
    """path, then path-2, path-3, … (the suffix before the extension)."""
    yield path
    n = 2
    while True:
        yield path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1


def write_new_numbered(path: Path, write: Callable[[Path], None]) -> Path:
    """Write atomically to `path`, or to `path-2`, `path-3`… if taken; return the name used."""
    return write_first_free(numbered(path), write)
