"""``python -m idlespec``: the command-line interface."""

from idlespec.conformance.cli import main

raise SystemExit(main())
