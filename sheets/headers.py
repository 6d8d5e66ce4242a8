"""Matching of a sheet's header row to its tab's canonical columns (metrics/schema.py): aliases, explicit mapping."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from metrics.schema import COLUMNS

# Aliases per canonical column, in priority order (matched after normalization, see `normalize`).
ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": (
        "customer id",
        "customer",
        "cust id",
        "client id",
        "client",
        "customer number",
        "customer no",
        "account id",
        "客户ID",
        "客户编号",
        "客户",
        "客户号",
        "会员ID",
        "会员编号",
        "用户ID",
    ),
    "order_id": (
        "order id",
        "order number",
        "order no",
        "order",
        "invoice",
        "invoice id",
        "invoice number",
        "transaction id",
        "订单号",
        "订单编号",
        "订单ID",
        "单号",
    ),
    "order_date": (
        "order date",
        "ordered on",
        "purchase date",
        "date",
        "订单日期",
        "下单日期",
        "购买日期",
        "日期",
    ),
    "amount": (
        "amount",
        "total",
        "revenue",
        "value",
        "sales",
        "order total",
        "order amount",
        "price",
        "cost",
        "spend",
        "金额",
        "订单金额",
        "销售额",
        "总额",
        "费用",
        "花费",
        "支出",
    ),
    "gross_margin": ("gross margin", "margin", "毛利", "毛利率"),
    "signup_date": (
        "signup date",
        "sign up date",
        "signed up",
        "joined",
        "join date",
        "created",
        "created at",
        "registered",
        "registration date",
        "注册日期",
        "注册时间",
        "加入日期",
    ),
    "churned_on": (
        "churned on",
        "churn date",
        "churned",
        "cancelled on",
        "canceled on",
        "cancellation date",
        "cancel date",
        "流失日期",
        "取消日期",
        "注销日期",
    ),
    "date": (
        "date",
        "day",
        "response date",
        "submitted",
        "submitted at",
        "created",
        "start date",
        "日期",
        "时间",
        "提交日期",
        "开始日期",
    ),
    "survey": ("survey", "survey name", "survey type", "questionnaire", "type", "问卷", "调查", "问卷类型"),
    "score": (
        "score",
        "rating",
        "nps score",
        "csat score",
        "answer",
        "value",
        "评分",
        "分数",
        "得分",
        "打分",
    ),
    "comment": ("comment", "comments", "feedback", "note", "notes", "remark", "评论", "备注", "意见", "反馈"),
    "category": ("category", "type", "reason", "topic", "类别", "分类", "类型"),
    "status": ("status", "state", "状态"),
    "resolved_on": (
        "resolved on",
        "resolved",
        "resolved date",
        "resolution date",
        "closed on",
        "closed date",
        "解决日期",
        "关闭日期",
    ),
    "channel": ("channel", "source", "marketing channel", "渠道", "来源"),
    "region": ("region", "area", "地区", "区域"),
    "plan": ("plan", "tier", "package", "套餐", "方案"),
    "start_date": ("start date", "start", "starts", "contract start", "begin", "开始日期", "起始日期"),
    "end_date": ("end date", "end", "ends", "contract end", "expiry", "expires", "结束日期", "到期日期", "截止日期"),
}

# Dimension names that Chinese or variant headers on the Customers tab normalize to.
DIMENSION_ALIASES = ("region", "plan", "channel")
# Tabs whose extra columns are kept as dimensions: Customers (for `by`/`where`) and Spend (a same-named
# column splits spend by segment, METRICS.md "Spend by segment").
DIMENSION_TABS = ("customers", "spend")


def normalize(header: object) -> str:
    """Header key for matching: width-folded, case-folded, without spaces, underscores, hyphens, dots or a (unit)."""
    text = unicodedata.normalize("NFKC", str(header or "")).casefold().strip()
    text = re.sub(r"\(.*?\)|\[.*?\]", "", text)
    return re.sub(r"[\s_\-.:#]+", "", text)


def snake_case(header: object) -> str:
    """A dimension name for a header: `Customer Type` → `customer_type`."""
    text = unicodedata.normalize("NFKC", str(header or "")).strip().lower()
    return re.sub(r"[^\w]+", "_", text).strip("_")


@dataclass
class HeaderMatch:
    """Which sheet column (0-based) holds each canonical column, plus dimensions and what could not be matched."""

    columns: dict[str, int] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    dimensions: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    mapping_problems: list[str] = field(default_factory=list)


def match_headers(tab: str, header_row: Sequence[object], explicit: Mapping[str, str] | None = None) -> HeaderMatch:
    """Match a header row to the tab's canonical columns: explicit mapping, then exact name, then aliases."""
    columns = COLUMNS[tab]
    keys = [normalize(h) for h in header_row]
    taken: set[int] = set()
    result = HeaderMatch()

    def claim(canonical: str, index: int) -> None:
        result.columns[canonical] = index
        result.headers[canonical] = str(header_row[index]).strip()
        taken.add(index)

    known = {c.name for c in columns}
    for canonical, wanted in (explicit or {}).items():
        if canonical not in known:
            result.mapping_problems.append(
                f"[columns.{tab}] {canonical} is not a column of this tab; known: {', '.join(sorted(known))}"
            )
            continue
        index = _find(keys, normalize(wanted), taken, raw=header_row, exact=str(wanted).strip())
        if index is None:
            result.mapping_problems.append(
                f'[columns.{tab}] {canonical} = "{wanted}" but no header "{wanted}" was found'
            )
        else:
            claim(canonical, index)

    for column in columns:
        if column.name not in result.columns:
            index = _find(keys, normalize(column.name), taken)
            if index is not None:
                claim(column.name, index)
    for column in columns:
        if column.name in result.columns:
            continue
        for alias in ALIASES.get(column.name, ()):
            index = _find(keys, normalize(alias), taken)
            if index is not None:
                claim(column.name, index)
                break

    if tab in DIMENSION_TABS:
        _dimensions(header_row, keys, taken, known, result)
    result.missing = [c.name for c in columns if c.required and c.name not in result.columns]
    return result


def _find(keys: list[str], key: str, taken: set[int], raw: Sequence[object] = (), exact: str = "") -> int | None:
    if exact:
        for i, h in enumerate(raw):
            if i not in taken and str(h if h is not None else "").strip() == exact:
                return i
    for i, k in enumerate(keys):
        if i not in taken and k and k == key:
            return i
    return None


def _dimensions(
    header_row: Sequence[object], keys: list[str], taken: set[int], known: set[str], result: HeaderMatch
) -> None:
    alias_of = {normalize(a): dim for dim in DIMENSION_ALIASES for a in ALIASES[dim]}
    for i, header in enumerate(header_row):
        if i in taken or not keys[i]:
            continue
        name = alias_of.get(keys[i]) or snake_case(header) or f"column_{i + 1}"
        base, n = name, 2
        while name in result.dimensions or name in known or name == "row":
            name, n = f"{base}_{n}", n + 1
        result.dimensions[name] = i
