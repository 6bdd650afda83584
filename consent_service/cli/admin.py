"""``consent-service admin ...``: admin accounts from the command line (the first account
especially). Every change is audited with the actor ``cli:<os user>``."""

from __future__ import annotations

import datetime as dt

import click

from consent_service.cli.running import cli_actor
from consent_service.cli.running import run_committed
from consent_service.extensions import current_session
from consent_service.extensions import password_hasher
from consent_service.staff.accounts import ROLE_ORDER
from consent_service.staff.accounts import create_user
from consent_service.staff.accounts import disable_user
from consent_service.staff.accounts import generate_password
from consent_service.staff.accounts import list_users
from consent_service.staff.accounts import require_user
from consent_service.staff.accounts import reset_totp


@click.group("admin")
def admin_cli() -> None:
    """Admin accounts."""


@admin_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([role.value for role in ROLE_ORDER]))
@click.option("--name", default="")
@click.option(
    "--generate-password",
    "generate",
    is_flag=True,
    help="Generate a strong password and print it once instead of prompting for one.",
)
def create_user_command(email: str, role: str, name: str, generate: bool) -> None:
    """Create an admin account (publishers and admins set up TOTP at their first sign-in)."""
    if generate:
        password = generate_password()
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with run_committed() as session:
        user = create_user(
            session,
            cli_actor(),
            email=email,
            role=role,
            password=password,
            name=name,
            hasher=password_hasher(),
        )
    click.echo(f"created {user.email} ({user.role}) id={user.id}")
    if generate:
        click.echo(f"password (shown once): {password}")


@admin_cli.command("list-users")
def list_users_command() -> None:
    """List admin accounts."""
    for user in list_users(current_session()):
        state = "disabled" if user.disabled_at else "active"
        totp = "totp" if user.totp_enrolled_at else "no-totp"
        click.echo(f"{user.email:<40} {user.role:<10} {state:<8} {totp:<7} {user.name}")


@admin_cli.command("reset-totp")
@click.argument("email")
def reset_totp_command(email: str) -> None:
    """Remove an account's second factor; they enrol a new one at their next sign-in."""
    with run_committed() as session:
        user = reset_totp(session, cli_actor(), require_user(session, email))
    click.echo(f"reset the second factor of {user.email}")


@admin_cli.command("disable")
@click.argument("email")
def disable_command(email: str) -> None:
    """Disable an account: it cannot sign in and its sessions end."""
    now = dt.datetime.now(dt.UTC)
    with run_committed() as session:
        user = disable_user(session, cli_actor(), require_user(session, email), now=now)
    click.echo(f"disabled {user.email}")
