"""Admin account rules against the database: lock-out, rehashing, TOTP replay."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from argon2 import PasswordHasher

from consent_service.infra.audit import Actor
from consent_service.staff.accounts import LOCK_DURATION
from consent_service.staff.accounts import MAX_FAILED_ATTEMPTS
from consent_service.staff.accounts import SignInFailed
from consent_service.staff.accounts import authenticate
from consent_service.staff.accounts import create_user
from consent_service.staff.accounts import verify_totp
from tests.integration.test_admin_support import PASSWORD
from tests.integration.test_admin_support import make_admin

NOW = dt.datetime(2026, 11, 23, 12, 0, 0, tzinfo=dt.UTC)


def test_the_lock_lifts_after_fifteen_minutes(session, vault):
    user, _ = make_admin(session, vault, "viewer")
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(SignInFailed):
            authenticate(session, user.email, "wrong password", now=NOW)
    with pytest.raises(SignInFailed):
        authenticate(session, user.email, PASSWORD, now=NOW + LOCK_DURATION - dt.timedelta(1))
    assert authenticate(session, user.email, PASSWORD, now=NOW + LOCK_DURATION) is user


def test_a_correct_password_resets_the_failure_count(session, vault):
    user, _ = make_admin(session, vault, "viewer")
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(SignInFailed):
            authenticate(session, user.email, "wrong password", now=NOW)
    authenticate(session, user.email, PASSWORD, now=NOW)
    assert user.failed_attempts == 0 and user.locked_until is None


def test_a_hash_made_with_old_parameters_is_upgraded_at_sign_in(session):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    user = create_user(
        session,
        Actor("test"),
        email="old@example.com",
        role="viewer",
        password=PASSWORD,
        hasher=weak,
    )
    old_hash = user.password_hash
    authenticate(session, "old@example.com", PASSWORD, now=NOW)
    assert user.password_hash != old_hash
    assert not PasswordHasher().check_needs_rehash(user.password_hash)


def test_the_app_hashes_with_the_recommended_parameters_unless_given_a_hasher(tmp_path):
    from consent_service import create_app
    from tests.support import make_settings
    from tests.support import shut_down

    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'hasher.db'}"))
    try:
        production_hash = PasswordHasher().hash(PASSWORD)
        assert not app.extensions["password_hasher"].check_needs_rehash(production_hash)
    finally:
        shut_down(app)


def test_a_disabled_account_cannot_sign_in(session, vault):
    user, _ = make_admin(session, vault, "viewer")
    user.disabled_at = NOW
    with pytest.raises(SignInFailed):
        authenticate(session, user.email, PASSWORD, now=NOW)


def test_a_code_is_accepted_once_and_an_older_one_never_after(session, vault):
    user, secret = make_admin(session, vault, "admin")
    totp = pyotp.TOTP(secret)
    assert verify_totp(session, vault, user, totp.at(NOW), now=NOW)
    assert not verify_totp(session, vault, user, totp.at(NOW), now=NOW)
    earlier = NOW - dt.timedelta(seconds=30)
    assert not verify_totp(session, vault, user, totp.at(earlier), now=NOW)
    later = NOW + dt.timedelta(seconds=30)
    assert verify_totp(session, vault, user, totp.at(later), now=later)
    assert user.totp_last_step == int(later.timestamp()) // 30


def test_the_totp_secret_is_stored_encrypted_and_bound_to_its_account(session, vault):
    user, secret = make_admin(session, vault, "admin")
    other, _ = make_admin(session, vault, "admin")
    assert secret.encode() not in user.totp_secret_ciphertext
    other.totp_secret_ciphertext = user.totp_secret_ciphertext  # copied to another row
    from consent_service.infra.pii import UndecryptableData

    with pytest.raises(UndecryptableData):
        verify_totp(session, vault, other, pyotp.TOTP(secret).at(NOW), now=NOW)
