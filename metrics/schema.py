"""The source schema, once: each source tab's canonical columns, how their cells are typed, their dtype and
whether the tab needs them; the column that dates a row.

Everything that names source tabs or columns reads it: metrics.tables (the frames' dtypes), sheets.headers and
sheets.validate (header matching, typing, required columns), config.settings (the tab keys of `[tabs]` and
`[columns]`), the analyses and the digest (which date places a row in time). It imports nothing, so sheets/ and
config/ may import it without reaching the metrics themselves (tests/test_layers.py keeps it so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["id", "date", "number", "score", "text"]

# How a kind of cell is held in a normalized frame. Dates are naive datetime64[ns] at midnight, already in the
# configured timezone; identifiers are trimmed strings; a missing value is NaT / NaN / None.
DTYPES: dict[Kind, str] = {
    "id": "string",
    "text": "string",
    "date": "datetime64[ns]",
    "number": "float64",
    "score": "int64",
}


@dataclass(frozen=True)
class Column:
    """One canonical column: its name, how cells are typed, the output dtype and whether the tab needs it."""

    name: str
    kind: Kind
    dtype: str
    required: bool = False


def _c(name: str, kind: Kind, required: bool = False) -> Column:
    return Column(name, kind, DTYPES[kind], required)


# Each source tab's canonical columns, in order. The first date column of each tab dates its rows (DATED).
COLUMNS: dict[str, tuple[Column, ...]] = {
    "customers": (_c("customer_id", "id", True), _c("signup_date", "date"), _c("churned_on", "date")),
    "orders": (
        _c("order_id", "id"),
        _c("customer_id", "id", True),
        _c("order_date", "date", True),
        _c("amount", "number", True),
        _c("gross_margin", "number"),
    ),
    "responses": (
        _c("date", "date", True),
        _c("survey", "text", True),
        _c("score", "score", True),
        _c("customer_id", "id"),
        _c("comment", "text"),
    ),
    "complaints": (
        _c("date", "date", True),
        _c("customer_id", "id"),
        _c("order_id", "id"),
        _c("category", "text"),
        _c("status", "text"),
        _c("resolved_on", "date"),
    ),
    "spend": (_c("date", "date", True), _c("amount", "number", True), _c("channel", "text"), _c("end_date", "date")),
    "subscriptions": (
        _c("customer_id", "id", True),
        _c("start_date", "date", True),
        _c("end_date", "date", True),
        _c("plan", "text"),
        _c("amount", "number"),
    ),
}

# The source tab keys, in order (the `[tabs]` and `[columns]` keys of the config).
SOURCE_TABS: tuple[str, ...] = tuple(COLUMNS)

# The date that places a row in time: each tab's first date column (signup, order, answer, complaint, spend,
# contract start).
DATED: dict[str, str] = {tab: next(c.name for c in cols if c.kind == "date") for tab, cols in COLUMNS.items()}
