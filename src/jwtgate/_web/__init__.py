"""Web edges: RFC 6750 answers, the ASGI and WSGI middleware, the Starlette user, health."""
