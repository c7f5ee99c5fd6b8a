"""Static key files that cannot be used stop the app with the file and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, rsa, x25519

from jwtgate import Authenticator, ConfigurationError, Settings, StaticKeySet


def _pem(public: object) -> bytes:
    return public.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _settings(path: Path, algorithms: str | None = None) -> Settings:
    env = {
        "JWTGATE_ISSUER": "https://issuer.test",
        "JWTGATE_AUDIENCE": "api",
        "JWTGATE_PUBLIC_KEY_FILES": str(path),
    }
    if algorithms:
        env["JWTGATE_ALGORITHMS"] = algorithms
    return Settings.from_env(env)


@pytest.mark.parametrize(
    ("content", "algorithms", "message"),
    [
        pytest.param(b"not a key", None, "is not a PEM public key or certificate", id="garbage"),
        pytest.param(
            lambda: _pem(rsa.generate_private_key(65537, 1024).public_key()),
            None,
            "RSA key of 1024 bits",
            id="rsa-1024",
        ),
        pytest.param(
            lambda: _pem(ec.generate_private_key(ec.SECP224R1()).public_key()),
            None,
            "unsupported curve",
            id="p-224",
        ),
        pytest.param(
            lambda: _pem(x25519.X25519PrivateKey.generate().public_key()),
            None,
            "unsupported key type",
            id="x25519",
        ),
        pytest.param(
            lambda: _pem(ed448.Ed448PrivateKey.generate().public_key()),
            "RS256",
            "none of the allowed algorithms fits this OKP key",
            id="ed448-with-rs256-only",
        ),
    ],
)
def test_unusable_key_files_are_refused(
    tmp_path: Path, content: object, algorithms: str | None, message: str
) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(content() if callable(content) else content)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError) as caught:
        Authenticator(_settings(path, algorithms))
    assert message in str(caught.value)


@pytest.mark.anyio
async def test_a_static_key_set_has_nothing_to_fetch(tmp_path: Path) -> None:
    path = tmp_path / "signer.pem"
    path.write_bytes(_pem(ec.generate_private_key(ec.SECP256R1()).public_key()))
    authenticator = Authenticator(_settings(path))
    key_set = authenticator.key_set
    assert isinstance(key_set, StaticKeySet)
    assert "signer" in repr(key_set)
    assert await key_set.refresh() is key_set.keys
    assert key_set.refresh_sync() is key_set.keys
    assert key_set.keys.kids == ("signer",)
