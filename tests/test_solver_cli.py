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


def test_train_multi_value_forms_agree(tmp_path):
    """--hidden 6,4 == --hidden 6 --hidden 4 == --hidden 6 4 (and the same for --beta)."""
    forms = [["--hidden", "6,4", "--beta", "1,2,1"],
             ["--hidden", "6", "--hidden", "4", "--beta", "1", "--beta", "2", "--beta", "1"],
             ["--hidden", "6", "4", "--beta", "1", "2", "1"]]
    metas = []
    for i, form in enumerate(forms):
        out = tmp_path / f"r{i}.npz"
        r = CliRunner().invoke(main, ["train", *form, "--iters", "2", "--n", "30", "--no-track",
                                      "--out", str(out), "--quiet"])
        assert r.exit_code == 0, r.output
        metas.append(Trace.load(out).meta)
    assert all(m["widths"] == [1, 6, 4, 1] and m["beta"] == [1.0, 2.0, 1.0] for m in metas)


def test_cli_task_names_are_the_solver_task_table():
    from sigadmm.cli._common import TASK_NAMES
    from solver.tasks import TASKS

    assert tuple(TASK_NAMES) == tuple(TASKS)


def test_cli_help_does_not_import_the_libraries():
    """``sigadmm --help`` loads every subcommand module: none may import a library at import,
    except the solver's method registry and ADMM defaults (``--method`` choices, ``--lam``) with the
    lazy namespaces of ``solver`` and ``solver.admm`` above them, ``solver._json`` (the sweep spec's
    reader) and ``theory``'s lazy namespace with its verdicts (certify's exit codes): they import
    nothing beyond the standard library."""
    import subprocess
    import sys

    code = ("import sys; from sigadmm.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('solver', 'theory', 'verify', "
            "'numba', 'sklearn', 'numpy') and m not in ('solver', 'solver._lazy', 'solver.registry', 'solver.admm', "
            "'solver.admm.defaults', 'solver._json', 'theory', 'theory.verdicts')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[]"
