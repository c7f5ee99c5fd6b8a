"""`jwtgate demo` as a newcomer runs it: every printed curl command answers as its comment says."""

import itertools
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from servers import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("jwtgate")


def _curl_to_request(line: str) -> tuple[str, str, dict[str, str]]:
    args = shlex.split(line)
    assert args[:2] == ["curl", "-i"], line
    method, headers, url = "GET", {}, ""
    words = iter(args[2:])
    for word in words:
        if word == "-X":
            method = next(words)
        elif word == "-H":
            name, _, value = next(words).partition(": ")
            headers[name] = value
        else:
            url = word
    return method, url, headers


def _wait_until_serving(client: httpx.Client, url: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            client.get(url)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_demo_prints_curl_commands_that_answer_as_announced(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWTGATE_")}
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [str(SCRIPT), "demo", "--port", str(port)],
            cwd=ROOT, env={**env, "PYTHONUNBUFFERED": "1", "XDG_CACHE_HOME": str(tmp_path)},
            stdout=subprocess.PIPE, stderr=errors, text=True,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            lines = []
            for line in process.stdout:
                lines.append(line.rstrip("\n"))
                if line.startswith("Stop with Ctrl-C"):
                    break
            else:
                errors.seek(0)
                raise AssertionError(errors.read().decode())
            pairs = [
                (int(re.match(r"# (\d{3})", comment).group(1)), command)  # type: ignore[union-attr]
                for comment, command in itertools.pairwise(lines)
                if re.match(r"# \d{3}", comment)
            ]
            assert sorted({status for status, _ in pairs}) == [200, 401, 403]
            assert any("expired" in line for line in lines)
            with httpx.Client(timeout=10) as client:
                _wait_until_serving(client, f"http://127.0.0.1:{port}/public")
                for status, command in pairs:
                    method, url, headers = _curl_to_request(command)
                    assert url.startswith(f"http://127.0.0.1:{port}/")
                    response = client.request(method, url, headers=headers)
                    assert response.status_code == status, command[:80]
            # Ctrl-C stops both servers cleanly, with the shell's exit code for it.
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=15) == 130
            errors.seek(0)
            log = errors.read().decode()
            assert "Application shutdown complete" in log
            assert "Traceback" not in log
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stdout.close()  # type: ignore[union-attr]
