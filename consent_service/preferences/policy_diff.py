"""``/policies/<property>/<document>/diff/<old>..<new>``: what changed, for the people who
are told about the change (the link in every policy-change email). Public: published
versions are public anyway."""

from __future__ import annotations

from flask import Response
from flask import render_template
from flask import request

from consent_service.documents.diff import diff_published
from consent_service.extensions import current_session
from consent_service.preferences import bp

_INT = "int(min=1, max=2147483647)"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


@bp.get(f"/policies/<property_key>/<document_key>/diff/<{_INT}:old>..<{_INT}:new>")
def policy_diff_page(property_key: str, document_key: str, old: int, new: int) -> Response:
    diff = diff_published(current_session(), property_key, document_key, old, new)
    summaries = diff.new.change_summary
    locale = request.accept_languages.best_match(sorted(summaries)) if summaries else None
    locale = request.args.get("lang") if request.args.get("lang") in summaries else locale
    html = render_template(
        "policies/diff.html",
        diff=diff,
        summary=summaries.get(locale or "en") or next(iter(summaries.values()), None),
        lang=locale or "en",
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    # Both versions are immutable once published, so the page never changes.
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
