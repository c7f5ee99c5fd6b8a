"""``jwtgate mint --dpop`` and what ``jwtgate inspect`` says about ``cnf`` and proofs."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import jwt
import pytest

from jwtgate import JWTGateMiddleware
from jwtgate._cli.main import main
from jwtgate.testing import DevKey, Issuer, app_client

from helpers import protected_app


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in list(os.environ):
        if name.startswith("JWTGATE_"):
            monkeypatch.delenv(name)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out.strip()


def test_mint_dpop_binds_the_token_to_a_persistent_client_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, token = run(capsys, "mint", "--dpop", "--scope", "items:read")
    assert code == 0
    key_file = tmp_path / "cache" / "jwtgate" / "dev-key-dpop-es256.pem"
    key = DevKey.from_pem(key_file.read_bytes(), "ES256")
    assert jwt.decode(token, options={"verify_signature": False})["cnf"] == {
        "jkt": key.thumbprint()
    }
    _, inspected = run(capsys, "inspect", token)
    assert f"cnf: bound to the DPoP key jkt={key.thumbprint()}" in inspected


def test_mint_dpop_htu_prints_headers_a_server_accepts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    signing = tmp_path / "signing.pem"
    signing.write_bytes(DevKey.generate("RS256").to_pem())
    code, out = run(capsys, "mint", "--dpop", "--key-file", str(signing), "--scope",
                    "items:read", "--htu", "http://testserver/items?page=1")  # fmt: skip
    assert code == 0
    words = shlex.split(out)
    headers = dict(w.split(": ", 1) for w in words[1::2])
    issuer = Issuer("http://127.0.0.1:8001", audience="jwtgate-demo",
                    keys=[DevKey.from_pem(signing.read_bytes())])  # fmt: skip
    client = app_client(JWTGateMiddleware(protected_app(), issuer.settings()), issuer)
    assert client.get("/items", headers=headers).status_code == 200
    assert client.get("/items", headers=headers).status_code == 401  # Used once.
    _, inspected = run(capsys, "inspect", headers["DPoP"])
    assert "DPoP proof (RFC 9449), not an access token: GET http://testserver/items" in inspected


def test_inspect_names_certificate_bound_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    token = Issuer().mint(claims={"cnf": {"x5t#S256": "abc"}})
    _, out = run(capsys, "inspect", token)
    assert "RFC 8705" in out
    assert "refused as Bearer and as DPoP" in out


@pytest.mark.parametrize(
    ("jwk", "shown"),
    [
        pytest.param({"kty": "oct", "k": "c2VjcmV0"}, "jkt=(unusable jwk)", id="unusable-jwk"),
        pytest.param("not-an-object", "jkt=(no jwk)", id="no-jwk"),
    ],
)
def test_inspect_names_a_proof_with_a_bad_key(
    capsys: pytest.CaptureFixture[str], jwk: object, shown: str
) -> None:
    proof = jwt.encode({"htm": "GET", "htu": "https://a.test/x"}, "k" * 32, algorithm="HS256",
                       headers={"typ": "dpop+jwt", "jwk": jwk})  # fmt: skip
    _, out = run(capsys, "inspect", proof)
    assert f"DPoP proof (RFC 9449), not an access token: GET https://a.test/x, {shown}" in out
