"""Many issuers: an allowlist, each entry with its own keys, audience and algorithms.

A token's unverified ``iss`` only *selects* among these entries; its signature is then
checked with that issuer's keys alone, and its claims against that issuer's rules.

From the environment, ``JWTGATE_ISSUERS`` holds a JSON list of objects with the
fields of ``IssuerConfig``; lists may also be comma-separated strings::

    JWTGATE_ISSUERS='[
      {"issuer": "https://login.example.com/", "audience": "api://orders"},
      {"issuer": "https://partner.example.net", "audience": ["orders"],
       "jwks_url": "https://partner.example.net/keys", "algorithms": "ES256"},
      {"issuer": "legacy", "audience": "orders", "hmac_secret_file": "/run/secrets/legacy"}
    ]'

Every other setting (leeway, cache lifetimes, ...) is shared, from the usual variables.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .._exceptions import ConfigurationError

__all__ = ["IssuerConfig", "parse_issuers"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class IssuerConfig:
    """One accepted issuer. Unset ``algorithms`` means the shared ``Settings.algorithms``.

    Keys come from exactly one of: ``jwks_url``, discovery (none of the others set),
    ``jwks_file``, ``public_key_files`` or ``hmac_secret``; see ``Settings``.
    """

    issuer: str
    audience: Sequence[str] | str | None = None
    verify_audience: bool = True
    jwks_url: str | None = None
    algorithms: Sequence[str] | str | None = None
    jwks_file: str | None = None
    public_key_files: Sequence[str] | str = ()
    hmac_secret: str | bytes | None = dataclasses.field(default=None, repr=False)
    #: Claim rules of this issuer, added to the shared ``Settings.claim_rules``.
    claim_rules: Mapping[str, Any] | None = None


_FIELDS = {f.name: f for f in dataclasses.fields(IssuerConfig)}


def parse_issuers(value: str) -> tuple[IssuerConfig, ...]:
    """Parse ``JWTGATE_ISSUERS``: a JSON list of objects with ``IssuerConfig`` fields."""
    try:
        data = json.loads(value)
    except ValueError:
        raise ValueError("is not valid JSON (expected a list of objects)") from None
    if not isinstance(data, list) or not data:
        raise ValueError("must be a non-empty JSON list of objects")
    configs = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            raise ValueError(f"item {index} is not a JSON object")
        kwargs: dict[str, Any] = {}
        for key, given in item.items():
            name, raw = key, given
            if name == "hmac_secret_file":
                name, raw = "hmac_secret", _read_secret(given, index)
            if name not in _FIELDS:
                raise ValueError(f"item {index}: unknown field {name!r}")
            if name == "claim_rules":
                if not isinstance(raw, dict):
                    raise ValueError(f"item {index}: claim_rules must be a JSON object")
            elif name == "verify_audience" and not isinstance(raw, bool):
                raise ValueError(f"item {index}: verify_audience must be true or false")
            elif name not in ("verify_audience", "audience", "algorithms", "public_key_files"):
                if not isinstance(raw, str):
                    raise ValueError(f"item {index}: {name} must be a string")
            elif name != "verify_audience" and not _is_str_list(raw):
                raise ValueError(f"item {index}: {name} must be a string or a list of strings")
            kwargs[name] = raw
        if "issuer" not in kwargs:
            raise ValueError(f"item {index} has no issuer")
        configs.append(IssuerConfig(**kwargs))
    return tuple(configs)


def _is_str_list(value: object) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    )


def _read_secret(path: object, index: int) -> str:
    if not isinstance(path, str):
        raise ValueError(f"item {index}: hmac_secret_file must be a string")
    try:
        with open(path, encoding="utf-8") as file:
            return file.read().strip()
    except OSError as exc:
        raise ValueError(f"item {index}: cannot read hmac_secret_file: {exc.strerror}") from None


def check_unique(configs: Sequence[IssuerConfig]) -> None:
    """Raise when two entries name the same issuer."""
    seen = set()
    for index, config in enumerate(configs):
        if config.issuer in seen:
            raise ConfigurationError(
                f"issuers[{index}].issuer", f"{config.issuer!r} is listed twice"
            )
        seen.add(config.issuer)
