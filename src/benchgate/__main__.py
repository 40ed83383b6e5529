"""``python -m benchgate``: see :mod:`benchgate.reporting.cli`."""

from benchgate.reporting.cli import main

raise SystemExit(main())
