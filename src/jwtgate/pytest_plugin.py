"""The jwtgate pytest plugin (registered as ``jwtgate`` in ``pytest11``).

Fixtures (all prefixed ``jwtgate_`` so they never clash with a project's own):

- ``jwtgate_issuer``: an in-process ``Issuer`` at ``https://issuer.jwtgate.test`` with
  audience ``jwtgate-test``; its JWKS is served through ``issuer.transport()``.
- ``jwtgate_live_issuer``: the same on a real loopback port (``http://127.0.0.1:<port>``).
- ``jwtgate_env``: sets ``JWTGATE_ISSUER``/``JWTGATE_AUDIENCE``/``JWTGATE_JWKS_URL`` to
  the live issuer (monkeypatch; undone after the test) and returns it, for apps that
  read their settings from the environment when they are built.

Testing a protected route::

    from jwtgate.testing import app_client

    def test_items_need_items_read(jwtgate_issuer):
        client = app_client(app, jwtgate_issuer)  # the app's middleware now trusts it
        assert client.get("/items", headers=jwtgate_issuer.headers()).status_code == 403
        token = jwtgate_issuer.headers(scopes=["items:read"])
        assert client.get("/items", headers=token).status_code == 200

Apps that read ``Settings.from_env()`` at import (as the README's do) can be imported
by test modules with no ``JWTGATE_*`` set: unless ``JWTGATE_ISSUER`` or
``JWTGATE_ISSUERS`` is set, the plugin sets ``JWTGATE_ISSUER`` and ``JWTGATE_AUDIENCE``
to the test issuer's values for the session (restored afterwards); ``app_client`` /
``override`` then retarget the app. Turn it off with ``jwtgate_env_defaults = false``
in the pytest configuration.

Keys are generated once per session (``jwtgate_signing_key``, RS256, kid
``jwtgate-test-key``); ``issuer.mint(algorithm="ES256")`` adds more as needed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from .testing import DevKey, Issuer, serve

__all__ = [
    "jwtgate_env",
    "jwtgate_issuer",
    "jwtgate_live_issuer",
    "jwtgate_signing_key",
]

ISSUER_URL = "https://issuer.jwtgate.test"
AUDIENCE = "jwtgate-test"


_SET_BY_PLUGIN: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``jwtgate_env_defaults`` ini option."""
    parser.addini(
        "jwtgate_env_defaults",
        type="bool",
        default=True,
        help="jwtgate: set JWTGATE_ISSUER/JWTGATE_AUDIENCE to the test issuer's values for "
        "the session when neither JWTGATE_ISSUER nor JWTGATE_ISSUERS is set",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Give apps that read their settings at import something valid to read."""
    if not config.getini("jwtgate_env_defaults"):
        return
    if os.environ.get("JWTGATE_ISSUER") or os.environ.get("JWTGATE_ISSUERS"):
        return
    for name, value in (("JWTGATE_ISSUER", ISSUER_URL), ("JWTGATE_AUDIENCE", AUDIENCE)):
        if not os.environ.get(name):
            os.environ[name] = value
            _SET_BY_PLUGIN.append(name)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Undo ``pytest_configure``."""
    while _SET_BY_PLUGIN:
        os.environ.pop(_SET_BY_PLUGIN.pop(), None)


@pytest.fixture(scope="session")
def jwtgate_signing_key() -> DevKey:
    """The RS256 key the jwtgate fixtures sign with (generated once per session)."""
    return DevKey.generate("RS256", kid="jwtgate-test-key")


@pytest.fixture
def jwtgate_issuer(jwtgate_signing_key: DevKey) -> Issuer:
    """An in-process development issuer; point an app at it with ``override(app, issuer)``."""
    return Issuer(ISSUER_URL, audience=AUDIENCE, keys=[jwtgate_signing_key])


@pytest.fixture
def jwtgate_live_issuer(jwtgate_signing_key: DevKey) -> Iterator[Issuer]:
    """A development issuer serving discovery and its JWKS on a loopback port."""
    with serve(audience=AUDIENCE, keys=[jwtgate_signing_key]) as issuer:
        yield issuer


@pytest.fixture
def jwtgate_env(jwtgate_live_issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> Issuer:
    """Point ``JWTGATE_*`` at the live issuer for this test; returns the issuer."""
    for name in ("JWTGATE_ISSUER", "JWTGATE_AUDIENCE", "JWTGATE_JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JWTGATE_ISSUER", jwtgate_live_issuer.issuer)
    monkeypatch.setenv("JWTGATE_AUDIENCE", jwtgate_live_issuer.audience)
    monkeypatch.setenv("JWTGATE_JWKS_URL", jwtgate_live_issuer.jwks_url)
    return jwtgate_live_issuer
