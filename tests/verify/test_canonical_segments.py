"""Canonical base64url in every segment (Project Wycheproof): one token, one spelling.

Setting the unused low bits of a segment's last character decodes to the same bytes;
such a second spelling is refused in the header and the payload as in the signature,
for tokens and for DPoP proofs alike, before and after the header memo has seen it.
"""

from __future__ import annotations

import pytest

from jwtgate import MalformedToken
from jwtgate._verify.token import parse_proof, parse_token
from jwtgate.testing import DevKey, Issuer, dpop_proof

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def respell(token: str, index: int) -> str | None:
    """*token* with segment *index* spelled with its unused bits set; None: no unused bits."""
    segments = token.split(".")
    segment = segments[index]
    unused = {2: 4, 3: 2}.get(len(segment) % 4)
    if unused is None:
        return None
    last = ALPHABET.index(segment[-1])
    segments[index] = segment[:-1] + ALPHABET[last | ((1 << unused) - 1)]
    return ".".join(segments)


def spellings(make: object, index: int) -> str:
    """A token from *make* (called with growing subjects) whose segment *index* has spare bits."""
    for n in range(8):
        token = make(n)  # type: ignore[operator]
        other = respell(token, index)
        if other is not None:
            return token
    raise AssertionError("no length with unused bits")


@pytest.mark.parametrize("index", [0, 1, 2], ids=["header", "payload", "signature"])
def test_tokens_with_unused_bits_set_are_refused(issuer: Issuer, index: int) -> None:
    def make(n: int) -> str:
        return issuer.mint(sub="u" * n, headers={"x": "h" * n})

    token = spellings(make, index)
    parse_token(token)  # The canonical one parses (and its header is now memoised).
    other = respell(token, index)
    assert other is not None
    assert other != token
    with pytest.raises(MalformedToken, match="base64url"):
        parse_token(other)


@pytest.mark.parametrize("index", [0, 1, 2], ids=["header", "payload", "signature"])
def test_proofs_with_unused_bits_set_are_refused(client_key: DevKey, index: int) -> None:
    def make(n: int) -> str:
        return dpop_proof(client_key, "GET", "https://a.test/x", jti="j" * (n + 1),
                          headers={"x": "h" * n})  # fmt: skip

    proof = spellings(make, index)
    parse_proof(proof)
    other = respell(proof, index)
    assert other is not None
    with pytest.raises(MalformedToken, match="base64url"):
        parse_proof(other)


@pytest.fixture(scope="module")
def client_key() -> DevKey:
    return DevKey.generate("ES256")
