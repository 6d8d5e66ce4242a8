"""A BigQuery dataset as the source (`bigquery://project/dataset`, the optional `bigquery` extra): the URL is checked
when the config is read, credentials come from the environment only, a missing extra is named
(tests/bot/test_bigquery.py has the compile and live tests)."""

from __future__ import annotations

import importlib.util

import pytest

from config import ConfigError
from sheets.open import open_workbook
from sheets.warehouse.source import BigQueryWorkbook
from sheets.workbook import WorkbookError
from tests.sheets.conftest import make_settings

INSTALLED = (
    importlib.util.find_spec("google.cloud") is not None
    and importlib.util.find_spec("google.cloud.bigquery") is not None
)


def test_a_bigquery_url_names_a_project_and_a_dataset():
    wb = open_workbook(make_settings(source={"kind": "sql", "url": "bigquery://my-project/crm"}))
    assert isinstance(wb, BigQueryWorkbook)
    assert (wb.project, wb.dataset, wb.describe()) == ("my-project", "crm", "bigquery://my-project/crm")
    assert wb.change_marker() is None  # no cheap change stamp: read again after cache_seconds
    with pytest.raises(ConfigError, match=r"bigquery://project/dataset"):
        make_settings(source={"kind": "sql", "url": "bigquery://my-project"})
    with pytest.raises(ConfigError, match="GOOGLE_APPLICATION_CREDENTIALS") as err:
        make_settings(source={"kind": "sql", "url": "bigquery://robot:s3cret@my-project/crm"})
    assert "s3cret" not in str(err.value)


@pytest.mark.skipif(INSTALLED, reason="the bigquery extra is installed here: its absence cannot be shown")
def test_without_the_extra_a_bigquery_source_names_it():
    wb = BigQueryWorkbook("bigquery://my-project/crm")
    with pytest.raises(WorkbookError, match=r"uv sync --extra bigquery") as err:
        wb.read_tabs(["Orders"])
    assert "Traceback" not in str(err.value)
