"""One id per request, to tie a client's problem report to the server's log line."""

from __future__ import annotations

import itertools
import os
import re
import secrets
from typing import Any

from flask import g
from flask import request

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id() -> str:
    """The caller's well-formed ``X-Request-ID``, or a fresh one; made on first use."""
    current: str | None = g.get("request_id")
    if current is None:
        current = g.request_id = request_id_for(request.environ)
    return current


def request_id_for(environ: dict[str, Any]) -> str:
    """The well-formed ``X-Request-ID`` the request ``environ`` describes came with, or a
    fresh one (for what answers before Flask, where there is no ``g`` to keep it in)."""
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    return incoming if _REQUEST_ID.match(incoming) else _fresh_id()


# A random prefix per process (drawn again in a forked worker) and a counter: unique across
# processes and restarts without a system call per request (reading the kernel's randomness
# for each cost 2.5 % of a look-up's CPU, and even a getpid() per id 4 % of a banner's).
# A request id only ties a report to a log line.
def _new_prefix() -> None:
    global _prefix
    _prefix = secrets.token_hex(6)


_prefix = ""
_new_prefix()
os.register_at_fork(after_in_child=_new_prefix)
_counter = itertools.count(1)


def _fresh_id() -> str:
    return f"{_prefix}{next(_counter):06x}"
