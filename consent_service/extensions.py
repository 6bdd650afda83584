"""Flask extensions, created unbound and attached in ``create_app``."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session

from consent_service.models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
# Limits are declared per route (API keys get their own); nothing is limited by default.
# The key function is replaced per limit; the remote address is only the fallback.
limiter = Limiter(key_func=lambda: "anonymous", strategy="fixed-window", headers_enabled=True)


def current_session() -> Session:
    """This request's (or command's) session, as the plain Session the domain functions take."""
    return db.session()
