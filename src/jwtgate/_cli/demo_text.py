"""What ``jwtgate demo`` prints: commands that work as pasted, for the demo app or any app."""

from __future__ import annotations

import shlex
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["app_routes", "instructions", "jwtgate_command", "python_command"]

# The scopes a token gets when the route's needs are unknown (a Starlette app).
_EVERY_SCOPE = ("items:read", "items:write", "reports:read", "admin:all")


def jwtgate_command() -> str:
    """How to run ``jwtgate`` from a shell: the console script's full path when not on PATH."""
    script = Path(sys.executable).parent / "jwtgate"
    if script.is_file():
        on_path = shutil.which("jwtgate")
        if on_path and Path(on_path).resolve() == script.resolve():
            return "jwtgate"
        return shlex.quote(str(script))
    return f"{python_command()} -m jwtgate"


def python_command() -> str:
    """This interpreter, quoted for a shell (a venv's python even when not activated)."""
    return shlex.quote(sys.executable)


def app_routes(app: Any) -> Iterator[tuple[str, str, tuple[str, ...] | None]]:
    """(method, path, scopes needed or None when unknown) for each plain route of *app*."""
    schema = None
    if callable(getattr(app, "openapi", None)):
        try:
            schema = app.openapi()
        except Exception:  # A broken schema only costs the scope hints.
            schema = None
    if isinstance(schema, dict):
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                scopes: set[str] = set()
                for requirement in operation.get("security", []) or []:
                    for names in requirement.values():
                        scopes.update(names)
                yield method.upper(), path, tuple(sorted(scopes))
        return
    for route in getattr(app, "routes", []) or []:
        path = getattr(route, "path", None)
        methods = getattr(route, "methods", None)
        if not isinstance(path, str) or "{" in path or not methods:
            continue
        for method in sorted(set(methods) - {"HEAD"}):
            yield method, path, None


def _curl(base: str, path: str, token: str | None = None, method: str = "GET") -> str:
    parts = ["curl", "-i"]
    if method != "GET":
        parts += ["-X", method]
    if token:
        parts += ["-H", f"Authorization: Bearer {token}"]
    return " ".join(shlex.quote(p) for p in [*parts, base + path])


def _demo_app_lines(base: str, issuer: Any, paths: set[tuple[str, str]]) -> list[str]:
    full = issuer.mint(sub="alice", scopes=["items:read", "items:write"])
    read_only = issuer.mint(sub="bob", scopes=["items:read"])
    expired = issuer.mint(sub="carol", scopes=["items:read"], expires_in=-3600)
    lines = [
        "# 200: a public route, no token needed",
        _curl(base, "/public"),
        "# 401: a protected route without a token",
        _curl(base, "/me"),
        "# 200: who am I (token with items:read and items:write)",
        _curl(base, "/me", full),
        "# 200: a route that needs items:write",
        _curl(base, "/items", full, "POST"),
        "# 403 insufficient_scope: this token has items:read only",
        _curl(base, "/items", read_only, "POST"),
        "# 401 invalid_token: an expired token",
        _curl(base, "/me", expired),
    ]
    if ("GET", "/reports") in paths:
        dana = issuer.mint(sub="dana", scopes=["admin:all"])
        lines += ["# 200: /reports needs reports:read or admin:all", _curl(base, "/reports", dana)]
    if ("GET", "/admin") in paths:
        admin = issuer.mint(sub="erin", claims={"roles": ["admin"]})
        lines += ["# 200: /admin needs the role admin", _curl(base, "/admin", admin)]
    if ("POST", "/transfers") in paths:
        import time

        mfa = issuer.mint(sub="frank", claims={"acr": "mfa", "auth_time": int(time.time())})
        lines += ["# 200: /transfers needs a recent MFA sign-in (acr=mfa, auth_time)",
                  _curl(base, "/transfers", mfa, "POST")]  # fmt: skip
    return lines


def _any_app_lines(base: str, issuer: Any, app: Any) -> list[str]:
    lines = []
    for method, path, scopes in app_routes(app):
        if "{" in path:
            continue
        if scopes is None:
            token = issuer.mint(sub="alice", scopes=_EVERY_SCOPE)
            lines.append(f"# {method} {path} (token with {' '.join(_EVERY_SCOPE)})")
        elif scopes:
            token = issuer.mint(sub="alice", scopes=scopes)
            lines.append(f"# {method} {path} (token with {' '.join(scopes)})")
        else:
            token = issuer.mint(sub="alice")
            lines.append(f"# {method} {path}")
        lines.append(_curl(base, path, token, method))
    return lines or ["# (no routes found: add the token below to your own requests)"]


def instructions(
    base: str, issuer: Any, app: Any, label: str, demo_app: bool, docs: str | None
) -> str:
    """Everything the demo prints once both servers listen."""
    paths = {(m, p) for m, p, _ in app_routes(app)}
    jwtgate = jwtgate_command()
    lines = [
        "",
        "jwtgate demo: two servers in this process (stop both with Ctrl-C)",
        f"  issuer  {issuer.issuer}   development issuer: JWKS, discovery, token "
        "endpoint, login page",
        f"  app     {base}   {label}, behind JWTGateMiddleware "
        f"(JWTGATE_ISSUER={issuer.issuer} JWTGATE_AUDIENCE={issuer.audience})",
    ]
    if docs:
        lines.append(f"  docs    {base}{docs}   Swagger UI: Authorize signs in at the issuer")
    lines.append("")
    lines += _demo_app_lines(base, issuer, paths) if demo_app else _any_app_lines(base, issuer, app)
    lines += [
        "",
        "# a token from the token endpoint (client credentials):",
        f"curl -s -d grant_type=client_credentials -d client_id=my-client "
        f"-d 'scope=items:read' {issuer.url}/oauth/token",
        "# a token from the command line (same key as this issuer):",
        f"{jwtgate} mint --issuer {issuer.issuer} --audience {issuer.audience} --scope items:read",
        "# your own app against this issuer, in another terminal:",
        f"JWTGATE_ISSUER={issuer.issuer} JWTGATE_AUDIENCE={issuer.audience} "
        f"{python_command()} -m uvicorn myapp:app --port 8002",
        "",
    ]
    return "\n".join(lines)
