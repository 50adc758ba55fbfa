"""``python -m orderbridge_local run|demo|invoke|fire`` (see :mod:`orderbridge_local.cli`)."""

import sys

from orderbridge_local.cli import main

sys.exit(main())
