"""The banner the law asks for (issue #12, the widget's side): the first layer's buttons come
from the rulebook, GPC is recorded with the service and shown on the page, a refusal is not
asked about again before the rulebook's floor (calendar months, on the browser's clock), a
material change re-asks only about the purposes it touched, and opting back in after an
opt-out takes a second step. Time is injected with Playwright's clock, never slept."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from consent_service.documents.versions import create_draft
from consent_service.documents.versions import get_document
from consent_service.documents.versions import publish
from consent_service.extensions import db
from consent_service.integrations.api_keys import create_api_key

pytestmark = pytest.mark.browser

OPT_OUT_STATUS = "Opt-Out Request Honored"  # 11 CCR §7025(c)(6)'s wording
ANSWERS = ("accept_all", "reject_all", "acknowledge")


def banner_config(visitor, region: str) -> dict[str, Any]:
    """What the service tells the widget for this region (over HTTP, as the widget asks)."""
    query = f"property=demo-shop&locale=en&region={region}"
    config: dict[str, Any] = visitor.page.request.get(f"{visitor.url}/v1/banner?{query}").json()
    return config


def first_receipt(visitor) -> dict[str, Any]:
    """Waits for the receipt the page recorded without a click, and returns its payload."""
    visitor.page.wait_for_function("() => window.__changes.some((c) => c.receiptId)")
    return visitor.receipt_payload()


def at(visitor, when: dt.datetime) -> None:
    """The browser's clock (Date) reads ``when`` from now on; timers keep running."""
    visitor.page.clock.set_fixed_time(when)


@pytest.mark.parametrize("region", ["IT", "US-CA", "US-VA", "US", "JP", "CH"])
def test_the_first_layer_shows_the_rulebooks_buttons_in_its_order(shop, region):
    visitor = shop()
    visitor.visit(f"?region={region}")
    config = banner_config(visitor, region)
    texts = config["texts"]
    expected = [texts[key] for key in config["jurisdiction"]["first_layer"]]
    assert visitor.banner.locator(".cw-actions button").all_inner_texts() == expected


@pytest.mark.parametrize("region", ["IT", "US-CA", "US-VA", "US", "CH"])
def test_where_the_law_asks_for_a_choice_refusing_is_as_prominent_as_accepting(shop, region):
    visitor = shop()
    visitor.visit(f"?region={region}")
    config = banner_config(visitor, region)
    assert {"accept_all", "reject_all"} <= set(config["jurisdiction"]["first_layer"])
    accept, refuse = (
        visitor.banner.get_by_role("button", name=config["texts"][key], exact=True)
        for key in ("accept_all", "reject_all")
    )
    assert accept.get_attribute("class") == refuse.get_attribute("class")
    assert accept.bounding_box()["height"] == refuse.bounding_box()["height"]


def test_a_notice_is_acknowledged_with_the_regimes_defaults(shop):
    visitor = shop()
    visitor.visit("?region=JP")
    config = banner_config(visitor, "JP")
    assert "acknowledge" in config["jurisdiction"]["first_layer"]
    payload = visitor.choose_and_wait(config["texts"]["acknowledge"])
    assert payload["method"] == "acknowledge"
    defaults = {p["key"]: "granted" if p["default"] else "denied" for p in config["purposes"]}
    assert payload["decisions"] == defaults
    visitor.reload()
    assert visitor.banner.count() == 0


def test_gpc_in_california_is_recorded_and_look_ups_answer_denied(shop, live_server):
    visitor = shop(gpc=True)
    visitor.visit("?region=US-CA")
    payload = first_receipt(visitor)
    assert payload["method"] == "gpc" and payload["gpc"] is True
    assert payload["decisions"]["marketing"] == "denied"
    assert payload["decisions"]["advertising"] == "denied"
    assert visitor.banner.count() == 0  # the recorded opt-out answers the banner's question
    assert not visitor.ran("ads")

    with live_server.app.app_context():
        issued = create_api_key(db.session(), "demo-shop", name="shop", scopes=("consent:read",))
        db.session.commit()
        db.session.remove()
    answer = visitor.page.request.get(
        f"{visitor.url}/v1/decisions?subject=visitor:{payload['visitor_id']}&purpose=marketing",
        headers={"Authorization": f"Bearer {issued.plaintext}"},
    ).json()
    assert (answer["allowed"], answer["reason"]) == (False, "gpc")

    posted = []
    visitor.page.on("request", lambda r: "/v1/consents" in r.url and posted.append(r.url))
    visitor.reload()  # recorded once: nothing is left for GPC to switch off
    visitor.page.wait_for_load_state("networkidle")
    assert posted == []


def test_california_keeps_the_opt_out_status_on_the_page(shop):
    visitor = shop(gpc=True)
    visitor.visit("?region=US-CA")
    first_receipt(visitor)
    assert visitor.reopen.is_visible()
    assert OPT_OUT_STATUS in visitor.reopen.inner_text()
    visitor.reload()
    assert visitor.reopen.is_visible() and OPT_OUT_STATUS in visitor.reopen.inner_text()


def test_without_gpc_there_is_no_opt_out_status(shop):
    visitor = shop()
    visitor.visit("?region=US-CA")
    assert OPT_OUT_STATUS not in visitor.page.locator("body").inner_text()


@pytest.mark.parametrize(
    ("region", "refused_at", "floor_ends"),
    [
        # Garante, 10-06-2021: not before 6 months; 180 days run out on 30 July.
        ("IT", dt.datetime(2027, 1, 31, 12, tzinfo=dt.UTC), dt.datetime(2027, 7, 31, 12)),
        # Civ. Code §1798.135(c)(4): 12 months; 365 days run out on 29 February 2028.
        ("US-CA", dt.datetime(2027, 3, 1, 12, tzinfo=dt.UTC), dt.datetime(2028, 3, 1, 12)),
    ],
)
def test_a_refusal_is_not_asked_about_again_before_the_floor(shop, region, refused_at, floor_ends):
    floor_ends = floor_ends.replace(tzinfo=dt.UTC)
    visitor = shop()
    at(visitor, refused_at)
    visitor.visit(f"?region={region}")
    config = banner_config(visitor, region)
    lifetime = dt.timedelta(days=config["jurisdiction"]["consent_lifetime_days"])
    assert refused_at + lifetime < floor_ends - dt.timedelta(hours=1)  # the choice has lapsed
    payload = visitor.choose_and_wait(config["texts"]["reject_all"])
    assert "denied" in payload["decisions"].values()

    at(visitor, floor_ends - dt.timedelta(hours=1))
    visitor.reload()
    assert visitor.banner.count() == 0

    at(visitor, floor_ends + dt.timedelta(hours=1))
    visitor.reload()
    assert visitor.banner.is_visible()


def test_a_material_change_re_asks_only_about_the_purposes_it_touched(shop, live_server):
    visitor = shop()
    visitor.visit("?region=FR")
    granted = visitor.choose_and_wait("Accept all")
    visitor.page.wait_for_selector("html[data-ran-analytics][data-ran-ads]")

    with live_server.app.app_context():
        session = db.session()
        document = get_document(session, "demo-shop", "privacy-policy")
        draft = create_draft(session, document, "# Privacy policy: marketing\n", material=True)
        draft.affected_purposes = ["marketing"]
        publish(session, draft)
        session.commit()
        db.session.remove()

    visitor.reload()
    names = visitor.banner.locator(".cw-scope li").all_inner_texts()
    marketing = next(
        p["name"] for p in banner_config(visitor, "FR")["purposes"] if p["key"] == "marketing"
    )
    assert names == [marketing]
    assert visitor.ran("analytics")  # grants the change did not touch still hold
    assert visitor.page.evaluate("window.consent.get().marketing") is False  # opt-in: lapsed

    payload = visitor.choose_and_wait("Reject all")
    assert payload["method"] == "custom"
    assert payload["policy"]["version"] > granted["policy"]["version"]
    assert payload["decisions"] == {**granted["decisions"], "marketing": "denied"}


def test_opting_back_in_after_an_opt_out_takes_a_second_step(shop):
    visitor = shop()
    visitor.visit("?region=US-CA")
    config = banner_config(visitor, "US-CA")
    texts = config["texts"]
    assert config["jurisdiction"]["reoptin_confirmation"] is True
    visitor.banner.get_by_role(
        "button", name="Do Not Sell or Share My Personal Information"
    ).click()
    visitor.preferences.wait_for()
    opted_out = visitor.choose_and_wait(texts["save"])
    assert opted_out["decisions"]["marketing"] == "denied"

    visitor.reopen_preferences()
    visitor.click(texts["accept_all"])
    step = visitor.page.get_by_role("dialog", name=texts["title"])
    assert texts["reoptin_confirm"] in step.inner_text()
    assert visitor.page.evaluate("document.activeElement.id") == "cw-banner"  # focus moved in
    step.get_by_role("button", name=texts.get("cancel") or texts["close"], exact=True).click()
    assert visitor.banner.count() == 0  # going back records nothing
    assert visitor.page.evaluate("window.consent.get().marketing") is False

    visitor.reopen_preferences()
    visitor.click(texts["accept_all"])
    payload = visitor.recorded(
        lambda: step.get_by_role("button", name=texts["confirm"], exact=True).click()
    )
    assert payload["reoptin_confirmed"] is True
    assert payload["decisions"]["marketing"] == "granted"
