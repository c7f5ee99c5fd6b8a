"""Properties that hold for every input: never a 500, an escaping exception or a hang.

Hypothesis drives the header parser and the whole middleware (``harness.Harness``):
any bytes in ``Authorization``, and any JSON in header and payload, *validly signed*
with the issuer's real keys so that every claim check is reached. Each answer must be
200/400/401/403/503 with a JSON body and a well-formed challenge, and an accepted
token must really be acceptable (right issuer, audience, unexpired).

Example counts come from the hypothesis profile (``ci`` by default, see conftest.py).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jwtgate import InvalidRequest, MalformedToken
from jwtgate._web.rfc6750 import parse_authorization

from harness import Harness
from helpers import AUDIENCE, ISSUER_URL

# The harness is shared by every example of a test (keys are fetched once).
shared = settings(suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    h = Harness()
    yield h
    h.close()


# -- the Authorization header parser --------------------------------------------------

LATIN1 = st.characters(min_codepoint=0, max_codepoint=255)
TOKENISH = st.text(alphabet="ABCxyz019-_.=+/ \t\x0b\xa0é", max_size=40)


@given(
    st.lists(
        st.one_of(
            st.text(LATIN1, max_size=60),
            st.builds(
                lambda s, t: s + t, st.sampled_from(["Bearer ", "bearer  ", "BEARER"]), TOKENISH
            ),
        ),
        max_size=3,
    )
)
def test_parse_authorization_answers_one_of_three_ways(values: list[str]) -> None:
    try:
        token = parse_authorization(values, 32)
    except (InvalidRequest, MalformedToken):
        assert values  # Only a header that is present can be malformed.
        return
    if token is None:
        assert len(values) <= 1
        return
    assert len(values) == 1
    assert values[0].strip()[:6].lower() == "bearer"
    assert token
    assert len(token) <= 32
    assert token.split() == [token]  # No whitespace of any kind inside.
    assert token in values[0]


# -- the whole middleware, from raw bytes ---------------------------------------------

RAW = st.one_of(
    st.binary(max_size=300),
    st.binary(max_size=300).map(lambda b: b"Bearer " + b),
    st.text(alphabet="ABCDEFabcdef0123456789-_.", max_size=300).map(
        lambda t: b"Bearer " + t.encode()
    ),
    st.lists(st.binary(min_size=1, max_size=60), min_size=1, max_size=5).map(b".".join),
)


@shared
@given(values=st.lists(RAW, max_size=3), path=st.sampled_from(["/whoami", "/items"]))
def test_any_authorization_bytes_get_a_well_formed_answer(
    harness: Harness, values: list[bytes], path: str
) -> None:
    answer = harness.request(values, path)
    if len(values) > 1:
        assert answer.status == 400


# -- the whole middleware, from any JSON, validly signed ------------------------------

# Text with lone surrogates too: json.dumps escapes them ("\\ud800"), a valid-looking token.
TEXT = st.text(
    st.characters() | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"]),
    max_size=12,
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(2**1100), 2**1100),  # Beyond float range, too.
    st.floats(),  # NaN and infinities included: json.dumps writes them, jwtgate must refuse.
    TEXT,
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
NOW = int(time.time())
CLAIMS = {
    "iss": st.sampled_from([ISSUER_URL, ISSUER_URL + "/", "https://evil.test"]) | JSON,
    "aud": st.sampled_from([AUDIENCE, [AUDIENCE], ["x", AUDIENCE], "x", []]) | JSON,
    "exp": st.sampled_from([NOW + 3600, NOW - 3600, float(NOW + 60), 10**30, 10**400]) | JSON,
    "nbf": st.sampled_from([NOW - 60, NOW + 3600, -(10**400)]) | JSON,
    "iat": st.sampled_from([NOW, NOW + 3600, -(10**400)]) | JSON,
    "sub": TEXT | JSON,
    "scope": st.sampled_from(["items:read", "a b", ""]) | JSON,
    "scp": st.lists(st.text(max_size=8), max_size=3) | JSON,
    "client_id": JSON,
    "jti": JSON,
}
HEADERS = {
    "alg": st.sampled_from(["RS256", "ES256", "EdDSA", "PS256", "none", "HS256", "ES384"]) | JSON,
    "kid": st.sampled_from(["rsa-1", "ec-1", "ed-1", "other"]) | JSON,
    "typ": st.sampled_from(["JWT", "at+jwt", "application/at+jwt", "JOSE"]) | JSON,
    "cty": JSON,
    "crit": JSON,
    "jku": JSON,
    "jwk": JSON,
    "b64": JSON,
}


def _objects(members: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects mixing well-known members (with plausible or arbitrary values) and others."""
    known = st.fixed_dictionaries({}, optional=members)
    return st.builds(
        lambda a, b: {**b, **a}, known, st.dictionaries(st.text(max_size=6), JSON, max_size=2)
    )


PART = st.one_of(
    _objects(HEADERS),
    JSON,  # Any JSON value, including non-objects.
    st.text(max_size=40),  # Raw text, usually not JSON at all.
)


def _strict_json(value: Any) -> bool:
    """No NaN or infinity and no lone surrogate anywhere: what RFC 8259 interoperably allows."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return not any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, list):
        return all(_strict_json(item) for item in value)
    if isinstance(value, dict):
        return all(_strict_json(k) and _strict_json(v) for k, v in value.items())
    return True


def _acceptable(payload: dict[str, Any]) -> bool | None:
    """An independent oracle for the claim rules; None when too close to a time boundary."""

    def number(name: str) -> float | None:
        value = payload[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if isinstance(value, int):
            return float(value) if abs(value) <= 2**63 else None
        return value if math.isfinite(value) else None

    if not _strict_json(payload):
        return False
    now, leeway = time.time(), 30
    aud = payload.get("aud")
    if payload.get("iss") != ISSUER_URL:
        return False
    if not (aud == AUDIENCE or (isinstance(aud, list) and AUDIENCE in aud)):
        return False
    if isinstance(aud, list) and not all(isinstance(item, str) for item in aud):
        return False
    if "exp" not in payload:
        return False
    bounds = {"exp": (now - leeway, -1), "nbf": (now + leeway, 1), "iat": (now + leeway, 1)}
    for name, (limit, sign) in bounds.items():
        if name not in payload:
            continue
        value = number(name)
        if value is None:
            return False
        if abs(value - limit) < 5:
            return None
        if (value - limit) * sign > 0:
            return False
    return True


@shared
@given(
    header=st.one_of(_objects(HEADERS).map(lambda h: {"alg": "RS256", "kid": "rsa-1", **h}), PART),
    payload=st.one_of(_objects(CLAIMS), JSON, st.text(max_size=40)),
    path=st.sampled_from(["/whoami", "/items"]),
)
def test_any_json_validly_signed_gets_a_sound_answer(
    harness: Harness, header: Any, payload: Any, path: str
) -> None:
    header_text = header if isinstance(header, str) else json.dumps(header)
    payload_text = payload if isinstance(payload, str) else json.dumps(payload)
    token = harness.sign(header if isinstance(header, dict) else header_text, payload_text)
    answer = harness.request([b"Bearer " + token.encode()], path)
    if answer.status == 200 and path == "/whoami" and answer.json()["claims"] is not None:
        # Soundness: whatever was accepted really is a token of our issuer, for us, unexpired,
        # and the application sees exactly the claims that were signed.
        assert isinstance(payload, dict)
        assert _acceptable(payload) is not False, payload
        assert answer.json()["claims"] == payload


@shared
@given(claims=_objects(CLAIMS), key=st.sampled_from(["RS256", "ES256", "EdDSA"]))
def test_signed_tokens_are_accepted_exactly_when_their_claims_are_valid(
    harness: Harness, claims: dict[str, Any], key: str
) -> None:
    base = {"iss": ISSUER_URL, "aud": AUDIENCE, "exp": NOW + 3600}
    payload = {**base, **claims}
    token = harness.sign({"alg": key, "typ": "at+jwt"}, json.dumps(payload))
    answer = harness.request([b"Bearer " + token.encode()])
    expected = _acceptable(payload)
    if expected is not None:
        # Differential: jwtgate accepts exactly what the independent oracle accepts.
        assert (answer.status == 200) is expected, (answer.status, answer.body, payload)
