"""Generated bad inputs to the public API and the CLI: only the documented outcomes.

* ``ADMM`` constructor parameters and ``fit``/``predict`` data: a bad value raises
  ``ValueError`` (``TypeError`` for non-numbers) whose message names the argument, before
  any work; never another exception, never a fitted model.
* ``Trace.load`` on arbitrary bytes: ``ValueError`` naming the path.
* ``sweep.grid``/``settings_key``/``run_sweep`` arguments: ``ValueError`` naming the argument.
* ``sigadmm train``/``certify``/``reproduce`` with generated bad option values: exit 2, one
  ``Error`` line, no traceback.

The kinds of the issue's table: shapes, dtypes, non-finite values, ranges, names, paths.
Example counts come from the hypothesis profile (``ci``: 15 per property).
"""

from __future__ import annotations

import math
from fractions import Fraction
import warnings

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from sigadmm.cli import main
from solver import ADMM, Trace

FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
X0 = np.random.default_rng(0).uniform(-1, 1, (12, 2))
Y0 = X0[:, 0] ** 2
BASE = dict(hidden_layer_sizes=(3,), max_iter=2, random_state=0)

nonfinite = st.sampled_from([math.nan, math.inf, -math.inf])
not_a_number = st.sampled_from(["1", None, [1.0], {"a": 1}, object(), b"x"])

# parameter -> strategy of values it must refuse
BAD_PARAMS = {
    "max_iter": st.one_of(st.integers(max_value=0), st.floats(allow_nan=True), st.just(True), not_a_number),
    "tol": st.one_of(st.floats(max_value=-1e-300), nonfinite, not_a_number),
    "random_state": st.one_of(st.integers(max_value=-1), st.floats(0.5, 9.5),
                              not_a_number.filter(lambda v: v is not None)),  # None: a valid value
    "checkpoint_every": st.one_of(st.integers(max_value=0), not_a_number),
    "verbose": st.one_of(st.integers(max_value=-1), not_a_number),
    "hidden_layer_sizes": st.one_of(st.just(()), st.lists(st.integers(max_value=0), min_size=1, max_size=3),
                                    st.lists(st.floats(0.5, 3.5), min_size=1, max_size=2)),
    "beta": st.one_of(st.floats(max_value=0), nonfinite, st.lists(st.floats(0.1, 2), min_size=3, max_size=4)),
    "lam": st.one_of(st.floats(max_value=-1e-300), nonfinite),
    "init": st.text(min_size=1, max_size=8).filter(lambda s: s not in ("msra", "xavier", "lecun_normal",
                                                                         "lecun_uniform", "orth_normal",
                                                                         "orth_uniform")),
    "init_scale": st.one_of(st.floats(max_value=0), nonfinite),
    "activation": st.one_of(st.sampled_from(["relu", "nope", ""]), st.integers()),
    "curvature": st.text(max_size=8).filter(lambda s: s not in ("theory", "reference")),
    "curvature_factor": st.one_of(st.floats(max_value=0), nonfinite),
    "engine": st.text(max_size=8).filter(lambda s: s not in ("numba", "numpy", "reference")),
}


@FUZZ
@given(data=st.data(), name=st.sampled_from(sorted(BAD_PARAMS)))
def test_bad_constructor_parameter_is_refused_naming_it(data, name):
    value = data.draw(BAD_PARAMS[name], label=name)
    m = ADMM(**{**BASE, name: value})
    with pytest.raises((ValueError, TypeError)) as exc:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(X0, Y0)
    assert name in str(exc.value), (name, value, str(exc.value))
    assert not hasattr(m, "weights_")


@st.composite
def bad_arrays(draw):
    """An array-like that ``fit``/``predict`` must refuse, of one of the kinds below."""
    kind = draw(st.sampled_from(["nan", "inf", "complex", "object", "string", "shape0", "cols0", "ndim3",
                                 "ragged", "sparse"]))
    n = draw(st.integers(1, 6))
    if kind in ("nan", "inf"):
        a = np.ones((n, 2))
        a[draw(st.integers(0, n - 1)), draw(st.integers(0, 1))] = np.nan if kind == "nan" else -np.inf
        return a
    if kind == "complex":
        return np.ones((n, 2)) * (1 + 1j)
    if kind == "object":
        return np.array([[object(), 1.0]] * n, dtype=object)
    if kind == "string":
        return np.array([["a", "b"]] * n)
    if kind == "shape0":
        return np.zeros((0, 2))
    if kind == "cols0":
        return np.zeros((n, 0))
    if kind == "ndim3":
        return np.zeros((n, 2, 2))
    if kind == "ragged":
        return [[1.0, 2.0], [1.0]]
    import scipy.sparse as sp

    return sp.csr_matrix(np.ones((n, 2)))


def as_target(bad):
    """A single-output target made from a two-column bad array, keeping its defect.

    Issue 27: taking the first column of ``[[1, nan], [1, 1], ...]`` gave ``[1, 1, ...]``, a valid
    target, so the old test expected a refusal of good data.  A float array keeps the column
    with the most non-finite entries; other kinds (complex, object, string) are bad in every
    column."""
    if not isinstance(bad, np.ndarray) or bad.ndim != 2 or bad.shape[1] != 2:
        return bad
    if bad.dtype.kind == "f":
        return bad[:, int(np.argmax((~np.isfinite(bad)).sum(axis=0)))]
    return bad[:, 0]


def test_as_target_keeps_the_defect():
    """The reduction must not launder the bad value (the thorough profile's counter-example)."""
    for j in (0, 1):
        a = np.ones((4, 2))
        a[0, j] = np.nan
        assert np.isnan(as_target(a)).any()
    assert as_target(np.ones((3, 2)) * (1 + 1j)).dtype.kind == "c"


@FUZZ
@given(bad=bad_arrays(), which=st.sampled_from(["X", "y", "X_test", "y_test"]))
@example(bad=np.array([[1, np.nan], [1, 1], [1, 1], [1, 1]]), which="y_test")   # issue 27, failure 1
@example(bad=np.array([[np.inf, 1.0]]), which="y")
def test_bad_data_is_refused_naming_the_argument(bad, which):
    X, y, Xt, yt = X0, Y0, X0[:4], Y0[:4]
    kw = {"X": X, "y": y, "X_test": Xt, "y_test": yt}
    if which.startswith("y"):
        bad = as_target(bad)
    kw[which] = bad
    with pytest.raises((ValueError, TypeError)) as exc:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ADMM(**BASE).fit(kw["X"], kw["y"], X_test=kw["X_test"], y_test=kw["y_test"])
    assert which in str(exc.value), (which, str(exc.value))


@FUZZ
@given(bad=bad_arrays())
def test_predict_refuses_bad_input_naming_X(bad):
    m = ADMM(**BASE).fit(X0, Y0)
    with pytest.raises((ValueError, TypeError)) as exc:
        m.predict(bad)
    assert "X" in str(exc.value)


@FUZZ
@given(blob=st.binary(max_size=300))
def test_trace_load_of_arbitrary_bytes(tmp_path, blob):
    p = tmp_path / "x.npz"
    p.write_bytes(blob)
    with pytest.raises(ValueError) as exc:
        Trace.load(p)
    assert str(p) in str(exc.value)


@FUZZ
@given(value=st.one_of(st.just([]), st.just(()), st.sets(st.integers(), max_size=2), st.builds(object)),
       reserved=st.sampled_from(["key", "trial", "seed", "status", "error", "_v", "_sha256"]))
def test_sweep_arguments(value, reserved):
    from sigadmm.sweep import grid, run_sweep, settings_key

    with pytest.raises(ValueError, match=reserved):
        grid(**{reserved: [1]})
    if isinstance(value, (list, tuple)):
        with pytest.raises(ValueError, match="depth"):
            grid(depth=value)
    else:
        with pytest.raises(ValueError, match="settings"):
            settings_key({"a": value})
    with pytest.raises(ValueError, match="trials"):
        run_sweep(lambda s, seed: {}, [{"a": 1}], trials=0, scheduler="synchronous", progress=False)
    with pytest.raises(ValueError, match="out"):
        run_sweep(lambda s, seed: {}, [{"a": 1}], trials=1, out="t.txt", scheduler="synchronous")


# ------------------------------------------------------------------ the CLI
bad_float = st.one_of(st.sampled_from(["nan", "inf", "-inf", "abc", "", "1e999"]), st.floats(max_value=-1e-9).map(repr))
bad_int = st.one_of(st.sampled_from(["-1", "0", "1.5", "x", ""]), st.integers(max_value=0).map(str))

TRAIN_BAD = {"--noise": st.one_of(st.sampled_from(["nan", "inf", "x"]), st.floats(max_value=-1e-9).map(repr)),
             "--seed": st.one_of(st.sampled_from(["-1", "x", "1.5"]), st.integers(max_value=-1).map(str)),
             "--lam": st.one_of(st.sampled_from(["nan", "inf", "x"]), st.floats(max_value=-1e-9).map(repr)),
             "--iters": bad_int, "--n": bad_int, "--hidden": bad_int,
             "--beta": bad_float, "--init-scale": bad_float, "--curvature-factor": bad_float,
             "--init": st.text(alphabet="abcxyz", min_size=1, max_size=6),
             "--activation": st.sampled_from(["relu", "nope", "x2"])}
CERTIFY_BAD = {"--eps": st.one_of(st.sampled_from(["nan", "inf", "0", "1", "2", "-1e-3", "x"])),
               "--M": st.sampled_from(["nan", "inf", "0", "-1", "x"]),
               "--max-boxes": st.sampled_from(["0", "-5", "x"]),
               "--scale-output": st.sampled_from(["nan", "inf", "x"]),
               "--dps": st.sampled_from(["0", "-1", "x", "14"])}
REPRO_BAD = {"--trials": bad_int, "--workers": bad_int,
             "--tasks": st.text(alphabet="abcxyz,", min_size=1, max_size=8).filter(
                 lambda s: not set(x for x in s.split(",") if x) <= {"square", "product", "radial",
                                                                        "smooth_radial"} or not s.strip(",")),
             "--only": st.text(alphabet="abcxyz,", min_size=1, max_size=8),
             "--scheduler": st.text(alphabet="abcxyz:/", min_size=1, max_size=8).filter(
                 lambda s: s not in ("local", "synchronous"))}


def _assert_exit_2(r):
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert sum(ln.startswith("Error") for ln in r.output.splitlines()) == 1, r.output


@FUZZ
@given(data=st.data(), sub=st.sampled_from(["train", "certify", "reproduce"]))
def test_cli_bad_option_values_exit_2(tmp_path, data, sub):
    table = {"train": TRAIN_BAD, "certify": CERTIFY_BAD, "reproduce": REPRO_BAD}[sub]
    opt = data.draw(st.sampled_from(sorted(table)), label="option")
    val = data.draw(table[opt], label="value")
    assume(not val.startswith("-") or val[1:2].isdigit() or val in ("-inf",))
    args = [sub, opt, val]
    if sub == "train":
        args += ["--iters", "1", "--n", "5", "--quiet", "--out", str(tmp_path / "r.npz")] if opt not in (
            "--iters", "--n") else ["--quiet", "--out", str(tmp_path / "r.npz")]
    if sub == "reproduce":
        args += ["--out", str(tmp_path / "rep"), "--no-progress", "--only", "certify"] if opt != "--only" else [
            "--out", str(tmp_path / "rep"), "--no-progress"]
        if opt == "--workers":
            args += ["--scheduler", "local"]
    _assert_exit_2(CliRunner().invoke(main, args))


# issue 27's thorough run: an int beyond int64 made the finiteness test raise a bare TypeError
# (np.isfinite) instead of the ParameterError that names the parameter; every size of int and a
# Fraction beyond float's range must be judged, never crash the validation.
@pytest.mark.parametrize("name", ["checkpoint_every", "verbose", "random_state", "lam", "tol",
                                  "init_scale", "curvature_factor"])
@pytest.mark.parametrize("value", [-(2 ** 63) - 1, -(10 ** 400), Fraction(-(10 ** 400), 3)])
def test_huge_negative_numbers_are_refused_naming_the_parameter(name, value):
    m = ADMM(**{**BASE, name: value})
    with pytest.raises(ValueError, match=name):
        m.fit(X0, Y0)
    assert not hasattr(m, "weights_")
