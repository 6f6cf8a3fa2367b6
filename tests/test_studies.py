"""The studies' trial functions (sigadmm.studies): saturation, frozen features, real data."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigadmm import studies as S
from sigadmm.baselines import torch_available

needs_torch = pytest.mark.skipif(not torch_available(), reason="PyTorch (baselines extra) missing")

SAT_KEYS = {f"rel_step_l{i}" for i in range(1, S.SAT_MAX_DEPTH + 2)} | {
    "ratio_first_last", "ratio_first_last_step1", "ratio_first_last_after_step1", "train_mse",
    "steps", "seconds"}
FROZEN_KEYS = {"frozen_train_mse", "frozen_test_mse", "admm_train_mse", "admm_test_mse",
               "admm_best_train_mse", "admm_best_iteration", "admm_test_at_best_train",
               "admm_best_test_mse", "admm_best_test_iteration", "ratio_best_train",
               "ratio_final_train", "ratio_test_at_best", "ratio_final_test", "frozen_seconds",
               "admm_seconds", "admm_iterations"}
REAL_KEYS = {"train_mse", "test_mse", "best_train_mse", "best_iteration", "test_at_best_train",
             "train_acc", "test_acc", "test_acc_at_best_train", "seconds", "iterations", "run_status", "n_train",
             "n_test", "n_features"}


def sat_settings(method, depth=2, **kw):
    s = {"task": "square", "method": method, "depth": depth, "width": 6, "n": 60, "init": "msra",
         "init_scale": 8.0, "lam": 1e-6, "beta": 1.0, "iters": 3, "epochs": 3}
    s.update(kw)
    return s


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ================================================================= saturation
def test_relative_steps_first_layer_still_gives_ratio_zero():
    """Doctored steps: the first layer never moves -> rel_step_l1 = 0 and the ratio is 0."""
    K, L = 7, 4
    rng = np.random.default_rng(0)
    steps = rng.uniform(0.1, 1.0, (K, L))
    steps[:, 0] = 0.0
    norms = rng.uniform(1.0, 2.0, (K, L))
    out = S.relative_layer_steps(steps, norms)
    assert out["rel_step_l1"] == 0.0
    assert out["ratio_first_last"] == 0.0 and out["ratio_first_last_step1"] == 0.0
    assert out["ratio_first_last_after_step1"] == 0.0
    assert all(math.isnan(out[f"rel_step_l{i}"]) for i in range(L + 1, S.SAT_MAX_DEPTH + 2))


@given(K=st.integers(1, 6), L=st.integers(2, 11), a=st.floats(1e-3, 1e3), c=st.floats(1e-3, 1e3),
       seed=st.integers(0, 2**31))
def test_relative_steps_are_relative(K, L, a, c, seed):
    """Scaling a layer's weights and its steps by c changes nothing (a relative measure); a
    first layer moving a times as much (relative to itself) as the output layer at every
    step gives ratio a."""
    rng = np.random.default_rng(seed)
    norms = rng.uniform(0.5, 2.0, (K, L))
    rel = rng.uniform(0.1, 1.0, K)
    steps = rng.uniform(0.1, 1.0, (K, L))
    steps[:, -1] = rel * norms[:, -1]
    steps[:, 0] = a * rel * norms[:, 0]
    out = S.relative_layer_steps(steps, norms)
    assert out["ratio_first_last"] == pytest.approx(a, rel=1e-9)
    assert out["ratio_first_last_step1"] == pytest.approx(a, rel=1e-9)
    if K > 1:
        assert out["ratio_first_last_after_step1"] == pytest.approx(a, rel=1e-9)
    else:
        assert math.isnan(out["ratio_first_last_after_step1"])
    scaled = steps.copy(), norms.copy()
    scaled[0][:, 1] *= c
    scaled[1][:, 1] *= c
    out2 = S.relative_layer_steps(*scaled)
    assert out2["rel_step_l2"] == pytest.approx(out["rel_step_l2"], rel=1e-9)


def test_relative_steps_reject_bad_shapes():
    with pytest.raises(ValueError, match="steps, norms"):
        S.relative_layer_steps(np.ones((3, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="steps"):
        S.relative_layer_steps(np.ones((3, 13)), np.ones((3, 13)))


def test_saturation_admm_steps_match_independent_runs():
    """rel_step_l = mean_k ||W_l^k - W_l^(k-1)|| / ||W_l^(k-1)|| over k = 1, 2, with the
    iterates taken from independent fits of 1 and 2 iterations (same seed: same path; one
    BLAS thread like the trial, since the thread count changes the rounding)."""
    from sigadmm.reproduce import admm_model, limit_threads, make_data
    from solver.init import init_weights

    s = sat_settings("admm_sigmoid", depth=2, iters=2)
    out = S.saturation_trial(s, 3)
    assert SAT_KEYS <= set(out) and out["steps"] == 2
    data = make_data("square", s["n"], 1, 3, 0.0)
    w0 = init_weights([1, 6, 6, 1], "msra", 8.0, 3)
    Ws = [[np.hstack([W, b[:, None]]) for W, b in w0]]
    for k in (1, 2):
        m = admm_model(2, 6, lam=1e-6, beta=1.0, init_scale=8.0, max_iter=k, seed=3)
        with limit_threads(1):
            m.fit(data.X, data.y)
        Ws.append([np.array(w) for w in m.state_.W])
    for layer in range(3):
        rel = [np.linalg.norm(Ws[k][layer] - Ws[k - 1][layer]) / np.linalg.norm(Ws[k - 1][layer])
               for k in (1, 2)]
        assert out[f"rel_step_l{layer + 1}"] == pytest.approx(np.mean(rel), rel=1e-9)
    assert out["ratio_first_last"] == pytest.approx(out["rel_step_l1"] / out["rel_step_l3"])
    assert math.isnan(out["rel_step_l4"])


@needs_torch
def test_record_steps_of_one_epoch_is_the_weight_change():
    """train_baseline(record_steps=True), one epoch: the step is ||[W b]^1 - [W b]^0|| of the
    returned model and the norm is that of the initial weights (drawn independently)."""
    from sigadmm.baselines import PAPER_SETTINGS, init_weights, train_baseline

    rng = np.random.default_rng(0)
    X, y = rng.uniform(-1, 1, (40, 2)), rng.normal(size=40)
    res = train_baseline(X, y, optimizer="sgd", activation="sigmoid", depth=2, width=5,
                         settings=PAPER_SETTINGS.replace(epochs=1, batch_size=10), seed=4,
                         record_steps=True)
    w0 = init_weights([2, 5, 5, 1], seed=np.random.default_rng(4))
    lins = [mod for mod in res.model if hasattr(mod, "weight")]
    for layer, ((W, b), lin) in enumerate(zip(w0, lins)):
        W1 = np.hstack([lin.weight.detach().numpy(), lin.bias.detach().numpy()[:, None]])
        W0 = np.hstack([W, b[:, None]])
        assert res.layer_norms[0, layer] == pytest.approx(np.linalg.norm(W0), rel=1e-12)
        assert res.layer_steps[0, layer] == pytest.approx(np.linalg.norm(W1 - W0), rel=1e-9)
    plain = train_baseline(X, y, optimizer="sgd", activation="sigmoid", depth=2, width=5,
                           settings=PAPER_SETTINGS.replace(epochs=1, batch_size=10), seed=4)
    assert plain.layer_steps is None and plain.layer_norms is None   # off by default
    assert plain.train_mse == res.train_mse                           # recording changes nothing


@needs_torch
def test_saturation_sgd_on_an_exactly_saturated_first_layer_gives_ratio_zero(monkeypatch):
    """Doctored net: first-layer bias 1000, so sigma(Z_1) == 1.0 exactly in float64 and
    sigma'(Z_1) = sigma (1 - sigma) == 0: SGD's first-layer gradient is exactly zero at
    every step, the first layer provably never moves, and the ratio is exactly 0."""
    import sigadmm.baselines as B

    real = B.init_weights

    def doctored(*args, **kw):
        w = real(*args, **kw)
        w[0] = (w[0][0], np.full_like(w[0][1], 1000.0))
        return w

    monkeypatch.setattr(B, "init_weights", doctored)
    out = S.saturation_trial(sat_settings("sgd_sigmoid", depth=3, epochs=4), 0)
    assert out["rel_step_l1"] == 0.0 and out["ratio_first_last"] == 0.0
    assert out["rel_step_l4"] > 0                  # the output layer does move
    assert math.isfinite(out["train_mse"])


@needs_torch
@pytest.mark.parametrize("method", ["admm_sigmoid", "sgd_sigmoid"])
def test_saturation_trial_finite(method):
    out = S.saturation_trial(sat_settings(method, depth=3), 1)
    assert SAT_KEYS <= set(out)
    for i in range(1, 5):
        assert math.isfinite(out[f"rel_step_l{i}"]) and out[f"rel_step_l{i}"] >= 0
    assert all(math.isnan(out[f"rel_step_l{i}"]) for i in range(5, S.SAT_MAX_DEPTH + 2))
    assert math.isfinite(out["ratio_first_last"]) and out["steps"] == 3
    again = S.saturation_trial(sat_settings(method, depth=3), 1)    # same seed, same run
    for k in SAT_KEYS - {"seconds"}:
        assert again[k] == out[k] or (math.isnan(again[k]) and math.isnan(out[k]))


@needs_torch
@pytest.mark.parametrize("method", ["admm_sigmoid", "sgd_sigmoid"])
def test_saturation_trial_on_a_real_data_set(method):
    """task = a data set's name: its inputs, one-hot targets (10 outputs for digits)."""
    out = S.saturation_trial(sat_settings(method, task="digits", n=100), 0)
    assert all(math.isfinite(out[f"rel_step_l{i}"]) for i in range(1, 4))
    assert math.isnan(out["rel_step_l4"]) and math.isfinite(out["ratio_first_last"])


def test_saturation_rejects_bad_settings():
    with pytest.raises(ValueError, match="method"):
        S.saturation_trial(sat_settings("adam_relu"), 0)
    with pytest.raises(ValueError, match="depth"):
        S.saturation_trial(sat_settings("admm_sigmoid", depth=11), 0)


# ================================================================= frozen features
@given(d=st.integers(1, 8), m=st.integers(1, 3), n=st.integers(2, 30), lam=st.floats(1e-8, 10.0),
       seed=st.integers(0, 2**31))
def test_ridge_output_layer_is_stationary(d, m, n, lam, seed):
    """The returned W zeroes the gradient (W A - Y) A^T + lam W of the ridge objective."""
    rng = np.random.default_rng(seed)
    H, Y = rng.uniform(0, 1, (d, n)), rng.normal(size=(m, n))
    W = S.ridge_output_layer(H, Y, lam)
    A = np.vstack([H, np.ones((1, n))])
    G = (W @ A - Y) @ A.T + lam * W
    scale = (np.linalg.norm(W) + 1) * (np.linalg.norm(A) ** 2 + lam) + np.linalg.norm(Y) * np.linalg.norm(A)
    assert np.linalg.norm(G) <= 1e-10 * scale


def frozen_settings(**kw):
    s = {"task": "radial", "depth": 2, "width": 8, "n": 80, "n_test": 50, "noise": 0.01,
         "lam": 1e-6, "beta": 1.0, "init": "msra", "init_scale": 8.0, "iters": 5}
    s.update(kw)
    return s


def test_frozen_equals_an_independent_least_squares_solve():
    """Frozen features computed here by hand (numpy sigmoid layers from the same seed's
    weights) and the output layer by the normal equations (scipy): the same MSEs."""
    import scipy.linalg

    from sigadmm.reproduce import admm_model, limit_threads, make_data
    from solver.init import init_weights

    s = frozen_settings()
    out = S.frozen_features_trial(s, 2)
    assert FROZEN_KEYS <= set(out)
    assert all(math.isfinite(out[k]) for k in FROZEN_KEYS)
    data = make_data("radial", 80, 50, 2, 0.01)
    w = init_weights([data.X.shape[1], 8, 8, 1], "msra", 8.0, 2)

    def feats(X):
        H = X
        for W, b in w[:-1]:
            H = sigmoid(H @ W.T + b)
        return np.hstack([H, np.ones((len(H), 1))])

    A = feats(data.X)
    coef = scipy.linalg.solve(A.T @ A + 1e-6 * np.eye(A.shape[1]), A.T @ data.y, assume_a="pos")
    assert out["frozen_train_mse"] == pytest.approx(np.mean((A @ coef - data.y) ** 2), rel=1e-6)
    assert out["frozen_test_mse"] == pytest.approx(
        np.mean((feats(data.X_test) @ coef - data.y_test) ** 2), rel=1e-6)
    # full ADMM from the same seed (its own initialisation): the same run
    m = admm_model(2, 8, lam=1e-6, beta=1.0, init_scale=8.0, max_iter=5, seed=2, keep_best=True)
    with limit_threads(1):  # as the trial: the BLAS thread count changes the rounding
        m.fit(data.X, data.y, X_test=data.X_test, y_test=data.y_test)
    assert out["admm_best_train_mse"] == pytest.approx(float(np.min(m.trace_.train_mse)), rel=1e-12)
    assert out["admm_train_mse"] == pytest.approx(float(m.trace_.train_mse[-1]), rel=1e-12)
    assert out["ratio_best_train"] == pytest.approx(out["admm_best_train_mse"] / out["frozen_train_mse"])


# ================================================================= real data
@given(k=st.integers(2, 12), seed=st.integers(0, 2**31))
def test_class_targets_round_trip(k, seed):
    """predict_labels(class_targets(y)) == y: +-1 for two classes, one-hot otherwise."""
    y = np.random.default_rng(seed).integers(0, k, 30)
    T = S.class_targets(y, k)
    assert T.shape == (30, 1 if k == 2 else k)
    assert np.array_equal(S.predict_labels(T, k), y)


def real_settings(dataset, method, **kw):
    s = {"dataset": dataset, "method": method, "depth": 1, "width": 8, "subset": None,
         "test_size": 0.3, "init": "msra", "init_scale": 1.0, "lam": 1e-3, "beta": 1.0,
         "iters": 5, "epochs": 2}
    s.update(kw)
    return s


@needs_torch
@pytest.mark.parametrize("dataset,subset", [("breast_cancer", None), ("diabetes", None),
                                            ("digits", 300)])
@pytest.mark.parametrize("method", list(S.REAL_METHODS))
def test_real_data_trial_finite(dataset, subset, method):
    out = S.real_data_trial(real_settings(dataset, method, subset=subset), 0)
    assert REAL_KEYS <= set(out)
    for k in ("train_mse", "test_mse", "best_train_mse", "seconds"):
        assert math.isfinite(out[k])
    if dataset == "diabetes":
        assert math.isnan(out["test_acc"])
    else:
        assert 0 <= out["train_acc"] <= 1 and 0 <= out["test_acc"] <= 1
        assert math.isfinite(out["test_acc_at_best_train"]) == (method == "admm_sigmoid")
    n = 569 if dataset == "breast_cancer" else (442 if dataset == "diabetes" else 300)
    assert out["n_train"] + out["n_test"] == n and out["n_test"] == math.ceil(0.3 * n)


def test_real_data_admm_accuracy_is_that_of_its_final_iterate():
    """test_acc recomputed from an independent ADMM fit on the same split (final iterate)."""
    from sigadmm.data import load_dataset
    from sigadmm.reproduce import admm_model, limit_threads

    out = S.real_data_trial(real_settings("breast_cancer", "admm_sigmoid"), 1)
    Xtr, Xte, ytr, yte = load_dataset("breast_cancer", seed=1).split(0.3, seed=1)
    m = admm_model(1, 8, lam=1e-3, beta=1.0, init_scale=1.0, max_iter=5, seed=1)
    with limit_threads(1):
        m.fit(Xtr, np.where(ytr == 1, 1.0, -1.0))
    assert out["test_acc"] == pytest.approx(np.mean((m.predict(Xte) > 0) == (yte == 1)))


def test_real_data_unavailable_fails_clearly_and_the_sweep_goes_on(tmp_path, monkeypatch):
    """Fashion-MNIST absent (an empty directory): the trial raises DatasetUnavailable naming
    the package; in a sweep that trial is recorded as failed with that message and the
    other settings still run."""
    from sigadmm.data import DatasetUnavailable
    from sigadmm.sweep import run_sweep

    monkeypatch.setenv("SIGADMM_FASHION_MNIST_DIR", str(tmp_path))
    bad = real_settings("fashion_mnist", "admm_sigmoid", subset=100)
    with pytest.raises(DatasetUnavailable, match="dataset-fashion-mnist"):
        S.real_data_trial(bad, 0)
    good = real_settings("breast_cancer", "admm_sigmoid")
    res = run_sweep(S.real_data_trial, [bad, good], trials=1, scheduler="synchronous",
                    progress=False)
    t = res.table.set_index("dataset")
    assert t.loc["fashion_mnist", "status"] == "failed"
    assert "DatasetUnavailable" in t.loc["fashion_mnist", "error"]
    assert "dataset-fashion-mnist" in t.loc["fashion_mnist", "error"]
    assert t.loc["breast_cancer", "status"] == "ok"


def test_real_data_rejects_unknown_method():
    with pytest.raises(ValueError, match="method"):
        S.real_data_trial(real_settings("breast_cancer", "lbfgs"), 0)


# ================================================================= stages
def test_validation_split_is_disjoint_stratified_and_seeded():
    """Issue 21 (3): lambda is chosen on a validation part of the training part; the parts
    are disjoint, cover the training part, keep the class shares, and depend on the seed."""
    X = np.arange(200, dtype=float)[:, None]
    y = np.repeat([0, 1, 2, 3], 50)
    Xf, Xv, yf, yv = S.validation_split(X, y, 0.2, 3, True)
    assert len(yv) == 40 and len(yf) == 160
    assert set(Xf[:, 0]).isdisjoint(Xv[:, 0]) and set(Xf[:, 0]) | set(Xv[:, 0]) == set(X[:, 0])
    assert np.bincount(yv).tolist() == [10, 10, 10, 10]
    assert np.array_equal(S.validation_split(X, y, 0.2, 3, True)[1], Xv)
    assert not np.array_equal(S.validation_split(X, y, 0.2, 4, True)[1], Xv)
    with pytest.raises(ValueError, match="val_size"):
        S.validation_split(X, y, 1.0, 0, True)
    val = next(s for s in S.study_stages() if s.name == "real_data_val")
    assert all(st_["val_size"] == S.REAL_VAL_SIZE for st_ in val.settings)
    assert "validation" in val.note and "test set" in val.note


def test_study_stages_are_registered_and_complete():
    from sigadmm.results import TRIAL_FUNCTIONS, _trial_function
    from sigadmm.results.plan import paper_plan

    stages = S.study_stages()
    assert {s.name for s in stages} == {"saturation", "saturation_digits", "frozen_features",
                                        "real_data", "real_data_val"}
    # the paper plan runs every study stage with the same settings (docs/results/paper)
    plan = {s.name: s for s in paper_plan()}
    for s in stages:
        assert s.name in plan and plan[s.name].settings == s.settings and plan[s.name].trial_fn == s.trial_fn
    fns = {"saturation": S.saturation_trial, "frozen": S.frozen_features_trial,
           "real_data": S.real_data_trial}
    need = {"saturation": {"method", "depth", "width", "n", "init", "init_scale", "lam"},
            "frozen": {"task", "depth", "width", "n", "n_test", "lam", "beta", "init",
                       "init_scale", "iters"},
            "real_data": {"dataset", "method", "depth", "width", "subset", "test_size", "init",
                          "init_scale"}}
    for s in stages:
        assert s.trial_fn in TRIAL_FUNCTIONS and _trial_function(s.trial_fn) is fns[s.trial_fn]
        assert s.note and "trial" in s.note
        for st_ in s.settings:
            assert need[s.trial_fn] <= set(st_)
    for name in ("saturation", "saturation_digits"):
        sat = next(s for s in stages if s.name == name)
        assert {(x["depth"], x["init_scale"], x["method"]) for x in sat.settings} == {
            (d, c, m) for d in S.SAT_DEPTHS for c in S.SAT_SCALES
            for m in ("admm_sigmoid", "sgd_sigmoid")}
    real = next(s for s in stages if s.name == "real_data")
    assert {x["dataset"] for x in real.settings} == set(S.REAL_DATASETS)
