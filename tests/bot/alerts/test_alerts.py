"""Alerts with an injected clock and a changing workbook: fire once, hold quietly (also across a restart),
recover once; noise does not fire a significance rule; small samples are labelled. Posts go through the
real slack_sdk client to the Slack Web API fake over HTTP."""

from datetime import date, datetime, timedelta, timezone

import pytest

from bot.alerts.preview import alerts_reply
from bot.alerts.rules import validate_rules
from bot.alerts.run import evaluate_and_notify, slack_poster
from bot.context import Context
from config import ConfigError, parse_settings
from sheets.local import LocalWorkbook
from tests.workbooks import append_rows, write_source_workbook

START = date(2026, 3, 2)


class Clock:
    def __init__(self, day: date):
        self.now = datetime(day.year, day.month, day.day, 12, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: int) -> None:
        self.now += timedelta(days=days)


def answers(day: date, scores: list[int]):
    return [(day.isoformat(), "NPS", s, f"C{i % 5}") for i, s in enumerate(scores)]


def settings(**extra):
    base = {
        "targets": {"nps": 30},
        "surveys": {"min_n": 30},
        "source": {"cache_seconds": 0},
        "alerts": [{"name": "NPS below target", "metric": "nps", "window_days": 7, "condition": "crosses_target", "channel": "C_ALERTS"}],
    }
    base.update(extra)
    return parse_settings(base)


@pytest.fixture
def workbook(tmp_path):
    # The week before START: 40 answers, 20 promoters and 4 detractors → NPS 40, above the target 30.
    day = START - timedelta(days=3)
    return write_source_workbook(
        tmp_path / "crm.xlsx",
        {
            "Customers": [("customer_id", "signup_date")] + [(f"C{i}", "2025-01-01") for i in range(5)],
            "Orders": [("customer_id", "order_date", "amount"), ("C0", "2025-02-01", 10)],
            "Responses": [("date", "survey", "score", "customer_id")] + answers(day, [10] * 20 + [8] * 16 + [3] * 4),
        },
    )


def context(path, clock, s=None):
    return Context(settings=s or settings(), workbook=LocalWorkbook(path), clock=clock)


def alert_posts(fake):
    return [c for c in fake.calls_to("chat.postMessage") if c.params.get("channel") == "C_ALERTS"]


def test_fires_once_holds_across_restart_and_recovers_once(workbook, slack):
    clock = Clock(START)
    assert evaluate_and_notify(context(workbook, clock), slack_poster()) == []

    # Detractors pour in: 40 more answers, all 2 → the week's NPS is (20 − 44) / 80 = −30.
    append_rows(workbook, "Responses", answers(START - timedelta(days=1), [2] * 40))
    events = evaluate_and_notify(context(workbook, clock), slack_poster())
    assert [(e.rule, e.kind, e.posted) for e in events] == [("NPS below target", "fired", True)]
    posts = alert_posts(slack)
    assert len(posts) == 1
    text = str(posts[0].json_param("blocks"))
    assert "NPS below target" in text and "target" in text and "n = 80" in text

    # Still below target: no repeat, neither in the same process nor after a restart (new context).
    assert evaluate_and_notify(context(workbook, clock), slack_poster()) == []
    clock.advance(1)
    assert evaluate_and_notify(context(workbook, clock), slack_poster()) == []
    assert len(alert_posts(slack)) == 1

    # A good week: the bad answers leave the 7-day window and 40 promoters arrive → recovery, once.
    clock.advance(10)
    append_rows(workbook, "Responses", answers(clock.now.date() - timedelta(days=2), [10] * 40))
    events = evaluate_and_notify(context(workbook, clock), slack_poster())
    assert [(e.kind, e.posted) for e in events] == [("recovered", True)]
    assert "Back to normal" in str(alert_posts(slack)[-1].json_param("blocks"))
    assert evaluate_and_notify(context(workbook, clock), slack_poster()) == []
    assert len(alert_posts(slack)) == 2

    log = LocalWorkbook(workbook).read_owned("Pulse Log")
    assert [row[1] for row in log[1:]] == ["alert fired", "alert recovered"]


def test_change_inside_the_noise_does_not_fire_a_significance_rule(workbook, slack):
    s = settings(alerts=[{"name": "NPS moved", "metric": "nps", "window_days": 7, "condition": "significant_change", "channel": "C_ALERTS"}])
    clock = Clock(START + timedelta(days=7))
    # This week 40 answers with NPS 35 vs 40 last week: a 5-point move with n = 40 each is noise.
    append_rows(workbook, "Responses", answers(START + timedelta(days=3), [10] * 18 + [8] * 18 + [3] * 4))
    assert evaluate_and_notify(context(workbook, clock, s), slack_poster()) == []
    # 200 answers all detractors: a collapse far beyond the noise fires.
    append_rows(workbook, "Responses", answers(START + timedelta(days=4), [0] * 200))
    events = evaluate_and_notify(context(workbook, clock, s), slack_poster())
    assert [e.kind for e in events] == ["fired"]
    assert events[0].evaluation.result.previous.significant is True


def test_small_sample_is_labelled(tmp_path, slack):
    path = write_source_workbook(
        tmp_path / "small.xlsx",
        {
            "Customers": [("customer_id",), ("C0",)],
            "Orders": [("customer_id", "order_date", "amount"), ("C0", "2026-01-01", 5)],
            "Responses": [("date", "survey", "score")] + [(START.isoformat(), "NPS", 2)] * 5,
        },
    )
    clock = Clock(START + timedelta(days=2))
    events = evaluate_and_notify(context(path, clock), slack_poster())
    assert events and events[0].evaluation.small_sample
    assert "small sample" in str(alert_posts(slack)[0].json_param("blocks"))


def test_failed_post_keeps_state_and_is_retried(workbook, slack):
    clock = Clock(START)
    append_rows(workbook, "Responses", answers(START - timedelta(days=1), [2] * 40))
    slack.fail("chat.postMessage", status=500, times=1)
    events = evaluate_and_notify(context(workbook, clock), slack_poster())
    assert events[0].posted is False and events[0].error
    events = evaluate_and_notify(context(workbook, clock), slack_poster())
    assert events[0].posted is True
    assert len([c for c in alert_posts(slack) if c.ok]) == 1


def test_a_rule_whose_segment_column_is_gone_reports_its_own_error_and_the_others_still_post(workbook, slack):
    # issue 13 item 11: a segment naming a column the sheet no longer has made the whole evaluation raise.
    s = settings(alerts=[
        {"name": "Gold NPS", "metric": "nps", "window_days": 7, "condition": "crosses_target", "channel": "C_ALERTS",
         "segment": "tier=Gold"},
        {"name": "NPS below target", "metric": "nps", "window_days": 7, "condition": "crosses_target", "channel": "C_ALERTS"},
    ])
    clock = Clock(START)
    # 40 answers all 2 on 1 March: the week's NPS is (20 − 44) / 80 = −30, below the target 30 → fires.
    append_rows(workbook, "Responses", answers(START - timedelta(days=1), [2] * 40))
    events = evaluate_and_notify(context(workbook, clock, s), slack_poster())
    assert [(e.rule, e.kind, e.posted) for e in events] == [("NPS below target", "fired", True)]
    assert len(alert_posts(slack)) == 1

    reply = alerts_reply(None, context(workbook, clock, s))
    rows = {row[0]: row for row in reply.rows}
    assert rows["NPS below target"][3] == -30.0 and rows["NPS below target"][5].startswith("Alert posted")
    gold = rows["Gold NPS"]
    assert gold[3] == "n/a" and gold[4] is None
    assert gold[5].startswith("Error: unknown dimension 'tier'; the Customers tab has: none"), gold[5]
    assert "fix this rule's segment in the config" in gold[5]


def test_rules_are_validated_at_start():
    with pytest.raises(ConfigError, match="needs a target"):
        validate_rules(parse_settings({"alerts": [{"name": "a", "metric": "churn", "condition": "crosses_target", "channel": "C"}]}))
    with pytest.raises(ConfigError, match="did you mean nps"):
        validate_rules(parse_settings({"alerts": [{"name": "a", "metric": "nsp", "condition": "significant_change", "channel": "C"}]}))
    with pytest.raises(ConfigError, match="dimension=value"):
        validate_rules(parse_settings({"alerts": [{"name": "a", "metric": "nps", "condition": "significant_change", "segment": "North", "channel": "C"}]}))
    with pytest.raises(ConfigError, match="no noise model"):
        validate_rules(parse_settings({"alerts": [{"name": "a", "metric": "revenue", "condition": "significant_change", "channel": "C"}]}))


@pytest.mark.parametrize(
    "condition, threshold, holds",
    [
        ("moves_points", 4.0, True),  # NPS 40 → 35: a 5-point move exceeds 4
        ("moves_points", 6.0, False),
        ("moves_percent", 10.0, True),  # 5 / 40 = 12.5 % exceeds 10 %
        ("moves_percent", 15.0, False),
    ],
)
def test_move_thresholds(workbook, condition, threshold, holds):
    from bot.alerts.rules import evaluate
    from bot.context import metric_options

    s = settings(alerts=[{"name": "moved", "metric": "nps", "window_days": 7, "condition": condition, "threshold": threshold, "channel": "C"}])
    clock = Clock(START + timedelta(days=7))
    append_rows(workbook, "Responses", answers(START + timedelta(days=3), [10] * 18 + [8] * 18 + [3] * 4))
    ctx = context(workbook, clock, s)
    ev = evaluate(s.alerts[0], ctx.tables(ctx.snapshot().snapshot), clock.now.date(), metric_options(s), s.surveys.min_n)
    assert ev.result.value == pytest.approx(35.0) and ev.result.previous.value == pytest.approx(40.0)
    assert ev.holds is holds


def test_alerts_list_says_each_rules_status_in_a_plain_sentence(workbook, slack):
    from bot.alerts.preview import alerts_reply
    from bot.render.text import render_text

    clock = Clock(START)
    ctx = context(workbook, clock)
    # Week before START: NPS (20 − 4) / 40 × 100 = 40 ≥ target 30 → normal, nothing posted.
    text = render_text(alerts_reply(None, ctx))
    assert "Normal: meets its target" in text
    assert "holds" not in text and "quiet" not in text
    # 40 more answers scoring 2 → NPS (20 − 44) / 80 × 100 = −30 < 30: the condition holds, not yet posted.
    append_rows(workbook, "Responses", answers(START - timedelta(days=1), [2] * 40))
    text = render_text(alerts_reply(None, context(workbook, clock)))
    assert "Misses its target; the alert posts after the next refresh" in text
    assert "-30" in text  # the value in the metric's unit (NPS integer), not a raw float
    evaluate_and_notify(context(workbook, clock), slack_poster())
    text = render_text(alerts_reply(None, context(workbook, clock)))
    assert "Alert posted; misses its target" in text
