import dataclasses
import logging

import pytest

from jwtgate import ASYMMETRIC_ALGORITHMS, ConfigurationError, Settings

BASE = {"JWTGATE_ISSUER": "https://issuer.example.com/", "JWTGATE_AUDIENCE": "api"}


def test_from_env_minimal_uses_defaults() -> None:
    settings = Settings.from_env(BASE)
    assert settings.issuer == "https://issuer.example.com/"
    assert settings.audience == ("api",)
    assert settings.algorithms == ASYMMETRIC_ALGORITHMS
    assert 0 < settings.leeway <= 60
    assert settings.jwks_url is None
    assert settings.jwks_refetch_cooldown <= 5
    assert settings.discovery_urls == (
        "https://issuer.example.com/.well-known/openid-configuration",
        "https://issuer.example.com/.well-known/oauth-authorization-server",
    )


def test_default_algorithms_are_every_asymmetric_jws_algorithm() -> None:
    assert set(ASYMMETRIC_ALGORITHMS) == {
        "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
        "Ed25519", "Ed448",  # RFC 9864
    }  # fmt: skip


def test_from_env_reads_every_setting() -> None:
    env = {
        **BASE,
        "JWTGATE_AUDIENCE": " api , other ,",
        "JWTGATE_JWKS_URL": "https://issuer.example.com/keys",
        "JWTGATE_ALGORITHMS": "RS256, ES256",
        "JWTGATE_LEEWAY": "10",
        "JWTGATE_REQUIRED_CLAIMS": "sub,iat",
        "JWTGATE_SCOPE_CLAIMS": "scope,permissions",
        "JWTGATE_EXCLUDE_PATHS": "/health,/docs*",
        "JWTGATE_REALM": "my-api",
        "JWTGATE_JWKS_CACHE_TTL": "60",
        "JWTGATE_JWKS_REFETCH_COOLDOWN": "2.5",
        "JWTGATE_JWKS_MAX_STALE": "120",
        "JWTGATE_JWKS_MAX_BYTES": "4096",
        "JWTGATE_HTTP_TIMEOUT": "1.5",
        "JWTGATE_MAX_TOKEN_BYTES": "2048",
    }
    s = Settings.from_env(env)
    assert s.audience == ("api", "other")
    assert s.jwks_url == "https://issuer.example.com/keys"
    assert s.algorithms == ("RS256", "ES256")
    assert s.leeway == 10
    assert s.required_claims == ("sub", "iat")
    assert s.scope_claims == ("scope", "permissions")
    assert s.exclude_paths == ("/health", "/docs*")
    assert s.realm == "my-api"
    assert (s.jwks_cache_ttl, s.jwks_refetch_cooldown, s.jwks_max_stale) == (60, 2.5, 120)
    assert (s.jwks_max_bytes, s.http_timeout, s.max_token_bytes) == (4096, 1.5, 2048)


def test_every_field_has_an_env_variable_and_doc() -> None:
    for field in dataclasses.fields(Settings):
        assert field.metadata["env"] == "JWTGATE_" + field.name.upper()
        assert field.metadata["doc"]


@pytest.mark.parametrize(
    ("env", "variable", "fragment"),
    [
        pytest.param(
            {"JWTGATE_AUDIENCE": "api"}, "JWTGATE_ISSUER", "required", id="missing-issuer"
        ),
        pytest.param(
            {**BASE, "JWTGATE_ISSUER": "  "}, "JWTGATE_ISSUER", "required", id="empty-issuer"
        ),
        pytest.param(
            {"JWTGATE_ISSUER": "https://i"}, "JWTGATE_AUDIENCE", "required", id="missing-audience"
        ),
        pytest.param(
            {**BASE, "JWTGATE_AUDIENCE": ""}, "JWTGATE_AUDIENCE", "required", id="empty-audience"
        ),
        pytest.param(
            {**BASE, "JWTGATE_AUDIENCE": " , "},
            "JWTGATE_AUDIENCE",
            "required",
            id="blank-audience-list",
        ),
        pytest.param(
            {**BASE, "JWTGATE_ALGORITHMS": "RS256,XX999"},
            "JWTGATE_ALGORITHMS",
            "unknown",
            id="unknown-alg",
        ),
        pytest.param(
            {**BASE, "JWTGATE_ALGORITHMS": "rs256"},
            "JWTGATE_ALGORITHMS",
            "did you mean 'RS256'",
            id="alg-case",
        ),
        pytest.param(
            {**BASE, "JWTGATE_ALGORITHMS": "RS256,none"},
            "JWTGATE_ALGORITHMS",
            "refused",
            id="alg-none",
        ),
        pytest.param(
            {**BASE, "JWTGATE_ALGORITHMS": "HS256"}, "JWTGATE_ALGORITHMS", "refused", id="alg-hs256"
        ),
        pytest.param(
            {**BASE, "JWTGATE_ALGORITHMS": "HS512,RS256"},
            "JWTGATE_ALGORITHMS",
            "refused",
            id="alg-hs512",
        ),
        pytest.param(
            {**BASE, "JWTGATE_LEEWAY": "abc"}, "JWTGATE_LEEWAY", "not a number", id="leeway-text"
        ),
        pytest.param(
            {**BASE, "JWTGATE_LEEWAY": "-1"}, "JWTGATE_LEEWAY", ">= 0", id="leeway-negative"
        ),
        pytest.param(
            {**BASE, "JWTGATE_LEEWAY": "nan"}, "JWTGATE_LEEWAY", "finite", id="leeway-nan"
        ),
        pytest.param(
            {**BASE, "JWTGATE_LEEWAY": "3600"}, "JWTGATE_LEEWAY", "too large", id="leeway-huge"
        ),
        pytest.param(
            {**BASE, "JWTGATE_JWKS_URL": "http://issuer.example.com/jwks"},
            "JWTGATE_JWKS_URL",
            "https",
            id="jwks-http",
        ),
        pytest.param(
            {**BASE, "JWTGATE_JWKS_URL": "ftp://x/jwks"},
            "JWTGATE_JWKS_URL",
            "http(s)",
            id="jwks-scheme",
        ),
        pytest.param(
            {**BASE, "JWTGATE_JWKS_URL": "not a url"}, "JWTGATE_JWKS_URL", "URL", id="jwks-garbage"
        ),
        pytest.param(
            {**BASE, "JWTGATE_ISSUER": "http://issuer.example.com"},
            "JWTGATE_ISSUER",
            "https",
            id="discovery-http",
        ),
        pytest.param(
            {**BASE, "JWTGATE_JWKS_CACHE_TTL": "-5"},
            "JWTGATE_JWKS_CACHE_TTL",
            ">= 0",
            id="ttl-negative",
        ),
        pytest.param(
            {**BASE, "JWTGATE_HTTP_TIMEOUT": "0"},
            "JWTGATE_HTTP_TIMEOUT",
            ">= 0.001",
            id="timeout-zero",
        ),
        pytest.param(
            {**BASE, "JWTGATE_JWKS_MAX_BYTES": "1.5"},
            "JWTGATE_JWKS_MAX_BYTES",
            "whole number",
            id="max-bytes-float",
        ),
        pytest.param(
            {**BASE, "JWTGATE_MAX_TOKEN_BYTES": "10"},
            "JWTGATE_MAX_TOKEN_BYTES",
            ">= 1024",
            id="max-token-small",
        ),
        pytest.param(
            {**BASE, "JWTGATE_VERIFY_AUDIENCE": "maybe"},
            "JWTGATE_VERIFY_AUDIENCE",
            "boolean",
            id="bool",
        ),
        pytest.param(
            {**BASE, "JWTGATE_VERIFY_AUDIENCE": "false"},
            "JWTGATE_AUDIENCE",
            "verify_audience",
            id="aud-and-no-verify",
        ),
        pytest.param(
            {**BASE, "JWTGATE_EXCLUDE_PATHS": "health"},
            "JWTGATE_EXCLUDE_PATHS",
            "start with '/'",
            id="exclude-relative",
        ),
        pytest.param(
            {**BASE, "JWTGATE_REALM": 'a"b'}, "JWTGATE_REALM", "printable", id="realm-quote"
        ),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], variable: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env(env)
    assert info.value.setting == variable
    assert str(info.value).startswith(f"{variable}: ")
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("issuer", "base"),
    [
        pytest.param("https://tenant.auth0.com/", "https://tenant.auth0.com", id="auth0-slash"),
        pytest.param("https://sts.windows.net/T/", "https://sts.windows.net/T", id="path-slash"),
        pytest.param(
            "https://okta.test/oauth2/default", "https://okta.test/oauth2/default", id="path"
        ),
        pytest.param("https://accounts.google.com", "https://accounts.google.com", id="bare-host"),
    ],
)
def test_issuer_is_kept_exactly_and_discovery_drops_its_trailing_slash(
    issuer: str, base: str
) -> None:
    settings = Settings.from_env({"JWTGATE_ISSUER": issuer, "JWTGATE_AUDIENCE": "api"})
    assert settings.issuer == issuer  # Compared exactly with `iss` (RFC 7519 §4.1.1).
    host = "/".join(base.split("/")[:3])
    path = base.removeprefix(host)
    expected = [f"{base}/.well-known/openid-configuration"]  # OIDC Discovery §4: no final "/".
    expected.append(f"{host}/.well-known/oauth-authorization-server{path}")  # RFC 8414 §3.1
    if path:  # ... and the appended form some servers use for issuers with a path.
        expected.append(f"{base}/.well-known/oauth-authorization-server")
    assert settings.discovery_urls == tuple(expected)


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8080/jwks",
        "http://127.0.0.1/jwks",
        "http://127.9.9.9/jwks",
        "http://[::1]:80/jwks",
    ],
)
def test_plain_http_is_allowed_for_loopback(url: str) -> None:
    assert Settings.from_env({**BASE, "JWTGATE_JWKS_URL": url}).jwks_url == url


def test_audience_check_can_be_turned_off_explicitly() -> None:
    s = Settings.from_env({"JWTGATE_ISSUER": "https://i", "JWTGATE_VERIFY_AUDIENCE": "false"})
    assert s.verify_audience is False
    assert s.audience is None


def test_empty_optional_variables_mean_default() -> None:
    s = Settings.from_env({**BASE, "JWTGATE_LEEWAY": "", "JWTGATE_ALGORITHMS": " "})
    assert s.leeway == Settings(issuer="https://i", audience="a").leeway
    assert s.algorithms == ASYMMETRIC_ALGORITHMS


def test_unknown_variables_are_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="jwtgate"):
        Settings.from_env({**BASE, "JWTGATE_AUDIANCE": "x"})
    assert "JWTGATE_AUDIANCE" in caplog.text
    assert "did you mean JWTGATE_AUDIENCE" in caplog.text


def test_overrides_win_and_errors_then_name_the_field() -> None:
    s = Settings.from_env(BASE, leeway=5)
    assert s.leeway == 5
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env(BASE, leeway=-1)
    assert info.value.setting == "leeway"


def test_direct_construction_is_keyword_only_frozen_and_normalised() -> None:
    s = Settings(issuer="https://i", audience="api", algorithms=["ES256"])
    assert s.audience == ("api",)
    assert s.algorithms == ("ES256",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.leeway = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        Settings("https://i", "api")  # type: ignore[misc]
    with pytest.raises(ConfigurationError) as info:
        Settings(issuer="https://i", audience="api", leeway=-2)
    assert info.value.setting == "leeway"


def test_importing_jwtgate_does_not_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    import jwtgate

    monkeypatch.setenv("JWTGATE_LEEWAY", "not-a-number")
    importlib.reload(jwtgate)  # Would raise if import read the environment.


def test_strict_access_token_settings_from_env() -> None:
    s = Settings.from_env(BASE)
    assert (s.strict_access_token, s.max_token_lifetime, s.max_token_age) == (False, None, None)
    s = Settings.from_env(
        {
            **BASE,
            "JWTGATE_STRICT_ACCESS_TOKEN": "true",
            "JWTGATE_MAX_TOKEN_LIFETIME": "3600",
            "JWTGATE_MAX_TOKEN_AGE": "86400",
        }
    )
    assert (s.strict_access_token, s.max_token_lifetime, s.max_token_age) == (True, 3600, 86400)


@pytest.mark.parametrize(
    ("variable", "value", "fragment"),
    [
        pytest.param("JWTGATE_STRICT_ACCESS_TOKEN", "maybe", "boolean", id="strict-not-bool"),
        pytest.param("JWTGATE_MAX_TOKEN_LIFETIME", "0", ">= 1", id="lifetime-zero"),
        pytest.param("JWTGATE_MAX_TOKEN_LIFETIME", "-60", ">= 1", id="lifetime-negative"),
        pytest.param("JWTGATE_MAX_TOKEN_LIFETIME", "nan", ">= 1", id="lifetime-nan"),
        pytest.param("JWTGATE_MAX_TOKEN_LIFETIME", "1h", "not a number", id="lifetime-unit"),
        pytest.param("JWTGATE_MAX_TOKEN_AGE", "inf", ">= 1", id="age-infinite"),
        pytest.param("JWTGATE_MAX_TOKEN_AGE", "0.5", ">= 1", id="age-too-small"),
    ],
)
def test_bad_strict_settings_name_the_variable(variable: str, value: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env({**BASE, variable: value})
    assert info.value.setting == variable
    assert fragment in str(info.value)


def test_strict_access_token_must_be_a_bool() -> None:
    with pytest.raises(ConfigurationError, match="strict_access_token"):
        Settings(issuer="https://i", audience="a", strict_access_token="yes")  # type: ignore[arg-type]
