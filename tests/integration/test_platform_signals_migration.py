"""Migration i16a00000001 gives existing purposes the platform signals their Consent Mode
types imply, and existing properties no enabled platform."""

from __future__ import annotations

import json

import flask_migrate
import sqlalchemy as sa

from consent_service import create_app
from consent_service.extensions import db
from tests.support import make_settings


def test_existing_purposes_get_the_default_signals_and_properties_none(tmp_path):
    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'before.db'}"))
    with app.app_context():
        flask_migrate.upgrade(revision="h18c00000003")
        connection = db.session.connection()
        connection.execute(
            sa.text(
                "INSERT INTO properties (id, key, name, allowed_origins, default_locale, "
                "locales, controller, consent_document_key, created_at) VALUES (1, 'shop', "
                "'Shop', '[]', 'en', '[\"en\"]', '{}', 'privacy-policy', '2026-12-01 00:00:00')"
            )
        )
        for purpose_id, key, types, categories in (
            (1, "ads", '["ad_storage", "ad_personalization"]', '["sale"]'),
            (2, "stats", '["analytics_storage"]', "[]"),
            (3, "other", "[]", "[]"),
        ):
            connection.execute(
                sa.text(
                    "INSERT INTO purposes (id, property_id, key, position, essential, "
                    "legal_basis, consent_mode, opt_out_categories, texts) VALUES "
                    "(:id, 1, :key, :id, 0, 'consent', :types, :categories, '{}')"
                ),
                {"id": purpose_id, "key": key, "types": types, "categories": categories},
            )
        db.session.commit()

        flask_migrate.upgrade(revision="i16a00000001")
        connection = db.session.connection()
        # Raw SQL: the columns come back as JSON text.
        signals = dict(
            connection.execute(sa.text("SELECT key, platform_signals FROM purposes")).all()
        )
        platforms = connection.execute(sa.text("SELECT platforms FROM properties")).scalar()
        db.session.remove()
    assert json.loads(signals["ads"])["microsoft_uet"] == ["ad_storage"]
    assert json.loads(signals["ads"])["shopify"] == ["marketing", "sale_of_data"]
    assert json.loads(signals["stats"]) == {
        "microsoft_clarity": ["analytics_Storage"],
        "shopify": ["analytics"],
        "wp_consent": ["statistics", "statistics-anonymous"],
    }
    assert json.loads(signals["other"]) == {}
    assert json.loads(platforms) == []
