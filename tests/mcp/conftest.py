"""Fixtures for the MCP tests: a dev issuer on loopback and the example MCP server under uvicorn."""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from jwtgate.testing import Issuer
from jwtgate.testing.server import serve

from servers import ROOT, clean_env, free_port, server_command

pytest.importorskip("mcp")


@dataclass(frozen=True)
class MCPExample:
    """The running example: its base URL, its MCP endpoint (= JWTGATE_RESOURCE), its issuer."""

    base: str
    resource: str
    issuer: Issuer


@pytest.fixture(scope="module")
def dev_issuer() -> Iterator[Issuer]:
    with serve() as issuer:
        yield issuer


@pytest.fixture(scope="module")
def mcp_example(dev_issuer: Issuer) -> Iterator[MCPExample]:
    """``examples/mcp_server.py`` under a real uvicorn, configured as its docstring says."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"JWTGATE_ISSUER": dev_issuer.issuer, "JWTGATE_RESOURCE": f"{base}/mcp"}
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            server_command("examples.mcp_server:app", port),
            cwd=ROOT, env=clean_env(env), stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    output.seek(0)
                    raise AssertionError(output.read().decode())
                try:
                    httpx.get(f"{base}/.well-known/oauth-protected-resource", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            yield MCPExample(base, f"{base}/mcp", dev_issuer)
        finally:
            process.terminate()
            process.wait(timeout=10)
