"""The server's distribution no longer carries the shop backends' client: it is its own
distribution (clients/python/), so a shop installs it without Flask, SQLAlchemy or psycopg."""

from __future__ import annotations

import tomllib
from pathlib import Path

import consent_service

ROOT = Path(__file__).resolve().parents[2]


def test_the_server_package_has_no_client_module():
    package = Path(consent_service.__file__).parent
    assert not (package / "client").exists()


def test_the_server_distribution_packages_nothing_of_the_client():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    included = project["tool"]["setuptools"]["packages"]["find"]["include"]
    assert not [pattern for pattern in included if pattern.startswith("consent_client")]
    assert (ROOT / "clients" / "python" / "consent_client" / "__init__.py").is_file()
