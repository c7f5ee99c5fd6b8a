"""Fixtures for introspection tests: the test kit's issuer on a real loopback port, redis-server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jwtgate.testing import Issuer, serve

from redis_server import RedisServer


@pytest.fixture
def live() -> Iterator[Issuer]:
    """A development issuer with an introspection endpoint on 127.0.0.1 (fresh counts)."""
    with serve(audience="opaque-api") as issuer:
        yield issuer


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free loopback port, for the whole session."""
    server = RedisServer().start()
    try:
        yield server.url
    finally:
        server.stop()
