"""Every section of the admin, in one list: the navigation and the home page both read it, so a
new section appears in both (they listed 13 and 7 before) and a role sees only what it may use."""

from __future__ import annotations

import dataclasses

from consent_service.models import AdminRole
from consent_service.staff.accounts import Permission
from consent_service.staff.accounts import can


@dataclasses.dataclass(frozen=True)
class Section:
    title: str
    endpoint: str
    permission: Permission
    summary: str


SECTIONS = (
    Section(
        "Dashboard",
        "admin.dashboard",
        Permission.VIEW,
        "Consent rates, receipts, look-ups; one person's receipts.",
    ),
    Section(
        "Policies",
        "admin.policies",
        Permission.VIEW,
        "Drafts, previews, differences between versions, publishing.",
    ),
    Section(
        "Properties",
        "admin.properties",
        Permission.VIEW,
        "Each website: allowed origins, languages, banner texts, a live banner preview.",
    ),
    Section(
        "Purposes & vendors",
        "admin.purposes",
        Permission.VIEW,
        "What the banner asks about, and the vendors and cookies behind each purpose.",
    ),
    Section(
        "Scans",
        "admin.scans",
        Permission.VIEW,
        "What the shop's pages did per region: findings, trend, signed reports.",
    ),
    Section(
        "Campaigns",
        "admin.campaigns",
        Permission.VIEW,
        "Policy-change emails: queued, sent, failed and why.",
    ),
    Section(
        "Erasures",
        "admin.erasures",
        Permission.VIEW,
        "Erasure requests: status, legal deadline, what was erased.",
    ),
    Section(
        "Jurisdictions",
        "admin.jurisdictions",
        Permission.VIEW,
        "The law in each region, and a property's stricter rules.",
    ),
    Section(
        "Retention",
        "admin.retention",
        Permission.VIEW,
        "How long each kind of personal data is kept; what was deleted.",
    ),
    Section(
        "Integrations",
        "admin.integrations",
        Permission.MANAGE_INTEGRATIONS,
        "API keys and webhook endpoints.",
    ),
    Section(
        "Users",
        "admin.users",
        Permission.MANAGE_USERS,
        "Create accounts, change roles, disable, reset second factors.",
    ),
    Section(
        "Audit log",
        "admin.audit",
        Permission.VIEW_AUDIT,
        "Every change, with before and after, whoever made it.",
    ),
    Section(
        "Your account",
        "admin.account",
        Permission.VIEW,
        "Change your password or your authenticator app.",
    ),
)


def sections_for(role: AdminRole | str) -> list[Section]:
    """The sections ``role`` may open, in navigation order."""
    return [s for s in SECTIONS if can(role, s.permission)]
