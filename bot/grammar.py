"""The command grammar Slack and the CLI share: `/<metric> [period] [by <dim>] [where <dim>=<value>] [vs <period>]`.

Parsing is syntax only: periods stay text (resolving them needs the clock) but are checked early with
`check_period`; dimensions and values are checked against the data later by the metrics engine.
Clauses may come in any order; a value with spaces is quoted (`where region="North East"`). Chinese
keywords 按/按照 (by), 对比 (vs), 筛选/其中 (where) and 且/并且 (and) work with or without a following space;
`vs same period last year` (对比 去年同期, `yoy`) compares with the same period a year earlier; Chinese column
names of the dimensions sheets/headers.py knows (地区, 套餐, 渠道) stand for region, plan and channel when answered
(`with_dimensions`), as the sheet's own headers do.
On `/pulse`, a first word that is a period instead of a metric means the overview for that period.

Parsing is linear in the input: a command longer than `MAX_COMMAND_CHARS` is refused before it is read, and
periods are looked for only in runs of at most `MAX_PERIOD_WORDS` words / `MAX_PERIOD_CHARS` characters (the
longest period form, `2026-01-01 .. 2026-03-31`, has 3 words and 24 characters).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from datetime import date

from bot.i18n import N_, _
from metrics.errors import BadCommand
from metrics.periods import SAME_PERIOD_LAST_YEAR, PeriodError, is_year_ago, parse_period
from metrics.registry import CATALOGUE

MAX_COMMAND_CHARS = 1000
MAX_PERIOD_WORDS = 6
MAX_PERIOD_CHARS = 60
MAX_ECHO_CHARS = 60

# Umbrella words after `/pulse` → action.
ACTIONS: dict[str, str] = {
    "help": "help",
    "?": "help",
    "帮助": "help",
    "refresh": "refresh",
    "刷新": "refresh",
    "digest": "digest",
    "周报": "digest",
    "targets": "targets",
    "target": "targets",
    "目标": "targets",
    "issues": "issues",
    "data-issues": "issues",
    "数据问题": "issues",
    "alerts": "alerts",
    "alert": "alerts",
    "告警": "alerts",
    "预警": "alerts",
    "why": "why",
    "为什么": "why",
    "forecast": "forecast",
    "预测": "forecast",
    "survival": "survival",
    "生存分析": "survival",
}

_KEYWORDS = {
    "by": "by",
    "按": "by",
    "按照": "by",
    "where": "where",
    "筛选": "where",
    "其中": "where",
    "vs": "vs",
    "vs.": "vs",
    "versus": "vs",
    "对比": "vs",
    "比较": "vs",
    "and": "and",
    "且": "and",
    "并且": "and",
    "&": "and",
}
_GLUED = (
    "按照",
    "按",
    "对比",
    "比较",
    "筛选",
    "其中",
)  # Chinese keywords typed without a space before the word they take
_POST_WORDS = {"post", "send", "publish", "发送", "发布"}
POST_WORDS = frozenset(_POST_WORDS)  # `/pulse digest post`: post now instead of previewing
_QUOTES = {'"': '"', "“": "”", "「": "」", "'": "'"}
_EXAMPLE = N_("`/pulse nps last-quarter by region where plan=Pro vs last-year`")


@dataclass
class Command:
    """One parsed command. `period` and `vs` are period text, resolved by the caller with `parse_period`."""

    action: str
    metric: str | None = None
    period: str | None = None
    by: str | None = None
    where: dict[str, str] = field(default_factory=dict)
    vs: str | None = None
    raw: str = ""
    args: tuple[str, ...] = ()
    post: bool = False


class CommandError(BadCommand):
    """A command that does not parse; `suggestion` is the closest valid word, if any."""


@dataclass(frozen=True)
class _Token:
    text: str
    quoted: bool = False

    @property
    def keyword(self) -> str | None:
        return None if self.quoted else _KEYWORDS.get(self.text.lower())


def parse_command(text: str, command: str = "/pulse") -> Command:
    """Parse `text` typed after `command`: `/nps` fixes the metric, `/pulse` takes it (or an action) from word one."""
    raw = (text or "").strip()
    if len(raw) > MAX_COMMAND_CHARS:
        raise CommandError(
            _(
                "that command is {length:,} characters long; commands are at most {limit:,}. "
                "Ask one thing at a time, e.g. {example}",
                length=len(raw),
                limit=MAX_COMMAND_CHARS,
                example=_(_EXAMPLE),
            )
        )
    tokens = _tokens(raw)
    fixed = canonical_metric(command.strip().lstrip("/"))
    first = tokens[0].text if tokens and not tokens[0].quoted else ""
    action = ACTIONS.get(_norm(first))
    if fixed:
        if action == "help":
            return Command("help", raw=raw)
        if action in ("why", "forecast"):
            return _clauses(Command(action, fixed, raw=raw), tokens[1:])
        return _clauses(Command("metric", fixed, raw=raw), tokens)
    if not tokens or action == "help":
        return Command("help", raw=raw)
    if action in ("refresh", "digest", "issues", "alerts"):
        args = tuple(t.text for t in tokens[1:])
        return Command(
            action, raw=raw, args=args, post=action == "digest" and bool(_POST_WORDS & {a.lower() for a in args})
        )
    if action in ("targets", "survival"):
        return _clauses(Command(action, raw=raw), tokens[1:])
    if action in ("why", "forecast"):
        metric, rest = _metric(tokens[1:])
        if metric is None and rest:
            raise _unknown_metric(rest[0].text)
        if metric is None:
            if action == "why":
                raise CommandError(_("why needs a metric, e.g. `/pulse why nps last-quarter by region`"))
            raise CommandError(_("forecast needs a metric, e.g. `/pulse forecast revenue`"))
        return _clauses(Command(action, metric, raw=raw), rest)
    metric, rest = _metric(tokens)
    if metric is not None:
        return _clauses(Command("metric", metric, raw=raw), rest)
    if tokens[0].keyword:
        raise CommandError(
            _(
                "a metric comes before '{word}', e.g. `/pulse nps last-quarter by region`. Try `/pulse help`.",
                word=tokens[0].text,
            )
        )
    if _is_period(" ".join(t.text for t in _segment(tokens, 0))):
        return _clauses(Command("metric", "overview", raw=raw), tokens)
    raise _unknown_metric(tokens[0].text)


def canonical_metric(word: str) -> str | None:
    """The canonical metric name for a name or alias (`LTV:CAC` → `ltv-cac`, `净推荐值` → `nps`), else None."""
    return _aliases().get(_norm(word))


def _aliases() -> dict[str, str]:
    """Every metric name and alias of the catalogue (metrics/registry.py) → its metric name. Aliases are matched
    case-insensitively with spaces and underscores read as hyphens."""
    return {_norm(word): s.name for s in CATALOGUE.values() for word in (s.name, *s.aliases)}


def with_dimensions(cmd: Command) -> Command:
    """`cmd` with its `by` and `where` dimensions named as the data names them (`按 地区` → by region)."""
    by = canonical_dimension(cmd.by) if cmd.by else cmd.by
    return replace(cmd, by=by, where={canonical_dimension(k): v for k, v in cmd.where.items()})


def canonical_dimension(word: str) -> str:
    """The dimension a Chinese column name stands for (`地区` → `region`, `套餐` → `plan`, `渠道` → `channel`), as the
    sheet's headers are read; any other name (every ASCII one) unchanged, for the engine to check against the data."""
    if word.isascii():
        return word
    from sheets.headers import ALIASES, DIMENSION_ALIASES, normalize

    key = normalize(word)
    return next((d for d in DIMENSION_ALIASES if key in {normalize(a) for a in ALIASES[d]}), word)


def check_period(text: str) -> str:
    """`text` with its spacing normalised, after checking it is a period form; raises PeriodError if not."""
    text = " ".join(text.split())
    if len(text) > MAX_PERIOD_CHARS:
        raise PeriodError(
            _(
                "unknown period '{text}': a period is at most {limit} characters, e.g. last-quarter",
                text=shorten(text),
                limit=MAX_PERIOD_CHARS,
            ),
            "last-quarter",
        )
    parse_period(text, date(9000, 6, 15))
    return text


def shorten(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    """User text quoted back in a message, cut to `limit` characters with "…"."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _norm(word: str) -> str:
    return re.sub(r"[\s_]+", "-", word.strip().lower())


def _metric(tokens: list[_Token]) -> tuple[str | None, list[_Token]]:
    """The metric named by the first one or two words (`repeat purchase`), and the tokens after it."""
    for n in (2, 1):
        words = tokens[:n]
        if len(words) == n and not any(t.keyword or t.quoted for t in words):
            name = canonical_metric("-".join(t.text for t in words))
            if name:
                return name, tokens[n:]
    return None, tokens


def _unknown_metric(word: str) -> CommandError:
    key, aliases = _norm(word), _aliases()
    chinese = not key.isascii()  # a typo is answered in the language it was typed in: 净推存值 → 净推荐值, not nps
    candidates = [c for c in [*aliases, *ACTIONS] if c.isascii() != chinese]
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    suggestion = (close[0] if chinese else aliases.get(close[0]) or ACTIONS[close[0]]) if close else None
    if suggestion:
        return CommandError(
            _(
                "unknown metric '{word}' — did you mean {suggestion}? Try `/pulse help`.",
                word=shorten(word),
                suggestion=suggestion,
            ),
            suggestion,
        )
    return CommandError(_("unknown metric '{word}'. Try `/pulse help` for the list of metrics.", word=shorten(word)))


def _clauses(cmd: Command, tokens: list[_Token]) -> Command:
    """Fill period, by, where and vs from `tokens`, in any order."""
    i, after_where = 0, None
    while i < len(tokens):
        kw = tokens[i].keyword
        if kw == "by":
            i = _by(cmd, tokens, i + 1)
        elif kw == "where":
            i, after_where = _where(cmd, tokens, i + 1)
            continue
        elif kw == "vs":
            words = _year_ago(_segment(tokens, i + 1)) or _leading_period(_segment(tokens, i + 1))
            if not words:
                raise CommandError(_("vs needs a period to compare with, e.g. `vs last-year` or `vs 2025-Q3`"))
            if cmd.vs is not None:
                raise CommandError(
                    _(
                        "only one vs per command (got '{first}' and '{second}')",
                        first=cmd.vs,
                        second=shorten(_join(words)),
                    )
                )
            cmd.vs = SAME_PERIOD_LAST_YEAR if is_year_ago(_join(words)) else check_period(_join(words))
            i += 1 + len(words)
        elif kw == "and":
            raise CommandError(_("'and' only joins filters: `where region=North and plan=Pro`"))
        else:
            words = _segment(tokens, i)
            _period(cmd, _join(words), after_where)
            i += len(words)
        after_where = None
    return cmd


def _by(cmd: Command, tokens: list[_Token], i: int) -> int:
    if i >= len(tokens) or tokens[i].keyword:
        raise CommandError(_("by needs a dimension, e.g. `by region` or `by plan`"))
    dimension = tokens[i].text.strip()
    if "=" in dimension and not tokens[i].quoted:
        raise CommandError(
            _("by takes a dimension name only; to filter use `where {filter}`", filter=shorten(dimension))
        )
    if cmd.by is not None:
        raise CommandError(
            _(
                "only one by per command (got '{first}' and '{second}')",
                first=shorten(cmd.by),
                second=shorten(dimension),
            )
        )
    cmd.by = dimension
    return i + 1


def _where(cmd: Command, tokens: list[_Token], i: int) -> tuple[int, tuple[str, str]]:
    """One or more `dimension=value` conditions joined by `and`; returns the next index and the last condition."""
    seen = {d.lower() for d in cmd.where}
    while True:
        i, dimension, value = _condition(tokens, i)
        if dimension.lower() in seen:
            raise CommandError(
                _("where filters {dimension} twice; use one value per dimension", dimension=shorten(dimension))
            )
        seen.add(dimension.lower())
        cmd.where[dimension] = value
        if i < len(tokens) and tokens[i].keyword == "and":
            i += 1
            continue
        return i, (dimension, value)


def _condition(tokens: list[_Token], i: int) -> tuple[int, str, str]:
    """`dim=value`, `dim = value`, `dim= value` or `dim =value`, in one to three tokens."""
    usage = _('where needs dimension=value, e.g. `where region=North` or `where region="North East"`')
    parts: list[_Token] = []
    while i < len(tokens) and not tokens[i].keyword and len(parts) < 3:
        parts.append(tokens[i])
        i += 1
        text = "".join(p.text for p in parts)
        next_joins = i < len(tokens) and not tokens[i].quoted and tokens[i].text.startswith("=")
        if ("=" in text and not text.endswith("=")) or ("=" not in text and not next_joins):
            break
    text = "".join(p.text for p in parts)
    if not parts:
        raise CommandError(usage)
    if "=" not in text:
        raise CommandError(_("'{text}' is not a filter; {usage}", text=shorten(text), usage=usage))
    dimension, _sep, value = (p.strip() for p in text.partition("="))
    if not dimension:
        raise CommandError(_("where '{text}' has no dimension; {usage}", text=shorten(text), usage=usage))
    if not value:
        raise CommandError(_("where {dimension}= has no value; {usage}", dimension=shorten(dimension), usage=usage))
    if value.startswith("="):
        raise CommandError(
            _(
                "where '{text}': use a single =, e.g. `where {dimension}={value}`",
                text=shorten(text),
                dimension=shorten(dimension),
                value=shorten(value.lstrip("=")),
            )
        )
    return i, dimension, value


def _period(cmd: Command, text: str, after_where: tuple[str, str] | None) -> None:
    if after_where and (cmd.period is not None or not _is_period(text)):
        dimension, value = after_where
        dimension, value, text = shorten(dimension, 30), shorten(value, 30), shorten(text, 30)
        raise CommandError(
            _(
                "'{text}' after where {dimension}={value} is not a period — quote values with spaces: "
                '`where {dimension}="{value} {text}"`',
                text=text,
                dimension=dimension,
                value=value,
            )
        )
    first, second = (cmd.period, text) if cmd.period is not None else _two_periods(text)
    if first is not None:
        raise CommandError(
            _(
                "two periods ('{first}' and '{second}'); compare them with `{first} vs {second}`",
                first=first,
                second=second,
            )
        )
    cmd.period = check_period(text)


def _two_periods(text: str) -> tuple[str | None, str]:
    """Two periods typed back to back (`last-month 2026-Q1`), if `text` is that and not one period."""
    words = text.split()
    if 1 < len(words) <= 2 * MAX_PERIOD_WORDS and not _is_period(text):
        for k in range(1, len(words)):
            first, second = " ".join(words[:k]), " ".join(words[k:])
            if _is_period(first) and _is_period(second):
                return first, second
    return None, text


def _is_period(text: str) -> bool:
    if len(text) > MAX_PERIOD_CHARS or text.count(" ") >= MAX_PERIOD_WORDS:
        return False
    try:
        check_period(text)
    except ValueError:
        return False
    return True


def _year_ago(words: list[_Token]) -> list[_Token]:
    """The leading words that ask for the same period a year earlier (`same period last year`, `去年同期`), if any."""
    for k in range(min(len(words), 4), 0, -1):
        if is_year_ago(_join(words[:k])):
            return words[:k]
    return []


def _leading_period(words: list[_Token]) -> list[_Token]:
    """The longest run of leading words that is a period (`vs 2025-Q3 2026-Q3` compares with 2025-Q3), else all."""
    for k in range(min(len(words), MAX_PERIOD_WORDS), 0, -1):
        if _is_period(_join(words[:k])):
            return words[:k]
    return words


def _segment(tokens: list[_Token], i: int) -> list[_Token]:
    """The tokens from `i` up to the next keyword."""
    out = []
    while i < len(tokens) and not tokens[i].keyword:
        out.append(tokens[i])
        i += 1
    return out


def _join(tokens: list[_Token]) -> str:
    return " ".join(t.text for t in tokens)


def _tokens(text: str) -> list[_Token]:
    """Words split on spaces; quoted parts keep their spaces; glued Chinese keywords are split off."""
    tokens: list[_Token] = []
    word, quoted, i = "", False, 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            if word or quoted:
                tokens.append(_Token(word, quoted))
            word, quoted = "", False
        elif ch in _QUOTES and (ch != "'" or not word or word.endswith("=")):
            close = text.find(_QUOTES[ch], i + 1)
            if close < 0:
                raise CommandError(
                    _(
                        "unclosed quote {quote} in '{text}'; close it like `where region=\"North East\"`",
                        quote=ch,
                        text=shorten(text[i:]),
                    )
                )
            word, quoted = word + text[i + 1 : close], True
            i = close
        else:
            word += ch
        i += 1
    if word or quoted:
        tokens.append(_Token(word, quoted))
    return [part for t in tokens for part in _unglue(t)]


def _unglue(t: _Token) -> list[_Token]:
    if not t.quoted and not t.keyword:
        for prefix in _GLUED:
            if t.text.startswith(prefix) and len(t.text) > len(prefix):
                return [_Token(prefix), _Token(t.text[len(prefix) :])]
    return [t]
