"""solver.admm.extprec: Algorithm 1 at a chosen precision (python-flint arb).

* where float64 resolves every block, the extended-precision run agrees with the float64
  reference steps (solver.admm.steps) to ~1e-12 relative on the iterates' norms, L_beta and the KKT
  residual (to ~1e-11 on the steps, which float64 forms by cancellation);
* where it does not (derived depth-3 tanh schedule), the run agrees with itself at two
  precisions to ~1e-12 while float64 does not, and with the independent mpmath transcription
  (verify.highprec) at 50 digits;
* the trace records its precision; the numerical-validity guard reads it;
* ball mode: enclosures contain the midpoint run's values.
"""

import numpy as np
import pytest
import sympy as sp

from solver import init_weights, tasks
from solver.admm import extprec
from theory import Activation
from verify import conditions as C
from verify import highprec

FIELDS = ("lagrangian", "normW", "normV", "normLam", "dW2", "dV2", "feas", "kkt_total")


def _prob(depth=2, n=24, width=3, task="square", seed=0):
    t = tasks.make_task(task, n=n, seed=seed, n_test=0)
    w0 = init_weights((t.X.shape[1],) + (width,) * depth + (1,), "lecun_normal", 1.0, seed)
    return t, w0


def _maxrel(a, b, fields=FIELDS):
    d = highprec.compare(a, b, fields=fields)
    return {k: float(np.max(v)) for k, v in d.items()}


@pytest.mark.parametrize("depth,act", [(1, "sigmoid"), (2, "tanh"), (3, "sigmoid")])
def test_agrees_with_float64_where_float64_is_valid(depth, act):
    t, w0 = _prob(depth)
    kw = dict(beta=[8.0] * depth + [2.0], lam=1.0, activation=act, iters=8)
    ep = extprec.run(t.X, t.y, w0, prec=128, **kw)
    f64 = highprec.run_float64(t.X, t.y, w0, **kw)
    assert C.numerical_validity(f64)["flagged"] == []
    # iterate-level quantities agree to ~1e-12 (measured <= 1e-12); the step norms and
    # residuals are float64 differences of nearly equal numbers (measured <= 4e-11)
    rel = _maxrel(f64, ep, ("lagrangian", "normW", "normV", "normLam", "kkt_total"))
    assert max(rel.values()) < 1e-11, rel
    rel = _maxrel(f64, ep, ("dW2", "dV2", "feas", "dLam2"))
    assert max(rel.values()) < 1e-9, rel


def test_two_precisions_agree_where_float64_does_not():
    t, w0 = _prob(3)
    c = C.derive_from_data(3, "tanh", X=t.X, y=t.y, init_weights=w0, lam=1.0)
    assert C.numerical_validity(conditions=c)["flagged"]       # float64 cannot resolve layer 1
    kw = dict(iters=6, **c.kwargs)
    lo = extprec.run(t.X, t.y, w0, prec=128, **kw)
    hi = extprec.run(t.X, t.y, w0, prec=256, **kw)
    rel = _maxrel(lo, hi, FIELDS + ("dLam2",))
    assert max(rel.values()) < 1e-12, rel
    f64 = highprec.run_float64(t.X, t.y, w0, **kw)
    assert _maxrel(f64, hi, ("dLam2",))["dLam2"] > 1e-6            # float64's dual steps are noise
    mp = highprec.run(t.X, t.y, w0, dps=50, **dict(kw, iters=3))    # independent transcription
    assert max(_maxrel(mp, hi, FIELDS + ("dLam2",)).values()) < 1e-12


def test_trace_records_the_precision_and_the_guard_scales_with_it():
    t, w0 = _prob(2)
    tr = extprec.run(t.X, t.y, w0, beta=[1e13, 1e3, 2.0], lam=1.0, iters=4, prec=160)
    assert tr.meta["precision_bits"] == 160 and tr.meta["eps"] == 2.0 ** -159
    assert "extprec" in tr.meta["engine_used"] and tr.meta["n_samples"] == 24
    assert C.numerical_validity(tr)["flagged"] == []                 # unit 2^-159
    assert C.numerical_validity(tr, eps=2.0 ** -52)["flagged"] == [0]  # the same run, float64's unit
    assert len(tr) == 4 and np.all(np.isfinite(tr.kkt_total[:4]))


def test_ball_mode_encloses_the_midpoint_run():
    t, w0 = _prob(2, n=12)
    kw = dict(beta=[50.0, 10.0, 2.0], lam=1.0, iters=5, prec=128)
    mid = extprec.run(t.X, t.y, w0, **kw)
    ball = extprec.run(t.X, t.y, w0, ball=True, **kw)
    e = ball.meta["enclosures"]
    lo, hi = np.array(e["lagrangian_lo"]), np.array(e["lagrangian_hi"])
    assert np.all(lo <= ball.lagrangian[:5]) and np.all(ball.lagrangian[:5] <= hi)
    assert np.all(hi - lo <= 4e-16 * np.abs(hi))                     # outward-rounded floats
    assert np.all(np.array(e["lagrangian_rad"]) < 1e-20 * np.abs(hi))  # the ball: tight at 128 bits
    assert np.allclose(mid.lagrangian[:5], ball.lagrangian[:5], rtol=1e-25, atol=0)


def test_bad_input_is_refused():
    t, w0 = _prob(1)
    with pytest.raises(ValueError, match="prec"):
        extprec.run(t.X, t.y, w0, beta=2.0, lam=1.0, iters=2, prec=32)
    with pytest.raises(ValueError, match="beta"):
        extprec.run(t.X, t.y, w0, beta=[-1.0, 2.0], lam=1.0, iters=2)
    with pytest.raises(ValueError, match="lam"):
        extprec.run(t.X, t.y, w0, beta=2.0, lam=0.0, iters=2)
    x = sp.Symbol("t", real=True)
    odd = Activation.from_expr(sp.besselj(0, x) * 0 + 1 / (1 + sp.exp(-x)) + sp.gamma(2) * 0, x,
                               "plain_sigmoid")
    assert extprec.ArbActivation(odd)                               # exp only: supported
    with pytest.raises(ValueError, match="activation"):
        extprec.ArbActivation(Activation.from_expr(sp.erfc(x) / 2, x, "erfc_half"))


def test_enclosed_descent_is_decided_on_the_enclosures():
    """Lemma 14 on ball enclosures (verify.enclosed): the derived constants hold at every step
    of a ball run; a descent constant above the run's smallest margin fails; a midpoint run
    (no enclosures) is refused."""
    from verify import sufficient_descent
    from verify.enclosed import enclosed_descent

    t, w0 = _prob(1, n=16)
    c = C.derive_from_data(1, "sigmoid", X=t.X, y=t.y, init_weights=w0, lam=1.0)
    tr = extprec.run(t.X, t.y, w0, iters=12, prec=512, ball=True, **c.kwargs)
    res = enclosed_descent(tr, xi=c.xi_layers, a=c.margin)
    assert res["holds"] and res["n_steps"] == 11, res
    m = sufficient_descent(tr, conditions=c).min_margin
    bad = enclosed_descent(tr, xi=c.xi_layers, a=1.5 * m)
    assert not bad["holds"] and bad["first_failure"] is not None
    with pytest.raises(ValueError, match="ball"):
        enclosed_descent(extprec.run(t.X, t.y, w0, iters=3, **c.kwargs), xi=c.xi_layers, a=c.margin)


def test_ball_run_stops_where_the_precision_is_spent():
    """The balls widen each iteration; when a system matrix's enclosure contains a singular
    matrix the run stops with status 'enclosure_lost' and keeps the enclosed iterations."""
    t, w0 = _prob(2, n=12)
    tr = extprec.run(t.X, t.y, w0, beta=[1e6, 1e3, 2.0], lam=1.0, iters=200, prec=64, ball=True)
    assert tr.meta["status"] == "enclosure_lost"
    k = tr.meta["enclosure_lost_at"]
    assert 1 <= k <= 200 and len(tr) == k - 1
    assert len(tr.meta["enclosures"]["lagrangian_lo"]) == k - 1
