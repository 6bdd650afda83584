"""The ``consent-service`` command run from another folder than the repository's root: it finds
the same instance folder (never a new ``./instance`` with new secrets), and a database the
migrations have not reached is one sentence, not a driver traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from consent_service.settings import default_instance_path

REPOSITORY = Path(__file__).resolve().parents[2]


def _cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("CONSENT_")
    }
    environment.update(env, PYTHONPATH=str(REPOSITORY), CONSENT_LOG_LEVEL="WARNING")
    script = Path(sys.executable).with_name("consent-service")
    return subprocess.run(
        [str(script), *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120
    )


def test_the_default_instance_folder_is_the_checkouts_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_instance_path() == REPOSITORY / "instance"


def test_a_command_on_an_unmigrated_database_says_to_migrate_in_one_sentence(
    tmp_path: Path,
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = _cli(
        elsewhere,
        "demo",
        "load",
        CONSENT_INSTANCE_PATH=str(tmp_path / "instance"),
        CONSENT_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}",
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"The database sqlite:///{tmp_path / 'empty.db'} is not migrated to this version of "
        "consent-service: run `consent-service db upgrade` first."
    )
    assert not (elsewhere / "instance").exists()
