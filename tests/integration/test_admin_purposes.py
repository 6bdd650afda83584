"""Purposes and vendors in the admin: editors change texts, types and vendors; each change
reaches the banner at once (``config_version``) and is audited; refused input changes
nothing; viewers only look."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from consent_service.banner.cache import BannerCache
from consent_service.models import AuditEntry
from consent_service.models import Property
from consent_service.models import Purpose
from consent_service.models import Vendor

BANNER = "/v1/banner?property=demo-shop"


@pytest.fixture(autouse=True)
def fresh_banner_cache(app, monkeypatch):
    """Each test's transaction is rolled back, so two tests can reach the same
    ``config_version`` with different catalogues: banners cached by an earlier test must
    not be served to a later one."""
    monkeypatch.setitem(app.extensions, "banner_cache", BannerCache(ttl=0))


@pytest.fixture
def shop(session):
    return session.scalar(sa.select(Property).where(Property.key == "demo-shop"))


def purpose(session, key):
    session.expire_all()
    return session.scalar(
        sa.select(Purpose).join(Property).where(Property.key == "demo-shop", Purpose.key == key)
    )


def vendor(session, key):
    session.expire_all()
    return session.scalar(
        sa.select(Vendor).join(Property).where(Property.key == "demo-shop", Vendor.key == key)
    )


def config_version(session):
    session.expire_all()
    return session.scalar(sa.select(Property.config_version).where(Property.key == "demo-shop"))


def audited(session, action):
    session.expire_all()
    return list(session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def purpose_form(item, **overrides):
    form = {
        "legal_basis": item.legal_basis,
        "position": str(item.position),
        "consent_mode": list(item.consent_mode),
        "opt_out_categories": list(item.opt_out_categories),
    }
    for locale, values in item.texts.items():
        form[f"name_{locale}"] = values.get("name", "")
        form[f"description_{locale}"] = values.get("description", "")
    form.update(overrides)
    return form


def vendor_form(**overrides):
    form = {
        "key": "hotjar",
        "name": "Hotjar",
        "country": "mt",
        "privacy_policy_url": "https://www.hotjar.com/legal/policies/privacy/",
        "purposes": ["analytics"],
        "cookie_rows": "3",
        "cookie_name_0": "_hjSessionUser_*",
        "cookie_domain_0": "first-party",
        "cookie_duration_0": "P1Y",
        "cookie_description_0": "Identifies a returning visitor.",
        "cookie_name_1": "_hjSession_*",
        "cookie_domain_1": "first-party",
        "cookie_duration_1": "PT30M",
        "cookie_description_1": "Groups page views into a visit.",
        "cookie_name_2": "",  # the empty row the form offers
    }
    form.update(overrides)
    return form


def test_the_page_lists_purposes_and_vendors(editor):
    page = editor.get("/admin/purposes/").get_data(as_text=True)
    assert "Purposes &amp; vendors" in page
    for text in ("marketing", "analytics_storage", "Google Analytics 4", "Add a purpose"):
        assert text in page


def test_an_editor_changes_a_german_text_and_the_banner_shows_it(editor, client, session):
    analytics = purpose(session, "analytics")
    version = config_version(session)
    before_name = analytics.texts["de"]["name"]
    response = editor.post(
        f"/admin/purposes/{analytics.id}",
        purpose_form(analytics, name_de="Reichweitenmessung"),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert purpose(session, "analytics").texts["de"]["name"] == "Reichweitenmessung"
    assert config_version(session) == version + 1
    (entry,) = audited(session, "purpose.edited")
    assert entry.target_id == str(analytics.id)
    assert entry.before["texts"]["de"]["name"] == before_name
    assert entry.after["texts"]["de"]["name"] == "Reichweitenmessung"
    banner = client.get(BANNER + "&locale=de").json
    names = {p["key"]: p["name"] for p in banner["purposes"]}
    assert names["analytics"] == "Reichweitenmessung"


def test_an_unknown_consent_mode_type_is_refused_and_changes_nothing(editor, session):
    analytics = purpose(session, "analytics")
    version = config_version(session)
    response = editor.post(
        f"/admin/purposes/{analytics.id}",
        purpose_form(
            analytics, consent_mode=["analytics_storage", "tracking_storage"], name_de="Geändert"
        ),
    )
    assert response.status_code == 422
    assert "tracking_storage" in response.get_data(as_text=True)
    after = purpose(session, "analytics")
    assert after.consent_mode == ["analytics_storage"]
    assert after.texts["de"]["name"] != "Geändert"
    assert config_version(session) == version
    assert audited(session, "purpose.edited") == []


def test_an_essential_purpose_cannot_be_an_opt_out_category(editor, session):
    necessary = purpose(session, "necessary")
    response = editor.post(
        f"/admin/purposes/{necessary.id}", purpose_form(necessary, opt_out_categories=["sale"])
    )
    assert response.status_code == 422


def test_an_editor_adds_a_purpose(editor, client, session, shop):
    version = config_version(session)
    response = editor.post(
        f"/admin/purposes/{shop.id}/add", {"key": "social-media", "name": "Social media"}
    )
    assert response.status_code == 302
    added = purpose(session, "social-media")
    assert added.essential is False and added.legal_basis == "consent"
    assert added.position > max(p.position for p in shop.purposes if p.key != "social-media")
    assert config_version(session) == version + 1
    assert [e.target_id for e in audited(session, "purpose.added")] == [str(added.id)]
    keys = [p["key"] for p in client.get(BANNER).json["purposes"]]
    assert keys[-1] == "social-media"


@pytest.mark.parametrize("key", ["marketing", "Bad Key", "", "-dash-first"])
def test_a_duplicate_or_malformed_purpose_key_is_refused(editor, session, shop, key):
    count = len(shop.purposes)
    response = editor.post(f"/admin/purposes/{shop.id}/add", {"key": key, "name": "X"})
    assert response.status_code == 422
    session.expire_all()
    assert len(session.get(Property, shop.id).purposes) == count
    assert audited(session, "purpose.added") == []


def test_an_editor_adds_a_vendor_with_cookies_and_it_reaches_the_banner(
    editor, client, session, shop
):
    version = config_version(session)
    response = editor.post(f"/admin/purposes/{shop.id}/vendors/new", vendor_form())
    assert response.status_code == 302, response.get_data(as_text=True)
    added = vendor(session, "hotjar")
    assert added.country == "MT"
    assert [c["name"] for c in added.cookies] == ["_hjSessionUser_*", "_hjSession_*"]
    assert config_version(session) == version + 1
    (entry,) = audited(session, "vendor.added")
    assert entry.after["purposes"] == ["analytics"]
    banner = client.get(BANNER).json
    (listed,) = [v for v in banner["vendors"] if v["key"] == "hotjar"]
    assert listed["purposes"] == ["analytics"]
    assert listed["cookies"][1]["duration"] == "PT30M"
    analytics = next(p for p in banner["purposes"] if p["key"] == "analytics")
    assert "hotjar" in analytics["vendors"]


@pytest.mark.parametrize(
    "url",
    [
        "http://www.hotjar.com/privacy",
        "javascript:alert(1)",
        "JavaScript://example.com/%0Aalert(1)",
        "https://",
        "https://user:pw@example.com/",
    ],
)
def test_a_policy_address_other_than_https_is_refused(editor, session, shop, url):
    response = editor.post(
        f"/admin/purposes/{shop.id}/vendors/new", vendor_form(privacy_policy_url=url)
    )
    assert response.status_code == 422
    assert vendor(session, "hotjar") is None


@pytest.mark.parametrize(
    "overrides",
    [
        {"purposes": ["no-such-purpose"]},
        {"purposes": []},
        {"country": "XX"},
        {"name": " "},
        {"key": "matomo"},
        {"cookie_name_0": "", "cookie_domain_0": "first-party"},
    ],
)
def test_other_invalid_vendors_are_refused(editor, session, shop, overrides):
    version = config_version(session)
    response = editor.post(f"/admin/purposes/{shop.id}/vendors/new", vendor_form(**overrides))
    assert response.status_code == 422
    assert config_version(session) == version


def test_an_editor_edits_a_vendor(editor, session):
    matomo = vendor(session, "matomo")
    form = vendor_form(
        name="Matomo",
        country="DE",
        purposes=["analytics"],
        cookie_rows="1",
        cookie_name_0="_pk_id.*",
        cookie_domain_0="first-party",
        cookie_duration_0="P13M",
        cookie_description_0="Visitor ID.",
    )
    assert editor.post(f"/admin/vendors/{matomo.id}", form).status_code == 302
    changed = vendor(session, "matomo")
    assert changed.name == "Matomo" and len(changed.cookies) == 1
    (entry,) = audited(session, "vendor.edited")
    assert len(entry.before["cookies"]) == 3 and len(entry.after["cookies"]) == 1


def test_an_editor_deletes_a_vendor(editor, client, session):
    matomo = vendor(session, "matomo")
    version = config_version(session)
    response = editor.post(f"/admin/vendors/{matomo.id}/delete")
    assert response.status_code == 302
    assert vendor(session, "matomo") is None
    assert config_version(session) == version + 1
    (entry,) = audited(session, "vendor.deleted")
    assert entry.target_id == str(matomo.id) and entry.before["key"] == "matomo"
    assert entry.after is None
    assert "matomo" not in [v["key"] for v in client.get(BANNER).json["vendors"]]


def test_a_viewer_sees_but_cannot_change_anything(viewer, session, shop):
    analytics = purpose(session, "analytics")
    matomo = vendor(session, "matomo")
    version = config_version(session)
    assert viewer.get("/admin/purposes/").status_code == 200
    page = viewer.get(f"/admin/purposes/{analytics.id}").get_data(as_text=True)
    assert "Save purpose" not in page
    assert viewer.get(f"/admin/vendors/{matomo.id}").status_code == 200
    attempts = [
        (f"/admin/purposes/{analytics.id}", purpose_form(analytics, name_de="X")),
        (f"/admin/purposes/{shop.id}/add", {"key": "new", "name": "New"}),
        (f"/admin/purposes/{shop.id}/vendors/new", vendor_form()),
        (f"/admin/vendors/{matomo.id}", vendor_form()),
        (f"/admin/vendors/{matomo.id}/delete", {}),
    ]
    for path, form in attempts:
        assert viewer.post(path, form).status_code == 403, path
    assert viewer.get(f"/admin/purposes/{shop.id}/vendors/new").status_code == 403
    assert config_version(session) == version
    assert vendor(session, "matomo") is not None
