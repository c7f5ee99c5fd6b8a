"""Edges of introspection: key types, discovery failures, size caps, Redis damage, flights."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from jwtgate import (
    Authenticator,
    ConfigurationError,
    IntrospectionUnavailable,
    Introspector,
    InvalidIssuer,
    InvalidToken,
    MalformedToken,
    VerifiedToken,
)
from jwtgate._state.redis import RedisState
from jwtgate._verify.introspection_cache import AnswerCache, again
from jwtgate._verify.introspection_http import ClientAuth
from jwtgate._verify.introspection_redis import SharedAnswers
from jwtgate.testing import Issuer

from servers import free_port

pytestmark = pytest.mark.anyio
ISSUER = "https://as.test"


def pem(key: Any, tmp_path: Path, name: str = "key.pem") -> str:
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / name).write_bytes(data)
    return str(tmp_path / name)


KEYS = [
    pytest.param(lambda: rsa.generate_private_key(65537, 2048), "RS256", id="rsa"),
    pytest.param(ed25519.Ed25519PrivateKey.generate, "EdDSA", id="ed25519"),
]


@pytest.mark.parametrize(("make", "alg"), KEYS)
def test_private_key_jwt_key_types(make: Any, alg: str, tmp_path: Path) -> None:
    issuer = Issuer(ISSUER, audience="api")
    key = make()
    issuer.opaque.client_keys.append(key.public_key())
    settings = issuer.settings(
        introspection=True,
        introspection_auth_method="private_key_jwt",
        introspection_private_key_file=pem(key, tmp_path),
    )
    assert ClientAuth.from_settings(settings).alg == alg
    authenticator = Authenticator(settings, sync_transport=issuer.transport())
    assert authenticator.authenticate_sync(issuer.mint_opaque(sub="k")).subject == "k"
    issuer.opaque.client_keys.clear()  # The server no longer knows the key: 401, so 503.
    with pytest.raises(IntrospectionUnavailable):
        authenticator.authenticate_sync(issuer.mint_opaque())


def test_unsupported_key_types_are_refused(tmp_path: Path) -> None:
    settings = Issuer(ISSUER, audience="api").settings(
        introspection=True,
        introspection_auth_method="private_key_jwt",
        introspection_private_key_file=pem(ec.generate_private_key(ec.SECP384R1()), tmp_path),
    )
    with pytest.raises(ConfigurationError, match="P-256"):
        Authenticator(settings)


def test_client_secret_post_end_to_end() -> None:
    issuer = Issuer(ISSUER, audience="api")
    settings = issuer.settings(introspection=True, introspection_auth_method="client_secret_post")
    authenticator = Authenticator(settings, sync_transport=issuer.transport())
    assert authenticator.authenticate_sync(issuer.mint_opaque(sub="p")).subject == "p"


def metadata_transport(
    issuer: Issuer, document: Any, status: int = 200, paths: tuple[str, ...] = ()
) -> httpx.MockTransport:
    """The issuer's transport, its metadata at *paths* (default: both) replaced."""
    inner = issuer.transport()
    paths = paths or (
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    )

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path in paths:
            body = document if isinstance(document, bytes) else json.dumps(document).encode()
            return httpx.Response(status, content=body)
        return inner.handle_request(request)

    return httpx.MockTransport(handler)


BAD_METADATA = [
    pytest.param(b"<html>", 200, "is not JSON", id="not-json"),
    pytest.param({"issuer": "https://other.test"}, 200, "not this issuer", id="other-issuer"),
    pytest.param({"issuer": ISSUER}, 200, "names no introspection_endpoint", id="no-endpoint"),
    pytest.param(
        {"issuer": ISSUER, "introspection_endpoint": "http://as.test/i"}, 200, "https", id="http"
    ),
    pytest.param({}, 500, "HTTP 500", id="500"),
]


def discovery_settings(issuer: Issuer) -> Any:
    return issuer.settings(
        introspection_client_id=issuer.opaque.client_id,
        introspection_client_secret=issuer.opaque.client_secret,
    )


@pytest.mark.parametrize(("document", "status", "problem"), BAD_METADATA)
async def test_failed_discovery_is_503_on_both_faces(
    document: Any, status: int, problem: str
) -> None:
    issuer = Issuer(ISSUER, audience="api")
    transport = metadata_transport(issuer, document, status)
    authenticator = Authenticator(
        discovery_settings(issuer), transport=transport, sync_transport=transport
    )
    with pytest.raises(IntrospectionUnavailable):
        await authenticator.authenticate(issuer.mint_opaque())
    with pytest.raises(IntrospectionUnavailable):
        authenticator.authenticate_sync(issuer.mint_opaque())
    assert problem in (authenticator.introspector.client.last_error or "")  # type: ignore[union-attr]
    await authenticator.aclose()
    authenticator.close()


def test_sync_discovery_falls_back_to_rfc8414_metadata() -> None:
    issuer = Issuer(ISSUER, audience="api")
    transport = metadata_transport(  # OpenID metadata missing.
        issuer, {}, status=404, paths=("/.well-known/openid-configuration",)
    )
    authenticator = Authenticator(discovery_settings(issuer), sync_transport=transport)
    assert authenticator.authenticate_sync(issuer.mint_opaque(sub="r")).subject == "r"
    assert repr(authenticator.introspector).endswith(
        "/oauth/introspect', auth='client_secret_basic'))"
    )


def oversize(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=b'{"active": true, "x": "' + b"a" * 5000 + b'"}')


async def test_an_oversize_answer_is_503_on_both_faces() -> None:
    issuer = Issuer(ISSUER, audience="api")
    settings = issuer.settings(introspection=True, jwks_max_bytes=1024)
    transport = httpx.MockTransport(oversize)
    authenticator = Authenticator(settings, transport=transport, sync_transport=transport)
    with pytest.raises(IntrospectionUnavailable):
        await authenticator.authenticate("opaque")
    with pytest.raises(IntrospectionUnavailable):
        authenticator.authenticate_sync("opaque")
    assert "more than 1024 bytes" in (authenticator.introspector.client.last_error or "")  # type: ignore[union-attr]


def test_the_endpoint_down_is_503_on_the_sync_face() -> None:
    issuer = Issuer(ISSUER, audience="api")
    dead = f"http://127.0.0.1:{free_port()}/i"
    authenticator = Authenticator(issuer.settings(introspection=True, introspection_url=dead))
    with pytest.raises(IntrospectionUnavailable):
        authenticator.authenticate_sync("opaque")
    assert "ConnectError" in (authenticator.introspector.client.last_error or "")  # type: ignore[union-attr]
    authenticator.close()


def test_an_empty_token_field_is_a_server_error_not_a_verdict() -> None:
    status, _ = Issuer(ISSUER, audience="api").opaque.handle("Basic !!!", b"")
    assert status == 401
    opaque = Issuer(ISSUER, audience="api").opaque
    status, _ = opaque.handle(None, f"client_id={opaque.client_id}&client_secret="
                                     f"{opaque.client_secret}".encode())  # fmt: skip
    assert status == 400


def test_the_cache_drops_what_it_may_not_keep() -> None:
    token = VerifiedToken({"sub": "x", "iss": ISSUER}, {}, frozenset())
    cache = AnswerCache(2, 4096)
    cache.put(b"k", token, until=10.0, size=10)
    cache.put(b"k", token, until=20.0, size=10)  # Replaced, counted once.
    assert cache.weight == 410
    assert cache.get(b"k", 19.0) is token
    assert cache.get(b"k", 20.0) is None  # Expired entries are removed on sight.
    assert cache.weight == 0
    cache.put(b"big", token, until=10.0, size=5000)  # Larger than the whole budget.
    assert len(cache) == 0
    off = AnswerCache(0, 4096)
    off.put(b"k", token, until=10.0, size=1)
    off.put_negative(b"k", InvalidToken("no", reason="inactive"), until=10.0)
    assert len(off) == 0
    for i in range(3):
        cache.put_negative(bytes([i]), InvalidToken("no", reason="inactive"), until=10.0)
    assert cache.get_negative(b"\x00", 1.0) is None  # Oldest refusal evicted.
    assert isinstance(cache.get_negative(b"\x02", 1.0), InvalidToken)
    assert cache.get_negative(b"\x02", 10.0) is None


def test_errors_raised_again_are_fresh_copies() -> None:
    for error in (
        InvalidToken("no", reason="inactive"),
        InvalidIssuer("iss", claim="iss"),
        IntrospectionUnavailable("down", retry_after=7),
    ):
        copy = again(error)
        assert copy is not error
        assert (type(copy), copy.description, copy.reason) == (
            type(error),
            error.description,
            error.reason,
        )
    assert again(IntrospectionUnavailable("down", retry_after=7)).retry_after == 7  # type: ignore[attr-defined]


async def test_a_waiter_gets_the_answer_of_a_leader_on_the_other_face() -> None:
    issuer = Issuer(ISSUER, audience="api")
    introspector = Introspector(issuer.settings(introspection=True))
    token = issuer.mint_opaque()
    begun = introspector._begin(token, sync=True)
    assert isinstance(begun, tuple)
    key, flight, leading = begun
    assert leading
    answer = VerifiedToken({"sub": "from-the-leader", "iss": ISSUER}, {}, frozenset())

    got: list[VerifiedToken] = []

    async def wait() -> None:
        got.append(await introspector.introspect(token))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(wait)
        await (
            anyio.lowlevel.checkpoint()
        )  # The waiter has joined the flight (no await before that).
        assert not got
        flight.result = answer
        await anyio.to_thread.run_sync(introspector._end, key, flight)
    assert got == [answer]


async def test_waiters_of_a_leader_that_never_ends_or_was_interrupted_get_503() -> None:
    issuer = Issuer(ISSUER, audience="api")
    introspector = Introspector(issuer.settings(introspection=True, http_total_timeout=0.001))
    token = issuer.mint_opaque()
    begun = introspector._begin(token)
    assert isinstance(begun, tuple)
    with pytest.raises(IntrospectionUnavailable, match="in time"):
        await introspector.introspect(token)
    with pytest.raises(IntrospectionUnavailable, match="in time"):
        introspector.introspect_sync(token)
    flight = begun[1]
    flight.error = RuntimeError("cancelled")
    flight.finish()
    with pytest.raises(IntrospectionUnavailable, match="could not be introspected"):
        await introspector.introspect(token)


def test_a_malformed_token_never_reaches_the_server() -> None:
    issuer = Issuer(ISSUER, audience="api")
    with pytest.raises(MalformedToken):
        Introspector(issuer.settings(introspection=True)).introspect_sync("bad token")
    assert issuer.opaque.calls == 0


def shared(url: str) -> SharedAnswers:
    return SharedAnswers(RedisState(url, timeout=0.5), "edges")


@pytest.mark.integration
async def test_damaged_or_foreign_redis_values_are_ignored(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    answers = shared(redis_url)
    for value in (b"not json", b"[]", b'{"answer": [], "until": 1}', b'{"answer": {}}'):
        client.set("jwtgate:introspection:edges:" + b"k".hex(), value)
        assert answers.get(b"k") is None
        assert await answers.aget(b"k") is None
    answers.put(b"k", {"active": True}, until=5.0, now=10.0)  # Already past: not stored.
    await answers.aput(b"k", {"active": True}, until=5.0, now=10.0)
    assert client.get("jwtgate:introspection:edges:" + b"k".hex()) == b'{"answer": {}}'
    answers.close()
    await answers.aclose()
    assert "s3cret" not in repr(shared("redis://user:s3cret@127.0.0.1:1/0"))


async def test_redis_down_is_a_miss_on_both_faces_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = shared(f"redis://127.0.0.1:{free_port()}/0")
    assert down.get(b"k") is None
    down.put(b"k", {"active": True}, until=100.0, now=1.0)
    assert await down.aget(b"k") is None
    await down.aput(b"k", {"active": True}, until=100.0, now=1.0)
    assert caplog.text.count("unreachable") == 1
    down.close()
    await down.aclose()
