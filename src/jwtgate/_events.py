"""One hook for everything the key sets and the authenticator do: fetches, cache use, rejections.

``on_event`` is any callable taking an ``Event``; wire it to logging, Prometheus or
OpenTelemetry without jwtgate depending on them. Event names:

=================  ===========================================================
``fetch``          a key set was fetched (``url``, ``kids``, ``lifetime``, ``duration``)
``fetch_failed``   a fetch failed (``url``, ``reason``, ``duration``); the last good set stays
``hit``            a token's key was found in a fresh key set (``kid``)
``stale``          a token's key was found in a set past its lifetime (``kid``)
``miss``           a token's ``kid`` is not in the set; a fetch may follow (``kid``)
``negative_hit``   the ``kid`` was looked up recently and is known to be absent (``kid``)
``rejected``       a token was refused (``reason``: the ``AuthError.reason``)
``unavailable``    no usable keys: the request is answered 503 (``reason``)
=================  ===========================================================

A hook runs on the request path: keep it fast. An exception it raises is logged and
swallowed, never breaking a request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Event", "EventHook", "emit"]

logger = logging.getLogger("jwtgate")


@dataclass(frozen=True, slots=True)
class Event:
    """Something jwtgate did, reported to ``on_event``; fields not relevant are None."""

    name: str
    issuer: str
    kid: str | None = None
    reason: str | None = None
    url: str | None = None
    kids: tuple[str | None, ...] | None = None
    lifetime: float | None = None
    duration: float | None = None


EventHook = Callable[[Event], None]


def emit(hook: EventHook | None, event: Event) -> None:
    """Call *hook* with *event*; an exception from the hook is logged, never raised."""
    if hook is None:
        return
    try:
        hook(event)
    except Exception:
        logger.exception("jwtgate on_event hook failed for event %r", event.name)
