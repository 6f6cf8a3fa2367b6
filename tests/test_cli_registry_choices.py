"""The command line offers the methods registered when it runs, not those registered when it
loaded (issue 20, item 3): ``sigadmm train --method`` and ``sigadmm compare --methods`` read
:data:`solver.registry.METHODS` at call time.  The method is tests/lifted_gd/ (one
registration); the run is a fresh process, so nothing registered it before the CLI loaded."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r'''
import json, sys
from click.testing import CliRunner
from sigadmm.cli import main
from sigadmm.cli import compare_cmd, train_cmd  # loaded before the method exists
out = sys.argv[1]
train = ["train", "--method", "lifted_gd", "--task", "square", "--hidden", "3", "--iters", "2", "--n", "20",
         "--out", out + "/gd.npz"]
def compare(ctx=None):
    # compare's --methods callback, as click calls it (a whole comparison is too slow for the suite)
    try:
        return 0, str(compare_cmd._methods(ctx, None, ("admm,lifted_gd",)))
    except Exception as exc:  # click.BadParameter: exit 2 through the CLI
        return 2, str(exc)
class R:
    def __init__(self, pair):
        self.exit_code, self.output = pair
before = [CliRunner().invoke(main, train), R(compare())]
import tests.lifted_gd  # registers the method now
after = [CliRunner().invoke(main, train), R(compare())]
helps = CliRunner().invoke(main, ["train", "--help"]).output
print(json.dumps({"before": [r.exit_code for r in before], "before_out": [r.output for r in before],
                  "after": [r.exit_code for r in after], "after_out": [r.output for r in after],
                  "help_lists_it": "lifted_gd" in helps}))
'''


def test_a_method_registered_after_the_cli_loaded_is_offered(tmp_path):
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True,
                       cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    # not registered yet: refused with the option named, the known methods listed
    assert res["before"] == [2, 2], res["before_out"]
    assert "--method" in res["before_out"][0] and "admm" in res["before_out"][0]
    assert "lifted_gd" in res["before_out"][1] and "admm" in res["before_out"][1]
    # registered: train runs it and writes its file, compare's option takes it
    assert res["after"] == [0, 0], res["after_out"]
    assert res["help_lists_it"]
    assert (tmp_path / "gd.npz").stat().st_size > 0
    assert "lifted_gd" in res["after_out"][1]
