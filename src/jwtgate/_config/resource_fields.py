"""This API as an OAuth protected resource (RFC 8707, RFC 9728): its identifier and metadata.

``Settings`` inherits these fields. ``JWTGATE_RESOURCE`` is the one that changes
behaviour: it becomes an accepted audience and turns on the metadata document
(``_web/metadata.py``); the others only add members to that document.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import urlsplit

from .._exceptions import ConfigurationError
from .envparse import env_field as _field
from .envparse import parse_list as _parse_list
from .envparse import parse_str as _parse_str
from .urls import require_secure_url

__all__ = ["ResourceFields", "ResourceView", "validate_resource"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ResourceFields:
    """The resource identifier and what the protected-resource metadata says besides it."""

    resource: str | None = _field(
        "JWTGATE_RESOURCE",
        _parse_str,
        "This API's resource identifier (RFC 8707/9728), an `https://` URL (loopback `http://` "
        "allowed), e.g. `https://api.example.com/mcp`. When set it is an accepted audience (the "
        "only one when `JWTGATE_AUDIENCE` is unset), the RFC 9728 metadata is served at "
        "`/.well-known/oauth-protected-resource` (plus the resource's path) and every 401 "
        "challenge names it in `resource_metadata`.",
        default=None,
    )
    scopes_supported: Sequence[str] = _field(
        "JWTGATE_SCOPES_SUPPORTED",
        _parse_list,
        "Scopes listed as `scopes_supported` in the protected-resource metadata, comma-separated "
        "(MCP clients request these when a 401 names none). Unset: the member is left out.",
        default=(),
    )
    resource_documentation: str | None = _field(
        "JWTGATE_RESOURCE_DOCUMENTATION",
        _parse_str,
        "A URL of human-readable documentation, published as `resource_documentation` in the "
        "protected-resource metadata.",
        default=None,
    )


class ResourceView(Protocol):
    """What ``validate_resource`` reads of ``Settings``."""

    @property
    def resource(self) -> str | None: ...
    @property
    def scopes_supported(self) -> Sequence[str]: ...
    @property
    def resource_documentation(self) -> str | None: ...


def validate_resource(s: ResourceView) -> None:
    """Raise ``ConfigurationError`` when a resource setting of *s* is invalid."""
    for scope in s.scopes_supported:
        # RFC 6749 §3.3 scope-token: printable ASCII without space, '"' and '\'.
        if not scope or any(c in '"\\ ' or not (c.isascii() and c.isprintable()) for c in scope):
            raise ConfigurationError("scopes_supported", f"{scope!r} is not a valid scope token")
    if s.resource_documentation is not None:
        _check_url(s.resource_documentation, "resource_documentation")
    if s.resource is None:
        if s.scopes_supported or s.resource_documentation is not None:
            raise ConfigurationError(
                "resource",
                "is required when scopes_supported or resource_documentation is set: they "
                "only appear in the metadata that JWTGATE_RESOURCE turns on",
            )
        return
    _check_url(s.resource, "resource")


def _check_url(url: object, setting: str) -> None:
    if not isinstance(url, str) or not url:
        raise ConfigurationError(setting, f"{url!r} must be an https:// URL")
    if any(c.isspace() or c in '"\\' or not c.isprintable() for c in url):
        # It is quoted into WWW-Authenticate challenges and compared with `aud` exactly.
        raise ConfigurationError(setting, f"{url!r} must not contain spaces, quotes or '\\'")
    require_secure_url(url, setting, why="RFC 9728 resource identifiers are https URLs")
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(setting, "must not contain user information (user:password@)")
    if parts.fragment or "#" in url:
        raise ConfigurationError(
            setting, f"{url!r} has a fragment; a resource identifier has none (RFC 8707 §2)"
        )
    if parts.query or "?" in url:
        raise ConfigurationError(
            setting,
            f"{url!r} has a query; leave it out (RFC 9728 §3.1 would carry it into the "
            "metadata URL, where clients do not look for it)",
        )
