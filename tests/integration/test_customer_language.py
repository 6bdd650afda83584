"""Emails in the customer's language (issue #17, item 2): the linking API and the identity
token carry a ``locale``, checked against the property's languages and stored normalised; the
preferences page can remember one; every email uses it; and the policy-change email says what
happens next when the change makes earlier choices stale."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from consent_service.errors import ValidationFailed
from consent_service.integrations.identity import Claims
from consent_service.integrations.identity import create_identity_secret
from consent_service.integrations.identity import remember_locale
from consent_service.integrations.identity import sign_identity_token
from consent_service.models import Identity
from consent_service.models import Subject
from tests.integration.test_identity_linking import SHOP_ORIGIN
from tests.integration.test_identity_linking import identify
from tests.integration.test_notifications_sending import _parts
from tests.integration.test_notifications_sink import add_customer
from tests.integration.test_notifications_sink import publish_version
from tests.integration.test_notifications_sink import running_sink
from tests.integration.test_notifications_sink import send_due


@pytest.fixture
def linker(api_key):
    return api_key("subjects:write")


@pytest.fixture
def sink():
    with running_sink() as running:
        yield running


def _locale_of(session, visitor: uuid.UUID) -> str | None:
    session.expire_all()
    return session.scalar(
        sa.select(Identity.locale)
        .join(Subject, Subject.identity_id == Identity.id)
        .where(Subject.visitor_id == visitor)
    )


def _link(client, linker, visitor: uuid.UUID, email: str, locale: str):
    return client.post(
        "/v1/subjects/link",
        json={"visitor_id": str(visitor), "email": email, "locale": locale},
        headers=linker,
    )


def test_the_linking_api_stores_a_regional_tag_as_the_propertys_language(client, session, linker):
    visitor = uuid.uuid4()
    assert _link(client, linker, visitor, "kurt@example.de", "de-AT").status_code == 200
    assert _locale_of(session, visitor) == "de"


def test_a_language_the_property_lacks_is_a_422_naming_it_and_links_nothing(
    client, session, linker
):
    visitor = uuid.uuid4()
    response = _link(client, linker, visitor, "joao@example.pt", "pt-BR")
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "'pt-BR'" in response.json["detail"] and "en, de, fr" in response.json["detail"]
    assert response.json["errors"] == [
        {"pointer": "/locale", "detail": "not one of the property's languages"}
    ]
    assert session.scalar(sa.select(Subject.id).where(Subject.visitor_id == visitor)) is None


def test_a_locale_that_is_not_a_language_tag_is_a_422_at_its_pointer(client, linker):
    response = _link(client, linker, uuid.uuid4(), "x@example.com", "not a tag")
    assert response.status_code == 422
    assert [error["pointer"] for error in response.json["errors"]] == ["/locale"]


def test_an_identity_token_carries_the_customers_language(app, client, session):
    _secret_id, secret = create_identity_secret(session, app.extensions["vault"], "demo-shop")
    session.commit()
    visitor = uuid.uuid4()
    token = sign_identity_token(
        secret, "demo-shop", visitor, Claims("c-fr-1", "zoe@example.fr", "fr-CA")
    )
    assert identify(client, visitor, token, origin=SHOP_ORIGIN).status_code == 204
    assert _locale_of(session, visitor) == "fr"


def test_an_identity_token_in_a_language_the_property_lacks_links_nothing(app, client, session):
    _secret_id, secret = create_identity_secret(session, app.extensions["vault"], "demo-shop")
    session.commit()
    visitor = uuid.uuid4()
    token = sign_identity_token(secret, "demo-shop", visitor, Claims("c-ja-1", None, "ja"))
    response = identify(client, visitor, token, origin=SHOP_ORIGIN)
    assert response.status_code == 422
    assert "'ja'" in response.json["detail"]
    assert _locale_of(session, visitor) is None


def test_remember_locale_stores_the_language_normalised(app, session):
    customer = add_customer(app, session, "eva@example.com")
    assert remember_locale(session, customer.id, "DE-ch") == "de"
    session.commit()
    session.expire_all()
    assert session.get(Identity, customer.id).locale == "de"


def test_remember_locale_refuses_a_language_the_property_lacks_and_keeps_the_old_one(app, session):
    customer = add_customer(app, session, "ola@example.com", locale="fr")
    with pytest.raises(ValidationFailed, match="'nb'"):
        remember_locale(session, customer.id, "nb")
    assert session.get(Identity, customer.id).locale == "fr"


def test_remember_locale_for_a_customer_who_is_gone_does_nothing(session):
    assert remember_locale(session, uuid.uuid4(), "de") is None


def test_a_customer_linked_with_a_language_gets_the_policy_email_in_it(
    app, client, session, linker, sink
):
    server, port = sink
    assert _link(client, linker, uuid.uuid4(), "kurt@example.de", "de").status_code == 200
    publish_version(session)
    session.commit()
    send_due(app, session, port)
    (message,) = server.to("kurt@example.de")
    assert message["Content-Language"] == "de"
    assert "Guten Tag" in _parts(message)[0]


@pytest.mark.parametrize(
    ("locale", "next_visit"),
    [
        ("en", "you will be asked again on your next visit to shop.northwind.example"),
        ("de", "Bei Ihrem nächsten Besuch auf shop.northwind.example werden Sie erneut gefragt"),
        ("fr", "demandés à nouveau lors de votre prochaine visite sur shop.northwind.example"),
    ],
)
def test_a_material_change_email_says_the_customer_will_be_asked_again_and_where(
    app, session, sink, locale, next_visit
):
    server, port = sink
    add_customer(app, session, f"{locale}@example.com", locale=locale)
    publish_version(session, material=True)
    session.commit()
    send_due(app, session, port)
    (message,) = server.to(f"{locale}@example.com")
    text, html = _parts(message)
    assert next_visit in text and next_visit in " ".join(html.replace("<strong>", "").split())
    assert "You do not need to do anything" not in text
    assert "Sie müssen nichts tun" not in text and "Vous n'avez rien à faire" not in text
