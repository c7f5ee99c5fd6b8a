"""Claim rules (``JWTGATE_CLAIM_RULES``): values a token's claims must hold, part of verification.

Each rule names a claim (a top-level name or an RFC 6901 JSON Pointer) and the values
it accepts. A scalar claim must equal one of them; a list-valued claim must contain
one. Equality is JSON's: ``true`` is not ``1``, ``1`` is ``1.0``, NaN equals nothing.
A broken rule is ``401 invalid_token`` whose description names the claim (from the
settings), never the token's value.

The rules run inside ``TokenVerifier.verify_with_key``, so a token in the verified-token
cache has passed them: a cache hit is answered exactly as a miss.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._config.authz_fields import RuleValue, claim_path
from .._exceptions import ClaimRuleViolation
from .pointer import MISSING, lookup

__all__ = ["ClaimRule", "check_rules", "compile_rules"]


class ClaimRule:
    """One compiled rule: where the claim is, and the values it accepts."""

    __slots__ = ("error", "name", "others", "path", "strings", "top")

    def __init__(self, name: str, values: tuple[RuleValue, ...]) -> None:
        self.name = name
        self.path = claim_path(name)
        #: The claim name when the rule reads a top-level claim (one dict lookup), else None.
        self.top = self.path[0] if not name.startswith("/") else None
        # Strings (the usual case) by set membership; numbers and booleans by typed equality.
        self.strings = frozenset(v for v in values if isinstance(v, str))
        self.others = tuple(v for v in values if not isinstance(v, str))
        self.error = f"The token's '{name}' claim does not have an accepted value."

    def accepts(self, value: Any) -> bool:
        """True when *value* (a claim's) equals an accepted value or is a list holding one."""
        if isinstance(value, list):
            return any(self._scalar(item) for item in value)
        return self._scalar(value)

    def _scalar(self, value: Any) -> bool:
        if type(value) is str:
            return value in self.strings
        if isinstance(value, bool):
            return any(other is value for other in self.others)
        if isinstance(value, int | float):
            return any(not isinstance(other, bool) and other == value for other in self.others)
        return False


def compile_rules(rules: Mapping[str, tuple[RuleValue, ...]]) -> tuple[ClaimRule, ...]:
    """The rules of a ``Settings.claim_rules`` mapping, compiled (empty: nothing to check)."""
    return tuple(ClaimRule(name, values) for name, values in rules.items())


def check_rules(claims: Mapping[str, Any], rules: tuple[ClaimRule, ...]) -> None:
    """Raise ``ClaimRuleViolation`` (401 ``invalid_token``) for the first rule *claims* breaks."""
    for rule in rules:
        top = rule.top
        value = claims.get(top, MISSING) if top is not None else lookup(claims, rule.path)
        if type(value) is str:  # The usual case, inline: one set lookup.
            if value in rule.strings:
                continue
        elif value is not MISSING and rule.accepts(value):
            continue
        # A fresh exception each time: a raised one collects a traceback.
        raise ClaimRuleViolation(rule.error, claim=rule.name)
