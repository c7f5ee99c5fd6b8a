"""What a route requires of its caller: scopes (all of, any of), roles, step-up, custom checks.

One framework-free ``Requirement`` shared by every face (Starlette and FastAPI
decorators, FastAPI dependencies, Flask and Django views, the OpenAPI description),
so that the same requirement gives the same answer everywhere:

1. no verified token: ``401`` (no ``error`` attribute);
2. a scope missing: ``403 insufficient_scope`` whose ``scope`` names a set that suffices;
3. a role missing: ``403 insufficient_scope``, no ``scope`` attribute;
4. step-up not met (RFC 9470): ``401 insufficient_user_authentication`` with
   ``acr_values`` and/or ``max_age``;
5. each custom ``check`` in turn: it returns to allow, or raises an ``AuthError``
   (``AccessDenied`` for 403, an ``InvalidToken`` for 401).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from .._exceptions import (
    AuthenticationRequired,
    AuthError,
    InsufficientRole,
    InsufficientScope,
    InsufficientUserAuthentication,
)
from .._verify.verifier import VerifiedToken

__all__ = ["ClaimCheck", "Requirement", "validate_scope_tokens"]

#: A custom check on a verified token: return to allow; raise ``AccessDenied`` (403) or
#: an ``InvalidToken`` (401) to refuse. Its description is sent to the client: never
#: put claim values in it.
ClaimCheck = Callable[[VerifiedToken], None]

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ); roles and acr values
# travel in the same quoted header attributes, so they follow the same rule.
_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
_NUMBER_TYPES = (int, float)
_SKEW = 60.0  # Seconds an ``auth_time`` may lie ahead of our clock.


def validate_scope_tokens(scopes: Iterable[str], what: str = "scope") -> tuple[str, ...]:
    """*scopes* as a tuple, once each is checked to be an RFC 6749 scope token."""
    if isinstance(scopes, str):
        scopes = (scopes,)
    checked = tuple(scopes)
    for scope in checked:
        if not isinstance(scope, str) or _TOKEN.fullmatch(scope) is None:
            raise ValueError(f"{scope!r} is not a valid {what} token (RFC 6749 §3.3)")
    return checked


def _group(values: Iterable[str], what: str) -> tuple[tuple[str, ...], ...]:
    group = validate_scope_tokens(values, what)
    return (group,) if group else ()


@dataclass(frozen=True)
class Requirement:
    """What a route needs. Build it with ``Requirement.of(...)``; ``+`` joins two.

    *scopes*/*roles*: every one of them. *any_scopes*/*any_roles*: groups, at least one
    member of each group. *acr_values*: the token's ``acr`` must be one of them.
    *max_age*: ``auth_time`` at most that many seconds ago. *checks*: custom hooks.
    """

    scopes: tuple[str, ...] = ()
    any_scopes: tuple[tuple[str, ...], ...] = ()
    roles: tuple[str, ...] = ()
    any_roles: tuple[tuple[str, ...], ...] = ()
    acr_values: tuple[str, ...] = ()
    max_age: int | None = None
    checks: tuple[ClaimCheck, ...] = ()
    clock: Callable[[], float] = field(default=time.time, compare=False, repr=False)

    @property
    def all_scopes(self) -> frozenset[str] | None:
        """The scopes, when all-of scopes are the whole requirement (a set check suffices)."""
        if self.any_scopes or self.roles or self.any_roles or self.step_up or self.checks:
            return None
        return frozenset(self.scopes)

    @classmethod
    def of(
        cls,
        *,
        scopes: Iterable[str] = (),
        any_scopes: Iterable[str] = (),
        roles: Iterable[str] = (),
        any_roles: Iterable[str] = (),
        acr_values: Iterable[str] | str = (),
        max_age: float | None = None,
        check: ClaimCheck | None = None,
        clock: Callable[[], float] = time.time,
    ) -> Requirement:
        """A requirement, each value checked (raises ``ValueError``/``TypeError`` at import)."""
        if max_age is not None:
            if (
                isinstance(max_age, bool)
                or not isinstance(max_age, _NUMBER_TYPES)
                or not math.isfinite(max_age)
                or max_age < 0
            ):
                raise ValueError(f"max_age={max_age!r} must be a number of seconds >= 0")
            max_age = int(max_age)
        if check is not None and not callable(check):
            raise TypeError(f"check={check!r} must be a function taking the VerifiedToken")
        return cls(
            scopes=validate_scope_tokens(scopes),
            any_scopes=_group(any_scopes, "scope"),
            roles=validate_scope_tokens(roles, "role"),
            any_roles=_group(any_roles, "role"),
            acr_values=validate_scope_tokens(acr_values, "acr"),
            max_age=max_age,
            checks=() if check is None else (check,),
            clock=clock,
        )

    def __add__(self, other: Requirement) -> Requirement:
        """Both requirements at once (stacked decorators)."""
        if self.acr_values and other.acr_values and self.acr_values != other.acr_values:
            raise ValueError("two step-up requirements with different acr_values on one endpoint")
        ages = [a for a in (self.max_age, other.max_age) if a is not None]
        return replace(
            self,
            scopes=tuple(dict.fromkeys(self.scopes + other.scopes)),
            any_scopes=self.any_scopes + other.any_scopes,
            roles=tuple(dict.fromkeys(self.roles + other.roles)),
            any_roles=self.any_roles + other.any_roles,
            acr_values=self.acr_values or other.acr_values,
            max_age=min(ages) if ages else None,
            checks=self.checks + other.checks,
        )

    @property
    def step_up(self) -> bool:
        """True when the requirement asks about the user's authentication (RFC 9470)."""
        return bool(self.acr_values) or self.max_age is not None

    def scope_alternatives(self, limit: int = 16) -> list[tuple[str, ...]]:
        """The scope sets that each satisfy the scope part, one per any-of choice (<= *limit*)."""
        sets: list[tuple[str, ...]] = [self.scopes]
        for group in self.any_scopes:
            sets = [(*s, g) if g not in s else s for s in sets for g in group][:limit]
        return sets

    def evaluate(self, token: VerifiedToken | None) -> AuthError | None:
        """The error to answer for *token* (None: anonymous), or None when it may proceed."""
        if token is None:
            # The scopes are named on the 401 when resource metadata is served (RFC 9728).
            return AuthenticationRequired(scopes=self.scope_alternatives(1)[0])
        scopes = token.scopes
        if not scopes.issuperset(self.scopes) or any(
            scopes.isdisjoint(group) for group in self.any_scopes
        ):
            # RFC 6750 §3: name a set of scopes that would be enough.
            return InsufficientScope(self.scope_alternatives(1)[0])
        roles = token.roles
        if not roles.issuperset(self.roles) or any(
            roles.isdisjoint(group) for group in self.any_roles
        ):
            return InsufficientRole(self.roles)
        if (self.acr_values or self.max_age is not None) and not self._authenticated(token):
            return InsufficientUserAuthentication(self.acr_values, self.max_age)
        for check in self.checks:
            try:
                check(token)
            except AuthError as exc:
                return exc
        return None

    def _authenticated(self, token: VerifiedToken) -> bool:
        claims = token.claims
        if self.acr_values:
            acr = claims.get("acr")
            if type(acr) is not str or acr not in self.acr_values:
                return False
        if self.max_age is not None:
            auth_time = claims.get("auth_time")
            if isinstance(auth_time, bool) or not isinstance(auth_time, _NUMBER_TYPES):
                return False
            # Huge integers would overflow float arithmetic: no real timestamp is that large.
            age = self.clock() - float(auth_time) if abs(auth_time) < 2**63 else math.inf
            # An authentication in the future (beyond clock skew) is no proof of anything.
            if not -_SKEW <= age <= self.max_age:
                return False
        return True


#: The requirement of an endpoint that only needs a valid token.
AUTHENTICATED = Requirement()
