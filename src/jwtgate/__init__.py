"""jwtgate."""
