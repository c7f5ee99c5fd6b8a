"""Diagnostics that name the problem: in the log, in readiness and from `jwtgate verify`."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from jwtgate import Authenticator, ConfigurationError, Settings, readiness_endpoint
from jwtgate._cli.main import main
from jwtgate.testing import Issuer, app_client, serve

from servers import free_port

JWTGATE = str(Path(sys.executable).with_name("jwtgate"))


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in list(os.environ):
        if name.startswith("JWTGATE_"):
            monkeypatch.delenv(name)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("served", "configured"),
    [
        pytest.param("https://tenant.example/", "https://tenant.example", id="slash-missing"),
        pytest.param("https://tenant.example", "https://tenant.example/", id="slash-added"),
    ],
)
def test_issuer_mismatch_is_a_configuration_error(
    served: str, configured: str, caplog: pytest.LogCaptureFixture
) -> None:
    issuer = Issuer(served, audience="api")
    settings = Settings(issuer=configured, audience=["api"])
    caplog.set_level(logging.INFO, "jwtgate")
    with Authenticator(settings, sync_transport=issuer.transport()) as auth:
        auth.prefetch_sync()
        (state,) = auth.state()
    assert state.config_error is not None
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert repr(served) in errors[0]
    assert repr(configured) in errors[0]
    assert "set JWTGATE_ISSUER" in errors[0]


def test_readiness_names_the_configuration_error() -> None:
    issuer = Issuer("https://tenant.example/", audience="api")
    settings = Settings(issuer="https://tenant.example", audience=["api"])
    auth = Authenticator(settings, sync_transport=issuer.transport())
    auth.prefetch_sync()
    app = Starlette(routes=[Route("/ready", readiness_endpoint(auth))])
    with app_client(app) as client:
        answer = client.get("/ready")
    auth.close()
    assert answer.status_code == 503
    assert "names another issuer" in answer.json()["issuers"][0]["configuration_error"]


def test_verify_says_mismatch_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with serve(audience="api") as issuer:
        token = issuer.mint()
        code, _, err = run(capsys, "verify", token, "--issuer", issuer.issuer + "/",
                           "--audience", "api")  # fmt: skip
    assert code == 2
    assert "configuration error" in err
    assert repr(issuer.issuer) in err
    assert repr(issuer.issuer + "/") in err


def test_startup_line_names_issuer_discovery_and_audiences(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "jwtgate")
    Authenticator(Settings(issuer="https://tenant.example/", audience=["a", "b"])).close()
    (line,) = [r.getMessage() for r in caplog.records if "trusts issuer" in r.getMessage()]
    assert "'https://tenant.example/'" in line
    assert "https://tenant.example/.well-known/openid-configuration" in line
    assert "audiences a, b" in line


def test_unknown_kid_is_named_by_verify_and_fingerprinted_in_the_log(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "jwtgate")
    with serve(audience="api") as issuer:
        token = issuer.mint(kid="other-tenant-key")
        code, _, err = run(capsys, "verify", token, "--issuer", issuer.issuer, "--audience", "api")
    assert code == 1
    assert "'other-tenant-key'" in err
    assert repr(issuer.keys[0].kid) in err
    logged = [r.getMessage() for r in caplog.records if "unknown_key" in r.getMessage()]
    assert logged
    assert "kid#" in logged[0]
    assert repr(issuer.keys[0].kid) in logged[0]
    assert "other-tenant-key" not in caplog.text  # Attacker-chosen: never verbatim in logs.


def test_fetch_errors_say_connection_refused_and_name_the_variable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(issuer=f"http://127.0.0.1:{free_port()}", audience=["api"])
    with Authenticator(settings) as auth:
        auth.prefetch_sync()
    (line,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "connection refused" in line
    assert "JWTGATE_ISSUER=" in line
    assert "ConnectError" in line


def test_verify_with_refused_connection_names_the_variable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    dead = Issuer(f"http://127.0.0.1:{free_port()}", audience="api")
    code, _, err = run(capsys, "verify", dead.mint(), "--issuer", dead.issuer, "--audience", "api")
    assert code == 3
    assert f"discovery from JWTGATE_ISSUER={dead.issuer}" in err
    assert "connection refused" in err


def test_opaque_token_hint(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "verify", "8dJ3kP0qZ", "--issuer", "https://tenant.example",
                       "--audience", "api")  # fmt: skip
    assert code == 1
    assert "opaque" in err
    assert "introspection" in err


@pytest.mark.parametrize(
    ("given", "suggested"),
    [
        pytest.param("es256", "ES256", id="es256"),
        pytest.param("eddsa", "EdDSA", id="eddsa"),
        pytest.param("ed25519", "Ed25519", id="ed25519"),
        pytest.param("RS265", "RS256", id="typo"),
    ],
)
def test_did_you_mean_is_case_insensitive(given: str, suggested: str) -> None:
    with pytest.raises(ConfigurationError, match=f"did you mean '{suggested}'"):
        Settings(issuer="https://tenant.example", audience=["api"], algorithms=[given])


@pytest.mark.parametrize(
    ("token", "segment"),
    [
        pytest.param("!!!.e30.sig", "header (segment 1 of 3)", id="header"),
        pytest.param("e30.!!!.sig", "payload (segment 2 of 3)", id="payload"),
        pytest.param("opaque-token", "opaque", id="no-dots"),
    ],
)
def test_inspect_names_the_segment(
    capsys: pytest.CaptureFixture[str], token: str, segment: str
) -> None:
    code, _, err = run(capsys, "inspect", token)
    assert code == 1
    assert segment in err


def test_output_piped_into_head_is_no_traceback() -> None:
    token = Issuer("https://tenant.example").mint(claims={"big": ["x" * 64] * 20000})
    process = subprocess.Popen([JWTGATE, "inspect", "-"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(token.encode())
    process.stdin.close()
    assert process.stdout.read(10)
    process.stdout.close()  # What `head -c 10` does.
    assert process.wait(timeout=30) == 1
    assert process.stderr is not None
    err = process.stderr.read()
    process.stderr.close()
    assert b"Traceback" not in err
    assert b"BrokenPipe" not in err


def test_verbose_shows_jwtgate_debug_without_third_party_floods() -> None:
    with serve(audience="api") as issuer:
        result = subprocess.run(
            [JWTGATE, "-v", "verify", issuer.mint(), "--issuer", issuer.issuer, "--audience", "api"],
            capture_output=True, text=True, timeout=60, check=False,
            env={k: v for k, v in os.environ.items() if not k.startswith("JWTGATE_")},
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "jwtgate: " in result.stderr
    assert "httpcore" not in result.stderr


LAZY_APP = """
from starlette.applications import Starlette
from starlette.middleware import Middleware
from jwtgate import JWTGateMiddleware
app = Starlette(middleware=[Middleware(JWTGateMiddleware)])
"""


@pytest.mark.integration
def test_a_configuration_error_is_printed_once_under_uvicorn(tmp_path: Path) -> None:
    (tmp_path / "lazy.py").write_text(LAZY_APP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWTGATE_")}
    env |= {"JWTGATE_ISSUER": "https://tenant.example", "JWTGATE_AUDIENCE": "api",
            "JWTGATE_ALGORITHMS": "es256"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "uvicorn", "lazy:app", "--port", str(free_port())],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.count("JWTGATE_ALGORITHMS") == 1, result.stderr
    assert "did you mean 'ES256'" in result.stderr
