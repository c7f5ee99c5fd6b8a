"""The DPoP parts of ``jwtgate mint`` and ``jwtgate inspect`` (RFC 9449)."""

from __future__ import annotations

import argparse
from typing import Any

from .._verify.dpop import jwk_thumbprint

__all__ = ["add_dpop_arguments", "describe_binding", "mint_output"]


def add_dpop_arguments(mint: Any) -> None:
    """``--dpop``, ``--dpop-key-file``, ``--htu`` and ``--htm`` for ``jwtgate mint``."""
    mint.add_argument(
        "--dpop",
        action="store_true",
        help="bind the token to the development DPoP key (cnf.jkt, RFC 9449)",
    )
    mint.add_argument(
        "--dpop-key-file",
        default=None,
        help="with --dpop: the client's PEM ES256 key, created if missing "
        "(default $XDG_CACHE_HOME/jwtgate/dev-key-dpop-es256.pem)",
    )
    mint.add_argument(
        "--htu", default=None, help="with --dpop: print curl -H arguments with a proof for this URL"
    )
    mint.add_argument("--htm", default="GET", help="with --htu: the HTTP method (default GET)")


def mint_output(token: str, dpop_key: Any, args: argparse.Namespace) -> str:
    """The token, or with ``--dpop --htu`` the two headers of a DPoP request, for curl."""
    if dpop_key is None or args.htu is None:
        return token
    from ..testing.dpop import dpop_proof

    proof = dpop_proof(dpop_key, args.htm, args.htu, access_token=token)
    return f"-H 'Authorization: DPoP {token}' -H 'DPoP: {proof}'"


def describe_binding(header: Any, claims: Any) -> list[str]:
    """Lines for ``jwtgate inspect``: what a ``cnf`` claim or a DPoP proof means here."""
    lines: list[str] = []
    if isinstance(header, dict) and str(header.get("typ", "")).lower() == "dpop+jwt":
        jwk = header.get("jwk")
        try:
            thumbprint = jwk_thumbprint(jwk) if isinstance(jwk, dict) else "(no jwk)"
        except ValueError:
            thumbprint = "(unusable jwk)"
        htm, htu = (claims.get(n) if isinstance(claims, dict) else None for n in ("htm", "htu"))
        lines.append(f"DPoP proof (RFC 9449), not an access token: {htm} {htu}, jkt={thumbprint}")
    cnf = claims.get("cnf") if isinstance(claims, dict) else None
    if cnf is not None:
        jkt = cnf.get("jkt") if isinstance(cnf, dict) else None
        if isinstance(jkt, str):
            lines.append(f"cnf: bound to the DPoP key jkt={jkt}: send it as "
                         "`Authorization: DPoP <token>` with a proof, never as Bearer")  # fmt: skip
        else:
            lines.append(f"cnf: bound to {cnf!r} (e.g. an RFC 8705 certificate), which jwtgate "
                         "does not check: refused as Bearer and as DPoP")  # fmt: skip
    return lines
