"""One request through the real middleware, with every invariant of an answer checked.

Shared by the property tests (``tests/verify/test_properties.py``) and the fuzz target
(``fuzz/fuzz_middleware.py``). The harness owns its event loop, so it can be driven
from synchronous code (hypothesis, atheris) one request at a time.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwtgate import JWTGateMiddleware, requires_scope
from jwtgate.testing import DevKey, Issuer

from forge import CHALLENGE, sign
from helpers import AUDIENCE, ISSUER_URL

ANSWERS = frozenset((200, 400, 401, 403, 503))
#: An answer that takes longer than this is a hang.
DEADLINE = 5.0


async def _whoami(request: Request) -> JSONResponse:
    user = request.user
    # Rendering the claims is part of the property: an accepted token must be renderable.
    claims = dict(user.token.claims) if user.is_authenticated else None
    return JSONResponse(
        {
            "sub": getattr(user, "subject", None),
            "scopes": sorted(request.auth.scopes),
            "claims": claims,
        }
    )


@requires_scope("items:read")
async def _items(request: Request) -> JSONResponse:
    return JSONResponse({"items": []})


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Harness:
    """The victim: an issuer with RSA, EC and Ed25519 keys, and the middleware in front of an app."""

    def __init__(self, **settings: Any) -> None:
        self.keys = {
            "RS256": DevKey.generate("RS256", kid="rsa-1"),
            "ES256": DevKey.generate("ES256", kid="ec-1"),
            "EdDSA": DevKey.generate("EdDSA", kid="ed-1"),
        }
        self.issuer = Issuer(ISSUER_URL, audience=AUDIENCE, keys=list(self.keys.values()))
        app = Starlette(routes=[Route("/whoami", _whoami), Route("/items", _items)])
        self.app = JWTGateMiddleware(
            app, self.issuer.settings(**settings), transport=self.issuer.transport()
        )
        self.loop = asyncio.new_event_loop()

    def close(self) -> None:
        self.loop.run_until_complete(self.app.authenticator.aclose())
        self.loop.close()

    def sign(self, header: Mapping[str, Any] | str, payload: Mapping[str, Any] | str) -> str:
        """A valid signature over exactly these parts, by the key that fits ``alg`` (else RSA)."""
        alg = header.get("alg") if isinstance(header, Mapping) else None
        key = self.keys.get(alg if isinstance(alg, str) else "", self.keys["RS256"])
        return sign(header, payload, key)

    def request(self, authorization: list[bytes], path: str = "/whoami") -> Answer:
        """Send one request with these Authorization values and check the answer."""
        answer = self.loop.run_until_complete(self._request(authorization, path))
        check_answer(answer, authorization)
        return answer

    async def _request(self, authorization: list[bytes], path: str) -> Answer:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"testserver")] + [(b"authorization", v) for v in authorization],
            "client": ("127.0.0.1", 1234),
            "server": ("testserver", 80),
        }
        messages: list[Mapping[str, Any]] = []

        async def receive() -> Mapping[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Mapping[str, Any]) -> None:
            messages.append(message)

        with anyio.fail_after(DEADLINE):
            await self.app(scope, receive, send)
        start, *bodies = messages
        assert start["type"] == "http.response.start"
        # The first of each header: the first WWW-Authenticate field is the request's scheme.
        headers: dict[str, str] = {}
        for k, v in start["headers"]:
            headers.setdefault(k.decode("latin-1"), v.decode("latin-1"))
        return Answer(start["status"], headers, b"".join(m.get("body", b"") for m in bodies))


def check_answer(answer: Answer, authorization: list[bytes]) -> None:
    """The invariants of every answer, whatever the input."""
    assert answer.status in ANSWERS, answer.status
    body = answer.json()  # Always JSON.
    assert isinstance(body, dict)
    if answer.status == 200:
        return
    assert isinstance(body["error"], str)
    assert isinstance(body.get("error_description", ""), str)
    assert answer.headers["content-type"] == "application/json"
    assert int(answer.headers["content-length"]) == len(answer.body)
    if answer.status == 503:
        assert int(answer.headers["retry-after"]) >= 1
        return
    challenge = answer.headers["www-authenticate"]
    assert challenge.isascii()
    if body["error"] == "unauthorized":
        assert challenge == 'Bearer realm="api"'
    else:
        assert CHALLENGE.fullmatch(challenge), challenge
        assert f'error="{body["error"]}"' in challenge
    for value in authorization:
        token = value.partition(b" ")[2].strip()
        if len(token) >= 16:  # Shorter strings may occur in a description by chance.
            assert token.decode("latin-1") not in answer.body.decode() + challenge
