"""``/admin/campaigns/``: policy-change email campaigns and their progress (queued / sent /
failed, with the reasons); a publisher can give failed messages another round."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from flask import abort
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import selectinload

from admin import bp
from admin.guard import commit_audited
from admin.guard import requires
from consent_service.extensions import current_session
from consent_service.messaging.campaigns import campaign_progress
from consent_service.messaging.campaigns import get_campaign
from consent_service.messaging.campaigns import list_campaigns
from consent_service.messaging.campaigns import retry_failed
from consent_service.models import EmailCampaign
from consent_service.models import PolicyVersion
from consent_service.models.base import utcnow
from consent_service.staff.accounts import Permission


@bp.get("/campaigns/")
@requires(Permission.VIEW)
def campaigns() -> ResponseReturnValue:
    session = current_session()
    found = list_campaigns(session)
    progress = [campaign_progress(session, c) for c in found]
    return render_template("admin/campaigns.html", progress=progress, versions=_versions_of(found))


@bp.get("/campaigns/<uuid:campaign_id>")
@requires(Permission.VIEW)
def campaign(campaign_id: uuid.UUID) -> ResponseReturnValue:
    session = current_session()
    found = _campaign(campaign_id)
    return render_template(
        "admin/campaign.html",
        progress=campaign_progress(session, found),
        version=_versions_of([found]).get(found.id),
    )


@bp.post("/campaigns/<uuid:campaign_id>/retry")
@requires(Permission.PUBLISH)
def campaign_retry(campaign_id: uuid.UUID) -> ResponseReturnValue:
    session = current_session()
    found = _campaign(campaign_id)
    count = retry_failed(session, found, utcnow())
    commit_audited(
        "campaign.retried",
        target_type="email_campaign",
        target_id=str(found.id),
        before=None,
        after={"messages": count},
        message=f"{count} failed message(s) will be sent again.",
    )
    return redirect(url_for("admin.campaign", campaign_id=found.id))


def _campaign(campaign_id: uuid.UUID) -> EmailCampaign:
    found = get_campaign(current_session(), campaign_id)
    if found is None:
        abort(404)
    return found


def _versions_of(campaigns: Sequence[EmailCampaign]) -> dict[uuid.UUID, PolicyVersion]:
    """The policy version each campaign announced, so the list can say "Privacy policy,
    version 3" rather than only a date (one query, not one per campaign)."""
    ids = {c.policy_version_id for c in campaigns if c.policy_version_id is not None}
    if not ids:
        return {}
    versions = current_session().scalars(
        sa.select(PolicyVersion)
        .where(PolicyVersion.id.in_(ids))
        .options(selectinload(PolicyVersion.document))
    )
    by_id = {v.id: v for v in versions}
    return {c.id: by_id[c.policy_version_id] for c in campaigns if c.policy_version_id in by_id}
