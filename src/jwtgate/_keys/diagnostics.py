"""Log lines that name the problem: where keys come from, which kid was missing.

Each names the ``JWTGATE_*`` variable involved, so an operator reading one line
knows what to change. A token's kid is attacker-chosen: a log line names it by a
fingerprint (``kid#1a2b3c4d``, the first 8 hex digits of its SHA-256; log injection
and log flooding stay impossible), ``jwtgate verify`` (the token's owner) in full;
never an HTTP answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from .._config.settings import Settings

__all__ = ["describe_source", "kid_fingerprint", "source_name", "unknown_kid_message"]

_KID_SHOWN = 64  # Characters of an attacker-chosen kid shown in a log line.


def source_name(settings: Settings) -> str:
    """The variable that says where keys come from, with its value."""
    if settings.jwks_url is not None:
        return f"JWTGATE_JWKS_URL={settings.jwks_url}"
    return f"discovery from JWTGATE_ISSUER={settings.issuer}"


def describe_source(settings: Settings) -> str:
    """The startup line: the effective issuer, where its keys come from, the audiences."""
    if settings.jwks_url is not None:
        keys = f"JWKS {settings.jwks_url}"
    else:
        keys = "JWKS discovered from " + " then ".join(settings.discovery_urls)
    audience = ", ".join(settings.audience or ()) if settings.verify_audience else "(not checked)"
    algorithms = ",".join(settings.algorithms)
    return (
        f"jwtgate trusts issuer {settings.issuer!r}: {keys}; audiences {audience}; "
        f"algorithms {algorithms}"
    )


def _short(kid: str | None) -> str:
    if kid is None:
        return "(none)"
    return repr(kid if len(kid) <= _KID_SHOWN else kid[:_KID_SHOWN] + "...")


def kid_fingerprint(kid: str) -> str:
    """A log-safe name for an attacker-chosen kid: ``kid#`` and 8 hex digits of its SHA-256."""
    return "kid#" + hashlib.sha256(kid.encode("utf-8", "replace")).hexdigest()[:8]


def unknown_kid_message(
    kid: str | None, kids: Iterable[str | None], *, verbatim: bool = False
) -> str:
    """Why a token's key was not found: its kid (*verbatim*, or a fingerprint) and the set's."""
    held = ", ".join(_short(k) for k in kids) or "(no keys)"
    shown = _short(kid) if verbatim or kid is None else kid_fingerprint(kid)
    return (
        f"unknown_key: the token's kid {shown} is not in the issuer's key set "
        f"(kids: {held}); a token from another issuer or tenant, or a key not yet published"
    )
