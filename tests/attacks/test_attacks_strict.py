"""Token confusion under the strict access-token mode (RFC 9068) and the lifetime limits.

An ID token, a logout token or any other JWT of the same issuer is validly signed and
may carry the right ``iss`` and ``aud``: only explicit typing (``typ: at+jwt``) and the
access-token claims tell them apart (RFC 8725 §3.11, RFC 9068 §4).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from forge import Kit, assert_answer, debug_logs, make_kit, sign

pytestmark = pytest.mark.anyio
kit = pytest.fixture(make_kit)
Attack = Callable[[Kit], str]
STRICT = {"strict_access_token": True}


def _typ(typ: Any) -> Attack:
    return lambda k: k.token(header={"typ": typ})


def _claims(**overrides: Any) -> Attack:
    return lambda k: k.token(**overrides)


def _id_token(k: Kit) -> str:
    # What an OpenID provider issues to the client: typ JWT, aud = the client, nonce, azp.
    claims = k.claims(client_id=None, jti=None, nonce="n-0S6_WzA2Mj", azp="client-1")
    return sign(k.header(typ="JWT"), claims, k.rsa)


def _id_token_no_typ(k: Kit) -> str:
    claims = k.claims(client_id=None, nonce="n-0S6_WzA2Mj", azp="client-1")
    return sign(k.header(typ=None), claims, k.rsa)


STRICT_ATTACKS = [
    pytest.param(_id_token, "type", id="id-token-as-access-token"),
    pytest.param(_id_token_no_typ, "type", id="id-token-without-typ"),
    pytest.param(_typ("JWT"), "type", id="typ-jwt"),
    pytest.param(_typ(None), "type", id="typ-missing"),
    pytest.param(_typ("jwt"), "type", id="typ-jwt-lowercase"),
    pytest.param(_typ("at+jwt+extra"), "type", id="typ-suffixed"),
    pytest.param(_typ("application/jwt"), "type", id="typ-application-jwt"),
    pytest.param(_claims(sub=None), "'sub'", id="sub-missing"),
    pytest.param(_claims(client_id=None), "'client_id'", id="client-id-missing"),
    pytest.param(_claims(client_id=None, azp="client-1"), "'client_id'", id="azp-not-client-id"),
    pytest.param(_claims(jti=None), "'jti'", id="jti-missing"),
    pytest.param(_claims(iat=None), "'iat'", id="iat-missing"),
    pytest.param(_claims(sub=42), "'sub'", id="sub-integer"),
    pytest.param(_claims(sub=""), "'sub'", id="sub-empty"),
    pytest.param(_claims(client_id=["client-1"]), "'client_id'", id="client-id-list"),
    pytest.param(_claims(jti=""), "'jti'", id="jti-empty"),
    pytest.param(_claims(jti={"id": 1}), "'jti'", id="jti-object"),
    pytest.param(_claims(iat="1700000000"), "'iat'", id="iat-string"),
]


@pytest.mark.parametrize(("attack", "description"), STRICT_ATTACKS)
async def test_strict_mode_refuses(
    kit: Kit, caplog: pytest.LogCaptureFixture, attack: Attack, description: str
) -> None:
    debug_logs(caplog)
    token = attack(kit)
    response = await kit.send(token, settings=kit.issuer.settings(**STRICT))
    assert_answer(response, 401, "invalid_token", secrets=[token], caplog=caplog, issuer=kit.issuer)
    assert description in response.json()["error_description"]


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/At+JWT"])
async def test_strict_mode_accepts_access_tokens(kit: Kit, typ: str) -> None:
    response = await kit.send(
        kit.token(header={"typ": typ}), settings=kit.issuer.settings(**STRICT)
    )
    assert response.status_code == 200, response.text


async def test_without_strict_mode_jwt_typed_tokens_pass(kit: Kit) -> None:
    """The default stays compatible with issuers that type access tokens ``JWT`` or not at all."""
    for header in ({"typ": "JWT"}, {"typ": None}):
        assert (await kit.send(kit.token(header=header))).status_code == 200


LIFETIME = [
    pytest.param({"max_token_lifetime": 600}, lambda n: {"exp": n + 601}, 401, id="lifetime-over"),
    pytest.param(
        {"max_token_lifetime": 600}, lambda n: {"exp": n + 600}, 200, id="lifetime-at-max"
    ),
    pytest.param({"max_token_lifetime": 600}, lambda n: {"iat": None}, 401, id="lifetime-no-iat"),
    pytest.param(
        {"max_token_lifetime": 600},
        lambda n: {"iat": n - 10**6, "exp": n + 60},
        401,
        id="lifetime-old-iat",
    ),
    pytest.param({"max_token_age": 300}, lambda n: {"iat": n - 1000}, 401, id="age-over"),
    pytest.param({"max_token_age": 300}, lambda n: {"iat": n - 320}, 200, id="age-within-leeway"),
    pytest.param({"max_token_age": 300}, lambda n: {"iat": n - 200}, 200, id="age-under"),
    pytest.param({"max_token_age": 300}, lambda n: {"iat": None}, 401, id="age-no-iat"),
    pytest.param({"max_token_age": 300}, lambda n: {"iat": True}, 401, id="age-iat-boolean"),
    pytest.param(
        {"max_token_age": 300, "max_token_lifetime": 600},
        lambda n: {"iat": n - 100, "exp": n + 400},
        200,
        id="both-within",
    ),
]


@pytest.mark.parametrize(("settings", "claims", "status"), LIFETIME)
async def test_token_lifetime_and_age_limits(
    kit: Kit,
    caplog: pytest.LogCaptureFixture,
    settings: dict[str, Any],
    claims: Callable[[int], dict[str, Any]],
    status: int,
) -> None:
    debug_logs(caplog)
    token = kit.token(**claims(kit.now))
    response = await kit.send(token, settings=kit.issuer.settings(**settings))
    if status == 200:
        assert response.status_code == 200, response.text
    else:
        assert_answer(
            response, 401, "invalid_token", secrets=[token], caplog=caplog, issuer=kit.issuer
        )
