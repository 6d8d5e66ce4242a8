"""What every Slack listener shares: the query context, the access policy and the bounded query runner."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.context import Context
from bot.slack.access import Access
from bot.slack.answering import QueryRunner

ACK_WAIT_SECONDS = 0.7


@dataclass
class SlackRuntime:
    """One per bolt App; `ack_wait` is how long a command may wait for its answer before acking "Computing…"."""

    ctx: Context
    access: Access = field(init=False)
    runner: QueryRunner = field(init=False)
    ack_wait: float = ACK_WAIT_SECONDS
    workers: int = 4

    def __post_init__(self) -> None:
        self.access = Access(self.ctx.settings.slack)
        self.runner = QueryRunner(self.ctx, workers=self.workers)
