"""The `pulse` command line: demo, ask, refresh, check, serve, digest, alerts, scheduler, export, migrate, manifest."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from contextlib import nullcontext
from datetime import date
from pathlib import Path

from bot.errors import exit_code
from bot.i18n import LANGUAGES, _, use
from bot.progress import progress_bar
from bot.replies import ErrorReply
from config import Settings, load_settings
from config.settings import DEMO_WORKBOOK
from metrics.errors import PulseError

log = logging.getLogger("pulse")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; use YYYY-MM-DD") from None


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", help="config file (default: config/pulse.toml if present)")
    common.add_argument(
        "--workbook", metavar="PATH", help="read a local .xlsx workbook instead of the configured source"
    )
    common.add_argument("--sheet", metavar="KEY_OR_URL", help="read this Google Sheet instead of the configured source")
    common.add_argument(
        "--today", type=_date, metavar="YYYY-MM-DD", help="pretend today is this date (reproducible runs)"
    )
    common.add_argument(
        "--language", choices=LANGUAGES, help="answer in this language instead of the config's `language`"
    )
    common.add_argument("--debug", action="store_true", help="verbose logs and full tracebacks")

    parser = argparse.ArgumentParser(
        prog="pulse",
        description="crm-pulse: customer metrics (NPS, CSAT, retention, churn, CLV, CAC…) from your sheet.",
        epilog='Examples: pulse demo · pulse ask "nps last-quarter by region" · pulse check --json',
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser(
        "demo", parents=[common], help="create the demo workbook if missing, show an overview, write summary tabs"
    )
    demo.add_argument("--period", default="last-month", help="overview period (default last-month)")

    ask = sub.add_parser("ask", parents=[common], help='answer a command, e.g. "churn last-quarter by plan"')
    ask.add_argument("text", nargs="+", help="the command text, as typed after /pulse")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--chart", metavar="PATH", help="also write the answer's chart (e.g. survival curves) as a PNG")

    sub.add_parser("refresh", parents=[common], help="rewrite the summary tabs now")

    check = sub.add_parser("check", parents=[common], help="validate the config and the data; list rejected rows")
    check.add_argument("--json", action="store_true", help="print the report as JSON")

    serve = sub.add_parser("serve", parents=[common], help="run the Slack bot, the add-on API and the scheduler")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--socket", action="store_true", help="Socket Mode (needs SLACK_APP_TOKEN) instead of HTTP")
    serve.add_argument("--no-scheduler", action="store_true", help="do not run scheduled jobs in this process")

    digest = sub.add_parser("digest", parents=[common], help="render or post the weekly digest")
    mode = digest.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="print the digest (default)")
    mode.add_argument("--post", action="store_true", help="post it now to the configured channels")
    digest.add_argument("--json", action="store_true")

    alerts = sub.add_parser("alerts", parents=[common], help="evaluate the alert rules")
    alerts.add_argument("--dry-run", action="store_true", help="evaluate and print, post nothing (default)")
    alerts.add_argument("--json", action="store_true")

    sub.add_parser("scheduler", parents=[common], help="run only the scheduler (one per deployment)")

    export = sub.add_parser("export", parents=[common], help="write the validated source tables to a DuckDB file")
    export.add_argument("--duckdb", required=True, metavar="PATH", help="the DuckDB file to write (replaced whole)")

    sub.add_parser(
        "migrate", parents=[common], help="create or update the PostgreSQL state schema ([state] url); idempotent"
    )

    manifest = sub.add_parser(
        "manifest", parents=[common], help="print the Slack app manifest (config/slack-manifest.yml)"
    )
    manifest.add_argument("--host", default="YOUR-HOST", help="the public host in the request URLs")
    return parser


# Commands that read the whole source (or refresh the summary tabs) in the foreground: a terminal shows a progress
# bar on stderr for a read or a refresh that takes more than a second (bot/progress.py).
WITH_PROGRESS = ("demo", "ask", "refresh", "check", "export")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings(args.config)
        with (
            use(args.language or settings.language),
            progress_bar() if args.command in WITH_PROGRESS else nullcontext(),
        ):
            return COMMANDS[args.command](args, settings)
    except PulseError as err:  # config, source, state, refusals: one line, the exit code of its branch (bot.errors)
        print(f"error: {err}", file=sys.stderr)
        return exit_code(err)
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # the last line of defence prints one line, not a traceback
        if args.debug:
            raise
        print(f"error: unexpected {type(err).__name__}: {err} (run again with --debug for details)", file=sys.stderr)
        return 1


# Commands that run until stopped keep refreshing in the background; all others answer and exit, so they read
# a stale snapshot again before answering (a background refresh would die with the process).
LONG_RUNNING = ("serve", "scheduler")


def _context(args, settings: Settings):
    from bot.context import build_context

    return build_context(
        settings, workbook=args.workbook, sheet=args.sheet, today=args.today, one_shot=args.command not in LONG_RUNNING
    )


def _emit(reply, as_json: bool, settings: Settings) -> int:
    from bot.render.json import render_json
    from bot.render.text import render_text

    if as_json:
        print(json.dumps(render_json(reply, settings.currency), ensure_ascii=False, indent=2))
    else:
        print(render_text(reply, settings.currency))
    return 1 if isinstance(reply, ErrorReply) else 0


def cmd_demo(args, settings: Settings) -> int:
    from bot.query import answer
    from bot.render.text import render_text
    from bot.tabs import refresh
    from sheets.demo import ensure_demo_workbook

    today = args.today or date.today()
    path = Path(args.workbook) if args.workbook else DEMO_WORKBOOK
    if not path.exists():
        print(f"creating the demo workbook {path} …", file=sys.stderr)
    ensure_demo_workbook(path, today)
    args.workbook, args.sheet = str(path), None
    ctx = _context(args, settings)
    print(render_text(answer(f"overview {args.period}", ctx), settings.currency))
    print(f"\nwriting summary tabs to {path} …", file=sys.stderr)
    report = refresh(ctx, reason="demo")
    print()
    print(render_text(report.reply()))
    print(f'\nNext: pulse ask "nps last-quarter by region" --workbook {path}')
    return 0


def cmd_ask(args, settings: Settings) -> int:
    from bot.query import answer

    reply = answer(" ".join(args.text), _context(args, settings))
    code = _emit(reply, args.json, settings)
    if args.chart and not code:
        _write_chart(reply, Path(args.chart))
    if code and not args.json:
        print(_("error: see `pulse ask help` for commands and periods"), file=sys.stderr)
    return code


def _write_chart(reply, path: Path) -> None:
    """Write the reply's first PNG attachment to `path`, or say that this answer has no chart."""
    png = next((data for name, data in getattr(reply, "attachments", []) if name.endswith(".png")), None)
    if png is None:
        print("note: this answer has no chart; --chart was ignored", file=sys.stderr)
        return
    path.write_bytes(png)
    print(f"chart written to {path}", file=sys.stderr)


def cmd_refresh(args, settings: Settings) -> int:
    from bot.render.text import render_text
    from bot.tabs import refresh

    report = refresh(_context(args, settings), reason="cli")
    print(render_text(report.reply()))
    return 3 if report.refused else 0


def cmd_check(args, settings: Settings) -> int:
    """Validate config and data; exit 1 when the source is unusable as configured (warnings keep 0)."""
    from bot.pushdown import database_rules
    from sheets.snapshot import blocking_problems

    ctx = _context(args, settings)
    snap = ctx.read_now().snapshot
    counts = {tab: len(frame) for tab, frame in snap.frames.items()}
    rejected = [i for i in snap.issues if i.severity == "rejected"]
    errors = blocking_problems(snap, settings)
    rules = database_rules(ctx)
    if args.json:
        print(
            json.dumps(
                {
                    "config": "ok",
                    "source": snap.source,
                    "errors": errors,
                    "rows": counts,
                    "missing_tabs": snap.missing_tabs,
                    "dimensions": snap.dimensions,
                    "issues": [i.__dict__ for i in snap.issues],
                    **({} if rules is None else {"database_rules": [dataclasses.asdict(r) for r in rules]}),
                },
                ensure_ascii=False,
                indent=2,
                default=str,
            )
        )
    else:
        print(f"{'source unusable' if errors else 'config ok'} · source {snap.source}")
        print("rows: " + ", ".join(f"{tab} {n:,}" for tab, n in counts.items()))
        if snap.missing_tabs:
            print("missing tabs: " + ", ".join(snap.missing_tabs))
        print(f"dimensions: {', '.join(snap.dimensions) or 'none'}")
        print(f"{len(snap.issues)} data issues ({len(rejected)} rows rejected)")
        for i in snap.issues:
            print(f"  {i.tab} row {i.row} · {i.column} = {i.value!r}: {i.reason} [{i.severity}]")
        if rules is not None:
            print_rules(rules)
    for problem in errors:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if errors else 0


def print_rules(rules: list) -> None:
    """The validation rules run in the database: rejected rows in all, then one line per rule that found rows."""
    rejected = sum(r.rows for r in rules if r.severity == "rejected")
    print(f"validation rules run in the database: {rejected:,} rows rejected")
    for r in rules:
        rows = f"{r.rows:,} row{'s' if r.rows != 1 else ''}"
        info = " [info]" if r.severity != "rejected" else ""
        print(f"  {r.tab}.{r.column}: {r.rule} — {rows} ({', '.join(r.samples)}){info}")


def cmd_serve(args, settings: Settings) -> int:
    from bot.serve import serve

    logging.getLogger("bot.serve").setLevel(logging.INFO)  # the start-up lines say which parts are on and why not
    serve(
        _context(args, settings),
        port=args.port,
        socket_mode=args.socket,
        host=args.host,
        scheduler=not args.no_scheduler,
    )
    return 0


def cmd_digest(args, settings: Settings) -> int:
    from bot.digest.cli import run_digest_cli

    return run_digest_cli(_context(args, settings), post=args.post, as_json=args.json)


def cmd_alerts(args, settings: Settings) -> int:
    from bot.alerts.cli import run_alerts_cli

    return run_alerts_cli(_context(args, settings), as_json=args.json)


def cmd_scheduler(args, settings: Settings) -> int:
    from bot.scheduler import run_scheduler_forever
    from bot.serve import migrate_state

    ctx = _context(args, settings)
    migrate_state(ctx)
    return run_scheduler_forever(ctx)


def cmd_migrate(args, settings: Settings) -> int:
    """Apply the state schema's missing migrations; with the file state (no [state] url) there is nothing to do."""
    from config.settings import state_url

    url = state_url(settings)
    if url is None:
        print("nothing to migrate: [state] url is not set, state is kept in files (PULSE_STATE_DIR)")
        return 0
    from bot.state_pg import MIGRATIONS, migrate

    applied = migrate(url)
    latest = MIGRATIONS[-1][0]
    print(
        f"state schema: applied {', '.join(map(str, applied))}; now at version {latest}"
        if applied
        else f"state schema: up to date (version {latest})"
    )
    return 0


def cmd_export(args, settings: Settings) -> int:
    """Read the source once and write its typed tables and data issues to a DuckDB file (docs/warehouse.md)."""
    from sheets.warehouse.export import export_duckdb

    ctx = _context(args, settings)
    print(f"reading {ctx.workbook.describe()}…", file=sys.stderr)
    snap = ctx.read_now().snapshot
    report = export_duckdb(snap, args.duckdb, progress=lambda line: print(f"  {line}", file=sys.stderr))
    print(report.summary())
    return 0


def cmd_manifest(args, settings: Settings) -> int:
    """Print the Slack app manifest generated from the metric catalogue (bot/slack/manifest.py)."""
    from bot.slack.manifest import manifest_text

    sys.stdout.write(manifest_text(args.host, user_language=settings.slack.user_language))
    return 0


COMMANDS = {
    "demo": cmd_demo,
    "ask": cmd_ask,
    "refresh": cmd_refresh,
    "check": cmd_check,
    "serve": cmd_serve,
    "digest": cmd_digest,
    "alerts": cmd_alerts,
    "scheduler": cmd_scheduler,
    "export": cmd_export,
    "migrate": cmd_migrate,
    "manifest": cmd_manifest,
}

if __name__ == "__main__":
    sys.exit(main())
