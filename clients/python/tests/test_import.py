"""The client is what shop backends install (``pip install clients/python``): the standard
library and nothing of the server."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

from token_fakes import NOW
from token_fakes import PROPERTY
from token_fakes import JwksService
from token_fakes import Signer

import consent_client

CLIENT_DIR = Path(consent_client.__file__).parent
# The one module that may import more: the optional fast path of the `fast` extra.
OPTIONAL_IMPORTS = {"fast_ed25519.py": {"cryptography"}}


def test_the_client_imports_and_signs_with_the_standard_library_alone():
    """``-I -S``: no site-packages, no environment, so any third-party import would fail."""
    code = (
        "import sys; "
        f"sys.path.insert(0, {str(CLIENT_DIR.parent)!r}); "
        "import consent_client; "
        "token = consent_client.sign_identity_token('cis_x', 'demo-shop', "
        "visitor_id='5b1c2f9e-0d1a-4c3e-9f00-2a7d1e6b8c11', customer='C-1'); "
        "assert token.count('.') == 2, token; "
        "assert not [m for m in sys.modules if m.startswith('consent_service')]"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_consent_tokens_verify_with_the_standard_library_alone():
    """No ``cryptography`` on the path: the pure-Python Ed25519 verifier takes over."""
    signer = Signer("key-1")
    service = JwksService(signer)
    code = (
        "import sys; "
        f"sys.path.insert(0, {str(CLIENT_DIR.parent)!r}); "
        "from consent_client import ConsentTokenVerifier, allows; "
        f"verifier = ConsentTokenVerifier({service.url!r}); "
        f"claims = verifier.verify_consent_token({signer.token()!r}, property={PROPERTY!r}, "
        f"now={NOW}); "
        "assert allows(claims, 'analytics') and not allows(claims, 'marketing'); "
        "assert 'consent_client.fast_ed25519' not in sys.modules; "
        "assert not [m for m in sys.modules if m.startswith('cryptography')]"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=False
        )
    finally:
        service.stop()
    assert result.returncode == 0, result.stderr
    assert service.fetches == 1


def test_the_distribution_declares_no_dependencies_and_ships_only_the_client():
    project = tomllib.loads((CLIENT_DIR.parent / "pyproject.toml").read_text())
    assert project["project"]["name"] == "consent-client"
    assert project["project"]["dependencies"] == []
    # The fast path for consent tokens is an extra, never a requirement.
    assert project["project"]["optional-dependencies"] == {"fast": ["cryptography>=42"]}
    assert project["tool"]["setuptools"]["packages"] == ["consent_client"]


def test_client_modules_import_only_the_standard_library_and_the_client_itself():
    outside = []
    for module in CLIENT_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                own = name.startswith("consent_client")
                allowed = OPTIONAL_IMPORTS.get(module.name, set())
                standard = top in sys.stdlib_module_names or top == "__future__"
                if not own and not standard and top not in allowed:
                    outside.append(f"{module.name}: {name}")
    assert outside == []
