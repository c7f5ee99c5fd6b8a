"""OpenAPI for requirements: security alternatives, a description, the 401/403 answers.

Framework-free (it edits an OpenAPI operation object, a dict); ``jwtgate.fastapi``
calls it for each route. Any-of scopes become security requirement *alternatives*
(OpenAPI 3: the operation's ``security`` list is OR, each object's scopes AND);
roles and step-up, which OpenAPI cannot express, go into the description.
"""

from __future__ import annotations

from typing import Any

from .authorization import Requirement

__all__ = ["describe_operation"]

_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "error_description": {"type": "string"},
        "scope": {"type": "string"},
    },
    "required": ["error"],
}


def _response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {
            "WWW-Authenticate": {
                "description": "The RFC 6750 challenge (RFC 9470 for step-up).",
                "schema": {"type": "string"},
            }
        },
        "content": {"application/json": {"schema": _ERROR_SCHEMA}},
    }


def _notes(requirement: Requirement) -> list[str]:
    notes = []
    if requirement.roles:
        notes.append("every role of " + ", ".join(f"`{r}`" for r in requirement.roles))
    notes += ["one role of " + ", ".join(f"`{r}`" for r in g) for g in requirement.any_roles]
    if requirement.acr_values:
        notes.append(
            "step-up (RFC 9470): `acr` one of "
            + ", ".join(f"`{a}`" for a in requirement.acr_values)
        )
    if requirement.max_age is not None:
        notes.append(f"step-up (RFC 9470): authenticated at most {requirement.max_age} s ago")
    if requirement.checks:
        notes.append("a custom check on the token's claims")
    return notes


def describe_operation(
    operation: dict[str, Any], requirement: Requirement, scheme_name: str | None
) -> None:
    """Document *requirement* on *operation* (in place) under the security scheme *scheme_name*."""
    if scheme_name is not None:
        given: list[dict[str, list[str]]] = operation.get("security") or [{scheme_name: []}]
        base = [s for req in given for s in req.get(scheme_name, [])]
        alternatives = []
        for scopes in requirement.scope_alternatives():
            joined = list(dict.fromkeys([*base, *scopes]))
            if {scheme_name: joined} not in alternatives:
                alternatives.append({scheme_name: joined})
        # Other schemes (with_bearer's pasted token) stay alternatives too.
        operation["security"] = alternatives + [r for r in given if scheme_name not in r]
    notes = _notes(requirement)
    if notes:
        text = "**Requires** " + "; ".join(notes) + "."
        operation["description"] = (
            f"{operation['description']}\n\n{text}" if operation.get("description") else text
        )
    responses = operation.setdefault("responses", {})
    responses.setdefault(
        "401",
        _response(
            "No valid bearer token"
            + (", or the user must authenticate again (step-up)" if requirement.step_up else "")
        ),
    )
    if (
        requirement.scopes
        or requirement.any_scopes
        or requirement.roles
        or requirement.any_roles
        or requirement.checks
    ):
        responses.setdefault("403", _response("The token lacks a required scope or role"))
