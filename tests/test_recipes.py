"""docs/recipes.md, checked: each provider's settings against a token shaped like its own.

The settings are the recipe's JWTGATE_* variables (``Settings.from_env``), settings
only, no code; the discovery document and JWKS are served at the provider's real
paths; the tokens carry the provider's claim layout, ``kid`` style and algorithm.
Each recipe's scopes and roles are read, and its pitfalls (claim rules included)
are refused with 401 invalid_token.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from jwtgate import JWTGateMiddleware, Settings
from jwtgate.testing import DevKey, Issuer

from helpers import bearer

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TENANT_2 = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
CLIENT = "6e74172b-be56-4843-9ff4-e66a39bb12e3"


@dataclass
class Provider:
    env: dict[str, str]
    issuer: str  # The iss the provider writes (exactly).
    discovery: str | None  # Where its discovery document lives (None: JWKS URL configured).
    jwks: str
    alg: str
    kid: str
    claims: dict[str, Any]
    scopes: list[str]
    roles: list[str] = field(default_factory=list)
    header: dict[str, Any] = field(default_factory=dict)
    rejected: dict[str, dict[str, Any]] = field(default_factory=dict)

    def transport(self, key: DevKey) -> httpx.MockTransport:
        documents = {self.jwks: {"keys": [key.public_jwk]}}
        if self.discovery:
            documents[self.discovery] = {"issuer": self.issuer, "jwks_uri": self.jwks}

        def handler(request: httpx.Request) -> httpx.Response:
            document = documents.get(str(request.url))
            if document is None:
                return httpx.Response(404)
            return httpx.Response(200, content=json.dumps(document))

        return httpx.MockTransport(handler)


PROVIDERS = {
    "auth0": Provider(
        env={
            "JWTGATE_ISSUER": "https://example-tenant.eu.auth0.com/",
            "JWTGATE_AUDIENCE": "https://api.example.com",
            "JWTGATE_SCOPE_CLAIMS": "scope,permissions",
            "JWTGATE_ROLE_CLAIMS": "https://api.example.com/roles",
        },
        issuer="https://example-tenant.eu.auth0.com/",  # Auth0 keeps the trailing slash.
        discovery="https://example-tenant.eu.auth0.com/.well-known/openid-configuration",
        jwks="https://example-tenant.eu.auth0.com/.well-known/jwks.json",
        alg="RS256",
        kid="NjVBRjY5MDlCMUIwNzU4RTA2QzZFMDQ4QzQ2MDAyQjVDNjk1RTM2Qg",
        claims={
            "sub": "auth0|5f7c8ec7c33c6c004bbafe82",
            "aud": ["https://api.example.com", "https://example-tenant.eu.auth0.com/userinfo"],
            "azp": "kbyuFDidLLm280LIwVFiazOqjO3ty8KH",
            "scope": "openid profile",
            "permissions": ["items:read", "items:write"],
            "https://api.example.com/roles": ["admin"],  # Added by a post-login Action.
        },
        header={"typ": "JWT"},
        scopes=["items:read", "items:write", "openid", "profile"],
        roles=["admin"],
        rejected={"no-trailing-slash": {"iss": "https://example-tenant.eu.auth0.com"}},
    ),
    "okta": Provider(
        env={
            "JWTGATE_ISSUER": "https://dev-123456.okta.com/oauth2/default",
            "JWTGATE_AUDIENCE": "api://default",
            "JWTGATE_ROLE_CLAIMS": "groups",
            "JWTGATE_CLAIM_RULES": '{"cid": ["0oa1go4ul5bMkC2Rt5d7"]}',
        },
        issuer="https://dev-123456.okta.com/oauth2/default",
        discovery="https://dev-123456.okta.com/oauth2/default/.well-known/openid-configuration",
        jwks="https://dev-123456.okta.com/oauth2/default/v1/keys",
        alg="RS256",
        kid="q3nQKpdTcnGLgWdVLHRYIh9YX4rhgKLi2p_Tdx6j6Yw",
        claims={
            "ver": 1,
            "jti": "AT.0mP4JKAZX1iACIT4vbEDF7LpvDVjxypPMf0D7uX39RE",
            "sub": "alice@example.com",
            "aud": "api://default",
            "cid": "0oa1go4ul5bMkC2Rt5d7",
            "uid": "00u1h2a4e9nh0Fh0H5d7",
            "scp": ["items:read", "openid"],
            "groups": ["Everyone", "admin"],  # A "groups" claim added to the auth server.
        },
        header={"typ": None},
        scopes=["items:read", "openid"],
        roles=["Everyone", "admin"],
        rejected={
            "org-server-issuer": {"iss": "https://dev-123456.okta.com"},
            "other-client": {"cid": "0oaOTHERCLIENT"},
        },
    ),
    "entra-v2": Provider(
        env={
            "JWTGATE_ISSUER": f"https://login.microsoftonline.com/{TENANT}/v2.0",
            "JWTGATE_AUDIENCE": f"{CLIENT},api://{CLIENT}",
            "JWTGATE_SCOPE_CLAIMS": "scp",
        },
        issuer=f"https://login.microsoftonline.com/{TENANT}/v2.0",
        discovery=f"https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration",
        jwks=f"https://login.microsoftonline.com/{TENANT}/discovery/v2.0/keys",
        alg="RS256",
        kid="KQ2tAcrE7lBaVVGBmc5FobgdJo4",
        claims={
            "aud": CLIENT,
            "azp": "0f3a4b5c-1111-2222-3333-444455556666",
            "oid": "2c2f1b07-5a45-4bcd-9a28-6a7d1f8a1e9a",
            "tid": TENANT,
            "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
            "scp": "items.read items.write",
            "roles": ["Items.Admin"],  # App roles assigned to the user.
            "ver": "2.0",
        },
        header={"typ": "JWT", "x5t": "KQ2tAcrE7lBaVVGBmc5FobgdJo4"},
        scopes=["items.read", "items.write"],
        roles=["Items.Admin"],
        rejected={
            # A v1 token (issuer sts.windows.net) does not pass a v2 configuration.
            "v1-issuer": {"iss": f"https://sts.windows.net/{TENANT}/", "ver": "1.0"},
        },
    ),
    "entra-v1-app-roles": Provider(
        env={
            "JWTGATE_ISSUER": f"https://sts.windows.net/{TENANT}/",
            "JWTGATE_AUDIENCE": f"api://{CLIENT}",
            "JWTGATE_JWKS_URL": f"https://login.microsoftonline.com/{TENANT}/discovery/keys",
            "JWTGATE_SCOPE_CLAIMS": "scp",
        },
        issuer=f"https://sts.windows.net/{TENANT}/",
        discovery=None,
        jwks=f"https://login.microsoftonline.com/{TENANT}/discovery/keys",
        alg="RS256",
        kid="KQ2tAcrE7lBaVVGBmc5FobgdJo4",
        claims={
            "aud": f"api://{CLIENT}",
            "appid": "0f3a4b5c-1111-2222-3333-444455556666",
            "roles": ["Items.Read.All"],  # Application permission, client credentials.
            "sub": "2c2f1b07-5a45-4bcd-9a28-6a7d1f8a1e9a",
            "tid": TENANT,
            "ver": "1.0",
        },
        header={"typ": "JWT"},
        scopes=[],  # Client credentials: no delegated scopes, application roles instead.
        roles=["Items.Read.All"],
        rejected={"v2-issuer": {"iss": f"https://login.microsoftonline.com/{TENANT}/v2.0"}},
    ),
    "entra-multi-tenant": Provider(
        env={
            "JWTGATE_ISSUER": "https://login.microsoftonline.com/{tenantid}/v2.0",
            "JWTGATE_JWKS_URL": "https://login.microsoftonline.com/common/discovery/v2.0/keys",
            "JWTGATE_AUDIENCE": CLIENT,
            "JWTGATE_SCOPE_CLAIMS": "scp",
            "JWTGATE_CLAIM_RULES": f'{{"tid": ["{TENANT}", "{TENANT_2}"]}}',
        },
        issuer=f"https://login.microsoftonline.com/{TENANT_2}/v2.0",
        discovery=None,
        jwks="https://login.microsoftonline.com/common/discovery/v2.0/keys",
        alg="RS256",
        kid="KQ2tAcrE7lBaVVGBmc5FobgdJo4",
        claims={
            "aud": CLIENT,
            "tid": TENANT_2,
            "oid": "2c2f1b07-5a45-4bcd-9a28-6a7d1f8a1e9a",
            "sub": "BBBBBBBBBBBBBBBBBBBBBIkzqFVrSaSaFHy782bbtaQ",
            "scp": "items.read",
            "roles": ["Items.Admin"],
            "ver": "2.0",
        },
        header={"typ": "JWT"},
        scopes=["items.read"],
        roles=["Items.Admin"],
        rejected={
            "tenant-not-listed": {
                "iss": "https://login.microsoftonline.com/0b1c2d3e-0000-4000-8000-000000000003/v2.0",
                "tid": "0b1c2d3e-0000-4000-8000-000000000003",
            },
            "iss-of-another-tenant": {"tid": TENANT},
        },
    ),
    "keycloak": Provider(
        env={
            "JWTGATE_ISSUER": "https://keycloak.example.com/realms/acme",
            "JWTGATE_AUDIENCE": "items-api",
            "JWTGATE_ROLE_CLAIMS": "/realm_access/roles,/resource_access/items-api/roles",
            "JWTGATE_CLAIM_RULES": '{"azp": ["web-frontend", "reports-job"]}',
        },
        issuer="https://keycloak.example.com/realms/acme",
        discovery="https://keycloak.example.com/realms/acme/.well-known/openid-configuration",
        jwks="https://keycloak.example.com/realms/acme/protocol/openid-connect/certs",
        alg="RS256",
        kid="x5PZtb3Ki9Q1dX0Fh8u1r5iJ0YcV-9VFXjv2bfmeE9c",
        claims={
            "aud": ["items-api", "account"],  # "items-api" comes from an audience mapper.
            "azp": "web-frontend",
            "typ": "Bearer",
            "scope": "openid email items:read",
            "realm_access": {"roles": ["offline_access", "admin"]},
            "resource_access": {
                "items-api": {"roles": ["items-editor"]},
                "account": {"roles": ["manage-account"]},  # Another client's: not read.
            },
            "preferred_username": "alice",
            "sub": "f1a2b3c4-d5e6-4789-a0b1-c2d3e4f5a6b7",
        },
        header={"typ": "JWT"},
        scopes=["email", "items:read", "openid"],
        roles=["admin", "items-editor", "offline_access"],
        rejected={
            "default-audience-only": {"aud": "account"},
            "other-client": {"azp": "admin-console"},
        },
    ),
    "cognito": Provider(
        env={
            "JWTGATE_ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI",
            "JWTGATE_VERIFY_AUDIENCE": "false",  # Access tokens carry client_id, not aud.
            "JWTGATE_CLAIM_RULES": '{"token_use": "access", "client_id": ["1example23456789"]}',
            "JWTGATE_ROLE_CLAIMS": "cognito:groups",
        },
        issuer="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI",
        discovery="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI/.well-known/openid-configuration",
        jwks="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEfGhI/.well-known/jwks.json",
        alg="RS256",
        kid="Zk8ET3vXdwtsbbSm1ODo+Ew3MhTZKpWBbdHRQ4w1lcY=",
        claims={
            "aud": None,
            "sub": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
            "client_id": "1example23456789",
            "token_use": "access",
            "scope": "items-api/items:read",
            "cognito:groups": ["admins"],
            "username": "alice",
        },
        header={"typ": None},  # Cognito writes no typ.
        scopes=["items-api/items:read"],
        roles=["admins"],
        rejected={
            "no-client-id": {"client_id": None},
            "id-token": {"token_use": "id", "aud": "1example23456789"},
            "other-app-client": {"client_id": "9other87654321"},
        },
    ),
    "zitadel": Provider(
        env={
            "JWTGATE_ISSUER": "https://acme-abc123.zitadel.cloud",
            "JWTGATE_AUDIENCE": "245678901234567890",
            "JWTGATE_ROLE_CLAIMS": "urn:zitadel:iam:org:project:roles",
        },
        issuer="https://acme-abc123.zitadel.cloud",
        discovery="https://acme-abc123.zitadel.cloud/.well-known/openid-configuration",
        jwks="https://acme-abc123.zitadel.cloud/oauth/v2/keys",
        alg="RS256",
        kid="245678901234567891",
        claims={
            "aud": ["245678901234567890", "245678901234567892@acme"],
            "client_id": "245678901234567892@acme",
            "sub": "245678901234567893",
            "scope": "openid items:read",
            # Project roles are an object (role -> {org id: org domain}): its keys count.
            "urn:zitadel:iam:org:project:roles": {
                "editor": {"2456": "acme.zitadel.cloud"},
                "viewer": {"2456": "acme.zitadel.cloud"},
            },
        },
        header={"typ": None},
        scopes=["items:read", "openid"],
        roles=["editor", "viewer"],
        rejected={"other-project": {"aud": ["999999999999999999"]}},
    ),
    "google": Provider(
        env={
            "JWTGATE_ISSUER": "https://accounts.google.com",
            "JWTGATE_AUDIENCE": "https://items-api-abc123-ew.a.run.app",
            "JWTGATE_JWKS_URL": "https://www.googleapis.com/oauth2/v3/certs",
            "JWTGATE_CLAIM_RULES": (
                '{"email": ["scheduler@my-project.iam.gserviceaccount.com"], "email_verified": true}'
            ),
        },
        issuer="https://accounts.google.com",
        discovery=None,
        jwks="https://www.googleapis.com/oauth2/v3/certs",
        alg="RS256",
        kid="f5f4bf46e52b31d9b6249f7309ad0338400680cd",
        claims={
            "aud": "https://items-api-abc123-ew.a.run.app",
            "azp": "112233445566778899000",
            "email": "scheduler@my-project.iam.gserviceaccount.com",
            "email_verified": True,
            "sub": "112233445566778899000",
            "scope": None,
        },
        header={"typ": "JWT"},
        scopes=[],  # Google ID tokens carry no scopes: authorize on email/sub.
        rejected={
            "bare-issuer": {"iss": "accounts.google.com"},
            "other-account": {"email": "intruder@evil.iam.gserviceaccount.com"},
            "unverified-email": {"email_verified": False},
        },
    ),
}


async def whoami(request: Request) -> JSONResponse:
    user = request.user
    return JSONResponse(
        {
            "authenticated": user.is_authenticated,
            "sub": getattr(user, "subject", None),
            "scopes": sorted(request.auth.scopes),
            "roles": sorted(getattr(user, "roles", ())),
        }
    )


def client_for(provider: Provider, key: DevKey) -> httpx.AsyncClient:
    settings = Settings.from_env(provider.env)
    app = JWTGateMiddleware(
        Starlette(routes=[Route("/whoami", whoami)]), settings, transport=provider.transport(key)
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://testserver")


def token(provider: Provider, key: DevKey, **changes: Any) -> str:
    issuer = Issuer(provider.issuer, audience="unused", keys=[key])
    claims = {**provider.claims, **changes}  # iss: the issuer's, trailing "/" kept.
    return issuer.mint(sub=None, claims=claims, headers=provider.header)


@pytest.fixture(scope="module")
def provider_keys() -> dict[str, DevKey]:
    return {name: DevKey.generate(p.alg, kid=p.kid) for name, p in PROVIDERS.items()}


@pytest.mark.anyio
@pytest.mark.parametrize("name", list(PROVIDERS))
async def test_recipe_accepts_the_providers_token(
    name: str, provider_keys: dict[str, DevKey]
) -> None:
    provider, key = PROVIDERS[name], provider_keys[name]
    async with client_for(provider, key) as client:
        response = await client.get("/whoami", headers=bearer(token(provider, key)))
    assert response.status_code == 200, response.text
    assert response.json()["authenticated"] is True
    assert response.json()["sub"] == provider.claims.get("sub")
    assert response.json()["scopes"] == provider.scopes
    assert response.json()["roles"] == provider.roles


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "case"),
    [(name, case) for name, p in PROVIDERS.items() for case in p.rejected],
)
async def test_recipe_rejects_the_providers_pitfall(
    name: str, case: str, provider_keys: dict[str, DevKey]
) -> None:
    provider, key = PROVIDERS[name], provider_keys[name]
    async with client_for(provider, key) as client:
        response = await client.get(
            "/whoami", headers=bearer(token(provider, key, **provider.rejected[case]))
        )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


DOC_SECTIONS = {
    "auth0": "## Auth0",
    "okta": "## Okta",
    "entra-v2": "## Microsoft Entra ID",
    "entra-v1-app-roles": "## Microsoft Entra ID",
    "entra-multi-tenant": "## Microsoft Entra ID",
    "keycloak": "## Keycloak",
    "cognito": "## Amazon Cognito",
    "zitadel": "## Zitadel",
    "google": "## Google",
}


@pytest.mark.parametrize("name", list(PROVIDERS))
def test_recipe_in_the_docs_sets_the_tested_variables(name: str) -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "recipes.md").read_text()
    section = text.split(DOC_SECTIONS[name], 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^(JWTGATE_[A-Z_]+)=", section, flags=re.MULTILINE))
    assert set(PROVIDERS[name].env) <= documented
    assert "in your code" not in section
