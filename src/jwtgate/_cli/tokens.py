"""``jwtgate mint``, ``inspect`` and ``verify``: tokens on the command line."""

from __future__ import annotations

import argparse
import binascii
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .._exceptions import (
    AuthError,
    ConfigurationError,
    InsufficientScope,
    KeySetUnavailable,
)
from ..testing.issuer import DEV_ALGORITHMS
from .dpop import add_dpop_arguments, describe_binding, mint_output
from .explain import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    TIME_CLAIMS,
    b64json,
    explain,
    explain_unavailable,
    unknown_key_detail,
    when,
)
from .opaque import IntrospectionUnavailable, introspection_failure, verified_lines

__all__ = ["DEFAULT_ISSUER_PORT", "add_token_commands", "load_dev_key", "read_token"]

#: The demo issuer's default port, and so the issuer ``jwtgate mint`` assumes.
DEFAULT_ISSUER_PORT = 8001
# The settings `verify` accepts as flags; the rest comes from JWTGATE_*.
_VERIFY_FLAGS = {
    "issuer": "issuer", "audience": "audience", "jwks_url": "jwks_url",
    "algorithms": "algorithms", "leeway": "leeway", "scope_claims": "scope_claims",
}  # fmt: skip


def default_key_file(alg: str) -> Path:
    """Where the development key for *alg* lives: ``$XDG_CACHE_HOME/jwtgate/dev-key-<alg>.pem``."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "jwtgate" / f"dev-key-{alg.lower()}.pem"


def load_dev_key(path: str | None, alg: str) -> Any:
    """The development key at *path* (default: per algorithm), created (mode 0600) if missing."""
    from ..testing.issuer import DevKey

    file = Path(path) if path else default_key_file(alg)
    if file.exists():
        return DevKey.from_pem(file.read_bytes(), alg)
    key = DevKey.generate(alg)
    file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.to_pem())
    return DevKey.from_pem(key.to_pem(), alg)  # The kid becomes the key's thumbprint.


def read_token(value: str) -> str:
    """The token from an argument, or from stdin for ``-``; a leading ``Bearer`` is dropped."""
    text = sys.stdin.read() if value == "-" else value
    text = text.strip()
    if text[:7].lower() == "bearer ":
        text = text[7:].strip()
    return text


def add_token_commands(commands: Any) -> None:
    """Register ``mint``, ``inspect`` and ``verify``."""
    mint = commands.add_parser(
        "mint",
        help="print a development token signed with the local development key",
        description="Sign an access token with the development key (the one `jwtgate demo` "
        "publishes). Never for production: the key sits unencrypted in a local file.",
    )
    mint.add_argument(
        "--issuer",
        default=f"http://127.0.0.1:{DEFAULT_ISSUER_PORT}",
        help="iss (default: the demo's issuer)",
    )
    mint.add_argument("--audience", default="jwtgate-demo", help="aud (default: jwtgate-demo)")
    mint.add_argument("--sub", default="dev-user", help="sub (default: dev-user)")
    mint.add_argument(
        "--scope", action="append", default=[], help="a scope to grant (repeat, or space-separated)"
    )
    mint.add_argument(
        "--expires-in",
        type=int,
        default=3600,
        help="seconds until exp; negative for an expired token (default 3600)",
    )
    mint.add_argument(
        "--claim",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra claim; VALUE is JSON when it parses, else a string",
    )
    mint.add_argument("--alg", default="RS256", choices=DEV_ALGORITHMS, metavar="ALG",
                      help="signing algorithm, one the development issuer can publish: "
                           f"{', '.join(DEV_ALGORITHMS)} (default RS256)")  # fmt: skip
    mint.add_argument("--kid", default=None, help="kid header (default: the key's thumbprint)")
    mint.add_argument("--key-file", default=None,
                      help="PEM private key, created if missing (default "
                           "$XDG_CACHE_HOME/jwtgate/dev-key-<alg>.pem)")  # fmt: skip
    add_dpop_arguments(mint)
    mint.set_defaults(handler=run_mint)

    inspect = commands.add_parser(
        "inspect",
        help="decode a token's header and claims WITHOUT verifying them",
        description="Decode a JWT and show its header and claims, times as ISO dates. Nothing "
        "is verified: anyone can write any claim into an unsigned or forged token.",
    )
    inspect.add_argument("token", help="the token, or - to read it from stdin")
    inspect.add_argument("--json", action="store_true", help="print one JSON object")
    inspect.set_defaults(handler=run_inspect)

    verify = commands.add_parser(
        "verify",
        help="verify a token against JWTGATE_* settings or flags",
        description="Verify a token exactly as the middleware would (signature against the "
        "issuer's JWKS, then the claims), with settings from JWTGATE_* variables, "
        "overridden by flags. On failure, says which check failed and why.",
    )
    verify.add_argument("token", help="the token, or - to read it from stdin")
    verify.add_argument("--issuer", help="expected iss (JWTGATE_ISSUER)")
    verify.add_argument("--audience", help="accepted audiences, comma-separated (JWTGATE_AUDIENCE)")
    verify.add_argument(
        "--no-verify-audience",
        action="store_true",
        help="do not check aud (JWTGATE_VERIFY_AUDIENCE=false)",
    )
    verify.add_argument("--jwks-url", help="JWKS URL (JWTGATE_JWKS_URL; default: discovered)")
    verify.add_argument("--algorithms", help="allowed algorithms (JWTGATE_ALGORITHMS)")
    verify.add_argument("--leeway", type=float, help="clock skew, seconds (JWTGATE_LEEWAY)")
    verify.add_argument("--scope-claims", help="scope claim names (JWTGATE_SCOPE_CLAIMS)")
    verify.add_argument(
        "--require-scope",
        action="append",
        default=[],
        metavar="SCOPE",
        help="also require this scope (repeat)",
    )
    verify.set_defaults(handler=run_verify)


def run_mint(args: argparse.Namespace) -> int:
    """Print one development token."""
    from ..testing.issuer import Issuer

    claims: dict[str, Any] = {}
    for item in args.claim:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            print(f"jwtgate mint: --claim needs NAME=VALUE, got {item!r}", file=sys.stderr)
            return EXIT_USAGE
        try:
            claims[name] = json.loads(raw)
        except ValueError:
            claims[name] = raw
    try:
        key = load_dev_key(args.key_file, args.alg)
        dpop_file = args.dpop_key_file or str(default_key_file("dpop-es256"))
        dpop_key = load_dev_key(dpop_file, "ES256") if args.dpop else None
    except (OSError, ValueError) as exc:
        print(f"jwtgate mint: {exc}", file=sys.stderr)
        return EXIT_USAGE
    issuer = Issuer(args.issuer, audience=args.audience, keys=[key])
    scopes = [s for item in args.scope for s in item.split()]
    token = issuer.mint(sub=args.sub, scopes=scopes, expires_in=args.expires_in,
                        claims=claims, kid=args.kid, dpop_key=dpop_key)  # fmt: skip
    print(mint_output(token, dpop_key, args))
    return EXIT_OK


def run_inspect(args: argparse.Namespace) -> int:
    """Show what a token says, trusting none of it."""
    from .._verify.token import parse_token

    token = read_token(args.token)
    parts = token.split(".")
    if len(parts) != 3:
        hint = (" (no dots: an opaque token, which only the issuer can read; see its "
                "introspection endpoint)" if len(parts) == 1 else "")  # fmt: skip
        print(f"jwtgate inspect: cannot decode the token: a JWS has 3 dot-separated parts, "
              f"this has {len(parts)}{hint}", file=sys.stderr)  # fmt: skip
        return EXIT_FAILED
    decoded = []
    for index, name in ((0, "header"), (1, "payload")):
        try:
            decoded.append(b64json(parts[index]))
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            print(f"jwtgate inspect: cannot decode the token's {name} (segment {index + 1} of "
                  f"3): {exc}", file=sys.stderr)  # fmt: skip
            return EXIT_FAILED
    header, claims = decoded
    try:
        parse_token(token)
        problem = None
    except AuthError as exc:
        problem = f"{exc.description} (reason={exc.reason})"
    now = time.time()
    times = {
        n: when(claims[n], now) for n in TIME_CLAIMS if isinstance(claims, dict) and n in claims
    }
    if args.json:
        print(json.dumps({"verified": False, "header": header, "claims": claims,
                          "times": times, "problem": problem}, indent=2))  # fmt: skip
        return EXIT_OK
    lines = [
        "UNVERIFIED: the signature and claims below have NOT been checked (use `jwtgate verify`).",
        "header: " + json.dumps(header, indent=2),
        "claims: " + json.dumps(claims, indent=2),
    ]
    lines += [f"{name}: {when}" for name, when in times.items()] + describe_binding(header, claims)
    if problem:
        lines.append(f"jwtgate would reject it before any key lookup: {problem}")
    print("\n".join(lines))
    return EXIT_OK


def run_verify(args: argparse.Namespace) -> int:
    """Verify like the middleware; exit 1 naming the failed check."""
    from .._config.settings import Settings
    from .._verify.authenticator import Authenticator

    token = read_token(args.token)
    overrides: dict[str, Any] = {
        field: getattr(args, flag) for flag, field in _VERIFY_FLAGS.items()
        if getattr(args, flag) is not None
    }  # fmt: skip
    if args.no_verify_audience:
        overrides.update(verify_audience=False, audience=None)
    try:
        settings = Settings.from_env(**overrides)
    except ConfigurationError as exc:
        print(f"jwtgate verify: invalid settings: {exc}", file=sys.stderr)
        return EXIT_USAGE
    authenticator = Authenticator(settings)
    claims: dict[str, Any] = {}
    with contextlib.suppress(ValueError, binascii.Error, UnicodeDecodeError):
        # Only to explain a failure; parse_token reports undecodable tokens itself.
        claims = b64json(token.split(".")[1]) if token.count(".") == 2 else {}
    try:
        verified = authenticator.authenticate_sync(token)
        missing = tuple(s for s in args.require_scope if s not in verified.scopes)
        if missing:
            raise InsufficientScope(missing)
    except IntrospectionUnavailable as exc:
        return introspection_failure(authenticator, exc, EXIT_UNAVAILABLE)
    except KeySetUnavailable as exc:
        return explain_unavailable(authenticator, exc)
    except AuthError as exc:
        text = explain(exc, claims if isinstance(claims, dict) else {}, settings)
        if exc.reason == "unknown_key":
            text += "\n  " + unknown_key_detail(token, authenticator.state())
        print(text, file=sys.stderr)
        return EXIT_FAILED
    finally:
        authenticator.close()
    print(verified_lines(authenticator, verified, when(verified.claims.get("exp"), time.time())))
    return EXIT_OK
