"""Keys: JWKs and key sets, the key-source protocol, the key cache, remote fetching, static keys."""
