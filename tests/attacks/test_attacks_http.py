"""Attacks on the HTTP envelope: the Authorization header, its size, where the token travels."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from jwtgate import Settings

from forge import Kit, assert_answer, debug_logs, forge, make_kit
from header_attacks import HEADER_ATTACKS, Headers
from helpers import first_challenge

pytestmark = pytest.mark.anyio
kit = pytest.fixture(make_kit)

@pytest.mark.parametrize(("headers", "status", "error"), HEADER_ATTACKS)
async def test_header_attack(
    kit: Kit,
    caplog: pytest.LogCaptureFixture,
    headers: Callable[[bytes], Headers],
    status: int,
    error: str,
) -> None:
    debug_logs(caplog)
    token = kit.token()
    response = await kit.request(headers(token.encode()))
    if status == 200:
        assert response.status_code == 200
        return
    assert_answer(response, status, error, secrets=[token], caplog=caplog, issuer=kit.issuer)


@pytest.mark.parametrize("scheme", [b"Bearer", b"bearer", b"BEARER", b"bEaReR"])
async def test_scheme_is_case_insensitive(kit: Kit, scheme: bytes) -> None:
    response = await kit.request([(b"authorization", scheme + b" " + kit.token().encode())])
    assert response.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("access_token={t}", id="access_token"),
        pytest.param("token={t}", id="token"),
        pytest.param("authorization=Bearer%20{t}", id="authorization"),
        pytest.param("id_token={t}", id="id_token"),
    ],
)
async def test_token_in_the_query_string_is_not_read(
    kit: Kit, caplog: pytest.LogCaptureFixture, query: str
) -> None:
    """RFC 6750 §2.3 is not supported: URLs end up in logs, caches and Referer headers."""
    debug_logs(caplog)
    token = kit.token()
    response = await kit.request(path="/items?" + query.replace("{t}", token))
    assert response.status_code == 401
    assert first_challenge(response) == 'Bearer realm="api"'
    assert token not in response.text
    response = await kit.request(path="/whoami?" + query.replace("{t}", token))
    assert response.json()["authenticated"] is False


async def test_size_cap_is_checked_before_any_decoding(
    kit: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    debug_logs(caplog)
    settings = kit.issuer.settings(max_token_bytes=2048)
    # One byte over the cap: refused as too large, whatever its shape, and no key fetched.
    for shape in ("A" * 2049, ("A." * 1100)[:2049], forge({"alg": "none"}, "x" * 2000)[:2049]):
        response = await kit.send(shape, settings=settings)
        assert_answer(response, 401, "invalid_token", secrets=[shape], caplog=caplog)
        assert response.json()["error_description"] == "The token is too large."
        assert kit.issuer.requests == []
    assert "Rejected bearer token: reason=oversize" in caplog.text
    # At the cap it is decoded (and refused for what it is).
    at_cap = "A" * 2048
    response = await kit.send(at_cap, settings=settings)
    assert response.json()["error_description"] != "The token is too large."
    # A valid token under a cap that fits passes; the same token over a smaller cap does not.
    token = kit.token(note="x" * 600)
    assert (await kit.send(token, settings=settings)).status_code == 200
    small = Settings(**{**_fields(settings), "max_token_bytes": 1024})
    assert len(token) > 1024
    assert (await kit.send(token, settings=small)).status_code == 401


def _fields(settings: Settings) -> dict[str, object]:
    import dataclasses

    return {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}


async def test_websocket_with_bad_token_is_closed_without_echo(kit: Kit) -> None:
    app = kit.app()
    token = kit.token(sub="mallory")[:-10]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": "/items",
        "headers": [(b"authorization", b"Bearer " + token.encode())],
        "query_string": b"",
    }
    await app(scope, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]
