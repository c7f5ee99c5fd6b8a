"""The error of opaque-token introspection (RFC 7662), under the one root.

Listed in the tree of ``_exceptions``; kept apart so that each module stays one concept::

    KeySetUnavailable
    └── IntrospectionUnavailable   503 temporarily_unavailable: no introspection answer
"""

from __future__ import annotations

from ._exceptions import KeySetUnavailable

__all__ = ["IntrospectionUnavailable"]


class IntrospectionUnavailable(KeySetUnavailable):
    """503: the introspection endpoint gave no usable answer (an outage is never a 401)."""

    reason = "introspection_unavailable"
