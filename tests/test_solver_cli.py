"""``sigadmm train``: runs, prints a summary, writes the trace and the PNG."""

import numpy as np
from click.testing import CliRunner

from sigadmm.cli import main
from solver import Trace


def test_train_command_writes_trace_and_png(tmp_path):
    out = tmp_path / "run.npz"
    r = CliRunner().invoke(main, ["train", "--task", "product", "--hidden", "12", "8", "--iters", "5",
                                  "--n", "200", "--beta", "1", "2", "1", "--out", str(out), "--quiet"])
    assert r.exit_code == 0, r.output
    assert "train MSE" in r.output and "KKT residual" in r.output
    tr = Trace.load(out)
    assert len(tr) == 5 and tr.meta["widths"] == [2, 12, 8, 1] and tr.meta["beta"] == [1.0, 2.0, 1.0]
    assert np.all(np.isfinite(tr.kkt_total))
    assert (tmp_path / "run.png").stat().st_size > 10_000


def test_train_command_rejects_bad_values(tmp_path):
    r = CliRunner().invoke(main, ["train", "--hidden", "0", "--out", str(tmp_path / "x.npz")])
    assert r.exit_code != 0 and "hidden" in r.output
    r = CliRunner().invoke(main, ["train", "--hidden", "4", "--beta", "1", "1", "1",
                                  "--iters", "2", "--out", str(tmp_path / "x.npz"), "--quiet"])
    assert r.exit_code != 0 and "beta" in r.output
