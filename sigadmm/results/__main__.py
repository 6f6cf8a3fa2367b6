"""``python -m sigadmm.results DIR [--stage NAME ...] [--workers N] [--scheduler ADDR]``: write
(or extend) the paper plan (:func:`sigadmm.results.plan.paper_plan`) in DIR and run it; rerun
to resume.  The command line is :mod:`sigadmm.results.cli` (the exit status contract of
``sigadmm``, the checks before any write, the lock on DIR)."""

import sys

from sigadmm.results.cli import main

if __name__ == "__main__":
    sys.exit(main())
