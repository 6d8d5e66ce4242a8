"""`pulse digest --dry-run/--post [--json]` and `/pulse digest` on the small workbook."""

import json

import pytest

from bot.digest.cli import run_digest_cli
from bot.query import answer
from bot.render.text import render_text
from bot.replies import ErrorReply, TextReply
from config import state_dir
from tests.bot.digest.conftest import context_at, utc
from tests.fakes.slack_api import FakeSlackAPI

SETTINGS = {"digest": {"channels": [{"channel": "C1"}, {"channel": "C2", "segment": "region=South"}]}, "surveys": {"min_n": 1}}


@pytest.fixture
def ctx(small_path):
    return context_at(SETTINGS, small_path, utc(2026, 3, 25, 9))[0]


def test_dry_run_prints_each_destination_and_saves_the_chart(ctx, capsys):
    assert run_digest_cli(ctx, post=False, as_json=False) == 0
    out = capsys.readouterr().out
    assert "── to C1 ──" in out and "── to C2 ──" in out
    assert "Weekly pulse — 2026-W12\n" in out and "Weekly pulse — 2026-W12 · region=South" in out
    assert (state_dir() / "digest-2026-W12-C1.png").read_bytes()[:4] == b"\x89PNG"
    assert (state_dir() / "digest-2026-W12-C1.png").stat().st_mode & 0o777 == 0o600  # state files: owner only


def test_dry_run_json(ctx, capsys):
    assert run_digest_cli(ctx, post=False, as_json=True) == 0
    out = json.loads(capsys.readouterr().out)
    assert [d["destination"] for d in out] == ["C1", "C2"]
    assert out[1]["segment"] == {"region": "South"} and out[1]["kpis"][0]["week"]["value"] == 50.0


def test_post_reports_each_destination_and_is_idempotent(ctx, capsys, monkeypatch):
    with FakeSlackAPI() as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", slack.token)
        monkeypatch.setenv("SLACK_API_URL", slack.base_url)
        assert run_digest_cli(ctx, post=True, as_json=False) == 0
        first = capsys.readouterr().out.splitlines()
        assert first[0].startswith("C1 2026-W12: posted (ts ") and first[1].startswith("C2 2026-W12: posted")
        assert run_digest_cli(ctx, post=True, as_json=True) == 0
        again = json.loads(capsys.readouterr().out)
        assert [r["outcome"] for r in again] == ["duplicate", "duplicate"]
        assert len(slack.messages()) == 2


def test_post_without_destinations_says_what_to_configure(small_path, capsys):
    ctx, _ = context_at({}, small_path, utc(2026, 3, 25, 9))
    assert run_digest_cli(ctx, post=True, as_json=False) == 2
    assert "add [[digest.channels]]" in capsys.readouterr().err


def test_preview_reply(ctx):
    reply = answer("digest", ctx)
    assert isinstance(reply, TextReply) and reply.title == "Weekly pulse — 2026-W12"
    text = render_text(reply)
    assert "Headline KPIs" in text and "C1 (mon 09:00 UTC)" in text and "C2 (mon 09:00 UTC, region=South)" in text
    assert reply.payload["digest"]["week"]["label"] == "2026-W12"
    south = answer("digest 2026-W11 where region=South", ctx)
    assert south.title == "Weekly pulse — 2026-W11 · region=South"
    assert answer("digest last week", ctx).title == "Weekly pulse — 2026-W12"
    assert answer("digest region = South", ctx).title == "Weekly pulse — 2026-W12 · region=South"
    bad = answer("digest 2026-03", ctx)
    assert isinstance(bad, ErrorReply) and "one full ISO week" in bad.message
