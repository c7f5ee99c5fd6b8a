"""The trusted issuers of one ``Settings``: each with its settings, verifier and key source.

With ``Settings.issuers`` each allowlisted issuer has its own entry; the token's
*unverified* ``iss`` only selects one (an unlisted ``iss`` is refused before any
fetch), and the signature is then checked with that issuer's keys alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx

from .._config.settings import Settings
from .._events import EventHook
from .._exceptions import ConfigurationError, InvalidAlgorithm, InvalidIssuer
from .._keys.remote import RemoteKeySet
from .._keys.source import KeySource
from .._keys.static import load_static_keys
from .token import UnverifiedToken, parse_token
from .verifier import TokenVerifier

__all__ = ["IssuerMap", "KeySourceOptions", "TrustedIssuer", "select_issuer", "trusted_issuers"]


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """One accepted issuer: its settings, its verifier, its key source, its algorithms."""

    settings: Settings
    verifier: TokenVerifier
    key_set: KeySource
    algorithms: frozenset[str]


@dataclass(frozen=True)
class KeySourceOptions:
    """The seams a ``RemoteKeySet`` is built with (see ``Authenticator``)."""

    http_client: httpx.AsyncClient | None = None
    transport: httpx.AsyncBaseTransport | None = None
    sync_http_client: httpx.Client | None = None
    sync_transport: httpx.BaseTransport | None = None
    clock: Callable[[], float] = time.time
    on_event: EventHook | None = None

    def source(self, settings: Settings) -> KeySource:
        """The key source of one issuer's *settings*: static keys, else its remote JWKS."""
        return load_static_keys(settings) or RemoteKeySet(
            settings,
            http_client=self.http_client,
            transport=self.transport,
            sync_http_client=self.sync_http_client,
            sync_transport=self.sync_transport,
            clock=self.clock,
            on_event=self.on_event,
        )


def trusted_issuers(
    settings: Settings, key_set: KeySource | None, options: KeySourceOptions
) -> dict[str, TrustedIssuer]:
    """Every issuer *settings* accepts, by ``iss``; *key_set* replaces a single issuer's."""
    if settings.issuers:
        if key_set is not None:
            raise TypeError("key_set cannot be combined with Settings.issuers")
        entries = []
        for index, config in enumerate(settings.issuers):
            s = settings.for_issuer(config)
            try:
                entries.append((s, options.source(s)))
            except ConfigurationError as exc:
                raise ConfigurationError(f"issuers[{index}].{exc.setting}", exc.problem) from None
    else:
        entries = [(settings, key_set or options.source(settings))]
    return IssuerMap(
        (s.issuer, TrustedIssuer(s, TokenVerifier(s), ks, frozenset(s.algorithms)))
        for s, ks in entries
    )


class IssuerMap(dict[str, TrustedIssuer]):
    """Trusted issuers by ``iss``, plus the multi-tenant templates among them (found once)."""

    def __init__(self, items: Iterable[tuple[str, TrustedIssuer]]) -> None:
        super().__init__(items)
        self.templates = tuple(e for e in self.values() if e.verifier.template is not None)


def select_issuer(
    issuers: dict[str, TrustedIssuer], token: str
) -> tuple[TrustedIssuer, UnverifiedToken]:
    """The issuer that *token* names, and the token parsed; raises ``AuthError``."""
    unverified = parse_token(token)
    iss = unverified.claims.get("iss")
    issuer = issuers.get(iss) if isinstance(iss, str) else None
    if issuer is None:
        # Multi-tenant entries ({tenantid}): the token's iss must be its own tid's.
        templates = issuers.templates if isinstance(issuers, IssuerMap) else issuers.values()
        for entry in templates:
            template = entry.verifier.template
            if template is not None and template.matches(unverified.claims):
                issuer = entry
                break
    if issuer is None:
        # Only allowlisted issuers are ever looked up: no fetch for anything else.
        raise InvalidIssuer("The token's issuer is not accepted.", claim="iss")
    if unverified.alg not in issuer.algorithms:
        raise InvalidAlgorithm("The token's algorithm is not allowed.")
    return issuer, unverified
