"""The development issuer's login page: pick the user, scopes and roles, then sign in.

No password is asked: the page exists so that a browser (Swagger UI, a single-page
app) can run the authorization code flow against the development issuer. Never
expose it beyond loopback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape

__all__ = ["render_error_page", "render_login_page"]

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}"
    "fieldset{margin:1rem 0}label{display:block;margin:.3rem 0}"
    "button{font-size:1.1rem;padding:.4rem 1.2rem}.note{color:#666;font-size:.9rem}"
)


def _page(title: str, body: str) -> bytes:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    ).encode()


def render_login_page(
    issuer: str,
    params: Mapping[str, str],
    requested: Iterable[str],
    offered: Iterable[str],
    users: Iterable[str],
) -> bytes:
    """The sign-in form; the authorization request's *params* travel in hidden fields."""
    requested = list(dict.fromkeys(requested))
    scopes = list(dict.fromkeys([*requested, *offered]))
    hidden = "".join(
        f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in params.items()
    )
    options = "".join(f'<option value="{escape(u)}">{escape(u)}</option>' for u in users)
    boxes = "".join(
        f'<label><input type="checkbox" name="grant_scope" value="{escape(s)}"'
        f"{' checked' if s in requested else ''}> {escape(s)}</label>"
        for s in scopes
        if s != "openid"
    )
    body = (
        f"<h1>Development sign-in</h1><p class=note>Issuer {escape(issuer)}: a local "
        "development issuer. Any user may sign in, no password; never use it for "
        f"real accounts.</p><p>Client <code>{escape(params.get('client_id', ''))}</code> "
        f"asks for a token.</p><form method=post>{hidden}"
        '<label>User (<code>sub</code>) <input name="sub" list="users" value="alice" '
        f'required></label><datalist id="users">{options}</datalist>'
        f"<fieldset><legend>Scopes</legend>{boxes or '<i>none requested</i>'}</fieldset>"
        '<label>Roles, comma-separated <input name="roles" placeholder="admin"></label>'
        '<label><input type="checkbox" name="mfa" value="1"> signed in with MFA '
        "(<code>acr=mfa</code>, <code>auth_time</code> now)</label>"
        '<p><button type="submit" id="sign-in">Sign in</button></p></form>'
    )
    return _page("Development sign-in", body)


def render_error_page(problem: str) -> bytes:
    """An error the browser shows instead of redirecting (bad client or redirect URI)."""
    return _page(
        "Sign-in error",
        f"<h1>Cannot sign in</h1><p>{escape(problem)}</p>",
    )
