"""Verification: token parsing, claims, the verifier, the token cache, the authenticator."""
