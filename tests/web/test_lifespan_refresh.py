"""The ASGI lifespan runs the refresher and stops it at shutdown; readiness; startup errors."""

from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from jwtgate import Authenticator, JWTGateMiddleware, RemoteKeySet, Settings, readiness_endpoint
from jwtgate.testing import Issuer

pytestmark = pytest.mark.anyio


async def lifespan(app: Any, during: Any) -> list[str]:
    """Run *app*'s lifespan, calling *during()* between startup and shutdown."""
    started, stop = anyio.Event(), anyio.Event()
    sent: list[str] = []

    async def receive() -> dict[str, str]:
        if not started.is_set():
            started.set()
            return {"type": "lifespan.startup"}
        await stop.wait()
        return {"type": "lifespan.shutdown"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(
            app, {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send
        )
        await started.wait()
        await during()
        stop.set()
    return sent


async def test_lifespan_keeps_keys_fresh_until_shutdown(issuer: Issuer) -> None:
    app = JWTGateMiddleware(Starlette(), issuer.settings(), transport=issuer.transport())
    key_set = app.key_set
    assert isinstance(key_set, RemoteKeySet)

    async def during() -> None:
        for _ in range(200):
            if key_set.ready and key_set.state().refreshing:
                break
            await anyio.sleep(0.005)
        state = key_set.state()
        assert state.refreshing
        assert state.ready
        assert state.next_refresh is not None
        assert state.fetched_at is not None
        assert state.fetched_at + 225 <= state.next_refresh <= state.fetched_at + 270

    sent = await lifespan(app, during)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert not key_set.state().refreshing  # Cancelled before shutdown.complete.
    assert issuer.requests.count("/.well-known/jwks.json") == 1


async def test_background_refresh_can_be_turned_off(issuer: Issuer) -> None:
    settings = issuer.settings(jwks_background_refresh=False)
    app = JWTGateMiddleware(Starlette(), settings, transport=issuer.transport())

    async def during() -> None:
        for _ in range(200):
            if app.key_set.ready:
                break
            await anyio.sleep(0.005)
        assert app.key_set.ready
        assert not app.key_set.state().refreshing

    await lifespan(app, during)


async def test_readiness_endpoint(issuer: Issuer) -> None:
    auth = Authenticator(issuer.settings(), transport=issuer.transport())
    app = JWTGateMiddleware(
        Starlette(routes=[Route("/ready", readiness_endpoint(auth))]), authenticator=auth
    )
    assert app.authenticator is auth
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        response = await c.get("/ready")
        assert response.status_code == 503
        assert response.json()["ready"] is False
        await auth.prefetch()
        response = await c.get("/ready")
        assert response.status_code == 200
        body = response.json()
        assert body["issuers"][0]["issuer"] == issuer.issuer
        assert body["issuers"][0]["keys"] == 1
        assert "jwks" not in response.text  # No URLs or fetch errors.
    await auth.aclose()


async def test_unreadable_key_file_refuses_startup_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWTGATE_ISSUER", "legacy")
    monkeypatch.setenv("JWTGATE_AUDIENCE", "api")
    monkeypatch.setenv("JWTGATE_PUBLIC_KEY_FILES", str(tmp_path / "missing.pem"))
    app = JWTGateMiddleware(Starlette())
    assert app.config_error is not None
    assert app.config_error.setting == "JWTGATE_PUBLIC_KEY_FILES"
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, str]:
        return {"type": "lifespan.startup"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "JWTGATE_PUBLIC_KEY_FILES" in sent[0]["message"]


def test_key_file_errors_of_many_issuers_name_the_entry(tmp_path: Path) -> None:
    from jwtgate import ConfigurationError, IssuerConfig

    settings = Settings(
        issuers=[
            IssuerConfig(issuer="https://a.test", audience="x"),
            IssuerConfig(issuer="b", audience="x", jwks_file=str(tmp_path / "none.json")),
        ]
    )
    with pytest.raises(ConfigurationError) as info:
        Authenticator(settings)
    assert info.value.setting == "issuers[1].jwks_file"
