"""The small pieces of DPoP: request URLs, settings checks, masks, reprs, thumbprints."""

from __future__ import annotations

from typing import Any

import pytest

from jwtgate import ConfigurationError, MemoryReplayStore, Settings
from jwtgate._config.dpop_fields import mask_url
from jwtgate._verify.dpop import ProofChecker, jwk_thumbprint
from jwtgate._verify.dpop_nonce import NonceKeeper
from jwtgate._web.rfc9449 import asgi_url, wsgi_proofs, wsgi_url
from jwtgate.testing import DevKey, Issuer, dpop_proof

from dpop_kit import URL


@pytest.mark.parametrize(
    ("scope", "origin", "expected"),
    [
        pytest.param({"raw_path": b"/a%20b?q=1", "headers": [(b"host", b"h:8")], "scheme": "https"},
                     None, "https://h:8/a%20b", id="raw-path-and-host"),
        pytest.param({"path": "/a b", "headers": [], "server": ("10.0.0.1", 8000)}, None,
                     "http://10.0.0.1:8000/a%20b", id="no-raw-path-no-host"),
        pytest.param({"path": "/x", "headers": [], "server": ("sock", None)}, None,
                     "http://sock/x", id="unix-socket-server"),
        pytest.param({"path": "/x", "headers": [], "server": None}, None, "http://localhost/x",
                     id="no-server"),
        pytest.param({"raw_path": b"/x", "headers": [(b"host", b"evil")], "scheme": "wss"},
                     "https://api.test", "https://api.test/x", id="origin-wins"),
        pytest.param({"raw_path": b"/ws", "headers": [(b"host", b"h")], "scheme": "wss"}, None,
                     "https://h/ws", id="websocket-is-https"),
    ],
)  # fmt: skip
def test_asgi_url(scope: dict[str, Any], origin: str | None, expected: str) -> None:
    assert asgi_url(scope, origin) == expected


@pytest.mark.parametrize(
    ("environ", "origin", "expected"),
    [
        pytest.param({"PATH_INFO": "/a b", "HTTP_HOST": "h"}, None, "http://h/a%20b", id="host"),
        pytest.param({"SCRIPT_NAME": "/app", "PATH_INFO": "/x", "SERVER_NAME": "s",
                      "SERVER_PORT": "81", "wsgi.url_scheme": "https"}, None,
                     "https://s:81/app/x", id="server-name"),
        pytest.param({"PATH_INFO": "/\xc3\xa9", "HTTP_HOST": "h"}, None, "http://h/%C3%A9",
                     id="utf8-path"),
        pytest.param({"HTTP_HOST": "evil"}, "https://api.test", "https://api.test/", id="origin"),
    ],
)  # fmt: skip
def test_wsgi_url(environ: dict[str, Any], origin: str | None, expected: str) -> None:
    assert wsgi_url(environ, origin) == expected


def test_wsgi_proofs_split_joined_headers() -> None:
    assert wsgi_proofs({}) == []
    assert wsgi_proofs({"HTTP_DPOP": "a.b.c"}) == ["a.b.c"]
    assert wsgi_proofs({"HTTP_DPOP": "a.b.c, d.e.f"}) == ["a.b.c", "d.e.f"]


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        pytest.param("redis://:pw@h:1/0", "redis://:***@h:1/0", id="password"),
        pytest.param("rediss://u:pw@h/0?x=1", "rediss://u:***@h/0?x=1", id="user-and-password"),
        pytest.param("redis://h:1", "redis://h:1", id="no-password"),
        pytest.param("redis://:pw@[::1", "<unparsable URL>", id="unparsable"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        pytest.param({"dpop_algorithms": ()}, "dpop_algorithms", id="no-algorithms"),
        pytest.param({"dpop_algorithms": ("HS256",)}, "dpop_algorithms", id="symmetric"),
        pytest.param({"dpop_replay_cache_size": 0}, "dpop_replay_cache_size", id="cache-zero"),
        pytest.param({"dpop_replay_cache_size": True}, "dpop_replay_cache_size", id="cache-bool"),
        pytest.param({"redis_timeout": float("nan")}, "redis_timeout", id="timeout-nan"),
        pytest.param({"dpop_nonce_lifetime": -1}, "dpop_nonce_lifetime", id="lifetime"),
        pytest.param({"redis_url": "redis://"}, "redis_url", id="redis-no-host"),
    ],
)
def test_bad_dpop_settings(issuer: Issuer, overrides: dict[str, Any], setting: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        issuer.settings(**overrides)
    assert caught.value.setting == setting


def test_reprs_say_what_without_secrets(issuer: Issuer) -> None:
    assert repr(MemoryReplayStore(5)) == "MemoryReplayStore(max_entries=5)"
    assert "s" * 32 not in repr(NonceKeeper(["s" * 32], 300))
    with pytest.raises(ValueError, match="secret"):
        NonceKeeper([], 300)
    from jwtgate import DPoPGate
    from jwtgate._verify.authenticator import Authenticator

    settings: Settings = issuer.settings(dpop="required", dpop_algorithms=("ES256",))
    gate = DPoPGate(settings, Authenticator(settings, transport=issuer.transport()))
    assert repr(gate) == "DPoPGate(mode='required', store=MemoryReplayStore(max_entries=100000))"
    assert gate.algorithms == ("ES256",)
    assert gate.current_nonce() is None


@pytest.mark.parametrize(
    "jwk",
    [
        pytest.param({"kty": "oct", "k": "x"}, id="symmetric"),
        pytest.param({"kty": "EC", "crv": "P-256", "x": "a"}, id="member-missing"),
        pytest.param({"kty": "RSA", "n": 5, "e": "AQAB"}, id="member-not-a-string"),
    ],
)
def test_thumbprint_needs_a_public_key(jwk: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="public"):
        jwk_thumbprint(jwk)


def test_the_key_memo_is_bounded() -> None:
    checker = ProofChecker(("ES256",), max_age=60, leeway=5)
    for _ in range(1030):  # More distinct proof headers than the memo keeps: it starts over.
        key = DevKey.generate("ES256")
        proof = dpop_proof(key, "GET", URL)
        assert checker.check(proof, method="GET", url=URL, access_token=None, now=_now(proof))


def _now(proof: str) -> float:
    import base64
    import json

    payload = proof.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return float(claims["iat"])
