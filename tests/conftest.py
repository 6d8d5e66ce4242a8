"""Suite-wide test settings: no proxies for loopback, no Slack variables leaking in from the machine."""

import os

import pytest

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """Each test gets its own state directory and no SLACK_* or Google credentials from the host."""
    for name in list(os.environ):
        if name.startswith("SLACK_") or name in ("GOOGLE_APPLICATION_CREDENTIALS", "PULSE_GOOGLE_CREDENTIALS_JSON"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PULSE_STATE_DIR", str(tmp_path / "state"))
    from bot import pulse_log

    monkeypatch.setattr(pulse_log, "_deferred", [])  # Pulse Log entries queued by one test never reach another's
    monkeypatch.setattr(pulse_log, "_shared", None)  # … nor a shared queue one test's server turned on
    monkeypatch.setattr(pulse_log, "_taken", [])


@pytest.fixture(scope="session")
def postgres_server():
    """One throwaway PostgreSQL server for the session (started on first use); skipped when its binaries are missing."""
    from tests.postgres import PostgresServer, binaries

    if binaries() is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed: `apt-get install postgresql` (.ci/run does)")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def state_url(postgres_server, monkeypatch):
    """A fresh, migrated PostgreSQL state database for this test, also set as PULSE_STATE_URL."""
    from bot.state_pg import migrate

    url = postgres_server.new_database()
    migrate(url)
    monkeypatch.setenv("PULSE_STATE_URL", url)
    return url
