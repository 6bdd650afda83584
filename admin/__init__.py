"""The admin (ARCHITECTURE §1, §7): server-rendered pages for the marketing and legal team under
``/admin/``, behind a password, a second factor (TOTP), roles, CSRF tokens and an audit log."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

from admin import account  # noqa: E402, F401
from admin import audit_log  # noqa: E402, F401
from admin import auth  # noqa: E402, F401
from admin import campaigns  # noqa: E402, F401
from admin import dashboard  # noqa: E402, F401
from admin import erasures  # noqa: E402, F401
from admin import guard  # noqa: E402, F401
from admin import home  # noqa: E402, F401
from admin import integrations  # noqa: E402, F401
from admin import jurisdictions  # noqa: E402, F401
from admin import policies  # noqa: E402, F401
from admin import properties  # noqa: E402, F401
from admin import purposes  # noqa: E402, F401
from admin import retention  # noqa: E402, F401
from admin import scans  # noqa: E402, F401
from admin import users  # noqa: E402, F401
