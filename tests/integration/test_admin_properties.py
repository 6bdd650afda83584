"""Property settings and banner texts in the admin: validated, audited, bumping the banner's
configuration version; and a live preview of the real widget under its own, narrower-than-
the-admin's-usual exception to the Content Security Policy."""

from __future__ import annotations

import urllib.parse

import pytest
import sqlalchemy as sa

from consent_service.banner.preview import preview_region
from consent_service.models import Property
from consent_service.properties.settings import BANNER_TEXT_ORDER
from tests.integration.test_admin_support import audit_entries

URL = "/admin/properties/demo-shop"


def demo(session) -> Property:
    session.expire_all()
    return session.scalar(sa.select(Property).where(Property.key == "demo-shop"))


def settings_form(prop: Property, **overrides: str) -> dict[str, str]:
    """The edit form as the page submits it, unchanged, then ``overrides``."""
    form = {
        "name": prop.name,
        "allowed_origins": "\n".join(prop.allowed_origins),
        "default_locale": prop.default_locale,
        "locales": " ".join(prop.locales),
        "cookie_domain": prop.cookie_domain or "",
    }
    for locale, texts in prop.banner_texts.items():
        for key in BANNER_TEXT_ORDER:
            form[f"text-{locale}-{key}"] = texts.get(key, "")
    form.update(overrides)
    return form


def test_the_list_links_each_property(editor):
    page = editor.get("/admin/properties/").get_data(as_text=True)
    assert f'href="{URL}"' in page


def test_the_editor_shows_every_banner_text_of_every_language(editor, session):
    page = editor.get(URL).get_data(as_text=True)
    for locale in ("en", "de", "fr"):
        for key in BANNER_TEXT_ORDER:
            assert f'name="text-{locale}-{key}"' in page
    assert "Ihre Datenschutz-Einstellungen" in page


def test_an_editor_saves_texts_and_origins_audited_and_the_banner_changes(editor, session, client):
    prop = demo(session)
    version = prop.config_version
    before_banner = client.get("/v1/banner?property=demo-shop&locale=de").json
    form = settings_form(
        prop,
        **{
            "allowed_origins": "https://shop.northwind.example\nHTTPS://Beta.Northwind.Example:8443\n",
            "text-de-title": "Ihre Wahl",
        },
    )
    response = editor.post(URL, form)
    assert response.status_code == 302, response.get_data(as_text=True)
    prop = demo(session)
    assert prop.allowed_origins == [
        "https://shop.northwind.example",
        "https://beta.northwind.example:8443",
    ]
    assert prop.banner_texts["de"]["title"] == "Ihre Wahl"
    assert prop.config_version == version + 1
    (entry,) = audit_entries(session, "property.settings_changed")
    assert entry.target_id == "demo-shop"
    assert entry.before["banner_texts"]["de"]["title"] == "Ihre Datenschutz-Einstellungen"
    assert entry.after["banner_texts"]["de"]["title"] == "Ihre Wahl"
    assert entry.after["allowed_origins"][1] == "https://beta.northwind.example:8443"
    after_banner = client.get("/v1/banner?property=demo-shop&locale=de").json
    assert before_banner["texts"]["title"] != after_banner["texts"]["title"] == "Ihre Wahl"


def test_saving_nothing_new_changes_nothing(editor, session):
    prop = demo(session)
    version = prop.config_version
    assert editor.post(URL, settings_form(prop)).status_code == 302
    assert demo(session).config_version == version
    assert audit_entries(session, "property.settings_changed") == []


@pytest.mark.parametrize(
    "origin",
    [
        "https://shop.example/path",
        "ftp://shop.example",
        "https://shop.example?x=1",
        "shop.example",
        "https://user@shop.example",
        "https://shop.example:99999",
        "javascript:alert(1)",
    ],
)
def test_a_bad_origin_is_refused_and_nothing_changes(editor, session, origin):
    prop = demo(session)
    stored, version = list(prop.allowed_origins), prop.config_version
    form = settings_form(
        prop, allowed_origins=f"https://ok.example\n{origin}", **{"text-en-title": "Changed"}
    )
    response = editor.post(URL, form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page and "is not an origin" in page
    assert 'aria-invalid="true"' in page
    prop = demo(session)
    assert prop.allowed_origins == stored and prop.config_version == version
    assert prop.banner_texts["en"]["title"] != "Changed"
    assert audit_entries(session, "property.settings_changed") == []


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"text-fr-accept_all": "  "}, "fr: accept_all is required"),
        ({"text-en-gpc_honoured": ""}, "en: gpc_honoured is required"),
        ({"locales": "de fr EN_us"}, "is not a language code"),
        ({"default_locale": "english"}, "is not a language code"),
        ({"cookie_domain": "not a domain"}, "is not a domain name"),
        ({"name": " "}, "a name is required"),
    ],
)
def test_other_invalid_settings_are_refused(editor, session, overrides, message):
    prop = demo(session)
    version = prop.config_version
    response = editor.post(URL, settings_form(prop, **overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert demo(session).config_version == version


def test_an_optional_text_may_fall_back_to_the_default_language(editor, session):
    prop = demo(session)
    assert editor.post(URL, settings_form(prop, **{"text-fr-gpc_honoured": ""})).status_code == 302
    assert "gpc_honoured" not in demo(session).banner_texts["fr"]


def test_a_viewer_sees_the_settings_but_cannot_save(viewer, session):
    prop = demo(session)
    page = viewer.get(URL)
    assert page.status_code == 200
    assert "Save settings" not in page.get_data(as_text=True)
    response = viewer.post(URL, settings_form(prop, name="Taken over"))
    assert response.status_code == 403
    assert demo(session).name != "Taken over"


def test_only_the_preview_gets_the_relaxed_policy(editor):
    edit = editor.get(URL)
    assert "script-src" not in edit.headers["Content-Security-Policy"]
    assert "frame-src 'self'" in edit.headers["Content-Security-Policy"]
    assert edit.headers["X-Frame-Options"] == "DENY"
    src = edit.get_data(as_text=True).split('<iframe src="', 1)[1].split('"', 1)[0]
    preview = editor.get(src.replace("&amp;", "&"))
    assert preview.status_code == 200
    policy = preview.headers["Content-Security-Policy"]
    for directive in (
        "script-src 'self'",
        "style-src 'self'",
        "connect-src http://localhost/v1/banner",
    ):
        assert directive in policy
    assert "connect-src 'self'" not in policy  # a click in the preview records nothing
    assert "frame-ancestors 'self'" in policy and "unsafe-inline" not in policy
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert 'src="/v1/widget.js"' in preview.get_data(as_text=True)
    for other in ("/admin/properties/", "/admin/policies/", "/admin/"):
        policy = editor.get(other).headers["Content-Security-Policy"]
        assert "script-src" not in policy and "frame-ancestors 'none'" in policy


def test_the_preview_signs_the_chosen_region(app, editor):
    response = editor.get(f"{URL}/preview?region=us-ca&locale=de")
    assert response.status_code == 302
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(response.location).query)
    assert query["locale"] == ["de"]
    assert preview_region(app.extensions["consent_settings"].secret_key, query["region"][0]) == (
        "US-CA"
    )
    page = editor.get(response.location).get_data(as_text=True)
    assert '<html lang="de">' in page and "US-CA" in page


def test_the_preview_needs_a_signed_in_admin(app):
    response = app.test_client().get(f"{URL}/preview?region=FR")
    assert response.status_code == 302 and response.location.endswith("/admin/sign-in")
