"""The receipt log is append-only and provably intact: signatures, chain links, key rotation."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import IntegrityError

from consent_service.consent.jwks import published_keys
from consent_service.consent.receipts import Issuer
from consent_service.consent.verification import verify_receipts
from consent_service.infra.signing import generate_signing_key
from consent_service.models import ConsentReceipt
from consent_service.models import SigningKeyRecord


def test_the_database_refuses_to_update_a_receipt(session, record):
    receipt = record(uuid.uuid4(), analytics=True)
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(
            sa.update(ConsentReceipt)
            .where(ConsentReceipt.id == receipt.receipt_id)
            .values(decisions={"analytics": "denied"})
        )


def test_the_database_refuses_to_delete_a_receipt(session, record):
    receipt = record(uuid.uuid4(), analytics=True)
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(sa.delete(ConsentReceipt).where(ConsentReceipt.id == receipt.receipt_id))


def test_an_untouched_log_verifies(session, record):
    visitor = uuid.uuid4()
    record(visitor, analytics=True)
    record(visitor, "withdrawal")
    record(uuid.uuid4(), "accept_all")
    report = verify_receipts(session)
    assert report.ok, report.breaks
    assert (report.receipts, report.subjects) == (3, 2)


def _drop_append_only_guard(session, dialect):
    """Simulate an attacker with database access (rolled back with the test)."""
    if dialect == "sqlite":
        session.execute(sa.text("DROP TRIGGER trg_consent_receipts_no_update"))
        session.execute(sa.text("DROP TRIGGER trg_consent_receipts_no_delete"))
    else:
        session.execute(
            sa.text("ALTER TABLE consent_receipts DISABLE TRIGGER trg_consent_receipts_append_only")
        )


def test_a_rewritten_receipt_is_reported(session, record, dialect):
    visitor = uuid.uuid4()
    first = record(visitor, analytics=True)
    _drop_append_only_guard(session, dialect)
    signed = first.jws.split(".")
    forged = generate_signing_key("test-key-1").sign({**first.payload, "decisions": {}})
    session.execute(
        sa.update(ConsentReceipt)
        .where(ConsentReceipt.id == first.receipt_id)
        .values(jws=f"{signed[0]}.{forged.split('.')[1]}.{signed[2]}")
    )
    report = verify_receipts(session)
    assert next(b.problem for b in report.breaks).startswith("signature")


def test_a_removed_receipt_breaks_the_chain(session, record, dialect):
    visitor = uuid.uuid4()
    record(visitor, analytics=True)
    middle = record(visitor, "reject_all")
    record(visitor, "accept_all")
    _drop_append_only_guard(session, dialect)
    session.execute(sa.delete(ConsentReceipt).where(ConsentReceipt.id == middle.receipt_id))
    problems = [b.problem for b in verify_receipts(session).breaks]
    assert any("a receipt is missing" in p for p in problems)
    assert any("prev does not match" in p for p in problems)


def test_a_row_that_disagrees_with_its_signed_payload_is_reported(session, record, dialect):
    receipt = record(uuid.uuid4(), analytics=True)
    _drop_append_only_guard(session, dialect)
    session.execute(
        sa.update(ConsentReceipt)
        .where(ConsentReceipt.id == receipt.receipt_id)
        .values(method="accept_all")
    )
    problems = [b.problem for b in verify_receipts(session).breaks]
    assert problems == ["row differs from the signed payload in method"]


def test_receipts_signed_before_a_key_rotation_still_verify(session, record, app):
    old_issuer = Issuer(generate_signing_key("retired-2025"), "http://consent.test")
    visitor = uuid.uuid4()
    record(visitor, analytics=True, issuer=old_issuer)
    record(visitor, "withdrawal")  # signed by the current key
    assert verify_receipts(session).ok
    configured = app.extensions["consent_settings"].signing_keys
    published = published_keys(session, configured)
    assert {"retired-2025", configured[0].kid} <= published.keys()


def test_verification_can_be_limited_to_one_subject(session, record):
    first = record(uuid.uuid4(), analytics=True)
    record(uuid.uuid4(), analytics=True)
    subject = uuid.UUID(first.payload["subject"])
    report = verify_receipts(session, subject_id=subject)
    assert (report.receipts, report.subjects) == (1, 1)


def test_the_signing_key_is_published_when_the_service_starts(session, app):
    kid = app.extensions["consent_settings"].signing_keys[0].kid
    assert session.get(SigningKeyRecord, kid) is not None


def test_a_new_issuer_registers_its_key_with_its_first_receipt(session, record):
    issuer = Issuer(generate_signing_key("fresh-key"), "http://consent.test")
    record(uuid.uuid4(), analytics=True, issuer=issuer)
    assert session.get(SigningKeyRecord, "fresh-key") is not None


def test_an_issuer_whose_key_row_vanished_registers_it_again(session, record):
    issuer = Issuer(generate_signing_key("vanishing-key"), "http://consent.test")
    issuer._registered = True  # as after a start-up registration, before a database restore
    with pytest.raises(IntegrityError), session.begin_nested():
        record(uuid.uuid4(), analytics=True, issuer=issuer)
    record(uuid.uuid4(), analytics=True, issuer=issuer)
    assert session.get(SigningKeyRecord, "vanishing-key") is not None
