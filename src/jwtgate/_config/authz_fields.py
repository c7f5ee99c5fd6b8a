"""Authorization settings: role claims, claim rules, claim paths and issuer templates.

``Settings`` inherits ``AuthzFields``. Claim names in ``scope_claims``, ``role_claims``
and the keys of ``claim_rules`` are top-level claim names, or RFC 6901 JSON Pointers
(they start with ``/``) into nested objects. The values here are checked once, at
startup; ``jwtgate._verify.rules`` compiles them for the hot path.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from .._exceptions import ConfigurationError
from .envparse import env_field as _field
from .envparse import parse_list as _parse_list

__all__ = [
    "TENANT_PLACEHOLDER",
    "AuthzFields",
    "ClaimRules",
    "FrozenRules",
    "RuleValue",
    "claim_path",
    "issuer_template",
    "normalize_claim_rules",
    "parse_claim_rules",
    "validate_authz",
]

#: A value a claim rule accepts: a JSON string, number or boolean.
RuleValue = str | int | float | bool
#: Claim (name or JSON Pointer) → the accepted values (normalized to a tuple).
ClaimRules = Mapping[str, tuple[RuleValue, ...]]
#: The placeholder of a multi-tenant issuer template, filled from the token's ``tid``.
TENANT_PLACEHOLDER = "{tenantid}"
_MAX_RULE_VALUES = 1000


def claim_path(name: str) -> tuple[str, ...]:
    """The object keys *name* walks: ``(name,)`` for a claim name, or an RFC 6901 pointer's."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"{name!r} is not a claim name or a JSON Pointer")
    if not name.startswith("/"):
        return (name,)
    keys = []
    for raw in name[1:].split("/"):
        # RFC 6901 §4: "~1" is "/", "~0" is "~" (decoded in that order); other "~" is an error.
        if "~" in raw.replace("~0", "").replace("~1", ""):
            raise ValueError(f"{name!r} is not a valid JSON Pointer ('~' must be '~0' or '~1')")
        keys.append(raw.replace("~1", "/").replace("~0", "~"))
    return tuple(keys)


class FrozenRules(Mapping[str, tuple[RuleValue, ...]]):
    """A read-only, hashable claim → accepted values mapping (``Settings`` stays hashable)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, tuple[RuleValue, ...]]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: str) -> tuple[RuleValue, ...]:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(self._items.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self._items) == dict(other)

    def __repr__(self) -> str:
        return repr(self._items)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def parse_claim_rules(value: str) -> Mapping[str, tuple[RuleValue, ...]]:
    """Parse ``JWTGATE_CLAIM_RULES``: a JSON object of claim → value or list of values."""
    try:
        data = json.loads(value, parse_constant=_no_constant)
    except ValueError:
        raise ValueError(
            'is not valid JSON (expected an object such as {"token_use": "access"})'
        ) from None
    try:
        return normalize_claim_rules(data)
    except ConfigurationError as exc:
        raise ValueError(exc.problem) from None


def _rule_value(key: str, value: object) -> RuleValue:
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigurationError("claim_rules", f"key {key!r}: {value!r} is not finite")
        return value
    raise ConfigurationError(
        "claim_rules",
        f"key {key!r}: {type(value).__name__} is not accepted; give a string, number or "
        "boolean, or a non-empty list of them",
    )


def normalize_claim_rules(rules: object, setting: str = "claim_rules") -> ClaimRules:
    """*rules* checked and frozen: each value a non-empty tuple of scalars; else raises."""
    if rules is None:
        return FrozenRules({})
    if not isinstance(rules, Mapping):
        raise ConfigurationError(setting, "must be a JSON object of claim → accepted value(s)")
    frozen: dict[str, tuple[RuleValue, ...]] = {}
    for key, value in rules.items():
        try:
            claim_path(key)
        except ValueError as exc:
            raise ConfigurationError(setting, f"key {exc!s}") from None
        values = list(value) if isinstance(value, list | tuple) else [value]
        if not values:
            raise ConfigurationError(setting, f"key {key!r}: the list of values is empty")
        if len(values) > _MAX_RULE_VALUES:
            raise ConfigurationError(setting, f"key {key!r}: more than {_MAX_RULE_VALUES} values")
        try:
            frozen[key] = tuple(_rule_value(key, v) for v in values)
        except ConfigurationError as exc:
            raise ConfigurationError(setting, exc.problem) from None
    return FrozenRules(frozen)


def issuer_template(issuer: str) -> tuple[str, str] | None:
    """``(prefix, suffix)`` around ``{tenantid}`` when *issuer* is a template, else None."""
    if TENANT_PLACEHOLDER not in issuer:
        return None
    prefix, _, suffix = issuer.partition(TENANT_PLACEHOLDER)
    return prefix, suffix


@dataclasses.dataclass(frozen=True, kw_only=True)
class AuthzFields:
    """Where roles are read and which claim values a token must carry (see ``Settings``)."""

    role_claims: Sequence[str] = _field(
        "JWTGATE_ROLE_CLAIMS",
        _parse_list,
        "Claims whose values are roles (`request.user.roles`): claim names or JSON Pointers "
        "(`/realm_access/roles`); values may be space-delimited strings, lists of strings "
        "or objects (their keys count).",
        default=("roles",),
    )
    claim_rules: Mapping[str, Any] = _field(
        "JWTGATE_CLAIM_RULES",
        parse_claim_rules,
        "A JSON object of claim (name or JSON Pointer) → accepted value or list of values, "
        'e.g. `{"token_use": "access", "tid": ["T1", "T2"]}`; a list-valued claim matches '
        "when it contains one. Every rule must hold, else `401 invalid_token`.",
        default_factory=lambda: FrozenRules({}),
    )


class _AuthzSettings(Protocol):
    @property
    def issuer(self) -> str: ...
    @property
    def scope_claims(self) -> Sequence[str]: ...
    @property
    def role_claims(self) -> Sequence[str]: ...
    @property
    def jwks_url(self) -> str | None: ...
    @property
    def static_keys(self) -> bool: ...


def validate_authz(s: _AuthzSettings) -> None:
    """Check the claim paths and the issuer template of *s* (rules are checked when frozen)."""
    for setting in ("scope_claims", "role_claims"):
        for name in getattr(s, setting):
            try:
                claim_path(name)
            except ValueError as exc:
                raise ConfigurationError(setting, str(exc)) from None
    template = issuer_template(s.issuer)
    if template is None:
        return
    if TENANT_PLACEHOLDER in template[1] or "{" in template[0] + template[1]:
        raise ConfigurationError(
            "issuer", f"{s.issuer!r} may hold one placeholder, {TENANT_PLACEHOLDER}, and no other"
        )
    if s.jwks_url is None and not s.static_keys:
        raise ConfigurationError(
            "jwks_url",
            f"is required with the template issuer {s.issuer!r}: set the JWKS all tenants "
            "share, e.g. https://login.microsoftonline.com/common/discovery/v2.0/keys",
        )
