"""The README's receipt verification example, run as printed against a served service, with
warnings as errors (the suite's setting): a newcomer who copies it sees the decisions, not
joserfc's RFC 9864 deprecation warning."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from tests.integration.live_app import LiveApp

README = Path(__file__).resolve().parents[2] / "README.md"
PRINTED_SERVICE = "http://127.0.0.1:8000"


def readme_verification_example() -> str:
    text = README.read_text()
    after = text.split("Verify one with any JOSE library:", 1)[1]
    found = re.search(r"```python\n(.*?)```", after, re.DOTALL)
    assert found is not None, "the README's verification example is gone"
    return found.group(1)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    app = LiveApp(tmp_path_factory.mktemp("readme-verify"))
    yield app
    app.stop()


def test_the_readme_example_verifies_a_new_receipt_without_a_warning(live, capsys):
    receipt = live.record_consent(uuid.uuid4(), analytics=True, marketing=False)["receipt"]
    example = readme_verification_example()
    assert PRINTED_SERVICE in example
    exec(example.replace(PRINTED_SERVICE, live.url), {"receipt": receipt})
    printed = capsys.readouterr().out
    assert "'analytics': 'granted'" in printed
    assert "'marketing': 'denied'" in printed
