"""Static key sources, explicit opt-in: a local JWKS file, PEM public keys, an HMAC secret.

For issuers without a JWKS endpoint, and for the classic shared-secret HS256 case. The
keys are loaded once, when the settings are turned into a key source; a file that
cannot be read or holds no usable key is a ``ConfigurationError`` at startup.

A PEM key's ``kid`` is its file name without extension. A token whose ``kid`` names
no key is still verified by the one key of a static source that has no ``kid`` (the
HMAC secret), never by guessing among several.
"""

from __future__ import annotations

import math
import os

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .._config.settings import Settings
from .._exceptions import ConfigurationError
from .jwk import JWK, MIN_RSA_BITS, KeySet
from .roca import has_roca_fingerprint
from .source import KeySetState

__all__ = ["StaticKeySet", "load_static_keys"]

_RSA_ALGS = frozenset(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"))
_EC_CURVES = {
    "secp256r1": "ES256",
    "secp384r1": "ES384",
    "secp521r1": "ES512",
    "secp256k1": "ES256K",
}


class StaticKeySet:
    """Keys configured locally; never fetched, always ready. Same faces as ``RemoteKeySet``."""

    def __init__(self, settings: Settings, keys: KeySet, source: str) -> None:
        self.settings = settings
        #: The configured key set (the same object for the source's whole life).
        self.keys = keys
        #: Forever: static keys are never refreshed.
        self.fresh_until = math.inf
        self._source = source
        # A kid-less key (the HMAC secret) answers any kid, as the only candidate.
        self._fallback = keys.keys[0] if len(keys) == 1 and keys.keys[0].kid is None else None

    def __repr__(self) -> str:
        return f"StaticKeySet({self._source!r}, kids={self.keys.kids!r})"

    @property
    def ready(self) -> bool:
        """Always True: static keys are loaded at construction."""
        return True

    def state(self) -> KeySetState:
        """A snapshot: the kids and the source; nothing is ever fetched."""
        return KeySetState(
            issuer=self.settings.issuer,
            source=self._source,
            kids=self.keys.kids,
            ready=True,
            stale=False,
            fetched_at=None,
            age=None,
            expires_at=None,
            last_attempt=None,
            last_error=None,
            next_refresh=None,
            fetch_count=0,
            refreshing=False,
        )

    def find(self, kid: str | None, alg: str) -> JWK:
        """The key for *kid*/*alg*; raises ``UnknownKey`` or ``InvalidAlgorithm``."""
        if self._fallback is not None:
            return self.keys.find(None, alg)
        return self.keys.find(kid, alg)

    async def get_key(self, kid: str | None, alg: str) -> JWK:
        """``find``, for the async face."""
        return self.find(kid, alg)

    def get_key_sync(self, kid: str | None, alg: str) -> JWK:
        """``find``, for the sync face."""
        return self.find(kid, alg)

    async def refresh(self) -> KeySet:
        """Nothing to fetch: the configured keys."""
        return self.keys

    def refresh_sync(self) -> KeySet:
        """Nothing to fetch: the configured keys."""
        return self.keys

    async def keep_fresh(self) -> None:
        """Nothing to keep fresh: returns at once."""

    def start_refresh_thread(self) -> None:
        """Nothing to keep fresh: no thread."""

    async def aclose(self) -> None:
        """Nothing to release."""

    def close(self) -> None:
        """Nothing to release."""


def load_static_keys(settings: Settings) -> StaticKeySet | None:
    """The static key source *settings* configure, or None when keys come from a JWKS."""
    allowed = frozenset(settings.algorithms)
    if settings.hmac_secret:
        secret = settings.hmac_secret
        key = secret.encode() if isinstance(secret, str) else bytes(secret)
        jwk = JWK(kid=None, kty="oct", algorithms=allowed, public_key=key)
        return StaticKeySet(settings, KeySet([jwk]), "hmac_secret")
    if settings.jwks_file:
        document = _read(settings.jwks_file, "jwks_file")
        try:
            keys = KeySet.from_json(document, allowed)
        except ValueError as exc:
            raise ConfigurationError("jwks_file", f"{settings.jwks_file}: {exc}") from None
        return StaticKeySet(settings, _nonempty(keys, "jwks_file"), settings.jwks_file)
    if settings.public_key_files:
        keys = KeySet(_load_pem(path, allowed) for path in settings.public_key_files)
        return StaticKeySet(settings, keys, ", ".join(settings.public_key_files))
    return None


def _nonempty(keys: KeySet, setting: str) -> KeySet:
    if not keys:
        reasons = "; ".join(keys.skipped) or "no keys"
        raise ConfigurationError(setting, f"holds no usable key ({reasons})")
    return keys


def _read(path: str, setting: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read(1 << 20)
    except OSError as exc:
        raise ConfigurationError(setting, f"cannot read {path}: {exc.strerror}") from None


def _load_pem(path: str, allowed: frozenset[str]) -> JWK:
    data = _read(path, "public_key_files")
    public: object
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            public = x509.load_pem_x509_certificate(data).public_key()
        else:
            public = load_pem_public_key(data)
    except ValueError:
        raise ConfigurationError(
            "public_key_files", f"{path} is not a PEM public key or certificate"
        ) from None
    kty, fits = _algorithms_for(public, path)
    algorithms = fits & allowed
    if not algorithms:
        raise ConfigurationError(
            "public_key_files", f"{path}: none of the allowed algorithms fits this {kty} key"
        )
    kid = os.path.splitext(os.path.basename(path))[0]
    return JWK(kid=kid, kty=kty, algorithms=algorithms, public_key=public)


def _algorithms_for(public: object, path: str) -> tuple[str, frozenset[str]]:
    if isinstance(public, rsa.RSAPublicKey):
        if public.key_size < MIN_RSA_BITS:
            raise ConfigurationError(
                "public_key_files",
                f"{path}: RSA key of {public.key_size} bits (minimum {MIN_RSA_BITS})",
            )
        if has_roca_fingerprint(public.public_numbers().n):
            raise ConfigurationError(
                "public_key_files", f"{path}: RSA key with the ROCA fingerprint (CVE-2017-15361)"
            )
        return "RSA", _RSA_ALGS
    if isinstance(public, ec.EllipticCurvePublicKey):
        alg = _EC_CURVES.get(public.curve.name)
        if alg is None:
            raise ConfigurationError("public_key_files", f"{path}: unsupported curve")
        return "EC", frozenset((alg,))
    if isinstance(public, ed25519.Ed25519PublicKey):
        return "OKP", frozenset(("EdDSA", "Ed25519"))  # RFC 9864's name too.
    if isinstance(public, ed448.Ed448PublicKey):
        return "OKP", frozenset(("EdDSA", "Ed448"))
    raise ConfigurationError("public_key_files", f"{path}: unsupported key type")
