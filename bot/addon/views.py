"""What the add-on shows, in words a person can act on: KPI cards as display strings (the one rendering rule,
`bot.render.format`), the outcome of "Post digest now", and the answer to a refresh that is already running."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bot.i18n import N_, _
from bot.render import format as fmt
from bot.replies import OverviewReply
from metrics.result import MetricResult, json_safe


def card(r: MetricResult, currency: str) -> dict[str, Any]:
    """One KPI card: the `--json` numbers plus `display`, the strings the sidebar shows as they are."""
    counts = fmt.counts(r) or (f"n = {r.n:,}" if r.n is not None else "")
    display = {
        "value": fmt.number(r.value, r.unit, currency),
        "change": fmt.change(r.previous, r.unit, currency),
        "margin": fmt.margin(r),
        "counts": counts,
        "target": fmt.target(r, currency),
        "target_met": r.target.met if r.target is not None else None,
        "notes": list(r.notes),
        "label": _(r.label),
    }
    return {**r.to_json(), "display": display}


def kpi_cards(reply: OverviewReply, currency: str) -> dict[str, Any]:
    """The sidebar's reply: period and "data as of" first (shown at the top), then the cards."""
    return {
        "period": reply.period.to_json(),
        "as_of": fmt.as_of(reply.data_as_of),
        "data_as_of": reply.data_as_of.isoformat(),
        "cards": [card(r, currency) for r in reply.results],
        "notes": reply.notes,
        "strings": sidebar_strings(),
    }


# The sidebar's period list (sheets/addon/Sidebar.html), value → English words.
SIDEBAR_PERIODS = {
    "last-month": N_("Last month"),
    "this-month": N_("This month"),
    "last-quarter": N_("Last quarter"),
    "this-quarter": N_("This quarter"),
    "last-30-days": N_("Last 30 days"),
    "ytd": N_("Year to date"),
}


def sidebar_strings() -> dict[str, Any]:
    """The sidebar's own words in the current language (its button, period list, loading and empty-reply lines)."""
    return {
        "show": _("Show"),
        "retry": _("Retry"),
        "loading": _("Loading…"),
        "no_cards": _("The server sent no KPI cards for this period."),
        "periods": {value: _(words) for value, words in SIDEBAR_PERIODS.items()},
    }


# One word per PostResult outcome for the add-on; anything else (failed, …) is "failed".
_OUTCOMES = {"posted": "posted", "duplicate": "already_posted"}


def digest_outcome(results: list, has_destinations: bool) -> dict[str, Any]:
    """'Post digest now' as a status and one sentence per destination: posted, already posted, not posted (why)."""
    if not has_destinations:
        return {
            "status": "no_channel",
            "message": _(
                "No digest channel is configured, so nothing was posted: add [[digest.channels]] "
                "(or digest.webhook_url_env) to the server's config."
            ),
            "results": [],
        }
    statuses = [_OUTCOMES.get(r.outcome, "failed") for r in results]
    lines = [_sentence(r, s) for r, s in zip(results, statuses, strict=True)]
    if len(set(statuses)) == 1:
        status = statuses[0]
    elif "posted" not in statuses:
        status = "failed"
    else:
        status = "partial"
    return {"status": status, "message": "\n".join(lines), "results": json_safe([asdict(r) for r in results])}


def _sentence(r, status: str) -> str:
    if status == "posted":
        note = _(" ({error})", error=r.error) if r.error else ""
        return _("Digest for {week} posted to {destination}.{note}", week=r.week, destination=r.destination, note=note)
    if status == "already_posted":
        return _(
            "The digest for {week} was already posted to {destination} this week; nothing was sent again.",
            week=r.week,
            destination=r.destination,
        )
    return _(
        "The digest for {week} was not posted to {destination}: {error}.",
        week=r.week,
        destination=r.destination,
        error=r.error or r.outcome,
    )
