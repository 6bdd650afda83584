"""The Users page: admins create accounts, change roles, disable, reset second factors; each
change writes an audit entry with before and after, and never a secret."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from consent_service.models import AdminUser
from tests.integration.test_admin_support import AdminClient
from tests.integration.test_admin_support import audit_entries
from tests.integration.test_admin_support import make_admin
from tests.integration.test_admin_support import reload

SECRETS = ("argon2", "password_hash", "totp_secret", "$argon2id")


@pytest.fixture
def admin(app, session, vault):
    user, secret = make_admin(session, vault, "admin")
    client = AdminClient(app)
    client.sign_in(user.email, secret=secret)
    return user, client


def _no_secrets(entry, *plaintexts):
    text = json.dumps([entry.before, entry.after])
    for needle in (*SECRETS, *plaintexts):
        assert needle not in text, needle


def test_the_users_page_lists_accounts(admin, session, vault):
    other, _ = make_admin(session, vault, "editor")
    page = admin[1].get("/admin/users/")
    assert page.status_code == 200
    assert other.email.encode() in page.data and admin[0].email.encode() in page.data


def test_creating_a_user_with_a_password_is_audited_without_the_password(admin, session):
    user, client = admin
    password = "an initial password 9"
    response = client.post(
        "/admin/users/",
        {"email": "Ada@Example.com", "name": "Ada", "role": "editor", "password": password},
    )
    assert response.status_code == 302
    created = session.scalar(sa.select(AdminUser).where(AdminUser.email == "ada@example.com"))
    assert created.role == "editor" and created.password_hash.startswith("$argon2id$")
    entry = audit_entries(session, "admin_user.create")[-1]
    assert entry.actor == user.email and entry.admin_user_id == user.id
    assert entry.target_type == "admin_user" and entry.target_id == str(created.id)
    assert entry.before is None
    assert entry.after == {
        "email": "ada@example.com",
        "name": "Ada",
        "role": "editor",
        "disabled": False,
        "totp_enrolled": False,
    }
    assert entry.network and entry.network.endswith(".0/24")
    assert entry.request_id
    _no_secrets(entry, password)


def test_creating_a_user_without_a_password_shows_a_generated_one_once(admin, session, app):
    response = admin[1].post("/admin/users/", {"email": "gen@example.com", "role": "viewer"})
    assert response.status_code == 200
    password = response.data.split(b'id="generated-password">')[1].split(b"<")[0].decode()
    assert len(password) >= 20
    assert (
        AdminClient(app).sign_in("gen@example.com", password=password).location.endswith("/admin/")
    )
    assert password.encode() not in admin[1].get("/admin/users/").data


def test_a_weak_password_is_refused(admin, session):
    response = admin[1].post(
        "/admin/users/", {"email": "weak@example.com", "role": "viewer", "password": "short"}
    )
    assert response.status_code == 422
    assert b"at least 12 characters" in response.data
    assert session.scalar(sa.select(AdminUser).where(AdminUser.email == "weak@example.com")) is None


def test_an_email_can_have_only_one_account(admin, session, vault):
    other, _ = make_admin(session, vault, "viewer")
    response = admin[1].post(
        "/admin/users/", {"email": other.email, "role": "viewer", "password": "a fine password 42"}
    )
    assert response.status_code == 422 and b"exists already" in response.data


def test_changing_a_role_is_audited_with_before_and_after(admin, session, vault):
    other, _ = make_admin(session, vault, "viewer")
    response = admin[1].post(f"/admin/users/{other.id}/role", {"role": "publisher"})
    assert response.status_code == 302
    assert reload(session, other).role == "publisher"
    entry = audit_entries(session, "admin_user.change_role")[-1]
    assert entry.target_id == str(other.id)
    assert entry.before["role"] == "viewer" and entry.after["role"] == "publisher"
    _no_secrets(entry)


def test_disabling_a_user_is_audited(admin, session, vault):
    other, _ = make_admin(session, vault, "editor")
    admin[1].post(f"/admin/users/{other.id}/disable")
    assert reload(session, other).disabled_at is not None
    entry = audit_entries(session, "admin_user.disable")[-1]
    assert entry.before["disabled"] is False and entry.after["disabled"] is True
    _no_secrets(entry)


def test_resetting_totp_is_audited_and_forces_enrolment_at_next_sign_in(admin, session, vault, app):
    other, secret = make_admin(session, vault, "publisher")
    admin[1].post(f"/admin/users/{other.id}/reset-totp")
    assert reload(session, other).totp_secret_ciphertext is None
    entry = audit_entries(session, "admin_user.reset_totp")[-1]
    assert entry.before["totp_enrolled"] is True and entry.after["totp_enrolled"] is False
    _no_secrets(entry, secret)
    response = AdminClient(app).sign_in(other.email)
    assert response.location.endswith("/admin/enrol")


def test_the_last_admin_cannot_be_disabled_or_demoted(admin, session):
    user, client = admin
    session.execute(sa.update(AdminUser).where(AdminUser.id != user.id).values(role="viewer"))
    session.commit()
    assert client.post(f"/admin/users/{user.id}/disable").status_code == 422
    response = client.post(f"/admin/users/{user.id}/role", {"role": "viewer"})
    assert response.status_code == 422 and b"last enabled admin" in response.data
    assert reload(session, user).role == "admin"


def test_an_unknown_role_is_refused(admin, session, vault):
    other, _ = make_admin(session, vault, "viewer")
    response = admin[1].post(f"/admin/users/{other.id}/role", {"role": "owner"})
    assert response.status_code == 422
    assert reload(session, other).role == "viewer"


def test_an_unknown_user_id_is_404(admin):
    response = admin[1].post("/admin/users/00000000-0000-0000-0000-000000000000/disable")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_changing_ones_own_password_is_audited_without_it(app, session, vault):
    user, _ = make_admin(session, vault, "viewer")
    client = AdminClient(app)
    client.sign_in(user.email)
    new = "another good password 3"
    client.post(
        "/admin/account/password",
        {
            "current_password": "long enough password 1",
            "new_password": new,
            "confirm_password": new,
        },
    )
    entry = audit_entries(session, "admin_user.set_password")[-1]
    assert entry.actor == user.email and entry.after["password_changed"] is True
    _no_secrets(entry, new, "long enough password 1")


def test_a_wrong_current_password_changes_nothing(app, session, vault):
    user, _ = make_admin(session, vault, "viewer")
    client = AdminClient(app)
    client.sign_in(user.email)
    before = reload(session, user).password_hash
    response = client.post(
        "/admin/account/password",
        {"current_password": "wrong", "new_password": "x" * 14, "confirm_password": "x" * 14},
    )
    assert response.status_code == 422
    assert reload(session, user).password_hash == before


def test_re_enrolling_totp_replaces_the_secret_after_confirmation(app, session, vault):
    import pyotp

    user, old_secret = make_admin(session, vault, "admin")
    client = AdminClient(app)
    client.sign_in(user.email, secret=old_secret)
    assert client.post("/admin/account/totp").location.endswith("/admin/enrol")
    page = client.get("/admin/enrol")
    secret = page.data.split(b'id="totp-secret">')[1].split(b"<")[0].decode()
    assert secret != old_secret
    assert client.post("/admin/enrol", {"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert client.get("/admin/").status_code == 200  # this session carries on
    stored = reload(session, user).totp_secret_ciphertext
    assert vault.cipher.decrypt(stored, context=f"admin-totp:{user.id}") == secret
    entry = audit_entries(session, "admin_user.enrol_totp")[-1]
    _no_secrets(entry, secret, old_secret)
