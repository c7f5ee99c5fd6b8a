"""Shared state on Redis (needs the ``redis`` extra: ``pip install 'jwtgate[redis]'``).

``RedisState`` owns the pooled async and sync clients of one Redis URL (timeouts, no
per-request connect, the password never logged); ``RedisReplayStore`` is the DPoP
replay cache on it. ``JWTGATE_REDIS_URL`` builds both; build them yourself to share
one ``RedisState`` with other shared caches::

    state = RedisState("redis://cache:6379/0", timeout=0.5)
    store = RedisReplayStore(state)
"""

from ._state.redis import RedisReplayStore, RedisState

__all__ = ["RedisReplayStore", "RedisState"]
