"""`jwtgate demo --app module:app`: the user's own app against the development issuer."""

from __future__ import annotations

import itertools
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from jwtgate._cli.main import main

from servers import free_port

JWTGATE = str(Path(sys.executable).with_name("jwtgate"))

USER_APP = '''
from typing import Annotated

from fastapi import FastAPI, Security
from starlette.responses import JSONResponse

from jwtgate import JWTGateMiddleware, Settings, TokenUser
from jwtgate.fastapi import JWTGateAuth, install

settings = Settings.from_env()
app = FastAPI()
app.add_middleware(JWTGateMiddleware, settings=settings)
install(app)
auth = JWTGateAuth(openid_connect_url=settings.discovery_urls[0])


@app.get("/orders")
async def orders(user: Annotated[TokenUser, Security(auth, scopes=["orders:read"])]):
    return {"sub": user.subject}


@app.get("/.well-known/oauth-protected-resource", include_in_schema=False)
async def metadata():
    return JSONResponse({"resource": "http://127.0.0.1", "authorization_servers": []})
'''


def read_until_ready(process: subprocess.Popen[str]) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith("Stop with Ctrl-C"):
            return lines
    raise AssertionError("\n".join(lines))


@pytest.mark.integration
def test_demo_serves_the_users_app_with_a_curl_line_per_route(tmp_path: Path) -> None:
    (tmp_path / "shop.py").write_text(USER_APP)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWTGATE_")}
    process = subprocess.Popen(
        [JWTGATE, "demo", "--app", "shop:app", "--port", str(port), "--issuer-port", "0"],
        cwd=tmp_path, env={**env, "XDG_CACHE_HOME": str(tmp_path / "cache")},
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        lines = read_until_ready(process)
        text = "\n".join(lines)
        assert "app     http://127.0.0.1:" in text
        assert "shop:app" in text
        assert f"docs    http://127.0.0.1:{port}/docs" in text
        assert f"curl -i http://127.0.0.1:{port}/.well-known/oauth-protected-resource" in text
        comment, command = next(
            (c, cmd) for c, cmd in itertools.pairwise(lines) if c.startswith("# GET /orders")
        )
        assert "orders:read" in comment
        args = shlex.split(command)
        headers = dict([args[args.index("-H") + 1].split(": ", 1)])
        answer = httpx.get(args[-1], headers=headers, timeout=10)
        assert answer.status_code == 200
        assert answer.json() == {"sub": "alice"}
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
        if process.stdout:
            process.stdout.close()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["--host", "0.0.0.0"], "not a loopback address", id="public-host"),
        pytest.param(["--app", "no_such_module:app"], "cannot load the app", id="missing-app"),
    ],
)
def test_demo_refuses(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    port = str(free_port())
    assert main(["demo", "--port", port, "--issuer-port", "0", *argv]) == 2
    assert message in capsys.readouterr().err
