"""Gradient baselines (sigadmm.baselines): schedule, initialisations, training, measurement."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigadmm.baselines import (
    INITS,
    PAPER_SETTINGS,
    BaselineRegressor,
    PaperSettings,
    init_weights,
    lr_at_epoch,
    torch_available,
    train_baseline,
)

needs_torch = pytest.mark.skipif(not torch_available(), reason="PyTorch (baselines extra) missing")


# ------------------------------------------------------------------ settings / schedule
def test_paper_settings_are_table_2():
    s = PAPER_SETTINGS
    assert (s.epochs, s.batch_size, s.lr_decay, s.decay_every, s.momentum) == (2000, 50, 0.5, 10, 0.9)
    assert (s.adam_lr, tuple(s.adam_betas), s.adam_eps) == (1e-3, (0.9, 0.999), 1e-8)


@given(epoch=st.integers(0, 5000), every=st.integers(1, 50), decay=st.floats(0.05, 1.0),
       opt=st.sampled_from(["sgd", "sgdm"]))
def test_geometric_schedule(epoch, every, decay, opt):
    """lr(e) = lr0 * decay^floor(e/every): constant inside a block, x decay across one."""
    s = PAPER_SETTINGS.replace(decay_every=every, lr_decay=decay)
    lr0 = s.sgd_lr if opt == "sgd" else s.sgdm_lr
    assert lr_at_epoch(opt, epoch, s) == pytest.approx(lr0 * decay ** (epoch // every), rel=1e-12)
    assert lr_at_epoch(opt, epoch + every, s) == pytest.approx(lr_at_epoch(opt, epoch, s) * decay,
                                                               rel=1e-12)
    assert lr_at_epoch(opt, epoch + 1, s) <= lr_at_epoch(opt, epoch, s)
    assert lr_at_epoch("adam", epoch, s) == s.adam_lr


@pytest.mark.parametrize("bad", [dict(epochs=0), dict(batch_size=-1), dict(sgd_lr=0.0),
                                 dict(lr_decay=1.5), dict(momentum=1.0), dict(adam_betas=(0.9,))])
def test_settings_reject_bad_values(bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        PaperSettings(**bad)


def test_lr_rejects_unknown_optimizer():
    with pytest.raises(ValueError, match="optimizer"):
        lr_at_epoch("rmsprop", 0)


# ------------------------------------------------------------------ initialisations
sizes_st = st.lists(st.integers(1, 12), min_size=2, max_size=5)


@given(sizes=sizes_st, init=st.sampled_from(INITS), seed=st.integers(0, 2**31))
def test_init_shapes_bias_zero_and_determinism(sizes, init, seed):
    a = init_weights(sizes, init, seed)
    b = init_weights(sizes, init, seed)
    assert len(a) == len(sizes) - 1
    for i, ((W, bias), (W2, _)) in enumerate(zip(a, b)):
        assert W.shape == (sizes[i + 1], sizes[i]) and bias.shape == (sizes[i + 1],)
        assert np.all(bias == 0)
        assert np.array_equal(W, W2)


@given(sizes=sizes_st, init=st.sampled_from(["orth_uniform", "orth_gauss"]), seed=st.integers(0, 999))
def test_orthogonal_inits_are_orthonormal(sizes, init, seed):
    for W, _ in init_weights(sizes, init, seed):
        G = W @ W.T if W.shape[0] <= W.shape[1] else W.T @ W
        np.testing.assert_allclose(G, np.eye(len(G)), atol=1e-12)


@given(sizes=sizes_st, seed=st.integers(0, 999), scale=st.floats(0.1, 10))
def test_uniform_inits_respect_their_support(sizes, seed, scale):
    for init, bound in [("lecun_uniform", lambda i, o: math.sqrt(3 / i)),
                        ("xavier", lambda i, o: math.sqrt(6 / (i + o)))]:
        for W, _ in init_weights(sizes, init, seed, scale=scale):
            assert np.abs(W).max() <= scale * bound(W.shape[1], W.shape[0]) * (1 + 1e-12)


@pytest.mark.parametrize("init,var", [
    ("lecun_uniform", lambda i, o, last: 1 / i), ("lecun_gauss", lambda i, o, last: 1 / i),
    ("xavier", lambda i, o, last: 2 / (i + o)),
    ("msra", lambda i, o, last: (1 if last else 2) / o)])
def test_init_variances(init, var):
    """Sample variance of a 400x300 (and 1x400 output) layer matches the scheme (5 sigma)."""
    layers = init_weights([300, 400, 1], init, seed=1)
    for li, (W, _) in enumerate(layers):
        v = var(W.shape[1], W.shape[0], li == len(layers) - 1)
        n = W.size
        assert abs(W.var() - v) < 5 * v * math.sqrt(2 / n) + 1e-15


def test_init_rejects_bad_input():
    with pytest.raises(ValueError, match="init"):
        init_weights([2, 3], "he")
    with pytest.raises(ValueError, match="sizes"):
        init_weights([2], "msra")
    with pytest.raises(ValueError, match="scale"):
        init_weights([2, 3], "msra", scale=-1.0)


# ------------------------------------------------------------------ training
@pytest.fixture(scope="module")
def square_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (120, 1))
    return X, X[:, 0] ** 2


def _np_forward(weights, X, act):
    f = {"relu": lambda z: np.maximum(z, 0), "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[act]
    H = X
    for i, (W, b) in enumerate(weights):
        H = H @ W.T + b
        if i < len(weights) - 1:
            H = f(H)
    return H


@needs_torch
def test_same_seed_same_run_and_loss_decreases(square_data):
    X, y = square_data
    s = PAPER_SETTINGS.replace(epochs=15, batch_size=20)
    a = train_baseline(X, y, X, y, optimizer="adam", depth=2, width=16, settings=s, seed=3)
    b = train_baseline(X, y, X, y, optimizer="adam", depth=2, width=16, settings=s, seed=3)
    c = train_baseline(X, y, X, y, optimizer="adam", depth=2, width=16, settings=s, seed=4)
    np.testing.assert_array_equal(a.history["train_mse"], b.history["train_mse"])
    assert a.train_mse != c.train_mse
    w0 = init_weights([1, 16, 16, 1], "msra", np.random.default_rng(3))
    mse0 = float(np.mean((_np_forward(w0, X, "relu")[:, 0] - y) ** 2))
    assert a.train_mse < 0.5 * mse0
    assert a.status == "completed" and a.epochs_run == 15 and a.success
    assert a.test_mse == pytest.approx(a.train_mse, rel=1e-12)  # same data as test set


@needs_torch
def test_predict_matches_numpy_forward(square_data):
    X, y = square_data
    r = train_baseline(X, y, optimizer="sgdm", activation="sigmoid", depth=2, width=7,
                       settings=PAPER_SETTINGS.replace(epochs=3), seed=0)
    weights = [(lin.weight.detach().numpy(), lin.bias.detach().numpy())
               for lin in r.model if hasattr(lin, "weight")]
    np.testing.assert_allclose(r.predict(X), _np_forward(weights, X, "sigmoid"), rtol=1e-12, atol=1e-14)
    assert math.isnan(r.test_mse)
    assert r.train_mse == pytest.approx(float(np.mean((r.predict(X)[:, 0] - y) ** 2)), rel=1e-12)


@needs_torch
def test_gradient_norms_match_numpy_backprop(square_data):
    """grad_norms[0] (at initialisation) = per-layer ||d MSE / d W_i||_F by hand-written backprop."""
    X, y = square_data
    r = train_baseline(X, y, optimizer="sgd", activation="sigmoid", depth=2, width=5,
                       settings=PAPER_SETTINGS.replace(epochs=1), seed=11, init="xavier",
                       init_scale=4.0)
    W = init_weights([1, 5, 5, 1], "xavier", np.random.default_rng(11), scale=4.0)
    s = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    Z1 = X @ W[0][0].T
    H1 = s(Z1)
    Z2 = H1 @ W[1][0].T
    H2 = s(Z2)
    out = H2 @ W[2][0].T
    n = len(X)
    d_out = 2 * (out - y[:, None]) / n
    g3 = d_out.T @ H2
    d2 = (d_out @ W[2][0]) * H2 * (1 - H2)
    g2 = d2.T @ H1
    d1 = (d2 @ W[1][0]) * H1 * (1 - H1)
    g1 = d1.T @ X
    expect = [np.linalg.norm(g) for g in (g1, g2, g3)]
    np.testing.assert_allclose(r.grad_norms[0], expect, rtol=1e-10)
    assert r.grad_norms.shape == (2, 3)


@needs_torch
def test_target_and_callback_stop_early(square_data):
    X, y = square_data
    s = PAPER_SETTINGS.replace(epochs=500, batch_size=30)
    r = train_baseline(X, y, optimizer="adam", depth=1, width=20, settings=s, seed=0, target_mse=5e-3)
    assert r.status == "target_reached" and r.epochs_run < 500
    assert r.train_mse <= 5e-3 and 0 < r.time_to_target <= r.wall_time
    r2 = train_baseline(X, y, optimizer="sgd", depth=1, width=4, settings=s, seed=0,
                        record_every=5, callback=lambda ep, mse: ep >= 10)
    assert r2.epochs_run == 10 and math.isnan(r2.time_to_target)
    assert list(r2.history["epoch"]) == [5, 10]


@needs_torch
def test_estimator_wrapper(square_data):
    X, y = square_data
    est = BaselineRegressor(optimizer="adam", hidden_layer_sizes=(8,),
                            settings=PAPER_SETTINGS.replace(epochs=5)).fit(X, y)
    assert est.predict(X).shape == (len(X),)
    assert est.score(X, y) == pytest.approx(1 - est.result_.train_mse / np.var(y), rel=1e-9)
    assert est.n_features_in_ == 1 and est.n_outputs_ == 1 and est.n_iter_ == 5
    with pytest.raises(ValueError, match="X"):
        est.predict(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="not fitted"):
        BaselineRegressor().predict(X)


def test_estimator_follows_sklearn_conventions():
    """Keyword-only constructor, random_state / verbose, clone keeps every parameter."""
    from sklearn.base import clone

    with pytest.raises(TypeError):
        BaselineRegressor((8,))  # refused: the constructor is keyword-only
    est = BaselineRegressor(hidden_layer_sizes=(6, 4), random_state=3, verbose=1)
    params = est.get_params()
    assert params["hidden_layer_sizes"] == (6, 4) and params["random_state"] == 3
    assert "seed" not in params and "depth" not in params and "width" not in params
    c = clone(est)
    assert c.get_params() == params and not hasattr(c, "result_")


@needs_torch
def test_estimator_hidden_layer_sizes_and_random_state(square_data, capsys):
    """Unequal widths build that net; the same random_state gives the same run as train_baseline."""
    X, y = square_data
    s = PAPER_SETTINGS.replace(epochs=3)
    est = BaselineRegressor(hidden_layer_sizes=(6, 4), settings=s, random_state=5, verbose=1).fit(X, y)
    shapes = [tuple(lin.weight.shape) for lin in est.result_.model if hasattr(lin, "weight")]
    assert shapes == [(6, 1), (4, 6), (1, 4)]
    assert est.result_.hidden_layer_sizes == (6, 4) and est.result_.depth == 2
    assert "epoch 3" in capsys.readouterr().out
    r = train_baseline(X, y, hidden_layer_sizes=(6, 4), settings=s, seed=5)
    np.testing.assert_array_equal(est.result_.history["train_mse"], r.history["train_mse"])
    r2 = train_baseline(X, y, depth=2, width=6, settings=s, seed=5)
    assert r2.hidden_layer_sizes == (6, 6)
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        train_baseline(X, y, hidden_layer_sizes=(3, 0), settings=s)


@needs_torch
@pytest.mark.parametrize("kw,name", [
    (dict(optimizer="lbfgs"), "optimizer"), (dict(activation="gelu"), "activation"),
    (dict(depth=0), "depth"), (dict(width=2.5), "width"), (dict(dtype="float16"), "dtype"),
    (dict(target_mse=-1.0), "target_mse"), (dict(settings={"epochs": 3}), "settings")])
def test_train_rejects_bad_arguments(square_data, kw, name):
    X, y = square_data
    with pytest.raises(ValueError, match=name):
        train_baseline(X, y, **kw)


@needs_torch
def test_train_rejects_bad_data(square_data):
    X, y = square_data
    with pytest.raises(ValueError, match="y"):
        train_baseline(X, y[:-1])
    with pytest.raises(ValueError, match="X"):
        train_baseline(np.full((4, 1), np.nan), np.zeros(4))
    with pytest.raises(ValueError, match="y_test"):
        train_baseline(X, y, X_test=X)


@needs_torch
def test_baseline_regressor_passes_check_estimator():
    import warnings

    from sklearn.utils.estimator_checks import check_estimator

    from sigadmm.baselines import PAPER_SETTINGS, BaselineRegressor

    est = BaselineRegressor(hidden_layer_sizes=(8,), settings=PAPER_SETTINGS.replace(epochs=30))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(est, on_fail=None)
    failed = {r["check_name"]: str(r["exception"])[:200] for r in results if r["status"] == "failed"}
    assert not failed, failed
