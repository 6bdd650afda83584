"""The consent-token recipes of docs/integrations.md, run as printed against a served service
with the tokens its widget endpoint issues: a recipe that drifted from the client would fail
here, not in a shop's checkout."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.integration.live_app import LiveApp
from tests.support import demo_consent

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "integrations.md"
PRINTED_SERVICE = "https://consent.northwind.example"
COOKIE = "consent_token_demo-shop"


def recipe(heading: str) -> str:
    after = GUIDE.read_text().split(heading, 1)[1]
    found = re.search(r"```python\n(.*?)```", after, re.DOTALL)
    assert found is not None, f"{heading!r} has no Python example any more"
    assert PRINTED_SERVICE in found.group(1)
    return found.group(1)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    app = LiveApp(tmp_path_factory.mktemp("token-recipes"))
    yield app
    app.stop()


def loaded(live, heading: str, **names) -> dict:
    namespace = dict(names)
    exec(recipe(heading).replace(PRINTED_SERVICE, live.url), namespace)
    return namespace


class Analytics:
    def __init__(self) -> None:
        self.tracked: list[dict] = []

    def track(self, event: str, **fields) -> None:
        self.tracked.append({"event": event, **fields})


def test_the_checkout_recipe_tracks_only_what_the_requests_token_allows(live):
    analytics, placed = Analytics(), []
    recipe4 = loaded(live, "### Recipe 4", place_order=placed.append, analytics=analytics)
    visitor = uuid.uuid4()
    granted = live.post("/v1/consents", demo_consent(visitor, analytics=True))
    order = SimpleNamespace(total=42)
    recipe4["checkout"](SimpleNamespace(cookies={COOKIE: granted["token"]}), order)
    assert analytics.tracked == [
        {"event": "order_placed", "value": 42, "consent_receipt": granted["receipt_id"]}
    ]
    assert order.visitor_id == str(visitor)

    withdrawn = live.post(
        "/v1/consents", {**demo_consent(visitor), "method": "withdrawal", "decisions": {}}
    )
    recipe4["checkout"](SimpleNamespace(cookies={COOKIE: withdrawn["token"]}), order)
    without = SimpleNamespace(total=7)
    recipe4["checkout"](SimpleNamespace(cookies={}), without)
    assert len(analytics.tracked) == 1  # neither the withdrawal's token nor no token tracks
    assert placed == [order, order, without]  # the order itself never waits for consent
    assert not hasattr(without, "visitor_id")


def test_the_forwarder_recipe_drops_events_the_token_does_not_allow(live):
    recipe5 = loaded(live, "### Recipe 5", META_PIXEL_ID="1", META_CAPI_TOKEN="t")
    forwardable = recipe5["forwardable"]
    token = live.post("/v1/consents", demo_consent(analytics=True, advertising=False))["token"]
    events = [
        {"event_name": "PageView"},
        {"event_name": "AddToCart"},
        {"event_name": "Purchase"},
        {"event_name": "SomethingNew"},
    ]
    assert forwardable(events, token) == [{"event_name": "PageView"}]
    everything = live.post(
        "/v1/consents", {**demo_consent(), "method": "accept_all", "decisions": {}}
    )["token"]
    assert [e["event_name"] for e in forwardable(events, everything)] == [
        "PageView",
        "AddToCart",
        "Purchase",
    ]
    assert forwardable(events, None) == []
    assert forwardable(events, everything[:-4] + "AAAA") == []  # altered: nothing leaves
