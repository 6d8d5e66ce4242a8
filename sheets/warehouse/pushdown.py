"""Aggregates computed by the warehouse (Ibis expressions compiled to DuckDB's or PostgreSQL's SQL): only counts,
sums and score histograms come back to Python, never the rows.

The expressions read the source tables as they are, so they are used only on tables already in the snapshot's
typed form (canonical column names, typed dates and amounts) that the validation rules in SQL (`rule_counts`) find
nothing to reject in; `bot/pushdown.py` checks that and otherwise answers from the in-memory snapshot.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sheets.warehouse.source import SqlWorkbook
from sheets.workbook import WorkbookError

BLANK = "(blank)"
# Canonical columns of the source tables, as `pulse export` writes them: any other Customers column is a dimension.
CANONICAL = {
    "customers": ("customer_id", "signup_date", "churned_on"),
    "orders": ("order_id", "customer_id", "order_date", "amount", "gross_margin"),
    "responses": ("date", "survey", "score", "customer_id", "comment"),
}
NOT_DIMENSIONS = {*CANONICAL["customers"], "row"}
# Where a snapshot needs a typed column: (tab, column) → the Ibis type family it must have.
TYPED = {
    ("customers", "customer_id"): "string",
    ("orders", "customer_id"): "string",
    ("orders", "order_date"): "temporal",
    ("orders", "amount"): "numeric",
    ("responses", "date"): "temporal",
    ("responses", "survey"): "string",
    ("responses", "score"): "integer",
    ("responses", "customer_id"): "string",
    ("complaints", "date"): "temporal",
    ("complaints", "customer_id"): "string",
    ("spend", "date"): "temporal",
    ("spend", "amount"): "numeric",
    ("subscriptions", "customer_id"): "string",
    ("subscriptions", "start_date"): "temporal",
    ("subscriptions", "end_date"): "temporal",
}
# Optional columns that must be typed when a table has them (customer counts read the signup and churn dates).
TYPED_IF_PRESENT = {
    ("customers", "signup_date"): "temporal",
    ("customers", "churned_on"): "temporal",
    ("spend", "end_date"): "temporal",
}
Scope = tuple[tuple[str, str], ...]  # (dimension, value) pairs every customer must match
Bounds = tuple[datetime, datetime]  # a period as [start, end), naive datetimes like the tables' dates
T = TypeVar("T")
P = TypeVar("P")
Figures = dict[tuple[int, str | None], T]  # (period index, segment or None for the whole scope) → aggregates
# The columns each aggregate reads.
# Periods per orders query: each period's rows are grouped per customer in the engine's hash table, so CLV's 24
# trailing years of a Pulse Summary (24 × 2 M customers at 10 M orders) ran DuckDB out of its default 1 GB; a comparison
# (two periods) is still one query.
BASKET_PERIODS = 2
USED = {
    "orders": ("customer_id", "amount"),
    "responses": ("customer_id", "survey", "score"),
    "complaints": ("customer_id", "date", "status", "resolved_on"),
}


@dataclass(frozen=True)
class BasketStats:
    """One period's orders as aggregates: what `metrics.purchasing` reads of a basket."""

    gross: float = 0.0
    refunded: float = 0.0
    refund_rows: int = 0
    orders: int = 0
    purchasers: int = 0
    repeaters: int = 0
    anonymous_orders: int = 0
    excluded_rows: int = 0

    @property
    def revenue(self) -> float:
        return self.gross - self.refunded


@dataclass(frozen=True)
class ScoreStats:
    """One survey's answers in one period: how many of each valid score, and how many answers were unusable."""

    histogram: Mapping[int, int] = field(default_factory=dict)
    invalid: int = 0


@dataclass(frozen=True)
class RuleCount:
    """One validation rule run as a query: how many rows of a table it rejects, and a few of their keys."""

    tab: str
    column: str
    rule: str
    rows: int
    samples: tuple[str, ...] = ()
    severity: str = "rejected"


# Required columns per tab (as sheets/headers.py marks them): a blank value rejects the row.
REQUIRED = {
    "customers": ("customer_id",),
    "orders": ("customer_id", "order_date", "amount"),
    "responses": ("date", "survey", "score"),
    "complaints": ("date",),
    "spend": ("date", "amount"),
    "subscriptions": ("customer_id", "start_date", "end_date"),
}
UNIQUE = {"customers": "customer_id", "orders": "order_id"}
DATES = {
    "customers": ("signup_date", "churned_on"),
    "orders": ("order_date",),
    "responses": ("date",),
    "complaints": ("date",),
    "spend": ("date",),
    "subscriptions": ("start_date", "end_date"),
}
# The type family each kind of canonical column (metrics/schema.py) must have for its cells to need no reading.
KIND_FAMILY = {"id": "string", "text": "string", "date": "temporal", "number": "numeric", "score": "integer"}
SAMPLES = 3


class Warehouse:
    """The source tables of a `kind = "sql"` workbook as Ibis expressions, on one open connection."""

    def __init__(self, backend: Any, names: Mapping[str, str], found: Mapping[str, tuple[str, str]]) -> None:
        self.backend = backend
        self._names = names
        self._found = found
        self._values: dict[tuple[str, Scope], list[str]] = {}
        self._tables: dict[str, Any] = {}
        self._memo: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._kept: dict[str, Any] = {}
        self.ttl = 0.0

    def _remembered(self, key: tuple[Any, ...], compute: Any) -> Any:
        """`compute()`, or its value from the last `ttl` seconds: the purchasing metrics of one period and scope
        (an overview, a digest) share one query, and so do repeated questions."""
        now = time.monotonic()
        hit = self._memo.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        if len(self._memo) > 256:
            self._memo.clear()
        value = compute()
        self._memo[key] = (now, value)
        return value

    def kept(self, name: str, build: Callable[[], Any]) -> Any:
        """The table `build()` gives, which every period's questions share and which reads the whole history: on
        DuckDB computed once into a temporary table of this connection (opened afresh when the file changes, see
        `open_warehouse`), elsewhere the expression itself — a server's tables have no cheap change stamp, so a copy
        could go stale."""
        if self.dialect != "duckdb":
            return build()
        if name not in self._kept:
            self._kept[name] = self.backend.create_table(f"_pulse_{name}", build(), temp=True)
        return self._kept[name]

    @property
    def dialect(self) -> str:
        return str(self.backend.name)

    def table(self, key: str) -> Any | None:
        """The Ibis table of source tab `key` (customers, orders…), or None when the database has no such table."""
        if key not in self._tables:
            found = self._found.get(self._names[key])
            schema, name = _unquote(found[1]) if found else ("", "")
            self._tables[key] = self.backend.table(name, database=schema) if found else None
        return self._tables[key]

    def problem(self, keys: Sequence[str]) -> str | None:
        """Why these tables cannot be aggregated in SQL as they are (a missing table or column, an untyped
        column), else None."""
        for key in keys:
            table = self.table(key)
            if table is None:
                return f"no {key} table"
            columns = dict(table.schema().items())
            for (tab, column), family in TYPED.items():
                if tab != key:
                    continue
                if column not in columns:
                    return f"{key} has no {column} column"
                if not _is(columns[column], family):
                    return f"{key}.{column} is {columns[column]}, not {family}"
            for (tab, column), family in TYPED_IF_PRESENT.items():
                if tab == key and column in columns and not _is(columns[column], family):
                    return f"{key}.{column} is {columns[column]}, not {family}"
        return None

    def cells_problem(self, key: str, mapping: Mapping[str, str] | None = None) -> str | None:
        """Why reading this table's rows could report what the validation rules do not count (a `[columns]`
        mapping to check, a canonical column — matched like a header — not stored as its kind, so a cell may not
        read as one), else None: then the rules' counts are every issue its rows could have."""
        from metrics.schema import COLUMNS
        from sheets.headers import match_headers

        table = self.table(key)
        if table is None:
            return f"no {key} table"
        if mapping:
            return f"[columns.{key}] maps its columns"
        schema = table.schema()
        names = list(schema.names)
        match = match_headers(key, names)
        if match.missing:
            return f"{key} has no {', '.join(match.missing)} column"
        for column in COLUMNS[key]:
            index = match.columns.get(column.name)
            if index is not None and not _is(schema[names[index]], KIND_FAMILY[column.kind]):
                return f"{key}.{names[index]} is {schema[names[index]]}, not {KIND_FAMILY[column.kind]}"
        return None

    def first_day(self, key: str, column: str, scope: Scope = ()) -> datetime | None:
        """The earliest value of a date column among the rows of the customers in `scope` (the first order date:
        where the summary tab's months begin; a forecast's series, `bot.pushed_series.monthly_series`)."""
        table = self.table(key)
        if table is None or column not in table.columns:
            return None
        table = self._scoped(key, scope, None)
        value = table.aggregate(first=table[column].min()).to_pyarrow().column("first")[0].as_py()
        if value is None or isinstance(value, datetime):
            return value
        return datetime(value.year, value.month, value.day)  # a DATE column

    def rule_counts(self, keys: Sequence[str], scales: Mapping[str, tuple[int, int]]) -> list[RuleCount]:
        """The validation rules as queries over the tables `keys`: blank required values, dates that are not dates,
        duplicate ids, unknown surveys and scores outside their scale (`scales`: upper-case name → (min, max)) —
        each with the rows it rejects and up to three sample keys (the sheet `row` when the table has one); refunds
        are counted as information, never rejected."""
        out: list[RuleCount] = []
        for key in keys:
            t = self.table(key)
            if t is None:
                continue
            for column in REQUIRED.get(key, ()):
                if column in t.columns:
                    value = t[column]
                    blank = value.isnull() | (value.cast("string").strip() == "")
                    out.append(self._rule(t, key, column, "required value is missing", blank))
            for column in DATES.get(key, ()):
                if column in t.columns and t[column].type().is_string():
                    text = t[column].strip()
                    bad = text.notnull() & (text != "") & text.try_cast("date").isnull()
                    out.append(self._rule(t, key, column, "not a date", bad))
            unique = UNIQUE.get(key)
            if unique is not None and unique in t.columns:
                out.append(self._duplicates(t, key, unique))
            if key == "responses" and {"survey", "score"} <= set(t.columns):
                out.extend(self._survey_rules(t, scales))
            if key == "spend" and all(c in t.columns and _is(t[c].type(), "temporal") for c in ("date", "end_date")):
                ends = t.end_date.cast("date") < t.date.cast("date")
                out.append(self._rule(t, key, "end_date", "end_date before date", ends))
            if key == "orders" and "amount" in t.columns and t.amount.type().is_numeric():
                refund = self._rule(
                    t, key, "amount", "refund (negative amount): counted in revenue, not orders", t.amount < 0
                )
                out.append(RuleCount(refund.tab, refund.column, refund.rule, refund.rows, refund.samples, "info"))
        return [r for r in out if r.rows]

    def _rule(self, t: Any, key: str, column: str, rule: str, bad: Any) -> RuleCount:
        """Rows of `t` where `bad` holds: their count and a few sample keys."""
        rows = int(t.filter(bad).count().execute())
        return RuleCount(key, column, rule, rows, self._samples(t.filter(bad), column) if rows else ())

    def _samples(self, t: Any, column: str) -> tuple[str, ...]:
        """Up to three of `t`'s rows as "key: value": the key is `row N` when the table keeps sheet rows, else the
        row's id (order_id, customer_id); the value is the offending cell (just the key when it is the cell)."""
        label = (
            "row" if "row" in t.columns else next((c for c in ("order_id", "customer_id") if c in t.columns), column)
        )
        picked = t.select(key=t[label], value=t[column]).order_by("key").limit(SAMPLES).to_pyarrow().to_pylist()
        out = []
        for r in picked:
            key = f"row {r['key']}" if label == "row" else ("(blank)" if r["key"] is None else str(r["key"]))
            out.append(key if label == column else f"{key}: {'(blank)' if r['value'] is None else r['value']}")
        return tuple(out)

    def _duplicates(self, t: Any, key: str, column: str) -> RuleCount:
        """Rows repeating an id already seen (all but one per id), with a few of the repeated ids."""
        ids = t.filter(t[column].notnull() & (t[column] != ""))
        counts = ids.group_by(column).aggregate(n=ids.count()).filter(lambda g: g.n > 1)
        total = counts.aggregate(extra=(counts.n - 1).sum()).to_pyarrow().column(0).to_pylist()[0]
        sample = counts.order_by(column).limit(SAMPLES)[column].to_pyarrow().to_pylist()
        return RuleCount(
            key, column, f"duplicate {column}; only the first is used", int(total or 0), tuple(map(str, sample))
        )

    def _survey_rules(self, t: Any, scales: Mapping[str, tuple[int, int]]) -> list[RuleCount]:
        """Answers to a survey without a configured scale, and scores outside (or not whole numbers on) the scale."""
        import ibis

        name = t.survey.strip().upper()
        known = name.isin(list(scales))
        low = ibis.cases(*((name == s, lo) for s, (lo, _) in scales.items()), else_=None)
        high = ibis.cases(*((name == s, hi) for s, (_, hi) in scales.items()), else_=None)
        score = t.score.cast("float64")
        outside = known & t.score.notnull() & ((score < low) | (score > high) | (score != score.round()))
        configured = ", ".join(scales)
        return [
            self._rule(
                t,
                "responses",
                "survey",
                f"unknown survey; configured surveys: {configured}",
                t.survey.notnull() & ~known,
            ),
            self._rule(t, "responses", "score", "outside the survey's scale", outside),
        ]

    def dimensions(self) -> list[str]:
        """The Customers columns usable with `by`/`where`: every text column but the canonical ones."""
        customers = self.table("customers")
        if customers is None:
            return []
        return [name for name, kind in customers.schema().items() if name not in NOT_DIMENSIONS and kind.is_string()]

    def dimension_values(self, dimension: str, scope: Scope = ()) -> list[str]:
        """The distinct values of `dimension` among the customers in `scope` ("(blank)" for none), sorted."""
        key = (dimension, scope)
        if key not in self._values:
            segments = self._segments(scope, dimension)
            values = segments.select("segment").distinct().order_by("segment").to_pyarrow()
            self._values[key] = [str(v) for v in values.column("segment").to_pylist()]
        return self._values[key]

    def basket_stats(self, periods: Sequence[Bounds], scope: Scope = (), by: str | None = None) -> Figures[BasketStats]:
        """The orders of each period [start, end) in `scope` as aggregates, in one query: key (period index, None)
        for the whole scope and (period index, value) for each segment of `by`."""
        key = ("orders", tuple(periods), scope, by)
        figures: Figures[BasketStats] = self._remembered(key, lambda: self._basket_stats(periods, scope, by))
        return figures

    def _basket_stats(self, periods: Sequence[Bounds], scope: Scope, by: str | None) -> Figures[BasketStats]:
        def chunk(some: Sequence[Bounds]) -> Figures[BasketStats]:
            return baskets_across(self.basket_query(some, scope, by), len(some), by is not None)

        return in_chunks(periods, BASKET_PERIODS, chunk)

    def basket_query(self, periods: Sequence[Bounds], scope: Scope = (), by: str | None = None) -> Any:
        """The Ibis expression behind `basket_stats` (compiled to each engine's SQL; BigQuery's in the tests): the
        orders of any of the periods grouped once per customer, a column per period and figure — a comparison's or
        trailing years' periods overlap, and a union of them grouped their common orders twice, and twice again
        for `by` — then summed per segment (NULL: customers in no segment, and orders without a customer)."""
        import ibis

        t = self.table("orders")
        if t is None:
            raise WorkbookError("no orders table")
        t = t.filter(ibis.or_(*(_within(t.order_date.cast("timestamp"), p) for p in periods)))  # in any period
        stamp, sale = t.order_date.cast("timestamp"), t.amount >= 0
        columns: dict[str, Any] = {}
        for i, period in enumerate(periods):
            inside = _within(stamp, period)
            columns[f"gross_{i}"] = t.amount.sum(where=inside & sale)
            columns[f"refunded_{i}"] = t.amount.sum(where=inside & ~sale)
            columns[f"refund_rows_{i}"] = t.count(where=inside & ~sale)
            columns[f"orders_{i}"] = t.count(where=inside & sale)
        # The segment joins the per-customer figures, not the orders: the engine's hash table holds a customer once.
        per = self.with_segment(t.aggregate(by="customer_id", **columns), scope, by)
        known = per.customer_id.notnull() & (per.customer_id != ibis.literal(""))
        sums: dict[str, Any] = {}
        for i in range(len(periods)):
            orders = per[f"orders_{i}"]
            sums.update({f"{name}_{i}": per[f"{name}_{i}"].sum() for name in ("gross", "refunded", "refund_rows")})
            sums[f"orders_{i}"] = orders.sum()
            sums[f"purchasers_{i}"] = per.count(where=known & (orders > 0))
            sums[f"repeaters_{i}"] = per.count(where=known & (orders >= 2))
            sums[f"anonymous_{i}"] = orders.sum(where=~known)
        return per.aggregate(by=["segment"], **sums)

    def with_segment(self, table: Any, scope: Scope, by: str | None) -> Any:
        """`table` (with customer_id) and each row's `segment`: only the customers of `scope` when scoped; with `by`
        alone every row, NULL for a customer in no segment (the whole still counts it); "" without either."""
        import ibis

        if not scope and not by:
            return table.mutate(segment=ibis.literal("", "string"))
        segments = self._segments(scope, by)
        table = table.view()  # its own relation, not another link of its join chain (Ibis would mix them up)
        joined = table.inner_join(segments, "customer_id") if scope else table.left_join(segments, "customer_id")
        return joined.select(*table.columns, segment=segments.segment.cast("string"))

    def basket_aggregate(self, o: Any) -> Any:
        """Orders labelled `pi`, `split` and `segment` (with customer_id and amount) → the aggregates per label."""
        from ibis import _

        o = o.mutate(sale=o.amount >= 0)
        keys = ["pi", "split", "segment"]
        # Per customer first, then per period and segment: one aggregate over another, no join. An order is a sale
        # row: the queries run only on tables whose rules reject nothing, so a non-blank order_id is never repeated
        # (a COUNT DISTINCT per customer would give the same number at several times the cost), and a row with a
        # blank one is an order of its own, as in memory.
        per = o.aggregate(
            by=[*keys, "customer_id"],
            gross=_.amount.sum(where=_.sale),
            refunded=_.amount.sum(where=~_.sale),
            refund_rows=_.count(where=~_.sale),
            orders=_.count(where=_.sale),
        )
        known = per.customer_id.notnull() & (per.customer_id != "")
        joined = per.aggregate(
            by=keys,
            gross=per.gross.sum(),
            refunded=per.refunded.sum(),
            refund_rows=per.refund_rows.sum(),
            orders=per.orders.sum(),
            purchasers=per.count(where=known & (per.orders > 0)),
            repeaters=per.count(where=known & (per.orders >= 2)),
            anonymous=per.orders.sum(where=~known),
        )
        return joined

    def score_stats(
        self,
        periods: Sequence[Bounds],
        survey: str,
        low: int,
        high: int,
        scope: Scope = (),
        by: str | None = None,
    ) -> Figures[ScoreStats]:
        """The answers to `survey` (case-insensitive) in each period in `scope`, in one query: a histogram of the
        whole scores within [low, high] and the count of the others, keyed like `basket_stats`."""
        key = ("responses", tuple(periods), survey.lower(), low, high, scope, by)
        figures: Figures[ScoreStats] = self._remembered(
            key, lambda: self._score_stats(periods, survey, low, high, scope, by)
        )
        return figures

    def _score_stats(
        self, periods: Sequence[Bounds], survey: str, low: int, high: int, scope: Scope, by: str | None
    ) -> Figures[ScoreStats]:
        out: Figures[ScoreStats] = {}
        for row in self.score_query(periods, survey, low, high, scope, by).to_pyarrow().to_pylist():
            key = key_of(row)
            current = out.get(key, ScoreStats())
            if row["valid"]:
                histogram = {**current.histogram, int(row["bucket"]): int(row["n"])}
                out[key] = ScoreStats(histogram, current.invalid)
            else:
                out[key] = ScoreStats(current.histogram, current.invalid + int(row["n"]))
        return out

    def score_query(
        self,
        periods: Sequence[Bounds],
        survey: str,
        low: int,
        high: int,
        scope: Scope = (),
        by: str | None = None,
    ) -> Any:
        """The Ibis expression behind `score_stats`."""
        from ibis import _

        r = self._branches("responses", "date", periods, scope, by)
        r = r.filter(r.survey.strip().lower() == survey.lower())
        r = r.mutate(
            valid=r.score.notnull() & (r.score >= low) & (r.score <= high),
            bucket=r.score.fill_null(low - 1),
        )
        counts = r.aggregate(by=["pi", "split", "segment", "valid", "bucket"], n=_.count())
        return counts

    def _branches(self, key: str, day: str, periods: Sequence[Bounds], scope: Scope, by: str | None) -> Any:
        """Table `key`'s rows of each period, labelled `pi` (the period's index), `split` (whether a segment of `by`)
        and `segment`, all in one union: the whole scope per period, and per segment when `by` is given."""
        import ibis

        parts = []
        for split in (False, True) if by else (False,):
            t = self._scoped(key, scope, by if split else None)
            segment = t.segment if "segment" in t.columns else ibis.literal("")
            stamp = t[day].cast("timestamp")
            for i, (start, end) in enumerate(periods):
                chosen = t.filter((stamp >= ibis.literal(start)) & (stamp < ibis.literal(end)))
                columns = {name: chosen[name] for name in t.columns if name in USED[key]}
                parts.append(
                    chosen.select(
                        **columns,
                        segment=segment.cast("string"),
                        pi=ibis.literal(i, "int64"),
                        split=ibis.literal(split),
                    )
                )
        return ibis.union(*parts, distinct=False)

    def _segments(self, scope: Scope, by: str | None) -> Any:
        """customer_id → segment (the value of `by`, "(blank)" for none; "" without `by`) of the customers matching
        every (dimension, value) of `scope`."""
        import ibis

        c = self.table("customers")
        if c is None:
            raise WorkbookError("no customers table to split or filter by")
        for dimension, value in scope:
            c = c.filter(c[dimension].fill_null(BLANK) == value)
        segment = c[by].fill_null(BLANK) if by else ibis.literal("")
        return c.select(c.customer_id, segment=segment)

    def _scoped(self, key: str, scope: Scope, by: str | None) -> Any:
        """Table `key`, narrowed to the customers of `scope` and carrying their `segment` when scoped or split."""
        table = self.table(key)
        if table is None:
            raise WorkbookError(f"no {key} table")
        if not scope and not by:
            return table
        segments = self._segments(scope, by)
        return table.inner_join(segments, "customer_id")


@dataclass
class _Open:
    """A warehouse kept open between questions, for the source as it was when opened (its change marker)."""

    marker: str | None
    warehouse: Warehouse
    connection: Any
    lock: threading.Lock = field(default_factory=threading.Lock)


_OPEN: dict[tuple[str, tuple[tuple[str, str], ...]], _Open] = {}
_OPEN_LOCK = threading.Lock()


@contextmanager
def open_warehouse(workbook: SqlWorkbook, names: Mapping[str, str], ttl: float = 0.0) -> Iterator[Warehouse]:
    """An Ibis backend on the workbook's database (a DuckDB file read-only, or PostgreSQL); `names` maps each source
    tab (customers, orders…) to its configured table name. The connection is kept for the next question (one user at
    a time) and opened afresh when a DuckDB file was replaced or a query failed, since connecting and reading the
    catalogue cost more than a small aggregate. Aggregates are reused for `ttl` seconds."""
    key = (workbook.describe(), tuple(sorted(names.items())))
    marker = workbook.change_marker()
    with _OPEN_LOCK:
        entry = _OPEN.get(key)
        if entry is None or entry.marker != marker:
            if entry is not None:
                _close(entry)
            entry = _OPEN[key] = _open(workbook, names, marker)
    with entry.lock:
        entry.warehouse.ttl = ttl
        try:
            yield entry.warehouse
        except Exception:
            with _OPEN_LOCK:
                if _OPEN.get(key) is entry:
                    del _OPEN[key]
            _close(entry)
            raise


def _open(workbook: SqlWorkbook, names: Mapping[str, str], marker: str | None) -> _Open:
    """Connect, read the catalogue and wrap the connection in Ibis's backend for its database."""
    con = workbook._connect()
    try:
        found = workbook._tables(con)
        keyed = {key: workbook._key(name) for key, name in names.items()}
        backend = workbook.ibis_backend(con)
    except Exception:
        con.close()
        raise
    return _Open(marker, Warehouse(backend, keyed, found), con)


def _close(entry: _Open) -> None:
    with contextlib.suppress(Exception):  # a connection already broken has nothing left to close
        entry.connection.close()


def in_chunks(periods: Sequence[P], size: int, figures: Callable[[Sequence[P]], Figures[T]]) -> Figures[T]:
    """`figures` of `periods` asked `size` periods per query (the engine's memory stays bounded), keyed by each
    period's index among all of them."""
    out: Figures[T] = {}
    for offset in range(0, len(periods), size):
        chunk = figures(periods[offset : offset + size])
        out.update({(offset + i, segment): value for (i, segment), value in chunk.items()})
    return out


def baskets_of(query: Any) -> Figures[BasketStats]:
    """`BasketStats` per (period index, segment) from the rows of a `basket_aggregate` query."""
    out: Figures[BasketStats] = {}
    for row in query.to_pyarrow().to_pylist():
        out[key_of(row)] = BasketStats(
            gross=float(row["gross"] or 0.0),
            refunded=-float(row["refunded"] or 0.0),
            refund_rows=int(row["refund_rows"]),
            orders=int(row["orders"]),
            purchasers=int(row["purchasers"]),
            repeaters=int(row["repeaters"]),
            anonymous_orders=int(row["anonymous"] or 0),
        )
    return out


def baskets_across(query: Any, periods: int, split: bool) -> Figures[BasketStats]:
    """`BasketStats` per (period index, segment) from the rows of a `basket_query` — one row per segment with a
    column per period and figure: the whole scope is the sum over its rows. A segment's entry in a period without its
    orders holds zeros, as an absent one reads (`BasketStats()`)."""
    rows = query.to_pyarrow().to_pylist()
    out: Figures[BasketStats] = {}
    for i in range(periods):
        out[(i, None)] = _basket_sum(rows, i)
        for row in rows if split else ():
            if row["segment"] is not None:
                out[(i, str(row["segment"]))] = _basket_sum([row], i)
    return out


def _basket_sum(rows: Sequence[Mapping[str, Any]], i: int) -> BasketStats:
    """Period i's figures of `basket_query` rows, summed."""

    def total(name: str) -> Any:
        return sum(row[f"{name}_{i}"] or 0 for row in rows)

    return BasketStats(
        gross=float(total("gross")),
        refunded=-float(total("refunded")),
        refund_rows=int(total("refund_rows")),
        orders=int(total("orders")),
        purchasers=int(total("purchasers")),
        repeaters=int(total("repeaters")),
        anonymous_orders=int(total("anonymous")),
    )


def _within(stamp: Any, period: Bounds) -> Any:
    """Whether a timestamp falls in [start, end)."""
    import ibis

    return (stamp >= ibis.literal(period[0])) & (stamp < ibis.literal(period[1]))


def key_of(row: Mapping[str, Any]) -> tuple[int, str | None]:
    """A result row's key: (period index, its segment, or None for the whole scope)."""
    return int(row["pi"]), (str(row["segment"]) if row["split"] else None)


def _is(kind: Any, family: str) -> bool:
    """Whether an Ibis data type belongs to a family: string, temporal (date or timestamp), numeric or integer."""
    if family == "string":
        return bool(kind.is_string())
    if family == "temporal":
        return bool(kind.is_date() or kind.is_timestamp())
    if family == "integer":
        return bool(kind.is_integer())
    return bool(kind.is_numeric())


def _unquote(qualified: str) -> tuple[str, str]:
    """`"schema"."table"` → (schema, table)."""
    schema, _, table = qualified.partition('"."')
    return schema.strip('"').replace('""', '"'), table.strip('"').replace('""', '"')
