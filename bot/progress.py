"""The CLI's progress bar: one line on stderr, only when stderr is a terminal, only once a read or a refresh has
taken more than a second; it never writes to stdout and clears its line when the phase ends."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TextIO

from bot.i18n import N_, current, translate
from sheets import progress

DELAY_SECONDS = 1.0  # a phase shorter than this shows nothing
REDRAW_SECONDS = 0.2
WIDTH = 20  # characters of the bar itself
SHEETS_LABELS = (N_("reading {name}"), N_("checking {name}"))  # sheets.progress.READING/CHECKING, for the catalogue


class Bar:
    """Draws the latest step of the phase in progress on `stream` from a background thread (so a long step still
    shows its elapsed time), `delay` seconds after the phase started; erases itself when the phase ends. Its words
    are in the language in force when it is made (the thread does not see the caller's `bot.i18n.use`)."""

    def __init__(
        self,
        stream: TextIO,
        delay: float | None = None,
        redraw: float = REDRAW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.stream, self.redraw, self.clock = stream, redraw, clock
        self.delay = DELAY_SECONDS if delay is None else delay
        self._words = translate(current())
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._started: float | None = None  # when the phase in progress started; None between phases
        self._step: tuple[str, int, int, int | None, Mapping[str, object]] = ("", 0, 0, None, {})
        self._shown = 0  # characters of the line on screen now
        self._thread = threading.Thread(target=self._run, name="pulse-progress", daemon=True)
        self._thread.start()

    def update(
        self, what: str, done: int, total: int, rows: int | None = None, params: Mapping[str, object] | None = None
    ) -> None:
        """A step (sheets.progress.Listener): remember it; the phase ends when `done` reaches `total`."""
        with self._lock:
            if done >= total:
                self._started = None
                self._erase()
                return
            if self._started is None:
                self._started = self.clock()
            self._step = (what, done, total, rows, params or {})
        self._wake.set()

    def close(self) -> None:
        """Stop drawing and erase the line."""
        with self._lock:
            self._closed = True
            self._erase()
        self._wake.set()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                timeout = None  # between phases: sleep until the next step
                if self._started is not None:
                    elapsed = self.clock() - self._started
                    if elapsed >= self.delay:
                        self._draw(elapsed)
                        timeout = self.redraw
                    else:
                        timeout = self.delay - elapsed
            self._wake.wait(timeout)
            self._wake.clear()

    def _draw(self, elapsed: float) -> None:
        what, done, total, rows, params = self._step
        words = self._words.gettext
        filled = round(WIDTH * done / total) if total else 0
        line = f"[{'#' * filled}{'-' * (WIDTH - filled)}] {done}/{total}"
        if rows is not None:
            line += " · " + words(N_("{rows} rows")).format(rows=f"{rows:,}")
        line += " · " + words(N_("{seconds} s")).format(seconds=f"{elapsed:.0f}")
        line += " · " + words(what).format(**params)  # last, so a narrow terminal cuts the name, not the figures
        line = line[: max(10, shutil.get_terminal_size((80, 24)).columns - 1)]
        self._write("\r" + line + " " * max(0, self._shown - len(line)))
        self._shown = len(line)

    def _erase(self) -> None:
        if self._shown:
            self._write("\r" + " " * self._shown + "\r")
            self._shown = 0

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: no progress, the command goes on
            self._shown = 0


@contextmanager
def progress_bar(stream: TextIO | None = None) -> Iterator[None]:
    """Show the reads' and refreshes' progress on `stream` (default stderr) while the block runs, if it is a
    terminal; otherwise (a pipe, a file, CI) show nothing at all."""
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    if not (isatty is not None and isatty()):
        yield
        return
    bar = Bar(stream)
    try:
        with progress.listening(bar.update):
            yield
    finally:
        bar.close()
