"""The contract tests' app: its own freshly migrated database, where generated requests really
commit (a SQLite file, or ``<test database>_contract`` on PostgreSQL), and an API key with
every scope, so generated writes never touch the suite's shared database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask

from consent_service.extensions import db
from consent_service.integrations.api_keys import Scope
from consent_service.integrations.api_keys import create_api_key
from tests.support import make_settings
from tests.support import own_database_url
from tests.support import shut_down
from tests.support import started_on_fresh_database


@dataclass(frozen=True)
class ContractApp:
    app: Flask
    api_key: str


@pytest.fixture(scope="module")
def contract_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContractApp]:
    instance = tmp_path_factory.mktemp("contract")
    url = own_database_url(instance, "contract")
    app = started_on_fresh_database(make_settings(instance, url))
    app.config["TESTING"] = True
    with app.app_context():
        issued = create_api_key(
            db.session(),
            "demo-shop",
            name="contract",
            scopes=[scope.value for scope in Scope],
            # Generated requests must never meet the rate limit (its 429 is documented, but
            # each operation should be exercised, not refused).
            rate_limit="1000000/minute",
        )
        db.session.commit()
        db.session.remove()
    yield ContractApp(app, issued.plaintext)
    shut_down(app)
