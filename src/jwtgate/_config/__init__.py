"""Configuration: settings, environment parsing, issuer rules and URL policy."""
