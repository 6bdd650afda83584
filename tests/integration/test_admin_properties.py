"""Property settings and banner texts in the admin: validated, audited, bumping the banner's
configuration version; and a live preview of the real widget under its own, narrower-than-
the-admin's-usual exception to the Content Security Policy."""

from __future__ import annotations

import urllib.parse
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from consent_service.banner.preview import preview_region
from consent_service.jurisdictions.rules import Regime
from consent_service.models import Property
from consent_service.properties.settings import REGIME_TEXT_ORDER
from consent_service.properties.settings import SHARED_TEXT_ORDER

# autouse: tests roll back, so a config_version recurs; no banner cached by another may show
from tests.integration.test_admin_purposes import fresh_banner_cache  # noqa: F401
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
        for key in SHARED_TEXT_ORDER:
            form[f"text-{locale}-{key}"] = texts.get(key, "")
    for regime in Regime:
        for locale, texts in prop.regime_texts.get(regime.value, {}).items():
            for key in REGIME_TEXT_ORDER[regime]:
                form[f"regime-{regime.value}-{locale}-{key}"] = texts.get(key, "")
    form.update(overrides)
    return form


def test_the_list_links_each_property(editor):
    page = editor.get("/admin/properties/").get_data(as_text=True)
    assert f'href="{URL}"' in page


def test_the_editor_shows_every_banner_text_of_every_language(editor, session):
    page = editor.get(URL).get_data(as_text=True)
    for locale in ("en", "de", "fr"):
        for key in SHARED_TEXT_ORDER:
            assert f'name="text-{locale}-{key}"' in page
    assert "Ihre Datenschutz-Einstellungen" in page


def test_the_editor_groups_each_languages_regime_words_under_clear_labels(editor):
    for locale in ("en", "de", "fr"):
        # Each language's texts are their own part of the editor (issue #17 item 10).
        page = editor.get(f"{URL}?part=texts-{locale}").get_data(as_text=True)
        for regime in Regime:
            for key in REGIME_TEXT_ORDER[regime]:
                assert f'<textarea id="regime-{regime.value}-{locale}-{key}"' in page
        for legend in (
            "Opt-in: the law asks for consent before anything optional runs (as in France)",
            "Opt-out: optional tracking runs until the visitor opts out (as in California)",
            "Notice: the law asks only to inform (as in Japan)",
        ):
            assert page.count(legend) == 1
        assert "Opt-out button" in page and "OK button (acknowledges the notice)" in page
    page = editor.get(URL).get_data(as_text=True)
    for regime in Regime:
        for locale in ("en", "de", "fr"):
            for key in REGIME_TEXT_ORDER[regime]:
                assert f'name="regime-{regime.value}-{locale}-{key}"' in page
    assert "Widersprechen" in page and "J&#39;ai compris" in page
    # an opt-in banner never offers "OK": no such field
    assert 'name="regime-opt_in-en-acknowledge"' not in page


def test_an_editor_saves_texts_and_origins_audited_and_the_banner_changes(editor, session, client):
    prop = demo(session)
    version = prop.config_version
    before_banner = client.get("/v1/banner?property=demo-shop&locale=de").json
    form = settings_form(
        prop,
        **{
            "allowed_origins": "https://shop.northwind.example\nHTTPS://Beta.Northwind.Example:8443\n",
            "regime-opt_in-de-title": "Ihre Wahl",
        },
    )
    response = editor.post(URL, form)
    assert response.status_code == 302, response.get_data(as_text=True)
    prop = demo(session)
    assert prop.allowed_origins == [
        "https://shop.northwind.example",
        "https://beta.northwind.example:8443",
    ]
    assert prop.regime_texts["opt_in"]["de"]["title"] == "Ihre Wahl"
    assert prop.config_version == version + 1
    (entry,) = audit_entries(session, "property.settings_changed")
    assert entry.target_id == "demo-shop"
    assert entry.before["regime_texts"]["opt_in"]["de"]["title"] == "Ihre Datenschutz-Einstellungen"
    assert entry.after["regime_texts"]["opt_in"]["de"]["title"] == "Ihre Wahl"
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
        prop,
        allowed_origins=f"https://ok.example\n{origin}",
        **{"regime-opt_in-en-title": "Changed"},
    )
    response = editor.post(URL, form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page and "is not an origin" in page
    assert 'aria-invalid="true"' in page
    prop = demo(session)
    assert prop.allowed_origins == stored and prop.config_version == version
    assert prop.regime_texts["opt_in"]["en"]["title"] != "Changed"
    assert audit_entries(session, "property.settings_changed") == []


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"text-fr-customize": "  "}, "fr: customize is required"),
        ({"text-en-gpc_honoured": ""}, "en: gpc_honoured is required"),
        ({"text-en-gpc_status": ""}, "en: gpc_status is required"),
        ({"regime-notice-en-acknowledge": ""}, "en: notice acknowledge is required"),
        ({"regime-opt_out-en-description": " "}, "en: opt-out description is required"),
        ({"regime-opt_in-en-reject_all": "x" * 81}, "en: opt-in reject_all is longer than 80"),
        ({"text-de-confirm": "x" * 81}, "de: confirm is longer than 80 characters"),
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


def test_an_editor_saves_one_regimes_words_audited_and_only_that_regimes_banner_changes(
    editor, session, client
):
    prop = demo(session)
    version = prop.config_version
    virginia = "/v1/banner?property=demo-shop&locale=de&region=US-VA"
    france = "/v1/banner?property=demo-shop&locale=de&region=FR"
    french_before = client.get(france).json["texts"]
    response = editor.post(
        URL, settings_form(prop, **{"regime-opt_out-de-reject_all": "Verkauf widersprechen"})
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    prop = demo(session)
    assert prop.regime_texts["opt_out"]["de"]["reject_all"] == "Verkauf widersprechen"
    assert prop.config_version == version + 1
    (entry,) = audit_entries(session, "property.settings_changed")
    assert entry.before["regime_texts"]["opt_out"]["de"]["reject_all"] == "Widersprechen"
    assert entry.after["regime_texts"]["opt_out"]["de"]["reject_all"] == "Verkauf widersprechen"
    assert client.get(virginia).json["texts"]["reject_all"] == "Verkauf widersprechen"
    assert client.get(france).json["texts"] == french_before


def test_a_missing_regime_text_marks_its_own_field_and_nothing_is_saved(editor, session):
    prop = demo(session)
    version = prop.config_version
    form = settings_form(
        prop, **{"regime-notice-en-title": "", "regime-opt_out-en-accept_all": "Changed"}
    )
    response = editor.post(URL, form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was saved" in page and "en: notice title is required" in page
    field = page.split('id="regime-notice-en-title"', 1)[1].split(">", 1)[0]
    assert 'aria-invalid="true"' in field
    assert page.count('aria-invalid="true"') == 1
    prop = demo(session)
    assert prop.config_version == version
    assert prop.regime_texts["opt_out"]["en"]["accept_all"] != "Changed"
    assert audit_entries(session, "property.settings_changed") == []


def test_a_regime_text_may_fall_back_to_the_default_language(editor, session, client):
    prop = demo(session)
    english_title = prop.regime_texts["opt_out"]["en"]["title"]
    response = editor.post(URL, settings_form(prop, **{"regime-opt_out-fr-title": ""}))
    assert response.status_code == 302
    assert "title" not in demo(session).regime_texts["opt_out"]["fr"]
    texts = client.get("/v1/banner?property=demo-shop&locale=fr&region=US-VA").json["texts"]
    assert texts["title"] == english_title
    assert texts["reject_all"] == "Refuser"  # the other words stay French


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


def test_the_preview_offers_each_regime_through_a_region_the_rulebook_gives_it(editor):
    page = editor.get(URL).get_data(as_text=True)
    regimes = page.split('<optgroup label="Each regime">', 1)[1].split("</optgroup>", 1)[0]
    assert [option.split(">", 1)[1] for option in regimes.split("</option>")[:-1]] == [
        "Opt-in (France, FR)",
        "Opt-out (California, US-CA)",
        "Notice (Japan, JP)",
    ]
    assert 'title="Banner preview for region FR (opt-in) in language en"' in page
    japan = editor.get(f"{URL}?region=JP&locale=fr").get_data(as_text=True)
    assert 'title="Banner preview for region JP (notice) in language fr"' in japan
    src = japan.split('<iframe src="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert "JP (notice), in fr." in editor.get(src).get_data(as_text=True)


def test_the_preview_needs_a_signed_in_admin(app):
    response = app.test_client().get(f"{URL}/preview?region=FR")
    assert response.status_code == 302 and response.location.endswith("/admin/sign-in")


class _FormFields(HTMLParser):
    """Every field the page's settings form would submit, as a browser would: (name, value)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None
        self._inside = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if (
            tag == "form"
            and attrs.get("method") == "post"
            and "property-settings" in attrs.get("class", "")
        ):
            self._inside = True
        elif self._inside and tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""
        elif self._inside and tag == "textarea":
            self._textarea = attrs["name"]
            self.fields[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._inside = False
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def _fields(page: str) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(page)
    return parser.fields


def test_the_editor_opens_on_the_settings_and_preview_with_a_tab_per_language(editor):
    page = editor.get(URL).get_data(as_text=True)
    assert '<textarea id="text-' not in page and '<textarea id="regime-' not in page
    assert 'id="allowed_origins"' in page and "<iframe" in page
    tabs = page.split('<ul class="tabs">', 1)[1].split("</ul>", 1)[0]
    assert 'aria-current="page">Settings &amp; preview' in tabs
    for locale in ("en", "de", "fr"):
        assert f'href="{URL}?part=texts-{locale}">Banner texts: {locale}</a>' in tabs


def test_saving_one_languages_part_keeps_every_other_part_as_it_was(editor, session):
    before = demo(session)
    origins, english = list(before.allowed_origins), dict(before.banner_texts["en"])
    page = editor.get(f"{URL}?part=texts-de").get_data(as_text=True)
    fields = _fields(page)
    assert (
        '<textarea id="text-de-customize"' in page
        and '<textarea id="text-en-customize"' not in page
    )
    fields["text-de-customize"] = "Ihre Wahl"
    response = editor.post(f"{URL}?part=texts-de", fields)
    assert response.status_code == 302
    assert response.location.endswith(f"{URL}?part=texts-de")
    after = demo(session)
    assert after.banner_texts["de"]["customize"] == "Ihre Wahl"
    assert after.allowed_origins == origins and after.banner_texts["en"] == english


def test_a_refusal_shows_every_part_so_the_marked_field_is_on_the_page(editor, session):
    fields = _fields(editor.get(URL).get_data(as_text=True))
    fields["regime-notice-fr-title"] = ""  # on another part than the one saved from
    fields["default_locale"] = "fr"
    page = editor.post(URL, fields).get_data(as_text=True)
    field = page.split('<textarea id="regime-notice-fr-title"', 1)[1].split(">", 1)[0]
    assert 'aria-invalid="true"' in field
