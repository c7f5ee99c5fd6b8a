"""Fixtures of the authorization tests: a client of the same routes on each face."""

from __future__ import annotations

import httpx
import pytest

from jwtgate.testing import Issuer, app_client

from authz_apps import FACES


@pytest.fixture(params=sorted(FACES))
def face(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def face_client(face: str, issuer: Issuer) -> httpx.Client:
    """A client of ``ROUTES`` on one face, behind the real middleware of that face."""
    settings = issuer.settings(role_claims=("roles", "/realm_access/roles"))
    return app_client(FACES[face](settings, issuer))
