"""The headers every answer carries, whichever way it was served (a view, or a shortcut
before Flask): its request id, which ties a client's problem report to the log line, and
``nosniff``, so no browser reads a JSON answer as something it could run."""

from __future__ import annotations


def common_headers(request_id: str) -> list[tuple[str, str]]:
    return [("X-Request-ID", request_id), ("X-Content-Type-Options", "nosniff")]
