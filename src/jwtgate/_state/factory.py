"""Choosing the replay store from the settings: Redis when a URL is set, else in-process."""

from __future__ import annotations

from .._config.settings import Settings
from .._exceptions import ConfigurationError
from .replay import MemoryReplayStore, ReplayStore

__all__ = ["replay_store"]


def replay_store(settings: Settings) -> ReplayStore:
    """The DPoP replay store *settings* ask for; raises ``ConfigurationError`` without redis-py."""
    if settings.redis_url is None:
        return MemoryReplayStore(settings.dpop_replay_cache_size)
    try:
        # Imported only when configured: redis-py is an optional dependency.
        from .redis import RedisReplayStore, RedisState
    except ImportError:
        raise ConfigurationError(
            "redis_url", "is set but redis-py is not installed: pip install 'jwtgate[redis]'"
        ) from None
    state = RedisState(settings.redis_url, timeout=settings.redis_timeout)
    return RedisReplayStore(state, prefix="jwtgate:dpop:jti:")
