"""The self-service site for people (HTML): the preferences page and its ways in, receipt and
data downloads, one-click unsubscribe, and the public policy pages.

JSON for the widget and shop backends lives in ``consent_service.api``; this blueprint renders
pages, posts forms (CSRF-checked) and never imports another blueprint.
"""

from __future__ import annotations

from flask import Blueprint
from flask.sansio.blueprints import BlueprintSetupState

# Its stylesheets and script keep the app-wide /static/ URLs: the app itself has no static folder.
bp: Blueprint = Blueprint(
    "preferences",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

from consent_service.preferences import downloads  # noqa: E402, F401
from consent_service.preferences import erasure_statement  # noqa: E402, F401
from consent_service.preferences import page  # noqa: E402, F401
from consent_service.preferences import policy_diff  # noqa: E402, F401
from consent_service.preferences import policy_page  # noqa: E402, F401
from consent_service.preferences import sign_in  # noqa: E402, F401
from consent_service.preferences import unsubscribe  # noqa: E402, F401
from consent_service.preferences.view import error_page  # noqa: E402


@bp.record_once
def _register_error_pages(state: BlueprintSetupState) -> None:
    state.app.extensions.setdefault("html_error_pages", []).append(("/preferences/", error_page))
