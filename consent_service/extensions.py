"""Flask extensions, created unbound and attached in ``create_app``, and the session views
and commands work in."""

from __future__ import annotations

from contextlib import AbstractContextManager

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Session

from consent_service.infra.database import commit_or_roll_back
from consent_service.models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()


def current_session() -> Session:
    """This request's (or command's) session, as the plain Session the domain functions take."""
    return db.session()


def committed() -> AbstractContextManager[Session]:
    """This request's (or command's) session for a block that calls the domain: committed
    when the block ends, rolled back (and the error raised on) if it fails::

        with committed() as session:
            registered = register_endpoint(session, ...)
    """
    return commit_or_roll_back(current_session())
