"""``/policies/<property>/<document>/<number>``: one published policy version as a page people
read (the link behind the banner's "Privacy policy", the layer's documents and every email),
rendered with the admin preview's sanitiser, in the page's language. The exact bytes receipts
hash stay at the API's URL, which this page links to. Drafts never show: an unknown or
unpublished version is a 404 page in a browser (problem+json for a program, as documented)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from flask import request
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from consent_service.documents.rendering import render_policy
from consent_service.documents.versions import current_version
from consent_service.documents.versions import get_document
from consent_service.documents.versions import get_published
from consent_service.errors import UnknownPolicy
from consent_service.errors import UnknownProperty
from consent_service.extensions import current_session
from consent_service.preferences import bp
from consent_service.preferences.view import page_locale
from consent_service.preferences.view import render
from consent_service.preferences.view import texts
from consent_service.properties.lookup import get_property


@dataclasses.dataclass(frozen=True)
class PolicyPage:
    """What the page shows of one published version."""

    property_key: str
    property_name: str
    document_key: str
    title: str
    number: int
    effective_at: dt.datetime | None
    sha256: str
    change_summary: dict[str, str]
    html: Markup
    newest: int | None  # the version in effect now, when it is a later one


def policy_page(session: Session, property_key: str, document_key: str, number: int) -> PolicyPage:
    """The published version ``number`` rendered, with the facts around it; UnknownPolicy
    (or UnknownProperty) when there is none."""
    prop = get_property(session, property_key)
    document = get_document(session, property_key, document_key)
    version = get_published(session, property_key, document_key, number)
    current = current_version(session, document.id)
    return PolicyPage(
        property_key=prop.key,
        property_name=prop.name,
        document_key=document.key,
        title=document.title,
        number=number,
        effective_at=version.effective_at,
        sha256=version.sha256,
        change_summary=dict(version.change_summary or {}),
        # Sanitised by render_policy (no raw HTML, allow-listed tags and link schemes).
        html=Markup(render_policy(version.body, demote=1)),
        newest=current.number if current and (current.number or 0) > number else None,
    )


def summary_in(summaries: dict[str, str], locale: str) -> str | None:
    """The change summary in the page's language, else English, else whichever there is."""
    return summaries.get(locale) or summaries.get("en") or next(iter(summaries.values()), None)


@bp.get(
    "/policies/<property_key>/<document_key>/<int(min=1, max=2147483647):number>",
    endpoint="policy_page",
)
def policy_page_view(property_key: str, document_key: str, number: int) -> Response:
    try:
        page = policy_page(current_session(), property_key, document_key, number)
    except (UnknownPolicy, UnknownProperty):
        accept = request.accept_mimetypes
        if accept["text/html"] <= accept["application/problem+json"]:
            raise  # a program asking: the documented problem+json
        t = texts(page_locale())
        return render(
            "message.html", status=404, heading=t.policy_not_found, body=t.policy_not_found_body
        )
    locale = page_locale()
    return render(
        "policy.html",
        policy=page,
        summary=summary_in(page.change_summary, locale),
        property_name=page.property_name,
    )
