"""What protects every admin page: CSRF tokens, security headers, roles, HTML error pages,
and that the API keeps answering in problem+json."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from consent_service.models import AdminUser
from tests.integration.test_admin_support import AdminClient
from tests.integration.test_admin_support import audit_entries
from tests.integration.test_admin_support import make_admin
from tests.integration.test_admin_support import signed_in

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


@pytest.fixture
def as_admin(app, session, vault):
    user, secret = make_admin(session, vault, "admin")
    client = AdminClient(app)
    client.sign_in(user.email, secret=secret)
    return client


def _user_count(session):
    session.expire_all()
    return session.scalar(sa.select(sa.func.count()).select_from(AdminUser))


NEW_USER = {
    "email": "new@example.com",
    "name": "New",
    "role": "viewer",
    "password": "a fine password 42",
}


def test_a_form_without_a_csrf_token_is_refused_and_changes_nothing(as_admin, session):
    before = _user_count(session)
    response = as_admin.post("/admin/users/", NEW_USER, csrf=False)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert b"security token" in response.data
    assert _user_count(session) == before
    assert audit_entries(session, "admin_user.create")[-1].after["email"] != "new@example.com"


def test_a_form_with_a_wrong_csrf_token_is_refused_and_changes_nothing(as_admin, session):
    before = _user_count(session)
    response = as_admin.post("/admin/users/", {**NEW_USER, "csrf_token": "forged"})
    assert response.status_code == 400
    assert _user_count(session) == before


def test_a_csrf_token_of_another_session_is_refused(app, as_admin, session):
    other = AdminClient(app)
    other.get("/admin/sign-in")
    before = _user_count(session)
    response = as_admin.post("/admin/users/", {**NEW_USER, "csrf_token": other.csrf()})
    assert response.status_code == 400
    assert _user_count(session) == before


def test_the_sign_in_form_needs_its_csrf_token_too(app, session, vault):
    user, _ = make_admin(session, vault, "viewer")
    client = AdminClient(app)
    response = client.post("/admin/sign-in", {"email": user.email, "password": "x"}, csrf=False)
    assert response.status_code == 400


def test_sign_out_needs_a_csrf_token(as_admin):
    assert as_admin.post("/admin/sign-out", csrf=False).status_code == 400
    assert as_admin.get("/admin/").status_code == 200


@pytest.mark.parametrize("path", ["/admin/sign-in", "/admin/", "/admin/users/", "/admin/nowhere"])
def test_admin_responses_carry_the_security_headers(as_admin, path):
    response = as_admin.get(path)
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response.headers  # development: plain HTTP


def test_the_session_cookie_is_http_only_strict_and_scoped_to_the_admin(app):
    response = AdminClient(app).get("/admin/sign-in")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("consent_admin=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin" in cookie
    assert "Secure" not in cookie  # development over http://


def test_production_adds_hsts_and_secure_cookies(tmp_path, database_url):
    from consent_service import create_app
    from consent_service.settings import Environment
    from tests.support import make_settings
    from tests.support import shut_down

    production = create_app(
        make_settings(tmp_path, database_url, environment=Environment.PRODUCTION)
    )
    try:
        response = production.test_client().get("/admin/sign-in")
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert "Secure" in response.headers["Set-Cookie"]
    finally:
        shut_down(production)


def test_admin_pages_use_no_inline_script_or_style(as_admin):
    for path in ("/admin/", "/admin/users/", "/admin/audit/", "/admin/account/"):
        html = as_admin.get(path).data
        assert b"<script" not in html and b"<style" not in html and b"style=" not in html


def test_signed_out_visitors_are_sent_to_sign_in(app):
    for path in ("/admin/", "/admin/users/", "/admin/audit/", "/admin/account/"):
        response = AdminClient(app).get(path)
        assert response.status_code == 302 and response.location.endswith("/admin/sign-in")


def test_a_viewer_opening_users_gets_403(app, session, vault):
    viewer = signed_in(app, session, "viewer")
    response = viewer.get("/admin/users/")
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert b"Your role does not allow" in response.data


def test_a_viewer_cannot_open_the_audit_log(app, session, vault):
    viewer = signed_in(app, session, "viewer")
    assert viewer.get("/admin/audit/").status_code == 403
    assert viewer.get("/admin/audit/export.csv").status_code == 403


@pytest.mark.parametrize("role", ["editor", "publisher"])
def test_editors_and_publishers_cannot_manage_users(app, session, vault, role):
    client = signed_in(app, session, role)
    victim, _ = make_admin(session, vault, "viewer")
    before = _user_count(session)
    assert client.get("/admin/users/").status_code == 403
    assert client.post("/admin/users/", NEW_USER).status_code == 403
    assert client.post(f"/admin/users/{victim.id}/role", {"role": "admin"}).status_code == 403
    assert client.post(f"/admin/users/{victim.id}/disable").status_code == 403
    assert _user_count(session) == before
    session.refresh(victim)
    assert victim.role == "viewer" and victim.disabled_at is None


def test_the_landing_page_lists_only_what_the_role_may_do(app, session, vault):
    viewer = signed_in(app, session, "viewer")
    home = viewer.get("/admin/").data
    assert b"Your account" in home
    assert b"/admin/users/" not in home and b"/admin/audit/" not in home


def test_an_unknown_admin_page_is_an_html_404(as_admin):
    response = as_admin.get("/admin/nowhere")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert b"404 Not Found" in response.data


def test_the_api_still_answers_problem_json(client):
    response = client.get("/v1/decisions", query_string={"subject": "x", "purpose": "analytics"})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == 401
    unknown = client.get("/v1/nowhere")
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"


def test_the_stylesheet_is_served(app):
    response = AdminClient(app).get("/admin/static/admin.css")
    response.close()
    assert response.status_code == 200 and response.mimetype == "text/css"
