"""sigadmm.peers and the CLI paths ``train --method`` and ``compare`` (issue 11, "Side by side").

The second method of most tests is the test suite's own gradient-descent method
(tests/lifted_gd/), registered in the solver by one ``register_method`` line and given a
comparison's defaults by one :class:`MethodSpec` entry: that is the claim "adding a method is
one registration" under test, and it keeps these tests independent of
the related methods' modules.  Their own end-to-end runs are skipped where a module is absent.
Every measured number is compared with an independent computation (a direct fit without the
recorder, the estimator's own ``predict``), never with a value copied from the code.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from click.testing import CliRunner

from sigadmm import peers
from sigadmm.cli import EXIT_INTERRUPTED, EXIT_USAGE, main

GD = peers.MethodSpec("lifted_gd", "lifted GD (test method)", "none", "tests/lifted_gd/", "sigmoid",
                      defaults={"lam": 1e-3, "rho": 1.0, "lr": 0.02}, gap=("feas",), gap_label="||F||")
TINY = dict(seeds=(0, 1), max_iter=6, hidden=(4, 3), n=30, n_test=20)
TIME_COLUMNS = ("time_s", "s_per_iter")


@pytest.fixture
def with_gd(monkeypatch):
    import tests.lifted_gd  # noqa: F401  (registers the method in solver.registry)

    monkeypatch.setitem(peers.METHODS, "lifted_gd", GD)
    return GD


@pytest.fixture
def cmp(with_gd):
    return peers.compare(["admm", "lifted_gd"], "square", **TINY)


def _strip_time(table):
    return [{k: v for k, v in r.items() if k not in TIME_COLUMNS} for r in table]


def _same(a, b):
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


# ------------------------------------------------------------------ compare

def test_compare_returns_the_documented_columns_and_histories(cmp):
    assert [tuple(r) for r in cmp.table] == [peers.TABLE_COLUMNS] * 4
    assert [(r["method"], r["seed"]) for r in cmp.table] == [("admm", 0), ("lifted_gd", 0),
                                                           ("admm", 1), ("lifted_gd", 1)]
    for (m, s), h in cmp.histories.items():
        assert set(peers.HISTORY_COLUMNS) <= set(h)
        assert sorted(c for c in h if c.startswith("step_W")) == ["step_W1", "step_W2", "step_W3"]
        assert all(len(v) == TINY["max_iter"] + 1 for v in h.values())      # k = 0..K
        assert np.all(np.diff(h["time"]) >= 0) and h["time"][0] == 0.0
    # the generic Theorem-4 checks ran on ADMM; the test method has no verify module
    admm = [v for v in cmp.verdicts if v["method"] == "admm"]
    assert {v["verdict"] for v in admm} <= {"PASS", "FAIL", "INCONCLUSIVE"} and len(admm) == 10
    assert all(r["checks"] == "(no checks)" for r in cmp.table if r["method"] == "lifted_gd")


def test_same_seeds_give_the_same_table(cmp):
    again = peers.compare(["admm", "lifted_gd"], "square", **TINY)
    a, b = _strip_time(cmp.table), _strip_time(again.table)
    assert all(_same(x[k], y[k]) for x, y in zip(a, b) for k in x)
    for key, h in cmp.histories.items():
        for c, v in h.items():
            if c != "time":
                np.testing.assert_array_equal(v, again.histories[key][c])


def test_different_seeds_draw_different_data(cmp):
    rows = {(r["method"], r["seed"]): r for r in cmp.table}
    assert rows[("admm", 0)]["test_mse"] != rows[("admm", 1)]["test_mse"]


@pytest.mark.parametrize("method", ["admm", "lifted_gd"])
def test_measures_match_a_direct_fit_without_the_recorder(with_gd, method, cmp):
    """The recorder only watches: a plain fit with the same settings gives the table's errors,
    and the recorded relative step of the last iteration is ||W^K - W^{K-1}|| / ||W^{K-1}||."""
    data = peers.load_task("square", 1, n=TINY["n"], n_test=TINY["n_test"])
    K = TINY["max_iter"]
    fits = [peers.make_estimator(method, hidden_layer_sizes=TINY["hidden"], max_iter=k,
                                 random_state=1).fit(data.X, data.y) for k in (K - 1, K)]
    row = next(r for r in cmp.table if r["method"] == method and r["seed"] == 1)
    assert row["test_mse"] == pytest.approx(fits[1].mse(data.X_test, data.y_test), rel=1e-12)
    assert row["train_mse"] == pytest.approx(fits[1].mse(data.X, data.y), rel=1e-12)
    h = cmp.histories[(method, 1)]
    for i, ((w0, b0), (w1, b1)) in enumerate(zip(fits[0].weights_, fits[1].weights_)):
        A, B = np.hstack([w0, b0[:, None]]), np.hstack([w1, b1[:, None]])
        assert h[f"step_W{i + 1}"][K] == pytest.approx(np.linalg.norm(B - A) / np.linalg.norm(A), rel=1e-9)
    # the k = 0 row is the initial point, the same for a fit of zero iterations' weights
    assert h["test_mse"][K] == pytest.approx(row["test_mse"], rel=1e-12)


def test_classification_is_one_hot_and_scored_by_argmax(with_gd):
    c = peers.compare(["lifted_gd"], "digits", seeds=(0,), max_iter=3, hidden=(5,), n=80)
    data = peers.load_task("digits", 0, n=80)
    assert data.y.shape == (data.X.shape[0], 10) and set(np.unique(data.y)) == {0.0, 1.0}
    np.testing.assert_array_equal(data.y.argmax(1), data.labels)
    m = peers.make_estimator("lifted_gd", hidden_layer_sizes=(5,), max_iter=3, random_state=0,
                             classification=True).fit(data.X, data.y)
    acc = float(np.mean(m.predict(data.X_test).argmax(1) == data.labels_test))
    r = c.table[0]
    assert r["kind"] == "classification" and r["encoding"] == "one-hot, argmax"
    assert r["test_acc"] == pytest.approx(acc) and c.histories[("lifted_gd", 0)]["test_acc"][-1] == pytest.approx(acc)
    assert r["n_train"] + r["n_test"] == 80


def test_every_method_uses_the_same_split(with_gd):
    a = peers.load_task("breast_cancer", 3, n=100)
    b = peers.load_task("breast_cancer", 3, n=100)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.X_test, b.X_test)
    assert a.y.shape[1] == 2  # two classes: one-hot too


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("call, words", [
    (lambda: peers.compare(["admm", "sgd"], "square"), ["sgd", "admm, dladmm, lifted_bcd, inexact_alm"]),
    (lambda: peers.compare(["admm"], "cube"), ["cube", "square", "digits"]),
    (lambda: peers.compare(["admm", "admm"], "square"), ["distinct"]),
    (lambda: peers.compare(["admm"], "square", seeds=(-1,)), ["seeds"]),
    (lambda: peers.compare(["admm"], "square", seeds=()), ["seeds"]),
    (lambda: peers.compare(["admm"], "square", max_iter=0), ["max_iter"]),
    (lambda: peers.compare(["admm"], "square", params={"dladmm": {"rho": 1}}), ["params", "dladmm"]),
    (lambda: peers.make_estimator("admm", bogus=1), ["bogus", "admm"]),
    (lambda: peers.get_method("nope"), ["nope", "admm"]),
])
def test_unknown_names_and_bad_values_are_clear_errors(call, words):
    with pytest.raises(ValueError) as e:
        call()
    for w in words:
        assert w in str(e.value)


def test_interrupt_keeps_the_finished_runs(with_gd, monkeypatch):
    real, calls = peers.run_one, []

    def run_one(*a, **kw):
        calls.append(a[0])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(peers, "run_one", run_one)
    with pytest.raises(peers.ComparisonInterrupted) as e:
        peers.compare(["lifted_gd", "admm"], "square", seeds=(0,), max_iter=2, hidden=(3,), n=10)
    assert [r["method"] for r in e.value.partial.table] == ["lifted_gd"]


# ------------------------------------------------------------------ registry

def test_cli_names_are_the_registries():
    from sigadmm.cli import train_cmd
    from sigadmm.data import DATASETS

    from solver.registry import BUILTIN

    builtin = tuple(m.name for m in BUILTIN)
    assert peers.METHOD_NAMES == builtin
    offered = train_cmd.train.params[[p.name for p in train_cmd.train.params].index("method")].type.choices
    assert tuple(offered)[:len(builtin)] == builtin   # + any method registered before
    assert train_cmd.DATA_NAMES == tuple(DATASETS)
    assert set(peers.TASK_NAMES) == set(peers.TASKS)


@pytest.mark.parametrize("name", ["dladmm", "lifted_bcd", "inexact_alm"])
def test_each_related_method_runs_in_a_comparison(name):
    spec = peers.METHODS[name]
    if not spec.available:
        pytest.skip(f"{spec.module} not importable here")
    c = peers.compare(["admm", name], "product", seeds=(0,), max_iter=3, hidden=(4,), n=25, n_test=10)
    r = c.table[1]
    assert r["method"] == name and r["iterations"] >= 1
    h = c.histories[(name, 0)]
    assert len(h["lift_gap"]) == r["iterations"] + 1


def test_peers_section_gives_claims_table_and_figures(cmp):
    from sigadmm.report import Claim

    sec = peers.peers_section(comparison=cmp)
    assert all(isinstance(c, Claim) for c in sec["claims"]) and len(sec["claims"]) == 5
    assert all(c.check in ("PASS", "FAIL", "INCONCLUSIVE") for c in sec["claims"])
    header, rows = sec["table"]
    assert len(rows) == 2 and all(len(r) == len(header) for r in rows)
    assert set(sec["figures"]) == {"errors", "lift_gap", "layer_steps"}


def test_save_writes_the_table_histories_and_plots(cmp, tmp_path):
    paths = cmp.save(tmp_path / "o")
    with open(paths["table.csv"]) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and tuple(rows[0]) == peers.TABLE_COLUMNS
    assert float(rows[0]["test_mse"]) == cmp.table[0]["test_mse"]   # repr round-trips
    with open(paths["histories.csv"]) as f:
        assert sum(1 for _ in csv.DictReader(f)) == 4 * (TINY["max_iter"] + 1)
    assert "| admm |" in paths["table.md"].read_text()
    for p in ("errors.png", "lift_gap.png", "layer_steps.png"):
        assert paths[p].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------ CLI

def run(args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _bad(r, *words):
    assert r.exit_code == EXIT_USAGE, r.output
    assert "Traceback" not in r.output
    err = [ln for ln in r.output.splitlines() if ln.startswith("Error")]
    assert len(err) == 1, r.output
    for w in words:
        assert w in err[0], (w, err[0])


def test_train_method_end_to_end(tmp_path):
    name = next((m for m in ("dladmm", "lifted_bcd", "inexact_alm") if peers.METHODS[m].available), None)
    if name is None:
        pytest.skip("no related method importable here")
    out = tmp_path / "r.npz"
    r = run(["train", "--method", name, "--task", "square", "--hidden", "4", "--iters", "3", "--n", "20",
             "--quiet", "--out", out])
    assert r.exit_code == 0, r.output
    assert f"method {name}" in r.output and "train MSE" in r.output
    from solver import Trace

    tr = Trace.load(out)
    assert len(tr) == 3 and tr.schema.name == name
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"


def test_train_admm_on_a_data_set_prints_accuracy(tmp_path):
    r = run(["train", "--task", "breast_cancer", "--n", "60", "--hidden", "3", "--iters", "2", "--quiet",
             "--out", tmp_path / "b.npz"])
    assert r.exit_code == 0, r.output
    assert "accuracy (argmax of the output): train" in r.output


@pytest.mark.parametrize("args, words", [
    (["train", "--method", "sgd"], ["--method", "sgd", "admm", "dladmm", "lifted_bcd", "inexact_alm"]),
    (["train", "--method", "dladmm", "--beta", "2"], ["--beta", "dladmm", "--param"]),
    (["train", "--param", "rho"], ["--param", "NAME=VALUE"]),
    (["train", "--param", "max_iter=3"], ["--param", "--iters"]),
    (["train", "--param", "bogus=1", "--iters", "1", "--n", "5"], ["--param", "bogus"]),
    (["train", "--task", "digits", "--noise", "0.1"], ["--noise", "digits"]),
    (["compare", "--methods", "admm,sgd"], ["--methods", "sgd", "inexact_alm"]),
    (["compare", "--task", "cube"], ["--task", "cube"]),
    (["compare", "--seeds", "-1"], ["--seeds"]),
    (["compare", "--methods", "admm", "--param", "dladmm.rho=1"], ["--param", "dladmm"]),
    (["compare", "--param", "rho=1"], ["--param", "METHOD.NAME=VALUE"]),
    (["compare", "--task", "digits", "--n-test", "5"], ["--n-test", "digits"]),
    (["compare", "--out", "/proc/nope/x"], ["--out"]),
])
def test_cli_bad_input_exits_2_naming_the_option(args, words, tmp_path):
    if args[0] == "train" and "--out" not in args:
        args = args + ["--out", tmp_path / "x.npz"]
    if args[0] == "compare" and "--out" not in args:
        args = args + ["--out", tmp_path / "c"]
    _bad(run(args), *words)


def test_compare_command_end_to_end(with_gd, tmp_path, monkeypatch):
    out = tmp_path / "cmp"
    r = run(["compare", "--methods", "admm,lifted_gd", "--task", "square", "--seeds", "0", "1",
             "--iters", "3", "--hidden", "3", "--n", "15", "--n-test", "10", "--param", "lifted_gd.lr=0.01",
             "--out", out, "--quiet"])
    assert r.exit_code == 0, r.output
    with open(out / "table.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(x["method"], x["seed"]) for x in rows] == [("admm", "0"), ("lifted_gd", "0"),
                                                        ("admm", "1"), ("lifted_gd", "1")]
    for p in ("table.md", "verdicts.csv", "histories.csv", "errors.png", "lift_gap.png", "layer_steps.png"):
        assert (out / p).stat().st_size > 0
    assert '"lr": 0.01' in (out / "settings.json").read_text()


def test_compare_interrupted_exits_130_and_keeps_finished_runs(with_gd, tmp_path, monkeypatch):
    real, calls = peers.run_one, []

    def run_one(*a, **kw):
        calls.append(a[0])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(peers, "run_one", run_one)
    out = tmp_path / "cmp"
    r = run(["compare", "--methods", "lifted_gd,admm", "--iters", "2", "--hidden", "3", "--n", "10",
             "--out", out, "--quiet"])
    assert r.exit_code == EXIT_INTERRUPTED, r.output
    with open(out / "table.csv") as f:
        assert [x["method"] for x in csv.DictReader(f)] == ["lifted_gd"]


def test_an_early_stopped_run_reports_the_returned_and_the_last_net():
    """``--param admm.early_stopping=true``: the row's test numbers are those of the returned
    (early-stopped) net, the history's at ``returned_iter``; ``last_test_*`` the last iterate's."""
    cmp = peers.compare(["admm"], "digits", seeds=(0,), max_iter=12, hidden=(10,), n=120,
                        params={"admm": {"early_stopping": True, "n_iter_no_change": 100}})
    (row,) = cmp.table
    h = cmp.histories[("admm", 0)]
    k = row["returned_iter"]
    assert 1 <= k <= row["iterations"] == 12
    assert row["test_acc"] == h["test_acc"][k] and row["test_mse"] == pytest.approx(h["test_mse"][k], rel=1e-12)
    assert row["last_test_acc"] == h["test_acc"][-1] and row["last_test_mse"] == h["test_mse"][-1]
    if k != 12:
        assert "returned iteration" in cmp.markdown()
    plain = peers.compare(["admm"], "digits", seeds=(0,), max_iter=3, hidden=(10,), n=120)
    assert plain.table[0]["returned_iter"] == 3 and "returned iteration" not in plain.markdown()
