"""``consent-service admin ...``: accounts from the command line, each change audited."""

from __future__ import annotations

import getpass

import pytest

from consent_service.staff.accounts import find_user
from tests.integration.test_admin_support import AdminClient
from tests.integration.test_admin_support import audit_entries
from tests.integration.test_admin_support import make_admin


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_create_user_prompts_for_the_password_twice(runner, session, app):
    password = "first admin password 1"
    result = runner.invoke(
        args=["admin", "create-user", "--email", "root@example.com", "--role", "admin"],
        input=f"{password}\n{password}\n",
    )
    assert result.exit_code == 0, result.output
    assert "created root@example.com (admin)" in result.output
    assert password not in result.output
    entry = audit_entries(session, "admin_user.create")[-1]
    assert entry.actor == f"cli:{getpass.getuser()}" and entry.admin_user_id is None
    response = AdminClient(app).sign_in("root@example.com", password=password)
    assert response.location.endswith("/admin/enrol")  # an admin enrols TOTP first


def test_create_user_can_generate_and_print_the_password_once(runner, session):
    result = runner.invoke(
        args=[
            "admin",
            "create-user",
            "--email",
            "gen@example.com",
            "--role",
            "viewer",
            "--name",
            "Gen",
            "--generate-password",
        ]
    )
    assert result.exit_code == 0, result.output
    password = result.output.split("password (shown once): ")[1].strip()
    assert len(password) >= 20
    assert find_user(session, "gen@example.com").name == "Gen"


def test_create_user_refuses_a_weak_password(runner, session):
    result = runner.invoke(
        args=["admin", "create-user", "--email", "weak@example.com", "--role", "viewer"],
        input="short\nshort\n",
    )
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output
    assert find_user(session, "weak@example.com") is None


def test_list_users_shows_role_state_and_totp(runner, session, vault):
    user, _ = make_admin(session, vault, "publisher")
    result = runner.invoke(args=["admin", "list-users"])
    assert result.exit_code == 0
    line = next(line for line in result.output.splitlines() if user.email in line)
    assert "publisher" in line and "active" in line and "totp" in line


def test_reset_totp_and_disable_are_audited(runner, session, vault):
    user, _ = make_admin(session, vault, "publisher")
    assert runner.invoke(args=["admin", "reset-totp", user.email]).exit_code == 0
    assert runner.invoke(args=["admin", "disable", user.email.upper()]).exit_code == 0
    session.expire_all()
    assert user.totp_enrolled_at is None and user.disabled_at is not None
    actions = [e.action for e in audit_entries(session) if e.target_id == str(user.id)]
    assert actions[-2:] == ["admin_user.reset_totp", "admin_user.disable"]


def test_an_unknown_email_is_an_error(runner):
    result = runner.invoke(args=["admin", "disable", "nobody@example.com"])
    assert result.exit_code == 1 and "no admin user" in result.output
