"""``python -m orderbridge_cli config ...``: the same as the ``orderbridge`` command."""

from orderbridge_cli.main import main

raise SystemExit(main())
