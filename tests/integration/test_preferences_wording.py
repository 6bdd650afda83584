"""What the preferences page says, in the language the person chose (issue #17, item 3): the
language survives every form, can be switched on the page and is remembered for a customer's
emails; each sentence is true (the new policy version, "Always on" once, a linked browser is
not anonymous) and none of it is English on a German page."""

from __future__ import annotations

import json
import re
import tomllib
import uuid

from consent_service.documents.versions import create_draft
from consent_service.documents.versions import get_document
from consent_service.documents.versions import publish
from consent_service.integrations.identity import Claims
from consent_service.integrations.identity import link_identity
from consent_service.integrations.identity import remember_locale
from consent_service.models import Identity
from consent_service.models.base import utcnow
from consent_service.preferences.view import TEXTS_DIR
from consent_service.properties.lookup import get_property
from consent_service.self_service.access import Access
from consent_service.self_service.access import Via
from consent_service.self_service.erasure import deadline_for
from policies import ERASURE_DEADLINES
from tests.integration.preferences_support import csrf_of
from tests.integration.preferences_support import customer_via_notice_link
from tests.integration.preferences_support import erase_now
from tests.integration.preferences_support import sign_in_visitor
from tests.integration.test_admin_support import signed_in
from tests.support import demo_consent

ENGLISH_UNKNOWN = "where you are is unknown"


def visitor_page(app, client, session, record, *, lang: str = "en", **granted: bool) -> str:
    visitor = uuid.uuid4()
    record(visitor, "custom", **granted)
    session.commit()
    sign_in_visitor(app, client, get_property(session, "demo-shop").id, visitor)
    return client.get(f"/preferences/?lang={lang}").get_data(as_text=True)


def purpose_item(page: str, key: str) -> str:
    match = re.search(
        rf'<li class="purpose" id="purpose-{key}">(.*?)</li>\s*(?=<li class="purpose"|</ul>)',
        page,
        re.S,
    )
    assert match, f"no purpose {key} on the page"
    return match.group(1)


def test_every_form_on_the_page_carries_its_language(app, client, session, record):
    page = visitor_page(app, client, session, record, lang="de")
    forms = page.count("<form ")
    assert forms >= 3  # sign out, choices, erasure
    assert page.count('<input type="hidden" name="lang" value="de">') == forms


def test_a_page_whose_language_the_browser_chose_keeps_its_address_clean(
    app, client, session, record
):
    visitor_page(app, client, session, record, lang="en")
    data = {"csrf_token": csrf_of(client), "action": "save", "purpose": ["analytics"]}
    response = client.post("/preferences/choices", data=data)
    assert "lang=" not in response.headers["Location"]


def test_saving_choices_returns_to_the_page_in_the_language_it_was_posted_in(
    app, client, session, record
):
    visitor_page(app, client, session, record, lang="de")
    data = {"csrf_token": csrf_of(client), "action": "save", "purpose": ["analytics"], "lang": "de"}
    response = client.post("/preferences/choices", data=data)
    assert response.status_code == 303
    assert "lang=de" in response.headers["Location"]
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<html lang="de"' in after
    assert "gespeichert" in after  # the saved notice, in German


def test_the_page_links_to_each_of_its_languages_and_marks_the_current_one(
    app, client, session, record
):
    page = visitor_page(app, client, session, record, lang="fr")
    assert 'href="/preferences/?lang=de"' in page
    assert 'href="/preferences/?lang=en"' in page
    assert '<span aria-current="true" lang="fr">Français</span>' in page
    assert 'href="/preferences/?lang=fr"' not in page


def test_a_customer_who_picks_a_language_gets_their_emails_in_it(app, client, session):
    identity = customer_via_notice_link(app, client, session)
    client.get("/preferences/?lang=de")
    session.expire_all()
    assert session.get(Identity, identity.id).locale == "de"


def test_remembering_a_locale_leaves_an_erased_customer_without_one(app, session):
    identity = customer_via_notice_link(app, app.test_client(), session)
    identity.erased_at = identity.created_at
    remember_locale(session, identity.id, "fr")
    assert identity.locale is None


def test_the_necessary_purpose_says_always_on_once(app, client, session, record):
    page = visitor_page(app, client, session, record)
    assert purpose_item(page, "necessary").count("Always on") == 1


def test_a_stale_choice_names_the_new_policy_version_in_german(app, client, session, record):
    visitor = uuid.uuid4()
    record(visitor, "custom", marketing=True)  # under version 2
    document = get_document(session, "demo-shop", "privacy-policy")
    draft = create_draft(
        session, document, "# v3\n", material=True, affected_purposes=["marketing"]
    )
    new = publish(session, draft).number
    session.commit()
    sign_in_visitor(app, client, get_property(session, "demo-shop").id, visitor)
    german = purpose_item(client.get("/preferences/?lang=de").get_data(as_text=True), "marketing")
    assert f"es gilt jetzt Version {new}" in german
    assert "unter Version 2" in german


def test_a_browser_linked_to_a_customer_is_told_whose_account_its_choices_count_for(
    app, client, session, vault, record
):
    visitor = uuid.uuid4()
    record(visitor, "accept_all")
    prop = get_property(session, "demo-shop")
    link_identity(
        session, vault, prop.id, Claims("c-linked-17", "linda@example.com"), visitor_id=visitor
    )
    session.commit()
    sign_in_visitor(app, client, prop.id, visitor)
    page = client.get("/preferences/?lang=en").get_data(as_text=True)
    assert "we do not know who you are" not in page
    assert "linked to the customer account of l…@example.com" in page


def test_the_unknown_location_deadline_is_a_citation_with_a_flag_not_an_english_sentence():
    deadline = deadline_for("unknown")
    assert deadline.location_unknown
    assert ENGLISH_UNKNOWN not in deadline.law


def test_the_german_erasure_deadline_carries_no_english_phrase(app, client, session):
    visitor = uuid.uuid4()  # no receipt yet: where the person is is unknown
    sign_in_visitor(app, client, get_property(session, "demo-shop").id, visitor)
    page = client.get("/preferences/?lang=de").get_data(as_text=True)
    assert "die kürzeste uns bekannte Frist" in page
    assert ENGLISH_UNKNOWN not in page
    assert "none" not in re.search(r"Das für Sie geltende Recht.*?</p>", page, re.S).group(0)


def test_every_deadline_extension_in_the_rulebook_has_a_german_and_french_text():
    with ERASURE_DEADLINES.open("rb") as file:
        extensions = {entry["extension"] for entry in tomllib.load(file)["deadline"]}
    for locale in ("de", "fr"):
        own = json.loads((TEXTS_DIR / f"{locale}.json").read_text("utf-8"))
        assert {e for e in extensions if f"extension_{e}" not in own} == set(), locale


def test_the_german_erasure_deadline_names_the_gdpr_extension_in_german(app, client, session):
    visitor = uuid.uuid4()
    response = client.post(
        "/v1/consents", json=demo_consent(visitor), query_string={"region": "FR"}
    )
    assert response.status_code == 201, response.json
    sign_in_visitor(app, client, get_property(session, "demo-shop").id, visitor)
    page = client.get("/preferences/?lang=de").get_data(as_text=True)
    assert "(GDPR Art. 12(3), Art. 17)" in page
    assert "zwei weitere Monate, wo nötig" in page
    assert "two further months" not in page


def test_the_admin_says_in_english_that_an_unknown_location_got_the_shortest_deadline(app, session):
    visitor = uuid.uuid4()  # no receipt: where the person is is unknown
    prop = get_property(session, "demo-shop")
    done = erase_now(app, session, Access(prop.id, visitor, None, Via.VISITOR_LINK, utcnow()))
    assert done.request.jurisdiction == "unknown"
    page = signed_in(app, session, "viewer").get("/admin/erasures/").get_data(as_text=True)
    assert f"browser {done.request.subject_id}" in page
    assert "(where the person is is unknown, so the shortest deadline we know applies)" in page
