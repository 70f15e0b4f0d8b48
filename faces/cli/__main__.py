"""`python -m faces.cli ...`: the same as `souffleur ...`."""

import sys

from faces.cli import main

sys.exit(main())
