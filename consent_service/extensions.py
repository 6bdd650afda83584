"""Flask extensions, created unbound and attached in ``create_app``."""

from __future__ import annotations

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from consent_service.models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
