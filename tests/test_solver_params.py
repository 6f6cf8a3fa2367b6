"""Declarative parameters (issue 20, item 5): every estimator declares its parameters'
constraints (scikit-learn's ``_parameter_constraints``) and is validated through them; a bad
value is a :class:`solver.ParameterError` naming the parameter in ``.param``."""

import inspect
import warnings

import numpy as np
import pytest
from sklearn.utils._param_validation import Interval, StrOptions, generate_invalid_param_val, make_constraint

from solver import ParameterError, tasks
from solver.registry import BUILTIN

ESTIMATORS = [m.estimator_class(e) for m in BUILTIN for e in m.estimators]
SMALL = {"hidden_layer_sizes": (3,), "max_iter": 1, "random_state": 0}


@pytest.fixture(scope="module")
def data():
    X, y, _, _ = tasks.make_task("product", n=20, seed=0, n_test=1)
    return X, y


def _fit(est, data):
    X, y = data
    if type(est).__name__.endswith("Classifier"):
        y = (y > np.median(y)).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_every_parameter_is_declared(cls):
    assert set(cls._parameter_constraints) == set(cls().get_params())


def _invalid_cases():
    """(estimator, parameter, value): for each declared Interval/StrOptions constraint a value
    scikit-learn generates outside it that satisfies none of the parameter's constraints."""
    for cls in ESTIMATORS:
        for name, spec in cls._parameter_constraints.items():
            cons = [make_constraint(c) for c in spec]
            for i, c in enumerate(cons):
                if not isinstance(c, (Interval, StrOptions)):
                    continue
                try:
                    bad = generate_invalid_param_val(c)
                except NotImplementedError:
                    continue
                if not any(o.is_satisfied_by(bad) for o in cons):
                    # the id must not print ``bad``: a StrOptions' invalid value lists its options
                    # in set order, which differs between processes (pytest-xdist refuses the run)
                    yield pytest.param(cls, name, bad, id=f"{cls.__name__}-{name}-{type(c).__name__}{i}")
            yield pytest.param(cls, name, object(), id=f"{cls.__name__}-{name}-object")


@pytest.mark.parametrize("cls, name, bad", list(_invalid_cases()))
def test_a_value_outside_the_declaration_is_a_parameter_error_naming_it(cls, name, bad, data):
    est = cls(**{k: v for k, v in SMALL.items() if k != name})
    est.set_params(**{name: bad})
    with pytest.raises(ParameterError) as exc:
        _fit(est, data)
    assert exc.value.param == name and str(exc.value).startswith(f"{name}: expected")
    assert isinstance(exc.value, ValueError) and not hasattr(est, "trace_")


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", ["max_iter", "tol", "init_scale", "checkpoint_every"])
def test_a_bool_is_not_a_number(cls, name, data):
    est = cls(**SMALL).set_params(**{name: True})
    with pytest.raises(ParameterError) as exc:
        _fit(est, data)
    assert exc.value.param == name


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda c: c.__name__)
def test_settings_are_the_parameters(cls, data):
    """The run's settings: every parameter except the declared non-settings (under its
    setting name), then the method's extras; numbers typed as declared."""
    est = _fit(cls(**SMALL), data)
    s = est._settings(est._validate_method_params(est.n_outputs_))
    names = {est._setting_names.get(n, n) for n in est.get_params() if n not in est._not_settings}
    assert names <= set(s) and set(s) - names <= set(est._extra_settings(est._validate_method_params(est.n_outputs_)))
    assert s["max_iter"] == 1 and type(s["max_iter"]) is int and type(s["tol"]) is float


def test_dladmm_and_its_classifier_share_their_parameters():
    from solver import DLADMM, DLADMMClassifier

    reg, clf = DLADMM().get_params(), DLADMMClassifier().get_params()
    assert set(reg) - set(clf) == {"loss"} and all(clf[k] == reg[k] for k in clf)
    assert DLADMMClassifier(rho=0.5).rho == 0.5
    with pytest.raises(TypeError, match="loss"):
        DLADMMClassifier(loss="squared")


def test_one_place_for_the_default_lam():
    from sigadmm.cli import train_cmd, verify_cmd
    from solver import ADMM
    from solver.admm.defaults import ADMM_DEFAULTS

    sig = inspect.signature(ADMM).parameters
    assert all(sig[k].default == v for k, v in ADMM_DEFAULTS.items())
    for cmd in (train_cmd.train, verify_cmd.verify):
        (lam,) = [p for p in cmd.params if p.name == "lam"]
        assert lam.default == ADMM_DEFAULTS["lam"] == 1e-6


def test_the_cli_names_the_option_from_param_not_from_the_text():
    from sigadmm.cli import _option_for, main

    exc = ParameterError("curvature_factor", "a message that names nothing")
    assert _option_for(main, ["train", "--task", "square"], exc) == "--curvature-factor"
    assert _option_for(main, ["train"], ValueError("lam: expected ...")) == "--lam"
