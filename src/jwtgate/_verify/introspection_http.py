"""The introspection request (RFC 7662 §2.1): client authentication, one POST per face.

Every call to the authorization server goes through ``apost`` (async) or ``post``
(sync), on the key fetch's hard deadline (``_keys/deadline.py``: connect, read and
total limits no server pacing bends, a cap on the decoded body, ``jwks_max_bytes``),
no redirects. The endpoint's metadata lookup reuses the key fetch's ``aget``/``get``.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .._config.settings import Settings, require_secure_url
from .._exceptions import ConfigurationError
from .._keys.deadline import Deadline, FetchError, Response, asend, send

__all__ = ["ClientAuth", "apost", "discover_endpoint", "post"]

_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class ClientAuth:
    """How this API authenticates to the introspection endpoint (secrets masked in repr)."""

    method: str
    client_id: str
    secret: str | None = field(default=None, repr=False)
    private_key: Any = field(default=None, repr=False)
    alg: str | None = None
    kid: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ClientAuth:
        """The client authentication *settings* describe; loads the private key file."""
        method = settings.introspection_auth_method
        client_id = settings.introspection_client_id or ""
        if method != "private_key_jwt":
            return cls(method, client_id, secret=settings.introspection_client_secret)
        path = settings.introspection_private_key_file or ""
        try:
            key: Any = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            problem = f"{path!r} is not a readable unencrypted PEM private key ({exc})"
            raise ConfigurationError("introspection_private_key_file", problem) from None
        if isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2048:
            alg = "RS256"
        elif isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
            alg = "ES256"
        elif isinstance(key, ed25519.Ed25519PrivateKey):
            alg = "EdDSA"
        else:
            raise ConfigurationError(
                "introspection_private_key_file",
                f"{path!r}: use an RSA (>= 2048 bits), EC P-256 or Ed25519 key",
            )
        return cls(method, client_id, private_key=key, alg=alg, kid=Path(path).stem)

    def request(self, url: str, token: str, now: float) -> tuple[dict[str, str], bytes]:
        """The headers and form body introspecting *token* at *url*."""
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        form = {"token": token, "token_type_hint": "access_token"}
        if self.method == "client_secret_basic":
            # RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
            pair = f"{quote_plus(self.client_id)}:{quote_plus(self.secret or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        elif self.method == "client_secret_post":
            form.update(client_id=self.client_id, client_secret=self.secret or "")
        else:
            form.update(
                client_id=self.client_id,
                client_assertion_type=_ASSERTION_TYPE,
                client_assertion=self._assertion(url, now),
            )
        return headers, urlencode(form).encode("ascii")

    def _assertion(self, url: str, now: float) -> str:
        # RFC 7523 §3: iss = sub = the client, aud = the endpoint, short-lived, unique jti.
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": url,
            "iat": int(now),
            "exp": int(now) + 60,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self.private_key, algorithm=self.alg, headers={"kid": self.kid})


async def apost(
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    deadline: Deadline,
) -> Response:
    """POST *body* to *url* by *deadline* (``_keys/deadline.py``); any status is returned.

    Raises ``FetchError``. Every introspection call goes through here or ``post``.
    """
    request = client.build_request("POST", url, headers=headers, content=body)
    return await asend(client, request, deadline)


def post(
    client: httpx.Client, url: str, headers: Mapping[str, str], body: bytes, deadline: Deadline
) -> Response:
    """The sync twin of ``apost`` (the deadline's watchdog shuts a stalled socket)."""
    return send(client, client.build_request("POST", url, headers=headers, content=body), deadline)


def discover_endpoint(settings: Settings) -> Generator[str, Response, str]:
    """A plan (as ``fetch.plan``): the issuer's metadata, in order, until one names the endpoint."""
    problems = []
    for url in settings.discovery_urls:
        try:
            response = yield url
            document = json.loads(response.content)
        except FetchError as exc:
            problems.append(str(exc))
            continue
        except (ValueError, RecursionError):
            problems.append(f"{url} is not JSON")
            continue
        if not isinstance(document, dict) or document.get("issuer") != settings.issuer:
            # OIDC Discovery §4.3: a document naming another issuer is not this issuer's.
            problems.append(f"{url} is not this issuer's metadata")
            continue
        endpoint = document.get("introspection_endpoint")
        if not isinstance(endpoint, str):
            problems.append(f"{url} names no introspection_endpoint")
            continue
        try:
            return require_secure_url(endpoint, "introspection_endpoint")
        except ConfigurationError as exc:
            problems.append(f"{url}: {exc}")
    raise FetchError("introspection endpoint discovery failed: " + "; ".join(problems))
