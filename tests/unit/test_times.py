"""Times in JSON: RFC 3339, UTC, "Z", in the two precisions signed payloads use."""

from __future__ import annotations

import datetime as dt

from consent_service.infra.times import rfc3339_millis
from consent_service.infra.times import rfc3339_seconds

MOMENT = dt.datetime(2025, 1, 31, 9, 30, 0, 123456, tzinfo=dt.UTC)


def test_seconds_drop_the_fraction():
    assert rfc3339_seconds(MOMENT) == "2025-01-31T09:30:00Z"


def test_milliseconds_truncate_the_microseconds():
    assert rfc3339_millis(MOMENT) == "2025-01-31T09:30:00.123Z"


def test_a_whole_second_still_shows_its_milliseconds():
    assert rfc3339_millis(MOMENT.replace(microsecond=0)) == "2025-01-31T09:30:00.000Z"


def test_another_zone_is_stated_in_utc():
    paris = dt.timezone(dt.timedelta(hours=1))
    assert rfc3339_seconds(MOMENT.astimezone(paris)) == "2025-01-31T09:30:00Z"


def test_milliseconds_of_another_zone_are_stated_in_utc_too():
    paris = dt.timezone(dt.timedelta(hours=1))
    assert rfc3339_millis(MOMENT.astimezone(paris)) == "2025-01-31T09:30:00.123Z"
    assert rfc3339_millis(MOMENT.astimezone(dt.timezone(dt.timedelta(0)))) == (
        "2025-01-31T09:30:00.123Z"
    )
