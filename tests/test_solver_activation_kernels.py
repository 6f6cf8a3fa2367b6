"""The float64 activation kernels (solver.activation_kernels) against theory's numpy forms."""

import numba
import numpy as np
import pytest
import sympy as sp

from solver import activation_kernels as AK
from theory.activations import BUILTINS, Activation

T = np.concatenate([np.linspace(-40, 40, 2001), [-745.0, -700.0, -1e-300, 0.0, 1e-300, 700.0, 745.0]])


@numba.njit
def _eval(kid, t, f, d1):
    for i in range(t.shape[0]):
        f[i] = AK.dispatch_f(kid, t[i])
        d1[i] = AK.dispatch_d1(kid, t[i])


@pytest.mark.parametrize("name", list(AK.REGISTRY))
def test_registry_kernels_match_numpy(name):
    act = BUILTINS[name]
    kid = AK.kernel_id(act)
    assert kid == AK.KERNEL_IDS[name]
    f, d1 = np.empty_like(T), np.empty_like(T)
    _eval(kid, T, f, d1)
    np.testing.assert_allclose(f, act(T), rtol=1e-12, atol=1e-300)  # erfc vs ndtr in the far tail
    np.testing.assert_allclose(d1, act.d1(T), rtol=1e-12, atol=4e-16)  # 1 - tanh^2: absolute accuracy
    f2, d2 = AK.REGISTRY[name][0], AK.REGISTRY[name][2]
    assert f2(0.3) == pytest.approx(float(act(np.array([0.3]))[0]), rel=1e-15)
    assert d2(0.3) == pytest.approx(float(act.d2(np.array([0.3]))[0]), rel=1e-12, abs=1e-300)


def test_registry_covers_every_smooth_builtin_and_ids_are_distinct():
    smooth = {n for n, a in BUILTINS.items() if a.is_smooth and not a.is_linear}
    assert smooth <= set(AK.REGISTRY)
    assert len(set(AK.KERNEL_IDS.values())) == len(AK.KERNEL_IDS)


def test_a_user_activation_cannot_reuse_a_builtin_name_and_gets_no_kernel():
    t = sp.Symbol("t")
    with pytest.raises(ValueError, match="built-in activation 'sigmoid'"):
        Activation.from_expr(1 / (1 + sp.exp(-3 * t)), t, "sigmoid")   # refused, not swapped
    steep = Activation.from_expr(1 / (1 + sp.exp(-3 * t)), t, "steep3")
    assert AK.kernel_id(steep) is None
    assert AK.kernel_id(Activation.from_expr(1 / (1 + sp.exp(-t)), t, "sigmoid")) == AK.SIGMOID
