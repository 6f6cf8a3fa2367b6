"""The baselines at the paper's settings (issue 21): the stage's settings and the trial options
that carry them (learning rate, SGDM momentum, decay factor, a validation part for the choice)."""

import math

import pytest

from sigadmm.results import plan as RS
from sigadmm.trials import baseline_settings, experiment_trial

TINY = {"task": "square", "depth": 1, "width": 4, "n": 40, "n_test": 20, "noise": 0.0,
        "lam": 1e-6, "beta": 1.0, "init": "msra", "init_scale": 1.0, "epochs": 3}


def test_baseline_settings_carry_the_options():
    ps = baseline_settings({**TINY, "method": "sgdm_relu", "lr": 0.1, "momentum": 0.5, "lr_decay": 0.9})
    assert (ps.sgdm_lr, ps.momentum, ps.lr_decay, ps.epochs) == (0.1, 0.5, 0.9, 3)
    ps = baseline_settings({**TINY, "method": "sgd_relu", "lr": 0.03})
    assert ps.sgd_lr == 0.03 and ps.sgdm_lr != 0.03
    assert baseline_settings({**TINY, "method": "adam_relu", "lr": 2e-3}).adam_lr == 2e-3


@pytest.mark.parametrize("method,key", [("adam_relu", "momentum"), ("sgd_relu", "momentum"),
                                        ("adam_relu", "lr_decay")])
def test_an_option_that_does_not_apply_is_refused(method, key):
    with pytest.raises(ValueError, match=key):
        baseline_settings({**TINY, "method": method, key: 0.5})


def test_validation_part_gives_a_validation_error_and_changes_the_run():
    pytest.importorskip("torch")
    s = {**TINY, "method": "sgdm_relu", "lr": 0.01, "momentum": 0.5, "lr_decay": 0.9}
    full = experiment_trial(s, 0)
    held = experiment_trial({**s, "val_size": 0.25}, 0)
    again = experiment_trial({**s, "val_size": 0.25}, 0)
    assert "val_mse" not in full
    assert math.isfinite(held["val_mse"]) and held["val_mse"] >= 0
    assert held["val_mse"] == again["val_mse"]  # same seed, same split, same run
    assert held["train_mse"] != full["train_mse"]  # trained on 30 of the 40 points, not 40
    other_lr = experiment_trial({**s, "val_size": 0.25, "lr": 0.1}, 0)
    assert other_lr["val_mse"] != held["val_mse"]


def test_paper_stage_is_at_the_paper_settings():
    for task, name in RS.PAPER_BASE_STAGES.items():
        st = RS.paper_baseline_stage(task)
        assert st.name == name and st.trials >= 10
        methods = {s["method"] for s in st.settings}
        assert {"adam_relu", "sgd_relu", "sgdm_relu"} <= methods
        for s in st.settings:
            assert s["epochs"] == 2000 and s["task"] == task
            if s["method"].startswith("adam"):
                assert not set(s) & {"lr", "momentum", "lr_decay", "val_size"}
                continue
            assert s["lr"] in RS.PAPER_LR_GRID and 0 < s["val_size"] < 1
            assert ("momentum" in s) == s["method"].startswith("sgdm")
            if "momentum" in s:
                assert s["momentum"] == 0.5
        for m in methods - {"adam_relu"}:  # every rate of the grid, once
            assert sorted(s["lr"] for s in st.settings if s["method"] == m) == sorted(RS.PAPER_LR_GRID)
    names = [s.name for s in RS.paper_plan()]
    assert set(RS.PAPER_BASE_STAGES.values()) <= set(names) and len(names) == len(set(names))


def test_width_study_covers_the_radial_tasks_at_every_width():
    st = RS.width_study_stage()
    got = {(s["task"], s["depth"], s["width"]) for s in st.settings}
    want = {(t, 4, w) for t in ("radial", "smooth_radial") for w in RS.WIDTH_STUDY_WIDTHS}
    assert got == want and len(st.settings) == len(want)
    assert all(s["method"] == "admm_sigmoid" and s["iters"] == RS.WIDTH_STUDY_ITERS for s in st.settings)
    assert [s["width"] for s in st.settings] == sorted(s["width"] for s in st.settings)  # cheapest first
    assert "our reconstruction" in st.note


# ---- the ledger's side: the rate chosen on validation, the cell at the paper's settings
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from hypothesis import given, settings as hsettings, strategies as hst  # noqa: E402

from sigadmm import results_report as RR  # noqa: E402


def _grid_rows(val, test, lrs=RS.PAPER_LR_GRID):
    rows = []
    for t, (vs, ts) in enumerate(zip(val, test)):
        for lr, v, te in zip(lrs, vs, ts):
            rows.append({"trial": t, "lr": lr, "val_mse": v, "test_mse": te, "status": "ok",
                         "run_status": "completed"})
    return pd.DataFrame(rows)


errs = hst.floats(1e-9, 1.0, allow_nan=False)


@hsettings(max_examples=40, deadline=None)
@given(hst.lists(hst.tuples(hst.lists(errs, min_size=3, max_size=3), hst.lists(errs, min_size=3, max_size=3)),
                 min_size=1, max_size=6))
def test_choice_is_the_smallest_validation_error_and_never_reads_the_test_set(trials):
    val = [v for v, _ in trials]
    test = [t for _, t in trials]
    got = RR.choose_rate_on_validation(_grid_rows(val, test), 3)
    assert list(got["trial"]) == list(range(len(trials)))
    for t, row in got.iterrows():
        assert row["val_mse"] == min(val[t])
    # the same validation errors with other test errors: the same rates are chosen
    other = RR.choose_rate_on_validation(_grid_rows(val, [list(reversed(x)) for x in test]), 3)
    assert list(other["lr"]) == list(got["lr"])


def test_choice_leaves_out_a_trial_whose_grid_is_incomplete_and_keeps_an_all_diverged_one():
    df = _grid_rows([[0.3, 0.1, 0.2], [np.nan] * 3, [0.5, 0.4, 0.6]], [[1, 2, 3]] * 3)
    df = df[~((df["trial"] == 2) & (df["lr"] == 0.1))]  # trial 2: one rate not run yet
    got = RR.choose_rate_on_validation(df, 3)
    assert list(got["trial"]) == [0, 1]
    assert got["lr"].iloc[0] == 0.01 and not np.isfinite(got["val_mse"].iloc[1])


def _paper_cell(method, n=10, **cols):
    d = {"epochs": [2000] * n, "status": ["ok"] * n, "run_status": ["completed"] * n,
         "val_size": [0.2] * n, "lr": [0.01] * n}
    if method.startswith("sgdm"):
        d["momentum"] = [0.5] * n
    d.update({k: [v] * n for k, v in cols.items()})
    return pd.DataFrame(d)


@pytest.mark.parametrize("method", ["sgd_relu", "sgdm_relu", "sgd_sigmoid"])
def test_shortfall_is_empty_only_at_the_paper_settings(method):
    assert RR.baseline_shortfall(method, _paper_cell(method)) == []
    # each cheap way to miss the settings is named
    assert any("validation" in r for r in RR.baseline_shortfall(method, _paper_cell(method).drop(columns="val_size")))
    # a validation part without a grid of rates (stage real_data_val) chooses nothing
    assert any("validation" in r for r in RR.baseline_shortfall(method, _paper_cell(method).drop(columns="lr")))
    assert any("trials" in r for r in RR.baseline_shortfall(method, _paper_cell(method, n=9)))
    assert any("epochs" in r for r in RR.baseline_shortfall(method, _paper_cell(method, epochs=300)))
    assert any("diverged" in r for r in RR.baseline_shortfall(method, _paper_cell(method, run_status="diverged")))
    if method.startswith("sgdm"):
        assert any("momentum" in r for r in RR.baseline_shortfall(method, _paper_cell(method, momentum=0.9)))
        assert any("momentum" in r for r in RR.baseline_shortfall(method, _paper_cell(method).drop(columns="momentum")))
