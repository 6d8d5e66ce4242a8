"""The per-snapshot arrays (customer state, order book, survey answers) as plain named numpy arrays, so a disk
snapshot can keep them and a later process restores them instead of rebuilding them (issue 16: rebuilding
costs ~1.5 s CPU at 1M orders, most of a cache hit).

`export_arrays` names every field `part.field`; `restore_arrays` puts them back into the per-Tables cache only
when they were built by this very code (`builders_version`, a digest of the builders' bytecode) and fit the
tables (row counts); otherwise nothing is restored and the arrays are built as usual, so a restored array is
always the one a rebuild would give.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import marshal
import sys
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from metrics import customers, purchasing, surveys
from metrics.customers import CustomerState, customer_state, seed_per_tables
from metrics.purchasing import OrderBook, order_book
from metrics.surveys import Answers, all_answers
from metrics.tables import Tables

VERSION_KEY = "builders_version"
# part name (its per_tables name) → (its class, its builder)
PARTS: dict[str, tuple[type, Callable[[Tables], Any]]] = {
    "customer_state": (CustomerState, customer_state),
    "order_book": (OrderBook, order_book),
    "survey_answers": (Answers, all_answers),
}
_ROW_ALIGNED = {("customer_state", "row_code"): "orders", ("customer_state", "row_day"): "orders",
                ("survey_answers", "survey"): "responses", ("survey_answers", "day"): "responses",
                ("survey_answers", "score"): "responses"}  # fmt: skip


def builders_version() -> str:
    """A digest of the bytecode of every function in the modules that build the arrays (and of this one):
    any change to how they are built makes stored arrays unusable."""
    digest = hashlib.sha256()
    for module in (customers, purchasing, surveys, sys.modules[__name__]):
        for name, value in sorted(vars(module).items()):
            if inspect.isfunction(value) and value.__module__ == module.__name__:
                digest.update(name.encode())
                digest.update(marshal.dumps(value.__code__))
    return digest.hexdigest()


def export_arrays(t: Tables) -> dict[str, np.ndarray]:
    """Every per-snapshot array of `t` (built now if not yet), by `part.field`, plus the builders' version."""
    out: dict[str, np.ndarray] = {VERSION_KEY: np.array([builders_version()], dtype=object)}
    for part, (cls, build) in PARTS.items():
        value = build(t)
        for f in dataclasses.fields(cls):
            key, v = f"{part}.{f.name}", getattr(value, f.name)
            if isinstance(v, pd.Index):
                out[key] = v.to_numpy(dtype=object)
                out[f"{key}:index"] = np.array([str(v.dtype), v.name or ""], dtype=object)
            elif isinstance(v, bool | np.bool_):
                out[f"{key}:bool"] = np.array([bool(v)])
            elif isinstance(v, int | np.integer):
                out[f"{key}:int"] = np.array([int(v)], dtype=np.int64)
            else:
                out[key] = np.asarray(v)
    return out


def restore_arrays(t: Tables, arrays: Mapping[str, np.ndarray]) -> bool:
    """Put stored arrays back as `t`'s per-snapshot arrays; False (nothing restored) unless they were built by
    this code and fit `t`."""
    version = arrays.get(VERSION_KEY)
    if version is None or len(version) != 1 or version[0] != builders_version():
        return False
    try:
        parts = {part: _rebuild(part, cls, arrays) for part, (cls, _) in PARTS.items()}
    except (KeyError, TypeError, ValueError):
        return False
    if not all(_fits(t, part, value) for part, value in parts.items()):
        return False
    for part, value in parts.items():
        seed_per_tables(t, part, value)
    return True


def _rebuild(part: str, cls: type, arrays: Mapping[str, np.ndarray]) -> Any:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        key = f"{part}.{f.name}"
        if f"{key}:index" in arrays:
            dtype, name = arrays[f"{key}:index"]
            values[f.name] = pd.Index(arrays[key], dtype=str(dtype), name=str(name) or None)
        elif f"{key}:bool" in arrays:
            values[f.name] = bool(arrays[f"{key}:bool"][0])
        elif f"{key}:int" in arrays:
            values[f.name] = int(arrays[f"{key}:int"][0])
        else:
            values[f.name] = arrays[key]
    return cls(**values)


def _fits(t: Tables, part: str, value: Any) -> bool:
    """Row-aligned arrays as long as their frame; per-customer arrays as long as the ids."""
    for (p, name), tab in _ROW_ALIGNED.items():
        if p == part and len(getattr(value, name)) != len(t.frame(tab)):
            return False
    if isinstance(value, CustomerState):
        n = len(value.ids)
        return all(len(a) == n for a in (value.signup, value.churned_on, value.first_order, value.reactivated_on))
    if isinstance(value, OrderBook):
        n = len(value.customer)
        return len(value.first_order) == len(value.customer_ids) and all(
            len(a) == n for a in (value.day, value.amount, value.key)
        )
    return True
