"""Every DPoP rejection path as an attack row, through the ASGI and the WSGI middleware.

Each row builds the headers of one hostile request from a fresh bound token and
proof; the answer must be the row's status and error, never a 500, and neither the
answer nor the logs may repeat the token or the proof.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from jwt.algorithms import get_default_algorithms

from jwtgate import JWTGateMiddleware, JWTGateWSGIMiddleware, Settings
from jwtgate.testing import DevKey, Issuer, dpop_proof
from jwtgate.testing.dpop import proof_jwk

from dpop_kit import wsgi_app
from helpers import protected_app

URL = "https://api.example.com/items"
RESOURCE = "https://api.example.com"
SECRET = "z" * 32
_ALGS = get_default_algorithms()


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def raw_jws(header: str, payload: str, key: DevKey | None, alg: str = "ES256") -> str:
    """A JWS from raw JSON texts (duplicates and all), signed with *key* (None: unsigned)."""
    signing_input = f"{b64(header)}.{b64(payload)}"
    if key is None:
        return signing_input + "."
    signature = _ALGS[alg].sign(signing_input.encode(), key.private_key)
    return f"{signing_input}.{b64(signature)}"


@dataclass
class Kit:
    issuer: Issuer
    key: DevKey  # the client's proof key; the token is bound to it
    attacker: DevKey
    token: str

    def proof(self, **kwargs: Any) -> str:
        kwargs.setdefault("access_token", self.token)
        method = kwargs.pop("method", "GET")
        return dpop_proof(kwargs.pop("key", self.key), method, kwargs.pop("url", URL), **kwargs)

    def claims(self, **changes: Any) -> dict[str, Any]:
        ath = b64(hashlib.sha256(self.token.encode()).digest())
        claims = {"jti": "j1", "htm": "GET", "htu": URL, "iat": int(anyio_time()), "ath": ath}
        claims.update(changes)
        return claims

    def header(self, **changes: Any) -> dict[str, Any]:
        return {"typ": "dpop+jwt", "alg": "ES256", "jwk": proof_jwk(self.key), **changes}


def anyio_time() -> float:
    import time

    return time.time()


def auth(kit: Kit, proof: str | bytes, token: str | None = None) -> list[tuple[bytes, bytes]]:
    value = proof if isinstance(proof, bytes) else proof.encode()
    return [(b"authorization", f"DPoP {token or kit.token}".encode()), (b"dpop", value)]


Row = Callable[[Kit], list[tuple[bytes, bytes]]]


def signed(kit: Kit, header: dict[str, Any] | str, payload: dict[str, Any] | str,
           alg: str = "ES256", key: DevKey | None = None) -> str:  # fmt: skip
    h = header if isinstance(header, str) else json.dumps(header)
    p = payload if isinstance(payload, str) else json.dumps(payload)
    return raw_jws(h, p, key or kit.key, alg)


def hs256(kit: Kit, secret: bytes) -> str:
    signing_input = f"{b64(json.dumps(kit.header(alg='HS256')))}.{b64(json.dumps(kit.claims()))}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def _canonical_bits(kit: Kit) -> str:
    """A valid proof with the unused bits of one segment set: the same bytes, another spelling."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    segments = kit.proof().split(".")
    for i, segment in enumerate(segments):  # The first with unused bits (ES256 signatures have).
        unused = {2: 4, 3: 2}.get(len(segment) % 4)
        if unused:
            last = alphabet.index(segment[-1])
            segments[i] = segment[:-1] + alphabet[last | ((1 << unused) - 1)]
            return ".".join(segments)
    raise AssertionError("no segment with unused bits")


def _dup(text: str, member: str, value: str) -> str:
    return text[:-1] + f',"{member}":{value}}}'


P = "invalid_dpop_proof"
ROWS: list[Any] = [
    # Algorithms and key confusion.
    pytest.param(lambda k: auth(k, raw_jws(json.dumps(k.header(alg="none")),
                                           json.dumps(k.claims()), None)), 401, P, id="alg-none"),
    pytest.param(lambda k: auth(k, hs256(k, json.dumps(proof_jwk(k.key)).encode())), 401, P,
                 id="hs256-jwk-as-secret"),
    pytest.param(lambda k: auth(k, hs256(k, b"secret")), 401, P, id="hs256-plain-secret"),
    pytest.param(lambda k: auth(k, signed(k, k.header(alg="HS256", jwk={"kty": "oct", "k": b64(
        b"secret")}), k.claims(), "ES256")), 401, P, id="oct-jwk"),
    pytest.param(lambda k: auth(k, signed(k, k.header(jwk={**proof_jwk(k.key), "d": b64(
        k.key.private_key.private_numbers().private_value.to_bytes(32, "big"))}), k.claims())),
        401, P, id="embedded-private-key"),
    pytest.param(lambda k: auth(k, signed(k, k.header(jwk=proof_jwk(k.key)), k.claims(),
                                          key=k.attacker)), 401, P, id="victim-jwk-attacker-sig"),
    pytest.param(lambda k: auth(k, k.proof(key=k.attacker)), 401, P, id="stolen-token-own-key"),
    pytest.param(lambda k: auth(k, k.proof(key=k.issuer.keys[0])), 401, P,
                 id="proof-signed-by-issuer-key"),
    pytest.param(lambda k: auth(k, signed(k, {"typ": "dpop+jwt", "alg": "ES256",
                                              "kid": k.key.kid}, k.claims())), 401, P,
                 id="kid-instead-of-jwk"),
    pytest.param(lambda k: auth(k, signed(k, {"typ": "dpop+jwt", "alg": "ES256",
                                              "jku": "https://evil.test/jwks"}, k.claims())),
                 401, P, id="jku-instead-of-jwk"),
    pytest.param(lambda k: auth(k, signed(k, k.header(crit=["b64"], b64=False), k.claims())),
                 401, P, id="crit-b64"),
    # Typing and shape.
    pytest.param(lambda k: auth(k, k.proof(headers={"typ": "JWT"})), 401, P, id="typ-jwt"),
    pytest.param(lambda k: auth(k, k.token), 401, P, id="access-token-as-proof"),
    pytest.param(lambda k: auth(k, k.proof(access_token=(t := k.proof())), token=t), 401,
                 "invalid_token", id="proof-as-access-token"),
    pytest.param(lambda k: auth(k, signed(k, _dup(json.dumps(k.header()), "typ", '"JWT"'),
                                          k.claims())), 401, P, id="duplicate-header-member"),
    pytest.param(lambda k: auth(k, signed(k, k.header(), _dup(json.dumps(k.claims()), "htm",
                                                               '"POST"'))), 401, P,
                 id="duplicate-claim"),
    pytest.param(lambda k: auth(k, signed(k, k.header(), json.dumps(k.claims()).replace(
        '"iat": ', '"iat": NaN, "x": '))), 401, P, id="iat-nan"),
    pytest.param(lambda k: auth(k, _canonical_bits(k)), 401, P, id="non-canonical-base64"),
    pytest.param(lambda k: auth(k, k.proof() + "." + k.proof()), 401, P, id="two-proofs-one-value"),
    pytest.param(lambda k: auth(k, "eyJ" + "A" * 9000 + ".e30.AA"), 401, P, id="huge-proof"),
    pytest.param(lambda k: auth(k, b"\xff\xfe." + b"\x00" * 10), 401, P, id="binary-proof"),
    pytest.param(lambda k: auth(k, ""), 401, P, id="empty-proof"),
    pytest.param(lambda k: auth(k, k.proof(claims={"x": "\ud800"})), 401, P, id="lone-surrogate"),
    # Claims.
    pytest.param(lambda k: auth(k, k.proof(method="POST")), 401, P, id="other-method"),
    pytest.param(lambda k: auth(k, k.proof(url="https://api.example.com/admin")), 401, P,
                 id="other-path"),
    pytest.param(lambda k: auth(k, k.proof(url="https://evil.test/items")), 401, P,
                 id="other-host"),
    pytest.param(lambda k: auth(k, k.proof(url="http://api.example.com/items")), 401, P,
                 id="other-scheme"),
    pytest.param(lambda k: auth(k, k.proof(claims={"jti": None})), 401, P, id="no-jti"),
    pytest.param(lambda k: auth(k, k.proof(claims={"iat": None})), 401, P, id="no-iat"),
    pytest.param(lambda k: auth(k, k.proof(iat=anyio_time() + 3600)), 401, P, id="iat-future"),
    pytest.param(lambda k: auth(k, k.proof(iat=anyio_time() - 3600)), 401, P, id="iat-old"),
    pytest.param(lambda k: auth(k, k.proof(claims={"iat": 1e308})), 401, P, id="iat-huge"),
    pytest.param(lambda k: auth(k, k.proof(access_token=None)), 401, P, id="no-ath"),
    pytest.param(lambda k: auth(k, k.proof(access_token=k.issuer.mint(dpop_key=k.key))), 401, P,
                 id="ath-of-another-token"),
    # Headers.
    pytest.param(lambda k: auth(k, k.proof())[:1], 401, P, id="no-proof-header"),
    pytest.param(lambda k: [*auth(k, k.proof()), (b"dpop", k.proof().encode())], 401, P,
                 id="two-proof-headers"),
    pytest.param(lambda k: [(b"authorization", b"DPoP"), (b"dpop", k.proof().encode())], 400,
                 "invalid_request", id="dpop-scheme-without-token"),
    pytest.param(lambda k: [(b"authorization", f"DPoP {k.token} x".encode())], 400,
                 "invalid_request", id="dpop-scheme-extra-parts"),
    pytest.param(lambda k: [*auth(k, k.proof(url="https://evil.test/items")),
                            (b"host", b"evil.test")], 401, P, id="spoofed-host"),
    pytest.param(lambda k: [*auth(k, k.proof(url="https://evil.test/items")),
                            (b"x-forwarded-host", b"evil.test"), (b"x-forwarded-proto", b"https")],
                 401, P, id="spoofed-forwarded-host"),
    # The token's binding.
    pytest.param(lambda k: [(b"authorization", f"Bearer {k.token}".encode())], 401,
                 "invalid_token", id="bound-token-as-bearer"),
    pytest.param(lambda k: [(b"authorization", f"bEaReR {k.token}".encode()),
                            (b"dpop", k.proof().encode())], 401, "invalid_token",
                 id="bound-token-as-bearer-with-proof"),
    pytest.param(lambda k: auth(k, k.proof(access_token=(t := k.issuer.mint())), token=t), 401,
                 "invalid_token", id="unbound-token-as-dpop"),
    pytest.param(lambda k: auth(k, k.proof(access_token=(t := k.issuer.mint(claims={"cnf": {
        "jkt": 5}}))), token=t), 401, "invalid_token", id="cnf-jkt-number"),
    pytest.param(lambda k: auth(k, k.proof(access_token=(t := k.issuer.mint(claims={"cnf": [
        k.key.thumbprint()]}))), token=t), 401, "invalid_token", id="cnf-list"),
    pytest.param(lambda k: auth(k, k.proof(access_token=(t := k.issuer.mint(claims={"cnf": {
        "jkt": "é" * 43}}))), token=t), 401, P, id="cnf-jkt-non-ascii"),
    pytest.param(lambda k: auth(k, k.proof(access_token=(t := k.issuer.mint(claims={"cnf": {
        "x5t#S256": "abc"}}))), token=t), 401, "invalid_token", id="mtls-bound-token-as-dpop"),
    # Nonces (the middleware under test requires them for rows using nonce=).
    pytest.param(lambda k: auth(k, k.proof(nonce="forged")), 401, "use_dpop_nonce",
                 id="forged-nonce"),
]  # fmt: skip


def kit_for(issuer: Issuer, client_key: DevKey, other_key: DevKey) -> Kit:
    return Kit(
        issuer, client_key, other_key, issuer.mint(scopes=["items:read"], dpop_key=client_key)
    )


async def asgi_call(settings: Settings, issuer: Issuer, headers: list[tuple[bytes, bytes]]) -> Any:
    app = JWTGateMiddleware(protected_app(), settings, transport=issuer.transport())
    if not any(name == b"host" for name, _ in headers):
        headers = [(b"host", b"api.example.com"), *headers]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "https", "path": "/items", "raw_path": b"/items", "query_string": b"",
        "root_path": "", "headers": headers, "server": ("10.0.0.1", 8000), "client": ("c", 1),
    }  # fmt: skip
    sent: list[Any] = []

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], sent[0]["headers"], sent[1]["body"]


def wsgi_call(settings: Settings, issuer: Issuer, headers: list[tuple[bytes, bytes]]) -> Any:
    app = JWTGateWSGIMiddleware(wsgi_app, settings, transport=issuer.transport())
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/items", "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "10.0.0.1", "SERVER_PORT": "8000", "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(), "HTTP_HOST": "api.example.com",
    }  # fmt: skip
    for name, value in headers:
        key = "HTTP_" + name.decode().upper().replace("-", "_")
        text = value.decode("latin-1")
        # WSGI servers join repeated headers with ", " (the host replaces the default).
        joined = key in environ and key != "HTTP_HOST"
        environ[key] = f"{environ[key]}, {text}" if joined else text
    started: list[Any] = []
    body = b"".join(app(environ, lambda status, hdrs, exc=None: started.append((status, hdrs))))
    app.close()
    status, hdrs = started[0]
    return int(status.split()[0]), [(k.encode(), v.encode()) for k, v in hdrs], body


@pytest.mark.parametrize("face", ["asgi", "wsgi"])
@pytest.mark.parametrize(("row", "status", "error"), ROWS)
def test_dpop_attack_is_refused(
    face: str, row: Row, status: int, error: str, issuer: Issuer, client_key: DevKey,
    other_key: DevKey, caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG)
    kit = kit_for(issuer, client_key, other_key)
    headers = row(kit)
    nonces = error == "use_dpop_nonce"
    settings = issuer.settings(resource=RESOURCE, use_dpop_nonce=nonces,
                               dpop_nonce_secrets=[SECRET] if nonces else [])  # fmt: skip
    if face == "asgi":
        got_status, got_headers, body = anyio.run(asgi_call, settings, issuer, headers)
    else:
        got_status, got_headers, body = wsgi_call(settings, issuer, headers)
    assert got_status == status, body
    answer = json.loads(body)
    assert answer["error"] == error
    text = body.decode() + repr(got_headers) + caplog.text
    secrets = [kit.token] + [v.decode("latin-1") for n, v in headers if n == b"dpop" and v]
    for secret in secrets:
        for piece in [secret, *(p for p in secret.split(".") if len(p) >= 16)]:
            assert piece not in text, f"the answer or the logs repeat {piece[:20]!r}"
    challenges = [v.decode() for n, v in got_headers if n == b"www-authenticate"]
    assert challenges[0].startswith(f'DPoP error="{error}"') or error == "invalid_token", challenges
    assert all(c.isascii() for c in challenges)


@pytest.mark.parametrize("face", ["asgi", "wsgi"])
def test_a_replayed_proof_is_refused(
    face: str, issuer: Issuer, client_key: DevKey, other_key: DevKey
) -> None:
    kit = kit_for(issuer, client_key, other_key)
    settings = issuer.settings(resource=RESOURCE)
    headers = auth(kit, kit.proof())
    if face == "asgi":

        async def twice() -> list[Any]:
            app = JWTGateMiddleware(protected_app(), settings, transport=issuer.transport())
            results = []
            for _ in range(2):
                scope = {
                    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                    "method": "GET", "scheme": "https", "path": "/items", "raw_path": b"/items",
                    "query_string": b"", "root_path": "", "server": ("x", 1), "client": ("c", 1),
                    "headers": [(b"host", b"api.example.com"), *headers],
                }  # fmt: skip
                sent: list[Any] = []

                async def receive() -> Any:
                    return {"type": "http.request", "body": b""}

                async def send(message: Any, sent: list[Any] = sent) -> None:
                    sent.append(message)

                await app(scope, receive, send)
                results.append(sent[0]["status"])
            return results

        assert anyio.run(twice) == [200, 401]
    else:
        app = JWTGateWSGIMiddleware(wsgi_app, settings, transport=issuer.transport())
        statuses = []
        for _ in range(2):
            environ = {
                "REQUEST_METHOD": "GET", "PATH_INFO": "/items", "wsgi.url_scheme": "https",
                "HTTP_HOST": "api.example.com", "wsgi.input": io.BytesIO(),
                "HTTP_AUTHORIZATION": headers[0][1].decode(), "HTTP_DPOP": headers[1][1].decode(),
            }  # fmt: skip
            started: list[str] = []
            b"".join(app(environ, lambda status, hdrs, exc=None, s=started: s.append(status)))
            statuses.append(int(started[0].split()[0]))
        app.close()
        assert statuses == [200, 401]
