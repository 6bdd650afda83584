"""``/admin/``: what the signed-in role may do."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from admin import bp
from admin.guard import current_user
from admin.guard import requires
from consent_service.staff.accounts import Permission
from consent_service.staff.accounts import can


@bp.get("/")
@requires(Permission.VIEW)
def home() -> ResponseReturnValue:
    role = current_user().role
    sections = [
        (
            "Dashboard",
            "admin.dashboard",
            "Consent rates, receipts, look-ups; one person's receipts.",
        ),
        (
            "Policies",
            "admin.policies",
            "Drafts, previews, differences between versions, publishing.",
        ),
        ("Campaigns", "admin.campaigns", "Policy-change emails: queued, sent, failed and why."),
        ("Integrations", "admin.integrations", "API keys and webhook endpoints.")
        if can(role, Permission.MANAGE_INTEGRATIONS)
        else None,
        ("Users", "admin.users", "Create accounts, change roles, disable, reset second factors.")
        if can(role, Permission.MANAGE_USERS)
        else None,
        ("Audit log", "admin.audit", "Every change made in the admin, with before and after.")
        if can(role, Permission.VIEW_AUDIT)
        else None,
        ("Your account", "admin.account", "Change your password or your authenticator app."),
    ]
    return render_template("admin/home.html", sections=[s for s in sections if s])
