"""The ``jwtgate`` command line.

Exit codes: 0 success, 1 the command failed (e.g. a token did not verify),
2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import socket
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from .__version__ import __version__

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``jwtgate`` command; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="jwtgate", description="jwtgate: bearer JWT verification for ASGI and WSGI apps."
    )
    parser.add_argument("--version", action="version", version=f"jwtgate {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="run a development issuer and the example app, and print curl commands",
        description="Start a development issuer (keys, JWKS and discovery on loopback) and "
        "examples/app.py behind JWTGateMiddleware; print ready-to-paste curl commands. "
        "Stop with Ctrl-C.",
    )
    demo.add_argument("--host", default="127.0.0.1", help="interface for both servers")
    demo.add_argument("--port", type=int, default=8000, help="port of the example app")
    demo.add_argument(
        "--issuer-port", type=int, default=0, help="port of the issuer (default: any free one)"
    )
    demo.add_argument("--app", default=None, help="path to the example app (examples/app.py)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    parser.print_help()
    return 2


def _find_example(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = root / "examples" / "app.py"
        if candidate.is_file():
            return candidate
    return None


def _load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("jwtgate_demo_app", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def _demo(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        print("jwtgate demo needs uvicorn: pip install 'jwtgate[dev]'", file=sys.stderr)
        return 2
    from .testing import Issuer

    example = _find_example(args.app)
    if example is None:
        print(
            "jwtgate demo: examples/app.py not found; run it from the jwtgate repository "
            "root or pass --app PATH",
            file=sys.stderr,
        )
        return 2
    try:
        issuer_sock = _bind(args.host, args.issuer_port)
        app_sock = _bind(args.host, args.port)
    except OSError as exc:
        print(f"jwtgate demo: cannot listen on {args.host}: {exc}", file=sys.stderr)
        return 2
    host = f"[{args.host}]" if ":" in args.host else args.host
    issuer = Issuer(f"http://{host}:{issuer_sock.getsockname()[1]}", audience="jwtgate-demo")
    # The example reads JWTGATE_* like any deployment would; the JWKS URL is discovered.
    os.environ.update(JWTGATE_ISSUER=issuer.issuer, JWTGATE_AUDIENCE=issuer.audience)
    os.environ.pop("JWTGATE_JWKS_URL", None)
    app = _load_module(example).app

    issuer_server = uvicorn.Server(
        uvicorn.Config(issuer.asgi_app(), lifespan="off", log_level="warning", access_log=False)
    )
    thread = threading.Thread(
        target=issuer_server.run, kwargs={"sockets": [issuer_sock]}, daemon=True
    )
    thread.start()
    base = f"http://{host}:{app_sock.getsockname()[1]}"
    _print_instructions(base, issuer)
    server = uvicorn.Server(uvicorn.Config(app, log_level="info"))
    try:
        server.run(sockets=[app_sock])
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully on Ctrl-C, then re-raises the signal.
        return 130
    finally:
        issuer_server.should_exit = True
        thread.join(timeout=5)
    return 0


def _print_instructions(base: str, issuer: Any) -> None:
    full = issuer.mint(sub="alice", scopes=["items:read", "items:write"])
    read_only = issuer.mint(sub="bob", scopes=["items:read"])
    expired = issuer.mint(sub="carol", scopes=["items:read"], expires_in=-3600)

    def curl(path: str, token: str | None = None, method: str = "GET") -> str:
        parts = ["curl", "-i"]
        if method != "GET":
            parts += ["-X", method]
        if token:
            parts += ["-H", f"Authorization: Bearer {token}"]
        return " ".join(shlex.quote(p) for p in [*parts, base + path])

    lines = [
        "",
        f"jwtgate demo: development issuer at {issuer.issuer}, example app at {base}",
        "",
        "# 200: a public route, no token needed",
        curl("/public"),
        "# 401: a protected route without a token",
        curl("/me"),
        "# 200: who am I (token with items:read and items:write)",
        curl("/me", full),
        "# 200: a route that needs items:write",
        curl("/items", full, "POST"),
        "# 403 insufficient_scope: this token has items:read only",
        curl("/items", read_only, "POST"),
        "# 401 invalid_token: an expired token",
        curl("/me", expired),
        "",
        "Stop with Ctrl-C.",
        "",
    ]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
