"""The other ad and shop platforms' signals as data: each purpose's mapping (defaults from its
Consent Mode types, edited on the purpose's page) and each property's enabled platforms
(edited in its settings). Every change is audited and reaches the banner at once; refused
input names what is wrong and changes nothing; the banner carries only enabled platforms."""

from __future__ import annotations

from html.parser import HTMLParser

import sqlalchemy as sa

from consent_service.models import Property
from consent_service.properties.catalogue import PurposeChange
from consent_service.properties.catalogue import add_purpose
from consent_service.properties.platforms import PLATFORMS
from consent_service.properties.platforms import default_platform_signals
from tests.integration.test_admin_properties import URL as SETTINGS_URL
from tests.integration.test_admin_properties import settings_form
from tests.integration.test_admin_purposes import BANNER
from tests.integration.test_admin_purposes import audited
from tests.integration.test_admin_purposes import config_version
from tests.integration.test_admin_purposes import fresh_banner_cache  # noqa: F401
from tests.integration.test_admin_purposes import purpose
from tests.integration.test_admin_purposes import purpose_form


def demo(session) -> Property:
    session.expire_all()
    return session.scalar(sa.select(Property).where(Property.key == "demo-shop"))


def enable(editor, session, *platforms: str):
    form = settings_form(demo(session))
    form["platforms"] = list(platforms)
    return editor.post(SETTINGS_URL, form)


def signal_choices(item) -> list[str]:
    return [
        f"{platform}:{signal}"
        for platform, signals in item.platform_signals.items()
        for signal in signals
    ]


class _CheckedBoxes(HTMLParser):
    """What a browser submits of a form's inputs: (name, value), unchecked boxes left out."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        checkbox = attrs.get("type") == "checkbox"
        if tag == "input" and attrs.get("name") and (not checkbox or "checked" in attrs):
            self.fields.append((attrs["name"], attrs.get("value") or ""))


def submitted(page: str, name: str) -> list[str]:
    parser = _CheckedBoxes()
    parser.feed(page)
    return [value for field, value in parser.fields if field == name]


def test_the_demos_purposes_map_to_each_platform_as_their_consent_mode_types_say(session):
    assert purpose(session, "advertising").platform_signals == {
        "microsoft_uet": ["ad_storage"],
        "microsoft_clarity": ["ad_Storage"],
        "meta_pixel": ["consent"],
        "tiktok_pixel": ["consent"],
        "amazon_ads": ["amzn_ad_storage"],
        "shopify": ["marketing", "sale_of_data"],  # its opt-out categories: sale, sharing
        "wp_consent": ["marketing"],
    }
    assert purpose(session, "marketing").platform_signals == {
        "meta_pixel": ["consent"],
        "tiktok_pixel": ["consent"],
        "amazon_ads": ["amzn_user_data"],
        "shopify": ["marketing", "sale_of_data"],
        "wp_consent": ["marketing"],
    }
    assert purpose(session, "analytics").platform_signals == {
        "microsoft_clarity": ["analytics_Storage"],
        "shopify": ["analytics"],
        "wp_consent": ["statistics", "statistics-anonymous"],
    }
    assert purpose(session, "necessary").platform_signals == {"wp_consent": ["functional"]}


def test_without_enabled_platforms_the_banner_carries_no_platform_signal(client):
    banner = client.get(BANNER).json
    assert banner["platforms"] == []
    assert all(p["platform_signals"] == {} for p in banner["purposes"])


def test_an_editor_enables_platforms_audited_and_the_banner_carries_only_theirs(
    editor, session, client
):
    version = config_version(session)
    response = enable(editor, session, "shopify", "microsoft_uet")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert demo(session).platforms == ["microsoft_uet", "shopify"]  # the catalogue's order
    assert config_version(session) == version + 1
    (entry,) = audited(session, "property.settings_changed")
    assert entry.before["platforms"] == [] and entry.after["platforms"] == [
        "microsoft_uet",
        "shopify",
    ]
    banner = client.get(BANNER).json
    assert banner["platforms"] == ["microsoft_uet", "shopify"]
    signals = {p["key"]: p["platform_signals"] for p in banner["purposes"]}
    assert signals["advertising"] == {
        "microsoft_uet": ["ad_storage"],
        "shopify": ["marketing", "sale_of_data"],
    }
    assert signals["analytics"] == {"shopify": ["analytics"]}
    assert signals["necessary"] == {}  # wp_consent is not enabled


def test_an_unknown_platform_is_refused_by_name_and_nothing_changes(editor, session):
    version = config_version(session)
    response = enable(editor, session, "shopify", "snapchat")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Nothing was saved: &#39;snapchat&#39; is not a platform (amazon_ads," in page
    assert demo(session).platforms == [] and config_version(session) == version
    assert audited(session, "property.settings_changed") == []


def test_the_settings_page_offers_every_platform_and_keeps_them_across_parts(editor, session):
    page = editor.get(SETTINGS_URL).get_data(as_text=True)
    for platform in PLATFORMS.values():
        assert f'id="platform-{platform.key}" name="platforms" value="{platform.key}"' in page
    assert submitted(page, "platforms") == []
    assert enable(editor, session, "wp_consent", "tiktok_pixel").status_code == 302
    settings = editor.get(SETTINGS_URL).get_data(as_text=True)
    assert submitted(settings, "platforms") == ["tiktok_pixel", "wp_consent"]
    # Another part carries them as it found them, so saving its texts keeps them.
    texts = editor.get(f"{SETTINGS_URL}?part=texts-de").get_data(as_text=True)
    assert submitted(texts, "platforms") == ["tiktok_pixel", "wp_consent"]


def test_an_editor_maps_a_purpose_to_signals_audited_and_the_banner_follows(
    editor, session, client
):
    assert enable(editor, session, "microsoft_clarity").status_code == 302
    preferences = purpose(session, "preferences")
    version = config_version(session)
    chosen = [*signal_choices(preferences), "microsoft_clarity:analytics_Storage"]
    response = editor.post(
        f"/admin/purposes/{preferences.id}", purpose_form(preferences, platform_signals=chosen)
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    saved = purpose(session, "preferences").platform_signals
    assert saved["microsoft_clarity"] == ["analytics_Storage"]
    assert config_version(session) == version + 1
    (entry,) = audited(session, "purpose.edited")
    assert "microsoft_clarity" not in entry.before["platform_signals"]
    assert entry.after["platform_signals"]["microsoft_clarity"] == ["analytics_Storage"]
    banner = client.get(BANNER).json
    signals = {p["key"]: p["platform_signals"] for p in banner["purposes"]}
    assert signals["preferences"] == {"microsoft_clarity": ["analytics_Storage"]}
    assert signals["analytics"] == {"microsoft_clarity": ["analytics_Storage"]}


def test_the_purpose_page_shows_each_platforms_signals_checked_as_mapped(editor, session):
    marketing = purpose(session, "marketing")
    page = editor.get(f"/admin/purposes/{marketing.id}").get_data(as_text=True)
    for platform in PLATFORMS.values():
        for signal in platform.signals:
            assert f'value="{platform.key}:{signal}"' in page
    assert sorted(submitted(page, "platform_signals")) == sorted(signal_choices(marketing))
    assert "none enabled yet" in page and "sale or sharing opt-out category" in page


def test_unchecking_every_signal_clears_the_mapping(editor, session):
    analytics = purpose(session, "analytics")
    response = editor.post(f"/admin/purposes/{analytics.id}", purpose_form(analytics))
    assert response.status_code == 302
    assert purpose(session, "analytics").platform_signals == {}


def test_an_unknown_platform_or_signal_on_a_purpose_is_refused_and_changes_nothing(editor, session):
    advertising = purpose(session, "advertising")
    before = dict(advertising.platform_signals)
    version = config_version(session)
    response = editor.post(
        f"/admin/purposes/{advertising.id}",
        purpose_form(
            advertising,
            platform_signals=["microsoft_uet:ad_storage", "microsoft_uet:ad_user_data", "x:y"],
        ),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert (
        "&#39;ad_user_data&#39; is not a signal of Microsoft Advertising UET consent mode "
        "(ad_storage)" in page
    )
    assert "&#39;x&#39; is not a platform" in page
    # The refused form is shown again as submitted (its known boxes checked) to correct.
    assert submitted(page, "platform_signals") == ["microsoft_uet:ad_storage"]
    assert purpose(session, "advertising").platform_signals == before
    assert config_version(session) == version
    assert audited(session, "purpose.edited") == []


def test_a_viewer_sees_the_mapping_but_cannot_change_it(viewer, session):
    marketing = purpose(session, "marketing")
    page = viewer.get(f"/admin/purposes/{marketing.id}").get_data(as_text=True)
    assert 'value="meta_pixel:consent" checked disabled' in page
    response = viewer.post(
        f"/admin/purposes/{marketing.id}", purpose_form(marketing, platform_signals=[])
    )
    assert response.status_code == 403
    assert purpose(session, "marketing").platform_signals["meta_pixel"] == ["consent"]


def test_a_new_purpose_starts_from_what_its_consent_mode_types_imply(session):
    change = PurposeChange(
        texts={"en": {"name": "Heatmaps"}},
        legal_basis="consent",
        consent_mode=["analytics_storage"],
        opt_out_categories=[],
        position=9,
    )
    created = add_purpose(session, demo(session), "heatmaps", change)
    assert created.platform_signals == default_platform_signals(["analytics_storage"])
    assert created.platform_signals["microsoft_clarity"] == ["analytics_Storage"]
