import base64
import json

import pytest

from jwtgate import MalformedToken, parse_token


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def craft(header: object = None, payload: object = None, signature: bytes = b"sig") -> str:
    header = {"alg": "RS256", "kid": "k"} if header is None else header
    payload = {"sub": "x"} if payload is None else payload
    h = header if isinstance(header, str) else json.dumps(header)
    p = payload if isinstance(payload, str) else json.dumps(payload)
    return f"{b64(h)}.{b64(p)}.{b64(signature)}"


def test_parses_a_well_formed_token() -> None:
    token = craft({"alg": "ES256", "kid": "k1", "typ": "at+jwt"}, {"sub": "a", "n": 1.5})
    parsed = parse_token(token)
    assert parsed.alg == "ES256"
    assert parsed.kid == "k1"
    assert parsed.claims == {"sub": "a", "n": 1.5}
    assert parsed.signature == b"sig"
    assert parsed.signing_input == token.rsplit(".", 1)[0].encode()


@pytest.mark.parametrize(
    ("token", "fragment"),
    [
        pytest.param("", "compact", id="empty"),
        pytest.param("abc", "compact", id="one-segment"),
        pytest.param("a.b", "compact", id="two-segments"),
        pytest.param("a.b.c.d", "compact", id="four-segments"),
        pytest.param("a.b.c.d.e", "JWE", id="jwe"),
        pytest.param(craft() + "=", "compact", id="padding"),
        pytest.param(craft().replace(".", ". ", 1), "compact", id="inner-space"),
        pytest.param(craft() + "\n", "compact", id="trailing-newline"),
        pytest.param(craft().replace("e", "é", 1), "compact", id="non-ascii"),
        pytest.param(craft().replace("e", "+", 1), "compact", id="base64-not-url"),
        pytest.param("." + craft().split(".", 1)[1], "compact", id="empty-header"),
        pytest.param(craft().rsplit(".", 1)[0] + ".", "no signature", id="empty-signature"),
        pytest.param(f"{b64('x')}.{b64('{}')}.{b64('s')}", "JSON", id="header-not-json"),
        pytest.param(craft('{"alg":"RS256","alg":"none"}'), "JSON", id="duplicate-header-member"),
        pytest.param(craft(payload='{"sub":"a","sub":"b"}'), "JSON", id="duplicate-claim"),
        pytest.param(craft(payload='{"exp":NaN}'), "JSON", id="nan"),
        pytest.param(craft(payload='{"exp":Infinity}'), "JSON", id="infinity"),
        pytest.param(craft(payload='{"exp":1e999}'), "JSON", id="float-overflow"),
        pytest.param(craft(payload='{"exp":' + "9" * 5000 + "}"), "JSON", id="huge-integer"),
        pytest.param(craft(payload="[" * 100000 + "]" * 100000), "JSON", id="deep-nesting"),
        pytest.param(craft(payload=[1, 2]), "not a JSON object", id="payload-array"),
        pytest.param(craft(header="null"), "not a JSON object", id="header-null"),
        pytest.param(f"{b64(chr(0xFF))}.{b64('{}')}.{b64('s')}", "JSON", id="header-not-utf8"),
        pytest.param(craft({"kid": "k"}), "no algorithm", id="no-alg"),
        pytest.param(craft({"alg": 256}), "no algorithm", id="alg-not-string"),
        pytest.param(craft({"alg": "RS256", "crit": ["exp"]}), "critical", id="crit-unknown"),
        pytest.param(
            craft({"alg": "RS256", "b64": False, "crit": ["b64"]}), "critical", id="crit-b64"
        ),
        pytest.param(craft({"alg": "RS256", "kid": 7}), "key id", id="kid-int"),
        pytest.param(craft({"alg": "RS256", "kid": ["a"]}), "key id", id="kid-list"),
        pytest.param(craft({"alg": "RS256", "typ": "JWE"}), "type", id="typ-other"),
        pytest.param(craft({"alg": "RS256", "typ": 1}), "type", id="typ-int"),
        pytest.param(craft({"alg": "RS256", "cty": "JWT"}), "Nested", id="nested-jwt"),
    ],
)
def test_rejects_malformed_tokens(token: str, fragment: str) -> None:
    with pytest.raises(MalformedToken) as info:
        parse_token(token)
    assert fragment in info.value.description
    assert info.value.status_code == 401
    assert info.value.error == "invalid_token"


@pytest.mark.parametrize("typ", ["JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt"])
def test_accepts_access_token_types(typ: str) -> None:
    assert parse_token(craft({"alg": "RS256", "typ": typ})).header["typ"] == typ


def test_descriptions_never_echo_the_token() -> None:
    secret = "s3cr3t-marker"
    for token in (
        craft({"alg": "RS256", "typ": secret}),
        secret,
        craft({"alg": "x", "crit": [secret]}),
    ):
        with pytest.raises(MalformedToken) as info:
            parse_token(token)
        assert secret not in info.value.description
