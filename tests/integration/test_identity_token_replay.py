"""A token sent by several browsers at the same moment links once: the nonce is recorded in
the database, in the link's own transaction, so the single use holds across threads and
processes. Real commits on a database of its own (see test_concurrent_writes)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from flask import Flask

from consent_service.extensions import db
from consent_service.integrations.identity import Claims
from consent_service.integrations.identity import create_identity_secret
from consent_service.integrations.identity import sign_identity_token
from consent_service.models import Identity
from consent_service.models import IdentityTokenUse
from consent_service.models import Subject
from consent_service.properties.lookup import get_property
from tests.support import make_settings
from tests.support import own_database_url
from tests.support import shut_down
from tests.support import started_on_fresh_database

THREADS = 8
SHOP_ORIGIN = "https://shop.northwind.example"


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("identity_replay")
    url = own_database_url(instance, "identity_replay")
    app = started_on_fresh_database(make_settings(instance, url))
    app.config["TESTING"] = True
    yield app
    shut_down(app)


def test_a_token_posted_by_many_at_once_links_exactly_once(live_app: Flask) -> None:
    visitor = uuid.uuid4()
    with live_app.app_context():
        _id, secret = create_identity_secret(db.session, live_app.extensions["vault"], "demo-shop")
        db.session.commit()
    token = sign_identity_token(secret, "demo-shop", visitor, Claims("c-race", None))
    body = {"property": "demo-shop", "visitor_id": str(visitor), "identity_token": token}
    start = threading.Barrier(THREADS)

    def post() -> int:
        client = live_app.test_client()
        start.wait(timeout=10)
        return client.post("/v1/identity", json=body, headers={"Origin": SHOP_ORIGIN}).status_code

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        statuses = sorted(pool.map(lambda _: post(), range(THREADS)))

    assert statuses == [204] + [422] * (THREADS - 1)
    with live_app.app_context():
        linked = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Subject)
            .join(Identity, Subject.identity_id == Identity.id)
            .where(
                Identity.customer_ref_index
                == live_app.extensions["vault"].customer_index(
                    get_property(db.session(), "demo-shop").id, "c-race"
                )
            )
        )
        uses = db.session.scalar(sa.select(sa.func.count()).select_from(IdentityTokenUse))
        db.session.remove()
    assert (linked, uses) == (1, 1)
