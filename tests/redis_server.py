"""A real ``redis-server`` on a free loopback port, for the tests that share state through Redis."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import redis

from servers import free_port


class RedisServer:
    """A real ``redis-server`` on a free loopback port, which tests can stop and restart."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:  # .ci/run installs it; a bare machine gets a clear message.
            pytest.fail("redis-server is not installed: apt-get install -y redis-server")
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        client.close()
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None
