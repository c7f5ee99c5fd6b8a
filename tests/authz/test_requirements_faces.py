"""Requirements (any-of, roles, step-up, custom checks) answer alike on every face.

Each case goes through the face's real middleware (ASGI for Starlette and FastAPI,
WSGI for Flask and Django) and is checked for status, the WWW-Authenticate challenge
and the JSON body; a final test asserts the faces answer byte for byte alike.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from jwtgate.testing import Issuer

from authz_apps import FACES
from helpers import bearer

FRESH = {"acr": "mfa", "auth_time": "fresh"}
_ABSENT = object()

CASES = [
    # path, scopes, claims, status, error, must be in the challenge, must not be
    pytest.param("/any", [], {}, 401, None, [], ["error="], id="any-anonymous"),
    pytest.param("/any", ["reports:read"], {}, 200, None, [], [], id="any-first"),
    pytest.param("/any", ["admin:all", "x"], {}, 200, None, [], [], id="any-second"),
    pytest.param(
        "/any",
        ["items:read"],
        {},
        403,
        "insufficient_scope",
        ['scope="reports:read"'],
        [],
        id="any-none",
    ),
    pytest.param("/role", [], {"roles": ["admin"]}, 200, None, [], [], id="role-list"),
    pytest.param("/role", [], {"roles": "user admin"}, 200, None, [], [], id="role-string"),
    pytest.param(
        "/role",
        [],
        {"realm_access": {"roles": ["admin"]}},
        200,
        None,
        [],
        [],
        id="role-pointer",
    ),
    pytest.param(
        "/role",
        ["admin"],
        {"roles": ["user"]},
        403,
        "insufficient_scope",
        [],
        ["scope="],
        id="role-missing-scope-does-not-count",
    ),
    pytest.param(
        "/role",
        [],
        {"roles": [1, None, ["admin"], {"admin": 1}]},
        403,
        "insufficient_scope",
        [],
        ["scope="],
        id="role-non-string-members",
    ),
    pytest.param(
        "/role", [], {"roles": {"admin": {"org": "x"}}}, 200, None, [], [], id="role-object-keys"
    ),
    pytest.param("/anyrole", [], {"roles": ["auditor"]}, 200, None, [], [], id="anyrole-one"),
    pytest.param(
        "/anyrole",
        [],
        {"roles": ["user"]},
        403,
        "insufficient_scope",
        [],
        ["scope="],
        id="anyrole-none",
    ),
    pytest.param("/stepup", [], FRESH, 200, None, [], [], id="stepup-met"),
    pytest.param(
        "/stepup",
        [],
        {"auth_time": "fresh"},
        401,
        "insufficient_user_authentication",
        ['acr_values="mfa"'],
        [],
        id="stepup-no-acr",
    ),
    pytest.param(
        "/stepup",
        [],
        {"acr": "pwd", "auth_time": "fresh"},
        401,
        "insufficient_user_authentication",
        ['acr_values="mfa"'],
        [],
        id="stepup-wrong-acr",
    ),
    pytest.param(
        "/stepup",
        [],
        {"acr": "mfa", "auth_time": "old"},
        401,
        "insufficient_user_authentication",
        ['max_age="300"'],
        [],
        id="stepup-old",
    ),
    pytest.param(
        "/stepup",
        [],
        {"acr": "mfa"},
        401,
        "insufficient_user_authentication",
        ['max_age="300"'],
        [],
        id="stepup-no-auth-time",
    ),
    pytest.param(
        "/stepup",
        [],
        {"acr": "mfa", "auth_time": True},
        401,
        "insufficient_user_authentication",
        ['max_age="300"'],
        [],
        id="stepup-bool-auth-time",
    ),
    pytest.param(
        "/stepup",
        [],
        {"acr": ["mfa"], "auth_time": "fresh"},
        401,
        "insufficient_user_authentication",
        [],
        [],
        id="stepup-acr-list",
    ),
    pytest.param("/acr", [], {"acr": "hwk"}, 200, None, [], [], id="acr-second-value"),
    pytest.param(
        "/acr",
        [],
        {"acr": "pwd"},
        401,
        "insufficient_user_authentication",
        ['acr_values="mfa hwk"'],
        ["max_age="],
        id="acr-only",
    ),
    pytest.param("/fresh", [], {"auth_time": "fresh"}, 200, None, [], [], id="fresh-met"),
    pytest.param(
        "/fresh",
        [],
        {"auth_time": 10**30},
        401,
        "insufficient_user_authentication",
        ['max_age="60"'],
        [],
        id="fresh-huge-number",
    ),
    pytest.param(
        "/fresh",
        [],
        {"auth_time": "future"},
        401,
        "insufficient_user_authentication",
        ['max_age="60"'],
        [],
        id="fresh-in-the-future",
    ),
    pytest.param(
        "/fresh",
        [],
        {"auth_time": -(10**30)},
        401,
        "insufficient_user_authentication",
        ['max_age="60"'],
        ["acr_values="],
        id="fresh-huge-negative",
    ),
    pytest.param("/combo", ["items:read"], {"roles": ["admin"]}, 200, None, [], [], id="combo-met"),
    pytest.param(
        "/combo",
        [],
        {"roles": ["admin"]},
        403,
        "insufficient_scope",
        ['scope="items:read"'],
        [],
        id="combo-scope-first",
    ),
    pytest.param("/check", [], {"dept": "sales"}, 200, None, [], [], id="check-allows"),
    pytest.param(
        "/check", [], {"dept": "hr"}, 403, "insufficient_scope", [], ["scope="], id="check-403"
    ),
    pytest.param(
        "/check",
        [],
        {"dept": "sales", "blocked": True},
        401,
        "invalid_token",
        [],
        [],
        id="check-401",
    ),
    pytest.param("/plain", [], {}, 200, None, [], [], id="plain-valid-token"),
]


def _claims(claims: dict[str, Any]) -> dict[str, Any]:
    ages = {"fresh": time.time() - 5, "old": time.time() - 3600, "future": time.time() + 600}
    return {k: ages.get(v, v) if isinstance(v, str) else v for k, v in claims.items()}


def _call(client: httpx.Client, issuer: Issuer, path: str, scopes: list[str], claims: Any) -> Any:
    if path == "/any" and not scopes and not claims:
        return client.get(path)  # No token at all.
    return client.get(path, headers=bearer(issuer.mint(scopes=scopes, claims=_claims(claims))))


@pytest.mark.parametrize(
    ("path", "scopes", "claims", "status", "error", "present", "absent"), CASES
)
def test_requirement_answers(
    face_client: httpx.Client,
    issuer: Issuer,
    path: str,
    scopes: list[str],
    claims: dict[str, Any],
    status: int,
    error: str | None,
    present: list[str],
    absent: list[str],
) -> None:
    response = _call(face_client, issuer, path, scopes, claims)
    assert response.status_code == status, response.text
    if status == 200:
        assert response.json()["ok"] is True
        return
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    if error is not None:
        assert f'error="{error}"' in challenge
        assert response.json()["error"] == error
    for fragment in present:
        assert fragment in challenge
    for fragment in absent:
        assert fragment not in challenge


def test_roles_reach_the_handler(face_client: httpx.Client, issuer: Issuer) -> None:
    claims = {"roles": ["admin", "b"], "realm_access": {"roles": ["a", "admin"]}}
    response = face_client.get("/role", headers=bearer(issuer.mint(claims=claims)))
    assert response.json() == {"ok": True, "roles": ["a", "admin", "b"]}


def test_every_face_answers_the_same_bytes(issuer: Issuer) -> None:
    settings = issuer.settings(role_claims=("roles",))
    from jwtgate.testing import app_client

    clients = {name: app_client(build(settings, issuer)) for name, build in FACES.items()}
    for param in CASES:
        path, scopes, claims, status = param.values[:4]
        if status == 200:
            continue
        token = issuer.mint(scopes=scopes, claims=_claims(claims))
        answers = {}
        for name, client in clients.items():
            response = client.get(path, headers=bearer(token))
            answers[name] = (
                response.status_code,
                response.headers.get_list("www-authenticate"),
                response.content,
            )
        assert len(set(map(repr, answers.values()))) == 1, (param.id, answers)
