"""Webhook endpoints of the caller's property: ``GET/POST /v1/webhooks``, ``DELETE .../<id>``.

The signing secret is in the creation answer only; it is stored encrypted and never listed.
"""

from __future__ import annotations

import uuid
from http import HTTPStatus

from flask import Response
from flask import jsonify

from consent_service.api import bp
from consent_service.api import operations as doc
from consent_service.api.auth import current_caller
from consent_service.api.auth import integration
from consent_service.api.response_schemas import CreatedWebhookEndpointSchema
from consent_service.api.response_schemas import WebhookEndpointSchema
from consent_service.api.response_schemas import WebhookListSchema
from consent_service.api.webhook_schemas import WebhookEndpointRequestSchema
from consent_service.errors import UnknownWebhookEndpoint
from consent_service.extensions import committed
from consent_service.extensions import current_session
from consent_service.extensions import settings
from consent_service.extensions import vault
from consent_service.infra.audit import Actor
from consent_service.integrations.api_keys import Scope
from consent_service.messaging.webhooks import delivery_counts
from consent_service.messaging.webhooks import disable_endpoint
from consent_service.messaging.webhooks import get_endpoint
from consent_service.messaging.webhooks import list_endpoints
from consent_service.messaging.webhooks import record_endpoint_disabled
from consent_service.messaging.webhooks import record_endpoint_registered
from consent_service.messaging.webhooks import register_endpoint
from consent_service.web.request_body import load_json
from consent_service.web.request_ids import request_id

_schema = WebhookEndpointRequestSchema()
# The listing adds each endpoint's ``deliveries``, the creation answer its ``secret``.
_endpoint = WebhookEndpointSchema()


@bp.get("/v1/webhooks")
@doc.operation(
    "listWebhooks", "Webhooks", responses={200: doc.Answer("The endpoints.", WebhookListSchema)}
)
@integration(Scope.WEBHOOKS_MANAGE)
def list_webhooks() -> Response:
    """The property's webhook endpoints, disabled ones included

    With each endpoint's messages counted by delivery status. Signing secrets are never listed.
    """
    session = current_session()
    property_id = current_caller().property_id
    counts = delivery_counts(session, property_id)
    return jsonify(
        webhooks=[
            {**_endpoint.dump(endpoint), "deliveries": counts.get(endpoint.id, {})}
            for endpoint in list_endpoints(session, property_id)
        ]
    )


@bp.post("/v1/webhooks")
@doc.operation(
    "createWebhook",
    "Webhooks",
    body=doc.Body(WebhookEndpointRequestSchema, "The endpoint."),
    responses={
        201: doc.Answer("Registered.", CreatedWebhookEndpointSchema, headers=doc.CACHE_HEADERS)
    },
)
@integration(Scope.WEBHOOKS_MANAGE)
def create_webhook() -> Response:
    """Register a webhook endpoint

    Events are signed the Standard Webhooks way with the secret in this answer, which is shown
    only here. The URL must be `https` on a public host.
    """
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
        record_endpoint_registered(
            session, _api_actor(), registered.endpoint, current_caller().property_key
        )
    response = jsonify({**_endpoint.dump(registered.endpoint), "secret": registered.secret})
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"  # the secret must not sit in any cache
    return response


@bp.delete("/v1/webhooks/<uuid:endpoint_id>")
@doc.operation(
    "deleteWebhook",
    "Webhooks",
    path={"endpoint_id": doc.PathParam("The endpoint's `id`.")},
    responses={204: doc.Answer("Disabled.")},
    raises=(UnknownWebhookEndpoint, HTTPStatus.NOT_FOUND),
)
@integration(Scope.WEBHOOKS_MANAGE)
def delete_webhook(endpoint_id: uuid.UUID) -> Response:
    """Stop sending to a webhook endpoint

    Soft: the endpoint and its messages stay on record, disabled; its pending messages become
    dead. Deleting twice is harmless.
    """
    with committed() as session:
        endpoint = get_endpoint(session, current_caller().property_id, endpoint_id)
        if endpoint.disabled_at is None:
            disable_endpoint(
                session, endpoint, reason=f"deleted with API key {current_caller().public_id}"
            )
            record_endpoint_disabled(session, _api_actor(), endpoint)
    return Response(status=204)


def _api_actor() -> Actor:
    """The audit log's name for an integration: its key's public id (the key, not a person)."""
    return Actor(name=f"api-key:{current_caller().public_id}", request_id=request_id())
