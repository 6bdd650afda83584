"""The ``consent-service`` commands."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from consent_service.infra.signing import parse_signing_keys
from consent_service.models import PolicyVersion
from consent_service.models import Vendor


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_loading_the_demo_twice_changes_nothing(runner, session):
    before = session.scalar(sa.select(sa.func.count()).select_from(PolicyVersion))
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "loaded property 'demo-shop'" in result.output
    assert session.scalar(sa.select(sa.func.count()).select_from(PolicyVersion)) == before
    assert session.scalar(sa.select(sa.func.count()).select_from(Vendor)) == 6


def test_verify_reports_an_intact_log(runner, record):
    record(uuid.uuid4(), analytics=True)
    result = runner.invoke(args=["receipts", "verify"])
    assert result.exit_code == 0, result.output
    assert "checked 1 receipts of 1 subjects: all intact" in result.output


def test_state_rebuild_reports_what_it_wrote(runner, record):
    record(uuid.uuid4(), analytics=True)
    result = runner.invoke(args=["state", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "rebuilt 5 consent-state rows" in result.output


def test_a_draft_is_created_edited_and_published_from_files(runner, session, tmp_path):
    body = tmp_path / "v3.md"
    body.write_text("# Privacy policy\n\nVersion three.\n", encoding="utf-8")
    result = runner.invoke(
        args=[
            "policy",
            "draft",
            "demo-shop",
            "privacy-policy",
            "--file",
            str(body),
            "--material",
            "--affects",
            "analytics",
            "--summary",
            "en=Shorter retention",
        ]
    )
    assert result.exit_code == 0, result.output
    version_id = int(result.output.strip().rsplit("=", 1)[1])
    body.write_text("# Privacy policy\n\nVersion three, reviewed.\n", encoding="utf-8")
    assert (
        runner.invoke(args=["policy", "edit", str(version_id), "--file", str(body)]).exit_code == 0
    )
    result = runner.invoke(args=["policy", "publish", str(version_id)])
    assert result.exit_code == 0, result.output
    assert "published privacy-policy v3 (material=True, affects analytics)" in result.output
    assert session.get(PolicyVersion, version_id).body.endswith("reviewed.\n")


def test_editing_a_published_version_from_the_cli_is_refused(runner, session):
    published = session.scalar(sa.select(PolicyVersion).where(PolicyVersion.number == 1))
    result = runner.invoke(args=["policy", "edit", str(published.id), "--not-material"])
    assert result.exit_code == 1
    assert "cannot change" in result.output


def test_an_unknown_document_is_a_clear_cli_error(runner):
    result = runner.invoke(args=["policy", "list", "demo-shop", "terms"])
    assert result.exit_code == 1
    assert "no policy document 'terms'" in result.output


def test_a_generated_signing_key_is_ready_for_the_environment(runner):
    result = runner.invoke(args=["signing-key", "generate", "--kid", "2027-01"])
    assert result.exit_code == 0
    assert parse_signing_keys(result.output.strip())[0].kid == "2027-01"
