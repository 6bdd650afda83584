"""Admin account rules that need no database: roles, passwords, TOTP codes, session binding."""

from __future__ import annotations

import datetime as dt
import uuid

import pyotp
import pytest

from consent_service.infra.audit import redact
from consent_service.models import AdminUser
from consent_service.staff.accounts import Permission
from consent_service.staff.accounts import WeakPassword
from consent_service.staff.accounts import _matching_step
from consent_service.staff.accounts import can
from consent_service.staff.accounts import check_password_strength
from consent_service.staff.accounts import enrolment_for
from consent_service.staff.accounts import generate_password
from consent_service.staff.accounts import totp_required

ROLES = ["viewer", "editor", "publisher", "admin"]
EXPECTED = {
    Permission.VIEW: {"viewer", "editor", "publisher", "admin"},
    Permission.EDIT: {"editor", "publisher", "admin"},
    Permission.PUBLISH: {"publisher", "admin"},
    Permission.MANAGE_USERS: {"admin"},
    Permission.VIEW_AUDIT: {"admin"},
    Permission.MANAGE_INTEGRATIONS: {"admin"},
}


@pytest.mark.parametrize("permission", list(Permission))
def test_each_permission_belongs_to_its_role_and_every_higher_one(permission):
    assert {role for role in ROLES if can(role, permission)} == EXPECTED[permission]


def test_totp_is_required_from_publisher_up():
    assert [totp_required(role) for role in ROLES] == [False, False, True, True]


@pytest.mark.parametrize(
    "password", ["short", "aaaaaaaaaaaaaaaa", "ababababababab", "ada-was-here-2026"]
)
def test_weak_passwords_are_refused(password):
    with pytest.raises(WeakPassword):
        check_password_strength(password, email="ada-was-here@example.com")


def test_a_long_varied_password_is_accepted():
    check_password_strength("correct horse battery", email="ada@example.com")


def test_generated_passwords_are_long_and_different():
    first, second = generate_password(), generate_password()
    assert len(first) >= 20 and first != second
    check_password_strength(first)


NOW = dt.datetime(2026, 11, 23, 12, 0, 15, tzinfo=dt.UTC)
SECRET = pyotp.random_base32()


@pytest.mark.parametrize("offset", [-30, 0, 30])
def test_a_code_from_the_previous_current_or_next_step_matches(offset):
    code = pyotp.TOTP(SECRET).at(NOW + dt.timedelta(seconds=offset))
    assert _matching_step(SECRET, code, NOW) == int(NOW.timestamp()) // 30 + offset // 30


@pytest.mark.parametrize("offset", [-90, -60, 60, 90])
def test_a_code_two_steps_away_does_not_match(offset):
    code = pyotp.TOTP(SECRET).at(NOW + dt.timedelta(seconds=offset))
    window = {pyotp.TOTP(SECRET).at(NOW + dt.timedelta(seconds=s)) for s in (-30, 0, 30)}
    if code not in window:  # a collision in 10^6 is possible, and then meaningless
        assert _matching_step(SECRET, code, NOW) is None


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef"])
def test_malformed_codes_never_match(code):
    assert _matching_step(SECRET, code, NOW) is None


def test_spaces_in_a_typed_code_are_ignored():
    code = pyotp.TOTP(SECRET).at(NOW)
    assert _matching_step(SECRET, f"{code[:3]} {code[3:]}", NOW) is not None


def _user(**fields):
    values = {
        "id": uuid.uuid4(),
        "email": "ada@example.com",
        "role": "editor",
        "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$abc$def",
        "totp_secret_ciphertext": None,
        "totp_enrolled_at": None,
        "disabled_at": None,
    }
    return AdminUser(**{**values, **fields})


def test_enrolment_offers_a_provisioning_uri_and_an_svg_qr_code():
    enrolment = enrolment_for(_user(), SECRET)
    assert enrolment.provisioning_uri.startswith("otpauth://totp/")
    assert f"secret={SECRET}" in enrolment.provisioning_uri
    assert enrolment.qr_svg.startswith("<svg")
    assert enrolment.qr_data_uri.startswith("data:image/svg+xml")
    assert SECRET not in repr(enrolment)


def test_redaction_keeps_flags_and_hides_secret_values():
    assert redact({"password_changed": True, "totp_secret": "ABC", "name": "x"}) == {
        "password_changed": True,
        "totp_secret": "[redacted]",
        "name": "x",
    }
