"""Charts with Slack answers (survival curves, forecast, cohort heat map): uploaded with files_upload_v2 next to the
text answer, which stays first and complete. A private answer's chart goes to the asker's direct message with the
bot (a file in the channel would be visible to everyone); a shared answer's chart goes under the shared message."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.i18n import _, use
from bot.render.format import escape
from bot.replies import TableReply
from bot.slack.answering import Answer

log = logging.getLogger(__name__)


def charts_of(answer: Answer) -> list[tuple[str, bytes]]:
    """The PNG attachments of an answer (none for errors and apologies)."""
    if not answer.shareable:
        return []
    return [(name, data) for name, data in getattr(answer.reply, "attachments", []) if name.endswith(".png")]


def chart_comment(answer: Answer, asked: str) -> str:
    """The message posted with an answer's charts, in the answer's language; where the chart has no words of its own
    (a language matplotlib's font cannot draw, bot.charts.words) it says the answer's title."""
    from bot.charts import words  # lazy: matplotlib, loaded anyway once an answer has a chart

    with use(answer.language):
        comment = _("Chart for `{asked}`", asked=escape(asked))
        if words() or not isinstance(answer.reply, TableReply):
            return comment
        return _("{comment}: {title}", comment=comment, title=escape(answer.reply.title))


def send_charts(
    client: WebClient | None,
    answer: Answer,
    asked: str,
    *,
    user_id: str | None = None,
    channel: str | None = None,
    thread_ts: str | None = None,
) -> None:
    """Upload the answer's charts to `channel` (in `thread_ts`), or privately to `user_id`'s DM; failures are logged."""
    files = charts_of(answer)
    if client is None or not files or not (channel or user_id):
        return
    try:
        if channel is None:
            channel = client.conversations_open(users=user_id)["channel"]["id"]
        comment = chart_comment(answer, asked)
        for name, data in files:
            extra: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
            client.files_upload_v2(
                channel=channel,
                file=data,
                filename=name,
                title=f"{asked} — {name.removesuffix('.png')}",
                initial_comment=comment,
                **extra,
            )
    except Exception as err:  # noqa: BLE001 - the text answer is already there; a missing chart is logged
        log.warning("could not upload the chart for %r: %s", asked, type(err).__name__)
