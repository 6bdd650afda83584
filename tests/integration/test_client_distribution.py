"""A shop backend installs the Python client with one ``pip install`` from its folder (issue
#17 item 11), into a fresh virtual environment, and gets the client and nothing of the server:
no Flask, SQLAlchemy or psycopg, and no ``consent_service`` package to import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.own_database]  # a venv and a package build: ~10 s

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "python"
# What `python -m venv` puts in every environment, before anything is installed.
BARE = {"pip", "setuptools"}


def _run(*command: str | Path, cwd: Path) -> str:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_one_pip_install_from_the_folder_gives_the_client_and_none_of_the_server(tmp_path):
    venv = tmp_path / "shop-backend"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"

    _run(python, "-m", "pip", "install", "--quiet", CLIENT, cwd=tmp_path)

    listed = json.loads(_run(python, "-m", "pip", "list", "--format=json", cwd=tmp_path))
    assert {package["name"].lower() for package in listed} - BARE == {"consent-client"}
    # Run from an unrelated folder: what imports comes from the environment, not the checkout.
    probe = (
        "import importlib.util, consent_client; "
        "print(consent_client.__file__); "
        "print([m for m in ('consent_service', 'flask', 'sqlalchemy', 'psycopg') "
        "if importlib.util.find_spec(m)])"
    )
    where, server_modules = _run(python, "-I", "-c", probe, cwd=tmp_path).splitlines()
    assert Path(where).is_relative_to(venv)
    assert server_modules == "[]"
