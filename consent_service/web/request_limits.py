"""What every request must be before any view reads it, on every surface.

:func:`refuse_unreadable_requests` runs before every view: a URL longer than ``MAX_URL_BYTES``
is a 414 and a header field longer than ``MAX_HEADER_FIELD_BYTES`` a 431 (``gunicorn.conf.py``
sets the server's own limits above these, so the service, not the server's HTML page,
answers); a body sent in chunks counts against the body limit as a measured one does (413,
never cut short); and a path, query value or form field holding what no text column stores is
refused there, once, instead of in each view (a 404 for a path: nothing has such a name; a 422
for a value, which the admin shows as its error page).
"""

from __future__ import annotations

import io
from typing import Any

from flask import request
from werkzeug.exceptions import NotFound
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.exceptions import RequestHeaderFieldsTooLarge
from werkzeug.exceptions import RequestURITooLarge

from consent_service.errors import FieldError
from consent_service.errors import ValidationFailed
from consent_service.web.request_body import NOT_TEXT
from consent_service.web.request_body import pointer_segment
from consent_service.web.request_body import text_problem

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Path and query string; the API's longest (a look-up's subject) needs a few hundred.
MAX_URL_BYTES = 4096
# One header line, name and value (gunicorn's own default limit).
MAX_HEADER_FIELD_BYTES = 8190


def refuse_unreadable_requests() -> None:
    """Before any view (``app.before_request``): see the module's docstring."""
    environ = request.environ
    check_sizes(environ)
    _measure_chunked_body()
    if NOT_TEXT.search(request.path):
        raise NotFound("Nothing here has a name holding a NUL or a lone surrogate.")
    fields = []
    if _may_hold_not_text(environ.get("QUERY_STRING", "")):
        fields.append(("query parameter", request.args))
    if request.mimetype in FORM_TYPES:
        fields.append(("form field", request.form))
    bad = [
        (where, FieldError(f"/{pointer_segment(name)}", problem))
        for where, values in fields
        for name, value in values.items(multi=True)
        if (problem := text_problem(name) or text_problem(value)) is not None
    ]
    if bad:
        where, first = bad[0]
        raise ValidationFailed(
            f"the {where} {first.pointer[1:]!r} {first.detail}; nothing was changed",
            errors=[error for _, error in bad],
        )


def _may_hold_not_text(query: str) -> bool:
    """Whether decoding ``query`` could give text no column stores. Percent-decoding reads
    UTF-8 and keeps what is not UTF-8 encoded as it came, so from plain ASCII only an encoded
    (or raw) NUL can: every other query skips the parse here (most requests, on the hot path)."""
    return "%00" in query or "\x00" in query or not query.isascii()


def check_sizes(environ: dict[str, Any]) -> None:
    # PATH_INFO holds the decoded path's bytes (as latin-1), QUERY_STRING the query as sent.
    if len(environ.get("PATH_INFO", "")) + len(environ.get("QUERY_STRING", "")) > MAX_URL_BYTES:
        raise RequestURITooLarge(f"The URL is longer than {MAX_URL_BYTES:,} bytes.")
    # Read from the environ directly: HTTP_X_NAME is as long as X-Name, and building the
    # header view of every request costs more than this whole check.
    for key, value in environ.items():
        if key.startswith("HTTP_") and len(key) - 3 + len(value) > MAX_HEADER_FIELD_BYTES:
            name = key[5:].replace("_", "-").title()
            raise RequestHeaderFieldsTooLarge(
                f"The {name} header is longer than {MAX_HEADER_FIELD_BYTES:,} bytes."
            )


def _measure_chunked_body() -> None:
    """A chunked body (no Content-Length; the server ends the stream) is read whole, up to one
    byte past the limit in force when a view first reads it (a view may raise the app's),
    and 413 beyond it. Werkzeug alone stops reading at the limit and hands the first part on
    as if it were the whole body."""
    environ = request.environ
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    if chunked and not environ.get("CONTENT_LENGTH"):
        environ["wsgi.input"] = _ChunkedBody(environ["wsgi.input"])


class _ChunkedBody(io.RawIOBase):
    def __init__(self, stream: Any) -> None:
        super().__init__()
        self._stream = stream
        self._body: io.BytesIO | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._body is None:
            self._body = io.BytesIO(self._read_whole(request.max_content_length))
        return self._body.readinto(buffer)

    def _read_whole(self, limit: int | None) -> bytes:
        parts: list[bytes] = []
        size = 0
        while limit is None or size <= limit:
            part = self._stream.read(64 * 1024 if limit is None else limit + 1 - size)
            if not part:
                return b"".join(parts)
            parts.append(part)
            size += len(part)
        raise RequestEntityTooLarge(f"The body is larger than {limit:,} bytes.")
