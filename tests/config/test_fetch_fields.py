"""``JWTGATE_JWKS_FETCH_WAIT``: read, defaulted, validated with the variable's name."""

import pytest

from jwtgate import ConfigurationError, Settings

BASE = {"JWTGATE_ISSUER": "https://issuer.example", "JWTGATE_AUDIENCE": "api"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, 2.0, id="default"),
        pytest.param("0", 0.0, id="never-wait"),
        pytest.param("0.25", 0.25, id="fraction"),
        pytest.param("30", 30.0, id="above-the-deadline-is-capped-at-use"),
    ],
)
def test_fetch_wait_from_env(value: str | None, expected: float) -> None:
    env = BASE if value is None else {**BASE, "JWTGATE_JWKS_FETCH_WAIT": value}
    assert Settings.from_env(env).jwks_fetch_wait == expected


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "soon"])
def test_bad_fetch_wait_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env({**BASE, "JWTGATE_JWKS_FETCH_WAIT": value})
    assert info.value.setting == "JWTGATE_JWKS_FETCH_WAIT"
    assert value in str(info.value)
