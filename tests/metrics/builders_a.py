"""Small hand-written Tables for the purchasing, survey and complaint tests."""

from __future__ import annotations

from datetime import date
from typing import Any, Iterable, Sequence

import pandas as pd

from metrics.periods import Period
from metrics.tables import SCHEMA, Tables, empty_frame


def frame(tab: str, rows: Iterable[Sequence[Any]], columns: Sequence[str]) -> pd.DataFrame:
    """A frame of `tab` from tuples over `columns`; other canonical columns are empty, dtypes canonical."""
    rows = list(rows)
    given = {c: [r[i] for r in rows] for i, c in enumerate(columns)}
    out = {}
    for col, dtype in SCHEMA[tab].items():
        values = given.get(col, [None] * len(rows))
        if dtype.startswith("datetime"):
            out[col] = pd.to_datetime(pd.Series(values, dtype="object"), format="%Y-%m-%d")
        else:
            out[col] = pd.Series(values, dtype="object" if col not in given and dtype != "string" else None).astype(dtype)
    return pd.DataFrame(out)


def orders(*rows: tuple[str | None, str | None, str, float]) -> pd.DataFrame:
    """Rows of (order_id, customer_id, "YYYY-MM-DD", amount)."""
    return frame("orders", rows, ["order_id", "customer_id", "order_date", "amount"])


def responses(*rows: tuple[str, str, int]) -> pd.DataFrame:
    """Rows of ("YYYY-MM-DD", survey, score)."""
    return frame("responses", rows, ["date", "survey", "score"])


def scores(survey: str, day: str, values: Iterable[int]) -> pd.DataFrame:
    """One answer per value, all on `day`."""
    return responses(*[(day, survey, v) for v in values])


def complaints(*rows: tuple[str, str | None, str | None, str | None]) -> pd.DataFrame:
    """Rows of ("YYYY-MM-DD", customer_id, status, resolved_on "YYYY-MM-DD" or None)."""
    return frame("complaints", rows, ["date", "customer_id", "status", "resolved_on"])


def customers(*rows: tuple[str, str | None, str | None]) -> pd.DataFrame:
    """Rows of (customer_id, signup "YYYY-MM-DD" or None, churned_on or None)."""
    return frame("customers", rows, ["customer_id", "signup_date", "churned_on"])


def tables(excluded: dict[str, int] | None = None, **frames: pd.DataFrame) -> Tables:
    return Tables.from_frames(frames, excluded=excluded)


def period(start: str, end: str, label: str = "P") -> Period:
    """The half-open period [start, end)."""
    return Period(date.fromisoformat(start), date.fromisoformat(end), label)


JAN = period("2026-01-01", "2026-02-01", "2026-01")
