"""A one-line progress display on the terminal for long runs (`api.Progress` callbacks).

Nothing is shown during the first second, nor when the stream is not a terminal (a pipe, a
file, CI): short runs and logs stay clean. The line is rewritten in place (`\\r`) by a
background thread, so a stage that sends no news for a while (reading the workbook) still
shows its elapsed time, and it is erased when the run ends.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

DELAY = 1.0  # seconds before anything is shown
TICK = 0.2  # seconds between redraws


class StatusLine:
    """Callable as `progress(stage, done, total)`; `start()` then `stop()`."""

    def __init__(self, stream: TextIO, delay: float = DELAY, tick: float = TICK):
        self.stream, self.delay, self.tick = stream, delay, tick
        self.stage, self.done, self.total = "", 0, 0
        self.started = time.monotonic()
        self.width = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="xl2segur-progress", daemon=True)

    def __call__(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            self.stage, self.done, self.total = stage, done, total

    def text(self) -> str:
        """
        >>> line = StatusLine(sys.stderr)
        >>> line("Écriture des fichiers de dépôt", 25_000, 100_000); line.text().split(" (")[0]
        'Écriture des fichiers de dépôt… 25 %'
        """
        elapsed = time.monotonic() - self.started
        with self._lock:
            stage, done, total = self.stage, self.done, self.total
        tail = f"…{f' {100 * done // total} %' if total else ''} ({elapsed:.0f} s)"
        # narrower than the terminal (where « … » may be written « ... »): a wrapped line is not
        # rewritten by `\r`, each redraw added one
        return stage[:max(self._columns() - 3 - len(tail), 0)] + tail

    def _columns(self) -> int:
        """The terminal's width: COLUMNS first, as shutil reads it; else the stream's; else 80."""
        with contextlib.suppress(KeyError, ValueError):
            return int(os.environ["COLUMNS"])
        try:
            return os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, ValueError, OSError):
            return 80

    def _draw(self) -> None:
        if not self.stage:  # started before the command names its first stage: nothing to say yet
            return
        text = self.text()
        pad = max(self.width - len(text), 0)
        self.width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        while not self._stop.is_set():
            self._draw()
            self._stop.wait(self.tick)

    def start(self) -> StatusLine:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


@contextlib.contextmanager
def progress_line(quiet: bool = False, stream: TextIO | None = None,
                  force: bool = False) -> Iterator[StatusLine | None]:
    """The callback to hand to the API, or None when quiet or not on a terminal."""
    stream = stream if stream is not None else sys.stderr
    if quiet or stream is None or not (force or stream.isatty()):  # None: no stderr (pythonw, `2>&-`)
        yield None
        return
    line = StatusLine(stream).start()
    try:
        yield line
    finally:
        line.stop()
