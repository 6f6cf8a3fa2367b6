"""`verify` in a researcher's own test suite (issue 28).

* a user activation keeps its identity from ``derive_from_data`` through ``ADMM(**c.kwargs)``,
  a saved trace and a checkpoint, and cannot take a built-in's name or alias;
* ``conditions=`` / ``X=`` / ``a0=`` once, at the top level of ``run_checks`` /
  ``assert_converges`` / ``sigadmm verify``; misspelt keywords name themselves.
"""

import json
import warnings

import numpy as np
import pytest
import sympy as sp
from click.testing import CliRunner

from sigadmm.cli import main
from solver import ADMM, Trace, init_weights, tasks
from theory.activations import (BUILTINS, Activation, _same_expr, activation_from_record,
                                check_record, get_activation)
from verify import TraceIntegrityError, assert_converges, conditions, run_checks
from verify.checks import CHECKS, ConvergenceError
from verify.conditions import trace_activation

t = sp.Symbol("t")
#: user activations that differ from every built-in (checked below, not assumed)
USER_EXPRS = {
    "steep_logistic": 1 / (1 + sp.exp(-4 * t)),
    "algebraic": sp.Rational(1, 2) + t / (2 * sp.sqrt(1 + t ** 2)),
    "half_tanh": sp.tanh(t / 2),
    "shifted_erf": (1 + sp.erf(t - 1)) / 2,
}
NAMES_AND_ALIASES = ["sigmoid", "logistic", "Logistic", "tanh", "TANH", "gauss_cdf", "erf",
                     "gauss", "arctan", "atan", "arctan_sigmoid", "relu"]


def _fit(model, X, y, w0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y, init_weights=w0)


def test_user_expressions_differ_from_every_builtin():
    for nm, e in USER_EXPRS.items():
        assert not any(_same_expr(e.subs(t, sp.Symbol("t", real=True)), b.expr)
                       for b in BUILTINS.values()), nm


# ------------------------------------------------------------ names are not swappable
@pytest.mark.parametrize("name", NAMES_AND_ALIASES)
@pytest.mark.parametrize("expr", list(USER_EXPRS.values()), ids=list(USER_EXPRS))
def test_a_user_activation_cannot_take_a_builtin_name_or_alias(name, expr):
    with pytest.raises(ValueError, match=rf"name: '{name}' is .*built-in activation"):
        Activation.from_expr(expr, t, name)
    with pytest.raises(ValueError, match="built-in activation"):   # nor through the dataclass
        Activation(name=name, expr=expr.subs(t, sp.Symbol("t", real=True)))


@pytest.mark.parametrize("name", NAMES_AND_ALIASES)
def test_a_builtins_own_expression_under_its_name_is_the_builtin(name):
    b = get_activation(name)
    assert Activation.from_expr(b.expr, b.symbol, name) is b


def test_a_stored_pair_is_checked_against_the_resolved_activation():
    steep = Activation.from_expr(USER_EXPRS["steep_logistic"], t, "steep_logistic")
    for b in BUILTINS.values():
        assert activation_from_record(b.name, str(b.expr)) is b
        with pytest.raises(ValueError, match="refusing the mismatch"):
            activation_from_record(b.name, str(steep.expr))            # a name swapping the function
    assert activation_from_record("logistic", "exp(t)/(exp(t) + 1)") is BUILTINS["sigmoid"]  # same function
    rebuilt = activation_from_record("steep_logistic", str(steep.expr))
    assert rebuilt == steep
    with pytest.raises(ValueError, match="no expression"):
        activation_from_record("steep_logistic")
    with pytest.raises(ValueError, match="refusing the mismatch"):
        check_record(steep, "steep_logistic", "1/(1 + exp(-3*t))")
    with pytest.raises(ValueError, match="named 'tanh'"):
        check_record(steep, "tanh", "tanh(t)")
    with pytest.raises(ValueError, match="refusing the mismatch"):   # a registry entry is checked too
        activation_from_record("steep_logistic", "1/(1 + exp(-5*t))", known={"steep_logistic": steep})


# ------------------------------------------------------------ the round trip
@pytest.fixture(scope="module")
def user_run(tmp_path_factory):
    """derive_from_data -> ADMM(**c.kwargs) -> fit with a checkpoint, for a user activation."""
    act = Activation.from_expr(USER_EXPRS["steep_logistic"], t, "steep_logistic")
    task = tasks.make_task("square", n=30, seed=0, n_test=0)
    w0 = init_weights((task.X.shape[1], 4, 1), "lecun_normal", 1.0, 0)
    c = conditions.derive_from_data(1, act, X=task.X, y=task.y, init_weights=w0, lam=1.0)
    ck = tmp_path_factory.mktemp("ck") / "run.npz"
    m = _fit(ADMM(hidden_layer_sizes=(4,), max_iter=12, random_state=0, engine="numpy",
                  checkpoint=ck, checkpoint_every=4, **c.kwargs), task.X, task.y, w0)
    return act, task, w0, c, m, ck


def test_user_activation_survives_conditions_fit_trace_and_checkpoint(user_run, tmp_path):
    act, task, w0, c, m, ck = user_run
    assert c.activation is act and c.kwargs["activation"] is act
    assert "steep_logistic" in str(c) and "exp(-4*t)" in str(c)
    meta = m.trace_.meta
    assert (meta["activation"], meta["activation_expr"]) == ("steep_logistic", str(act.expr))
    # the fitted net computes with the user's function, not a built-in's
    W = [np.hstack([w, b[:, None]]) for w, b in m.weights_]
    H = 1 / (1 + np.exp(-4 * (W[0] @ np.vstack([task.X.T, np.ones(len(task.X))]))))
    assert np.allclose(m.predict(task.X), (W[1] @ np.vstack([H, np.ones(H.shape[1])]))[0])
    tr = Trace.load(m.trace_.save(tmp_path / "tr.npz"))
    back = trace_activation(tr)
    assert back == act and _same_expr(back.expr, act.expr)
    # resume from the checkpoint: the same iterates as one uninterrupted run
    kw = dict(hidden_layer_sizes=(4,), max_iter=20, random_state=0, engine="numpy", **c.kwargs)
    resumed = ADMM(checkpoint=ck, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resumed.fit(task.X, task.y, init_weights=w0, resume=True)
    straight = _fit(ADMM(**kw), task.X, task.y, w0)
    assert np.array_equal(resumed.trace_.kkt_total, straight.trace_.kkt_total)
    assert resumed.trace_.meta["activation_expr"] == str(act.expr)


def test_a_trace_whose_name_swaps_the_function_is_refused(user_run, tmp_path):
    act, *_, m, _ = user_run
    tr = Trace.from_dict(m.trace_.to_dict())
    tr.meta["activation"] = "logistic"                      # the old way a name swapped the function
    p = tr.save(tmp_path / "swapped.npz")
    with pytest.raises(ValueError, match="refusing the mismatch"):
        trace_activation(Trace.load(p))
    with pytest.raises(ValueError, match="refusing the mismatch"):
        trace_activation(m.trace_, "sigmoid")                # a given activation is checked too
    assert trace_activation(m.trace_, act) is act
    r = CliRunner().invoke(main, ["verify", "--trace", str(p)])
    assert r.exit_code == 2 and "refusing the mismatch" in r.output, r.output
    r = CliRunner().invoke(main, ["verify", "--trace", str(m.trace_.save(tmp_path / "ok.npz")),
                                  "--activation", "sigmoid"])
    assert r.exit_code == 2 and "steep_logistic" in r.output, r.output


def test_a_checkpoint_with_another_activation_is_refused(user_run, tmp_path):
    from solver.checkpoint import CHECKPOINT_FORMAT
    from solver.npz import read_npz, write_npz

    act, task, w0, c, m, ck = user_run
    z = dict(read_npz(ck, CHECKPOINT_FORMAT, "checkpoint", legacy_ok=lambda f: False))
    for key in ("format_kind", "format_version", "checksum"):
        z.pop(key)
    meta = json.loads(str(z["trace_meta_json"]))
    meta["activation_expr"] = "1/(1 + exp(-3*t))"          # same name and fingerprint, other function
    z["trace_meta_json"] = np.asarray(json.dumps(meta))
    forged = tmp_path / "forged.npz"
    write_npz(forged, z, CHECKPOINT_FORMAT)
    kw = dict(hidden_layer_sizes=(4,), max_iter=20, random_state=0, engine="numpy", **c.kwargs)
    with pytest.raises(ValueError, match="refusing to resume"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ADMM(checkpoint=forged, **kw).fit(task.X, task.y, init_weights=w0, resume=True)


# ------------------------------------------------------------ one keyword for the conditions
@pytest.fixture(scope="module")
def tanh_run():
    task = tasks.make_task("square", n=40, seed=0, n_test=0)
    w0 = init_weights((task.X.shape[1], 5, 1), "lecun_normal", 1.0, 0)
    c = conditions.derive_from_data(1, "tanh", X=task.X, y=task.y, init_weights=w0, lam=1.0)
    m = _fit(ADMM(hidden_layer_sizes=(5,), max_iter=80, random_state=0, engine="numpy", **c.kwargs),
             task.X, task.y, w0)
    return task, c, m


def _summary(res):
    return {nm: (str(r.verdict), r.message) for nm, r in res.items()}


def test_conditions_at_the_top_level_reach_every_check_that_takes_them(tanh_run):
    task, c, m = tanh_run
    takes = [nm for nm in CHECKS if "conditions" in CHECKS[nm].__code__.co_varnames]
    assert set(takes) == {"sufficient_descent", "bounded_iterates", "kkt_rate"}
    once = run_checks(m, conditions=c)
    each = run_checks(m, **{nm: {"conditions": c} for nm in takes})
    none = run_checks(m)
    assert _summary(once) == _summary(each)
    assert _summary(once) != _summary(none)
    for nm in ("sufficient_descent", "kkt_rate"):
        src = once[nm].source if nm == "sufficient_descent" else once[nm].constants["source"]
        src0 = none[nm].source if nm == "sufficient_descent" else none[nm].constants["source"]
        assert src["xi"] == src["a"] == "conditions" and src0["xi"] != "conditions", nm
    res = assert_converges(m, conditions=c, allow_inconclusive=True)
    assert _summary(res) == _summary(once)
    # a per-check dict overrides the top level
    over = run_checks(m, conditions=c, sufficient_descent={"conditions": None})
    assert _summary(over)["sufficient_descent"] == _summary(none)["sufficient_descent"]
    assert _summary(over)["kkt_rate"] == _summary(once)["kkt_rate"]


def test_data_constant_at_the_top_level(tanh_run):
    task, c, m = tanh_run
    a0 = float(np.linalg.norm(np.vstack([task.X.T, np.ones(len(task.X))]), 2))
    with_x = run_checks(m, X=task.X, checks=["kkt_rate"])["kkt_rate"]
    with_a0 = run_checks(m, a0=a0, checks=["kkt_rate"])["kkt_rate"]
    recorded = run_checks(m, checks=["kkt_rate"])["kkt_rate"]     # the fit records meta['a0']
    bare = Trace.from_dict(m.trace_.to_dict())
    bare.meta.pop("a0")
    with pytest.raises(TraceIntegrityError, match=r"meta lacks \['a0'\]"):
        run_checks(bare, checks=["kkt_rate"])       # the solver always records a0: not a record
    for mark in ("fingerprint", "engine_used", "instance"):
        bare.meta.pop(mark, None)                   # a hand-built trace may leave a0 out
    without = run_checks(bare, checks=["kkt_rate"])["kkt_rate"]
    assert with_x.constants["source"]["b"] == with_a0.constants["source"]["b"] == "a-posteriori"
    assert recorded.constants["b"] == pytest.approx(with_x.constants["b"], rel=1e-9)
    assert without.constants["source"]["b"] != "a-posteriori"
    assert with_x.constants["b"] == pytest.approx(with_a0.constants["b"], rel=1e-12)
    res = assert_converges(m, X=task.X, checks=["kkt_rate"], allow_inconclusive=True)
    assert res["kkt_rate"].constants["source"]["b"] == "a-posteriori"


@pytest.mark.parametrize("kw, said", [
    ({"conditons": 1}, "unknown keyword 'conditons'; did you mean 'conditions'?"),
    ({"condition": 1}, "unknown keyword 'condition'; did you mean 'conditions'?"),
    ({"kkt_rat": {}}, "unknown keyword 'kkt_rat'; did you mean 'kkt_rate'?"),
    ({"x": 1}, "unknown keyword 'x'; did you mean 'X'?"),
    ({"zzz": 1}, "unknown keyword 'zzz' ("),
])
def test_misspelt_top_level_keywords_name_themselves(tanh_run, kw, said):
    _, _, m = tanh_run
    for call in (run_checks, lambda mm, **k: assert_converges(mm, allow_inconclusive=True, **k)):
        with pytest.raises(ValueError) as ei:
            call(m, **kw)
        assert said in str(ei.value)
        assert "unknown check names" not in str(ei.value)
    with pytest.raises(ValueError, match="unknown check name 'kkt_rat'; did you mean 'kkt_rate'"):
        run_checks(m, checks=["kkt_rat"])


def test_a_shared_keyword_no_selected_check_takes_is_refused(tanh_run):
    _, c, m = tanh_run
    with pytest.raises(ValueError, match="conditions: none of the checks"):
        run_checks(m, checks=["feasibility_to_zero"], conditions=c)


def test_assert_converges_with_one_conditions_keyword_raises_on_fail(tanh_run):
    task, c, m = tanh_run
    tr = Trace.from_dict(m.trace_.to_dict())
    tr.lagrangian[40:] += np.linspace(0, 1.0, len(tr) - 40)    # Lhat rises: Lemma 14 broken
    from verify.doctored import reconcile
    reconcile(tr)                                              # the parts follow: consistent
    with pytest.raises(ConvergenceError) as ei:
        assert_converges(tr, conditions=c, allow_inconclusive=True)
    assert ei.value.results["sufficient_descent"].failed


def test_cli_verify_gives_the_conditions_once():
    r = CliRunner().invoke(main, ["verify", "--depth", "1", "--schedule", "--lam", "1", "--iters", "40",
                                  "--n", "20", "--width", "3", "--activation", "tanh"])
    assert r.exit_code in (0, 3), r.output
    assert "(conditions)" in r.output                  # sufficient_descent used the derived xi, a
    assert "basis=derived" in r.output                 # kkt_rate too


# ------------------------------------------------------------ how much a certified verdict says
from hypothesis import given, settings, strategies as st  # noqa: E402

from verify import format_table, rate_certificate  # noqa: E402
from tests.test_verify_checks import make_trace  # noqa: E402
from verify.checks import (bounded_iterates, feasibility_to_zero, kkt_rate,  # noqa: E402
                           sufficient_descent)


def _geometric_trace(K, q, a):
    """r_k = q^k, P_k = q^(2k), Lhat^k - Lhat^(k-1) = -a P_k exactly (tests/test_verify_checks)."""
    return make_trace(K=K, q=q, a=a)


@settings(max_examples=25, deadline=None)
@given(K=st.integers(20, 120), q=st.floats(0.6, 0.97), b=st.floats(1.0, 30.0), a=st.floats(0.1, 5.0))
def test_rate_certificate_slack_and_informative_flag_follow_the_closed_form(K, q, a, b):
    # the chain with start = 3: min_{j<=K} r_j^2 <= 2 b^2 (Lhat^1 - Lhat^K) / (a (K - 2)),
    # Lhat^1 - Lhat^K = a sum_{j=2}^K q^(2j); it is informative iff below r_3^2 = q^6
    tr = _geometric_trace(K, q, a)
    bound = 2 * b * b * sum(q ** (2 * j) for j in range(2, K + 1)) / (K - 2)
    from hypothesis import assume
    assume(abs(bound / q ** 6 - 1) > 1e-6)
    r = rate_certificate(tr, a=a, b=b, xi=0.0)
    assert r.passed, r.message
    assert r.final_bound == pytest.approx(bound, rel=1e-9)
    assert r.final_slack == pytest.approx(bound / q ** (2 * K), rel=1e-9)
    assert r.informative == (bound < q ** 6)
    assert f"slack factor {bound / q ** (2 * K):.3g}" in r.message
    assert ("holds but uninformative" in r.message) == (bound >= q ** 6)
    k = kkt_rate(tr, a=a, b=b, xi=0.0)
    assert k.informative == r.informative and k.final_slack == pytest.approx(r.final_slack, rel=1e-6)


def test_the_table_shows_slack_and_the_uninformative_flag():
    tr = _geometric_trace(60, 0.9, 0.5)
    tight = rate_certificate(tr, a=0.5, b=1.0, xi=0.0)          # 2 * 3.4 / 58 = 0.12 < 0.9^6 = 0.53
    loose = rate_certificate(tr, a=0.5, b=10.0, xi=0.0)         # 100 x that: above r_3^2
    assert tight.informative and not loose.informative
    table = format_table({"rate_certificate": loose, "feasibility_to_zero": feasibility_to_zero(tr)})
    row = table.splitlines()[2]
    assert row.startswith("rate_certificate") and "PASS (uninformative)" in row
    assert "final_slack=" in row and "informative=False" in row
    assert "PASS (1 uninformative)" in table and "holds but uninformative" in table
    table = format_table({"rate_certificate": tight})
    row = table.splitlines()[2]
    assert "uninformative" not in table and "informative=True" in row and "final_slack=" in row


def test_other_certified_verdicts_carry_their_slack(tanh_run):
    task, c, m = tanh_run
    tr = _geometric_trace(60, 0.9, 0.5)
    d = sufficient_descent(tr, xi=0.0, a=0.25)                    # measured margin = 0.5 exactly
    assert d.passed and d.slack == pytest.approx(2.0, rel=1e-9) and "slack factor 2" in d.message
    bi = bounded_iterates(m, conditions=c)
    box = c.box()
    tops = [box.Lam[i] / float(np.max(m.trace_.normLam[1:, i])) for i in range(2) if box.Lam[i]]
    tops += [box.W[i] / float(np.max(m.trace_.normW[1:, i])) for i in range(2) if box.W[i]]
    assert bi.passed and bi.slack == pytest.approx(min(tops), rel=1e-12)
    assert "slack=" in format_table({"bounded_iterates": bi})


def test_derived_condition_runs_certify_little(tanh_run):
    # the case, smaller: derived depth-1 conditions, tanh, lambda = 1: the chain holds
    # and its bound is far above where the run started
    task, c, m = tanh_run
    r = rate_certificate(m, conditions=c)
    assert r.passed and r.informative is False and r.final_slack > 1e6
    res = assert_converges(m, conditions=c, allow_inconclusive=True)
    assert res["kkt_rate"].informative is False
    table = format_table({**res, "rate_certificate": r})
    import re
    assert re.search(r"^rate_certificate +PASS \(uninformative\)", table, re.M), table


# ------------------------------------------------------------ the page's test file, as printed
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "examples" / "test_my_activation.py"
PAGE = ROOT / "docs" / "checking_your_own.md"


def test_the_page_shows_the_example_file_verbatim_and_is_linked():
    page = PAGE.read_text()
    blocks = re.findall(r"^```python\n(.*?)^```$", page, re.S | re.M)
    assert blocks[-1] == EXAMPLE.read_text()          # the complete file, as printed
    assert page.startswith("# Checking your own method or activation")
    assert "checking_your_own.md" in (ROOT / "docs" / "verify.md").read_text()
    assert "docs/checking_your_own.md" in (ROOT / "README.md").read_text()
    src = EXAMPLE.read_text()
    for piece in ("Activation.from_expr(", "derive_from_data(", "assert_converges(model, conditions=c",
                  "@given(vst.runs(", "doctored"):
        assert piece in src, piece


def test_the_example_file_runs_outside_the_repository(tmp_path):
    here = tmp_path / "my_project"
    here.mkdir()
    assert ROOT not in here.resolve().parents
    shutil.copy(EXAMPLE, here / EXAMPLE.name)
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    env["PYTHONPATH"] = str(ROOT)    # CI installs the package (editable); here: this checkout
    r = subprocess.run([sys.executable, "-m", "pytest", EXAMPLE.name, "-q", "-p", "no:cacheprovider",
                        "--rootdir", str(here)], cwd=here, env=env, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "4 passed" in r.stdout, r.stdout
    # the fixture came from the installed entry point (pytest11: sigadmm = verify.pytest_plugin)
    from importlib.metadata import entry_points
    assert any(ep.value == "verify.pytest_plugin" for ep in entry_points(group="pytest11"))


def test_the_strategies_docstring_example_runs_as_written():
    import verify.strategies as vmod

    code = textwrap.dedent(vmod.__doc__.split("::\n", 1)[1])
    assert "test_descent()" in code and "import" in code
    ns = {}
    exec(compile(code, "verify.strategies docstring", "exec"), ns)
    assert "test_descent" in ns


def test_dladmm_rate_certificate_carries_slack_and_flag():
    from solver import DLADMM
    from verify.dladmm import step_sum_rate

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]
    tr = DLADMM(hidden_layer_sizes=(12, 8), rho=3.0, prox_z=1.0, adapt=False, max_iter=60,
                random_state=0).fit(X, y).trace_
    r = step_sum_rate(tr)
    assert r.verdict in ("PASS", "INCONCLUSIVE") and r.final_slack >= 1
    small = step_sum_rate(tr, a=r.a / 1e6)               # a smaller constant: a 1e6-times looser bound
    assert small.final_bound == pytest.approx(1e6 * r.final_bound, rel=1e-3)
    p_start = float(np.asarray(tr.step_sum)[1])
    for res in (r, small):
        assert res.informative == (res.final_bound < p_start)
        assert ("holds but uninformative" in res.message) == (not res.informative)
    assert small.informative is False
    assert "final_slack=" in format_table({"step_sum_rate": small})
