"""The ``jwtgate`` command line: ``demo``, ``mint``, ``inspect``, ``verify``, ``jwks``.

Exit codes: 0 success; 1 the check failed (the token did not verify, the JWKS has
no usable key, the token cannot be decoded); 2 usage or configuration error;
3 a document could not be fetched (issuer or JWKS unreachable).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from ..__version__ import __version__
from .demo import add_demo
from .jwks import add_jwks
from .tokens import add_token_commands

__all__ = ["main"]

_EPILOG = """exit codes:
  0  success
  1  check failed (token rejected, unusable JWKS, undecodable token)
  2  usage or configuration error
  3  issuer or JWKS unreachable"""


class _Formatter(argparse.HelpFormatter):
    """Wraps descriptions as usual but prints the exit-code table as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith("exit codes:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="jwtgate",
        description="jwtgate: bearer JWT verification for ASGI and WSGI apps.",
        epilog=_EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"jwtgate {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what jwtgate does")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_demo(commands)
    add_token_commands(commands)
    add_jwks(commands)
    for command in commands.choices.values():
        command.epilog, command.formatter_class = _EPILOG, _Formatter
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``jwtgate`` command; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors.
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 2
    if args.verbose:
        # jwtgate's own DEBUG lines; other libraries (httpx, httpcore) stay at WARNING.
        logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
        logging.getLogger("jwtgate").setLevel(logging.DEBUG)
    elif not logging.getLogger("jwtgate").handlers:
        # The commands report failures themselves; keep Python's last-resort handler quiet.
        logging.getLogger("jwtgate").addHandler(logging.NullHandler())
    try:
        code: int = args.handler(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # `jwtgate inspect ... | head`: the reader left. Python's advice: point stdout at
        # devnull so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return code


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
