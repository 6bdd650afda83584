"""One id per request, to tie a client's problem report to the server's log line."""

from __future__ import annotations

import re
import secrets

from flask import g
from flask import request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id() -> str:
    """The caller's well-formed ``X-Request-ID``, or a fresh one; made on first use."""
    current: str | None = g.get("request_id")
    if current is None:
        incoming = request.headers.get("X-Request-ID", "")
        current = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)
        g.request_id = current
    return current
