"""``jwtgate inspect`` says a token is opaque; ``jwtgate verify`` introspects it."""

from __future__ import annotations

import os

import pytest

from jwtgate._cli.main import main
from jwtgate.testing import Issuer

pytestmark = pytest.mark.integration


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def env(live: Issuer, monkeypatch: pytest.MonkeyPatch) -> Issuer:
    for name in [n for n in os.environ if n.startswith("JWTGATE_")]:
        monkeypatch.delenv(name)  # Only these settings, whatever else ran before.
    for name, value in {
        "JWTGATE_ISSUER": live.issuer,
        "JWTGATE_AUDIENCE": live.audience,
        "JWTGATE_INTROSPECTION_URL": live.introspection_url,
        "JWTGATE_INTROSPECTION_CLIENT_ID": live.opaque.client_id,
        "JWTGATE_INTROSPECTION_CLIENT_SECRET": live.opaque.client_secret,
    }.items():
        monkeypatch.setenv(name, value)
    return live


def test_inspect_says_the_token_is_opaque(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "inspect", "2YotnFZFEjr1zCsicMWpAA")
    assert code == 1
    assert "opaque token" in err
    assert "introspection" in err


def test_verify_introspects_an_opaque_token(
    env: Issuer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "verify", env.mint_opaque(sub="cli", scopes=["a"]))
    assert code == 0, err
    assert "opaque token, active per introspection" in out
    assert "sub: 'cli'" in out
    assert env.opaque.calls == 1


def test_verify_explains_an_inactive_token(env: Issuer, capsys: pytest.CaptureFixture[str]) -> None:
    token = env.mint_opaque()
    env.revoke(token)
    code, _, err = run(capsys, "verify", token)
    assert (code, "reason=inactive" in err) == (1, True), err


def test_verify_with_the_endpoint_failing_exits_3(
    env: Issuer, capsys: pytest.CaptureFixture[str]
) -> None:
    env.opaque.fault = "error"
    code, _, err = run(capsys, "verify", env.mint_opaque())
    assert code == 3
    assert "FAILED introspection" in err
    assert "HTTP 500" in err
