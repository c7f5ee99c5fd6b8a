"""Introspection answers judged (RFC 7662 §2.2), settings checked, client authentication built."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import parse_qs

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from jwtgate import ConfigurationError, InvalidToken, Settings
from jwtgate._keys.fetch import FetchError, Response
from jwtgate._verify.introspection import is_jws_shaped
from jwtgate._verify.introspection_answer import AnswerRules, CredentialsRefused, read_answer
from jwtgate._verify.introspection_http import ClientAuth
from jwtgate.testing import Issuer

ISSUER = "https://as.example"
NOW = 1_800_000_000.0


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "issuer": ISSUER,
        "audience": ("api",),
        "introspection_url": "https://as.example/introspect",
        "introspection_client_id": "api-client",
        "introspection_client_secret": "s3cret",
        "leeway": 30.0,
    }
    values.update(overrides)
    return Settings(**values)


def active(**members: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"active": True, "sub": "alice", "exp": NOW + 600, "scope": "a b"}
    answer.update(members)
    return {k: v for k, v in answer.items() if v is not None}


REFUSED = [
    pytest.param({"active": False}, "inactive", id="inactive"),
    pytest.param(active(active="true"), "inactive", id="active-is-a-string"),
    pytest.param(active(exp=NOW - 31), "expired", id="expired-beyond-leeway"),
    pytest.param(active(nbf=NOW + 31), "immature", id="nbf-in-the-future"),
    pytest.param(active(iat=NOW + 31), "immature", id="iat-in-the-future"),
    pytest.param(active(exp="soon"), "claim", id="exp-not-a-number"),
    pytest.param(active(exp=True), "claim", id="exp-a-bool"),
    pytest.param(active(exp=10**400), "claim", id="exp-huge-int"),
    pytest.param(active(iss="https://evil.example"), "issuer", id="other-issuer"),
    pytest.param(active(aud="other"), "audience", id="other-audience"),
    pytest.param(active(aud=["x", "y"]), "audience", id="audience-list-without-ours"),
    pytest.param(active(aud=42), "audience", id="audience-not-a-string"),
    pytest.param(active(token_type="refresh_token"), "token_type", id="refresh-token"),
    pytest.param(active(token_type="Refresh"), "token_type", id="refresh-token-any-case"),
]


@pytest.mark.parametrize(("answer", "reason"), REFUSED)
def test_refused_answers_are_401_invalid_token(answer: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidToken) as caught:
        AnswerRules(settings()).judge(answer, NOW)
    assert caught.value.status_code == 401
    assert caught.value.error == "invalid_token"
    assert caught.value.reason == reason


ACCEPTED = [
    pytest.param(active(), id="minimal"),
    pytest.param(active(exp=NOW - 29), id="expired-within-leeway"),
    pytest.param(active(exp=None), id="no-exp"),
    pytest.param(active(aud=None, iss=None), id="no-aud-no-iss"),
    pytest.param(active(aud=["x", "api"], iss=ISSUER), id="aud-list-with-ours"),
    pytest.param(active(token_type="Bearer"), id="bearer-type"),
    pytest.param(active(nbf=NOW + 29, iat=NOW + 29), id="nbf-iat-within-leeway"),
]


@pytest.mark.parametrize("answer", ACCEPTED)
def test_accepted_answers_fill_the_user_like_a_jwt(answer: dict[str, Any]) -> None:
    verified = AnswerRules(settings()).judge(answer, NOW)
    assert verified.subject == "alice"
    assert verified.scopes == {"a", "b"}
    assert verified.issuer == ISSUER  # Filled in when the server leaves it out.
    assert "active" not in verified.claims


def test_the_answer_fills_client_id_and_other_members() -> None:
    verified = AnswerRules(settings()).judge(active(client_id="app", acr="mfa", roles=["x"]), NOW)
    assert verified.client_id == "app"
    assert verified.claims["acr"] == "mfa"
    assert verified.claims["roles"] == ["x"]


def test_required_claims_and_lifetime_limits_apply_to_answers() -> None:
    with pytest.raises(InvalidToken, match="'jti'"):
        AnswerRules(settings(required_claims=("jti",))).judge(active(), NOW)
    with pytest.raises(InvalidToken, match="too long ago"):
        AnswerRules(settings(max_token_age=60)).judge(active(iat=NOW - 120), NOW)


def test_the_cache_keeps_an_answer_until_exp_or_the_max_age_whichever_first() -> None:
    assert AnswerRules.keep_until(active(exp=NOW + 10), NOW, 60) == NOW + 10
    assert AnswerRules.keep_until(active(exp=NOW + 600), NOW, 60) == NOW + 60
    assert AnswerRules.keep_until(active(exp=None), NOW, 60) == NOW + 60


BROKEN = [
    pytest.param(Response(500, b"{}", {}), FetchError, id="500"),
    pytest.param(Response(302, b"", {}), FetchError, id="redirect"),
    pytest.param(Response(401, b"{}", {}), CredentialsRefused, id="401-our-credentials"),
    pytest.param(Response(403, b"{}", {}), CredentialsRefused, id="403-our-credentials"),
    pytest.param(Response(200, b"<html>", {}), FetchError, id="not-json"),
    pytest.param(Response(200, b"[]", {}), FetchError, id="not-an-object"),
    pytest.param(Response(200, b'{"sub":"x"}', {}), FetchError, id="no-active"),
    pytest.param(Response(200, b'{"active":1}', {}), FetchError, id="active-not-bool"),
    pytest.param(Response(200, b"[" * 100_000, {}), FetchError, id="deep-nesting"),
]


@pytest.mark.parametrize(("response", "error"), BROKEN)
def test_broken_answers_are_failures_not_verdicts(
    response: Response, error: type[Exception]
) -> None:
    with pytest.raises(error):
        read_answer(response, "https://as.example/introspect")


BAD_SETTINGS = [
    pytest.param({"introspection_url": "http://as.example/i"}, "introspection_url", id="http"),
    pytest.param({"introspection_client_id": None}, "introspection_client_id", id="no-client"),
    pytest.param(
        {"introspection_client_secret": None}, "introspection_client_secret", id="no-secret"
    ),
    pytest.param(
        {"introspection_auth_method": "tls"}, "introspection_auth_method", id="unknown-method"
    ),
    pytest.param(
        {"introspection_auth_method": "private_key_jwt"},
        "introspection_private_key_file",
        id="jwt-without-key",
    ),
    pytest.param({"introspection_cache_ttl": -1}, "introspection_cache_ttl", id="negative-ttl"),
    pytest.param(
        {"introspection_negative_ttl": float("nan")}, "introspection_negative_ttl", id="nan"
    ),
    pytest.param({"introspection_cache_size": -1}, "introspection_cache_size", id="size"),
    pytest.param({"introspection_cache_bytes": 10}, "introspection_cache_bytes", id="bytes"),
    pytest.param({"redis_url": "http://x"}, "redis_url", id="redis-scheme"),
]


@pytest.mark.parametrize(("overrides", "setting"), BAD_SETTINGS)
def test_bad_settings_name_the_setting(overrides: dict[str, Any], setting: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        settings(**overrides)
    assert caught.value.setting == setting


def test_bad_settings_from_env_name_the_variable() -> None:
    env = {
        "JWTGATE_ISSUER": ISSUER,
        "JWTGATE_AUDIENCE": "api",
        "JWTGATE_INTROSPECTION_URL": "http://as.example/introspect",
    }
    with pytest.raises(ConfigurationError, match=r"JWTGATE_INTROSPECTION_URL: 'http://as\.ex"):
        Settings.from_env(env)


def test_introspect_jwts_needs_an_endpoint_and_the_secret_is_masked() -> None:
    with pytest.raises(ConfigurationError, match="introspect_jwts"):
        Settings(issuer=ISSUER, audience=("api",), introspect_jwts=True)
    assert "s3cret" not in repr(settings())


def test_basic_auth_form_encodes_before_base64() -> None:
    auth = ClientAuth("client_secret_basic", "id:with space", secret="p&ss=word")
    headers, body = auth.request("https://as.example/i", "tok", NOW)
    decoded = base64.b64decode(headers["Authorization"].removeprefix("Basic ")).decode()
    assert decoded == "id%3Awith+space:p%26ss%3Dword"
    assert parse_qs(body.decode()) == {"token": ["tok"], "token_type_hint": ["access_token"]}
    assert "p&ss" not in repr(auth)


def test_client_secret_post_puts_the_credentials_in_the_form() -> None:
    headers, body = ClientAuth("client_secret_post", "id", secret="pw").request("u", "t", NOW)
    assert "Authorization" not in headers
    assert parse_qs(body.decode())["client_secret"] == ["pw"]


def test_private_key_jwt_is_accepted_by_the_test_kit(tmp_path: Any) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "client-key.pem").write_bytes(pem)
    issuer = Issuer("https://as.example", audience="api")
    issuer.opaque.client_keys.append(key.public_key())
    s = settings(
        introspection_auth_method="private_key_jwt",
        introspection_client_id=issuer.opaque.client_id,
        introspection_client_secret=None,
        introspection_private_key_file=str(tmp_path / "client-key.pem"),
    )
    auth = ClientAuth.from_settings(s)
    assert (auth.alg, auth.kid) == ("ES256", "client-key")
    token = issuer.mint_opaque(sub="bob")
    headers, body = auth.request(issuer.introspection_url, token, time.time())
    status, answer = issuer.opaque.handle(headers.get("Authorization"), body)
    assert status == 200
    assert json.loads(answer)["sub"] == "bob"


def test_an_unreadable_private_key_file_is_a_configuration_error(tmp_path: Any) -> None:
    (tmp_path / "k.pem").write_text("not a key")
    s = settings(
        introspection_auth_method="private_key_jwt",
        introspection_client_secret=None,
        introspection_private_key_file=str(tmp_path / "k.pem"),
    )
    with pytest.raises(ConfigurationError, match="introspection_private_key_file"):
        ClientAuth.from_settings(s)


SHAPES = [
    pytest.param("eyJhbGciOiJSUzI1NiJ9.e30.c2ln", True, id="jws"),
    pytest.param("eyJhbGciOiJSUzI1NiJ9.e30.", True, id="jws-empty-signature"),
    pytest.param("a.b.c", False, id="three-parts-no-json-header"),
    pytest.param("ya29.a0AfH6SMB", False, id="google-like-one-dot"),
    pytest.param("eyJhbGciOiJSUzI1NiJ9.e30", False, id="two-parts"),
    pytest.param("W10.e30.c2ln", False, id="header-is-a-json-list"),
    pytest.param("opaque-token_value~123", False, id="opaque"),
]


@pytest.mark.parametrize(("token", "shaped"), SHAPES)
def test_what_counts_as_a_jws(token: str, shaped: bool) -> None:
    assert is_jws_shaped(token) is shaped


def test_claim_rules_roles_pointers_and_the_resource_apply_as_for_jwts() -> None:
    rules = AnswerRules(
        settings(
            claim_rules={"/org/tier": ["gold"]},
            role_claims=("/realm_access/roles",),
            scope_claims=("scope", "scp"),
            resource="https://api.example",
        )
    )
    answer = active(
        aud="https://api.example",
        org={"tier": "gold"},
        realm_access={"roles": ["admin"]},
        scp=["c"],
    )
    verified = rules.judge(answer, NOW)
    assert verified.roles == {"admin"}
    assert verified.scopes == {"a", "b", "c"}
    with pytest.raises(InvalidToken) as caught:
        rules.judge(active(aud="https://api.example", org={"tier": "tin"}), NOW)
    assert caught.value.status_code == 401
    assert "tin" not in caught.value.description


def test_a_multi_tenant_issuer_checks_iss_against_tid() -> None:
    template = "https://login.example/{tenantid}/v2.0"
    with pytest.raises(ConfigurationError, match="introspection_url"):
        settings(issuer=template, jwks_url="https://login.example/keys", introspection_url=None)
    rules = AnswerRules(settings(issuer=template, jwks_url="https://login.example/keys"))
    tenant = "https://login.example/1234/v2.0"
    assert rules.judge(active(tid="1234", iss=tenant), NOW).issuer == tenant
    assert rules.judge(active(tid="1234", iss=None), NOW).issuer == tenant
    for bad in (active(tid="1234", iss="https://login.example/99/v2.0"), active(iss=tenant)):
        with pytest.raises(InvalidToken):
            rules.judge(bad, NOW)
