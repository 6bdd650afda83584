"""``consent-service demo load``, which ``make run`` runs on every start: it creates what the
demo lacks, keeps what an admin changed, and lets the demo pages record wherever the service
is served (``localhost`` or ``127.0.0.1``, any port)."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from consent_service.demo import load_property_dir
from consent_service.demo import served_origins_of
from consent_service.extensions import vault
from consent_service.infra.pii import is_person_sealed
from consent_service.integrations.identity import email_of
from consent_service.integrations.identity import forget_identity
from consent_service.messaging.campaigns import count_recipients
from consent_service.models import Identity
from consent_service.models import Property
from consent_service.models import Purpose
from consent_service.models import Vendor
from policies import DEMO_DIR

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def shop(session: Session) -> Property:
    return session.scalars(sa.select(Property).where(Property.key == "demo-shop")).one()


def _load(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    return result.output


def test_loading_the_demo_again_keeps_the_admins_texts_and_origins(
    app: Flask, session: Session, shop: Property
) -> None:
    texts = {locale: dict(values) for locale, values in shop.banner_texts.items()}
    texts["en"]["title"] = "Cookies at Northwind, our way"
    shop.banner_texts = texts
    shop.allowed_origins = ["https://beta.northwind.example"]
    shop.name = "Northwind (staging)"
    session.flush()

    output = _load(app)

    session.expire_all()
    assert shop.banner_texts["en"]["title"] == "Cookies at Northwind, our way"
    assert shop.name == "Northwind (staging)"
    assert shop.allowed_origins[0] == "https://beta.northwind.example"
    assert "skipped: property 'demo-shop' exists" in output


def test_loading_the_demo_again_keeps_an_edited_purpose_and_vendor(
    app: Flask, session: Session, shop: Property
) -> None:
    purpose = session.scalars(
        sa.select(Purpose).where(Purpose.property_id == shop.id, Purpose.key == "analytics")
    ).one()
    purpose.texts = {**purpose.texts, "en": {"name": "Statistics", "description": "Ours."}}
    vendor = session.scalars(sa.select(Vendor).where(Vendor.property_id == shop.id)).first()
    assert vendor is not None
    vendor.name = "Renamed by the admin"
    session.flush()

    output = _load(app)

    session.expire_all()
    assert purpose.texts["en"]["name"] == "Statistics"
    assert vendor.name == "Renamed by the admin"
    assert "skipped: purposes necessary, preferences, analytics" in output
    skipped_vendors = output.split("skipped: vendors ", 1)[1].split(" exist:", 1)[0]
    assert vendor.key in skipped_vendors.split(", ")


def test_loading_the_demo_creates_a_vendor_the_database_lacks(
    app: Flask, session: Session, shop: Property
) -> None:
    vendor = session.scalars(sa.select(Vendor).where(Vendor.property_id == shop.id)).first()
    assert vendor is not None
    key = vendor.key
    session.delete(vendor)
    session.flush()

    output = _load(app)

    assert f"created vendor {key!r}" in output
    assert session.scalar(
        sa.select(sa.func.count()).where(Vendor.property_id == shop.id, Vendor.key == key)
    )


def test_the_served_origins_of_a_loopback_url_name_both_loopback_hosts_at_its_port() -> None:
    assert served_origins_of("http://127.0.0.1:9000") == [
        "http://127.0.0.1:9000",
        "http://localhost:9000",
    ]
    assert served_origins_of("http://localhost:8000/") == [
        "http://localhost:8000",
        "http://127.0.0.1:8000",
    ]
    assert served_origins_of("https://consent.shop.example") == ["https://consent.shop.example"]


def test_the_demo_served_on_another_port_records_choices_from_localhost(
    client: FlaskClient, session: Session, shop: Property
) -> None:
    load_property_dir(
        session, DEMO_DIR / "demo-shop", served_origins=served_origins_of("http://127.0.0.1:9000")
    )
    session.flush()

    response = client.options(
        "/v1/consents",
        headers={
            "Origin": "http://localhost:9000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:9000"


def test_a_refused_origin_names_the_setting_to_change_in_the_answer_and_the_log(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    response = client.post(
        "/v1/consents",
        headers={"Origin": "http://localhost:9999"},
        json={
            "property": "demo-shop",
            "visitor_id": "6f1c1d1e-8f0a-4c53-9a7e-2d7b3f1e9c10",
            "policy_version": 2,
            "method": "reject_all",
            "decisions": {},
        },
    )

    assert response.status_code == 403
    expected = (
        "http://localhost:9999 is not an allowed origin of property 'demo-shop': add it to "
        '"Allowed origins" at http://consent.test/admin/properties/demo-shop'
    )
    assert response.get_json()["detail"] == expected
    assert expected in caplog.text


def _demo_customers(session: Session, shop: Property) -> list[Identity]:
    return list(session.scalars(sa.select(Identity).where(Identity.property_id == shop.id)))


def test_the_demo_has_customers_in_each_language_a_policy_notice_would_email(
    app: Flask, session: Session, shop: Property
) -> None:
    output = _load(app)

    customers = _demo_customers(session, shop)
    with app.app_context():
        emails = sorted(email_of(vault(), customer) or "" for customer in customers)
    assert sorted(c.locale or "" for c in customers) == ["de", "en", "fr"]
    assert emails == [
        "anna.schmidt@kunden.example",
        "claire.martin@clients.example",
        "sam.taylor@customers.example",
    ]
    assert all(is_person_sealed(c.email_ciphertext or b"") for c in customers)
    assert count_recipients(session, shop.id) == 3
    assert "created customer 'demo-anna' (de)" in output


def test_an_erased_demo_customer_is_not_brought_back(
    app: Flask, session: Session, shop: Property
) -> None:
    _load(app)
    erased = _demo_customers(session, shop)[0]
    forget_identity(vault(), erased)
    session.flush()

    output = _load(app)

    assert len(_demo_customers(session, shop)) == 3
    assert count_recipients(session, shop.id) == 2
    assert "skipped: demo customers: 'demo-shop' already has customers" in output


def test_make_worker_without_a_port_names_the_url_make_run_served(tmp_path: Path) -> None:
    (tmp_path / "served-base-url").write_text("http://127.0.0.1:9000\n", encoding="utf-8")
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("HOST", "PORT", "CONSENT_BASE_URL", "MAKEFLAGS")
    }
    environment["CONSENT_INSTANCE_PATH"] = str(tmp_path)

    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "worker"],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )

    assert "CONSENT_BASE_URL='http://127.0.0.1:9000'" in dry_run.stdout
