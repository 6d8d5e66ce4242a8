"""Every note (and analysis refusal) that metrics/ writes has a Chinese form, checked against texts written by hand.

metrics/ imports nothing of ours, so it writes its notes in English and `bot.render.format.note` translates them
whole or by pattern. NOTES holds one example of each note metrics/ can write (values filled in by hand) with its
expected Chinese; `test_every_note_site_in_metrics_is_in_the_inventory` reads metrics/ and fails on a note written
at a place NOTES has no example for, so a new note cannot stay English unnoticed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.i18n import use
from bot.render import format as fmt

METRICS_DIR = Path(__file__).resolve().parents[2] / "metrics"

NOTES = {
    # metrics/complaints.py
    "3 complaints resolved before they were filed — left out of the median": "3 起投诉的解决日期早于提交日期——未计入中位数",
    # metrics/customers.py: undated_note_of
    "1 customer with neither a signup date nor an order not counted": "1 位既无注册日期也无订单的客户未计入",
    "4 customers with neither a signup date nor an order not counted": "4 位既无注册日期也无订单的客户未计入",
    # metrics/purchasing.py: _anonymous_note
    "5 orders have no customer_id and count toward no purchaser": "5 笔订单没有 customer_id，不计入任何购买客户",
    # metrics/renewal.py
    "add a Subscriptions tab with customer_id, start_date, end_date to compute the renewal rate": (
        "添加含 customer_id、start_date、end_date 列的 Subscriptions 表以计算续约率"
    ),
    "no contracts end in the period": "本期没有到期的合同",
    "1 contract ending in the period without a customer_id left out": "1 份本期到期但没有 customer_id 的合同未计入",
    "2 contracts ending in the period without a customer_id left out": "2 份本期到期但没有 customer_id 的合同未计入",
    # metrics/retention.py
    "no active customers on the first day of the period": "期初没有活跃客户",
    "no customer has an order before the end of the period": "期末之前没有客户下过订单",
    "no revenue in the comparison period (2026-09)": "对比期（2026年9月）没有收入",
    "no customer revenue in the comparison period (2026-Q2)": "对比期（2026年第2季度）没有客户收入",
    # metrics/spend.py
    "the Spend tab has no rows with region = North, so its spend counts as 0": (
        "Spend 表中没有 region = North 的行，因此其支出计为 0"
    ),
    "spend was spread by days (1 monthly budget or date range only partly in 2026-10)": (
        "支出按天分摊（1 笔月度预算或日期区间只有部分落在2026年10月内）"
    ),
    "spend was spread by days (2 monthly budgets or date ranges only partly in 2026-Q3)": (
        "支出按天分摊（2 笔月度预算或日期区间只有部分落在2026年第3季度内）"
    ),
    "1,234.50 of spend in 2026-10 has no region in the Spend tab: unallocated, in no segment's CAC": (
        "2026年10月有 1,234.50 的支出在 Spend 表中没有 region：未分配，不计入任何细分的获客成本"
    ),
    "the Spend tab has no 'region' column, so Customer acquisition cost by region is n/a — add a 'region' column to "
    "Spend to split spend by region": (
        "Spend 表没有「region」列，因此按 region 的获客成本为无数据——请在 Spend 表中添加「region」列以按 region 拆分支出"
    ),
    "the Spend tab has no 'region' column, so spend (and CAC) for region = North is n/a — add a 'region' column to "
    "Spend to split spend by region": (
        "Spend 表没有「region」列，因此 region = North 的支出（及获客成本）为无数据——"
        "请在 Spend 表中添加「region」列以按 region 拆分支出"
    ),
    "customers with no region have no spend of their own, so their CAC is n/a": (
        "没有 region 的客户没有自己的支出，因此其获客成本为无数据"
    ),
    # metrics/stats.py
    "small sample: n = 12 < 30": "样本较小：n = 12 < 30",
    "31 of 30 is over 100%, so there is no interval": "31 / 30 超过 100%，因此没有置信区间",
    # metrics/surveys.py
    "3 answers left out: score not an integer on the survey's scale": "3 条答卷未计入：评分不是该调查量表上的整数",
    # metrics/value.py
    "no new customers in the period": "本期没有新客户",
    "no active customers on 2025-10-01, so no annual churn rate: set clv.lifetime_years": (
        "2025年10月1日没有活跃客户，因此无法计算年流失率：请设置 clv.lifetime_years"
    ),
    "no churn over 2025-10-01 – 2026-09-30: lifetime capped at 10 years": (
        "2025年10月1日 – 2026年9月30日内没有流失：生命周期按上限 10 年计"
    ),
    "no churn events for a survival curve: lifetime from 1 / annual churn instead": (
        "没有可用于生存曲线的流失事件：改用 1 / 年流失率估算生命周期"
    ),
    "no orders in 2026-10": "2026年10月没有订单",
    "no orders with a customer_id in 2026-10": "2026年10月没有带 customer_id 的订单",
    "no acquisition spend in the period, so CAC is 0 and LTV:CAC is undefined": (
        "本期没有获客支出，因此获客成本为 0，LTV:CAC 无法计算"
    ),
    # metrics/clv/risk.py: churned_note
    "1 customer already churned, not listed": "另有 1 位客户已流失，未列出",
    "1,234 customers already churned, not listed": "另有 1,234 位客户已流失，未列出",
    # metrics/engine.py: what_to_add, from the fixes sheets/snapshot.py writes (one, several, alternatives)
    "add an Orders tab with customer_id, order_date, amount": "请添加含 customer_id、order_date、amount 列的 Orders 表",
    "add the columns customer_id, amount to the Orders tab": "请在 Orders 表中添加 customer_id、amount 列",
    "add the column amount to the Orders tab; add a Responses tab with date, survey, score": (
        "请在 Orders 表中添加 amount 列；请添加含 date、survey、score 列的 Responses 表"
    ),
    "add an Orders tab with customer_id, amount or add a Subscriptions tab with customer_id, start_date": (
        "请添加含 customer_id、amount 列的 Orders 表，或请添加含 customer_id、start_date 列的 Subscriptions 表"
    ),
    # metrics/clv/model.py and the optimiser's reasons (metrics/clv/mle.py) nested in them
    "too few repeat customers to fit the model (3, need 20); showing historical CLV": (
        "复购客户太少，无法拟合模型（3 位，至少需要 20 位）；显示历史客户生命周期价值"
    ),
    "purchase model did not converge (log-likelihood is not finite at the optimum; Hessian is not positive definite: "
    "the optimum is not a proper maximum); showing historical CLV": (
        "购买模型未收敛（最优点处的对数似然不是有限值；黑塞矩阵非正定：该最优点不是真正的极大值）；显示历史客户生命周期价值"
    ),
    "purchase model did not converge (parameter r, alpha ran to its bound: the model is not identified by these data; "
    "no stationary point reached (Newton finish from a sampled start; largest gradient 0.013)); showing historical "
    "CLV": (
        "购买模型未收敛（参数 r, alpha 触及边界：这些数据无法识别该模型；未到达驻点（从抽样起点做牛顿法收尾；"
        "最大梯度 0.013））；显示历史客户生命周期价值"
    ),
    "spend model did not converge (too few repeat customers with positive spend); showing historical CLV": (
        "消费金额模型未收敛（消费金额为正的复购客户太少）；显示历史客户生命周期价值"
    ),
    "model gave a non-finite CLV; showing historical CLV": "模型给出的客户生命周期价值不是有限值；显示历史客户生命周期价值",
    # metrics/periods.py: the period errors (PeriodError) every answer and /addon/kpis show
    "empty period. Accepted: YYYY-MM": "时间段为空。可用：YYYY-MM",
    "period '2026-Q5': quarter must be Q1–Q4, not Q5": "时间段「2026-Q5」：季度必须是 Q1–Q4，不能是 Q5",
    "period '2026-W54': 2026 has ISO weeks W01–W53, not W54": "时间段「2026-W54」：2026 年的 ISO 周为 W01–W53，不能是 W54",
    "period '2026-13': month must be 01–12, not 13": "时间段「2026-13」：月份必须是 01–12，不能是 13",
    "period 'last-0-days': N must be at least 1": "时间段「last-0-days」：N 至少为 1",
    "period '2026-02-30': 2026-2-30 is not a valid date": "时间段「2026-02-30」：2026-2-30 不是有效日期",
    "period 'since 0001-01-01' is out of range: periods start on or after 1800-01-01": (
        "时间段「since 0001-01-01」超出范围：时间段须从 1800年1月1日 或之后开始"
    ),
    "period '9999-12' is out of range (year 10000 is out of range)": (
        "时间段「9999-12」超出范围（year 10000 is out of range）"
    ),
    # metrics/forecast.py and metrics/survival.py: the errors `forecast` and `survival` show
    "a forecast needs at least 12 past periods with values; this series has 8": "预测至少需要 12 个有数值的历史周期；该序列只有 8 个",
    "forecast horizon must be 1, 2 or 3 periods": "预测跨度必须是 1、2 或 3 个周期",
    "no customers signed up by the as-of date — survival needs Customers or Orders rows": (
        "截至日期前没有注册的客户——生存分析需要 Customers 或 Orders 表中的数据"
    ),
}


@pytest.mark.parametrize("english", list(NOTES))
def test_every_metrics_note_has_a_chinese_form(english: str) -> None:
    assert fmt.note(english) == english  # English: the note as metrics wrote it
    with use("zh-CN"):
        assert fmt.note(english) == NOTES[english]


def _named_note(node: ast.AST) -> bool:
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
    return "note" in name.lower()


def _note_expressions(tree: ast.AST, parents: dict[ast.AST, ast.AST]) -> list[ast.AST]:
    """Expressions that become a note: appended to or assigned to `notes`, a `notes=` argument, a list spread into
    other notes, or what a function named *note* returns."""
    out: list[ast.AST] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("append", "insert"):
            out += n.args if _named_note(n.func.value) else []
        elif isinstance(n, ast.keyword) and n.arg and "note" in n.arg:
            out.append(n.value)
        elif isinstance(n, ast.Assign) and any(_named_note(t) for t in n.targets):
            out.append(n.value)
        elif isinstance(n, ast.List) and any(isinstance(e, ast.Starred) and _named_note(e.value) for e in n.elts):
            out.append(n)
        elif isinstance(n, ast.Return) and n.value is not None:
            f: ast.AST = n
            while f in parents and not isinstance(f, ast.FunctionDef):
                f = parents[f]
            if isinstance(f, ast.FunctionDef) and "note" in f.name:
                out.append(n.value)
    return out


def _inside(node: ast.AST, parents: dict[ast.AST, ast.AST], kinds: tuple[type, ...]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, kinds):
            return True
    return False


def note_sites() -> list[tuple[str, re.Pattern[str]]]:
    """Each string metrics/ writes as a note, as a pattern of its text (an f-string's values match anything)."""
    sites = []
    for path in sorted(METRICS_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {c: p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
        for expr in _note_expressions(tree, parents):
            for s in ast.walk(expr):
                if isinstance(s, ast.Constant) and isinstance(s.value, str):
                    if _inside(s, parents, (ast.JoinedStr,)) or isinstance(parents.get(s), ast.Attribute):
                        continue  # a part of an f-string, or a separator's `" or ".join`
                    parts = [s.value]
                elif isinstance(s, ast.JoinedStr) and not _inside(s, parents, (ast.JoinedStr,)):
                    parts = [v.value if isinstance(v, ast.Constant) else None for v in s.values]
                else:
                    continue
                text = ".*".join(re.escape(p) if p is not None else "" for p in parts)
                sites.append((f"{path.relative_to(METRICS_DIR.parent)}:{s.lineno}", re.compile(text, re.S)))
    return sites


def test_every_note_site_in_metrics_is_in_the_inventory() -> None:
    sites = note_sites()
    assert len(sites) >= 25  # the reader finds the notes (a broken reader would pass on nothing)
    missing = [where for where, pattern in sites if not any(pattern.fullmatch(e) for e in NOTES)]
    assert missing == [], f"notes written in metrics/ without an example (and a Chinese form) in NOTES: {missing}"
