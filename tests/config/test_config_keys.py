"""Settings of the key sources: lifetimes, timeouts, background refresh (issue 3)."""

from typing import Any

import pytest

from jwtgate import ConfigurationError, Settings

BASE = {"JWTGATE_ISSUER": "https://issuer.test", "JWTGATE_AUDIENCE": "api"}


def test_defaults() -> None:
    s = Settings.from_env(BASE)
    assert (s.jwks_cache_ttl, s.jwks_min_ttl, s.jwks_max_ttl) == (300, 60, 3600)
    assert (s.jwks_refetch_cooldown, s.jwks_negative_ttl, s.jwks_max_stale) == (5, 5, 3600)
    assert s.jwks_background_refresh is True
    assert (s.http_timeout, s.http_connect_timeout, s.http_total_timeout) == (5, 5, 10)
    assert not s.static_keys
    assert s.issuers == ()


def test_from_env() -> None:
    s = Settings.from_env(
        BASE
        | {
            "JWTGATE_JWKS_MIN_TTL": "30",
            "JWTGATE_JWKS_MAX_TTL": "600",
            "JWTGATE_JWKS_NEGATIVE_TTL": "60",
            "JWTGATE_JWKS_BACKGROUND_REFRESH": "false",
            "JWTGATE_HTTP_CONNECT_TIMEOUT": "1",
            "JWTGATE_HTTP_TOTAL_TIMEOUT": "3",
        }
    )
    assert (s.jwks_min_ttl, s.jwks_max_ttl, s.jwks_negative_ttl) == (30, 600, 60)
    assert s.jwks_background_refresh is False
    assert (s.http_connect_timeout, s.http_total_timeout) == (1, 3)


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        pytest.param("JWTGATE_JWKS_MIN_TTL", "-1", ">= 0", id="negative-min"),
        pytest.param("JWTGATE_JWKS_MAX_TTL", "10", "jwks_min_ttl", id="max-below-min"),
        pytest.param("JWTGATE_JWKS_NEGATIVE_TTL", "nan", ">= 0", id="nan-negative-ttl"),
        pytest.param("JWTGATE_HTTP_CONNECT_TIMEOUT", "0", ">= 0.001", id="zero-connect"),
        pytest.param("JWTGATE_HTTP_TOTAL_TIMEOUT", "x", "not a number", id="bad-total"),
        pytest.param("JWTGATE_JWKS_BACKGROUND_REFRESH", "maybe", "boolean", id="bad-bool"),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str, problem: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env(BASE | {variable: value})
    assert info.value.setting == variable
    assert problem in info.value.problem


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"jwks_min_ttl": 10, "jwks_max_ttl": 5}, id="max-below-min"),
        pytest.param({"http_total_timeout": 0}, id="zero-total"),
    ],
)
def test_bad_values_in_code(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        Settings(issuer="https://issuer.test", audience="api", **kwargs)
