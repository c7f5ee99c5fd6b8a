"""Which URLs keys may be fetched from: ``https://``, or plain ``http://`` to loopback only."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from .._exceptions import ConfigurationError

__all__ = ["discovery_urls", "is_loopback_host", "require_secure_url"]


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost``, ``127.0.0.0/8`` and ``::1``."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


_KEYS_IN_CLEAR = "keys fetched in clear text could be replaced by anyone on the network path"


def require_secure_url(url: str, setting: str, why: str = _KEYS_IN_CLEAR) -> str:
    """Return *url* if it is ``https://``, or ``http://`` to a loopback host; else raise.

    *why* completes the error's sentence: what plain http would put at risk.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise ConfigurationError(setting, f"{url!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigurationError(setting, f"{url!r} is not an absolute http(s) URL")
    if parts.scheme != "https" and not is_loopback_host(host):
        raise ConfigurationError(
            setting,
            f"{url!r} must use https:// (plain http is only allowed for loopback hosts "
            f"such as localhost or 127.0.0.1): {why}",
        )
    return url


def discovery_urls(issuer: str) -> tuple[str, ...]:
    """Where an issuer's metadata (and so its JWKS URL) is looked up, in order.

    OIDC Discovery §4 appends to the issuer (its terminating "/" removed); RFC 8414
    §3.1 inserts between host and path, which differs for an issuer with a path:
    then the appended form (what Okta and others serve) is tried last.
    """
    base = issuer.rstrip("/")
    split = urlsplit(base)
    rfc8414 = f"{split.scheme}://{split.netloc}/.well-known/oauth-authorization-server"
    if not split.path:
        return (f"{base}/.well-known/openid-configuration", rfc8414)
    return (
        f"{base}/.well-known/openid-configuration",
        rfc8414 + split.path,
        f"{base}/.well-known/oauth-authorization-server",
    )
