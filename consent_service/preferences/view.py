"""Rendering the preferences page: its language, its texts, and the headers every page of it
carries."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any

from flask import g
from flask import render_template
from flask import request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from consent_service.banner.configuration import negotiate_locale
from consent_service.errors import ValidationFailed
from consent_service.errors import status_title
from consent_service.preferences.session import csrf_token
from consent_service.preferences.session import keep_form_nonce
from consent_service.preferences.session import page_headers

TEXTS_DIR = Path(__file__).resolve().parent / "templates" / "preferences" / "texts"
FALLBACK = "en"


class Texts(dict[str, str]):
    """A locale's texts; a key it lacks falls back to English (never to an error)."""

    def __getattr__(self, key: str) -> str:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


@functools.cache
def text_locales() -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in TEXTS_DIR.glob("*.json")))


@functools.cache
def texts(locale: str) -> Texts:
    english = json.loads((TEXTS_DIR / f"{FALLBACK}.json").read_text("utf-8"))
    if locale == FALLBACK:
        return Texts(english)
    own = json.loads((TEXTS_DIR / f"{locale}.json").read_text("utf-8"))
    return Texts({**english, **own})


def page_locale() -> str:
    """``?lang=`` (or the form's ``lang``), then Accept-Language, then English; decided once
    per request (every text of the page asks)."""
    if "preferences_locale" not in g:
        g.preferences_locale = _negotiated_locale()
    locale: str = g.preferences_locale
    return locale


def chosen_locale() -> str | None:
    """The page's language when the person chose it (``?lang=``, a form's ``lang``), which
    forms and redirects carry on; None when the browser's Accept-Language decided it (that
    decides again on the next page, and the address stays clean)."""
    return page_locale() if request.values.get("lang") else None


def _negotiated_locale() -> str:
    wanted = request.values.get("lang") or None
    accept = request.headers.get("Accept-Language")
    try:
        return negotiate_locale(wanted, accept, text_locales(), FALLBACK)
    except ValidationFailed:  # a malformed ?lang= is ignored, not an error page
        return negotiate_locale(None, accept, text_locales(), FALLBACK)


def date(moment: dt.datetime | None) -> str:
    return "" if moment is None else moment.astimezone(dt.UTC).strftime("%Y-%m-%d")


def date_time(moment: dt.datetime | None) -> str:
    return "" if moment is None else moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def render(
    template: str,
    *,
    status: int = 200,
    notices: Iterable[tuple[str, str]] = (),
    locale: str | None = None,
    **context: Any,
) -> Response:
    locale = locale or page_locale()
    html = render_template(
        f"preferences/{template}",
        t=texts(locale),
        locale=locale,
        chosen_locale=chosen_locale(),
        direction=context.pop("direction", "ltr"),
        notices=list(notices),
        csrf_token=csrf_token,
        date=date,
        datetime=date_time,
        **context,
    )
    response = Response(html, status=status, mimetype="text/html")
    keep_form_nonce(response)
    return page_headers(response)


def error_page(exc: HTTPException) -> Response:
    """HTML for every error under /preferences/ (the API keeps problem+json): a database
    outage says so in the page's language, another failure of ours never echoes its cause."""
    status = exc.code or 500
    t = texts(page_locale())
    if status == HTTPStatus.SERVICE_UNAVAILABLE:
        heading, body = t.unavailable_heading, t.unavailable_body
    elif status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        status, heading, body = 500, status_title(500), ""
    else:
        heading, body = status_title(status), exc.description or ""
    response = render("message.html", status=status, heading=heading, body=body)
    for name, value in exc.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


def attachment(body: str, filename: str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return page_headers(response)
