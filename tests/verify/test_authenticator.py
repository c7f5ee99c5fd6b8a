"""Authenticator: the async and sync faces take the same steps and give the same answers."""

import pytest

from jwtgate import Authenticator, ExpiredToken, InvalidAlgorithm, KeySetUnavailable, UnknownKey
from jwtgate.testing import Issuer

pytestmark = pytest.mark.anyio


async def test_async_face_verifies_and_fetches_once(issuer: Issuer) -> None:
    auth = Authenticator(issuer.settings(), transport=issuer.transport())
    assert not auth.ready
    for _ in range(3):
        verified = await auth.authenticate(issuer.mint(sub="alice", scopes=["a"]))
        assert verified.subject == "alice"
        assert verified.scopes == {"a"}
    assert auth.ready
    assert issuer.requests == ["/.well-known/openid-configuration", "/.well-known/jwks.json"]
    await auth.aclose()


def test_sync_face_verifies_and_fetches_once(issuer: Issuer) -> None:
    auth = Authenticator(issuer.settings(), sync_transport=issuer.transport())
    for _ in range(3):
        assert auth.authenticate_sync(issuer.mint(sub="bob")).subject == "bob"
    assert issuer.requests == ["/.well-known/openid-configuration", "/.well-known/jwks.json"]
    with pytest.raises(ExpiredToken):
        auth.authenticate_sync(issuer.mint(expires_in=-3600))
    with pytest.raises(UnknownKey):
        auth.authenticate_sync(issuer.mint(headers={"kid": "elsewhere"}))
    auth.close()


def test_algorithm_is_checked_before_any_fetch(issuer: Issuer) -> None:
    auth = Authenticator(issuer.settings(algorithms=["ES256"]), sync_transport=issuer.transport())
    with pytest.raises(InvalidAlgorithm):
        auth.authenticate_sync(issuer.mint())
    assert issuer.requests == []


async def test_prefetch_loads_keys_and_swallows_an_outage(issuer: Issuer) -> None:
    auth = Authenticator(issuer.settings(), transport=issuer.transport())
    await auth.prefetch()
    assert auth.ready
    down = Authenticator(
        Issuer("https://down.test", audience="x").settings(), transport=_refusing()
    )
    await down.prefetch()
    assert not down.ready
    with pytest.raises(KeySetUnavailable):
        await down.authenticate(issuer.mint())


def test_prefetch_sync(issuer: Issuer) -> None:
    auth = Authenticator(issuer.settings(), sync_transport=issuer.transport())
    auth.prefetch_sync()
    assert auth.ready
    assert "https://issuer.test" in repr(auth)


def _refusing():  # type: ignore[no-untyped-def]
    import httpx

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    return httpx.MockTransport(handler)
