"""verify.phase.phase_plane: the (beta_1, lambda) plane at fixed beta_2 (a small grid)."""

import numpy as np
import pytest

from verify.phase import phase_plane


@pytest.fixture(scope="module")
def plane():
    return phase_plane("square", lams=(1e-2, 1.0), beta1s=(0.1, 10.0, 1e3, 1e5), beta_rest=(2.0,),
                       seeds=(0,), iters=60)


def test_regions_are_nested_and_the_boundary_scales_with_lambda(plane):
    o, a = plane.observed, plane.a_posteriori
    s, d = plane.derived_sharp, plane.derived_old
    # a proof implies the observation: every certified / derived point shows descent
    assert np.all(o[a >= 1] >= 1) and np.all(a[s >= 1] >= 1) and np.all(s[d >= 1] >= 1)
    assert o[:, 0].max() == 0                    # beta_1 = 0.1: no descent at either lambda
    assert o[:, -1].min() == 1                   # beta_1 = 1e5: descent everywhere
    bo = plane.boundary("observed")
    assert bo[0] > bo[1]                         # smaller lambda needs a larger beta_1
    assert "observed x lambda" in plane.table()


def test_plot_and_table(plane, tmp_path):
    fig = plane.plot(tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 0
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_custom_runner_and_errors():
    calls = []

    def runner(X, y, w0, beta, lam, act, iters):
        from solver import ADMM
        calls.append(beta)
        return ADMM(hidden_layer_sizes=(3,), lam=lam, beta=beta, max_iter=iters, verbose=0,
                    engine="numpy").fit(X, y, init_weights=w0).trace_
    pl = phase_plane("square", lams=(1.0,), beta1s=(1e3,), seeds=(0,), iters=20, width=3,
                     runner=runner)
    assert calls == [[1e3, 2.0]] and pl.observed.shape == (1, 1)
    with pytest.raises(ValueError, match="beta_rest"):
        phase_plane("square", beta_rest=(2.0, 2.0), depth=1)
