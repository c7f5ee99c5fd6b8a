"""The WSGI middleware answers the same with the token cache on as off, for a cached token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from jwtgate import JWTGateWSGIMiddleware
from jwtgate._web.wsgi import USER_KEY
from jwtgate.testing import Issuer

START = 1_700_000_000.0


def whoami(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    user = environ[USER_KEY]
    start_response("200 OK", [("content-type", "text/plain")])
    return [b"anonymous" if user is None else f"sub={user.subject}".encode()]


def call(app: JWTGateWSGIMiddleware, header: str | None) -> tuple[Any, ...]:
    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "SCRIPT_NAME": ""}
    if header is not None:
        environ["HTTP_AUTHORIZATION"] = header
    started: list[Any] = []
    body = b"".join(app(environ, lambda status, headers, *_: started.append((status, headers))))
    status, headers = started[0]
    return status, sorted(headers), body


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("Bearer {t}", "sub=alice", id="cached-token"),
        pytest.param("bearer {t}", "sub=alice", id="lowercase-scheme"),
        pytest.param("Bearer  {t}", "sub=alice", id="double-space"),
        pytest.param("Bearer {t} ", "sub=alice", id="trailing-space"),
        pytest.param("Bearer {t}\t", "sub=alice", id="trailing-tab"),
        pytest.param("Bearer {t}junk", "401", id="then-junk"),
        pytest.param("Bearer {t} junk", "400", id="space-junk"),
        pytest.param("Bearer {t}, Bearer {t}", "400", id="joined-duplicate-headers"),
        pytest.param("Bearer\t{t}", "anonymous", id="tab-after-scheme"),
        pytest.param("Basic {t}", "anonymous", id="other-scheme"),
        pytest.param("Bearer {t}\xe9", "401", id="then-latin1"),
    ],
)
def test_header_shapes_around_a_cached_token(issuer: Issuer, header: str, expected: str) -> None:
    apps = []
    for size in (8, 0):
        settings = issuer.settings(jwks_background_refresh=False, token_cache_size=size)
        apps.append(
            JWTGateWSGIMiddleware(
                whoami, settings, transport=issuer.transport(), clock=lambda: START
            )
        )
    cached, full = apps
    token = issuer.mint(sub="alice", now=START)
    for app in apps:
        for _ in range(2):
            assert call(app, f"Bearer {token}")[2] == b"sub=alice"
    cache = cached.authenticator.token_cache
    assert cache is not None
    assert cache.get(token.encode()) is not None  # Cached: the next answers may come from it.
    answer = call(cached, header.replace("{t}", token))
    assert answer == call(full, header.replace("{t}", token))
    status, _, body = answer
    if expected in ("400", "401"):
        assert status.startswith(expected)
    else:
        assert (status, body) == ("200 OK", expected.encode())
    for app in apps:
        app.close()
