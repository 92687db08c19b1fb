"""Writing outputs safely: atomically, and never over an existing file.

A file is written under a hidden temporary name in the target folder, flushed to disk,
then hard-linked to its final name. `os.link` fails if the name exists, so two runs can
never take the same name, and a run killed midway leaves no partial file under a real name.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

TMP_PREFIX = ".xl2segur-tmp-"


class OutputError(Exception):
    """An output could not be written; the message is French and says what to do."""


@contextlib.contextmanager
def _temporary(folder: Path) -> Iterator[Path]:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=TMP_PREFIX, dir=folder)
    except OSError as exc:
        raise OutputError(f"Impossible d'écrire dans le dossier « {folder} » ({exc.strerror}). Choisissez un dossier accessible en écriture.") from exc
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; an output is an ordinary file
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish(tmp: Path, target: Path) -> bool:
    """Give tmp the name target unless it exists. Returns False if taken."""
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


def write_new(target: Path, write: Callable[[Path], None]) -> Path:
    """Write `target` atomically with `write(tmp_path)`; fail if it already exists."""
    return write_first_free([target], write)


def write_first_free(candidates: "Iterator[Path] | list[Path]", write: Callable[[Path], None]) -> Path:
    """Write atomically under the first candidate name that is free; return it."""
    candidates = iter(candidates)
    first = next(candidates)
    with _temporary(first.parent) as tmp:
        write(tmp)
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
