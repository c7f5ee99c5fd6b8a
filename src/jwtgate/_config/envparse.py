"""Reading settings from ``JWTGATE_*`` environment variables.

Each ``Settings`` field names its variable and its parser in its metadata; a parser
turns the raw string into the field's type or raises ``ValueError`` saying what is
wrong, and ``read_environ`` reports that under the variable's name.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from .._exceptions import ConfigurationError

__all__ = [
    "env_field",
    "parse_bool",
    "parse_float",
    "parse_int",
    "parse_list",
    "parse_str",
    "read_environ",
]

logger = logging.getLogger("jwtgate")

_ENV_PREFIX = "JWTGATE_"
# These two are required, so an empty variable is an error rather than the default.
_EMPTY_IS_A_VALUE = frozenset(("issuer", "audience"))


def env_field(env: str, parse: Callable[[str], Any], doc: str, **kwargs: Any) -> Any:
    """A dataclass field read from *env* with *parse*; *doc* feeds the README table."""
    return dataclasses.field(metadata={"env": env, "parse": parse, "doc": doc}, **kwargs)


def parse_str(value: str) -> str:
    """The value without surrounding whitespace."""
    return value.strip()


def parse_list(value: str) -> tuple[str, ...]:
    """Comma-separated items, whitespace around them ignored, empty items dropped."""
    return tuple(item.strip() for item in value.split(",") if item.strip())


def parse_float(value: str) -> float:
    """A number."""
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None


def parse_int(value: str) -> int:
    """A whole number."""
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None


def parse_bool(value: str) -> bool:
    """``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``, any case."""
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{value!r} is not a boolean (use true or false)")


def read_environ(
    fields: Iterable[dataclasses.Field[Any]], environ: Mapping[str, str], skip: Collection[str]
) -> dict[str, Any]:
    """Parse the variables of *fields* found in *environ* (except those named in *skip*).

    Raises ``ConfigurationError`` naming the variable when a value does not parse;
    warns about ``JWTGATE_*`` variables that belong to no field (typos).
    """
    known = {}
    kwargs: dict[str, Any] = {}
    for f in fields:
        var = f.metadata["env"]
        known[var] = f.name
        if f.name in skip or var not in environ:
            continue
        raw = environ[var]
        if not raw.strip() and f.name not in _EMPTY_IS_A_VALUE:
            continue  # An empty optional variable means "use the default".
        try:
            kwargs[f.name] = f.metadata["parse"](raw)
        except ValueError as exc:
            raise ConfigurationError(var, str(exc)) from None
    for var in environ:
        if var.startswith(_ENV_PREFIX) and var not in known:
            close = difflib.get_close_matches(var, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            logger.warning("Ignoring unknown setting %s%s", var, hint)
    return kwargs
