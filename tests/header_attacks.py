"""Shapes of the ``Authorization`` header an attacker sends, with the answer each must get.

Shared by the attack suite (ASGI, in process) and the tests that run the same shapes
against real servers and through the token cache.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

Headers = list[tuple[bytes, bytes]]


def _auth(*values: bytes) -> Callable[[bytes], Headers]:
    """Authorization headers, ``{t}`` standing for a valid token."""
    return lambda token: [(b"authorization", v.replace(b"{t}", token)) for v in values]


def _inside(insert: bytes) -> Callable[[bytes], Headers]:
    """A valid token with *insert* in the middle of its payload."""
    return lambda token: [(b"authorization", b"Bearer " + token[:60] + insert + token[60:])]


BAD_REQUEST = (400, "invalid_request")
INVALID = (401, "invalid_token")
NO_TOKEN = (401, "unauthorized")

HEADER_ATTACKS = [
    pytest.param(_auth(b"Bearer {t}", b"Bearer {t}"), *BAD_REQUEST, id="two-headers-same"),
    pytest.param(_auth(b"Bearer {t}", b"Bearer x.y.z"), *BAD_REQUEST, id="two-headers-differ"),
    pytest.param(_auth(b"Basic dXNlcjpwYXNz", b"Bearer {t}"), *BAD_REQUEST, id="basic-then-bearer"),
    pytest.param(_auth(b"Bearer {t}", b""), *BAD_REQUEST, id="second-header-empty"),
    pytest.param(_auth(b"Bearer {t}, Bearer {t}"), *BAD_REQUEST, id="comma-joined-credentials"),
    pytest.param(_auth(b"Bearer"), *BAD_REQUEST, id="scheme-only"),
    pytest.param(_auth(b"Bearer    "), *BAD_REQUEST, id="scheme-and-spaces"),
    pytest.param(_auth(b"Bearer {t} extra"), *BAD_REQUEST, id="extra-part"),
    pytest.param(_auth(b"Bearer {t} {t}"), *BAD_REQUEST, id="token-twice"),
    pytest.param(_inside(b" "), *BAD_REQUEST, id="inner-space"),
    pytest.param(_inside(b"\t"), *BAD_REQUEST, id="inner-tab"),
    pytest.param(_inside(b"\x0b"), *BAD_REQUEST, id="inner-vertical-tab"),
    pytest.param(_inside(b"\x1c"), *BAD_REQUEST, id="inner-file-separator"),
    pytest.param(_inside(b"\xa0"), *BAD_REQUEST, id="inner-latin1-nbsp"),
    pytest.param(_inside(b"\x85"), *BAD_REQUEST, id="inner-latin1-nel"),
    pytest.param(_inside("é".encode()), *INVALID, id="inner-utf8-non-ascii"),
    pytest.param(_inside("\u200b".encode()), *INVALID, id="inner-zero-width-space"),
    pytest.param(_inside("\uff21".encode()), *INVALID, id="inner-fullwidth-letter"),
    pytest.param(_inside(b"\xe9"), *INVALID, id="inner-latin1-byte"),
    pytest.param(_inside(b"\x00"), *INVALID, id="inner-nul"),
    pytest.param(_inside(b"\x7f"), *INVALID, id="inner-del"),
    pytest.param(_inside(b"%2E"), *INVALID, id="inner-percent-encoding"),
    pytest.param(_inside(b"+/"), *INVALID, id="inner-base64-not-url"),
    pytest.param(_auth(b"Bearer {t}="), *INVALID, id="trailing-padding"),
    pytest.param(_auth(b"Bearer {t}."), *INVALID, id="trailing-dot"),
    pytest.param(_auth(b'Bearer "{t}"'), *INVALID, id="quoted-token"),
    pytest.param(_auth(b"Basic dXNlcjpwYXNz"), *NO_TOKEN, id="basic-scheme"),
    pytest.param(_auth(b"Token {t}"), *NO_TOKEN, id="token-scheme"),
    pytest.param(_auth(b"JWT {t}"), *NO_TOKEN, id="jwt-scheme"),
    pytest.param(_auth(b"Bearer\t{t}"), *NO_TOKEN, id="tab-after-scheme"),
    pytest.param(_auth(b"Bearer:{t}"), *NO_TOKEN, id="colon-after-scheme"),
    pytest.param(_auth(b"{t}"), *NO_TOKEN, id="no-scheme"),
    pytest.param(_auth(b"Bearer " + b"A" * 16385), *INVALID, id="oversize-garbage"),
    pytest.param(_auth(b"Bearer " + b"A.B.C.D." + b"E" * 16385), *INVALID, id="oversize-jwe-shape"),
    pytest.param(_auth(b"Bearer " + b"A" * 1_000_000), *INVALID, id="one-megabyte"),
    pytest.param(
        lambda token: (
            [(b"authorization", b"Bearer {t}".replace(b"{t}", token)), (b"x", b"y")]
            + [(b"x-filler", b"A" * 8000)] * 50
        ),
        200,
        "",
        id="huge-other-headers-are-not-ours",
    ),
]


