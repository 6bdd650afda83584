"""The one strong ETag of a response body: its SHA-256, shortened (128 bits are plenty to tell
two versions apart), for every surface that answers conditional requests."""

from __future__ import annotations

import hashlib


def content_etag(body: bytes) -> str:
    """The (unquoted) ETag of ``body``."""
    return hashlib.sha256(body).hexdigest()[:32]
