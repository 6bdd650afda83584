"""Helpers for the admin tests (no tests here): accounts made straight in the database, and a
test client that signs in and sends each form with its CSRF token, as a browser would."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import pyotp
import sqlalchemy as sa

from consent_service.infra.audit import Actor
from consent_service.models import AdminUser
from consent_service.models import AuditEntry
from consent_service.staff.accounts import totp_required
from tests.support import TEST_PASSWORD_HASHER

PASSWORD = "long enough password 1"
SETUP = Actor(name="test-setup")


def make_admin(session, vault, role="admin", *, email=None, enrolled=None, password=PASSWORD):
    """A committed account; ``enrolled`` (default: when the role requires it) gives it a TOTP
    secret, returned alongside (or None)."""
    from consent_service.staff.accounts import create_user

    user = create_user(
        session,
        SETUP,
        email=email or f"{role}-{uuid.uuid4().hex[:8]}@example.com",
        role=role,
        password=password,
        name=role.title(),
        hasher=TEST_PASSWORD_HASHER,
    )
    secret = None
    if enrolled if enrolled is not None else totp_required(role):
        secret = pyotp.random_base32()
        user.totp_secret_ciphertext = vault.cipher.encrypt(secret, context=f"admin-totp:{user.id}")
        user.totp_enrolled_at = dt.datetime.now(dt.UTC)
    session.commit()
    return user, secret


def current_code(secret: str) -> str:
    return pyotp.TOTP(secret).now()


def wrong_code(secret: str) -> str:
    """A six-digit code valid in none of the accepted steps."""
    totp = pyotp.TOTP(secret)
    now = dt.datetime.now(dt.UTC)
    valid = {totp.at(now + dt.timedelta(seconds=30 * offset)) for offset in (-2, -1, 0, 1, 2)}
    return next(code for code in (f"{n:06d}" for n in range(1000000)) if code not in valid)


class AdminClient:
    """A test client from its own (random) address, so per-IP sign-in limits never carry
    over from one test to the next."""

    def __init__(self, app):
        address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
        self.client = app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = address

    def csrf(self) -> str | None:
        with self.client.session_transaction("/admin/") as stored:
            return stored.get("csrf_token")

    def get(self, path, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path, data=None, *, csrf=True, **kwargs):
        if self.csrf() is None:
            self.client.get("/admin/sign-in")  # a browser has the form (and its token) first
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf())
        return self.client.post(path, data=form, **kwargs)

    def sign_in(self, email, password=PASSWORD, secret=None, *, code=None):
        """Submits both steps; returns the last response (not followed)."""
        response = self.post("/admin/sign-in", {"email": email, "password": password})
        if response.status_code != 302 or not response.location.endswith("/admin/sign-in/code"):
            return response
        return self.post("/admin/sign-in/code", {"code": code or current_code(secret)})

    def session_value(self, key):
        with self.client.session_transaction("/admin/") as stored:
            return stored.get(key)


def signed_in(app, session, role, **account):
    """A client signed in (both steps) to a new committed account of ``role``."""
    user, secret = make_admin(session, app.extensions["vault"], role, **account)
    client = AdminClient(app)
    client.sign_in(user.email, secret=secret)
    return client


def audit_entries(session, action=None):
    session.expire_all()
    query = sa.select(AuditEntry).order_by(AuditEntry.at)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(session.scalars(query))


def reload(session, user) -> AdminUser:
    session.expire_all()
    return session.get(AdminUser, user.id)
