"""The normalized source tables every metric reads: one typed DataFrame per tab."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import pandas as pd

from metrics.schema import COLUMNS

# Canonical columns and dtypes of each normalized frame (metrics/schema.py).
SCHEMA: dict[str, dict[str, str]] = {tab: {c.name: c.dtype for c in cols} for tab, cols in COLUMNS.items()}


def empty_frame(tab: str) -> pd.DataFrame:
    """An empty frame with the canonical columns and dtypes of `tab`."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in SCHEMA[tab].items()})


@dataclass(frozen=True)
class Tables:
    """All source tabs, normalized. `dimensions` are the extra Customers columns usable with `by`/`where`.

    `missing` names tabs the metrics cannot use — absent from the workbook, or lacking a required column
    (their frame is empty); `fixes` says per such tab what to add; `excluded` counts rows rejected by
    validation per tab, so each metric can report how many rows it could not use.
    `spend_filters` are the (dimension, value) segments these tables were narrowed to: the spend frame stays
    whole and metrics.spend applies them (a segment's spend needs a same-named Spend column).
    """

    customers: pd.DataFrame
    orders: pd.DataFrame
    responses: pd.DataFrame
    complaints: pd.DataFrame
    spend: pd.DataFrame
    subscriptions: pd.DataFrame
    dimensions: tuple[str, ...] = ()
    missing: frozenset[str] = frozenset()
    excluded: Mapping[str, int] = field(default_factory=dict)
    spend_filters: tuple[tuple[str, str], ...] = ()
    fixes: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_frames(
        cls,
        frames: Mapping[str, pd.DataFrame],
        dimensions: Iterable[str] = (),
        missing: Iterable[str] = (),
        excluded: Mapping[str, int] | None = None,
        fixes: Mapping[str, str] | None = None,
    ) -> Tables:
        """Build from a mapping of tab → frame; absent tabs become empty frames."""

        def part(tab: str) -> pd.DataFrame:
            frame = frames.get(tab)
            return frame if frame is not None else empty_frame(tab)

        return cls(
            customers=part("customers"),
            orders=part("orders"),
            responses=part("responses"),
            complaints=part("complaints"),
            spend=part("spend"),
            subscriptions=part("subscriptions"),
            dimensions=tuple(dimensions),
            missing=frozenset(missing),
            excluded=dict(excluded or {}),
            fixes=dict(fixes or {}),
        )

    def frame(self, tab: str) -> pd.DataFrame:
        """The frame of source tab `tab` (a KeyError for any other name)."""
        if tab not in SCHEMA:
            raise KeyError(tab)
        frame: pd.DataFrame = getattr(self, tab)
        return frame

    def customer_ids(self) -> pd.Index:
        """Every known customer: the Customers tab plus any customer that appears only in Orders."""
        ids: pd.Series[str] = pd.concat([self.customers["customer_id"], self.orders["customer_id"]], ignore_index=True)
        return pd.Index(ids.dropna().drop_duplicates(), name="customer_id")

    def dimension_of(self, dimension: str) -> pd.Series:
        """customer_id → value of `dimension` ("(blank)" where empty)."""
        if dimension not in self.dimensions:
            raise KeyError(dimension)
        s = self.customers.set_index("customer_id")[dimension]
        s = s[~s.index.duplicated()]
        return s.astype("string").fillna("(blank)")

    def for_customers(self, ids: Iterable[str]) -> Tables:
        """The same tables restricted to `ids`; customer-less rows (e.g. anonymous answers, spend) are dropped
        from customer-keyed frames, and spend is kept whole (it belongs to no customer; see `spend_filters`)."""
        keep = pd.Index(ids)

        def kept(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[frame["customer_id"].isin(keep)]

        return replace(
            self,
            customers=kept(self.customers),
            orders=kept(self.orders),
            responses=kept(self.responses),
            complaints=kept(self.complaints),
            subscriptions=kept(self.subscriptions),
        )
