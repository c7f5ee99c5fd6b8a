"""Reading claims by name or RFC 6901 JSON Pointer, and the strings a claim grants.

Scopes and roles are read the same way: each configured claim is a top-level name
(``scope``) or a pointer (``/realm_access/roles``); its value may be a space-delimited
string, a list of strings, or an object whose keys count (Zitadel's project roles).
Anything else (numbers, nested lists, non-string members) grants nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from .._config.authz_fields import claim_path

__all__ = ["MISSING", "ClaimStrings", "compiled", "lookup"]

#: What ``lookup`` answers for a claim the token does not have.
MISSING: Any = object()


def lookup(claims: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at *path* (object keys) in *claims*, or ``MISSING``.

    Only objects are walked: RFC 6901 array indexes are not followed, since a claim
    whose meaning depends on a position in a list is not one to authorize on.
    """
    value: Any = claims
    for key in path:
        if not isinstance(value, dict | Mapping):
            return MISSING
        value = value.get(key, MISSING)
        if value is MISSING:
            return MISSING
    return value


def _strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out += value.split()
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, str):
                out += item.split()
    elif isinstance(value, dict):
        out += [key for key in value if isinstance(key, str) and key]


class ClaimStrings:
    """The union of the strings granted by a fixed list of claims (names or pointers)."""

    __slots__ = ("_names", "_paths")

    def __init__(self, names: Sequence[str]) -> None:
        # Top-level names are read with one dict lookup; pointers walk their path.
        self._names = tuple(claim_path(n)[0] for n in names if not n.startswith("/"))
        self._paths = tuple(claim_path(n) for n in names if n.startswith("/"))

    def __call__(self, claims: Mapping[str, Any]) -> frozenset[str]:
        """The strings *claims* grants through the configured claims."""
        out: list[str] = []
        for name in self._names:
            value = claims.get(name)
            if value is not None:
                _strings(value, out)
        for path in self._paths:
            value = lookup(claims, path)
            if value is not MISSING:
                _strings(value, out)
        return frozenset(out)


@lru_cache(maxsize=64)
def compiled(names: tuple[str, ...]) -> ClaimStrings:
    """A ``ClaimStrings`` for *names*, shared between callers that name the same claims."""
    return ClaimStrings(names)
