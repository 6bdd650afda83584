"""Webhook endpoints of the caller's property: ``GET/POST /v1/webhooks``, ``DELETE .../<id>``.

The signing secret is in the creation answer only; it is stored encrypted and never listed.
"""

from __future__ import annotations

import uuid

from flask import Response
from flask import jsonify

from consent_service.api import bp
from consent_service.api.auth import current_caller
from consent_service.api.auth import integration
from consent_service.api.webhook_schemas import WebhookEndpointRequestSchema
from consent_service.extensions import committed
from consent_service.extensions import current_session
from consent_service.extensions import settings
from consent_service.extensions import vault
from consent_service.infra.times import rfc3339_seconds
from consent_service.integrations.api_keys import Scope
from consent_service.messaging.webhooks import delivery_counts
from consent_service.messaging.webhooks import disable_endpoint
from consent_service.messaging.webhooks import get_endpoint
from consent_service.messaging.webhooks import list_endpoints
from consent_service.messaging.webhooks import register_endpoint
from consent_service.models import WebhookEndpoint
from consent_service.web.request_body import load_json

_schema = WebhookEndpointRequestSchema()


@bp.get("/v1/webhooks")
@integration(Scope.WEBHOOKS_MANAGE)
def list_webhooks() -> Response:
    session = current_session()
    property_id = current_caller().property_id
    counts = delivery_counts(session, property_id)
    return jsonify(
        webhooks=[
            {**_describe(endpoint), "deliveries": counts.get(endpoint.id, {})}
            for endpoint in list_endpoints(session, property_id)
        ]
    )


@bp.post("/v1/webhooks")
@integration(Scope.WEBHOOKS_MANAGE)
def create_webhook() -> Response:
    body = load_json(_schema)
    with committed() as session:
        registered = register_endpoint(
            session,
            vault().cipher,
            property_id=current_caller().property_id,
            url=body["url"],
            event_types=body["event_types"],
            description=body["description"],
            allow_private_networks=settings().webhook_allow_private_networks,
        )
    response = jsonify({**_describe(registered.endpoint), "secret": registered.secret})
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"  # the secret must not sit in any cache
    return response


@bp.delete("/v1/webhooks/<uuid:endpoint_id>")
@integration(Scope.WEBHOOKS_MANAGE)
def delete_webhook(endpoint_id: uuid.UUID) -> Response:
    with committed() as session:
        endpoint = get_endpoint(session, current_caller().property_id, endpoint_id)
        disable_endpoint(
            session, endpoint, reason=f"deleted with API key {current_caller().public_id}"
        )
    return Response(status=204)


def _describe(endpoint: WebhookEndpoint) -> dict[str, object]:
    return {
        "id": str(endpoint.id),
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "created_at": rfc3339_seconds(endpoint.created_at),
        "disabled_at": rfc3339_seconds(endpoint.disabled_at) if endpoint.disabled_at else None,
        "disabled_reason": endpoint.disabled_reason,
    }
