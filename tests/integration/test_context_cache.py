"""A property's consent context is cached per process, yet a change shows at once: made by
another process (a second app on the same database, with its own engine and caches), the
very next look-up or consent of this one follows it; and a version published to come into
effect later does so on time, though nothing was bumped then.

The cross-process tests use a database of their own where requests really commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask

from consent_service.decisions.answer import answer_lookup
from consent_service.documents.versions import create_draft
from consent_service.documents.versions import get_document
from consent_service.documents.versions import publish
from consent_service.extensions import db
from consent_service.integrations.api_keys import create_api_key
from consent_service.integrations.subject_refs import parse_subject_ref
from consent_service.models.base import utcnow
from consent_service.properties.catalogue import PurposeChange
from consent_service.properties.catalogue import add_purpose
from consent_service.properties.lookup import consent_context
from consent_service.properties.lookup import get_property
from tests.support import demo_consent
from tests.support import make_settings
from tests.support import own_database_url
from tests.support import shut_down
from tests.support import started_on_fresh_database

EVERYTHING = {"preferences": True, "analytics": True, "marketing": True, "advertising": True}


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Flask]]:
    """This process's app and another's, on one database."""
    instance = tmp_path_factory.mktemp("context-cache")
    settings = make_settings(instance, own_database_url(instance, "context_cache"))
    here = started_on_fresh_database(settings)
    elsewhere = started_on_fresh_database(settings)  # the database migrated once more: fine
    here.config["TESTING"] = elsewhere.config["TESTING"] = True
    yield here, elsewhere
    shut_down(here)
    shut_down(elsewhere)


def _reader(app: Flask) -> dict[str, str]:
    with app.app_context():
        issued = create_api_key(db.session(), "demo-shop", name="cache", scopes=["consent:read"])
        db.session.commit()
        db.session.remove()
    return {"Authorization": f"Bearer {issued.plaintext}"}


def _current_version(app: Flask) -> int:
    with app.app_context():
        current = consent_context(db.session(), "demo-shop", now=utcnow()).current
        db.session.remove()
    assert current is not None
    return current.number


def _grant_everything(app: Flask, visitor: uuid.UUID, **extra: bool) -> None:
    body = {
        **demo_consent(visitor),
        "decisions": {**EVERYTHING, **extra},
        "policy_version": _current_version(app),
    }
    response = app.test_client().post("/v1/consents", json=body, query_string={"region": "FR"})
    assert response.status_code == 201, response.json


def _marketing(app: Flask, headers: dict[str, str], visitor: uuid.UUID) -> tuple[bool, str]:
    query = {"subject": f"visitor:{visitor}", "purpose": "marketing"}
    answer = app.test_client().get("/v1/decisions", query_string=query, headers=headers).json
    return answer["allowed"], answer["reason"]


def _publish_material_change(app: Flask, *, effective_at: dt.datetime | None = None) -> None:
    with app.app_context():
        session = db.session()
        document = get_document(session, "demo-shop", "privacy-policy")
        body = f"# Privacy policy, marketing changed {uuid.uuid4()}\n"
        draft = create_draft(
            session,
            document,
            body,
            material=True,
            affected_purposes=["marketing"],
            effective_at=effective_at,
        )
        publish(session, draft)
        session.commit()
        db.session.remove()


def _add_purpose(app: Flask, key: str) -> None:
    with app.app_context():
        session = db.session()
        change = PurposeChange(
            texts={"en": {"name": key.title(), "description": f"The {key} purpose."}},
            legal_basis="consent",
            consent_mode=[],
            opt_out_categories=[],
            position=9,
        )
        add_purpose(session, get_property(session, "demo-shop"), key, change)
        session.commit()
        db.session.remove()


def test_a_publication_elsewhere_changes_the_next_look_up_here(apps):
    here, elsewhere = apps
    headers = _reader(here)
    visitor = uuid.uuid4()
    _grant_everything(here, visitor)
    assert _marketing(here, headers, visitor) == (True, "granted")  # context now cached here
    _publish_material_change(elsewhere)
    assert _marketing(here, headers, visitor) == (False, "stale_policy")


def test_a_purpose_added_elsewhere_is_asked_for_by_the_next_consent_here(apps):
    here, elsewhere = apps
    _grant_everything(here, uuid.uuid4())  # context now cached here
    _add_purpose(elsewhere, "social")
    body = {**demo_consent(), "decisions": EVERYTHING, "policy_version": _current_version(here)}
    refused = here.test_client().post("/v1/consents", json=body, query_string={"region": "FR"})
    assert refused.status_code == 422, refused.json
    assert [e["pointer"] for e in refused.json["errors"]] == ["/decisions/social"]
    _grant_everything(here, uuid.uuid4(), social=False)  # and the new purpose is known here


def test_a_purpose_added_elsewhere_can_be_looked_up_here_at_once(apps):
    here, elsewhere = apps
    headers = _reader(here)
    visitor = uuid.uuid4()
    banner = here.test_client().get("/v1/banner?property=demo-shop&region=FR").json
    offered = {p["key"]: True for p in banner["purposes"] if not p["essential"]}
    _grant_everything(here, visitor, **offered)  # whatever the other tests added here
    assert _marketing(here, headers, visitor) == (True, "granted")  # context now cached here
    _add_purpose(elsewhere, "reviews")
    query = {"subject": f"visitor:{visitor}", "purpose": "reviews"}
    answer = here.test_client().get("/v1/decisions", query_string=query, headers=headers)
    assert answer.status_code == 200, answer.json  # not "offers no purpose" from the cache
    assert (answer.json["allowed"], answer.json["reason"]) == (False, "no_record")  # FR: opt-in


def test_a_version_published_for_later_applies_when_it_comes_into_effect(session, app):
    """Nothing bumps the property when a version published earlier comes into effect: the
    cached context must stop being used then by itself."""
    contexts = app.extensions["context_cache"]
    issuer = app.extensions["receipt_issuer"]
    from consent_service.consent.receipts import ConsentRequest
    from consent_service.consent.receipts import Method
    from consent_service.consent.receipts import record_consent

    now = utcnow()
    visitor = uuid.uuid4()
    record_consent(
        session,
        ConsentRequest("demo-shop", visitor, 2, Method.CUSTOM, EVERYTHING, region="FR"),
        issuer=issuer,
        now=now,
    )
    document = get_document(session, "demo-shop", "privacy-policy")
    later = now + dt.timedelta(hours=1)
    draft = create_draft(
        session,
        document,
        "# v3\n",
        material=True,
        affected_purposes=["marketing"],
        effective_at=later,
    )
    publish(session, draft, now=now)
    session.commit()  # as the admin's request would (a look-up logged inline ends its reads)

    def marketing(at: dt.datetime) -> str:
        [answer] = answer_lookup(
            session,
            contexts,
            app.extensions["lookup_log"],
            property_key="demo-shop",
            refs=[parse_subject_ref(f"visitor:{visitor}", "/subject")],
            purpose_keys=["marketing"],
            pointer="",
            vault=None,
            api_key_id=None,
            request_id=None,
            now=at,
        )
        return answer.decision.reason.value

    assert marketing(now) == "granted"  # cached, with version 3 not yet in effect
    assert marketing(later + dt.timedelta(seconds=1)) == "stale_policy"
