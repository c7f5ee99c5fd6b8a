"""Under claim rules, a cached and an uncached authenticator answer alike (property test).

Rules are part of verification: a token enters the verified-token cache only after
passing them, and a hit is answered exactly as a miss. Hypothesis draws sequences of
tokens (keeping or breaking rules, with roles and scopes from names and pointers,
repeated so that the cache admits and serves them) and a moving clock; after every
presentation both authenticators, and the route requirements evaluated on their
answers, must agree.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from jwtgate import Authenticator, AuthError, Requirement, Settings
from jwtgate.testing import DevKey, Issuer

KEY = DevKey.generate("ES256", kid="k0")
START = 1_700_000_000.0
RULES = {"token_use": "access", "/ext/tier": ["gold", "silver"], "n": [1, 2.5], "ok": True}
REQUIREMENTS = [
    Requirement.of(any_scopes=["a", "b"]),
    Requirement.of(roles=["admin"]),
    Requirement.of(acr_values=["mfa"], max_age=300),
]

values = st.one_of(
    st.sampled_from(["access", "id", "gold", "silver", "admin", "mfa", ""]),
    st.integers(-2, 3),
    st.sampled_from([1.0, 2.5, True, False, None]),
    st.lists(st.sampled_from(["access", "gold", "admin", 1, True]), max_size=3),
    st.dictionaries(st.sampled_from(["tier", "admin"]), st.sampled_from(["gold", "x"]), max_size=2),
)
claim_sets = st.fixed_dictionaries(
    {},
    optional={
        "token_use": values,
        "ext": values,
        "n": values,
        "ok": values,
        "roles": values,
        "realm_access": st.fixed_dictionaries({"roles": values}),
        "acr": values,
        "auth_time": st.sampled_from([START - 10, START - 1000, START + 5000]),
    },
)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def _answer(authenticator: Authenticator, token: str, clock: Clock) -> Any:
    try:
        verified = authenticator.authenticate_sync(token)
    except AuthError as exc:
        return (type(exc).__name__, exc.status_code, exc.error, exc.description)
    verdicts = []
    for requirement in REQUIREMENTS:
        error = Requirement(**{**requirement.__dict__, "clock": clock}).evaluate(verified)
        verdicts.append(None if error is None else (type(error).__name__, error.challenge_params))
    return (dict(verified.claims), sorted(verified.scopes), sorted(verified.roles), verdicts)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 7), st.sampled_from([0.0, 1.0, 100.0, 4000.0])),
        min_size=1,
        max_size=25,
    ),
    st.lists(claim_sets, min_size=8, max_size=8),
)
def test_cached_and_uncached_answer_alike(
    steps: list[tuple[int, float]], pool: list[dict[str, Any]]
) -> None:
    issuer = Issuer("https://issuer.test", audience="api", keys=[KEY])
    clock = Clock()
    tokens = [
        issuer.mint(claims=claims, scopes=["a"] if i % 2 else ["c"], now=START, expires_in=6000)
        for i, claims in enumerate(pool)
    ]
    base = Settings(
        issuer=issuer.issuer,
        audience=["api"],
        jwks_url=issuer.jwks_url,
        claim_rules=RULES,
        role_claims=("roles", "/realm_access/roles"),
        jwks_background_refresh=False,
        leeway=0,
    )
    cached = Authenticator(base, sync_transport=issuer.transport(), clock=clock)
    uncached = Authenticator(
        Settings(**{**_fields(base), "token_cache_size": 0}),
        sync_transport=issuer.transport(),
        clock=clock,
    )
    assert cached.token_cache is not None
    assert uncached.token_cache is None
    for index, advance in steps:
        clock.now += advance
        token = tokens[index % len(tokens)]
        assert _answer(cached, token, clock) == _answer(uncached, token, clock)


def _fields(s: Settings) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(s, f.name) for f in dataclasses.fields(s)}
