"""The crm-pulse configuration: a validated pydantic model loaded from TOML, secrets from the environment."""

from __future__ import annotations

import os
import re
import threading
import tomllib
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from metrics.errors import NotConfigured, Unavailable
from metrics.schema import SOURCE_TABS

# The languages answers can be written in (bot/i18n.py holds their catalogues).
Language = Literal["en", "zh-CN"]

DEFAULT_CONFIG_PATHS = (Path("config/pulse.toml"), Path("pulse.toml"))
DEMO_WORKBOOK = Path("demo/crm-pulse-demo.xlsx")


class ConfigError(NotConfigured):
    """A configuration problem, phrased for the person who wrote the file."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Database URL schemes `[source] kind = "sql"` can read today (docs/warehouse.md says what is planned).
POSTGRES_SCHEMES = ("postgresql", "postgres")
SQL_SCHEMES = ("duckdb", *POSTGRES_SCHEMES, "bigquery")


class SourceSettings(_Section):
    """Where the data lives: a local workbook path or a Google Sheet key/URL, or (kind = "sql") a database URL."""

    kind: Literal["sheet", "sql"] = "sheet"
    workbook: str | None = None
    sheet: str | None = None
    url: str | None = None
    cache_seconds: int = Field(60, ge=0)
    # kind = "sql": compute the pushed-down metrics in the database (docs/warehouse.md "Pushdown").
    pushdown: bool = False
    # kind = "sql" on a DuckDB file: DuckDB runs inside this process, so its buffers count in its memory; cap them
    # (DuckDB's own default is 80 % of the machine's RAM) and, optionally, its worker threads (default: one per core).
    memory_limit: str = "1GB"
    threads: int | None = Field(None, ge=1)

    @field_validator("memory_limit")
    @classmethod
    def _memory(cls, value: str) -> str:
        """A size DuckDB reads: a number and a unit (KB, MB, GB, TB, KiB, MiB, GiB, TiB)."""
        if not re.fullmatch(r"\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", value, re.I):
            raise ValueError(f'memory_limit must be a number and a unit (e.g. "1GB" or "512MB"), not {value!r}')
        return value.strip()

    @model_validator(mode="after")
    def _sql_url(self) -> SourceSettings:
        """kind = "sql" needs a url of a supported scheme (or PULSE_SOURCE_URL); a url alone is a mistake."""
        if self.kind != "sql":
            if self.url:
                raise ValueError('url is read only with kind = "sql"; add kind = "sql" to [source] or remove url')
            return self
        if self.url:
            sql_scheme_problem(self.url, raise_as=ValueError)
            if sql_scheme(self.url) == "bigquery" and "@" in self.url.partition("://")[2].split("/")[0]:
                raise ValueError(
                    "[source] url must not hold credentials: a bigquery:// URL is bigquery://project/dataset and the "
                    "credentials come from GOOGLE_APPLICATION_CREDENTIALS or Application Default Credentials"
                )
            if url_password(self.url):
                raise ValueError(
                    "[source] url must not hold a password (credentials come from the environment only): "
                    "remove it and set PGPASSWORD, or put the whole URL in PULSE_SOURCE_URL"
                )
        return self


def sql_scheme(url: str) -> str:
    """The database kind of a URL, lower case and without a driver suffix (`postgresql+psycopg` → postgresql)."""
    return url.partition("://")[0].split("+")[0].strip().lower() if "://" in url else ""


def url_password(url: str) -> str:
    """The password a `scheme://user:password@host/…` URL carries, else ""."""
    auth, at, _ = url.partition("://")[2].split("/")[0].rpartition("@")
    return auth.split(":", 1)[1] if at and ":" in auth else ""


def sql_scheme_problem(url: str, raise_as: type[Exception] = ValueError) -> None:
    """Raise `raise_as` with a sentence when `url` is not a database URL crm-pulse can read yet."""
    scheme = sql_scheme(url)
    if scheme == "bigquery":
        parts = [p for p in url.partition("://")[2].split("?")[0].split("/") if p]
        if len(parts) != 2:
            raise raise_as(f"a BigQuery URL names a project and a dataset: bigquery://project/dataset (got {url!r})")
        return
    if scheme in SQL_SCHEMES:
        return
    supported = "duckdb:///path/to/file.duckdb, postgresql://user@host:5432/database, bigquery://project/dataset"
    what = f"'{scheme}://' sources are not supported yet" if scheme else "not a database URL"
    raise raise_as(f"{what}; supported: {supported} (see docs/warehouse.md)")


class TabNames(_Section):
    """Names of the source tabs as they appear in the workbook."""

    customers: str = "Customers"
    orders: str = "Orders"
    responses: str = "Responses"
    complaints: str = "Complaints"
    spend: str = "Spend"
    subscriptions: str = "Subscriptions"


class ChurnSettings(_Section):
    mode: Literal["auto", "explicit", "inactivity"] = "auto"
    after_days: int = Field(90, ge=1)


class SurveyScale(_Section):
    """An answer scale; `satisfied_from` defaults to max - 1 (4 of 5, 9 of 10)."""

    min: int = 1
    max: int = 5
    satisfied_from: int | None = None

    @model_validator(mode="after")
    def _check(self) -> SurveyScale:
        if self.max <= self.min:
            raise ValueError(f"max ({self.max}) must be greater than min ({self.min})")
        if self.satisfied_from is None:
            self.satisfied_from = self.max - 1
        if not self.min <= self.satisfied_from <= self.max:
            raise ValueError(f"satisfied_from ({self.satisfied_from}) must lie in {self.min}..{self.max}")
        return self


def _default_scales() -> dict[str, SurveyScale]:
    return {
        "NPS": SurveyScale(min=0, max=10),
        "CSAT": SurveyScale(min=1, max=5),
        "CSI": SurveyScale(min=1, max=10),
    }


class SurveySettings(_Section):
    min_n: int = Field(30, ge=1)
    scales: dict[str, SurveyScale] = Field(default_factory=_default_scales)

    @field_validator("scales", mode="after")
    @classmethod
    def _merge_defaults(cls, v: dict[str, SurveyScale]) -> dict[str, SurveyScale]:
        merged = _default_scales()
        merged.update({k.upper(): s for k, s in v.items()})
        return merged


class ComplaintSettings(_Section):
    denominator: Literal["orders", "customers"] = "orders"
    resolved_statuses: list[str] = Field(default_factory=lambda: ["resolved", "closed", "已解决", "已关闭"])


class ClvSettings(_Section):
    lifetime_years: float | Literal["survival"] | None = None
    max_lifetime_years: float = Field(10.0, gt=0)
    gross_margin: float = Field(1.0, gt=0, le=1)
    horizon_months: int = Field(12, ge=1, le=120)
    discount_rate: float = Field(0.01, ge=0, lt=1)


class RiskSettings(_Section):
    p_alive_below: float = Field(0.5, gt=0, lt=1)


class RenewalSettings(_Section):
    grace_days: int = Field(30, ge=0)


class DefaultPeriods(_Section):
    rates: str = "last-month"
    surveys: str = "last-quarter"


class DigestChannel(_Section):
    """One digest destination; `segment` is an optional `dimension=value` filter."""

    channel: str
    segment: str | None = None
    timezone: str | None = None
    day: str | None = None
    time: str | None = None
    language: Language | None = None  # this channel's digest language; None = the top-level `language`


class DigestSettings(_Section):
    enabled: bool = True
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    time: str = "09:00"
    misfire_grace_minutes: int = Field(360, ge=1)
    channels: list[DigestChannel] = Field(default_factory=list)
    webhook_url_env: str | None = None

    @field_validator("time")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        parts = v.split(":")
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[0]) > 23 or int(parts[1]) > 59:
            raise ValueError(f"'{v}' is not a time of day; use HH:MM, e.g. 09:00")
        return v


class OutputSettings(_Section):
    """Where a SQL source's summary tabs are written: a local .xlsx (`workbook`) or a Google Sheet (`sheet`)."""

    workbook: str | None = None
    sheet: str | None = None

    @model_validator(mode="after")
    def _one(self) -> OutputSettings:
        if self.workbook and self.sheet:
            raise ValueError("name either workbook or sheet in [output], not both")
        return self


class RefreshSettings(_Section):
    every_minutes: int = Field(60, ge=1)


class StateSettings(_Section):
    """Where shared state lives: unset = files in PULSE_STATE_DIR (one host); a PostgreSQL URL = shared by instances.
    Keep the password out of the URL: libpq reads PGPASSWORD, or set the whole URL in PULSE_STATE_URL."""

    url: str | None = None
    # With a url: how often a standby instance tries to become the scheduler leader and the leader checks that it
    # still is (seconds). A dead leader's lock is freed by PostgreSQL at once (kill) or within ~30 s (a lost host,
    # TCP keepalives), so another instance takes over within a minute.
    leader_poll_seconds: float = Field(10.0, gt=0, le=30)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("postgresql://", "postgres://")):
            raise ValueError(
                "expected a PostgreSQL URL such as 'postgresql://pulse@db.internal:5432/pulse' "
                "(or leave it out for files)"
            )
        return v


class SlackSettings(_Section):
    allowed_channels: list[str] = Field(default_factory=list)
    allowed_users: list[str] = Field(default_factory=list)
    admins: list[str] = Field(default_factory=list)
    rate_limit_per_minute: int = Field(20, ge=1)
    # Answer each asker in their own Slack locale (zh-* → zh-CN, else en) via users.info: needs the users:read scope.
    user_language: StrictBool = False


class AddonSettings(_Section):
    spreadsheet_id: str | None = None
    max_skew_seconds: int = Field(300, ge=1)
    rate_limit_per_minute: int = Field(60, ge=1)
    refresh_debounce_seconds: int = Field(60, ge=0)
    # Google-signed identity tokens (ScriptApp.getIdentityToken()): the script's OAuth client id is their audience;
    # only verified e-mails listed here, or in these domains, are let in. `admins` alone may post the digest.
    oauth_client_id: str | None = None
    allowed_emails: list[str] = Field(default_factory=list)
    allowed_domains: list[str] = Field(default_factory=list)
    admins: list[str] = Field(default_factory=list)


class AlertRule(_Section):
    """A rule that posts when its condition starts to hold and again when it stops."""

    name: str
    metric: str
    window_days: int = Field(28, ge=1)
    condition: Literal["crosses_target", "moves_points", "moves_percent", "significant_change"]
    threshold: float | None = None
    segment: str | None = None
    channel: str
    language: Language | None = None  # this rule's messages; None = the top-level `language`

    @model_validator(mode="after")
    def _threshold(self) -> AlertRule:
        if self.condition in ("moves_points", "moves_percent") and (self.threshold is None or self.threshold <= 0):
            raise ValueError(f"condition '{self.condition}' needs a positive threshold")
        return self


class Settings(_Section):
    """The whole configuration."""

    timezone: str = "UTC"
    fiscal_year_start_month: int = Field(1, ge=1, le=12)
    currency: str = "USD"
    language: Language = "en"  # every answer, help text, digest and alert: "en" or "zh-CN" (bot/i18n.py)
    date_order: Literal["MDY", "DMY"] = "MDY"
    source: SourceSettings = Field(default_factory=SourceSettings)
    tabs: TabNames = Field(default_factory=TabNames)
    columns: dict[str, dict[str, str]] = Field(default_factory=dict)
    churn: ChurnSettings = Field(default_factory=ChurnSettings)
    surveys: SurveySettings = Field(default_factory=SurveySettings)
    complaints: ComplaintSettings = Field(default_factory=ComplaintSettings)
    clv: ClvSettings = Field(default_factory=ClvSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    renewal: RenewalSettings = Field(default_factory=RenewalSettings)
    targets: dict[str, float] = Field(default_factory=dict)
    default_periods: DefaultPeriods = Field(default_factory=DefaultPeriods)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    refresh: RefreshSettings = Field(default_factory=RefreshSettings)
    output: OutputSettings = Field(default_factory=OutputSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    addon: AddonSettings = Field(default_factory=AddonSettings)
    state: StateSettings = Field(default_factory=StateSettings)
    alerts: list[AlertRule] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone '{v}'; use an IANA name such as UTC, Europe/Berlin, Asia/Shanghai"
            ) from None
        return v

    @field_validator("columns")
    @classmethod
    def _columns(cls, v: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for tab in v:
            if tab not in SOURCE_TABS:
                raise ValueError(f"unknown tab '{tab}' in [columns]; accepted: {', '.join(SOURCE_TABS)}")
        return v

    @field_validator("targets", mode="before")
    @classmethod
    def _targets(cls, v: Any) -> Any:
        """Target keys are metric names (any case); an unknown one stops the program instead of being ignored."""
        from metrics.registry import METRICS

        if not isinstance(v, dict):
            return v
        targets = {str(k).strip().lower(): goal for k, goal in v.items()}
        unknown = [(k, v[k]) for k in v if str(k).strip().lower() not in METRICS]
        if unknown:
            raise PydanticCustomError("unknown_target", "unknown metric", {"unknown": unknown, "valid": list(METRICS)})
        return targets


def _unknown_targets(ctx: dict[str, Any]) -> list[str]:
    """One line per unknown `[targets]` key: the key, its value, the closest metric and every valid one."""
    import difflib

    valid = ctx["valid"]
    lines = []
    for key, value in ctx["unknown"]:
        close = difflib.get_close_matches(key.lower(), valid, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        lines.append(
            f"config: targets.{key} = {value!r}: unknown metric '{key}'{hint} Valid metrics: {', '.join(valid)}"
        )
    return lines


def segment_filter(text: str | None) -> dict[str, str]:
    """A digest channel's or alert's segment: "region=North" → {"region": "North"}; {} when there is none."""
    if not text:
        return {}
    dimension, sep, value = text.partition("=")
    if not sep or not dimension.strip() or not value.strip():
        raise ValueError(f"segment '{text}' must look like dimension=value, e.g. region=North")
    return {dimension.strip(): value.strip()}


def _describe(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        if e["type"] == "unknown_target":
            lines += _unknown_targets(e["ctx"])
            continue
        key = ".".join(str(p) for p in e["loc"]) or "(top level)"
        value = e.get("input")
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling against config/pulse.example.toml)"
        shown = "" if isinstance(value, dict) else f" = {value!r}"
        lines.append(f"config: {key}{shown}: {msg}")
    return "\n".join(lines)


def parse_settings(data: dict[str, Any]) -> Settings:
    """Validate a config mapping; a bad key or value raises ConfigError naming it."""
    try:
        return Settings.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_describe(err)) from None


def load_settings(path: str | Path | None = None) -> Settings:
    """Load the TOML config at `path` (or the default locations); defaults when there is none."""
    load_env()
    candidates = [Path(path)] if path else [p for p in DEFAULT_CONFIG_PATHS if p.exists()]
    if path and not Path(path).exists():
        raise ConfigError(f"config: file not found: {path}")
    if not candidates:
        return Settings()
    try:
        data = tomllib.loads(candidates[0].read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config: {candidates[0]} is not valid TOML: {err}") from None
    return parse_settings(data)


def load_env() -> None:
    """Read a `.env` file in the working directory into the environment (never overriding it)."""
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)


def secret(name: str) -> str | None:
    """A secret from the environment; never stored in config files and never logged."""
    value = os.environ.get(name)
    return value or None


class StateUnavailable(Unavailable, RuntimeError):
    """The PostgreSQL state cannot be reached or is not migrated; the message names no secret."""


def state_url(settings: Settings) -> str | None:
    """The PostgreSQL URL of the shared state (`PULSE_STATE_URL`, a secret, wins over `[state] url`); None for files."""
    url = secret("PULSE_STATE_URL") or settings.state.url
    if url is not None and not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError("config: PULSE_STATE_URL is not a PostgreSQL URL (expected postgresql://…)")
    return url


def state_dir() -> Path:
    """Directory for caches, ledgers and job stores (`PULSE_STATE_DIR`, default `.pulse/`; created owner-only)."""
    path = Path(os.environ.get("PULSE_STATE_DIR") or ".pulse")
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def move_aside(path: Path, side_files: tuple[str, ...] = ()) -> Path:
    """Rename a damaged state file (and its side files, e.g. SQLite's `-journal`) to `<name>.damaged-<UTC time>`,
    kept for inspection; returns the new path. The caller rebuilds the state and says so."""
    from datetime import datetime

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    os.replace(path, aside)
    for suffix in side_files:
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, aside.with_name(aside.name + suffix))
    return aside


def write_state_file(path: Path, data: bytes | Sequence[bytes]) -> None:
    """Write a state file atomically and readable by its owner only (0600): a crash mid-write keeps the old file,
    and other users on the host can read neither the data nor the temporary copy. `data` may come in pieces,
    written one after another (a large snapshot is never joined in memory)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            for part in [data] if isinstance(data, bytes) else data:
                fh.write(part)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
