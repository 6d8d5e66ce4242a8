"""Progress of long reads and writes, reported step by step to whoever listens (the CLI's stderr bar); by default
nobody listens and a report costs one attribute lookup.

A step is (what, done, total, rows, params): `done` of `total` parts finished, `rows` read so far when known; the step
that brings `done` to `total` ends that phase. `what` is an English label with `{name}` placeholders filled from
`params`, so the listener can word it in the user's language (bot/progress.py lists the labels for the catalogue).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

Listener = Callable[[str, int, int, "int | None", Mapping[str, object]], None]

READING = "reading {name}"  # the labels reported from sheets/, translated by bot/progress.py
CHECKING = "checking {name}"

_listener: Listener | None = None


def report(what: str, done: int, total: int, rows: int | None = None, **params: object) -> None:
    """Tell the listener, if any, that `done` of `total` parts of `what` (its placeholders in `params`) are finished."""
    listener = _listener
    if listener is not None:
        listener(what, done, total, rows, params)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send every report made inside the block to `listener` (one listener at a time: a CLI command's)."""
    global _listener
    previous, _listener = _listener, listener
    try:
        yield
    finally:
        _listener = previous
