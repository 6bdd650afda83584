"""The client is what shop backends install: the standard library and nothing of the server."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import consent_service.client

CLIENT_DIR = Path(consent_service.client.__file__).parent


def test_importing_the_client_loads_neither_flask_nor_sqlalchemy():
    code = (
        "import sys, consent_service.client; "
        "assert 'flask' not in sys.modules and 'sqlalchemy' not in sys.modules, 'server deps'; "
        "server = [m for m in sys.modules if m.startswith('consent_service.') "
        "and not m.startswith('consent_service.client')]; "
        "assert not server, server"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


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
                own = name.startswith("consent_service.client")
                if not own and top not in sys.stdlib_module_names and top != "__future__":
                    outside.append(f"{module.name}: {name}")
    assert outside == []
