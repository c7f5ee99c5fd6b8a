"""State shared by requests: the DPoP replay cache, in-process or on Redis.

``ReplayStore`` is the protocol; ``MemoryReplayStore`` keeps entries per process,
``RedisReplayStore`` on a Redis every worker and instance shares, through a
``RedisState`` (one connection pool per face) that other features may share.
"""
