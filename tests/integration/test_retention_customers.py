"""The retention job and customers (identities): a customer none of whose browsers has a
receipt left goes a month after their last change, their person key shredded first (a copy of
their ciphertexts taken before, as in a backup, no longer opens); a customer something still
needs stays; a second run does nothing."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from consent_service.integrations.identity import Claims
from consent_service.integrations.identity import link_identity
from consent_service.messaging.campaigns import set_subscription
from consent_service.models import EmailSubscription
from consent_service.models import ErasureRequest
from consent_service.models import Identity
from consent_service.models import MagicLink
from consent_service.models import OutboxMessage
from consent_service.models import Subject
from consent_service.retention.job import run_retention
from consent_service.retention.schedule import schedule_for
from tests.integration import retention_support as history
from tests.integration.retention_support import DAY
from tests.integration.retention_support import YEAR

SCHEDULE = schedule_for({})


@pytest.fixture
def now(session) -> dt.datetime:
    return history.policy_in_effect_since(session) + 12 * YEAR


def run(session, vault, now):
    return run_retention(session, SCHEDULE, now=now, person_keys=vault.people)


def customer(session, vault, *, at: dt.datetime, browser: uuid.UUID | None) -> Identity:
    """A customer linked at ``at`` (to the browser of subject ``browser``, if given), with an
    email and a customer reference sealed with their own key, and a refused email list."""
    pid = history.demo_property(session).id
    visitor = session.get(Subject, browser).visitor_id if browser else None
    tag = uuid.uuid4().hex[:8]
    link = link_identity(
        session, vault, pid, Claims(f"c-{tag}", f"{tag}@example.com"), visitor_id=visitor, now=at
    )
    set_subscription(
        session, link.identity_id, "newsletter", subscribed=False, source="preferences", now=at
    )
    found = session.get(Identity, link.identity_id)
    assert found is not None
    return found


def gone(session, identity_id) -> bool:
    session.expire_all()
    return session.get(Identity, identity_id) is None


def test_a_customer_goes_a_month_after_their_last_browsers_receipts_with_their_key(
    session, vault, issuer, now
):
    browser = history.chain(session, issuer, region="FR", at=[now - 7 * YEAR])
    person = customer(session, vault, at=now - 7 * YEAR, browser=browser)
    person_id = person.id
    backup = (person_id, person.property_id, "email", person.email_ciphertext)
    assert vault.open(*backup) is not None

    first = run(session, vault, now)
    assert first.counts["receipts"] == 1
    assert "identities" not in first.counts  # its period counts from its last chain's purge
    assert not gone(session, person_id)

    within = run(session, vault, now + 29 * DAY)
    assert "identities" not in within.counts and not gone(session, person_id)

    after = run(session, vault, now + 31 * DAY)
    assert after.counts["identities"] == 1
    assert after.counts["person_keys_shredded"] == 1
    assert gone(session, person_id)
    assert vault.people.keys_of([person_id]) == {}
    assert vault.open(*backup) is None  # the backup's copy is sealed
    lists = sa.select(sa.func.count()).where(EmailSubscription.identity_id == person_id)
    assert session.scalar(lists) == 0
    assert session.get(Subject, browser).identity_id is None

    again = run(session, vault, now + 31 * DAY)
    assert again.counts == {}


def test_a_customer_who_never_chose_goes_and_their_browser_is_unlinked(session, vault, now):
    pid = history.demo_property(session).id
    visitor = uuid.uuid4()
    link = link_identity(
        session,
        vault,
        pid,
        Claims("c-never", "never@example.com"),
        visitor_id=visitor,
        now=now - 2 * 30 * DAY,
    )
    report = run(session, vault, now)
    assert report.counts["identities"] == 1
    assert gone(session, link.identity_id)
    subject = session.get(Subject, link.subject_id)
    assert subject.identity_id is None and subject.purged_at == now
    assert subject.visitor_id != visitor


def test_a_customer_with_a_browser_still_holding_receipts_stays(session, vault, issuer, now):
    browser = history.chain(session, issuer, region="FR", at=[now - 30 * DAY])
    person = customer(session, vault, at=now - 2 * YEAR, browser=browser)
    assert "identities" not in run(session, vault, now).counts
    assert not gone(session, person.id)
    assert vault.people.keys_of([person.id]) != {}


def _erasure_record(session, person, now):
    session.add(
        ErasureRequest(
            property_id=person.property_id,
            identity_id=person.id,
            jurisdiction="FR",
            law="GDPR Art. 12(3), Art. 17",
            requested_at=now - YEAR,
            due_at=now - YEAR + 30 * DAY,
            completed_at=now - YEAR,
            source="preferences-page",
        )
    )


def _pending_email(session, person, now):
    session.add(
        OutboxMessage(
            property_id=person.property_id,
            channel="email",
            identity_id=person.id,
            event_type="policy.notice",
            payload="{}",
            status="pending",
            next_attempt_at=now,
        )
    )


def _newsletter(session, person, now):
    set_subscription(
        session, person.id, "newsletter", subscribed=True, source="preferences", now=now
    )


def _sign_in_link(session, person, now):
    session.add(
        MagicLink(
            property_id=person.property_id,
            identity_id=person.id,
            created_at=now - dt.timedelta(minutes=1),
            expires_at=now + dt.timedelta(minutes=14),
        )
    )


@pytest.mark.parametrize(
    "keeps", [_erasure_record, _pending_email, _newsletter, _sign_in_link], ids=lambda f: f.__name__
)
def test_a_customer_something_still_needs_stays(session, vault, now, keeps):
    person = customer(session, vault, at=now - YEAR, browser=None)
    keeps(session, person, now)
    session.flush()
    assert "identities" not in run(session, vault, now).counts
    assert not gone(session, person.id)
    assert vault.people.keys_of([person.id]) != {}
