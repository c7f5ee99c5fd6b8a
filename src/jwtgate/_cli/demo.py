"""``jwtgate demo``: a development issuer and an app behind jwtgate, on loopback.

The default app is the example app (``examples/app.py``), which the wheel ships as
``jwtgate._demo_app``; ``--app module:attribute`` serves the user's own app instead.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import socket
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from .._config.urls import is_loopback_host
from .demo_text import instructions
from .swagger import prepare_swagger
from .tokens import DEFAULT_ISSUER_PORT, load_dev_key

__all__ = ["add_demo", "announce", "bind_sockets", "load_app", "metadata_url", "run_demo"]

_METADATA = "/.well-known/oauth-protected-resource"


def add_demo(commands: Any) -> None:
    """Register the ``demo`` command."""
    demo = commands.add_parser(
        "demo",
        help="run a development issuer and an app behind jwtgate, and print curl commands",
        description="Start a development issuer (keys, JWKS, discovery, a token endpoint "
        "and a login page, on loopback) and an app behind JWTGateMiddleware (the example "
        "app, or yours with --app module:app); print ready-to-paste curl commands. The "
        "issuer signs with the development key of `jwtgate mint` (--key-file), so tokens "
        "minted with `jwtgate mint` verify against the demo. Needs uvicorn "
        "(pip install 'jwtgate[demo]'). Stop with Ctrl-C.",
    )
    demo.add_argument("--host", default="127.0.0.1", help="loopback interface for both servers")
    demo.add_argument("--port", type=int, default=8000, help="port of the app (default 8000)")
    demo.add_argument(
        "--issuer-port",
        type=int,
        default=None,
        help=f"port of the issuer (default {DEFAULT_ISSUER_PORT}, the issuer `jwtgate mint` "
        "assumes, or any free port when it is taken; 0: any free port)",
    )
    demo.add_argument(
        "--app",
        default=None,
        help="the app to serve: module:attribute (imported from the current folder, "
        "e.g. myapp:app) or a path to a .py file exposing `app` (default: the example app)",
    )
    demo.add_argument(
        "--key-file", default=None, help="development signing key (PEM), created if missing"
    )
    demo.set_defaults(handler=run_demo)


def _load_file(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("jwtgate_demo_app", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_app(spec: str | None) -> tuple[Any, str]:
    """The app named by *spec* (``module:attr``, a file, or None: the example) and a label."""
    if spec is None:
        try:  # The wheel ships examples/app.py as this module.
            return importlib.import_module("jwtgate._demo_app").app, "the example app"
        except ModuleNotFoundError:  # A source checkout: the example itself.
            example = Path(__file__).resolve().parents[3] / "examples" / "app.py"
            return _load_file(example).app, "the example app (examples/app.py)"
    if spec.endswith(".py") or os.sep in spec:
        return _load_file(Path(spec)).app, spec
    module_name, _, attribute = spec.partition(":")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))  # As `uvicorn myapp:app` finds myapp.
    module = importlib.import_module(module_name)
    app = module
    for name in (attribute or "app").split("."):
        app = getattr(app, name)
    return app, spec


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def bind_sockets(args: argparse.Namespace) -> tuple[socket.socket, socket.socket]:
    """The issuer's and the app's listening sockets (both closed if either fails)."""
    if args.issuer_port is None:
        # The port `jwtgate mint` assumes, unless taken (the printed lines always
        # carry the actual issuer URL).
        try:
            issuer_sock = _bind(args.host, DEFAULT_ISSUER_PORT)
        except OSError:
            issuer_sock = _bind(args.host, 0)
    else:
        issuer_sock = _bind(args.host, args.issuer_port)
    try:
        return issuer_sock, _bind(args.host, args.port)
    except OSError:
        issuer_sock.close()
        raise


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo until Ctrl-C."""
    try:
        import uvicorn
    except ImportError:
        print("jwtgate demo needs uvicorn: pip install 'jwtgate[demo]'", file=sys.stderr)
        return 2
    from ..testing.issuer import Issuer

    if not is_loopback_host(args.host):
        print(f"jwtgate demo: --host {args.host} is not a loopback address: the development "
              "issuer lets anyone sign in, so it only listens on 127.0.0.1 or ::1",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        issuer_sock, app_sock = bind_sockets(args)
    except OSError as exc:
        print(f"jwtgate demo: cannot listen on {args.host}: {exc} (choose other ports with "
              "--port and --issuer-port; --issuer-port 0 picks a free one)",
              file=sys.stderr)  # fmt: skip
        return 2
    host = f"[{args.host}]" if ":" in args.host else args.host
    try:
        key = load_dev_key(args.key_file, "RS256")
    except (OSError, ValueError) as exc:
        print(f"jwtgate demo: {exc}", file=sys.stderr)
        issuer_sock.close()
        app_sock.close()
        return 2
    issuer = Issuer(
        f"http://{host}:{issuer_sock.getsockname()[1]}", audience="jwtgate-demo", keys=[key]
    )
    # The app reads JWTGATE_* like any deployment would; the JWKS URL is discovered.
    os.environ.update(JWTGATE_ISSUER=issuer.issuer, JWTGATE_AUDIENCE=issuer.audience)
    os.environ.pop("JWTGATE_JWKS_URL", None)
    try:
        app, label = load_app(args.app)
    except Exception as exc:
        print(f"jwtgate demo: cannot load the app {args.app!r}: {exc}", file=sys.stderr)
        issuer_sock.close()
        app_sock.close()
        return 2
    docs = prepare_swagger(app)
    issuer_server = uvicorn.Server(
        uvicorn.Config(issuer.asgi_app(), lifespan="off", log_level="warning", access_log=False)
    )
    issuer_thread = threading.Thread(
        target=issuer_server.run, kwargs={"sockets": [issuer_sock]}, daemon=True
    )
    issuer_thread.start()
    base = f"http://{host}:{app_sock.getsockname()[1]}"
    wsgi = hasattr(app, "wsgi_app")  # Flask: uvicorn's WSGI adapter.
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="info", interface="wsgi" if wsgi else "auto")
    )
    text = instructions(base, issuer, app, label, args.app is None, docs)
    threading.Thread(target=announce, args=(server, base, text), daemon=True).start()
    try:
        server.run(sockets=[app_sock])
    except KeyboardInterrupt:
        # uvicorn shuts down gracefully on Ctrl-C, then re-raises the signal.
        return 130
    finally:
        issuer_server.should_exit = True
        issuer_thread.join(timeout=5)
    return 0 if server.started else 1


def announce(server: Any, base: str, text: str) -> None:
    """Print the commands once the app listens (so each works when pasted)."""
    deadline = time.monotonic() + 30
    while not server.started and not server.should_exit and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        return
    lines = [text]
    metadata = metadata_url(base)
    if metadata:
        lines.append(f"# RFC 9728 protected resource metadata:\ncurl -i {metadata}\n")
    lines.append("Stop with Ctrl-C.")
    print("\n".join(lines), flush=True)


def metadata_url(base: str) -> str | None:
    """The app's RFC 9728 metadata URL when it serves one."""
    from urllib.parse import urlsplit

    import httpx

    resource = os.environ.get("JWTGATE_RESOURCE", "")
    suffix = urlsplit(resource).path.rstrip("/") if resource else ""
    for url in dict.fromkeys((base + _METADATA + suffix, base + _METADATA)):
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return url
        except httpx.HTTPError:
            continue
    return None
