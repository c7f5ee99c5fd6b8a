"""The README, tried as a user would: its apps, its snippets, its three-line test.

Every ```python block of README.md runs here. The apps (Starlette, FastAPI, Flask) are
each saved as ``myapp.py`` in an empty folder beside the README's own test file, and
pytest runs there in a subprocess (no conftest, no JWTGATE_* set, ``-X dev`` with
warnings as errors, so an unclosed client or socket fails the run).
"""

from __future__ import annotations

import ast
import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from jwtgate.testing import Issuer

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def block(*markers: str) -> str:
    """The one README python block containing every marker."""
    found = [b for b in BLOCKS if all(m in b for m in markers)]
    assert len(found) == 1, f"{len(found)} README blocks contain {markers}"
    return found[0]


TEST_BLOCK = block("def test_items_need_items_read", "from myapp import app")
APPS = {
    "starlette": block("app = Starlette(", 'Route("/items", list_items)'),
    "fastapi": block("JWTGateAuth(openid_connect_url", '@app.get("/items")'),
    "flask": block("from flask import Flask", '@app.get("/items")'),
}
# Names the README leaves to the reader, given to the blocks that use them.
CLASSIFIED = {*APPS.values(), TEST_BLOCK}


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("JWTGATE_", "PYTEST_"))}


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in APPS])
def test_readme_test_runs_against_readme_app(name: str, tmp_path: Path) -> None:
    (tmp_path / "myapp.py").write_text(APPS[name])
    (tmp_path / "test_myapp.py").write_text(TEST_BLOCK)
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-W", "error", "-m", "pytest", "-q",
         "-p", "no:cacheprovider", "-W", "error", "test_myapp.py"],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 passed" in output
    assert "ResourceWarning" not in output


def _run(source: str, namespace: dict[str, Any]) -> None:
    lines = [line for line in source.splitlines() if line.strip() and not line.startswith("#")]
    if lines and lines[-1].startswith("@"):
        # A block of decorators alone (one option per line): they decorate a stub here.
        source += "async def endpoint(request):\n    return None\n"
    code = compile(source, "README.md", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    result = eval(code, namespace)  # A coroutine when the block awaits.
    if asyncio.iscoroutine(result):
        asyncio.run(result)


@pytest.mark.parametrize(
    "index", [pytest.param(i, id=f"block-{i}") for i, b in enumerate(BLOCKS) if b not in CLASSIFIED]
)
def test_other_readme_blocks(
    index: int, jwtgate_env: Issuer, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The snippets (settings, Authenticator, the testing kit) run as written."""
    namespace: dict[str, Any] = {
        "token": jwtgate_env.mint(sub="alice", scopes=["items:read"]),
        "my_app": Starlette(),
        "my_check": lambda user: True,
    }
    if "jwtgate_issuer" in BLOCKS[index]:  # The DPoP block, written as a pytest test body.
        from starlette.middleware import Middleware

        from jwtgate import JWTGateMiddleware

        from helpers import protected_app

        namespace["jwtgate_issuer"] = jwtgate_env
        middleware = [Middleware(JWTGateMiddleware, settings=jwtgate_env.settings())]
        namespace["app"] = Starlette(routes=protected_app().routes, middleware=middleware)
    if "protect(mcp" in BLOCKS[index]:
        from mcp.server.mcpserver import MCPServer

        namespace["mcp"] = MCPServer("readme")
        monkeypatch.setenv("JWTGATE_RESOURCE", "http://127.0.0.1:8000/mcp")  # As it says.
    _run(BLOCKS[index], namespace)
    if "print(" in BLOCKS[index]:
        assert "alice" in capsys.readouterr().out


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in APPS])
def test_readme_apps_import_and_answer(name: str, jwtgate_env: Issuer) -> None:
    """Each app block runs as a module with the settings from the environment."""
    from jwtgate.testing import app_client

    namespace: dict[str, Any] = {"__name__": f"readme_{name}"}
    _run(APPS[name], namespace)
    with app_client(namespace["app"]) as client:
        assert client.get("/items").status_code == 401
        ok = client.get("/items", headers=jwtgate_env.headers(scopes=["items:read"]))
        assert ok.status_code == 200
