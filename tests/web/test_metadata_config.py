"""JWTGATE_RESOURCE and the metadata settings: what is accepted, and what stops startup."""

from __future__ import annotations

import pytest

from jwtgate import ConfigurationError, IssuerConfig, Settings
from jwtgate._cli.main import main
from jwtgate._verify.verifier import accepted_audiences
from jwtgate.testing import Issuer

ENV = {"JWTGATE_ISSUER": "https://issuer.example.com/"}


@pytest.mark.parametrize(
    "resource",
    [
        pytest.param("https://api.example.com", id="origin"),
        pytest.param("https://api.example.com/mcp", id="path"),
        pytest.param("http://127.0.0.1:8000/mcp", id="loopback-http"),
        pytest.param("http://localhost:8000", id="localhost-http"),
        pytest.param("http://[::1]:8000/", id="ipv6-loopback-http"),
    ],
)
def test_accepted_resources(resource: str) -> None:
    settings = Settings.from_env({**ENV, "JWTGATE_RESOURCE": resource})
    assert settings.resource == resource
    assert settings.audience is None  # The resource alone is enough.


@pytest.mark.parametrize(
    ("env", "variable", "words"),
    [
        pytest.param(
            {"JWTGATE_RESOURCE": "http://api.example.com/mcp"}, "JWTGATE_RESOURCE", "https://",
            id="plain-http",
        ),
        pytest.param(
            {"JWTGATE_RESOURCE": "https://api.example.com/mcp#frag"}, "JWTGATE_RESOURCE",
            "fragment", id="fragment",
        ),
        pytest.param(
            {"JWTGATE_RESOURCE": "https://api.example.com/mcp?x=1"}, "JWTGATE_RESOURCE", "query",
            id="query",
        ),
        pytest.param(
            {"JWTGATE_RESOURCE": "https://user:pw@api.example.com"}, "JWTGATE_RESOURCE",
            "user information", id="userinfo",
        ),
        pytest.param(
            {"JWTGATE_RESOURCE": "api.example.com/mcp"}, "JWTGATE_RESOURCE", "absolute",
            id="no-scheme",
        ),
        pytest.param(
            {"JWTGATE_RESOURCE": 'https://api.example.com/"x'}, "JWTGATE_RESOURCE", "quotes",
            id="quote",
        ),
        pytest.param(
            {"JWTGATE_RESOURCE": "https://[::1"}, "JWTGATE_RESOURCE", "not a valid URL",
            id="unparsable",
        ),
        pytest.param(
            {"JWTGATE_SCOPES_SUPPORTED": "mcp:tools"}, "JWTGATE_RESOURCE", "required",
            id="scopes-without-resource",
        ),
        pytest.param(
            {"JWTGATE_RESOURCE": "https://a.example", "JWTGATE_SCOPES_SUPPORTED": 'a"b'},
            "JWTGATE_SCOPES_SUPPORTED", "scope token", id="bad-scope",
        ),
        pytest.param(
            {"JWTGATE_RESOURCE": "https://a.example",
             "JWTGATE_RESOURCE_DOCUMENTATION": "http://docs.example.com"},
            "JWTGATE_RESOURCE_DOCUMENTATION", "https://", id="documentation-http",
        ),
        pytest.param({}, "JWTGATE_AUDIENCE", "JWTGATE_RESOURCE", id="audience-or-resource"),
        pytest.param(
            {"JWTGATE_RESOURCE": " "}, "JWTGATE_AUDIENCE", "JWTGATE_RESOURCE",
            id="blank-is-unset",
        ),
    ],
)  # fmt: skip
def test_refused(env: dict[str, str], variable: str, words: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({**ENV, **env})
    assert caught.value.setting == variable
    assert words in caught.value.problem
    assert "pw" not in str(caught.value)


def test_scopes_supported_is_a_list_either_way() -> None:
    given = Settings(
        issuer="https://i.example", resource="https://a.example", scopes_supported="a, b"
    )
    assert given.scopes_supported == ("a", "b")


def test_verify_audience_false_is_allowed_with_a_resource() -> None:
    # An issuer without `aud`: the explicit opt-out wins; the metadata is still served.
    settings = Settings.from_env(
        {**ENV, "JWTGATE_RESOURCE": "https://a.example", "JWTGATE_VERIFY_AUDIENCE": "false"}
    )
    assert settings.resource == "https://a.example"
    assert not settings.verify_audience


def test_each_issuer_accepts_the_resource() -> None:
    settings = Settings(
        issuers=[
            IssuerConfig(issuer="https://a.example"),
            IssuerConfig(issuer="https://b.example"),
        ],
        resource="https://api.example.com",
    )
    for config in settings.issuers:
        assert accepted_audiences(settings.for_issuer(config)) == ("https://api.example.com",)


def test_jwtgate_verify_names_the_resource_among_accepted_audiences(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    jwtgate_live_issuer: Issuer,
) -> None:
    monkeypatch.setenv("JWTGATE_ISSUER", jwtgate_live_issuer.issuer)
    monkeypatch.setenv("JWTGATE_RESOURCE", "http://127.0.0.1:9/mcp")
    monkeypatch.delenv("JWTGATE_AUDIENCE", raising=False)
    code = main(["verify", jwtgate_live_issuer.mint(audience="other")])
    out, err = capsys.readouterr()
    assert code == 1, err
    assert "accepted:  ['http://127.0.0.1:9/mcp']" in out + err


def test_an_empty_resource_given_in_code_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="resource: '' must be an https:// URL"):
        Settings(issuer="https://i.example", audience="a", resource="")
