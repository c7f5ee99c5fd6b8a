"""Many issuers: the unverified iss only selects among allowlisted issuers."""

import json
from typing import Any

import httpx
import pytest

from jwtgate import (
    Authenticator,
    ConfigurationError,
    Event,
    InvalidAlgorithm,
    InvalidAudience,
    InvalidIssuer,
    IssuerConfig,
    JWTGateMiddleware,
    Settings,
    UnknownKey,
)
from jwtgate.testing import DevKey, Issuer

from helpers import bearer, first_challenge, protected_app

pytestmark = pytest.mark.anyio


@pytest.fixture
def issuers(rsa_key: DevKey, ec_key: DevKey) -> tuple[Issuer, Issuer]:
    return (
        Issuer("https://a.test", audience="api-a", keys=[rsa_key]),
        Issuer("https://b.test", audience="api-b", keys=[ec_key]),
    )


class Hosts:
    """One transport for several issuers, routing by host and counting requests."""

    def __init__(self, *issuers: Issuer) -> None:
        self.transports = {httpx.URL(i.url).host: i.transport() for i in issuers}
        self.requests: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.url.host}{request.url.path}")
        return self.transports[request.url.host].handle_request(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


def settings(a: Issuer, b: Issuer, **kw: Any) -> Settings:
    return Settings(
        issuers=[
            IssuerConfig(issuer=a.issuer, audience="api-a"),
            IssuerConfig(
                issuer=b.issuer, audience=["api-b"], jwks_url=b.jwks_url, algorithms="ES256"
            ),
        ],
        **kw,
    )


async def test_each_issuer_verifies_with_its_own_keys(issuers: tuple[Issuer, Issuer]) -> None:
    a, b = issuers
    hosts = Hosts(a, b)
    events: list[Event] = []
    auth = Authenticator(settings(a, b), transport=hosts.transport(), on_event=events.append)
    assert (await auth.authenticate(a.mint(sub="from-a"))).subject == "from-a"
    assert (await auth.authenticate(b.mint(sub="from-b"))).subject == "from-b"
    assert hosts.requests == [
        "a.test/.well-known/openid-configuration",
        "a.test/.well-known/jwks.json",
        "b.test/.well-known/jwks.json",
    ]
    assert set(auth.key_sets) == {a.issuer, b.issuer}
    assert auth.ready
    assert {e.issuer for e in events if e.name == "fetch"} == {a.issuer, b.issuer}
    # Each RemoteKeySet keeps its own ``keys`` object.
    assert auth.key_sets[a.issuer].keys is not auth.key_sets[b.issuer].keys
    await auth.aclose()


async def test_a_token_cannot_borrow_another_issuers_keys(
    issuers: tuple[Issuer, Issuer],
) -> None:
    a, b = issuers
    hosts = Hosts(a, b)
    auth = Authenticator(settings(a, b), transport=hosts.transport())
    # Signed by A's key but claiming to be from B: only B's keys (and algorithms) count.
    forged = a.mint(claims={"iss": b.issuer}, audience="api-b")
    with pytest.raises(InvalidAlgorithm):  # RS256 is not among B's algorithms.
        await auth.authenticate(forged)
    forged_es = b.mint(claims={"iss": b.issuer}, audience="api-b", headers={"kid": "rsa-1"})
    with pytest.raises(UnknownKey):  # A's kid is not in B's key set.
        await auth.authenticate(forged_es)
    assert not any(r.startswith("a.test") for r in hosts.requests)
    with pytest.raises(InvalidAudience):  # A's audience is not B's.
        await auth.authenticate(b.mint(audience="api-a"))
    await auth.aclose()


@pytest.mark.parametrize(
    "iss",
    [
        pytest.param("https://evil.test", id="unlisted"),
        pytest.param("https://a.test/", id="trailing-slash"),
        pytest.param(None, id="missing"),
    ],
)
async def test_unlisted_issuer_is_refused_without_any_fetch(
    issuers: tuple[Issuer, Issuer], iss: Any
) -> None:
    a, b = issuers
    hosts = Hosts(a, b)
    auth = Authenticator(settings(a, b), transport=hosts.transport())
    with pytest.raises(InvalidIssuer):
        await auth.authenticate(a.mint(claims={"iss": iss}))
    with pytest.raises(InvalidIssuer):
        auth.authenticate_sync(a.mint(claims={"iss": iss}))
    assert hosts.requests == []
    auth.close()
    await auth.aclose()


async def test_middleware_with_many_issuers(issuers: tuple[Issuer, Issuer]) -> None:
    a, b = issuers
    app = JWTGateMiddleware(protected_app(), settings(a, b), transport=Hosts(a, b).transport())
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for token in (a.mint(sub="x"), b.mint(sub="y")):
            assert (await client.get("/whoami", headers=bearer(token))).status_code == 200
        response = await client.get("/whoami", headers=bearer(a.mint(claims={"iss": "z"})))
        assert response.status_code == 401
        assert 'error="invalid_token"' in first_challenge(response)


def test_issuers_from_env(issuers: tuple[Issuer, Issuer], tmp_path: Any) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s" * 40 + "\n")
    value = json.dumps(
        [
            {"issuer": "https://a.test", "audience": "api-a, api-x"},
            {"issuer": "https://b.test", "audience": ["api-b"], "algorithms": "ES256"},
            {"issuer": "legacy", "verify_audience": False, "hmac_secret_file": str(secret)},
        ]
    )
    s = Settings.from_env({"JWTGATE_ISSUERS": value, "JWTGATE_LEEWAY": "10"})
    assert [c.issuer for c in s.issuers] == ["https://a.test", "https://b.test", "legacy"]
    legacy = s.for_issuer(s.issuers[2])
    assert legacy.hmac_secret == "s" * 40
    assert legacy.algorithms == ("HS256",)
    assert legacy.leeway == 10
    assert s.for_issuer(s.issuers[0]).audience == ("api-a", "api-x")
    assert "s" * 40 not in repr(s)


@pytest.mark.parametrize(
    ("value", "variable", "problem"),
    [
        pytest.param("{", "JWTGATE_ISSUERS", "not valid JSON", id="bad-json"),
        pytest.param("[]", "JWTGATE_ISSUERS", "non-empty", id="empty"),
        pytest.param('[{"audience": "x"}]', "JWTGATE_ISSUERS", "no issuer", id="no-issuer"),
        pytest.param(
            '[{"issuer": "https://a.test", "audiance": "x"}]',
            "JWTGATE_ISSUERS",
            "unknown field 'audiance'",
            id="typo",
        ),
        pytest.param(
            '[{"issuer": "https://a.test", "audience": 5}]',
            "JWTGATE_ISSUERS",
            "list of strings",
            id="bad-type",
        ),
        pytest.param(
            '[{"issuer": "https://a.test", "audience": "x"}, {"issuer": "https://b.test"}]',
            "JWTGATE_ISSUERS[1].audience",
            "required",
            id="missing-audience",
        ),
        pytest.param(
            '[{"issuer": "https://a.test", "audience": "x", "algorithms": "HS256"}]',
            "JWTGATE_ISSUERS[0].algorithms",
            "refused",
            id="hs-from-jwks",
        ),
        pytest.param(
            '[{"issuer": "http://a.test", "audience": "x"}]',
            "JWTGATE_ISSUERS[0].issuer",
            "https",
            id="http-issuer",
        ),
        pytest.param(
            '[{"issuer": "https://a.test", "audience": "x"},'
            ' {"issuer": "https://a.test", "audience": "y"}]',
            "JWTGATE_ISSUERS[1].issuer",
            "twice",
            id="duplicate",
        ),
    ],
)
def test_bad_issuers_env_names_the_variable(value: str, variable: str, problem: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env({"JWTGATE_ISSUERS": value})
    assert info.value.setting == variable
    assert problem in info.value.problem


def test_single_issuer_settings_cannot_mix_with_issuers() -> None:
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env(
            {
                "JWTGATE_ISSUER": "https://a.test",
                "JWTGATE_ISSUERS": '[{"issuer": "https://b.test", "audience": "x"}]',
            }
        )
    assert info.value.setting == "JWTGATE_ISSUER"
    with pytest.raises(ConfigurationError, match="leeway"):
        Settings(issuers=[IssuerConfig(issuer="https://b.test", audience="x")], leeway=-1)
    with pytest.raises(TypeError):
        Authenticator(
            Settings(issuers=[IssuerConfig(issuer="https://b.test", audience="x")]),
            key_set=Authenticator(Settings(issuer="https://c.test", audience="x")).key_set,
        )
