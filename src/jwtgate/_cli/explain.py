"""How the token commands explain a result: dates, failed checks, missing keys, exit codes."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import sys
import time
from datetime import datetime, timezone
from typing import Any

from .._exceptions import AuthError, InsufficientScope, InvalidClaim, KeySetUnavailable
from .._keys.diagnostics import kid_fingerprint, source_name, unknown_kid_message

__all__ = [
    "EXIT_FAILED", "EXIT_OK", "EXIT_UNAVAILABLE", "EXIT_USAGE", "TIME_CLAIMS", "b64json",
    "explain", "explain_unavailable", "unknown_key_detail", "when",
]  # fmt: skip

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3
TIME_CLAIMS = ("exp", "nbf", "iat", "auth_time")


def b64json(segment: str) -> Any:
    """The JSON in one base64url segment (raises ValueError and friends)."""
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def when(value: Any, now: float) -> str:
    """A NumericDate as an ISO date and how far from *now*."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return f"{value!r} (not a number)"
    try:
        date = datetime.fromtimestamp(value, tz=timezone.utc).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return f"{value} (out of range)"
    delta = value - now
    span = abs(delta)
    if span >= 86400:
        unit = f"{span / 86400:.1f} d"
    elif span >= 3000:
        unit = f"{span / 3600:.1f} h"
    elif span >= 120:
        unit = f"{span / 60:.0f} min"
    else:
        unit = f"{span:.0f} s"
    return f"{date} ({'in ' + unit if delta >= 0 else unit + ' ago'})"


def unknown_key_detail(token: str, states: Any) -> str:
    """The token's kid and the kids each issuer's set holds (the token is the user's own)."""
    kid = None
    with contextlib.suppress(ValueError, binascii.Error, UnicodeDecodeError, AttributeError):
        kid = b64json(token.split(".", maxsplit=1)[0]).get("kid")
    kids = [k for state in states for k in state.kids]
    if not isinstance(kid, str):
        return unknown_kid_message(None, kids)
    text = unknown_kid_message(kid, kids, verbatim=True)
    return f"{text}\n  (the server's log names this kid {kid_fingerprint(kid)})"


def explain(exc: AuthError, claims: dict[str, Any], settings: Any) -> str:
    """Which check failed and why; local values may be shown: this is the token's owner."""
    check = exc.claim if isinstance(exc, InvalidClaim) else exc.reason
    text = f"FAILED {check}: {exc.description} (reason={exc.reason})"
    if exc.reason == "issuer":
        text += f"\n  token iss: {claims.get('iss')!r}\n  expected:  {settings.issuer!r}"
    elif exc.reason == "audience":
        from .._verify.verifier import accepted_audiences  # With JWTGATE_RESOURCE too.

        accepted = list(accepted_audiences(settings))
        text += f"\n  token aud: {claims.get('aud')!r}\n  accepted:  {accepted!r}"
    elif isinstance(exc, InvalidClaim) and exc.claim in TIME_CLAIMS:
        text += f"\n  {exc.claim}: {when(claims.get(exc.claim), time.time())}"
        text += f" (leeway {settings.leeway:g} s)"
    elif isinstance(exc, InsufficientScope):
        text += f"\n  needed: {' '.join(exc.scopes)}"
    return text


def explain_unavailable(authenticator: Any, exc: KeySetUnavailable) -> int:
    """Exit 2 for a configuration error the issuer revealed, 3 for an outage."""
    for state in authenticator.state():
        if state.config_error:
            print(f"FAILED {state.config_error}", file=sys.stderr)
            return EXIT_USAGE
    # The key source says why (its attribute may not exist on every key source).
    error = getattr(authenticator.key_set, "last_error", None) or exc.description
    settings = authenticator.settings
    source = "" if settings.issuers else f" ({source_name(settings)})"
    print(f"FAILED keys: the signing keys could not be fetched{source}: {error}",
          file=sys.stderr)  # fmt: skip
    return EXIT_UNAVAILABLE
