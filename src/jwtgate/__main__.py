"""``python -m jwtgate``: the ``jwtgate`` command, when its script is not on PATH."""

from ._cli.main import main

raise SystemExit(main())
