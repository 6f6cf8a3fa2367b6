"""A second training method built on the solver core, for the tests: plain gradient descent
on the lifted variables.

It minimises the quadratic-penalty form of the lifted problem,
``f(W, V) = 1/2 ||V_N - Y||^2 + lam/2 sum_i ||W_i||^2 + rho/2 sum_i ||F_i(W, V)||^2``
(``F_i`` the constraint residuals of docs/algorithm.md#notation), by simultaneous gradient
steps of size ``lr`` on every block.  It is the smallest honest method: an engine (below),
a schema, an estimator class that only lists its parameters, and one registration (the
last line).  Everything else
(checkpoint/resume, Ctrl-C, progress bar, callback, keep_best, non-finite stop, sklearn
compatibility) comes from :func:`solver.core.solve` and :class:`solver.LiftedRegressor`.
"""

import numpy as np

from solver import Field, LiftedRegressor, Schema, network_forward, steps
from solver.params import integer, real
from solver.base import LOOP_CONSTRAINTS
from solver.registry import Method, register_method
from theory.activations import Activation, get_activation

GD_SCHEMA = Schema("lifted_gd", (
    Field("objective", "run", "f(W^k, V^k), the penalised lifted objective", guard=True),
    Field("grad_norm", "run", "||grad f(W^{k-1}, V^{k-1})||, the step's gradient norm"),
    Field("feas", "layer", "||F_i(W^k, V^k)||_F", guard=True),
))


class GDState:
    def __init__(self, W, V, k=0):
        self.W, self.V, self.k = list(W), list(V), int(k)

    def arrays(self, prefix=""):
        out = {f"{prefix}k": np.asarray(self.k)}
        out.update({f"{prefix}W{j}": w for j, w in enumerate(self.W)})
        out.update({f"{prefix}V{j}": v for j, v in enumerate(self.V)})
        return out


class LiftedGDEngine:
    name = "lifted_gd"

    def __init__(self, act, X, Y, lam, rho, lr):
        self.act, self.lam, self.rho, self.lr = act, lam, rho, lr
        self.X, self.Y = np.ascontiguousarray(X.T), np.ascontiguousarray(Y.T)

    def initial_state(self, weights):
        W = [np.hstack([w, b[:, None]]) for w, b in weights]
        V, _ = steps.initial_point(W, self.X, self.act)
        return GDState(W, V)

    def _objective(self, W, V):
        F = steps.constraint_residuals(W, V, self.X, self.act)
        f = (0.5 * np.sum((V[-1] - self.Y) ** 2) + 0.5 * self.lam * sum(np.sum(w * w) for w in W)
             + 0.5 * self.rho * sum(np.sum(r * r) for r in F))
        return float(f), F

    def iterate(self, st, row, *, track=True, train=True):
        W, V, N, rho = st.W, st.V, len(st.W), self.rho
        _, F = self._objective(W, V)
        A = [steps.augment(self.X)] + [steps.augment(v) for v in V[:-1]]
        P = [F[j] * self.act.d1(W[j] @ A[j]) if j < N - 1 else F[j] for j in range(N)]
        gW = [self.lam * W[j] + rho * P[j] @ A[j].T for j in range(N)]
        gV = [-rho * F[j] + rho * W[j + 1][:, :-1].T @ P[j + 1] for j in range(N - 1)]
        gV.append(V[-1] - self.Y - rho * F[-1])
        st.W = [w - self.lr * g for w, g in zip(W, gW)]
        st.V = [v - self.lr * g for v, g in zip(V, gV)]
        f, F = self._objective(st.W, st.V)
        row["objective"] = f
        row["grad_norm"] = float(np.sqrt(sum(np.sum(g * g) for g in gW + gV)))
        row["feas"] = [np.linalg.norm(r) for r in F]
        if train:
            row["train_mse"] = float(np.mean((self.forward(st.W, self.X) - self.Y) ** 2))
        st.k += 1

    def forward(self, W, X):
        return network_forward(W, X, self.act)

    @staticmethod
    def criterion(row, track):
        return row["grad_norm"]

    @staticmethod
    def state_from_arrays(z, prefix):
        N = sum(1 for key in z.keys() if key.startswith(f"{prefix}W"))
        return GDState([np.array(z[f"{prefix}W{j}"]) for j in range(N)],
                       [np.array(z[f"{prefix}V{j}"]) for j in range(N)], int(z[f"{prefix}k"]))


class LiftedGD(LiftedRegressor):
    """Gradient descent on the lifted variables (see the module docstring)."""

    _schema = GD_SCHEMA

    _parameter_constraints = {
        **LOOP_CONSTRAINTS,
        "hidden_layer_sizes": ["array-like", integer(1, None)],
        "activation": [str, Activation],
        "lam": [real(0, None)],
        "rho": [real(0, None, closed="neither")],
        "lr": [real(0, None, closed="neither")],
    }

    def __init__(self, *, hidden_layer_sizes=(8,), activation="sigmoid", lam=1e-3, rho=1.0, lr=0.02,
                 init="msra", init_scale=1.0, max_iter=100, tol=0.0, random_state=None, keep_best=False,
                 callback=None, verbose=0, checkpoint=None, checkpoint_every=10):
        self.hidden_layer_sizes, self.activation, self.lam, self.rho, self.lr = (
            hidden_layer_sizes, activation, lam, rho, lr)
        self.init, self.init_scale, self.max_iter, self.tol, self.random_state = (
            init, init_scale, max_iter, tol, random_state)
        self.keep_best, self.callback, self.verbose, self.checkpoint, self.checkpoint_every = (
            keep_best, callback, verbose, checkpoint, checkpoint_every)

    def _validate_method_params(self, n_outputs):
        return {"hidden_layer_sizes": tuple(int(h) for h in self.hidden_layer_sizes),
                "activation": get_activation(self.activation, "activation")}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True  # a toy: plain GD on the penalty form fits slowly
        return tags

    def _make_engine(self, X, Y, p):
        return LiftedGDEngine(p["activation"], X, Y, float(self.lam), float(self.rho), float(self.lr))


#: the one registration: ``solver.METHODS``, trace loading, ``sigadmm compare`` and
#: ``verify.claims_table`` know the method from it
register_method(Method("lifted_gd", __name__, ("LiftedGD",), "GD_SCHEMA", "LiftedGDEngine",
                       title="lifted GD (test method)"))
