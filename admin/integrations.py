"""``/admin/integrations/``: API keys and webhook endpoints of each property (the admin role).
Secrets are shown once, on creation, and never again; every change is audited."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from admin import bp
from admin.guard import actor
from admin.guard import commit_audited
from admin.guard import requires
from consent_service.errors import ConsentServiceError
from consent_service.errors import InternalError
from consent_service.extensions import caller_cache
from consent_service.extensions import committed
from consent_service.extensions import current_session
from consent_service.extensions import settings
from consent_service.extensions import vault
from consent_service.integrations.api_keys import Scope
from consent_service.integrations.api_keys import create_api_key
from consent_service.integrations.api_keys import list_api_keys
from consent_service.integrations.api_keys import record_key_created
from consent_service.integrations.api_keys import revoke_api_key
from consent_service.messaging.webhooks import EVENT_TYPES
from consent_service.messaging.webhooks import delivery_counts
from consent_service.messaging.webhooks import disable_endpoint
from consent_service.messaging.webhooks import get_endpoint
from consent_service.messaging.webhooks import list_endpoints
from consent_service.messaging.webhooks import record_endpoint_registered
from consent_service.messaging.webhooks import register_endpoint
from consent_service.models import Property
from consent_service.properties.lookup import get_property
from consent_service.staff.accounts import Permission

SCOPES = [scope.value for scope in Scope]


@bp.get("/integrations/")
@requires(Permission.MANAGE_INTEGRATIONS)
def integrations() -> ResponseReturnValue:
    return _page()


@bp.post("/integrations/keys")
@requires(Permission.MANAGE_INTEGRATIONS)
def integration_key_create() -> ResponseReturnValue:
    property_key = request.form.get("property", "")
    try:
        with committed() as session:
            issued = create_api_key(
                session,
                property_key,
                name=request.form.get("name", ""),
                scopes=request.form.getlist("scopes"),
                rate_limit=request.form.get("rate_limit") or None,
            )
            record_key_created(session, actor(), issued, property_key)
    except InternalError:
        raise  # the service's own fault: logged, an opaque 500
    except ConsentServiceError as exc:
        return _page(error=_explained(exc)), 422
    return _page(shown_once=("API key", issued.plaintext))


@bp.post("/integrations/keys/<public_id>/revoke")
@requires(Permission.MANAGE_INTEGRATIONS)
def integration_key_revoke(public_id: str) -> ResponseReturnValue:
    key = revoke_api_key(current_session(), public_id)
    commit_audited(
        "api_key.revoked",
        target_type="api_key",
        target_id=public_id,
        before={"revoked": False},
        after={"revoked": True, "name": key.name},
        message=f"Revoked API key {public_id}.",
    )
    caller_cache().forget()
    return redirect(url_for("admin.integrations"))


@bp.post("/integrations/webhooks")
@requires(Permission.MANAGE_INTEGRATIONS)
def integration_webhook_create() -> ResponseReturnValue:
    try:
        with committed() as session:
            prop = get_property(session, request.form.get("property", ""))
            registered = register_endpoint(
                session,
                vault().cipher,
                property_id=prop.id,
                url=request.form.get("url", "").strip(),
                event_types=request.form.getlist("event_types"),
                description=request.form.get("description", ""),
                allow_private_networks=settings().webhook_allow_private_networks,
            )
            record_endpoint_registered(session, actor(), registered.endpoint, prop.key)
    except InternalError:
        raise  # the service's own fault: logged, an opaque 500
    except ConsentServiceError as exc:
        return _page(error=_explained(exc)), 422
    return _page(shown_once=("Webhook signing secret", registered.secret))


@bp.post("/integrations/webhooks/<int:property_id>/<uuid:endpoint_id>/disable")
@requires(Permission.MANAGE_INTEGRATIONS)
def integration_webhook_disable(property_id: int, endpoint_id: uuid.UUID) -> ResponseReturnValue:
    session = current_session()
    endpoint = get_endpoint(session, property_id, endpoint_id)
    disable_endpoint(session, endpoint, reason=f"disabled in the admin by {actor().name}")
    commit_audited(
        "webhook.disabled",
        target_type="webhook_endpoint",
        target_id=str(endpoint.id),
        before={"disabled": False},
        after={"disabled": True, "url": endpoint.url},
        message="Webhook endpoint disabled; its pending messages will not be sent.",
    )
    return redirect(url_for("admin.integrations"))


def _page(*, error: str | None = None, shown_once: tuple[str, str] | None = None) -> str:
    session = current_session()
    properties = list(session.scalars(sa.select(Property).order_by(Property.key)))
    return render_template(
        "admin/integrations.html",
        properties=properties,
        keys=list_api_keys(session),
        endpoints=[
            (p, list_endpoints(session, p.id), delivery_counts(session, p.id)) for p in properties
        ],
        scopes=SCOPES,
        event_types=sorted(EVENT_TYPES),
        error=error,
        shown_once=shown_once,
    )


def _explained(exc: ConsentServiceError) -> str:
    details = "; ".join(f"{e.pointer.strip('/') or 'form'}: {e.detail}" for e in exc.errors)
    return f"{exc.detail}{': ' + details if details else ''}"
