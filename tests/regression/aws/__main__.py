"""``python -m tests.regression.aws``: print the regression tables (exit 1 on a miss)."""

from __future__ import annotations

import sys

from tests.regression.aws.score import main

sys.exit(main())
