"""Signing in to the admin: password, then the second factor (or enrolling one), lock-out,
replayed codes, timeouts, and sessions bound to the account's current state."""

from __future__ import annotations

import pyotp
import pytest
import sqlalchemy as sa

from consent_service.models import AdminUser
from consent_service.models import WebSession
from consent_service.staff.accounts import MAX_FAILED_ATTEMPTS
from consent_service.staff.accounts import SIGN_IN_FAILED
from tests.integration.test_admin_support import PASSWORD
from tests.integration.test_admin_support import AdminClient
from tests.integration.test_admin_support import current_code
from tests.integration.test_admin_support import make_admin
from tests.integration.test_admin_support import reload
from tests.integration.test_admin_support import wrong_code


@pytest.fixture
def browser(app):
    return AdminClient(app)


def test_password_then_totp_signs_in(browser, session, vault):
    user, secret = make_admin(session, vault, "admin")
    first = browser.post("/admin/sign-in", {"email": user.email, "password": PASSWORD})
    assert first.status_code == 302 and first.location.endswith("/admin/sign-in/code")
    assert browser.get("/admin/").location.endswith("/admin/sign-in/code")  # not yet

    second = browser.post("/admin/sign-in/code", {"code": current_code(secret)})
    assert second.status_code == 302 and second.location.endswith("/admin/")
    home = browser.get("/admin/")
    assert home.status_code == 200
    assert b"Users" in home.data and b"Audit log" in home.data
    assert reload(session, user).last_sign_in_at is not None


def test_the_email_is_matched_case_insensitively(browser, session, vault):
    user, _ = make_admin(session, vault, "viewer")
    response = browser.post("/admin/sign-in", {"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302 and response.location.endswith("/admin/")


def test_a_wrong_password_does_not_sign_in_and_counts(browser, session, vault):
    user, _ = make_admin(session, vault, "viewer")
    response = browser.post("/admin/sign-in", {"email": user.email, "password": "not it at all"})
    assert response.status_code == 200
    assert SIGN_IN_FAILED.encode() in response.data
    assert browser.get("/admin/").status_code == 302
    assert reload(session, user).failed_attempts == 1


def test_an_unknown_email_gets_the_same_answer_as_a_wrong_password(browser, session, vault):
    user, _ = make_admin(session, vault, "viewer")
    wrong = browser.post("/admin/sign-in", {"email": user.email, "password": "not it at all"})
    unknown = browser.post("/admin/sign-in", {"email": "nobody@example.com", "password": "x"})
    assert unknown.status_code == wrong.status_code
    assert SIGN_IN_FAILED.encode() in unknown.data


def test_a_wrong_totp_code_does_not_sign_in(browser, session, vault):
    user, secret = make_admin(session, vault, "publisher")
    response = browser.sign_in(user.email, secret=secret, code=wrong_code(secret))
    assert response.status_code == 200
    assert b"That code is not right" in response.data
    assert browser.get("/admin/").location.endswith("/admin/sign-in/code")
    assert reload(session, user).failed_attempts == 1


def test_a_totp_code_is_accepted_only_once(app, session, vault):
    user, secret = make_admin(session, vault, "admin")
    code = current_code(secret)
    first = AdminClient(app)
    assert first.sign_in(user.email, code=code).location.endswith("/admin/")

    replay = AdminClient(app)
    response = replay.sign_in(user.email, code=code)
    assert response.status_code == 200
    assert b"used already" in response.data
    assert replay.get("/admin/").status_code == 302


def test_five_failures_lock_the_account_even_for_the_right_password(browser, session, vault):
    user, _ = make_admin(session, vault, "viewer")
    for _ in range(MAX_FAILED_ATTEMPTS):
        browser.post("/admin/sign-in", {"email": user.email, "password": "wrong password!"})
    assert reload(session, user).locked_until is not None

    locked = browser.post("/admin/sign-in", {"email": user.email, "password": PASSWORD})
    unknown = browser.post("/admin/sign-in", {"email": "nobody@example.com", "password": "x"})
    assert locked.status_code == 200 and SIGN_IN_FAILED.encode() in locked.data
    assert locked.data.replace(user.email.encode(), b"") == unknown.data.replace(
        b"nobody@example.com", b""
    )
    assert browser.get("/admin/").status_code == 302


def test_wrong_totp_codes_lock_the_account_and_end_the_attempt(browser, session, vault):
    user, secret = make_admin(session, vault, "admin")
    browser.post("/admin/sign-in", {"email": user.email, "password": PASSWORD})
    for _ in range(MAX_FAILED_ATTEMPTS):
        last = browser.post("/admin/sign-in/code", {"code": wrong_code(secret)})
    assert last.location.endswith("/admin/sign-in")
    assert reload(session, user).locked_until is not None
    again = browser.sign_in(user.email, secret=secret)
    assert SIGN_IN_FAILED.encode() in again.data


@pytest.mark.parametrize("role", ["publisher", "admin"])
def test_publishers_and_admins_must_enrol_totp_before_anything_else(browser, session, vault, role):
    user, _ = make_admin(session, vault, role, enrolled=False)
    response = browser.post("/admin/sign-in", {"email": user.email, "password": PASSWORD})
    assert response.location.endswith("/admin/enrol")
    for path in ("/admin/", "/admin/account/", "/admin/users/", "/admin/audit/"):
        assert browser.get(path).location.endswith("/admin/enrol"), path

    page = browser.get("/admin/enrol")
    assert page.status_code == 200
    assert b'src="data:image/svg+xml' in page.data
    secret = page.data.split(b'id="totp-secret">')[1].split(b"<")[0].decode()
    confirmed = browser.post("/admin/enrol", {"code": pyotp.TOTP(secret).now()})
    assert confirmed.location.endswith("/admin/")
    assert browser.get("/admin/").status_code == 200
    assert reload(session, user).totp_enrolled_at is not None


def test_a_wrong_code_does_not_complete_enrolment(browser, session, vault):
    user, _ = make_admin(session, vault, "admin", enrolled=False)
    browser.post("/admin/sign-in", {"email": user.email, "password": PASSWORD})
    page = browser.get("/admin/enrol")
    secret = page.data.split(b'id="totp-secret">')[1].split(b"<")[0].decode()
    response = browser.post("/admin/enrol", {"code": wrong_code(secret)})
    assert response.status_code == 200 and b"That code is not right" in response.data
    assert reload(session, user).totp_enrolled_at is None


def test_viewers_and_editors_without_totp_sign_in_with_the_password(browser, session, vault):
    user, _ = make_admin(session, vault, "editor")
    response = browser.post("/admin/sign-in", {"email": user.email, "password": PASSWORD})
    assert response.location.endswith("/admin/")
    assert browser.get("/admin/").status_code == 200


def test_an_idle_session_ends(browser, session, vault, app, session_clock):
    user, secret = make_admin(session, vault, "admin")
    browser.sign_in(user.email, secret=secret)
    idle = app.extensions["consent_settings"].admin_idle_minutes * 60
    session_clock.advance(seconds=idle + 1)
    response = browser.get("/admin/")
    assert response.status_code == 302 and response.location.endswith("/admin/sign-in")
    assert b"inactivity" in browser.get("/admin/sign-in").data


def test_a_session_ends_after_its_absolute_lifetime_even_when_active(
    browser, session, vault, session_clock
):
    user, secret = make_admin(session, vault, "admin")
    browser.sign_in(user.email, secret=secret)
    for _ in range(24):  # a request every 29 minutes, for almost twelve hours
        session_clock.advance(minutes=29)
        assert browser.get("/admin/").status_code == 200
    session_clock.advance(minutes=12 * 60 - 24 * 29, seconds=1)
    assert browser.get("/admin/").location.endswith("/admin/sign-in")
    assert b"maximum length" in browser.get("/admin/sign-in").data


def test_activity_keeps_a_session_alive(browser, session, vault, session_clock):
    user, secret = make_admin(session, vault, "admin")
    browser.sign_in(user.email, secret=secret)
    session_clock.advance(minutes=29)
    assert browser.get("/admin/").status_code == 200
    session_clock.advance(minutes=29)
    assert browser.get("/admin/").status_code == 200


def test_a_visit_is_recorded_at_most_once_a_minute(browser, session, vault, session_clock):
    user, secret = make_admin(session, vault, "admin")
    browser.sign_in(user.email, secret=secret)
    (signed_in_at,) = last_seen(session, user)
    session_clock.advance(seconds=30)
    browser.get("/admin/")
    assert last_seen(session, user) == [signed_in_at]
    session_clock.advance(seconds=30)
    browser.get("/admin/")
    assert last_seen(session, user) == [session_clock.now]


def test_signing_in_prunes_the_records_of_sessions_that_have_ended(
    app, session, vault, session_clock
):
    gone, _ = make_admin(session, vault, "viewer")
    AdminClient(app).sign_in(gone.email)
    session_clock.advance(minutes=app.extensions["consent_settings"].admin_idle_minutes, seconds=1)
    user, _ = make_admin(session, vault, "viewer")
    AdminClient(app).sign_in(user.email)
    session.expire_all()
    owners = session.scalars(sa.select(WebSession.admin_user_id))
    assert gone.id not in set(owners)


def test_signing_out_ends_the_session(browser, session, vault):
    user, secret = make_admin(session, vault, "admin")
    browser.sign_in(user.email, secret=secret)
    assert browser.post("/admin/sign-out").location.endswith("/admin/sign-in")
    assert browser.get("/admin/").location.endswith("/admin/sign-in")


def test_a_cookie_copied_before_sign_out_opens_nothing_afterwards(app, session, vault):
    user, secret = make_admin(session, vault, "admin")
    browser = AdminClient(app)
    browser.sign_in(user.email, secret=secret)
    copied = browser.client.get_cookie("consent_admin", path="/admin").value
    assert browser.get("/admin/dashboard/").status_code == 200
    browser.post("/admin/sign-out")

    thief = AdminClient(app)
    thief.client.set_cookie("consent_admin", copied, path="/admin")
    response = thief.get("/admin/dashboard/")
    assert response.status_code == 302 and response.location.endswith("/admin/sign-in")


def test_the_cookie_carries_only_the_session_id(browser, session, vault):
    user, secret = make_admin(session, vault, "admin")
    browser.sign_in(user.email, secret=secret)
    with browser.client.session_transaction("/admin/") as stored:
        assert set(stored) == {"sid", "csrf_token", "_permanent"}
    ids = session.scalars(sa.select(WebSession.id).where(WebSession.admin_user_id == user.id))
    assert browser.session_value("sid") not in set(ids)  # the table holds only its hash


def test_each_sign_in_step_gets_a_new_session_id(browser, session, vault):
    user, secret = make_admin(session, vault, "admin")
    browser.post("/admin/sign-in", {"email": user.email, "password": PASSWORD})
    after_password = browser.session_value("sid")
    browser.post("/admin/sign-in/code", {"code": current_code(secret)})
    assert browser.session_value("sid") not in (None, after_password)
    assert live_sessions(session, user) == 1


def test_disabling_a_user_ends_their_session(app, session, vault):
    admin, admin_secret = make_admin(session, vault, "admin")
    editor, _ = make_admin(session, vault, "editor")
    theirs = AdminClient(app)
    theirs.sign_in(editor.email)
    assert theirs.get("/admin/").status_code == 200

    mine = AdminClient(app)
    mine.sign_in(admin.email, secret=admin_secret)
    assert mine.post(f"/admin/users/{editor.id}/disable").status_code == 302
    assert theirs.get("/admin/").location.endswith("/admin/sign-in")
    assert SIGN_IN_FAILED.encode() in theirs.sign_in(editor.email).data


def test_changing_a_users_role_ends_their_session(app, session, vault):
    admin, admin_secret = make_admin(session, vault, "admin")
    editor, _ = make_admin(session, vault, "editor")
    theirs = AdminClient(app)
    theirs.sign_in(editor.email)
    mine = AdminClient(app)
    mine.sign_in(admin.email, secret=admin_secret)
    mine.post(f"/admin/users/{editor.id}/role", {"role": "viewer"})
    assert theirs.get("/admin/").location.endswith("/admin/sign-in")


def test_a_reset_second_factor_ends_the_users_sessions(app, session, vault):
    admin, admin_secret = make_admin(session, vault, "admin")
    publisher, publisher_secret = make_admin(session, vault, "publisher")
    theirs = AdminClient(app)
    theirs.sign_in(publisher.email, secret=publisher_secret)
    mine = AdminClient(app)
    mine.sign_in(admin.email, secret=admin_secret)
    mine.post(f"/admin/users/{publisher.id}/reset-totp")
    assert theirs.get("/admin/").location.endswith("/admin/sign-in")
    assert mine.get("/admin/").status_code == 200


def test_re_enrolling_the_second_factor_keeps_this_session_and_ends_the_others(app, session, vault):
    user, old_secret = make_admin(session, vault, "admin")
    other = AdminClient(app)
    other.sign_in(user.email, secret=old_secret)
    this = AdminClient(app)
    this.post("/admin/sign-in", {"email": user.email, "password": PASSWORD})
    session.execute(sa.update(AdminUser).values(totp_last_step=None))  # the same code again
    session.commit()
    this.post("/admin/sign-in/code", {"code": current_code(old_secret)})
    this.post("/admin/account/totp")
    page = this.get("/admin/enrol")
    secret = page.data.split(b'id="totp-secret">')[1].split(b"<")[0].decode()
    assert this.post("/admin/enrol", {"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert this.get("/admin/").status_code == 200
    assert other.get("/admin/").location.endswith("/admin/sign-in")


def test_changing_ones_password_keeps_this_session_and_ends_the_others(app, session, vault):
    user, _ = make_admin(session, vault, "viewer")
    other = AdminClient(app)
    other.sign_in(user.email)
    this = AdminClient(app)
    this.sign_in(user.email)
    new = "a brand new password 2"
    response = this.post(
        "/admin/account/password",
        {"current_password": PASSWORD, "new_password": new, "confirm_password": new},
    )
    assert response.status_code == 302
    assert this.get("/admin/account/").status_code == 200
    assert other.get("/admin/").location.endswith("/admin/sign-in")
    assert AdminClient(app).sign_in(user.email, password=new).location.endswith("/admin/")


def test_signing_in_starts_a_new_session_with_a_new_csrf_token(browser, session, vault):
    user, secret = make_admin(session, vault, "admin")
    browser.get("/admin/sign-in")
    before = browser.csrf()
    browser.sign_in(user.email, secret=secret)
    assert browser.csrf() not in (None, before)


def test_sign_in_attempts_are_limited_per_address(browser, session, vault):
    for _ in range(10):
        browser.post("/admin/sign-in", {"email": "nobody@example.com", "password": "whatever"})
    response = browser.post("/admin/sign-in", {"email": "nobody@example.com", "password": "x"})
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert int(response.headers["Retry-After"]) >= 1


def last_seen(session, user) -> list:
    session.expire_all()
    query = sa.select(WebSession.last_seen_at).where(
        WebSession.admin_user_id == user.id, WebSession.revoked_at.is_(None)
    )
    return list(session.scalars(query))


def live_sessions(session, user) -> int:
    session.expire_all()
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(WebSession)
        .where(WebSession.admin_user_id == user.id, WebSession.revoked_at.is_(None))
    )
