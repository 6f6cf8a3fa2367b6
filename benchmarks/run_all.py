"""Run every benchmark in sequence (``make bench``); each prints its own ratios.

Benchmarks are never part of the test suite: they measure speed on this machine and
print ratios taken in one run (against its own BLAS, or against a baseline).
Pass ``--quick`` for shorter versions.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

RUNS = [
    ("certification (issue 2)", ["bench_certify.py"], []),
    ("ADMM iteration vs dgemm (issue 3)", ["bench_admm.py"], ["--quick", "--no-large"]),
    ("time to the paper's error, ADMM vs Adam (issue 5)", ["bench_time_to_error.py"],
     ["--time-limit", "60"]),
]


def main(argv=None) -> int:
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    rc = 0
    for title, script, quick_args in RUNS:
        print(f"\n=== {title} ===", flush=True)
        cmd = [sys.executable, str(HERE / script[0]), *(quick_args if quick else [])]
        rc |= subprocess.call(cmd)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
