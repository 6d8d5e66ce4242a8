"""Config loading: defaults, the example file, and errors that name the key, the value and what is accepted."""

import os
from pathlib import Path

import pytest

from config import ConfigError, Settings, load_settings, parse_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "pulse.example.toml"


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings()
    assert s.timezone == "UTC" and s.churn.mode == "auto" and s.churn.after_days == 90
    assert s.surveys.scales["NPS"].min == 0 and s.surveys.scales["NPS"].max == 10
    assert s.surveys.scales["CSAT"].satisfied_from == 4
    assert s.surveys.scales["CSI"].satisfied_from == 9


def test_example_file_is_valid_and_matches_defaults():
    assert load_settings(EXAMPLE) == Settings()


@pytest.mark.parametrize(
    "data, key, fragment",
    [
        ({"churn": {"mode": "sometimes"}}, "churn.mode", "'auto', 'explicit' or 'inactivity'"),
        ({"timezone": "Mars/Olympus"}, "timezone", "IANA"),
        ({"churn": {"after_dayz": 30}}, "churn.after_dayz", "unknown key"),
        ({"surveys": {"scales": {"CSAT": {"min": 5, "max": 1}}}}, "surveys.scales.CSAT", "greater than min"),
        ({"digest": {"time": "9am"}}, "digest.time", "HH:MM"),
        ({"columns": {"ordres": {"amount": "Total"}}}, "columns", "accepted: customers, orders"),
        ({"clv": {"gross_margin": 1.5}}, "clv.gross_margin", "less than or equal to 1"),
        ({"alerts": [{"name": "x", "metric": "nps", "condition": "moves_points", "channel": "C1"}]}, "alerts.0", "positive threshold"),
        ({"targets": {"npss": 40}}, "targets.npss", "unknown metric 'npss'; did you mean nps?"),
    ],
)
def test_bad_values_name_key_value_and_choices(data, key, fragment):
    with pytest.raises(ConfigError) as err:
        parse_settings(data)
    text = str(err.value)
    assert f"config: {key}" in text
    assert fragment in text


def test_bad_toml_and_missing_file(tmp_path):
    bad = tmp_path / "pulse.toml"
    bad.write_text("timezone = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml")


def test_custom_survey_scale_keeps_defaults():
    s = parse_settings({"surveys": {"scales": {"csat": {"min": 1, "max": 10}, "Effort": {"min": 1, "max": 7}}}})
    assert s.surveys.scales["CSAT"].max == 10 and s.surveys.scales["CSAT"].satisfied_from == 9
    assert s.surveys.scales["EFFORT"].satisfied_from == 6
    assert s.surveys.scales["NPS"].max == 10


def test_env_file_is_read_but_never_overrides(tmp_path, monkeypatch):
    from config import secret

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("PULSE_ADDON_SECRET=from-file\nSLACK_BOT_TOKEN=xoxb-file\n")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-env")
    monkeypatch.delenv("PULSE_ADDON_SECRET", raising=False)
    load_settings()
    assert secret("PULSE_ADDON_SECRET") == "from-file"
    assert secret("SLACK_BOT_TOKEN") == "xoxb-env"
    # load_dotenv wrote os.environ itself, behind monkeypatch's back (which recorded nothing for an absent variable),
    # so remove it here: a later test in this process must not see an add-on secret.
    os.environ.pop("PULSE_ADDON_SECRET", None)


def test_unknown_target_stops_the_program_naming_the_key_and_the_valid_metrics(tmp_path):
    bad = tmp_path / "pulse.toml"
    bad.write_text("[targets]\nnps = 40\nnpss = 40\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(bad)
    text = str(err.value)
    assert text.startswith("config: targets.npss = 40: unknown metric 'npss'")
    from metrics.registry import METRICS

    assert all(name in text for name in METRICS)  # the whole list of valid metrics, e.g. nps, churn, ltv-cac


def test_target_keys_ignore_case():
    assert parse_settings({"targets": {"NPS": 40, "LTV-CAC": 3}}).targets == {"nps": 40, "ltv-cac": 3}
