"""Shared fixtures: keys generated once per session, a development issuer per test."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import settings as hypothesis_settings

from jwtgate import JWTGateMiddleware, Settings
from jwtgate.testing import DevKey, Issuer

from helpers import AUDIENCE, ISSUER_URL, protected_app

# Property tests stay bounded in CI; HYPOTHESIS_PROFILE=dev (or fuzz) searches longer.
hypothesis_settings.register_profile("ci", max_examples=500, deadline=None, print_blob=True)


hypothesis_settings.register_profile("dev", max_examples=3000, deadline=None)


hypothesis_settings.register_profile("fuzz", max_examples=100_000, deadline=None)


hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def rsa_key() -> DevKey:
    return DevKey.generate("RS256", kid="rsa-1")


@pytest.fixture(scope="session")
def rsa_key_2() -> DevKey:
    return DevKey.generate("RS256", kid="rsa-2")


@pytest.fixture(scope="session")
def ec_key() -> DevKey:
    return DevKey.generate("ES256", kid="ec-1")


@pytest.fixture(scope="session")
def ed_key() -> DevKey:
    return DevKey.generate("EdDSA", kid="ed-1")


@pytest.fixture
def issuer(rsa_key: DevKey) -> Issuer:
    """An issuer at https://issuer.test signing with RS256 key ``rsa-1``."""
    return Issuer(ISSUER_URL, audience=AUDIENCE, keys=[rsa_key])


@pytest.fixture
def make_client(issuer: Issuer) -> Callable[..., httpx.AsyncClient]:
    """Build an in-process client for ``protected_app`` behind the middleware."""

    def make(settings: Settings | None = None, **kwargs: Any) -> httpx.AsyncClient:
        kwargs.setdefault("transport", issuer.transport())
        app = JWTGateMiddleware(protected_app(), settings or issuer.settings(), **kwargs)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver")

    return make

