"""Mutation score of the verify checks against single bugs planted in the ADMM solver (issue 19, item 7).

    PYTHONPATH=. python benchmarks/mutation_score.py --sample 300 --seed 0 \
        --out benchmarks/results/mutation_runs.jsonl --report benchmarks/results/mutation_report.md

What it does
------------
1. Copies ``solver/``, ``theory/``, ``verify/`` into a sandbox folder (``--sandbox``) and
   starts a worker process on it.  The worker fits the **test problems** below and runs the
   five checks of ``sigadmm verify`` (:data:`verify.checks.CHECKS`) on each trace: that is the
   test command, the end-to-end verify properties, not the unit tests.
2. Runs the unmutated solver once (the baseline: every check's verdict per problem) and,
   with a line tracer, records which lines of the mutated files the problems execute.
3. Enumerates the mutants of ``solver/admm/steps.py``, ``solver/admm/engine.py``, ``solver/admm/kernels.py``,
   ``solver/admm/problem.py`` with the operators of :data:`OPERATORS` (a small AST mutator:
   ``mutmut`` drives pytest over a test tree and mutates every file of its paths, where this
   needs one end-to-end command per mutant, an engine chosen per file and the worker kept
   warm; ``cosmic-ray`` needs a session database and its own worker set-up.  Both would spend
   most of the CPU budget on process start-up: the imports of numba, scipy and sympy cost
   more than the fits), keeps those on executed lines, samples ``--sample`` of them with
   the fixed ``--seed`` (plus the audit's four mutations, always), and for each one writes
   the mutated file into the sandbox, reloads the solver's modules in the worker, fits the
   problems again and compares.
4. A mutant is **caught** when, on some problem, a check that PASSed on the baseline does not
   PASS (``assert_converges`` raises), a check FAILs or raises, the fit raises, stops on a
   non-finite iterate or exceeds the time limit.  ``caught_strict`` counts only FAIL, raise,
   non-finite stop and time-out (INCONCLUSIVE not counted).  A surviving mutant whose traces
   equal the baseline's (every field to 1e-12 relative) is **equivalent on these problems**;
   the other survivors are listed for classification (benchmarks/results/mutation_report.md).

The test problems: square task, n = 40, width 4, 300 iterations (200 for the depth-2 derived
run), lecun-normal initial weights, seed 0:

* ``d1-sigmoid``, ``d1-tanh``, ``d2-sigmoid``, ``d2-tanh``: beta = 100, lambda = 1, the descent
  constants ``xi = 0, a = lambda / 2`` given;
* ``d1-sigmoid-derived``, ``d2-sigmoid-derived``: the derived conditions
  (:func:`verify.conditions.derive_from_data`, lambda = 1) given to every check;
* ``d1-tanh-aposteriori``: beta = (3000, 2), lambda = 1, no constants (the a-posteriori
  certificate).

Engines: mutants of ``steps.py`` run the reference engine (the only one that calls it),
those of ``engine.py`` and ``problem.py`` the default compiled engine, those of ``kernels.py``
the numpy twins (``engine="numpy"``) for the plain-Python kernels and the numba engine for the
compiled ones (each recompiles the kernels: few are sampled, ``--numba-sample``).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ("solver/admm/steps.py", "solver/admm/engine.py", "solver/admm/kernels.py", "solver/admm/problem.py")

#: the mutation operators (one AST node changed per mutant)
OPERATORS = {
    "AOR": "arithmetic operator replaced: + <-> -, * <-> /, ** -> *",
    "OPD": "operand dropped: a op b -> a, and a op b -> b (a term or factor left out)",
    "USR": "unary minus removed (-x -> x)",
    "ROR": "comparison replaced: < <-> <=, > <-> >=, == <-> !=",
    "CRP": "numeric constant replaced: int n -> n + 1, float x -> x / 10 (0 -> 1)",
    "IDX": "index shifted: a[j] -> a[j + 1] and a[j - 1] (a name or an expression index)",
    "LCR": "boolean operator replaced: and <-> or; not x -> x",
}

#: the mutations the issue's audit planted (item 9), applied as text edits
AUDIT_MUTANTS = [
    ("audit: LLA curvature / 10", "solver/admm/problem.py",
     "return _S.curvature_from_bmax(bmax, self.constants, self.rule, self.factor)",
     "return _S.curvature_from_bmax(bmax, self.constants, self.rule, self.factor) / 10"),
    ("audit: hidden W-step uses the next layer's beta", "solver/admm/engine.py",
     "self._gram_aug(j, P, beta[j] * c, self.lam)", "self._gram_aug(j, P, beta[j + 1] * c, self.lam)"),
    ("audit: gradient sign flipped in the hidden W-step (reference steps)", "solver/admm/steps.py",
     "return _spd_solve_right(beta_i * (c * U0 - G) @ A.T, M), c",
     "return _spd_solve_right(beta_i * (c * U0 + G) @ A.T, M), c"),
    ("audit: lambda dropped in the hidden W-step", "solver/admm/engine.py",
     "self._gram_aug(j, P, beta[j] * c, self.lam)", "self._gram_aug(j, P, beta[j] * c, 0.0)"),
    ("audit: lambda dropped in the hidden W-step (reference steps)", "solver/admm/steps.py",
     "M = lam * np.eye(A.shape[0]) + beta_i * c * (A @ A.T)", "M = beta_i * c * (A @ A.T)"),
]

PROBLEMS = [
    # name, activation, depth, beta, iters, constants
    ("d1-sigmoid", "sigmoid", 1, 100.0, 300, "user"),
    ("d1-tanh", "tanh", 1, 100.0, 300, "user"),
    ("d2-sigmoid", "sigmoid", 2, 100.0, 300, "user"),
    ("d2-tanh", "tanh", 2, 100.0, 300, "user"),
    ("d1-sigmoid-derived", "sigmoid", 1, None, 300, "derived"),
    ("d2-sigmoid-derived", "sigmoid", 2, None, 200, "derived"),
    ("d1-tanh-aposteriori", "tanh", 1, (3000.0, 2.0), 300, "a-posteriori"),
]
TRACE_FIELDS = ("lagrangian", "dW2", "dV2", "dLam2", "feas", "kkt_total", "normW", "normV",
                "normLam", "train_mse")


# ====================================================================== the worker
def _worker():  # pragma: no cover - runs in the sandbox process
    import importlib
    import warnings

    import numpy as np

    warnings.simplefilter("ignore")
    import solver  # noqa: F401
    from solver import init_weights, tasks
    from verify import checks as VC
    from verify import conditions as COND
    from verify import replay as RP

    mods = ["solver.admm.steps", "solver.admm.kernels", "solver.admm.problem", "solver.admm.reference",
            "solver.admm.engine", "solver.admm.estimator"]
    data = {}
    conds = {}
    for name, act, depth, beta, iters, consts in PROBLEMS:
        t = tasks.make_task("square", n=40, seed=0, n_test=0)
        w0 = init_weights((1,) + (4,) * depth + (1,), "lecun_normal", 1.0, 0)
        data[name] = (t, w0)
        if consts == "derived":
            conds[name] = COND.derive_from_data(depth, act, X=t.X, y=t.y, init_weights=w0, lam=1.0)

    for mname in mods:
        importlib.import_module(mname)

    last = {}      # the last run's iterates and traces, for the replay

    def run(engine, trace_lines=None):
        admm = sys.modules["solver.admm.estimator"]
        out = {}
        last.clear()
        for name, act, depth, beta, iters, consts in PROBLEMS:
            t, w0 = data[name]
            opts = {}
            if consts == "derived":
                c = conds[name]
                kw = {k: v for k, v in c.kwargs.items() if k != "activation"}
                opts = {nm: {"conditions": c} for nm in ("sufficient_descent", "bounded_iterates",
                                                         "kkt_rate")}
            else:
                kw = {"beta": list(beta) if isinstance(beta, tuple) else beta, "lam": 1.0}
                if consts == "user":
                    opts = {"sufficient_descent": {"xi": 0.0, "a": 0.5}}
            rec = {}
            try:
                snaps = {}
                m = admm.ADMM(hidden_layer_sizes=(4,) * depth, max_iter=iters, verbose=0,
                              engine=engine, activation=act, random_state=0,
                              callback=RP.keep_iterates(snaps), **kw)
                m.fit(t.X, t.y, init_weights=w0)
                tr = m.trace_
                last[name] = (snaps, tr, act, m.curvature, m.curvature_factor)
                rec["status"] = str(tr.meta.get("status"))
                rec["n"] = len(tr)
                rec["fields"] = {f: np.asarray(getattr(tr, f)[:len(tr)], float).tolist()
                                 for f in TRACE_FIELDS}
                v = {}
                for nm, chk in VC.CHECKS.items():
                    try:
                        v[nm] = str(chk(tr, **opts.get(nm, {})).verdict)
                    except ValueError as exc:
                        v[nm] = f"REFUSED: {str(exc)[:200]}"
                    except Exception as exc:  # noqa: BLE001 - a crash of a check is recorded
                        v[nm] = f"CRASH: {type(exc).__name__}: {str(exc)[:200]}"
                rec["verdicts"] = v
            except Exception as exc:  # noqa: BLE001 - a mutant may break the fit anyhow
                rec["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
            out[name] = rec
        return out

    def reload_all():
        for mname in mods:
            importlib.reload(importlib.import_module(mname))

    for line in sys.stdin:
        req = json.loads(line)
        if req["cmd"] == "quit":
            break
        t0, c0 = time.time(), time.process_time()
        if req["cmd"] == "replay":
            # the step replay (verify.replay) of the last run: k = 1 (from the initial point
            # of eq. (7)), K // 2 and K of every problem
            res = {}
            for name, (snaps, tr, act, rule, factor) in last.items():
                t, w0 = data[name]
                try:
                    K = len(tr)
                    r = RP.replay_trace(snaps, tr, t.X, t.y, init_weights=w0, activation=act,
                                        curvature=rule, curvature_factor=factor,
                                        at=(1, max(K // 2, 1), -1))
                    res[name] = {"holds": r["holds"], "max": r["max"],
                                 "worst": str(r["worst"]), "status": r["status"]}
                except Exception as exc:  # noqa: BLE001 - a mutant may leave odd iterates
                    res[name] = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
            print(json.dumps({"replay": res, "seconds": time.time() - t0,
                              "cpu_seconds": time.process_time() - c0}), flush=True)
            continue
        if req["cmd"] == "coverage":
            executed = {}
            targets = {str(Path(p).resolve()): p for p in req["files"]}

            def tracer(frame, event, arg):
                fn = frame.f_code.co_filename
                if fn in targets:
                    executed.setdefault(targets[fn], set()).add(frame.f_lineno)
                    return tracer
                return None if event == "call" and fn not in targets else tracer

            res = {}
            for engine in req["engines"]:
                sys.settrace(tracer)
                try:
                    run(engine)
                finally:
                    sys.settrace(None)
            res = {k: sorted(v) for k, v in executed.items()}
            print(json.dumps({"coverage": res, "seconds": time.time() - t0}), flush=True)
            continue
        try:
            reload_all()
            res = run(req["engine"])
            err = None
        except Exception as exc:  # noqa: BLE001 - an import-time failure of the mutant
            res, err = {}, f"{type(exc).__name__}: {str(exc)[:300]}"
        print(json.dumps({"results": res, "import_error": err, "seconds": time.time() - t0,
                          "cpu_seconds": time.process_time() - c0}), flush=True)


# ====================================================================== the mutator
class _Collect(ast.NodeVisitor):
    """Collects (node index, operator, description) for every applicable mutation."""

    def __init__(self, skip_lines):
        self.sites = []
        self.skip = skip_lines
        self.index = {}

    def generic_visit(self, node):
        super().generic_visit(node)

    def visit(self, node):
        self.index[id(node)] = len(self.index)
        return super().visit(node)


def _nodes(tree):
    return list(ast.walk(tree))


_AOR = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult}
_ROR = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
        ast.NotEq: ast.Eq}


def _skip_node_lines(tree):
    """Lines of docstrings, raise statements, string constants and f-strings (not mutated)."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Raise, ast.JoinedStr)) or (
                isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):
            skip.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in ("warn",):
            skip.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return skip


def enumerate_mutants(rel, executed=None):
    """Every mutant of file ``rel``: dicts ``{file, node, op, variant, line, desc}``."""
    src = (ROOT / rel).read_text()
    tree = ast.parse(src)
    skip = _skip_node_lines(tree)
    out = []
    lines = src.splitlines()
    for i, node in enumerate(_nodes(tree)):
        ln = getattr(node, "lineno", None)
        if ln is None or ln in skip:
            continue
        if executed is not None and ln not in executed:
            continue
        text = lines[ln - 1].strip()[:100]
        muts = []
        if isinstance(node, ast.BinOp):
            if type(node.op) in _AOR:
                muts.append(("AOR", 0, f"{type(node.op).__name__} -> {_AOR[type(node.op)].__name__}"))
            if isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div)):
                muts += [("OPD", 0, "keep left operand"), ("OPD", 1, "keep right operand")]
        elif isinstance(node, ast.AugAssign) and type(node.op) in _AOR:
            muts.append(("AOR", 0, f"{type(node.op).__name__}= -> {_AOR[type(node.op)].__name__}="))
        elif isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                muts.append(("USR", 0, "-x -> x"))
            elif isinstance(node.op, ast.Not):
                muts.append(("LCR", 0, "not x -> x"))
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _ROR:
            muts.append(("ROR", 0, f"{type(node.ops[0]).__name__} -> {_ROR[type(node.ops[0])].__name__}"))
        elif isinstance(node, ast.BoolOp):
            muts.append(("LCR", 0, "and <-> or"))
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
            muts.append(("CRP", 0, f"{node.value!r} -> {_crp(node.value)!r}"))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and \
                isinstance(node.slice, (ast.Name, ast.BinOp)):
            muts += [("IDX", 1, "index + 1"), ("IDX", -1, "index - 1")]
        for op, variant, desc in muts:
            out.append({"file": rel, "node": i, "op": op, "variant": variant, "line": ln,
                        "desc": f"{rel}:{ln} {op} {desc}: {text}"})
    return out


def _crp(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v + 1
    return 1.0 if v == 0 else v / 10


def apply_mutant(m):
    """The mutated source of ``m['file']`` (AST edit, unparsed), or a text edit for audits."""
    src = (ROOT / m["file"]).read_text()
    if m.get("old") is not None:
        if src.count(m["old"]) < 1:
            raise ValueError(f"audit mutant: text not found in {m['file']}: {m['old']!r}")
        return src.replace(m["old"], m["new"])
    tree = ast.parse(src)
    nodes = _nodes(tree)
    node = nodes[m["node"]]
    op, v = m["op"], m["variant"]
    if op == "AOR":
        node.op = _AOR[type(node.op)]()
    elif op == "OPD":
        keep = node.left if v == 0 else node.right
        _replace(tree, node, keep)
    elif op == "USR":
        _replace(tree, node, node.operand)
    elif op == "LCR" and isinstance(node, ast.UnaryOp):
        _replace(tree, node, node.operand)
    elif op == "LCR":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif op == "ROR":
        node.ops = [_ROR[type(node.ops[0])]()]
    elif op == "CRP":
        node.value = _crp(node.value)
    elif op == "IDX":
        node.slice = ast.BinOp(left=node.slice, op=ast.Add() if v > 0 else ast.Sub(),
                               right=ast.Constant(1))
    ast.fix_missing_locations(tree)
    return ast.unparse(tree)


def _replace(tree, old, new):
    for parent in ast.walk(tree):
        for fname, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, fname, new)
                return
            if isinstance(value, list):
                for j, item in enumerate(value):
                    if item is old:
                        value[j] = new
                        return
    raise ValueError("node not found")


def _numba_lines(rel):
    """Lines inside functions compiled by numba (decorated with numba.njit or _kernel)."""
    tree = ast.parse((ROOT / rel).read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            decs = [ast.unparse(d) for d in node.decorator_list]
            if any("njit" in d or "_kernel" in d or "intrinsic" in d for d in decs):
                out.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return out


# ====================================================================== the driver
class Worker:
    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.proc = None
        self.start()

    def start(self):
        env = dict(os.environ, PYTHONPATH=str(self.sandbox), PYTHONDONTWRITEBYTECODE="1",
                   OMP_NUM_THREADS="1",
                   OPENBLAS_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
        self.proc = subprocess.Popen([sys.executable, "-c", "import benchmarks_mutation_worker"],
                                     cwd=self.sandbox, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, env=env)

    def ask(self, req, timeout):
        import select

        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            self.proc.kill()
            self.proc.wait()
            self.start()
            return None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            self.start()
            return {"crashed": True}
        return json.loads(line)

    def close(self):
        try:
            self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            self.proc.kill()


def make_sandbox(path):
    path = Path(path)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    for pkg in ("solver", "theory", "verify"):
        shutil.copytree(ROOT / pkg, path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    src = Path(__file__).read_text()
    (path / "benchmarks_mutation_worker.py").write_text(
        src + "\n\n_worker()\n")
    return path


def compare(base, res, rtol=1e-12):
    """``(caught, strict, how, max_rel_diff)`` of one mutant's results against the baseline."""
    import numpy as np

    how, strict, maxdiff = [], False, 0.0
    for name, b in base.items():
        r = res.get(name, {})
        if "error" in r:
            how.append(f"{name}: fit raised {r['error'][:80]}")
            strict = True
            continue
        if r.get("status") != b.get("status"):
            how.append(f"{name}: status {r.get('status')}")
            strict = strict or r.get("status") == "non_finite"
        for chk, bv in b["verdicts"].items():
            rv = r["verdicts"].get(chk, "missing")
            if rv.startswith(("FAIL", "REFUSED", "CRASH")) and not bv.startswith(("FAIL", "REFUSED")):
                how.append(f"{name}: {chk} {rv[:60]}")
                strict = True
            elif bv == "PASS" and rv != "PASS":
                how.append(f"{name}: {chk} {rv[:60]}")
        if r.get("n") != b.get("n"):
            maxdiff = float("inf")
        else:
            for f in TRACE_FIELDS:
                x, y = np.asarray(r["fields"][f], float), np.asarray(b["fields"][f], float)
                with np.errstate(invalid="ignore", divide="ignore"):
                    d = np.abs(x - y) / np.maximum(np.abs(x) + np.abs(y), 1e-300)
                d = np.where(np.isnan(x) & np.isnan(y), 0.0, d)
                maxdiff = max(maxdiff, float(np.nanmax(d)) if d.size else 0.0,
                              float("inf") if np.isnan(d).any() else 0.0)
    return bool(how), strict, how, maxdiff


def compare_replay(base, r):
    """Why the replay of a mutant's runs fails (``[]``: it holds wherever the baseline's does)."""
    if r is None:
        return ["replay: time-out"]
    if r.get("crashed"):
        return ["replay: worker crashed"]
    how = []
    for name, b in base.items():
        if not b.get("holds"):
            continue            # the unmutated run does not replay: no verdict from it
        x = r["replay"].get(name)
        if x is None:
            how.append(f"{name}: replay missing (the fit raised)")
        elif "error" in x:
            how.append(f"{name}: replay raised {x['error'][:80]}")
        elif not x["holds"]:
            how.append(f"{name}: replay {x['max']:.2g} at {x['worst']}")
    return how


_STAMP = [int(time.time()) + 10]


def _write(path, text):
    """Write ``text`` with a modification time never used before (whole seconds apart): the
    bytecode cache and numba's cache key on (mtime in seconds, size), and two mutants of equal
    length written within one second would otherwise run the first one's code."""
    path.write_text(text)
    _STAMP[0] += 2
    os.utime(path, (_STAMP[0], _STAMP[0]))


def source_stamp(root=ROOT):
    """sha256 of every ``.py`` file of the packages the worker imports (solver, theory, verify)
    and of this script's problems and worker (the part above the mutator): a saved baseline, and the runs resumed against it, belong to exactly
    this source; another source must start a new ``--out``."""
    import hashlib

    h = hashlib.sha256()
    for pkg in ("solver", "theory", "verify"):
        for f in sorted((Path(root) / pkg).rglob("*.py")):
            h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    src = Path(__file__).read_text()     # the problems and the worker; not the driver/report
    h.update(src[:src.index("# " + "=" * 70 + " the mutator")].encode())
    return h.hexdigest()


def engine_for(m, numba_lines):
    if m["file"] == "solver/admm/steps.py":
        return "reference"
    if m["file"] == "solver/admm/kernels.py":
        return "numba" if m["line"] in numba_lines else "numpy"
    return "numba"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=300, help="sampled AST mutants (besides the audit's)")
    ap.add_argument("--numba-sample", type=int, default=6,
                    help="of which at most this many in numba-compiled kernels (each recompiles)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sandbox", default="/tmp/sigadmm-mutation-sandbox")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/mutation_runs.jsonl"))
    ap.add_argument("--budget-min", type=float, default=60.0, help="stop after this many minutes")
    ap.add_argument("--timeout", type=float, default=None, help="per mutant (default 4 x baseline)")
    ap.add_argument("--shard", default="0/1",
                    help="I/N: run only the mutants whose index in the fixed list is I mod N (N "
                         "drivers side by side, each with its own --out and --sandbox and the "
                         "same --baseline; shards I > 0 wait for shard 0 to save the baseline)")
    ap.add_argument("--redo", action="append", default=None,
                    help="a runs file (jsonl; repeatable): rerun only its mutants that were not "
                         "caught (survivors and trace-identical ones), on the current source, "
                         "without the coverage pass (rescoring after a new check)")
    ap.add_argument("--baseline", default=None,
                    help="the saved baseline (default: --out with suffix .baseline.json.gz)")
    a = ap.parse_args(argv)
    try:
        shard_i, shard_n = (int(v) for v in a.shard.split("/"))
        if not 0 <= shard_i < shard_n:
            raise ValueError
    except ValueError:
        ap.error(f"--shard: expected I/N with 0 <= I < N, got {a.shard!r}")
    t_start = time.time()
    sandbox = make_sandbox(a.sandbox)
    w = Worker(sandbox)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = {}
    if out.exists():
        for line in out.read_text().splitlines():
            rec = json.loads(line)
            done[_key(rec)] = rec
    baseline, base_replay = {}, {}
    # the baseline traces (every field of the seven fits, three engines) as gzip'd JSON: 2.6 MB
    # of plain JSON before
    base_path = Path(a.baseline) if a.baseline else out.with_suffix(".baseline.json.gz")
    while shard_i > 0 and not base_path.exists():
        if time.time() - t_start > a.budget_min * 60:
            raise SystemExit(f"--shard {a.shard}: no baseline {base_path} within the budget")
        time.sleep(20)
    stamp = source_stamp()
    cov = None
    if base_path.exists():
        import gzip

        saved = json.loads(gzip.decompress(base_path.read_bytes()))
        if saved.get("source") != stamp:
            raise SystemExit(f"--out {out}: its baseline {base_path.name} was computed on another "
                             f"source (stamp {str(saved.get('source'))[:12]} != {stamp[:12]}); "
                             "resume only on the same source, or give a new --out")
        baseline, cov, base_replay = saved["baseline"], saved["coverage"], saved["replay"]
    else:
        for engine in ("numba", "numpy", "reference"):
            r = w.ask({"cmd": "run", "engine": engine}, timeout=1800)
            baseline[engine] = r["results"]
            rr = w.ask({"cmd": "replay"}, timeout=1800)
            base_replay[engine] = rr["replay"]
            print(f"baseline replay {engine}: {rr['seconds']:.1f} s; " + "; ".join(
                f"{k}: {v.get('holds')} {v.get('max', float('nan')):.1e}"
                for k, v in rr["replay"].items()), flush=True)
            print(f"baseline {engine}: {r['seconds']:.1f} s; " + "; ".join(
                f"{k}: {','.join(v2[:4] for v2 in v['verdicts'].values())}"
                for k, v in r["results"].items()), flush=True)
        if a.redo:
            cov = {}                    # --redo names its mutants: no executed-lines filter
        else:
            r = w.ask({"cmd": "coverage", "files": [str(sandbox / t) for t in TARGETS],
                       "engines": ["numba", "numpy", "reference"]}, timeout=3600)
            cov = {str(Path(k).relative_to(sandbox)): v for k, v in r["coverage"].items()}
        import gzip

        tmp = base_path.with_name(base_path.name + ".part")   # shards read it: write, then rename
        tmp.write_bytes(gzip.compress(json.dumps({"baseline": baseline, "coverage": cov,
                                                  "replay": base_replay, "source": stamp})
                                      .encode(), mtime=0))
        tmp.replace(base_path)
    numba_lines = _numba_lines("solver/admm/kernels.py")
    all_m, n_total, n_exec = [], 0, 0
    for rel in TARGETS:
        every = enumerate_mutants(rel)
        executed = set(cov.get(rel, []))
        if rel == "solver/admm/kernels.py":
            executed |= numba_lines          # compiled bodies run, the tracer cannot see them
        ex = [m for m in every if m["line"] in executed or a.redo]
        n_total += len(every)
        n_exec += len(ex)
        all_m += ex
        print(f"{rel}: {len(every)} mutants, {len(ex)} on executed lines", flush=True)
    rng = random.Random(a.seed)
    nb = [m for m in all_m if m["file"] == "solver/admm/kernels.py" and m["line"] in numba_lines]
    py = [m for m in all_m if m not in nb]
    pick = rng.sample(py, min(a.sample - min(a.numba_sample, len(nb)), len(py)))
    pick += rng.sample(nb, min(a.numba_sample, len(nb)))
    audits = [{"file": f, "old": old, "new": new, "op": "AUDIT", "line": 0, "desc": desc}
              for desc, f, old, new in AUDIT_MUTANTS]
    todo = [m for i, m in enumerate(audits + pick) if i % shard_n == shard_i]
    if a.redo:
        redo, _ = _load(a.redo)
        want = {_key(r) for r in redo if r["outcome"] in ("survived", "equivalent")}
        allm = {_key(m): m for m in audits + all_m}
        missing = [k for k in want if k not in allm]
        if missing:
            raise SystemExit(f"--redo: {len(missing)} mutants are not mutants of the current "
                             f"source (the file changed?): {[k[-1] for k in missing][:5]}")
        todo = [allm[k] for k in sorted(want, key=str)]
        todo = [m for i, m in enumerate(todo) if i % shard_n == shard_i]
    meta = {"n_total": n_total, "n_executed": n_exec, "sampled": len(pick), "seed": a.seed,
            "numba_population": len(nb), "python_population": len(py), "source": stamp,
            "shard": a.shard}
    out.with_suffix(".meta.json").write_text(json.dumps(meta))
    print(f"{n_total} mutants, {n_exec} on executed lines; running {len(todo)} "
          f"({len(audits)} audit + {len(pick)} sampled, seed {a.seed})", flush=True)
    with out.open("a") as fh:
        for i, m in enumerate(todo):
            if _key(m) in done:
                continue
            if time.time() - t_start > a.budget_min * 60:
                print("budget spent; stopping (rerun to resume)", flush=True)
                break
            target = sandbox / m["file"]
            original = (ROOT / m["file"]).read_text()
            try:
                src = apply_mutant(m)
                compile(src, m["file"], "exec")
            except (SyntaxError, ValueError) as exc:
                rec = dict(m, outcome="invalid", how=[str(exc)[:200]])
                fh.write(json.dumps(rec) + "\n")
                continue
            engine = engine_for(m, numba_lines)
            _write(target, src)
            t0 = time.time()
            r = w.ask({"cmd": "run", "engine": engine},
                      timeout=a.timeout or (900 if engine == "numba" and m["file"] == "solver/admm/kernels.py"
                                            else 300))
            _write(target, original)
            secs = time.time() - t0
            if r is None:
                rec = dict(m, outcome="caught", strict=True, how=["time-out"], engine=engine)
            elif r.get("crashed"):
                rec = dict(m, outcome="caught", strict=True, how=["worker crashed"], engine=engine)
            elif r.get("import_error"):
                rec = dict(m, outcome="caught", strict=True, how=[f"import: {r['import_error']}"],
                           engine=engine)
            else:
                caught, strict, how, diff = compare(baseline[engine], r["results"])
                by = "checks" if caught else None
                rhow, replay_cpu = [], None
                if not caught:
                    # not caught by the five checks: the step replay (verify.replay)
                    rr = w.ask({"cmd": "replay"}, timeout=a.timeout or 600)
                    rhow = compare_replay(base_replay[engine], rr)
                    replay_cpu = (rr or {}).get("cpu_seconds")
                    if rhow:
                        caught, by = True, "replay"
                outcome = "caught" if caught else ("equivalent" if diff <= 1e-12 else "survived")
                rec = dict(m, outcome=outcome, strict=strict, how=(how or rhow)[:6],
                           max_rel_diff=diff, engine=engine, by=by, replay=rhow[:6],
                           replay_cpu_seconds=replay_cpu)
            rec["seconds"] = secs
            rec["cpu_seconds"] = (r or {}).get("cpu_seconds")
            rec["loadavg"] = os.getloadavg()[0]
            rec["utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            print(f"[{i + 1}/{len(todo)}] {rec['outcome']:<10} {secs:5.1f}s {m['desc'][:110]}"
                  + (f"  <- {rec['how'][0][:80]}" if rec.get("how") else ""), flush=True)
            if m["file"] == "solver/admm/kernels.py" and engine == "numba":
                # recompile the unmutated kernels before the next mutant
                w.ask({"cmd": "run", "engine": "numpy"}, timeout=900)
    w.close()


# ====================================================================== the report
#: the classification of surviving mutants: ``desc -> (class, argument)``.  Classes:
#: "equivalent" -- no behaviour of Algorithm 1 or of its record changes beyond rounding (the
#: argument says why); "invisible" -- the run or its record changes, but in nothing Theorem 4
#: or the trace's definitions speak of; "missed" -- a real bug the checks and the replay miss.
#: Survivors not listed here are reported "unclassified".
CLASSIFICATION: dict = {}

_BUF = ("work-buffer choice: the same arithmetic on other memory (the per-block path instead of "
        "a pooled buffer, or another ping-pong block)")
#: why each trace-identical mutant is equivalent (its record equals the baseline's to 1e-12 on
#: all seven problems and its replay holds; the argument says whether that holds everywhere)
EQUIV_ARGS = {
    "solver/admm/engine.py:225 ROR Gt -> GtE: if dmax > self._dmax:  # the work blocks are sized for "
    "the widest layer": "the work blocks are reallocated also when already wide enough: same "
    "arithmetic, fresh buffers (equivalent everywhere)",
    "solver/admm/kernels.py:798 OPD keep left operand: out[...] = act(Z[:, col:col + out.shape[1]] + "
    "b[:, None])": "the bias is dropped in the numpy twin of `activate` of the train-MSE forward "
    "pass; at depth <= 2 it is only called with the zero bias (the first layer's Z already holds "
    "it; the last hidden layer goes through the fused `output_sq_err`), so equivalent on these "
    "problems; at depth >= 3 it would change `train_mse`, which the replay's record check reads",
    "solver/admm/engine.py:447 CRP 0 -> 1: S = pool.try_get(Z0.shape[0])": "asks the pool for an "
    "n-row buffer, which is never there, so the per-block path runs: " + _BUF[0].lower() + _BUF[1:]
    + " (equivalent everywhere)",
    "solver/admm/engine.py:180 OPD keep right operand: S.flat[:: dN + 1] += b1 / bN": "the Woodbury "
    "system's diagonal shift with stride 1 instead of dN + 1: with one output (dN = 1) S is 1 x 1 "
    "and both strides reach its single entry, so equivalent on these problems (all single-output); "
    "with dN >= 2 it shifts every entry, the W/V step changes and the replay's step check sees it",
    "solver/admm/engine.py:459 AOR Sub -> Add: if j == N - 2 and narrow:  # last hidden layer + output "
    "+ error in one pass": "the fused last-layer pass of the train MSE is never taken; the loop's "
    "`else` branch computes the same `Wo act(.) + bo - Y` in two steps (equivalent up to the order "
    "of the sums: trace-identical to 1e-12)",
    "solver/admm/engine.py:439 CRP 1 -> 2: Wo, bo = np.ascontiguousarray(W[N - 1][:, :-1]), "
    "self._bias(W[N - 1])": "`Wo = W_N[:, :-2]` drops the last hidden unit's output weight from "
    "the train-MSE pass; with one output row that slice is a contiguous view of W_N's row, and "
    "the compiled `output_sq_err` (no bounds checks) reads the dropped weight just past the "
    "view's end, which is the right one: equivalent on these problems by a memory-layout "
    "accident (a latent out-of-bounds read); with two or more outputs the slice is copied and "
    "the replay's `train_mse` record check would see it",
    "solver/admm/steps.py:231 OPD keep right operand: Lam[j + 1], beta[j], beta[j + 1], act, rule, "
    "factor)": "`beta[1]` for `beta[j + 1]` in the hidden V-step of the reference steps; that "
    "step runs for j = 0 .. N - 3, i.e. only j = 0 at depth 2 (none at depth 1), where the two "
    "are the same: equivalent at depth <= 2; at depth 3 with unequal beta_2, beta_3 the replay's "
    "step check would see it",
    "solver/admm/engine.py:460 OPD keep left operand: tot += K[\"output_sq_err\"](a, H2, 0, e - s, "
    "biases[j], Wo, bo, self.Y, s)": "the fused train-MSE pass gets the block's end `e` as its "
    "width instead of `e - s`; with n = 40 there is one column block (s = 0, CHUNK wider), where "
    "the two agree: equivalent on these problems; with several blocks it would read past the "
    "block and change `train_mse`, which the replay's record check reads",
    "solver/admm/engine.py:457 OPD keep left operand: H2 = self._block((j + 1) % 2, W[j].shape[0], e "
    "- s)": "another ping-pong block index ((j + 1) instead of (j + 1) % 2), a distinct buffer "
    "for every j: same arithmetic (equivalent everywhere)",
}


def classify(rec):
    """``(class, argument)`` of a surviving mutant (:data:`CLASSIFICATION`)."""
    return CLASSIFICATION.get(rec["desc"], ("unclassified", ""))


def _key(m):
    """A mutant's identity: two nodes on one line can have the same description."""
    return (m["file"], m.get("node"), m["op"], m.get("variant"), m["desc"])


def _load(outs):
    recs, metas = [], []
    for out in outs:
        recs += [json.loads(x) for x in Path(out).read_text().splitlines() if x.strip()]
        mp = Path(out).with_suffix(".meta.json")
        if mp.exists():
            metas.append(json.loads(mp.read_text()))
    seen, uniq = set(), []
    for r in recs:                       # a resumed shard never repeats a mutant; be safe
        if _key(r) not in seen:
            seen.add(_key(r))
            uniq.append(r)
    return uniq, metas


def report(outs, path, planned=None, redo=None, notes=()):
    """Write the markdown report of the runs in the jsonl files ``outs`` to ``path``; returns
    the score with the five checks and with the checks and the step replay.  ``redo``: runs
    files of ``--redo`` (the uncaught mutants rerun on a later source): their records replace
    the first run's for the same mutants."""
    import collections

    if isinstance(outs, (str, Path)):
        outs = [outs]
    recs, metas = _load(outs)
    n_redone, redo_utc = 0, []
    if redo:
        again = {_key(r): r for r in _load(redo)[0]}
        for i, r in enumerate(recs):
            if _key(r) in again:
                recs[i] = dict(again[_key(r)], redone=True, first=r["outcome"])
                n_redone += 1
                redo_utc.append(recs[i].get("utc", ""))
    meta = metas[0] if metas else {}
    rows = collections.defaultdict(collections.Counter)

    def bucket(r):
        if r["outcome"] == "invalid":
            return "invalid"
        if r["outcome"] == "caught":
            return "caught by checks" if r.get("by", "checks") == "checks" else "caught by replay"
        if r["outcome"] == "equivalent":
            return "equivalent (trace-identical)"
        return "survivor: " + classify(r)[0]

    for r in recs:
        b = bucket(r)
        for key in (r["file"] if r["op"] != "AUDIT" else "audit (item 9)", "op " + r["op"], "all"):
            rows[key][b] += 1
            rows[key]["run"] += 1
            if b == "caught by checks" and r.get("strict"):
                rows[key]["strict"] += 1
    tot = rows["all"]
    eq = tot["equivalent (trace-identical)"] + tot["survivor: equivalent"]
    denom = tot["run"] - tot["invalid"] - eq
    c1, c2 = tot["caught by checks"], tot["caught by checks"] + tot["caught by replay"]
    s1 = c1 / denom if denom else float("nan")
    s2 = c2 / denom if denom else float("nan")
    inv = tot["survivor: invisible"]
    s3 = c2 / (denom - inv) if denom - inv else float("nan")
    cpu = sum(r.get("cpu_seconds") or 0.0 for r in recs)
    wall = sum(r.get("seconds") or 0.0 for r in recs)
    loads = [r["loadavg"] for r in recs if r.get("loadavg") is not None]
    utc = sorted(r["utc"] for r in recs if r.get("utc"))
    n_planned = planned if planned is not None else (meta.get("sampled", 0) + len(AUDIT_MUTANTS))
    partial = len(recs) < n_planned
    L = ["# Mutation score of the verify checks (issue 19, item 7)", ""]
    if partial:
        L += [f"**PARTIAL: {len(recs)} of the {n_planned} planned mutants scored** (the run's "
              "time budget ended first; the sample order is random, so the scored ones are a "
              "random subsample of the sample, except that the numba-kernel mutants come last).",
              ""]
    L += ["Command (resumable; two drivers side by side, `--shard 0/2` and `--shard 1/2`, "
          "each with its own `--out` and `--sandbox` and the same `--baseline`):", "",
          "    PYTHONPATH=. nice -n 15 python benchmarks/mutation_score.py --sample 250 "
          "--numba-sample 6 --seed 0 \\",
          "        --budget-min 78 --shard I/2 --sandbox /tmp/sandboxI \\",
          "        --baseline benchmarks/results/mutation_runs.baseline.json.gz \\",
          "        --out benchmarks/results/mutation_runs.shardI.jsonl",
          "    PYTHONPATH=. python benchmarks/mutation_score.py --report-only \\",
          "        --out benchmarks/results/mutation_runs.shard0.jsonl "
          "--out benchmarks/results/mutation_runs.shard1.jsonl \\",
          "        --report benchmarks/results/mutation_report.md", ""]
    if redo:
        L += [f"**Rescored**: the {n_redone} mutants the first run did not catch (survivors and "
              "trace-identical ones) were rerun on the final source with `--redo` (their "
              "records replace the first run's; time span "
              f"{min(redo_utc) if redo_utc else '?'} to {max(redo_utc) if redo_utc else '?'}):", "",
              "    PYTHONPATH=. nice -n 15 python benchmarks/mutation_score.py --seed 0 --sample 250 "
              "--numba-sample 6 \\",
              "        --redo benchmarks/results/mutation_runs.shard0.jsonl "
              "--redo benchmarks/results/mutation_runs.shard1.jsonl \\",
              "        --timeout 1800 --shard I/2 --sandbox /tmp/redoI "
              "--baseline /tmp/mutation_redo.baseline.json.gz \\",
              "        --out benchmarks/results/mutation_redo.shardI.jsonl", "",
              "(`--timeout 1800`: a fresh worker compiles the numba kernels inside its first "
              "mutant's fits, which took more than the default 300 s at this load; the redo's "
              "baseline is not committed, 1 MB, recomputed by the command.)", ""]
    L += [
          f"Run: {utc[0] if utc else '?'} to {utc[-1] if utc else '?'}; worker CPU time of the "
          f"fits and checks {cpu / 60:.1f} min ({wall / 60:.1f} min wall summed over the mutants, "
          "both shards; the replays' time not included); "
          f"1-minute load average at the mutants {min(loads) if loads else 0:.1f} to "
          f"{max(loads) if loads else 0:.1f} on 2 cores (the drivers ran at nice 15).  Source "
          f"stamp {str(meta.get('source', '?'))[:12]} (sha256 of solver/, theory/, verify/ and "
          "this script; the baseline is refused on any other source).", ""]
    for note in notes:
        L += [note, ""]
    L += [
          "Test command per mutant: fit the seven test problems of the script's docstring "
          "(depth 1 and 2; sigmoid and tanh; user, derived and a-posteriori constants) with the "
          "mutated solver and run the five checks of `sigadmm verify` (every check validates "
          "the trace first: `verify.validate_trace`).  **Caught by checks**: a check that "
          "PASSed on the unmutated solver does not PASS, or a check FAILs / refuses / raises, "
          "or the fit raises / stops non-finite / times out (*strict*: without an INCONCLUSIVE "
          "alone).  A mutant the checks do not catch is then **replayed** "
          "(`verify.replay.replay_trace`, k = 1 from the initial point, K/2 and K of every "
          "problem): **caught by replay** when a replay that holds on the unmutated solver "
          "fails.  **Equivalent (trace-identical)**: not caught and every traced field equal "
          "to the baseline's to 1e-12 relative on all seven problems.", "",
          f"Population: {meta.get('n_total', '?')} mutants of the four files with the operators "
          f"below, {meta.get('n_executed', '?')} on lines the test problems execute; "
          f"{meta.get('sampled', '?')} sampled with seed {meta.get('seed', '?')} (at most 6 "
          "inside numba-compiled kernels, each recompiling them, placed last), plus the "
          f"audit's {len(AUDIT_MUTANTS)} mutations (first).  {len(recs)} mutants ran.", "",
          "Operators: " + "; ".join(f"**{k}** {v}" for k, v in OPERATORS.items()) + ".", "",
          f"**Score, the five checks alone: {c1} caught of {denom} non-equivalent = "
          f"{100 * s1:.1f} %** (strict {tot['strict']} = "
          f"{100 * tot['strict'] / denom if denom else float('nan'):.1f} %).  "
          f"**With the step replay: {c2} of {denom} = {100 * s2:.1f} %**"
          + (f"; without the {inv} survivors classified invisible: {100 * s3:.1f} %" if inv else "")
          + ".  Round 1 (the checks before `validate_trace`, solver at c8b8132, 190 mutants of "
          "the same population and seed; `mutation_report_round1.md`): 151 of 169 = 89.3 %.", ""]
    cols = ["run", "caught by checks", "strict", "caught by replay", "equivalent (trace-identical)",
            "survivor: equivalent", "survivor: invisible", "survivor: missed",
            "survivor: unclassified", "invalid"]
    L += ["| group | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    keys = sorted(k for k in rows if k != "all" and not k.startswith("op ")) + \
        sorted(k for k in rows if k.startswith("op ")) + ["all"]
    for k in keys:
        L.append(f"| {'**all**' if k == 'all' else k} | " + " | ".join(str(rows[k][c]) for c in cols)
                 + " |")
    L += ["", "## The audit's mutations (item 9)", "", "| mutation | outcome | how |", "|---|---|---|"]
    for r in recs:
        if r["op"] == "AUDIT":
            L.append(f"| {r['desc']} | {bucket(r)}{' (strict)' if r.get('strict') else ''} | "
                     f"{'; '.join(r.get('how', []))[:300]} |")
    L += ["", "## Caught by the replay only", "",
          "| mutant | max rel. trace change | replay |", "|---|---|---|"]
    for r in recs:
        if r["outcome"] == "caught" and r.get("by") == "replay":
            L.append(f"| `{r['desc'][:150]}` | {r.get('max_rel_diff', float('nan')):.2g} | "
                     f"{'; '.join(r.get('replay', []))[:200]} |")
    L += ["", "## Surviving mutants (every one classified)", "",
          "| mutant | max rel. trace change | class | argument |", "|---|---|---|---|"]
    for r in recs:
        if r["outcome"] == "survived":
            cls, arg = classify(r)
            L.append(f"| `{r['desc'][:150]}` | {r.get('max_rel_diff', float('nan')):.2g} | {cls} | {arg} |")
    L += ["", "Trace-identical survivors (equivalent on these problems: same record to 1e-12 and "
          "the replay holds):", ""]
    for r in recs:
        if r["outcome"] == "equivalent":
            arg = EQUIV_ARGS.get(r["desc"], "(no argument recorded: trace-identical only)")
            L.append(f"- `{r['desc'][:150]}`: {arg}")
    Path(path).write_text("\n".join(L) + "\n")
    return s1, s2


if __name__ == "__main__":
    if "--report-only" in sys.argv:
        ap = argparse.ArgumentParser()
        ap.add_argument("--report-only", action="store_true")
        ap.add_argument("--out", action="append",
                        help="a runs file (jsonl); repeat for the shards "
                             "(default benchmarks/results/mutation_runs.jsonl)")
        ap.add_argument("--report", default=str(ROOT / "benchmarks/results/mutation_report.md"))
        ap.add_argument("--redo", action="append", default=None,
                        help="runs files of --redo whose records replace the first run's")
        ap.add_argument("--note", action="append", default=[],
                        help="a paragraph about the run (repeatable), printed after its times")
        ap.add_argument("--planned", type=int, default=None,
                        help="mutants planned (default: the sample plus the audit's)")
        a = ap.parse_args()
        outs = a.out or [str(ROOT / "benchmarks/results/mutation_runs.jsonl")]
        s1, s2 = report(outs, a.report, a.planned, a.redo, a.note)
        print(f"score: checks {s1:.3f}, checks + replay {s2:.3f}")
        sys.exit(0)
    main()
