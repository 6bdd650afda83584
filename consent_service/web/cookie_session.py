"""Flask's signed-cookie session, opened only on the paths its cookie is sent to.

The cookie session is the admin's alone (``SESSION_COOKIE_PATH`` is ``/admin``), so no other
request can carry it; yet Flask would build its signing serializer for every request to read
a cookie that cannot be there (~5 % of a banner request). Elsewhere the session is Flask's
null session: empty, and refusing writes, which would go to a cookie no such page reads.
"""

from __future__ import annotations

from flask import Flask
from flask import Request
from flask.sessions import SecureCookieSession
from flask.sessions import SecureCookieSessionInterface


class CookiePathSessions(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not request.path.startswith(self.get_cookie_path(app)):
            return self.make_null_session(app)
        return super().open_session(app, request)
