"""Where keys may come from: https, or plain http to loopback only."""

import pytest

from jwtgate import ConfigurationError
from jwtgate._config.urls import is_loopback_host, require_secure_url


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        pytest.param("localhost", True, id="localhost"),
        pytest.param("LocalHost", True, id="localhost-case"),
        pytest.param("127.0.0.1", True, id="ipv4"),
        pytest.param("127.255.0.9", True, id="ipv4-range"),
        pytest.param("::1", True, id="ipv6"),
        pytest.param("[::1]", True, id="ipv6-bracketed"),
        pytest.param("localhost.evil.test", False, id="localhost-prefix"),
        pytest.param("127.0.0.1.evil.test", False, id="ipv4-prefix"),
        pytest.param("0.0.0.0", False, id="any-address"),
        pytest.param("10.0.0.1", False, id="private"),
        pytest.param("", False, id="empty"),
        pytest.param(None, False, id="none"),
    ],
)
def test_is_loopback_host(host: str | None, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    "url", ["https://keys.test/jwks", "http://localhost:8001/jwks", "http://[::1]/jwks"]
)
def test_secure_urls_are_returned_unchanged(url: str) -> None:
    assert require_secure_url(url, "jwks_url") == url


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        pytest.param("http://keys.test/jwks", "must use https://", id="plain-http"),
        pytest.param("ftp://keys.test/jwks", "not an absolute http(s) URL", id="scheme"),
        pytest.param("/jwks", "not an absolute http(s) URL", id="relative"),
        pytest.param("http://[::1/jwks", "not a valid URL", id="unparsable"),
    ],
)
def test_insecure_or_broken_urls_name_the_setting(url: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        require_secure_url(url, "jwks_url")
    assert info.value.setting == "jwks_url"
    assert info.value.problem.startswith(repr(url))
    assert fragment in info.value.problem
