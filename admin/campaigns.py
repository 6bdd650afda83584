"""``/admin/campaigns/``: policy-change email campaigns and their progress (queued / sent /
failed, with the reasons); a publisher can give failed messages another round."""

from __future__ import annotations

import uuid

from flask import abort
from flask import redirect
from flask import render_template
from flask import url_for
from flask.typing import ResponseReturnValue

from admin import bp
from admin.guard import commit_audited
from admin.guard import requires
from consent_service.extensions import current_session
from consent_service.messaging.campaigns import campaign_progress
from consent_service.messaging.campaigns import get_campaign
from consent_service.messaging.campaigns import list_campaigns
from consent_service.messaging.campaigns import retry_failed
from consent_service.models import EmailCampaign
from consent_service.models.base import utcnow
from consent_service.staff.accounts import Permission


@bp.get("/campaigns/")
@requires(Permission.VIEW)
def campaigns() -> ResponseReturnValue:
    session = current_session()
    progress = [campaign_progress(session, c) for c in list_campaigns(session)]
    return render_template("admin/campaigns.html", progress=progress)


@bp.get("/campaigns/<uuid:campaign_id>")
@requires(Permission.VIEW)
def campaign(campaign_id: uuid.UUID) -> ResponseReturnValue:
    session = current_session()
    return render_template(
        "admin/campaign.html", progress=campaign_progress(session, _campaign(campaign_id))
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
