"""The test method's estimator: only its parameters, their declarations and two hooks."""

from solver import LiftedRegressor
from solver.base import LOOP_CONSTRAINTS
from solver.params import integer, real
from theory.activations import Activation, get_activation

from .engine import LiftedGDEngine
from .schema import GD_SCHEMA


class LiftedGD(LiftedRegressor):
    """Gradient descent on the lifted variables (see the package docstring)."""

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
