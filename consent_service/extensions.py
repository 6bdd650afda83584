"""Flask extensions, created unbound and attached in ``create_app``."""

from __future__ import annotations

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session

from consent_service.models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()


def current_session() -> Session:
    """This request's (or command's) session, as the plain Session the domain functions take."""
    return db.session()
