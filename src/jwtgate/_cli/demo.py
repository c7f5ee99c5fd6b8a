"""``jwtgate demo``: a development issuer and the example app on loopback."""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import socket
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from .tokens import DEFAULT_ISSUER_PORT, load_dev_key

__all__ = ["add_demo", "run_demo"]


def add_demo(commands: Any) -> None:
    """Register the ``demo`` command."""
    demo = commands.add_parser(
        "demo",
        help="run a development issuer and the example app, and print curl commands",
        description="Start a development issuer (keys, JWKS and discovery on loopback) and "
        "examples/app.py behind JWTGateMiddleware; print ready-to-paste curl commands. "
        "The issuer signs with the development key of `jwtgate mint` (--key-file), so "
        "tokens minted with `jwtgate mint` verify against the demo. Stop with Ctrl-C.",
    )
    demo.add_argument("--host", default="127.0.0.1", help="interface for both servers")
    demo.add_argument("--port", type=int, default=8000, help="port of the example app")
    demo.add_argument(
        "--issuer-port",
        type=int,
        default=None,
        help=f"port of the issuer (default {DEFAULT_ISSUER_PORT}, the issuer `jwtgate mint` "
        "assumes, or any free port when it is taken; 0: any free port)",
    )
    demo.add_argument("--app", default=None, help="path to the example app (examples/app.py)")
    demo.add_argument(
        "--key-file", default=None, help="development signing key (PEM), created if missing"
    )
    demo.set_defaults(handler=run_demo)


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


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo until Ctrl-C."""
    try:
        import uvicorn
    except ImportError:
        print("jwtgate demo needs uvicorn: pip install 'jwtgate[dev]'", file=sys.stderr)
        return 2
    from ..testing.issuer import Issuer

    example = _find_example(args.app)
    if example is None:
        print(
            "jwtgate demo: examples/app.py not found; run it from the jwtgate repository "
            "root or pass --app PATH",
            file=sys.stderr,
        )
        return 2
    try:
        if args.issuer_port is None:
            # The port `jwtgate mint` assumes, unless taken (the mint line printed below
            # always carries the actual issuer URL).
            try:
                issuer_sock = _bind(args.host, DEFAULT_ISSUER_PORT)
            except OSError:
                issuer_sock = _bind(args.host, 0)
        else:
            issuer_sock = _bind(args.host, args.issuer_port)
        app_sock = _bind(args.host, args.port)
    except OSError as exc:
        print(
            f"jwtgate demo: cannot listen on {args.host}: {exc} (choose other ports with "
            "--port and --issuer-port; --issuer-port 0 picks a free one)",
            file=sys.stderr,
        )
        return 2
    host = f"[{args.host}]" if ":" in args.host else args.host
    try:
        key = load_dev_key(args.key_file, "RS256")
    except (OSError, ValueError) as exc:
        print(f"jwtgate demo: {exc}", file=sys.stderr)
        return 2
    issuer_url = f"http://{host}:{issuer_sock.getsockname()[1]}"
    issuer = Issuer(issuer_url, audience="jwtgate-demo", keys=[key])
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
        "# mint more tokens:",
        f"jwtgate mint --issuer {issuer.issuer} --audience {issuer.audience} --scope items:read",
        "Stop with Ctrl-C.",
        "",
    ]
    print("\n".join(lines), flush=True)
