"""What the DPoP tests share besides fixtures: the request URL, a WSGI app, the face type."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from jwtgate._web.wsgi import check_environ, environ_user, respond

URL = "http://testserver/items"


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """``/items`` needs ``items:read``; anything else says who called."""
    if environ["PATH_INFO"] == "/items":
        denied = check_environ(environ, ("items:read",))
        if denied is not None:
            return respond(denied, start_response)
        body: dict[str, Any] = {"items": []}
    else:
        user = environ_user(environ)
        body = {"sub": user.subject if user else None}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(body).encode()]


Face = Callable[..., httpx.Client]
