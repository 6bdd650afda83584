"""The retention schedule: calendar periods, floors the law sets, overrides refused whole."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from consent_service.errors import ValidationFailed
from consent_service.retention.periods import Period
from consent_service.retention.schedule import default_schedule
from consent_service.retention.schedule import parse_setting
from consent_service.retention.schedule import schedule_for
from consent_service.retention.table import schedule_table
from consent_service.settings import Settings
from consent_service.settings import SettingsError

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- retention-table:start -->\n", "<!-- retention-table:end -->"


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def test_a_year_after_29_february_ends_on_28_february():
    assert Period.parse("P1Y").after(utc(2028, 2, 29)) == utc(2029, 2, 28)


def test_before_never_lets_a_row_go_early():
    period = Period.parse("P1M")
    for day in range(1, 32):
        end = utc(2025, 3, day)
        assert period.after(period.before(end)) <= end


@pytest.mark.parametrize("text", ["6 months", "P", "PT1H", "-P1D", "P1.5Y", ""])
def test_text_that_is_not_a_duration_is_refused(text):
    with pytest.raises(ValueError):
        Period.parse(text)


def test_germany_counts_three_years_from_the_end_of_the_year():
    germany = default_schedule().limitation("DE")
    assert germany.ends(utc(2026, 3, 1)) == utc(2030, 1, 1)
    # at 2030-01-01 a receipt that expired in 2026 is past, one from 2027 is not
    assert germany.cutoff(utc(2030, 1, 1)) == utc(2027, 1, 1)


def test_an_unreviewed_jurisdiction_gets_the_longest_limitation():
    longest = max(lim.period.years for lim in default_schedule().limitations.values())
    assert default_schedule().limitation("JP").period == Period(years=longest)


def test_a_period_below_its_legal_floor_is_refused_naming_it():
    with pytest.raises(ValidationFailed) as refused:
        schedule_for({"audit_log": "P1Y", "receipts.FR": "P4Y", "decision_log": "P1M"})
    pointers = {error.pointer for error in refused.value.errors}
    assert pointers == {"/audit_log", "/receipts.FR"}


def test_twelve_months_meet_a_one_year_floor():
    assert schedule_for({"receipts.DE": "P36M"}).limitation("DE").period == Period(months=36)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValidationFailed) as refused:
        schedule_for({"cookies": "P1D"})
    assert refused.value.errors[0].pointer == "/cookies"


def test_a_property_may_set_only_the_kinds_that_allow_it():
    schedule = default_schedule()
    assert schedule.checked_property_overrides({"decision_log": "p90d", "outbox_dead": ""}) == {
        "decision_log": "P90D"
    }
    with pytest.raises(ValidationFailed):
        schedule.checked_property_overrides({"audit_log": "P5Y"})


def test_the_setting_is_kind_equals_duration_pairs():
    assert parse_setting("decision_log=P90D, receipts.DE=P4Y") == {
        "decision_log": "P90D",
        "receipts.DE": "P4Y",
    }


def test_a_bad_setting_stops_the_service_at_start_up(tmp_path):
    env = {"CONSENT_INSTANCE_PATH": str(tmp_path), "CONSENT_RETENTION": "audit_log=P1M"}
    with pytest.raises(SettingsError, match="CONSENT_RETENTION: audit_log"):
        Settings.from_env(env)


def test_every_kind_has_a_reason_and_the_receipts_a_default_limitation():
    schedule = default_schedule()
    assert all(kind.reason for kind in schedule.kinds.values())
    assert "*" in schedule.limitations


def test_the_readme_table_is_the_schedules():
    text = README.read_text(encoding="utf-8")
    in_readme = text.split(START, 1)[1].split(END, 1)[0]
    assert in_readme == schedule_table(schedule_for({})), (
        "README.md's retention table is stale: run `consent-service retention table` and "
        "paste its output between the retention-table markers"
    )
