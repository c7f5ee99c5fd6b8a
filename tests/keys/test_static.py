"""Static key sources: a JWKS file, PEM public keys, an HMAC secret; explicit opt-in only."""

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from jwtgate import (
    Authenticator,
    ConfigurationError,
    InvalidAlgorithm,
    InvalidSignature,
    Settings,
    StaticKeySet,
    UnknownKey,
)
from jwtgate.testing import DevKey

pytestmark = pytest.mark.anyio

ISS = "urn:example:legacy"  # Static sources need no URL: nothing is discovered.
SECRET = "k" * 32


def claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISS, "aud": "api", "sub": "s", "iat": now, "exp": now + 60} | extra


def pem(key: DevKey) -> bytes:
    return key.private_key.public_key().public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def hs256(header: dict[str, Any], payload: dict[str, Any], key: bytes) -> str:
    """An HS256 token signed with any bytes (PyJWT refuses PEM keys as secrets)."""

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = b64(json.dumps(header).encode()) + b"." + b64(json.dumps(payload).encode())
    signature = hmac.new(key, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + b64(signature)).decode()


def settings(**kw: Any) -> Settings:
    return Settings(issuer=ISS, audience="api", **kw)


async def test_hmac_secret_verifies_hs256() -> None:
    auth = Authenticator(settings(hmac_secret=SECRET))
    assert auth.settings.algorithms == ("HS256",)
    assert isinstance(auth.key_set, StaticKeySet)
    assert auth.ready
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    assert (await auth.authenticate(token)).subject == "s"
    with_kid = jwt.encode(claims(), SECRET, algorithm="HS256", headers={"kid": "any"})
    assert auth.authenticate_sync(with_kid).subject == "s"
    with pytest.raises(InvalidSignature):
        await auth.authenticate(jwt.encode(claims(), "x" * 32, algorithm="HS256"))
    with pytest.raises(InvalidAlgorithm):  # Only the configured HS algorithms.
        await auth.authenticate(jwt.encode(claims(), SECRET * 2, algorithm="HS384"))
    assert "k" * 32 not in repr(auth.settings)  # The secret is never shown.


async def test_hmac_secret_refuses_asymmetric_tokens(rsa_key: DevKey) -> None:
    auth = Authenticator(settings(hmac_secret=SECRET * 2, algorithms="HS256,HS384,HS512"))
    assert (await auth.authenticate(jwt.encode(claims(), SECRET * 2, algorithm="HS512"))).claims
    token = jwt.encode(claims(), rsa_key.private_key, algorithm="RS256")
    with pytest.raises(InvalidAlgorithm):
        await auth.authenticate(token)


@pytest.mark.parametrize(
    ("kwargs", "setting", "problem"),
    [
        pytest.param({"hmac_secret": "short"}, "hmac_secret", "at least 32", id="short-secret"),
        pytest.param(
            {"hmac_secret": SECRET, "algorithms": "HS512"},
            "hmac_secret",
            "at least 64",
            id="short-secret-for-hs512",
        ),
        pytest.param(
            {"hmac_secret": SECRET, "algorithms": "RS256"}, "algorithms", "only", id="secret-rs256"
        ),
        pytest.param(
            {"hmac_secret": SECRET, "algorithms": "HS256,RS256"},
            "algorithms",
            "only",
            id="secret-mixed",
        ),
        pytest.param(
            {"hmac_secret": SECRET, "jwks_url": "https://x.test/jwks"},
            "hmac_secret",
            "cannot be combined",
            id="secret-with-jwks",
        ),
        pytest.param(
            {"algorithms": "HS256", "jwks_url": "https://x.test/jwks"},
            "algorithms",
            "hmac_secret",
            id="hs-with-jwks",
        ),
        pytest.param(
            {"jwks_file": "a.json", "public_key_files": "b.pem"},
            "public_key_files",
            "cannot be combined",
            id="two-sources",
        ),
    ],
)
def test_static_sources_are_validated(kwargs: dict[str, Any], setting: str, problem: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        settings(**kwargs)
    assert info.value.setting == setting
    assert problem in info.value.problem


async def test_pem_public_keys(tmp_path: Path, rsa_key: DevKey, ec_key: DevKey) -> None:
    (tmp_path / "signer-a.pem").write_bytes(pem(rsa_key))
    (tmp_path / "signer-b.pem").write_bytes(pem(ec_key))
    files = f"{tmp_path / 'signer-a.pem'}, {tmp_path / 'signer-b.pem'}"
    auth = Authenticator(settings(public_key_files=files))
    assert auth.state()[0].kids == ("signer-a", "signer-b")
    rs = jwt.encode(claims(), rsa_key.private_key, algorithm="RS256", headers={"kid": "signer-a"})
    es = jwt.encode(claims(), ec_key.private_key, algorithm="ES256", headers={"kid": "signer-b"})
    assert (await auth.authenticate(rs)).subject == "s"
    assert auth.authenticate_sync(es).subject == "s"
    other = jwt.encode(claims(), rsa_key.private_key, algorithm="RS256", headers={"kid": "x"})
    with pytest.raises(UnknownKey):
        await auth.authenticate(other)
    hs = hs256({"alg": "HS256", "kid": "signer-a"}, claims(), pem(rsa_key))  # Key confusion.
    with pytest.raises(InvalidAlgorithm):
        await auth.authenticate(hs)


def test_pem_problems_are_startup_errors(tmp_path: Path) -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    (tmp_path / "small.pem").write_bytes(
        small.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (tmp_path / "junk.pem").write_text("not a key")
    for name, problem in [
        ("small.pem", "1024 bits"),
        ("junk.pem", "not a PEM"),
        ("missing.pem", "cannot read"),
    ]:
        with pytest.raises(ConfigurationError, match=problem) as info:
            Authenticator(settings(public_key_files=str(tmp_path / name)))
        assert info.value.setting == "public_key_files"


async def test_jwks_file(tmp_path: Path, rsa_key: DevKey) -> None:
    path = tmp_path / "jwks.json"
    unusable = {"kty": "RSA", "kid": "enc-key", "use": "enc", "n": "AQAB", "e": "AQAB"}
    path.write_text(json.dumps({"keys": [rsa_key.public_jwk, unusable]}))
    auth = Authenticator(settings(jwks_file=str(path)))
    token = jwt.encode(claims(), rsa_key.private_key, algorithm="RS256", headers={"kid": "rsa-1"})
    assert (await auth.authenticate(token)).subject == "s"
    assert auth.key_set.keys is not None
    assert auth.key_set.keys.kids == ("rsa-1",)
    path.write_text("{")
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        Authenticator(settings(jwks_file=str(path)))
    path.write_text('{"keys": []}')
    with pytest.raises(ConfigurationError, match="no usable key"):
        Authenticator(settings(jwks_file=str(path)))


def test_static_sources_from_env(tmp_path: Path, rsa_key: DevKey) -> None:
    (tmp_path / "k.pem").write_bytes(pem(rsa_key))
    env = {"JWTGATE_ISSUER": ISS, "JWTGATE_AUDIENCE": "api"}
    s = Settings.from_env(env | {"JWTGATE_PUBLIC_KEY_FILES": str(tmp_path / "k.pem")})
    assert s.public_key_files == (str(tmp_path / "k.pem"),)
    s = Settings.from_env(env | {"JWTGATE_HMAC_SECRET": SECRET * 2, "JWTGATE_ALGORITHMS": "HS384"})
    assert s.algorithms == ("HS384",)
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env(env | {"JWTGATE_HMAC_SECRET": "short"})
    assert info.value.setting == "JWTGATE_HMAC_SECRET"
    with pytest.raises(ConfigurationError) as info:
        Settings.from_env(
            env | {"JWTGATE_ALGORITHMS": "HS256", "JWTGATE_JWKS_URL": "https://x.test/jwks"}
        )
    assert info.value.setting == "JWTGATE_ALGORITHMS"
