"""One coherent admin (issue #17 item 10): the navigation and the home page list the same
sections, every one the role may open; campaigns name the document and version they announced;
comparing a version starts from the one before it, not from version 1."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import url_for

from admin.sections import SECTIONS
from consent_service.models import EmailCampaign
from consent_service.models import PolicyDocument
from consent_service.models import PolicyVersion
from tests.integration.test_admin_support import signed_in
from tests.integration.test_notifications_sink import add_customer
from tests.integration.test_notifications_sink import publish_version


def _links(html: str, landmark: str) -> list[str]:
    """The hrefs inside the first element whose opening tag contains ``landmark``."""
    start = html.index(landmark)
    tag = re.match(r"<(\w+)", html[html.rindex("<", 0, start) :]).group(1)
    end = html.index(f"</{tag}>", start)
    return re.findall(r'href="([^"]+)"', html[start:end])


def _urls(app) -> dict[str, str]:
    with app.test_request_context():
        return {s.title: url_for(s.endpoint) for s in SECTIONS}


def test_the_navigation_and_the_home_page_list_every_section_an_admin_may_open(app, session):
    admin = signed_in(app, session, "admin")
    page = admin.get("/admin/").get_data(as_text=True)
    every = list(_urls(app).values())
    assert _links(page, 'aria-label="Admin sections"') == ["/admin/", *every]
    assert _links(page, 'aria-label="Sections"') == every
    assert len(every) == 13  # Properties, Purposes, Scans, Erasures, Jurisdictions, Retention too


def test_a_viewer_sees_the_same_sections_in_both_lists_and_none_they_may_not_open(app, session):
    viewer = signed_in(app, session, "viewer")
    page = viewer.get("/admin/").get_data(as_text=True)
    urls = _urls(app)
    shown = _links(page, 'aria-label="Sections"')
    assert _links(page, 'aria-label="Admin sections"') == ["/admin/", *shown]
    assert urls["Properties"] in shown and urls["Retention"] in shown
    assert not {urls["Users"], urls["Integrations"], urls["Audit log"]} & set(shown)
    for url in shown:
        assert viewer.get(url).status_code == 200, url


def test_the_navigation_marks_the_section_of_the_page_being_shown(app, session):
    viewer = signed_in(app, session, "viewer")
    page = viewer.get("/admin/properties/demo-shop").get_data(as_text=True)
    nav = page.split('aria-label="Admin sections"', 1)[1].split("</nav>", 1)[0]
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', nav) == ["/admin/properties/"]


def test_a_campaign_names_the_document_and_version_it_announced(app, session):
    add_customer(app, session, "ann@example.com")
    version = publish_version(session)
    session.commit()
    campaign = session.scalar(
        sa.select(EmailCampaign).where(EmailCampaign.policy_version_id == version.id)
    )
    viewer = signed_in(app, session, "viewer")
    named = f"{version.document.title}, version {version.number}"
    listing = viewer.get("/admin/campaigns/").get_data(as_text=True)
    assert named in listing
    assert f'href="/admin/policies/versions/{version.id}"' in listing
    assert named in viewer.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)


def _versions(session) -> list[PolicyVersion]:
    document = session.scalar(
        sa.select(PolicyDocument).where(PolicyDocument.key == "privacy-policy")
    )
    return list(document.versions)


def test_comparing_a_version_offers_the_one_before_it_first(app, session):
    publish_version(session)
    session.commit()
    *_, before, newest = _versions(session)
    viewer = signed_in(app, session, "viewer")
    page = viewer.get(f"/admin/policies/versions/{newest.id}").get_data(as_text=True)
    assert re.findall(r'<option value="(\d+)" selected>', page) == [str(before.id)]


def test_the_differences_without_a_choice_are_the_newest_against_the_one_before(app, session):
    publish_version(session)
    session.commit()
    *_, before, newest = _versions(session)
    viewer = signed_in(app, session, "viewer")
    listing = viewer.get("/admin/policies/").get_data(as_text=True)
    assert f'href="/admin/policies/versions/{newest.id}/diff"' in listing
    page = viewer.get(f"/admin/policies/versions/{newest.id}/diff").get_data(as_text=True)
    assert f"version {before.number} → version {newest.number}" in page
