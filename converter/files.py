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
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

TMP_PREFIX = ".xl2segur-tmp-"


class OutputError(Exception):
    """An output could not be written; the message is French and says what to do."""


class NameTaken(OutputError):
    """Every name an output could take is taken by a file there (never written over)."""


_WHY = {errno.EACCES: "permission refusée", errno.EPERM: "opération non permise",
        errno.EROFS: "disque en lecture seule", errno.ENOSPC: "disque plein",
        errno.ENOTDIR: "un élément du chemin est un fichier, pas un dossier",
        errno.EEXIST: "un fichier porte déjà ce nom", errno.ENAMETOOLONG: "nom trop long",
        # Windows: a name with " * : < > ? | (cmd.exe reads `"C:\depot\"` as `C:\depot"`), a
        # drive or a folder gone, a file another program holds
        errno.EINVAL: "nom de fichier ou de dossier invalide (Windows refuse les caractères \" * : < > ? |)",
        errno.ENOENT: "chemin introuvable (disque ou dossier absent, ou chemin de plus de 260 caractères sous Windows)", errno.EISDIR: "c'est un dossier",
        errno.EBUSY: "fichier utilisé par un autre programme", errno.EIO: "erreur d'entrée-sortie du disque"}


def why(exc: OSError) -> str:
    """The reason of an OS error, in French when we know it."""
    return _WHY.get(exc.errno, exc.strerror or type(exc).__name__)


def reason(exc: BaseException) -> str:
    """What stopped a command, briefly: the OS reason (`why`) when an OS error caused `exc`."""
    return why(exc.__cause__) if isinstance(exc.__cause__, OSError) else str(exc)


# ------------------------------------------------------------ runs: who is alive

LOCK_PREFIX = ".xl2segur-run-"
RUN_ID = secrets.token_hex(8)
"""This process's run: its temporaries are named `.xl2segur-tmp-<RUN_ID>-…`, and while it
lives it holds a lock on `.xl2segur-run-<RUN_ID>.lock` in each folder it writes into. A run
killed by any means (SIGKILL, power cut) lets go of its locks: the next run knows at once
that its temporaries and its pending deposits are dead, whatever their age."""

_held: dict[str, list[int]] = {}  # folder → [descriptor of its lock file, pid holding it, users]
_held_guard = threading.Lock()


def _try_lock(fd: int) -> bool | None:
    """Take the lock of `fd` without waiting: True taken, False held by another run, None
    when the file system cannot lock (some network shares): then a run holds it as taken,
    and its temporaries are never taken for a dead run's."""
    if os.name == "nt":
        import msvcrt
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            return False if exc.errno in (errno.EACCES, errno.EDEADLK) else None
        return True
    import fcntl
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        return False if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES) else None
    return True


def _lock_path(folder: Path, run: str) -> Path:
    return folder / f"{LOCK_PREFIX}{run}.lock"


@contextlib.contextmanager
def running(folder: Path) -> Iterator[None]:
    """Create `folder` if need be, and hold this run's lock there meanwhile (the lock goes
    with the last user). Raises OutputError."""
    key = os.path.abspath(folder)
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with _held_guard:
            if key in _held and _held[key][1] == os.getpid():
                _held[key][2] += 1
            else:
                _held[key] = [_take_lock(Path(folder)), os.getpid(), 1]
    except OSError as exc:
        raise OutputError(f"Impossible d'écrire dans le dossier « {folder} » ({why(exc)}). Choisissez un dossier accessible en écriture.") from exc
    try:
        yield
    finally:
        with _held_guard:
            _held[key][2] -= 1
            if _held[key][2] == 0:
                _release(key, _held.pop(key)[0])


def writable(folder: Path) -> None:
    """Files can be written in `folder` (made when missing), checked before a command records
    anything it would then fail to write; OutputError otherwise (`reason` says why)."""
    with running(folder):
        pass


@contextlib.contextmanager
def removed_if_failed(folder: Path) -> Iterator[None]:
    """`folder`, and those of its parents that do not exist yet: should the block fail, those
    it made and left empty are removed again (a failed command leaves no empty folder of its
    own); a folder that existed before, or holds anything, stays."""
    made: list[Path] = []
    path = Path(os.path.abspath(folder))
    with contextlib.suppress(OSError):
        while not os.path.lexists(path) and path != path.parent:
            made.append(path)
            path = path.parent
    try:
        yield
    except BaseException:
        for path in made:  # the deepest first
            try:
                path.rmdir()
            except OSError:
                break
        raise


def _take_lock(folder: Path) -> int:
    path = _lock_path(folder, RUN_ID)
    for _ in range(100):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        # a cleaner may hold it a moment, or remove it between open and lock: take it, and
        # check that the name still leads to it
        if _try_lock(fd) is not False and os.path.exists(path) and os.stat(path).st_ino == os.fstat(fd).st_ino:
            return fd
        os.close(fd)
        time.sleep(0.01)
    raise OSError(errno.EAGAIN, "run lock unavailable", str(path))


def _release(key: str, fd: int) -> None:
    with contextlib.suppress(OSError):
        os.unlink(_lock_path(Path(key), RUN_ID))
    os.close(fd)


def run_alive(folder: Path, run: str) -> bool:
    """Whether the run `run` still lives (holds its lock in `folder`). A dead run's lock file
    is removed."""
    if run == RUN_ID:
        return True
    path = _lock_path(Path(folder), run)
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:  # no lock file: the run ended, or never wrote there
        return False
    try:
        if _try_lock(fd) is not True:  # held, or cannot tell: alive
            return True
        if os.name != "nt":  # removed while held, so a new run cannot take a name that is going
            with contextlib.suppress(OSError):
                os.unlink(path)
    finally:
        os.close(fd)
    if os.name == "nt":
        with contextlib.suppress(OSError):
            os.unlink(path)
    return False


def run_lock_left(folder: Path, run: str) -> bool:
    """Whether the run `run` has its lock file in `folder` (held or not: `run_alive` tells)."""
    return _lock_path(Path(folder), run).exists()


# a deposit file's temporary is `…-j<hex>`: left by a dead conversion, it tells that the pending
# file it holds never got its name (ledger.reconcile); a conversion removes it once settled
DEPOSIT_MARK = "j"


def clean_stale(folder: Path, deposits: bool = True) -> list[Path]:
    """Remove the temporary files (and lock files) that dead runs left in `folder`, whatever
    their age. A conversion calls it once on its output folder, after the ledger settled what
    dead runs left pending (ledger.reconcile); without `deposits`, the temporaries of deposit
    files are kept for it."""
    removed = []
    try:
        with os.scandir(folder) as entries:
            names = [entry.name for entry in entries if entry.name.startswith((TMP_PREFIX, LOCK_PREFIX))]
    except OSError:  # no such folder (yet), or not readable: nothing to clean
        return removed
    alive: dict[str, bool] = {}
    for name in names:
        run = name[len(LOCK_PREFIX):].removesuffix(".lock") if name.startswith(LOCK_PREFIX) \
            else name[len(TMP_PREFIX):].partition("-")[0]
        if run not in alive:
            alive[run] = run_alive(folder, run)
        if alive[run] or name.startswith(LOCK_PREFIX) or (not deposits and _of_deposit(name)):
            continue
        try:
            (folder / name).unlink()
            removed.append(folder / name)
        except OSError:  # removed by another run meanwhile, or not ours to remove
            continue
    return removed


# a new file only, in binary mode on Windows; 0o666 less the umask, as an ordinary file (not
# mkstemp's 0600)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def _of_deposit(name: str) -> bool:
    return name.startswith(TMP_PREFIX) and name[len(TMP_PREFIX):].partition("-")[2].startswith(DEPOSIT_MARK)


def deposit_temporaries(folder: Path, run: str) -> list[Path]:
    """The temporaries of deposit files that the run `run` left in `folder`."""
    try:
        with os.scandir(folder) as entries:
            return [Path(entry.path) for entry in entries
                    if entry.name.startswith(f"{TMP_PREFIX}{run}-") and _of_deposit(entry.name)]
    except OSError:
        return []


def _open_temporary(folder: Path, mark: str = "") -> tuple[int, Path]:
    """A new hidden file in `folder`, open for writing: (descriptor, path), named after this
    run, which holds its lock there (`running`), and `mark` (DEPOSIT_MARK). Raises OutputError."""
    try:
        for _ in range(100):
            tmp = folder / f"{TMP_PREFIX}{RUN_ID}-{mark}{secrets.token_hex(8)}"
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


def write_temporary(folder: Path, data: bytes, synced: bool = True) -> Path:
    """Write `data` under a hidden temporary name in `folder`, flushed to disk unless not
    `synced` (then the second process flushes it once the schema accepted it:
    concurrency.FileChecker), for `publish` to name later, under the ledger's lock. Raises
    OutputError; leaves nothing then.

    Few system calls, straight on the descriptor: each one lets another thread take the GIL,
    and getting it back may wait for that thread."""
    fd, tmp = _open_temporary(folder, DEPOSIT_MARK)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            if synced:
                os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"Impossible d'écrire dans le dossier « {folder} » ({why(exc)}). Libérez de la place ou choisissez un autre dossier.") from exc
    return tmp


def publish(tmp: Path, target: Path, synced: bool = False) -> bool:
    """Give tmp the name target unless it exists. Returns False if taken."""
    if not synced:
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
    try:
        os.link(tmp, target)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno == errno.EXDEV:  # another file system (`retires/`, a link to another disk)
            return _publish_copy(tmp, target)
        # file systems without hard links: exclusive create, then replace
        try:
            fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return False
        os.close(fd)
        try:
            os.replace(tmp, target)
        except OSError:  # the empty file made above is ours: it must not stay under the name
            target.unlink(missing_ok=True)
            raise
    return True


def _publish_copy(source: Path, target: Path) -> bool:
    """`publish` onto another file system, which no hard link reaches: a copy of `source`, with
    its modification time (which tells a recorded file untouched), flushed under a temporary name
    beside `target`, then named; `source` stays, for its caller to remove as after a link."""
    tmp = target.parent / f"{TMP_PREFIX}{RUN_ID}-{secrets.token_hex(8)}"
    try:
        with open(source, "rb") as src, open(tmp, "xb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
            found = os.fstat(src.fileno())
        os.utime(tmp, ns=(found.st_atime_ns, found.st_mtime_ns))
        return publish(tmp, target, synced=True)
    finally:
        tmp.unlink(missing_ok=True)


def write_new(target: Path, write: Callable[[Path], None]) -> Path:
    """Write `target` atomically with `write(tmp_path)`; fail if it already exists."""
    return write_first_free([target], write)


def write_first_free(candidates: "Iterator[Path] | list[Path]", write: Callable[[Path], None]) -> Path:
    """Write atomically under the first candidate name that is free; return it."""
    candidates = iter(candidates)
    first = next(candidates, None)
    if first is None:
        raise OutputError("Aucun nom de fichier libre : déplacez les fichiers déjà écrits ou choisissez un autre dossier.")
    with running(first.parent):
        # what a run killed while writing here left (its temporary, its lock): no other run of
        # that command would clean this folder (a conversion cleans its own output folder only);
        # not a dead conversion's deposit temporaries: the ledger settles them first
        clean_stale(first.parent, deposits=False)
        with _temporary(first.parent) as tmp:
            try:
                write(tmp)
            except Exception as exc:  # disk full, quota, file system gone…
                # xlsxwriter says it with its own FileCreateError, which holds the OSError
                cause = exc if isinstance(exc, OSError) else next((a for a in exc.args if isinstance(a, OSError)), None)
                if cause is None:
                    raise
                raise OutputError(f"Impossible d'écrire « {first} » ({why(cause)}). Libérez de la place ou choisissez un autre dossier.") from exc
            for target in itertools.chain((first,), candidates):  # lazily: `numbered` never ends
                try:
                    if publish(tmp, target):
                        return target
                except OSError as exc:  # a name too long, or refused, by the file system
                    raise OutputError(f"Impossible d'écrire « {target} » ({why(exc)}). Choisissez un autre nom "
                                      "ou un autre dossier.") from exc
    raise NameTaken(f"Le fichier « {first} » existe déjà : il n'est jamais écrasé. Choisissez un autre nom ou déplacez l'ancien.")


def name_key(name: str) -> str:
    """A file name as desktops may write it: any case, accents composed or not (macOS
    writes « é » as « e » + accent).

    >>> name_key("MS2-DUI-Va1-BDC-00005.PDF") == name_key("ms2-dui-va1-bdc-00005.pdf")
    True
    >>> name_key("pr\u0065\u0301vu.pdf") == name_key("pr\u00e9vu.pdf") != name_key("prevu.pdf")
    True
    """
    return unicodedata.normalize("NFC", name).casefold()


def near_file(path: Path, folder: bool = False) -> Path | None:
    """The one file (`folder`: folder) beside `path` (absent) whose name differs from its only
    by case or Unicode form (`name_key`): a name from a macOS archive keeps its decomposed « é »
    on Windows and Linux, where the name typed, composed, does not find it. None if there is
    none, or several."""
    try:
        near = [entry for entry in os.scandir(path.parent) if name_key(entry.name) == name_key(path.name)
                and (entry.is_dir() if folder else entry.is_file())]
    except OSError:
        return None
    return path.parent / near[0].name if len(near) == 1 else None


def names_folder(typed: str | os.PathLike[str]) -> bool:
    """Whether a path typed as text ends with a separator: `-o modeles/` names a folder, even
    one not made yet (pathlib drops that separator: `typed_path` keeps the text).

    >>> names_folder("modeles/"), names_folder("modeles"), names_folder(Path("modeles/"))
    (True, False, False)
    """
    return isinstance(typed, str) and typed.endswith(tuple(sep for sep in (os.sep, os.altsep, "/") if sep))


def typed_path(value: str) -> str | Path:
    """A path option of the command line, as typed when it ends with a separator (for
    `into_folder`: a folder), else its Path."""
    return value if names_folder(value) else Path(value)


def into_folder(target: str | os.PathLike[str], name: str) -> Path:
    """`target`, or the file `name` inside it when it is a folder, or is typed as one (`names_folder`,
    made when written): `-o depot/` names where to write, as convertir's does (the file became
    `depot-2`, without extension, beside it; `-o modeles/`, a folder not made yet, `modeles.xlsx`)."""
    path = Path(target)
    try:
        folder = names_folder(target) or path.is_dir()
    except OSError:  # a name too long for the system…: not a folder, its writing says why in French
        folder = False
    return path / name if folder else path


SPREADSHEET_SUFFIXES = (".xlsx", ".ods", ".fods", ".xls", ".xlsm", ".xlsb", ".csv")


def as_xlsx(target: Path) -> Path:
    """The name of a workbook xl2segur writes: it holds an .xlsx, and Excel refuses to open one
    named .ods, .xlsm…, a desktop one without extension; a spreadsheet extension is replaced,
    else `.xlsx` is added.

    >>> [as_xlsx(Path(n)).name for n in ("a.ods", "a", "a.XLSX", "a.v2", "a.xlsm")]
    ['a.xlsx', 'a.xlsx', 'a.XLSX', 'a.v2.xlsx', 'a.xlsx']
    """
    return _named_as(target, ".xlsx")


def as_json(target: Path) -> Path:
    """The name of a report xl2segur writes: it holds JSON; under a workbook's name
    (`--rapport rapport.xlsx`) Excel refused to open it. A spreadsheet extension is replaced,
    else `.json` is added.

    >>> [as_json(Path(n)).name for n in ("r.xlsx", "r", "r.JSON", "r.v2", "r.ods")]
    ['r.json', 'r.json', 'r.JSON', 'r.v2.json', 'r.json']
    """
    return _named_as(target, ".json")


def _named_as(target: Path, suffix: str) -> Path:
    """`target` with the extension `suffix`: kept in any case, in place of a spreadsheet's, else added."""
    if target.suffix.lower() == suffix:
        return target
    if target.suffix.lower() in SPREADSHEET_SUFFIXES:
        return target.with_suffix(suffix)
    return target.with_name(f"{target.name}{suffix}")


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
