"""Migrations are the only way the schema is made, so they must match the models exactly."""

from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from consent_service import create_app
from consent_service.extensions import db
from consent_service.models import Base
from tests.support import make_settings


def test_the_migrated_schema_matches_the_models(session):
    context = MigrationContext.configure(session.connection(), opts={"compare_type": True})
    assert compare_metadata(context, Base.metadata) == []


def test_migrations_go_down_to_nothing_and_up_again(tmp_path):
    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'roundtrip.db'}"))
    with app.app_context():
        flask_migrate.upgrade(revision="head")
        flask_migrate.downgrade(revision="base")
        tables = (
            db.session.connection()
            .exec_driver_sql("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
            .scalars()
            .all()
        )
        assert tables == ["alembic_version"]
        flask_migrate.upgrade(revision="head")
        db.session.remove()
