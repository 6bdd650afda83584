"""Migration f12a7b3c0002 gives properties that existed before words per regime: opt-in keeps
the property's own (written for a consent banner), opt-out and notice get the built-in ones,
and the new shared keys are added; words an admin already set per regime are left alone."""

from __future__ import annotations

import json

import flask_migrate
import sqlalchemy as sa

from consent_service import create_app
from consent_service.banner.default_texts import default_texts
from consent_service.extensions import db
from consent_service.jurisdictions.rules import Regime
from tests.support import make_settings

OWN = {
    "title": "Cookies at Northwind",
    "description": "With your permission we measure visits. Accept all, reject all, or choose.",
    "accept_all": "Yes to all",
    "reject_all": "No to all",
    "customize": "Let me choose",
}
SPANISH = {"title": "Sus opciones", "accept_all": "Aceptar todo", "reject_all": "Rechazar todo"}


def insert(connection, key: str, default: str, locales: list[str], texts, regime_texts) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO properties (key, name, allowed_origins, default_locale, locales,"
            " controller, consent_document_key, banner_texts, regime_texts, config_version,"
            " jurisdiction_overrides, created_at) VALUES (:key, :key, '[]', :default, :locales,"
            " '{}', 'privacy-policy', :texts, :regime_texts, 4, '{}', '2026-12-01 00:00:00')"
        ).bindparams(
            sa.bindparam("locales", type_=sa.JSON),
            sa.bindparam("texts", type_=sa.JSON),
            sa.bindparam("regime_texts", type_=sa.JSON),
        ),
        {
            "key": key,
            "default": default,
            "locales": locales,
            "texts": texts,
            "regime_texts": regime_texts,
        },
    )


def migrated(tmp_path) -> dict[str, dict]:
    app = create_app(make_settings(tmp_path, f"sqlite:///{tmp_path / 'texts.db'}"))
    with app.app_context():
        flask_migrate.upgrade(revision="f12a7b3c0001")
        connection = db.session.connection()
        insert(connection, "older", "en", ["en", "de", "es"], {"en": OWN, "es": SPANISH}, {})
        insert(connection, "spanish", "es", ["es"], {"es": SPANISH}, {})
        kept = {"opt_in": {"en": {"title": "Set by an admin"}}}
        insert(connection, "newer", "en", ["en"], {"en": OWN}, kept)
        db.session.commit()
        flask_migrate.upgrade(revision="head")
        rows = db.session.execute(
            sa.text("SELECT key, banner_texts, regime_texts, config_version FROM properties")
        ).all()
        db.session.remove()
    return {
        key: {"texts": _json(texts), "regimes": _json(regimes), "version": version}
        for key, texts, regimes, version in rows
    }


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def test_existing_properties_get_words_per_regime_and_the_new_shared_keys(tmp_path):
    builtin = default_texts()
    rows = migrated(tmp_path)
    older = rows["older"]
    opt_in = older["regimes"]["opt_in"]
    assert opt_in["en"] == {
        key: OWN[key] for key in ("title", "description", "accept_all", "reject_all")
    }
    assert opt_in["es"] == SPANISH  # the shop's own Spanish opt-in words
    assert opt_in["de"] == builtin.regimes[Regime.OPT_IN]["de"]
    for regime in (Regime.OPT_OUT, Regime.NOTICE):
        assert older["regimes"][regime.value]["en"] == builtin.regimes[regime]["en"]
        assert older["regimes"][regime.value]["de"] == builtin.regimes[regime]["de"]
        assert "es" not in older["regimes"][regime.value]  # falls back to the default language
    assert older["texts"]["en"]["customize"] == "Let me choose"  # the shop's words stay
    assert older["texts"]["en"]["gpc_status"] == "Opt-Out Request Honored"
    assert older["texts"]["en"]["title"] == OWN["title"]  # the previous release still reads it
    assert "gpc_status" not in older["texts"]["es"]
    assert older["version"] == 5  # banner caches refresh


def test_a_default_language_without_built_in_words_gets_the_english_ones(tmp_path):
    spanish = migrated(tmp_path)["spanish"]
    assert spanish["regimes"]["opt_in"]["es"]["title"] == "Sus opciones"
    assert spanish["regimes"]["opt_out"]["es"] == default_texts().regimes[Regime.OPT_OUT]["en"]
    assert spanish["texts"]["es"]["confirm"] == "Yes, opt back in"


def test_words_an_admin_already_set_per_regime_are_left_alone(tmp_path):
    newer = migrated(tmp_path)["newer"]
    assert newer["regimes"] == {"opt_in": {"en": {"title": "Set by an admin"}}}
    assert newer["version"] == 4
