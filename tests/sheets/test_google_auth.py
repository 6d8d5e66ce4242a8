"""Credentials from the environment and sheet keys from URLs: the right source wins, problems are explained."""

from __future__ import annotations

import json
import logging

import pytest

from sheets.google.auth import CredentialsError, credentials_from_info, load_credentials
from sheets.google.keys import sheet_key
from sheets.workbook import WorkbookError
from tests.fakes.sheets_api import FakeSheets

KEY = "1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"


@pytest.fixture(scope="module")
def fake():
    with FakeSheets() as server:
        yield server


@pytest.mark.parametrize("text", [
    KEY,
    f"  {KEY}  ",
    f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0",
    f"https://docs.google.com/spreadsheets/d/{KEY}",
    f"https://docs.google.com/spreadsheets/u/1/d/{KEY}/edit?usp=sharing",
    f"https://docs.google.com/spreadsheet/ccc?key={KEY}&usp=drive_web",
])
def test_key_from_key_or_url(text):
    assert sheet_key(text) == KEY


@pytest.mark.parametrize("text,message", [
    (None, "no Google Sheet configured — set source.sheet"),
    ("", "no Google Sheet configured"),
    ("https://example.com/file.xlsx", "is not a Google Sheets URL"),
    ("my sheet", "is not a spreadsheet key"),
])
def test_bad_sheet_references_are_explained(text, message):
    with pytest.raises(WorkbookError, match=message):
        sheet_key(text)


def test_inline_json_wins_over_the_file(fake, tmp_path):
    inline = fake.service_account("inline@p.iam.gserviceaccount.com")
    file = tmp_path / "key.json"
    file.write_text(json.dumps(fake.service_account("file@p.iam.gserviceaccount.com")))
    creds = load_credentials({"PULSE_GOOGLE_CREDENTIALS_JSON": json.dumps(inline), "GOOGLE_APPLICATION_CREDENTIALS": str(file)})
    assert (creds.account, creds.source, creds.kind) == ("inline@p.iam.gserviceaccount.com", "PULSE_GOOGLE_CREDENTIALS_JSON", "service_account")
    from_file = load_credentials({"GOOGLE_APPLICATION_CREDENTIALS": str(file)})
    assert from_file.account == "file@p.iam.gserviceaccount.com"
    assert from_file.credentials._token_uri == fake.token_uri


def test_authorized_user_keeps_its_token_uri(fake):
    creds = credentials_from_info(fake.authorized_user())
    assert creds.kind == "authorized_user" and creds.credentials.token_uri == fake.token_uri


def test_missing_file_is_named(tmp_path):
    with pytest.raises(CredentialsError, match="GOOGLE_APPLICATION_CREDENTIALS points to .*nope.json, which does not exist"):
        load_credentials({"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "nope.json")})


def test_nothing_configured_names_both_variables():
    with pytest.raises(CredentialsError) as err:
        load_credentials({})
    message = str(err.value)
    assert "GOOGLE_APPLICATION_CREDENTIALS" in message and "PULSE_GOOGLE_CREDENTIALS_JSON" in message
    assert "docs/google-sheets.md" in message


def test_broken_json_does_not_echo_the_secret(fake, caplog):
    text = json.dumps(fake.service_account())[:-5]
    with caplog.at_level(logging.DEBUG), pytest.raises(CredentialsError) as err:
        load_credentials({"PULSE_GOOGLE_CREDENTIALS_JSON": text})
    assert "is not valid JSON" in str(err.value)
    assert "PRIVATE KEY" not in str(err.value) and "PRIVATE KEY" not in caplog.text


@pytest.mark.parametrize("info,message", [
    ({"type": "external_account"}, "credentials of type 'external_account'"),
    ({"type": "service_account", "client_email": "a@b"}, "lacks private_key, token_uri"),
    ({"type": "service_account", "client_email": "a@b", "private_key": "garbage", "token_uri": "x"}, "could not be loaded"),
    ({"type": "authorized_user", "client_id": "c"}, "lack client_secret, refresh_token"),
])
def test_unusable_credentials_are_explained(info, message):
    with pytest.raises(CredentialsError, match=message):
        credentials_from_info(info)
