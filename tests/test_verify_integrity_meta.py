"""Issue 19, class 2: a trace's meta and its columns are checked before they are believed.

Every kind is built from a real solver trace of tests/data/adversarial_real_traces.npz and must
be refused (``TraceIntegrityError``) by ``validate_trace``, by each single check, by
``run_checks`` and by ``sigadmm verify --trace F`` (exit 2): a meta value of the wrong type,
non-finite, out of range or contradicting the arrays; a key the solver always writes deleted;
a working precision ``eps`` that is not the run's arithmetic; a required column absent or NaN
at every row (the crash of dLam2 absent with meta['initial'] included).  Good traces (the real
ones, a fresh fit saved and loaded, an optional column not recorded) still validate.  The
property: :func:`verify.strategies.meta_doctoring` (hooked into class c) never gets a PASS.
"""

import copy
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from solver import ADMM, Trace
from verify import TraceIntegrityError, run_checks, validate_trace
from verify import checks as C
from verify import strategies as S
from verify.conditions import numerical_validity
from verify.integrity import ESTIMATOR_KEYS, REQUIRED_COLUMNS

DATA = Path(__file__).parent / "data"
S.load_real_traces(DATA / "adversarial_real_traces.npz")

#: every single-check entry point (the CLI's table and the others that read a trace)
SINGLE = dict(C.CHECKS, descent_diagnostic=C.descent_diagnostic, relative_error=C.relative_error,
              rate_certificate=C.rate_certificate, numerical_validity=numerical_validity)
OPTS = {"sufficient_descent": {"xi": 0.0, "a": 0.5}}


def base(label="sigmoid d1"):
    tr = S.real_case(label).trace
    out = Trace.from_dict(tr.to_dict())
    out.meta = copy.deepcopy(tr.meta)
    return out


def edit(label, key, value):
    tr = base(label)
    tr.meta[key] = value
    return tr


def drop(label, key):
    tr = base(label)
    del tr.meta[key]
    return tr


def column(label, name, how):
    tr = base(label)
    setattr(tr, name, None if how == "absent" else np.full_like(getattr(tr, name), np.nan))
    return tr


def _y_out(label):
    """A ||Y|| outside | ||V_N^k|| - ||Y|| | <= sqrt(2 loss^k) at some row."""
    tr = base(label)
    e = np.sqrt(2 * tr.loss)
    return float(np.min(tr.normV[:, -1] + e)) * 1.5


META_KINDS = [
    ("y_norm inf", lambda L: edit(L, "y_norm", math.inf)),
    ("y_norm negative", lambda L: edit(L, "y_norm", -1.0)),
    ("y_norm a string", lambda L: edit(L, "y_norm", "3.0")),
    ("y_norm off the arrays", lambda L: edit(L, "y_norm", _y_out(L))),
    ("n_layers 5", lambda L: edit(L, "n_layers", 5)),
    ("n_layers True", lambda L: edit(L, "n_layers", True)),
    ("n_samples 1e9 (float)", lambda L: edit(L, "n_samples", 1e9)),
    ("n_samples 10**9 (a0 < sqrt n)", lambda L: edit(L, "n_samples", 10 ** 9)),
    ("n_samples 0", lambda L: edit(L, "n_samples", 0)),
    ("widths wrong length", lambda L: edit(L, "widths", [1, 4, 4, 4, 1])),
    ("widths hidden 400", lambda L: edit(L, "widths", [1] + [400] * (base(L).n_layers - 1) + [1])),
    ("widths with 0", lambda L: edit(L, "widths", [0] + base(L).meta["widths"][1:])),
    ("beta a string", lambda L: edit(L, "beta", "100")),
    ("beta bools", lambda L: edit(L, "beta", [True] * base(L).n_layers)),
    ("beta wrong length", lambda L: edit(L, "beta", [100.0] * (base(L).n_layers + 1))),
    ("beta strings", lambda L: edit(L, "beta", [str(b) for b in base(L).meta["beta"]])),
    ("lam True", lambda L: edit(L, "lam", True)),
    ("lam a string", lambda L: edit(L, "lam", "1.0")),
    ("lam inf", lambda L: edit(L, "lam", math.inf)),
    ("status 3", lambda L: edit(L, "status", 3)),
    ("status unknown", lambda L: edit(L, "status", "finished")),
    ("n_iter a string", lambda L: edit(L, "n_iter", str(len(base(L))))),
    ("n_iter K+5", lambda L: edit(L, "n_iter", len(base(L)) + 5)),
    ("curvature unknown", lambda L: edit(L, "curvature", "exact")),
    ("activation renamed", lambda L: edit(L, "activation", "tanh" if "sigmoid" in L else "sigmoid")),
    ("activation_expr replaced", lambda L: edit(L, "activation_expr", "1/(1 + exp(-t))" if "tanh" in L
                                                else "tanh(t)")),
    ("eps 0", lambda L: edit(L, "eps", 0.0)),
    ("eps 1e-30", lambda L: edit(L, "eps", 1e-30)),
    ("eps 2^-60", lambda L: edit(L, "eps", 2.0 ** -60)),
    ("eps nan", lambda L: edit(L, "eps", math.nan)),
    ("eps True", lambda L: edit(L, "eps", True)),
    ("eps of extprec, float64 engine", lambda L: edit(L, "eps", 2.0 ** -255)),
    ("extprec claimed on a float64 run",
     lambda L: _set(base(L), engine_used="extprec (python-flint arb, 256 bits, ball)",
                    precision_bits=256, eps=2.0 ** -255)),
    ("initial None", lambda L: edit(L, "initial", None)),
] + [(f"meta without {k}", (lambda k: lambda L: drop(L, k))(k)) for k in ESTIMATOR_KEYS]

COLUMN_KINDS = [(f"{f} {how}", (lambda f, how: lambda L: column(L, f, how))(f, how))
                for f in REQUIRED_COLUMNS["admm"] for how in ("absent", "nan")]


def _set(tr, **kw):
    tr.meta.update(kw)
    return tr


def _refused_everywhere(tr, tmp_path, name=None):
    with pytest.raises(TraceIntegrityError) as e:
        validate_trace(tr)
    msg = str(e.value)
    if name is not None:
        assert name in msg, msg
    for nm, fn in SINGLE.items():
        with pytest.raises(TraceIntegrityError) as e1:
            fn(tr, **OPTS.get(nm, {}))
        assert str(e1.value) == msg, nm                    # the same message at every entry point
    with pytest.raises(TraceIntegrityError) as e2:
        run_checks(tr, **OPTS)
    assert str(e2.value) == msg
    from sigadmm.cli import main
    p = tmp_path / "t.npz"
    tr.save(p)
    r = CliRunner().invoke(main, ["verify", "--trace", str(p), "--xi", "0", "--a", "0.5"])
    assert r.exit_code == 2, r.output
    assert "Error" in r.output and "Traceback" not in r.output, r.output
    if name is not None:
        assert name in r.output, r.output
    return msg


@pytest.mark.parametrize("label", ["sigmoid d1", "tanh d2"])
@pytest.mark.parametrize("kind", [k for k, _ in META_KINDS])
def test_meta_doctoring_is_refused_everywhere(kind, label, tmp_path):
    tr = dict(META_KINDS)[kind](label)
    key = kind.split()[-1] if kind.startswith("meta without") else None
    _refused_everywhere(tr, tmp_path, name=key)


@pytest.mark.parametrize("label", ["arctan d1", "sigmoid d2"])
@pytest.mark.parametrize("kind", [k for k, _ in COLUMN_KINDS])
def test_dropped_required_column_is_refused_everywhere(kind, label, tmp_path):
    msg = _refused_everywhere(dict(COLUMN_KINDS)[kind](label), tmp_path, name=kind.split()[0])
    assert "required" in msg


@pytest.mark.parametrize("how", ["absent", "nan"])
@pytest.mark.parametrize("keep_initial", [True, False])
def test_dlam2_dropped_under_a_normlam_spike_is_a_clean_refusal(how, keep_initial, tmp_path):
    """The attacker's crash (TypeError at _descent.py with meta['initial']) and the PASS it hid:
    dLam2 dropped, normLam_1 x1e16 at one row and L_beta raised there."""
    tr = column("tanh d2", "dLam2", how)
    if not keep_initial:
        del tr.meta["initial"]
    nL = tr.normLam.copy()
    nL[100, 0] *= 1e16
    tr.normLam = nL
    du = tr.dual.copy()
    du[100] += tr.lagrangian[99] - tr.lagrangian[100] + 100.0
    tr.dual = du
    tr.lagrangian = tr.loss + tr.reg + tr.dual + tr.penalty
    _refused_everywhere(tr, tmp_path, name="dLam2")


def test_good_traces_validate(tmp_path):
    for label in [s[0] for s in S.REAL_SPECS]:
        validate_trace(S.real_case(label).trace)
    validate_trace(Trace.load(DATA / "feas_plateau_descent_run.npz"))
    tr = base("sigmoid d2")
    tr.meta["eps"] = float(np.finfo(float).eps)          # float64's own unit is accepted
    tr.test_mse = np.full(len(tr), np.nan)               # an optional column, not recorded
    tr.curvature_V = None
    validate_trace(tr)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 2))
    for act, hidden in (("sigmoid", (3,)), ("tanh", (3, 3))):
        m = ADMM(hidden_layer_sizes=hidden, activation=act, max_iter=30, verbose=0).fit(X, np.sin(X[:, 0]))
        validate_trace(m.trace_)
        m.trace_.save(tmp_path / "fresh.npz")
        validate_trace(Trace.load(tmp_path / "fresh.npz"))


def test_old_format_trace_is_refused_naming_what_it_lacks():
    """tests/data/legacy_trace.npz (written before a0, y_norm and meta['initial'] existed, an
    integer status code) still loads, and no check believes it: never a PASS on what it lacks."""
    with pytest.warns(Warning):
        tr = Trace.load(DATA / "legacy_trace.npz")
    with pytest.raises(TraceIntegrityError, match=r"'a0', 'y_norm', 'initial'"):
        validate_trace(tr)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(S.meta_doctoring())
def test_no_meta_doctored_trace_passes_any_check(case):
    """Class c, meta doctoring: no check PASSes a trace whose meta or required columns were
    doctored (a refusal, ValueError, is not a PASS)."""
    assert "PASS" not in case.verdicts().values(), case.kind
