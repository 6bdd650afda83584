"""Admin accounts in the live server's database, and signing in as a person would."""

from __future__ import annotations

import uuid
from typing import Any

import pyotp
from axe_playwright_python.sync_playwright import Axe

from consent_service.extensions import db
from tests.integration.test_admin_support import PASSWORD
from tests.integration.test_admin_support import make_admin


def admin_account(live_server: Any, role: str, **account: Any) -> tuple[str, str | None]:
    """A new committed account of ``role``: (email, TOTP secret or None)."""
    with live_server.app.app_context():
        user, secret = make_admin(
            db.session(),
            live_server.app.extensions["vault"],
            role,
            email=f"{role}-{uuid.uuid4().hex[:8]}@example.com",
            **account,
        )
        email = user.email
        db.session.remove()
    return email, secret


def password_step(page: Any, url: str, email: str) -> None:
    page.goto(f"{url}/admin/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()


def sign_in(page: Any, url: str, email: str, secret: str | None) -> None:
    """Both steps (only the password for a role without a second factor)."""
    password_step(page, url, email)
    if secret is None:
        page.wait_for_url("**/admin/")
        return
    page.wait_for_url("**/admin/sign-in/code")
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/")


def no_violations(page: Any) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
