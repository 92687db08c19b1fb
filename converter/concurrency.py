"""Concurrency, in one module: how a conversion keeps both cores busy. Everything here is
an optimisation; with `SERIAL`, a conversion renders, verifies and records each file in turn,
in one thread, and writes the same bytes (tests/test_performance.py compares both paths).

Nine overlaps:
- opening ahead (launch.py, the command's entry point): the workbook of `convertir` or
  `verifier` is opened by fastexcel (both readers, for a large one) while Python imports the
  rest of the tool; reading.py takes those readers for the same file, unchanged;
- scanning ahead (`computed_ahead`): while fastexcel loads a sheet (it lets go of the GIL),
  one thread scans the next sheets' XML (reading.py);
- checking aside (`checked_aside`): a large .ods's content.xml is checked well-formed by expat
  in a second process (container.py) while reading.py scans it, before fastexcel opens it;
- two readers (`two_readers`): a large workbook's last sheets are loaded by a second
  fastexcel reader, opened and loading in a thread of its own (`started`, `computed_ahead`),
  while the first loads the others (reading.py);
- checking in threads (`started`): each sheet is checked in a thread of its own as soon as it
  is read, while fastexcel loads the next one; then each sheet's links to the others, in
  threads too (reading.py, checks/);
- verifying in a second process (`FileChecker`): parsing and validating a file cost as much
  as rendering it, and orjson and jsonschema-rs hold the GIL; for a large conversion
  (`PARALLEL_FROM`) they run in a second process, which reads each file where a thread of
  the first wrote it under a temporary name, flushes it to disk when valid, and packs it as
  the ledger keeps it. A small one stays in process: starting
  a process costs more than it saves. Both ways run the same `validation.inspect`;
- rendering ahead (`RenderAhead`): the next files are rendered while the oldest is verified;
- recording in a thread (`record_each`): recording a file (SQLite, zstd, the disk) lets go
  of the GIL, and the next file renders meanwhile;
- checkpointing in a thread (`checkpointed_aside`): the ledger's write-ahead log is copied
  into the ledger by a thread of its own, and the recording thread never waits on those
  flushes.

This module imports neither Polars nor the definitions: the second process starts light.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Generic, TypeVar

import jsonschema_rs
import orjson

from .files import OutputError, running, write_temporary
from .ledger import pack
from .validation import FileCheck, inspect, pattern_hints

PARALLEL_FROM = 2_000
"""Accepted demandes from which files are checked in a second process (ten files of 200)."""

TWO_READERS_FROM = 64 << 20
"""Bytes of sheet XML (uncompressed) from which a workbook is read by two fastexcel readers,
each in a thread of its own (about 50,000 demandes). A second reader parses the shared
strings again (0.3 to 0.5 s of computing at 100,000 demandes): at 30,000 demandes (41 Mio)
the read took as long either way, at 100,000 (141 and 214 Mio) 0.5 to 1.5 s less."""

CHECK_ASIDE_FROM = 16 << 20
"""Bytes of an .ods's content.xml (uncompressed) from which expat checks it is well-formed in a
second process while the scan reads it (reading.py): 5.5 s of computing at 100,000 demandes
(685 Mo), half as much as the scan; below, in the scan, under 0.15 s."""

SERIAL = False
"""True: no second process, no file rendered ahead, no recording thread, no sheet scanned or
checked ahead."""

Key = TypeVar("Key")


Value = TypeVar("Value")


class _WhenAsked(Future[Value]):
    """The serial path's future: computed here, when its result is first asked for."""

    def __init__(self, work: Callable[[], Value]):
        super().__init__()
        self.work = work

    def result(self, timeout: float | None = None) -> Value:
        if not self.done():
            try:
                self.set_result(self.work())
            except BaseException as exc:  # noqa: BLE001 — raised by result(), as a thread's would be
                self.set_exception(exc)
        return super().result(timeout)


@contextlib.contextmanager
def computed_ahead(work: Callable[[Key], Value], items: dict[str, Key]) -> Iterator[dict[str, Future[Value]]]:
    """name → Future of `work(item)`, computed in order in one thread of its own, ahead of their
    use (SERIAL: each when its result is asked for). On exit, those not started are cancelled."""
    if SERIAL:
        yield {name: _WhenAsked(lambda item=item: work(item)) for name, item in items.items()}
        return
    with ThreadPoolExecutor(1, thread_name_prefix="xl2segur-scan") as pool:
        ahead = {name: pool.submit(work, item) for name, item in items.items()}
        try:
            yield ahead
        finally:
            for future in ahead.values():
                future.cancel()


def started(work: Callable[[], Value]) -> Future[Value]:
    """The Future of `work()`, computed from now on in a thread of its own (SERIAL: when its
    result is asked for). Nobody waits for a result never asked for: the thread just ends."""
    if SERIAL:
        return _WhenAsked(work)
    future: Future[Value] = Future()

    def run() -> None:
        future.set_running_or_notify_cancel()
        try:
            future.set_result(work())
        except BaseException as exc:  # noqa: BLE001 — raised by result(), in the thread that asks
            future.set_exception(exc)

    threading.Thread(target=run, name="xl2segur-check", daemon=True).start()
    return future


@contextlib.contextmanager
def ahead(work: Callable[[], Value]) -> Iterator[Future[Value]]:
    """`started(work)`, for the block: on leaving it, whatever happened, its thread has ended
    (`ended`)."""
    future = started(work)
    try:
        yield future
    finally:
        ended(future)


def results(futures: list[Future[Value]]) -> list[Value]:
    """The results of `futures` (from `started`), in order. Should one fail, the threads still
    running end before its failure is raised: a thread still inside Polars when the
    interpreter exits would take the process down with it."""
    try:
        return [future.result() for future in futures]
    except BaseException:
        for future in futures:
            if not isinstance(future, _WhenAsked):  # serial: never started, nothing to wait for
                with contextlib.suppress(Exception):
                    future.result()
        raise


def checked_aside(content_bytes: int) -> bool:
    """Whether an .ods's content.xml of `content_bytes` is checked in a second process (reading.py)."""
    return not SERIAL and content_bytes >= CHECK_ASIDE_FROM


def two_readers(sheet_bytes: int) -> bool:
    """Whether a workbook of `sheet_bytes` of sheet XML is read by two readers (reading.py)."""
    return not SERIAL and sheet_bytes >= TWO_READERS_FROM


def ended(future: Future[Any]) -> None:
    """Wait until the thread of `future` (from `started`) ends, whatever its outcome, raising
    nothing: a thread still inside Polars when the interpreter exits would take the process
    down with it. A serial one never asked for is not computed."""
    if not isinstance(future, _WhenAsked):
        future.exception()


def second_process(demandes: int) -> bool:
    return not SERIAL and demandes >= PARALLEL_FROM


def files_ahead(files_per_batch: int) -> int:
    """How many files wait for their check. One render batch comes in a burst of Polars: with
    fewer files queued than two batches, the second process would run dry meanwhile (measured:
    12 files ahead, writing took a fifth longer)."""
    return 1 if SERIAL else 2 * max(1, files_per_batch)


class RenderAhead(Generic[Key]):
    """(key, its FileCheck) of each (key, rendered file) of `planned`, in order, while up to
    `depth` files are rendered and submitted ahead of the one waited for. `restart(planned)`
    drops the files ahead (their answers still come, and go unread) and goes on from a new plan."""

    def __init__(self, checker: FileChecker, planned: Iterator[tuple[Key, bytes]], depth: int):
        self.checker, self.planned, self.depth = checker, planned, depth
        self.waiting: deque[tuple[Key, bytes, Future[FileCheck]]] = deque()

    def restart(self, planned: Iterator[tuple[Key, bytes]]) -> None:
        self.waiting.clear()
        self.planned = planned

    def __iter__(self) -> Iterator[tuple[Key, FileCheck]]:
        while True:
            while len(self.waiting) < self.depth and (nxt := next(self.planned, None)) is not None:
                key, data = nxt
                self.waiting.append((key, data, self.checker.submit(data)))
            if not self.waiting:
                return
            key, data, pending = self.waiting.popleft()
            yield key, self.checker.result(pending, data)


def record_each(items: Iterator[Any], consume: Callable[[Any], None], discard: Callable[[Any], None]) -> None:
    """`consume(item)` for each item, in order: in a thread of its own (`_in_background`), or
    here with `SERIAL`."""
    if not SERIAL:
        _in_background(items, consume, discard)
        return
    for item in items:
        consume(item)


CHECKPOINT_EVERY = 0.1
"""Seconds between two checkpoints of the ledger's write-ahead log (`checkpointed_aside`)."""

RESTART_LOG_ABOVE = 16 << 20
"""Bytes of write-ahead log from which a checkpoint also restarts the log (`checkpointed_aside`)."""


@contextlib.contextmanager
def checkpointed_aside(path: Path, db: sqlite3.Connection, wal: bool) -> Iterator[None]:
    """While inside, the write-ahead log of the ledger `path` is copied into the ledger (a
    checkpoint, flushed to disk before and after, as SQLite does it) by a thread with a
    connection of its own, every `CHECKPOINT_EVERY` second, and no longer by the commit of `db`
    (the recording connection, in WAL mode if `wal`) that fills 1,000 pages of log.

    A checkpoint waits on the disk: the recording thread spent a third of its time waiting on
    them (500 files: 0.98 to 1.66 s, against 0.68 to 0.83 s without), fell behind the files
    rendered (50 waiting at the last one) and kept the conversion waiting at its end. SQLite
    lets one connection checkpoint while another commits (PASSIVE: it copies what is committed
    and waits for nobody). The commits stay as durable: the log is flushed at each checkpoint,
    about as often as before (every 25 files or so, against every 1,000 pages, 40 files).
    Should the thread fail, the log grows until the first commit after this block, or the
    ledger's closing, which checkpoint it as before. SERIAL, or a ledger without a log
    (shared, `Ledger.shared`): the commits checkpoint, as always.

    A passive checkpoint never catches up with a commit every few milliseconds, so the log
    never starts again from its beginning: it grew to the size of every page the run wrote
    (85 MB at 100,000 demandes), new disk blocks all along, and SQLite took a tenth of a second
    to delete it at the closing, while nothing else was left to do. Once the log passes
    `RESTART_LOG_ABOVE`, the checkpoint is a RESTART, which tells the next commit to write from
    the log's beginning again: it takes the write lock only if it is free at once (no busy
    timeout on this connection; else it stays passive and tries again next time), for as long
    as it copies what the last checkpoint left, and never waits for anybody."""
    if SERIAL or not wal:
        yield
        return
    stop = threading.Event()
    log = Path(f"{path}-wal")

    def run() -> None:
        with contextlib.suppress(sqlite3.Error), contextlib.closing(sqlite3.connect(path, timeout=0)) as own:
            own.execute("PRAGMA synchronous = NORMAL")  # the recording connection's: each checkpoint flushes
            while not stop.wait(CHECKPOINT_EVERY):
                # without a busy timeout, « locked » may come back: the next checkpoint tries again
                with contextlib.suppress(OSError, sqlite3.OperationalError):
                    if log.stat().st_size > RESTART_LOG_ABOVE:
                        for _ in range(20):  # the recording thread lets go of the lock between two files
                            if not own.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()[0]:
                                break
                            time.sleep(0.001)
                        continue
                    own.execute("PRAGMA wal_checkpoint(PASSIVE)")

    db.execute("PRAGMA wal_autocheckpoint = 0")
    checkpointer = threading.Thread(target=run, name="xl2segur-checkpoint", daemon=True)
    checkpointer.start()
    try:
        yield
    finally:
        stop.set()
        checkpointer.join()
        db.execute("PRAGMA wal_autocheckpoint = 1000")  # SQLite's default


_END = object()


def _in_background(items: Iterator[Any], consume: Callable[[Any], None], discard: Callable[[Any], None],
                   depth: int = 64) -> None:
    """`consume(item)` for each item, in order, in a thread of its own, while this thread
    produces the next ones: recording a deposit file (SQLite, zstd, the disk) lets go of the
    GIL, and the next file renders meanwhile. The first failure of `consume` stops it all
    and is raised here; the items produced and not consumed go to `discard`.

    Up to `depth` items wait: files come in bursts (a render batch, 25 files), and with 4
    waiting the producer waited for the consumer a fifth of its time (100,000 demandes). Should
    this thread stop (Ctrl-C), the item in hand is consumed whole and those waiting are
    discarded (a file not recorded yet is not named): the user does not wait for them."""
    handed: queue.Queue[Any] = queue.Queue(maxsize=depth)
    failures: list[BaseException] = []
    stopping, finished = threading.Event(), threading.Event()

    def run() -> None:
        try:
            while (item := handed.get()) is not _END:
                if failures or stopping.is_set():
                    discard(item)
                    continue
                try:
                    consume(item)
                except BaseException as exc:  # noqa: BLE001 — raised in the producing thread
                    failures.append(exc)
                    discard(item)
        finally:
            finished.set()

    worker = threading.Thread(target=run, name="xl2segur-registre")
    worker.start()
    try:
        with _interrupting(stopping):
            _hand_over(items, handed, failures, discard)
    except KeyboardInterrupt:
        stopping.set()
        raise
    finally:
        _end(handed, stopping, finished)
        worker.join()
    if failures:
        raise failures[0]


def _hand_over(items: Iterator[Any], handed: queue.Queue[Any], failures: list[BaseException],
               discard: Callable[[Any], None]) -> None:
    for item in items:
        if failures:
            discard(item)
            break
        try:
            handed.put(item)  # waits while the consumer is behind: where Ctrl-C lands
        except BaseException:
            discard(item)
            raise


@contextlib.contextmanager
def _interrupting(stopping: threading.Event) -> Iterator[None]:
    """While inside, a Ctrl-C sets `stopping` at once, then raises KeyboardInterrupt as
    usual: the producer's own clean-up (the second process ending) may take a while, and
    the consumer must not go on with what waits meanwhile. Only where Python's own handler
    is in place, in the main thread."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return

    def interrupted(signum: int, frame: Any) -> None:
        stopping.set()
        signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _end(handed: queue.Queue[Any], stopping: threading.Event, finished: threading.Event) -> None:
    """Tell the consumer that nothing more comes, and wait until it is done; a Ctrl-C meanwhile
    makes it discard what it has not started, and is raised once it is done. (An Event and not
    Thread.join: a join interrupted by Ctrl-C may take the thread for ended while it runs.)"""
    interrupted = ended = False
    while not finished.is_set():
        try:
            if not ended:
                handed.put(_END)
                ended = True
            finished.wait()
        except KeyboardInterrupt:
            stopping.set()
            interrupted = True
    if interrupted:
        raise KeyboardInterrupt


class FileChecker:
    """`submit(data)` → a Future of the file's `FileCheck`; `result(future, data)` waits for it.

    With a `folder`, each valid file is also written there under a temporary name
    (`FileCheck.written`), flushed to disk, for the caller to name (files.publish) and then
    remove; those the caller never got are removed on exit. Each valid file is also packed
    (`FileCheck.packed`).

    Parallel: the files go to a second Python process (`python -m converter.concurrency`,
    talking through its standard input and output), whose answers a thread collects. A
    subprocess and not multiprocessing: that one would re-import the caller's main script.
    With a folder, a file does not go through the pipe: a thread of this process writes it
    under its temporary name, not flushed (the page cache is shared), and sends its path;
    the second process reads it there, checks it, packs it and flushes it to disk when valid.
    An invalid file is removed at once, never named. Through the pipe, 200 to 500 MB at
    100,000 demandes cost 1.7 s of CPU to send and receive; writing them costs a tenth.
    Should the second process fail, the file is checked here: nothing is ever named unchecked.
    The validator is built once per checker (under a millisecond)."""

    def __init__(self, schema: dict[str, Any], parallel: bool, folder: Path | None = None):
        self.validator, self.hints = jsonschema_rs.validator_for(schema), pattern_hints(schema)
        self.folder = Path(folder) if folder is not None else None
        self.stack = contextlib.ExitStack()
        if self.folder is not None:  # this run's temporaries: they live while it lives
            self.stack.enter_context(running(self.folder))
        self.worker: subprocess.Popen[bytes] | None = None
        self.waiting: deque[Future[FileCheck]] = deque()
        self.unclaimed: set[Path] = set()  # written ahead, not yet handed to the caller
        self.temporaries: dict[Future[FileCheck], Path] = {}  # written by the sender, not yet answered
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
            self.outbox: queue.Queue[tuple[Future[FileCheck], bytes] | None] = queue.Queue()
            self.sender = threading.Thread(target=self._send, args=(orjson.dumps(schema),), daemon=True)
            self.reader = threading.Thread(target=self._collect, daemon=True)
            self.sender.start()
            self.reader.start()

    def _send(self, schema: bytes) -> None:
        """In a thread: hands the files over (writing to the disk or the pipe lets go of the
        GIL, and waits while the second process is busy): the caller renders the next file
        meanwhile. Each file: its temporary path, else (no folder, or it could not be written
        there) `null` and the file itself."""
        try:
            self.send.send_bytes(schema)
            while (item := self.outbox.get()) is not None:
                future, data = item
                written = None
                if self.folder is not None:
                    # cannot write: sent whole; `result` writes it, and says why if that fails too
                    with contextlib.suppress(OutputError):
                        written = write_temporary(self.folder, data, synced=False)
                        self.unclaimed.add(written)
                        self.temporaries[future] = written
                self.send.send_bytes(orjson.dumps(str(written) if written else None))
                if written is None:
                    self.send.send_bytes(data)
        except OSError:  # gone: the reader fails what waits, and it is checked here
            pass
        finally:
            with contextlib.suppress(OSError):
                self.send.close()  # end of input: the second process stops

    def _collect(self) -> None:
        """In a thread: each answer of the second process settles the oldest waiting file.
        A temporary it did not flush (invalid, unread, or it could not) goes at once."""
        try:
            while True:
                errors, synced, packed = pickle.loads(self.receive.recv_bytes())
                future = self.waiting.popleft()
                written = self.temporaries.pop(future, None)
                if written is not None and not synced:
                    self._drop(written)
                    written = None
                if errors is None:  # it could not read the file: checked here
                    future.set_exception(OSError("unread"))
                else:
                    future.set_result(FileCheck(errors, written, packed))
        except Exception as exc:  # noqa: BLE001 — whatever broke, what waits is checked here
            while self.waiting:
                self.waiting.popleft().set_exception(exc)

    def _drop(self, written: Path) -> None:
        self.unclaimed.discard(written)
        written.unlink(missing_ok=True)

    def submit(self, data: bytes) -> Future[FileCheck]:
        future: Future[FileCheck] = Future()
        if self.worker is not None and self.sender.is_alive():  # a second process gone: the reader fails its files
            self.waiting.append(future)
            self.outbox.put((future, data))
            return future
        future.set_result(inspect(self.validator, data, self.hints))
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
            found = inspect(self.validator, data, self.hints)  # checked here, never written unchecked
            break
        if found.errors:
            return found
        if found.written is not None:
            self.unclaimed.discard(found.written)
        elif self.folder is not None:
            # valid, but not written yet: checked here, or the second process could not flush it
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


_READ_WRITE = os.O_RDWR | getattr(os, "O_BINARY", 0)  # read, then flushed (Windows flushes only what it may write)


def _serve() -> None:
    """The second process: a schema, then files (a temporary path, or `null` and the file),
    each answered with (errors or None when unread, flushed, packed), pickled."""
    # Ctrl-C in a terminal reaches the whole process group: the first process decides, and ends
    # the input; stopping here would leave files unanswered
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    receive = Connection(sys.stdin.fileno(), writable=False)
    send = Connection(os.dup(sys.stdout.fileno()), readable=False)
    sys.stdout = sys.stderr  # nothing else may write into the answers
    schema = orjson.loads(receive.recv_bytes())
    validator, hints = jsonschema_rs.validator_for(schema), pattern_hints(schema)
    # No cyclic garbage collector: each file parses into some 100,000 Python objects, freed by
    # their counts once checked, and the collections their creation set off cost a fifth of this
    # process's CPU (500 files of 200 demandes: 2.2 → 1.75 s). What lives here is one
    # conversion's files (at most 999 a day): even a cycle per file would stay small.
    gc.disable()
    # (file, descriptor, its flush, its check); up to 8 waiting: a flush may take several files' time
    checked: queue.Queue[tuple[bytes, int | None, Future[None] | None, FileCheck | None] | None] = queue.Queue(8)

    def pack_and_answer() -> None:
        """In a thread: packing a file lets go of the GIL, so the next one is read, parsed and
        validated meanwhile. The answers go in the files' order."""
        try:
            while (item := checked.get()) is not None:
                data, fd, flushed, check = item
                packed = pack(data) if check is not None and not check.errors else None
                # waits for the flush: its descriptor stays open until then
                unflushed = flushed is None or flushed.exception() is not None
                if fd is not None:
                    os.close(fd)
                # not flushed: the first process writes it again, and says why if that fails too
                synced = packed is not None and not unflushed
                # sent as plain data: here FileCheck is __main__'s
                send.send_bytes(pickle.dumps((check.errors if check else None, synced, packed)))
        except BaseException:  # noqa: BLE001 — answers lost: end this process, the first checks by itself
            os._exit(1)

    answering = threading.Thread(target=pack_and_answer)
    answering.start()
    # each file is flushed to disk as soon as it is read, while it is checked: a flush waits on
    # the disk (2 to 4 ms for 570 ko here), one after the other they held the answers back
    with ThreadPoolExecutor(4, thread_name_prefix="xl2segur-fsync") as flushing:
        while True:
            try:
                written = orjson.loads(receive.recv_bytes())
                data = receive.recv_bytes() if written is None else b""
            except (EOFError, OSError):
                break
            fd = flushed = None
            if written is not None:
                try:
                    fd = os.open(written, _READ_WRITE)
                    with open(fd, "rb", buffering=0, closefd=False) as fh:
                        data = fh.readall()
                except OSError:
                    if fd is not None:
                        os.close(fd)
                    checked.put((b"", None, None, None))
                    continue
                flushed = flushing.submit(os.fsync, fd)
            checked.put((data, fd, flushed, inspect(validator, data, hints)))
        checked.put(None)
        answering.join()
    # every answer is written, every file flushed: the first process waits for this one to end,
    # and the interpreter's teardown would only keep it waiting (30 to 100 ms measured)
    os._exit(0)


if __name__ == "__main__":
    _serve()
