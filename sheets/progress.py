"""Progress of long reads and writes, reported step by step to whoever listens (the CLI's stderr bar); by default
nobody listens and a report costs one attribute lookup.

A step is (what, done, total, rows): `done` of `total` parts finished, `rows` read so far when known; the step that
brings `done` to `total` ends that phase.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Listener = Callable[[str, int, int, "int | None"], None]

_listener: Listener | None = None


def report(what: str, done: int, total: int, rows: int | None = None) -> None:
    """Tell the listener, if any, that `done` of `total` parts of `what` are finished."""
    listener = _listener
    if listener is not None:
        listener(what, done, total, rows)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send every report made inside the block to `listener` (one listener at a time: a CLI command's)."""
    global _listener
    previous, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = previous
