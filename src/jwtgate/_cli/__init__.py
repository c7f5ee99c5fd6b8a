"""The ``jwtgate`` command line (entry point ``jwtgate._cli.main:main``)."""
