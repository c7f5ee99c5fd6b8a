"""`jwtgate demo`'s parts in-process: loading apps, ports, the printed lines, the metadata probe."""

from __future__ import annotations

import contextlib
import io
import itertools
import re
import shlex
import socket
from contextlib import redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwtgate._cli import demo
from jwtgate._cli.demo_text import instructions
from jwtgate.testing import Issuer, app_client, override

from servers import free_port, uvicorn_server


@pytest.fixture
def issuer_env(monkeypatch: pytest.MonkeyPatch) -> Issuer:
    issuer = Issuer("http://127.0.0.1:8001", audience="jwtgate-demo")
    monkeypatch.setenv("JWTGATE_ISSUER", issuer.issuer)
    monkeypatch.setenv("JWTGATE_AUDIENCE", issuer.audience)
    monkeypatch.delenv("JWTGATE_JWKS_URL", raising=False)
    return issuer


def test_the_example_app_lines_answer_as_their_comments_say(issuer_env: Issuer) -> None:
    app, label = demo.load_app(None)
    assert "example app" in label
    override(app, issuer_env)
    text = instructions("http://testserver", issuer_env, app, label, True, None)
    lines = text.splitlines()
    pairs = [
        (int(m.group(1)), shlex.split(command))
        for comment, command in itertools.pairwise(lines)
        if (m := re.match(r"# (\d{3})", comment))
    ]
    assert any("/reports" in args[-1] for _, args in pairs)  # The contract's newer routes.
    assert any("/admin" in args[-1] for _, args in pairs)
    assert any("/transfers" in args[-1] for _, args in pairs)
    with app_client(app) as client:
        for status, args in pairs:
            method = args[args.index("-X") + 1] if "-X" in args else "GET"
            headers = dict([args[args.index("-H") + 1].split(": ", 1)]) if "-H" in args else {}
            answer = client.request(method, args[-1], headers=headers)
            assert answer.status_code == status, (method, args[-1])


@pytest.mark.parametrize(
    ("spec", "label"),
    [
        pytest.param("pkg_app.py", "pkg_app.py", id="file"),
        pytest.param("pkg_app:holder.app", "pkg_app:holder.app", id="dotted-attribute"),
        pytest.param("pkg_app", "pkg_app", id="module-only"),
    ],
)
def test_load_app_forms(
    spec: str, label: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pkg_app.py").write_text(
        "class holder:\n    app = 'nested'\napp = 'top'\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    app, got = demo.load_app(spec)
    assert got == label
    assert app == ("nested" if "holder" in spec else "top")


def test_ports_fall_back_when_the_default_issuer_port_is_taken() -> None:
    args = SimpleNamespace(host="127.0.0.1", port=0, issuer_port=None)
    with socket.socket() as taken:
        with contextlib.suppress(OSError):  # Taken already: the fallback runs all the same.
            # Listening, as a server would (a socket merely bound, or in TIME_WAIT,
            # does not stop a bind with SO_REUSEADDR).
            taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            taken.bind(("127.0.0.1", demo.DEFAULT_ISSUER_PORT))
            taken.listen()
        issuer_sock, app_sock = demo.bind_sockets(args)  # type: ignore[arg-type]
    with issuer_sock, app_sock:
        assert issuer_sock.getsockname()[1] != demo.DEFAULT_ISSUER_PORT


def test_taken_app_port_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        args = SimpleNamespace(host="127.0.0.1", port=port, issuer_port=0, key_file=None, app=None)
        assert demo.run_demo(args) == 2  # type: ignore[arg-type]
    assert "cannot listen" in capsys.readouterr().err


def test_unreadable_key_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "key.pem"
    bad.write_text("not a key")
    args = SimpleNamespace(host="127.0.0.1", port=free_port(), issuer_port=0, key_file=str(bad),
                           app=None)  # fmt: skip
    assert demo.run_demo(args) == 2  # type: ignore[arg-type]
    assert "jwtgate demo:" in capsys.readouterr().err


def test_the_announcement_waits_for_the_server_and_names_the_metadata_url() -> None:
    async def metadata(request: object) -> JSONResponse:
        return JSONResponse({"resource": "x"})

    app = Starlette(routes=[Route("/.well-known/oauth-protected-resource", metadata)])
    with uvicorn_server(app) as base:
        out = io.StringIO()
        with redirect_stdout(out):
            demo.announce(SimpleNamespace(started=True, should_exit=False), base, "text")
    assert f"curl -i {base}/.well-known/oauth-protected-resource" in out.getvalue()
    assert out.getvalue().rstrip().endswith("Stop with Ctrl-C.")
    assert demo.metadata_url(f"http://127.0.0.1:{free_port()}") is None


def test_no_announcement_when_the_server_stopped_first() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        demo.announce(SimpleNamespace(started=False, should_exit=True), "http://x", "text")
    assert out.getvalue() == ""
