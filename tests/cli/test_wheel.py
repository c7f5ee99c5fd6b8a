"""Tried as a new user would: a built wheel, a fresh venv, an empty folder, `jwtgate demo`.

The wheel is built from this checkout (``pip wheel --no-build-isolation``: hatchling
comes with the ``dev`` extra) and installed into a new venv. Its dependencies come
from this suite's own venv through a ``.pth`` line (no network, a few seconds); with
``JWTGATE_WHEEL_FROM_INDEX=1`` they are installed from the package index instead,
as ``pip install "jwtgate[demo]"`` would (slower; needs the index):

    JWTGATE_WHEEL_FROM_INDEX=1 .venv/bin/pytest tests/cli/test_wheel.py

Every printed command is then run as pasted (``curl`` itself when installed), from
a folder that holds nothing of this repository.
"""

from __future__ import annotations

import itertools
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from servers import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def sh(*argv: str | Path, **kwargs: object) -> str:
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                            timeout=600, check=False, **kwargs)  # type: ignore[call-overload]  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return str(result.stdout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed; returns its bin folder."""
    work = tmp_path_factory.mktemp("wheel")
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
       "-w", work / "dist", ROOT)  # fmt: skip
    (wheel,) = (work / "dist").glob("jwtgate-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "jwtgate/_demo_app.py" in names  # The example app ships inside the package.
    assert not any(n.startswith(("examples/", "tests/")) for n in names)
    venv = work / "venv"
    if os.environ.get("JWTGATE_WHEEL_FROM_INDEX"):
        sh(sys.executable, "-m", "venv", venv)
        sh(venv / "bin" / "python", "-m", "pip", "install", "-q", f"{wheel}[demo]")
    else:
        sh(sys.executable, "-m", "venv", "--without-pip", venv)
        sh(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q",
           "--no-deps", "--no-index", wheel)  # fmt: skip
        # The dependencies (starlette, pyjwt, httpx, uvicorn) from this venv, after the
        # wheel's own site-packages: jwtgate itself comes from the wheel.
        site = sh(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
        (Path(site.strip()) / "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv / "bin"


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def user_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JWTGATE_", "PYTHON", "VIRTUAL_ENV"))}  # fmt: skip
    # The development key goes to the user's cache, beside (not into) the empty folder.
    return {**env, "XDG_CACHE_HOME": str(home.parent / "cache"), "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def demo(installed: Path, empty: Path) -> Iterator[tuple[list[str], int]]:
    """`jwtgate demo` run from the empty folder; yields its printed lines and app port."""
    port = free_port()
    process = subprocess.Popen(
        [str(installed / "jwtgate"), "demo", "--port", str(port), "--issuer-port", "0"],
        cwd=empty, env=user_env(empty), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    lines: list[str] = []
    try:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Stop with Ctrl-C"):
                break
        else:
            pytest.fail(process.stderr.read() if process.stderr else "no output")
        yield lines, port
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        if process.stderr:
            process.stderr.close()


def run_curl(command: str) -> int:
    """The HTTP status of a printed `curl -i ...` line, run as pasted."""
    if shutil.which("curl"):
        out = subprocess.run(command, shell=True, capture_output=True, text=True,
                             timeout=30, check=False).stdout  # fmt: skip
        return int(out.split()[1])
    args = shlex.split(command)[2:]
    method = args[args.index("-X") + 1] if "-X" in args else "GET"
    headers = dict([args[args.index("-H") + 1].split(": ", 1)]) if "-H" in args else {}
    return httpx.request(method, args[-1], headers=headers, timeout=10).status_code


def test_demo_from_the_wheel_in_an_empty_folder(
    demo: tuple[list[str], int], installed: Path, empty: Path
) -> None:
    lines, port = demo
    assert f"app     http://127.0.0.1:{port}" in "\n".join(lines)
    pairs = [
        (int(m.group(1)), command)
        for comment, command in itertools.pairwise(lines)
        if (m := re.match(r"# (\d{3})", comment))
    ]
    assert {status for status, _ in pairs} == {200, 401, 403}
    for status, command in pairs:
        assert run_curl(command) == status, command[:90]
    # The printed mint line works as pasted: a full path, no activated venv needed.
    (mint,) = [line for line in lines if " mint --issuer" in line]
    assert mint.startswith(str(installed / "jwtgate"))
    token = subprocess.run(mint, shell=True, capture_output=True, text=True, timeout=60,
                           env=user_env(empty), check=True).stdout.strip()  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    answer = httpx.get(f"http://127.0.0.1:{port}/items", headers=headers, timeout=10)
    assert answer.status_code == 200
    # So does the client-credentials line against the issuer's token endpoint.
    (grant,) = [line for line in lines if "grant_type=client_credentials" in line]
    url = shlex.split(grant)[-1]
    issued = httpx.post(url, data={"grant_type": "client_credentials", "client_id": "cli",
                                   "scope": "items:read"}, timeout=10)  # fmt: skip
    assert issued.status_code == 200
    assert list(empty.iterdir()) == []  # The demo wrote nothing into the user's folder.


def test_python_dash_m_jwtgate_works_from_the_wheel(installed: Path, empty: Path) -> None:
    out = sh(installed / "python", "-m", "jwtgate", "--version", cwd=empty, env=user_env(empty))
    assert out.startswith("jwtgate ")
