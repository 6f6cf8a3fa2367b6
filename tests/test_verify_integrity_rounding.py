"""dual_step's tolerance covers the rounding of ``Lam^k - Lam^(k-1)`` (verify.integrity).

The reference engine records ``dLam2_i = ||Lam_i^k - Lam_i^(k-1)||^2 / beta_i`` from the two
multipliers; when ``||Lam|| >> ||DLam||`` (a derived run, beta_1 ~ 500) that difference
carries ``eps ||Lam||`` per entry, far above ``eps`` times ``|dLam2| + beta ||F||^2``: a good
run was refused at 356 eps (k = 14).  The tolerance now adds ``2 sqrt(dLam2 / beta)
(||Lam^k|| + ||Lam^(k-1)||)`` to the size; a dLam2 that is wrong by more than that rounding is
still refused.
"""

import copy
import warnings

import pytest

from solver import ADMM, init_weights, tasks
from verify import conditions as COND
from verify.integrity import TraceIntegrityError, validate_trace


@pytest.fixture(scope="module", params=[("sigmoid", 1), ("tanh", 1), ("sigmoid", 2)])
def derived_reference_run(request):
    act, depth = request.param
    t = tasks.make_task("square", n=40, seed=0, n_test=0)
    w0 = init_weights((1,) + (4,) * depth + (1,), "lecun_normal", 1.0, 0)
    c = COND.derive_from_data(depth, act, X=t.X, y=t.y, init_weights=w0, lam=1.0)
    kw = {k: v for k, v in c.kwargs.items() if k != "activation"}
    m = ADMM(hidden_layer_sizes=(4,) * depth, max_iter=80, verbose=0, engine="reference",
             activation=act, random_state=0, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(t.X, t.y, init_weights=w0)
    return m.trace_


def test_good_reference_engine_runs_under_derived_penalties_validate(derived_reference_run):
    validate_trace(derived_reference_run)


@pytest.mark.parametrize("k, rel", [(3, 1e-6), (10, 1e-4), (60, 1e-3)])
def test_a_dlam2_off_by_more_than_its_rounding_is_still_refused(derived_reference_run, k, rel):
    tr = copy.deepcopy(derived_reference_run)
    tr.dLam2[k - 1, 0] *= 1 + rel
    with pytest.raises(TraceIntegrityError, match="dLam2"):
        validate_trace(tr)
