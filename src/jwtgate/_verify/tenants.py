"""Multi-tenant issuers: ``https://login.microsoftonline.com/{tenantid}/v2.0``.

A template issuer accepts every ``iss`` that is the template with ``{tenantid}``
replaced by the token's own ``tid`` claim (Microsoft Entra's multi-tenant rule), and
nothing else. Which tenants are accepted is a claim rule (``{"tid": [...]}``); all
tenants share the one JWKS configured for the template.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .._config.authz_fields import issuer_template

__all__ = ["IssuerTemplate"]

# Tenant IDs are GUIDs (or verified domain names): nothing that could change the URL's shape.
_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,99}")


class IssuerTemplate:
    """An issuer with a ``{tenantid}`` placeholder, matched against ``iss`` and ``tid``."""

    __slots__ = ("prefix", "suffix")

    def __init__(self, prefix: str, suffix: str) -> None:
        self.prefix = prefix
        self.suffix = suffix

    @classmethod
    def of(cls, issuer: str) -> IssuerTemplate | None:
        """The template of *issuer*, or None when it has no placeholder."""
        parts = issuer_template(issuer)
        return None if parts is None else cls(*parts)

    def expected(self, claims: Mapping[str, Any]) -> str | None:
        """The ``iss`` this template accepts for *claims* (from ``tid``), or None."""
        tid = claims.get("tid")
        if type(tid) is not str or _TENANT.fullmatch(tid) is None:
            return None
        return self.prefix + tid + self.suffix

    def matches(self, claims: Mapping[str, Any]) -> bool:
        """True when the (unverified) ``iss`` of *claims* fits the template and ``tid``."""
        expected = self.expected(claims)
        return expected is not None and claims.get("iss") == expected
