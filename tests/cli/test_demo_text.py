"""What `jwtgate demo` prints for any app: one curl line per plain route, tokens that fit."""

from __future__ import annotations

import shlex
import subprocess
import sys

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from jwtgate._cli.demo_text import app_routes, instructions, jwtgate_command
from jwtgate.testing import Issuer


async def hello(request: object) -> PlainTextResponse:
    return PlainTextResponse("hi")


def starlette_app() -> Starlette:
    return Starlette(routes=[Route("/a", hello, methods=["GET", "POST"]),
                             Route("/users/{id}", hello)])  # fmt: skip


def test_starlette_routes_are_listed_without_path_parameters() -> None:
    assert sorted(app_routes(starlette_app())) == [("GET", "/a", None), ("POST", "/a", None)]


def test_instructions_for_any_app_carry_tokens_for_every_route() -> None:
    issuer = Issuer("http://127.0.0.1:8001", audience="jwtgate-demo")
    text = instructions("http://127.0.0.1:9", issuer, starlette_app(), "mine:app", False, None)
    lines = text.splitlines()
    curls = [line for line in lines if line.startswith("curl -i")]
    assert len(curls) == 2
    assert all("Authorization: Bearer ey" in line for line in curls)
    assert "# POST /a (token with items:read items:write reports:read admin:all)" in lines
    assert "JWTGATE_ISSUER=http://127.0.0.1:8001 JWTGATE_AUDIENCE=jwtgate-demo" in text


def test_an_app_without_routes_says_so() -> None:
    issuer = Issuer("http://127.0.0.1:8001")
    text = instructions("http://127.0.0.1:9", issuer, object(), "x:app", False, None)
    assert "no routes found" in text


def test_the_printed_jwtgate_command_runs_as_pasted() -> None:
    result = subprocess.run([*shlex.split(jwtgate_command()), "--version"],
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0
    assert result.stdout.startswith("jwtgate ")


def test_python_dash_m_jwtgate() -> None:
    result = subprocess.run([sys.executable, "-m", "jwtgate", "--version"],
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.stdout.startswith("jwtgate ")
