"""Fixtures for bot tests: one demo workbook per session (copied per test when a test writes to it)."""

import shutil
from datetime import date

import pytest

from sheets.demo import write_demo_workbook
from tests.fakes.slack_api import FakeSlackAPI

TODAY = date(2026, 11, 25)


@pytest.fixture(scope="session")
def demo_master(tmp_path_factory):
    return write_demo_workbook(tmp_path_factory.mktemp("demo") / "demo.xlsx", TODAY)


@pytest.fixture
def demo_workbook(demo_master, tmp_path):
    """A private copy of the demo workbook, safe to write to."""
    path = tmp_path / "demo.xlsx"
    shutil.copy(demo_master, path)
    return path


@pytest.fixture
def slack(monkeypatch):
    """The Slack Web API fake, with SLACK_BOT_TOKEN and SLACK_API_URL pointing the real client at it."""
    with FakeSlackAPI() as fake:
        monkeypatch.setenv("SLACK_BOT_TOKEN", fake.token)
        monkeypatch.setenv("SLACK_API_URL", fake.base_url)
        yield fake
