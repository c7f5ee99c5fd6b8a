"""The jwtgate command line: every command, its output and its exit code."""

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt
import pytest

from jwtgate._cli.main import main
from jwtgate.testing import DevKey, Issuer

from servers import ROOT, JWKSServer, free_port, jwks_server

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


@pytest.mark.parametrize("command", ["demo", "mint", "inspect", "verify", "jwks"])
def test_every_command_has_help(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert f"usage: jwtgate {command}" in out
    assert len(out.splitlines()) > 4
    assert "3  issuer or JWKS unreachable" in out


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([], id="no-command"),
        pytest.param(["frobnicate"], id="unknown-command"),
        pytest.param(["verify"], id="missing-token"),
        pytest.param(["mint", "--expires-in", "soon"], id="bad-number"),
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert run(capsys, *argv)[0] == 2


def test_main_help_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0
    for line in ("0  success", "1  check failed", "2  usage", "3  issuer or JWKS unreachable"):
        assert line in out


def test_mint_persists_its_key_and_signs_with_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, token, _ = run(
        capsys, "mint", "--sub", "alice", "--scope", "a b", "--scope", "c",
        "--claim", 'roles=["admin"]', "--claim", "tenant=t1", "--expires-in", "60",
    )  # fmt: skip
    assert code == 0
    key_file = tmp_path / "cache" / "jwtgate" / "dev-key-rs256.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600
    key = DevKey.from_pem(key_file.read_bytes())
    claims = jwt.decode(
        token.strip(), key.private_key.public_key(), algorithms=["RS256"], audience="jwtgate-demo"
    )
    assert claims["iss"] == "http://127.0.0.1:8001"
    assert claims["sub"] == "alice"
    assert claims["scope"] == "a b c"
    assert claims["roles"] == ["admin"]
    assert claims["tenant"] == "t1"
    assert claims["exp"] - claims["iat"] == 60
    assert jwt.get_unverified_header(token.strip())["kid"] == key.kid == key.thumbprint()
    _, again, _ = run(capsys, "mint")
    assert jwt.get_unverified_header(again.strip())["kid"] == key.kid  # Same key reused.


def test_mint_keeps_the_issuers_trailing_slash(capsys: pytest.CaptureFixture[str]) -> None:
    # Auth0 writes iss with a trailing "/"; a token minted for it must carry it exactly.
    code, token, _ = run(capsys, "mint", "--issuer", "https://tenant.auth0.com/")
    assert code == 0
    assert jwt.decode(token.strip(), options={"verify_signature": False})["iss"] == (
        "https://tenant.auth0.com/"
    )


def test_mint_with_another_algorithm_uses_its_own_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, token, _ = run(capsys, "mint", "--alg", "ES256", "--kid", "mine")
    assert code == 0
    assert jwt.get_unverified_header(token.strip()) == {
        "alg": "ES256",
        "kid": "mine",
        "typ": "at+jwt",
    }
    assert (tmp_path / "cache" / "jwtgate" / "dev-key-es256.pem").exists()


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["--claim", "novalue"], id="claim-without-equals"),
        pytest.param(["--alg", "HS256"], id="symmetric-alg"),
    ],
)
def test_mint_refuses_bad_input(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, "mint", *argv)
    assert code == 2
    assert out == ""
    assert "jwtgate mint:" in err


def test_inspect_shows_unverified_header_claims_and_dates(
    capsys: pytest.CaptureFixture[str], issuer: Issuer
) -> None:
    token = issuer.mint(sub="bob", now=1_700_000_000, expires_in=3600)
    code, out, _ = run(capsys, "inspect", token)
    assert code == 0
    assert out.startswith("UNVERIFIED")
    assert '"sub": "bob"' in out
    assert '"kid": "rsa-1"' in out
    assert "exp: 2023-11-14T23:13:20Z" in out
    assert "iat: 2023-11-14T22:13:20Z" in out
    assert "ago" in out


def test_inspect_json_and_stdin(
    capsys: pytest.CaptureFixture[str], issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Bearer " + issuer.mint(sub="s") + "\n"))
    code, out, _ = run(capsys, "inspect", "-", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["verified"] is False
    assert data["claims"]["sub"] == "s"
    assert data["problem"] is None


def test_inspect_reports_what_jwtgate_would_refuse(
    capsys: pytest.CaptureFixture[str], issuer: Issuer
) -> None:
    token = issuer.mint(headers={"crit": ["exp"]})
    code, out, _ = run(capsys, "inspect", token)
    assert code == 0
    assert "would reject it" in out
    assert "reason=" in out


@pytest.mark.parametrize("token", ["abc", "a.b", "!!.??.x", "e30.bm90LWpzb24.x"])
def test_inspect_of_undecodable_input_exits_1(
    capsys: pytest.CaptureFixture[str], token: str
) -> None:
    code, _, err = run(capsys, "inspect", token)
    assert code == 1
    assert "cannot decode" in err


def verify_args(issuer: Issuer) -> list[str]:
    return ["--issuer", issuer.issuer, "--audience", issuer.audience]


def test_verify_accepts_a_good_token(
    capsys: pytest.CaptureFixture[str], jwtgate_live_issuer: Issuer
) -> None:
    token = jwtgate_live_issuer.mint(sub="v", scopes=["x", "y"])
    code, out, _ = run(capsys, "verify", token, *verify_args(jwtgate_live_issuer))
    assert code == 0
    assert out.startswith("OK: signature (RS256, kid='jwtgate-test-key')")
    assert "scopes: x y" in out


def test_verify_reads_jwtgate_environment(
    capsys: pytest.CaptureFixture[str], jwtgate_env: Issuer
) -> None:
    assert run(capsys, "verify", jwtgate_env.mint())[0] == 0


@pytest.mark.parametrize(
    ("mint", "extra", "expected"),
    [
        pytest.param(
            {"expires_in": -3600}, [], ["FAILED exp:", "reason=expired", "ago"], id="expired"
        ),
        pytest.param(
            {"audience": "other"}, [], ["FAILED aud:", "token aud: 'other'"], id="audience"
        ),
        pytest.param(
            {"claims": {"iss": "https://evil.example"}},
            [],
            ["FAILED iss:", "'https://evil.example'"],
            id="issuer",
        ),
        pytest.param({"kid": "unknown"}, [], ["FAILED unknown_key:"], id="unknown-kid"),
        pytest.param({"claims": {"nbf": 4_000_000_000}}, [], ["FAILED nbf:"], id="not-yet"),
        pytest.param(
            {},
            ["--require-scope", "admin"],
            ["FAILED insufficient_scope", "needed: admin"],
            id="scope",
        ),
        pytest.param({}, ["--algorithms", "ES256"], ["FAILED algorithm:"], id="algorithm"),
    ],
)
def test_verify_names_the_failed_check(
    capsys: pytest.CaptureFixture[str],
    jwtgate_live_issuer: Issuer,
    mint: dict[str, object],
    extra: list[str],
    expected: list[str],
) -> None:
    token = jwtgate_live_issuer.mint(**mint)  # type: ignore[arg-type]
    code, out, err = run(capsys, "verify", token, *verify_args(jwtgate_live_issuer), *extra)
    assert code == 1
    assert out == ""
    for text in expected:
        assert text in err
    assert token not in err


def test_verify_reports_a_forged_signature(
    capsys: pytest.CaptureFixture[str], jwtgate_live_issuer: Issuer
) -> None:
    forger = Issuer(jwtgate_live_issuer.issuer, audience=jwtgate_live_issuer.audience,
                    keys=[DevKey.generate("RS256", kid="jwtgate-test-key")])  # fmt: skip
    code, _, err = run(capsys, "verify", forger.mint(), *verify_args(jwtgate_live_issuer))
    assert code == 1
    assert "FAILED signature:" in err


def test_verify_with_unreachable_keys_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    dead = Issuer(f"http://127.0.0.1:{free_port()}", audience="a")
    code, _, err = run(capsys, "verify", dead.mint(), *verify_args(dead), "--scope-claims", "scp")
    assert code == 3
    assert "could not be fetched" in err


def test_verify_with_bad_settings_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "verify", "x.y.z", "--audience", "a")
    assert code == 2
    assert "JWTGATE_ISSUER" in err


def test_jwks_shows_keys_and_cache_headers(
    capsys: pytest.CaptureFixture[str], jwtgate_live_issuer: Issuer
) -> None:
    jwtgate_live_issuer.key_for("ES256")
    code, out, _ = run(capsys, "jwks", jwtgate_live_issuer.issuer)  # Follows discovery.
    assert code == 0
    assert "discovery:" in out
    assert "cache-control: max-age=300" in out
    assert "kid='jwtgate-test-key': usable, kty=RSA 2048 bits" in out
    assert "ES256" in out
    assert "2 usable key(s) of 2; no problems" in out


@pytest.fixture
def scripted() -> JWKSServer:
    with jwks_server() as server:
        yield server  # type: ignore[misc]


def test_jwks_lists_problems(capsys: pytest.CaptureFixture[str], scripted: JWKSServer) -> None:
    good = DevKey.generate("ES256", kid="dup").public_jwk
    no_alg = {k: v for k, v in DevKey.generate("ES256", kid="dup").public_jwk.items() if k != "alg"}
    scripted.documents["/jwks"] = {"keys": [good, no_alg, {"kty": "oct", "k": "c2VjcmV0"}]}
    code, out, _ = run(capsys, "jwks", scripted.url + "/jwks")
    assert code == 0  # Usable keys remain; the problems are warnings.
    assert "SKIPPED: symmetric (oct) keys are never taken from a JWKS" in out
    assert "kid 'dup' is used by 2 keys" in out
    assert "has no alg" in out
    assert "no Cache-Control" in out


def test_jwks_without_usable_keys_exits_1(
    capsys: pytest.CaptureFixture[str], scripted: JWKSServer
) -> None:
    scripted.documents["/jwks"] = {"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}
    code, out, _ = run(capsys, "jwks", scripted.url + "/jwks")
    assert code == 1
    assert "no usable key" in out


def test_jwks_unreachable_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "jwks", f"http://127.0.0.1:{free_port()}/jwks")
    assert code == 3
    assert "cannot fetch" in err


@pytest.mark.integration
def test_mint_piped_into_inspect_and_verify_as_processes(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    minted = subprocess.run(
        [JWTGATE, "mint", "--sub", "piped"], capture_output=True, text=True, env=env, check=True
    )
    inspected = subprocess.run(
        [JWTGATE, "inspect", "-"], input=minted.stdout, capture_output=True, text=True, check=True
    )
    assert '"sub": "piped"' in inspected.stdout
    failed = subprocess.run(
        [JWTGATE, "verify", "-", "--issuer", "http://127.0.0.1:1", "--audience", "jwtgate-demo",
         "--algorithms", "ES256"],
        input=minted.stdout, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert failed.returncode == 1
    assert "FAILED algorithm" in failed.stderr


@pytest.mark.integration
def test_demo_serves_the_example_and_accepts_minted_tokens(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    key_file = str(tmp_path / "demo-key.pem")
    port = free_port()
    process = subprocess.Popen(
        [JWTGATE, "demo", "--port", str(port), "--issuer-port", "0", "--key-file", key_file],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or lines[-1] != "Stop with Ctrl-C.":
            line = process.stdout.readline()
            assert line, "demo exited early: " + "\n".join(lines)
            lines.append(line.strip())
        mint = next(line for line in lines if " mint --issuer" in line)
        assert mint.startswith(JWTGATE)  # The full path: works as pasted, venv not active.
        issuer = mint.split()[mint.split().index("--issuer") + 1]
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):  # The instructions are printed just before uvicorn listens.
            try:
                assert httpx.get(base + "/public", timeout=5).status_code == 200
                break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            pytest.fail("the demo app never answered")
        curl = next(line for line in lines if "/me" in line and "Authorization" in line)
        assert "curl -i -H 'Authorization: Bearer ey" in curl
        code, token, _ = run(capsys, "mint", "--issuer", issuer, "--key-file", key_file,
                             "--scope", "items:read")  # fmt: skip
        assert code == 0
        headers = {"Authorization": f"Bearer {token.strip()}"}
        assert httpx.get(base + "/items", headers=headers, timeout=5).status_code == 200
        assert httpx.post(base + "/items", headers=headers, timeout=5).status_code == 403
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
