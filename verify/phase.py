"""Phase diagram: where descent and the O(1/k) rate are observed in the (lambda, beta) plane.

:func:`phase_plane` is the plane where the theory lives: ``(beta_1, lambda)`` at fixed
``beta_2`` (the uniform-beta diagram below is the paper's practice).

For each activation, lambda, beta (the same beta on every layer, as the paper runs
it) and seed, one run is fitted from explicit initial weights; descent is observed with
:func:`observed_descent` and the rate checked with :func:`verify.kkt_rate`; beside it,
:func:`verify.conditions.guaranteed` says whether the derived conditions cover
that point (depth 1 only; ``None`` where nothing is derived).  This is what the
paper does not give: how far beyond its conditions the guarantees hold in practice.
"""

from __future__ import annotations

import argparse
import warnings
from dataclasses import dataclass, field

import matplotlib
import numpy as np

from solver import ADMM, init_weights, tasks
from theory import get_activation

from . import conditions
from .checks import Verdict, descent_diagnostic, kkt_rate

__all__ = ["phase_diagram", "PhaseDiagram", "phase_plane", "PhasePlane", "observed_descent",
           "least_beta1_table"]


@dataclass
class PhaseDiagram:
    """Result of :func:`phase_diagram`.

    Arrays are indexed ``[activation, lam, beta]``: ``descent`` and ``rate`` hold the
    fraction of seeds on which the check passed (nan where not run, e.g. after an
    interrupt), ``guaranteed`` holds 1 / 0 / nan (nan: no derived condition).
    ``records`` has one dict per run (activation, lam, beta, seed, passed flags,
    xi, slope, final KKT residual).
    """

    activations: list
    lams: np.ndarray
    betas: np.ndarray
    seeds: list
    descent: np.ndarray
    rate: np.ndarray
    guaranteed: np.ndarray
    records: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    complete: bool = True

    def plot(self, path=None):
        """One panel per activation: descent (marker fill), O(1/k) rate (marker shape),
        derived guarantee (shaded cells).  Returns the matplotlib figure; saves it when
        ``path`` is given."""
        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt  # noqa: PLC0415 - after matplotlib.use: pyplot fixes its backend at import

        na = len(self.activations)
        fig, axes = plt.subplots(1, na, figsize=(4.2 * na, 3.8), squeeze=False)
        L, B = np.meshgrid(np.arange(len(self.lams)), np.arange(len(self.betas)), indexing="ij")
        for a, ax in enumerate(axes[0]):
            g = self.guaranteed[a]
            ax.imshow(np.where(np.isnan(g), 0.5, g).T, origin="lower", cmap="Greens", vmin=0,
                      vmax=2, aspect="auto")
            d, r = self.descent[a], self.rate[a]
            both = (d >= 0.5) & (r >= 0.5)
            ax.scatter(L[both], B[both], marker="o", c="k", label="descent + O(1/k)")
            only_d = (d >= 0.5) & ~(r >= 0.5)
            ax.scatter(L[only_d], B[only_d], marker="o", facecolors="none", edgecolors="k",
                       label="descent only")
            neither = ~(d >= 0.5) & ~np.isnan(d)
            ax.scatter(L[neither], B[neither], marker="x", c="r", label="no descent")
            ax.set_xticks(range(len(self.lams)), [f"{v:.0e}" for v in self.lams], rotation=45)
            ax.set_yticks(range(len(self.betas)), [f"{v:.0e}" for v in self.betas])
            ax.set_xlabel("lambda")
            ax.set_ylabel("beta (every layer)")
            ax.set_title(f"{self.activations[a]} (shaded: derived guarantee)", fontsize=9)
        axes[0][0].legend(fontsize=7, loc="upper left")
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
        return fig

    def table(self) -> str:
        """Plain-text table: one line per (activation, lambda, beta)."""
        lines = [f"{'activation':<10} {'lambda':>8} {'beta':>8}  descent  rate  guaranteed"]
        for a, act in enumerate(self.activations):
            for i, lm in enumerate(self.lams):
                for j, b in enumerate(self.betas):
                    g = self.guaranteed[a, i, j]
                    gs = "n/a" if np.isnan(g) else ("yes" if g else "no")
                    lines.append(f"{act:<10} {lm:>8.0e} {b:>8.0e}  {self.descent[a, i, j]:>7.2f}"
                                 f"  {self.rate[a, i, j]:>4.2f}  {gs}")
        return "\n".join(lines)


def _task_data(task, n, seed):
    if callable(task):
        X, y = task(seed)
        return np.asarray(X, float), np.asarray(y, float)

    t = tasks.make_task(task, n=n, seed=seed, n_test=0)
    return t.X, t.y


def phase_diagram(task, lams, betas, activations=("sigmoid",), seeds=(0,), depth=1, width=5,
                  n=50, iters=300, init="lecun_normal", init_scale=1.0, curvature="theory",
                  engine="numpy", kkt_squared=False, progress=False):
    """Observed descent / O(1/k) rate per ``(activation, lambda, beta)``, beside the guarantee.

    Parameters
    ----------
    task : str or callable
        A :mod:`solver.tasks` name ("square", "product", "radial", "smooth_radial") or
        ``seed -> (X, y)``.
    lams, betas : sequences of positive floats (beta is applied to every layer).
    activations : names or :class:`theory.Activation` objects.
    seeds : data and initialisation seeds; the figures are fractions over seeds.
    depth, width, n, iters, init, init_scale, curvature, engine : run settings.

    ``engine="numpy"`` by default: on these tiny problems the solver's numba engine
    costs more per call than it saves.  Ctrl-C stops the sweep and returns what was computed (``complete=False``).
    """
    lams = np.asarray(lams, float).ravel()
    betas = np.asarray(betas, float).ravel()
    if lams.size == 0 or np.any(~np.isfinite(lams)) or np.any(lams < 0):
        raise ValueError(f"lams: expected a non-empty sequence of finite values >= 0, got {lams!r}")
    if betas.size == 0 or np.any(~np.isfinite(betas)) or np.any(betas <= 0):
        raise ValueError(f"betas: expected a non-empty sequence of positive values, got {betas!r}")
    acts = [get_activation(a, "activations") for a in activations]
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds: expected at least one seed")
    shape = (len(acts), lams.size, betas.size)
    D, R, G = (np.full(shape, np.nan) for _ in range(3))
    records = []
    complete = True
    data = {s: _task_data(task, n, s) for s in seeds}
    total = int(np.prod(shape)) * len(seeds)
    bar = None
    if progress:
        from tqdm.auto import tqdm  # noqa: PLC0415 - import time: only progress=True shows a bar (as solver.core)

        bar = tqdm(total=total, desc="phase diagram")
    try:
        for a, act in enumerate(acts):
            for i, lm in enumerate(lams):
                for j, b in enumerate(betas):
                    dp, rp, gs = [], [], []
                    for s in seeds:
                        X, y = data[s]
                        widths = (X.shape[1],) + (int(width),) * int(depth) + (1,)
                        w0 = init_weights(widths, init, init_scale, s)
                        m = ADMM(hidden_layer_sizes=(int(width),) * int(depth), activation=act,
                                 lam=lm, beta=b, curvature=curvature, max_iter=iters,
                                 verbose=0, random_state=s, engine=engine)
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            m.fit(X, y, init_weights=w0)
                        tr = m.trace_
                        try:
                            # descent as an observation (a capped per-layer xi, see
                            # observed_descent); the certified verdicts are the checks' job
                            d_ok = observed_descent(tr)
                            kr = kkt_rate(tr, squared=kkt_squared)
                            r_ok = kr.passed
                            xi, slope = None, kr.get("slope")
                        except ValueError:   # a non-finite / too short run: neither observed
                            d_ok = r_ok = False
                            xi = slope = None
                        g = None
                        if lm > 0 and act.is_smooth:
                            E0, yn = conditions.initial_energy(X, y, w0, act, lm)
                            g = conditions.guaranteed(depth, act, b, lm, E0=E0, y_norm=yn)
                        dp.append(d_ok)
                        rp.append(r_ok)
                        gs.append(g)
                        records.append({"activation": act.name, "lam": float(lm), "beta": float(b),
                                        "seed": s, "descent": bool(d_ok), "rate": bool(r_ok),
                                        "guaranteed": g, "xi": xi, "slope": slope,
                                        "iters": len(tr), "status": tr.meta.get("status")})
                        if bar is not None:
                            bar.update(1)
                    D[a, i, j] = np.mean(dp)
                    R[a, i, j] = np.mean(rp)
                    if all(g is not None for g in gs):
                        G[a, i, j] = float(all(gs))
    except KeyboardInterrupt:
        complete = False
    finally:
        if bar is not None:
            bar.close()
    return PhaseDiagram(activations=[a.name for a in acts], lams=lams, betas=betas, seeds=seeds,
                        descent=D, rate=R, guaranteed=G, records=records, complete=complete,
                        settings={"task": task if isinstance(task, str) else repr(task),
                                  "depth": depth, "width": width, "n": n, "iters": iters,
                                  "init": init, "init_scale": init_scale,
                                  "curvature": curvature, "kkt_squared": kkt_squared})


# ---------------------------------------------------------------------------------------------
# The (beta_1, lambda) plane at fixed beta_2: where the theory lives
# ---------------------------------------------------------------------------------------------
#: largest per-layer Lyapunov weight the observed-descent criterion may use (the derived
#: weights are 0.06-10 on the documented problems; a free weight certifies nothing)
OBSERVED_XI_CAP = 10.0


def observed_descent(trace, xi_cap=OBSERVED_XI_CAP):
    """Empirical descent of one run: some per-layer ``xi`` in ``[0, xi_cap]`` makes ``Lhat``
    non-increasing (up to the rounding floor) at every step ``k >= 2``, with a positive
    margin (:func:`verify.checks.descent_diagnostic` with that cap).  An observation, not a
    certificate."""
    try:
        d = descent_diagnostic(trace, xi_cap=xi_cap)
    except ValueError:
        return False
    m = d.get("max_margin")
    return bool(d.verdict != Verdict.FAIL and m is not None and np.isfinite(m) and m > 0)


@dataclass
class PhasePlane:
    """Result of :func:`phase_plane`: arrays indexed ``[lam, beta_1]``.

    ``observed``: fraction of seeds with :func:`observed_descent`; ``a_posteriori``: fraction
    with :func:`verify.conditions.a_posteriori` ``holds``; ``derived_old`` / ``derived_sharp``:
    1/0 whether the a-priori conditions (original / sharpened derivation) hold for every
    seed's data and initial point (depth 1 and 2).
    """

    lams: np.ndarray
    beta1s: np.ndarray
    beta_rest: list
    seeds: list
    observed: np.ndarray
    a_posteriori: np.ndarray
    derived_old: np.ndarray
    derived_sharp: np.ndarray
    settings: dict = field(default_factory=dict)

    def boundary(self, which="observed", level=1.0):
        """Per lambda: the least ``beta_1`` of the grid from which ``which`` holds (fraction
        ``>= level``) at every larger ``beta_1`` of the grid; ``nan`` when never."""
        A = getattr(self, which)
        out = np.full(self.lams.size, np.nan)
        for i in range(self.lams.size):
            ok = A[i] >= level
            for j in range(self.beta1s.size):
                if ok[j:].all():
                    out[i] = self.beta1s[j]
                    break
        return out

    def table(self) -> str:
        rows = [f"{'lambda':>8} | {'observed':>9} {'a-post.':>9} {'sharp':>9} {'original':>9}"
                f" | observed x lambda"]
        bo, ba, bs, bd = (self.boundary(w) for w in ("observed", "a_posteriori", "derived_sharp",
                                                    "derived_old"))
        for i, lm in enumerate(self.lams):
            rows.append(f"{lm:>8.0e} | {bo[i]:>9.3g} {ba[i]:>9.3g} {bs[i]:>9.3g} {bd[i]:>9.3g}"
                        f" | {bo[i] * lm:.3g}")
        return "\n".join(rows)

    def plot(self, path=None):
        """Regions in the ``(beta_1, lambda)`` plane (log-log) with their boundaries."""
        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt  # noqa: PLC0415 - after matplotlib.use: pyplot fixes its backend at import

        fig, ax = plt.subplots(figsize=(8.6, 4.4))
        ax.set_xscale("log")
        ax.set_yscale("log")
        B, Lm = np.meshgrid(self.beta1s, self.lams)
        obs = self.observed
        ax.scatter(B[obs >= 1], Lm[obs >= 1], marker="o", c="k", s=14, label="descent observed (all seeds)")
        part = (obs > 0) & (obs < 1)
        ax.scatter(B[part], Lm[part], marker="o", facecolors="none", edgecolors="k", s=14,
                   label="some seeds")
        ax.scatter(B[obs == 0], Lm[obs == 0], marker="x", c="r", s=14, label="no descent")
        styles = {"a_posteriori": ("tab:blue", "a-posteriori certificate"),
                  "derived_sharp": ("tab:green", "derived (sharp)"),
                  "derived_old": ("tab:orange", "derived (original)")}
        for key, (col, lab) in styles.items():
            bd = self.boundary(key)
            ok = np.isfinite(bd)
            if ok.any():
                ax.plot(bd[ok], self.lams[ok], "-", c=col, lw=2, label=f"{lab}: region right of line")
        bo = self.boundary("observed")
        ok = np.isfinite(bo)
        if ok.any():
            ax.plot(bo[ok], self.lams[ok], "--", c="k", lw=1.5, label="observed boundary")
            ax.plot(10 / self.lams, self.lams, ":", c="gray", lw=1, label="beta_1 = 10 / lambda")
        ax.set_xlabel("beta_1 (input layer)")
        ax.set_ylabel("lambda")
        st = self.settings
        ax.set_title(f"depth {st.get('depth')}, {st.get('activation')}, beta_2.. = "
                     f"{self.beta_rest}, {len(self.seeds)} seeds", fontsize=9)
        # beside the axes, not on them: inside, the legend hid grid points (issue 21)
        ax.legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=130)
        return fig


def phase_plane(task="square", lams=(1e-3, 1e-2, 1e-1, 1.0), beta1s=None, beta_rest=(2.0,),
                activation="sigmoid", seeds=(0, 1, 2), depth=1, width=4, n=40, iters=200,
                init="lecun_normal", init_scale=1.0, runner=None):
    """Observed descent, a-posteriori certificate and a-priori regions in the ``(beta_1, lambda)`` plane.

    ``beta_rest``: the penalties of layers 2..N, fixed (``(beta_2,)`` at depth 1,
    ``(beta_2, beta_3)`` at depth 2).  ``runner(X, y, w0, beta, lam, activation, iters)`` ->
    ``solver.Trace`` replaces the default (``solver.ADMM`` with the numpy engine, theory
    curvature, factor 2) when given.  Uniform beta (the paper's practice) is the special case
    ``beta_1 = beta_2``.
    """
    lams = np.asarray(lams, float).ravel()
    beta1s = (np.logspace(-1, 6, 15) if beta1s is None else np.asarray(beta1s, float).ravel())
    beta_rest = [float(b) for b in beta_rest]
    if len(beta_rest) != depth:
        raise ValueError(f"beta_rest: expected {depth} value(s) (layers 2..N), got {beta_rest}")
    if np.any(lams <= 0) or np.any(beta1s <= 0):
        raise ValueError("lams, beta1s: expected positive values")
    seeds = list(seeds)

    def default_runner(X, y, w0, beta, lam, act, iters_):
        m = ADMM(hidden_layer_sizes=(int(width),) * depth, activation=act, lam=lam, beta=beta,
                 max_iter=iters_, verbose=0, engine="numpy")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m.fit(X, y, init_weights=w0)
        return m.trace_

    run = runner or default_runner
    shape = (lams.size, beta1s.size)
    O, A, D0, D1 = (np.zeros(shape) for _ in range(4))
    data = {s: _task_data(task, n, s) for s in seeds}
    for i, lm in enumerate(lams):
        for s in seeds:
            X, y = data[s]
            widths = (X.shape[1],) + (int(width),) * depth + (1,)
            w0 = init_weights(widths, init, init_scale, s)
            E0, yn = conditions.initial_energy(X, y, w0, activation, lm)
            for j, b1 in enumerate(beta1s):
                beta = [float(b1)] + beta_rest
                tr = run(X, y, w0, beta, float(lm), activation, iters)
                O[i, j] += observed_descent(tr) / len(seeds)
                try:
                    A[i, j] += bool(conditions.a_posteriori(tr)["holds"]) / len(seeds)
                except ValueError:
                    pass
                for arr, sharp in ((D0, False), (D1, True)):
                    g = conditions.guaranteed(depth, activation, beta, lm, E0=E0, y_norm=yn,
                                              n=X.shape[0], widths=widths[1:-1], sharp=sharp)
                    arr[i, j] += bool(g) / len(seeds)
    return PhasePlane(lams=lams, beta1s=beta1s, beta_rest=beta_rest, seeds=seeds, observed=O,
                      a_posteriori=A, derived_old=np.floor(D0 + 1e-9),
                      derived_sharp=np.floor(D1 + 1e-9),
                      settings={"task": task if isinstance(task, str) else repr(task),
                                "depth": depth, "width": width, "n": n, "iters": iters,
                                "activation": str(activation), "init": init,
                                "init_scale": init_scale})


def least_beta1_table(lams=(1e-3, 1e-2, 1e-1, 1.0), activation="sigmoid", seeds=(0, 1, 2),
                      n=40, width=4, beta2=2.0, init="lecun_normal", iters=200, plane=None):
    """Least ``beta_1`` per lambda: derived (original / sharp) at depth 1 and 2, a-posteriori
    and observed (depth 1, from :func:`phase_plane`), on the square task, seed 0's data and
    initial point for the derived values.  Returns a list of row dicts."""
    X, y = _task_data("square", n, seeds[0])
    rows = []
    for lm in lams:
        row = {"lam": float(lm)}
        for depth in (1, 2):
            w0 = init_weights((X.shape[1],) + (width,) * depth + (1,), init, 1.0, seeds[0])
            for sharp in (False, True):
                key = f"d{depth}_{'sharp' if sharp else 'orig'}"
                try:
                    kw = {"beta_out": beta2} if depth == 1 else {}
                    c = conditions.derive_from_data(depth, activation, X=X, y=y, init_weights=w0,
                                                    lam=float(lm), sharp=sharp, **kw)
                    if depth == 1 and not sharp:
                        row[key] = max(c.requirements.values())
                    else:
                        row[key] = c.requirements["least beta_1 (box closes, a > 0)"]
                    row[key + "_flag"] = bool(conditions.numerical_validity(conditions=c)["flagged"])
                except ValueError:
                    row[key] = float("nan")
        rows.append(row)
    if plane is None:
        plane = phase_plane("square", lams=lams, beta_rest=(beta2,), activation=activation,
                            seeds=seeds, n=n, width=width, iters=iters, init=init)
    bo, ba = plane.boundary("observed"), plane.boundary("a_posteriori")
    for row, o, a in zip(rows, bo, ba):
        row["d1_observed"], row["d1_a_posteriori"] = float(o), float(a)
    return rows


def _format_rows(rows):
    head = ("| lambda | depth 1 original | depth 1 sharp | depth 1 a-posteriori | depth 1 observed "
            "| depth 2 original | depth 2 sharp |")
    out = [head, "|" + "---|" * 7]
    f = lambda r, k: (f"{r[k]:.3g}" + (" (flagged)" if r.get(k + '_flag') else "")
                      if np.isfinite(r[k]) else "-")
    for r in rows:
        out.append(f"| {r['lam']:.0e} | {f(r, 'd1_orig')} | {f(r, 'd1_sharp')} | "
                   f"{f(r, 'd1_a_posteriori')} | {f(r, 'd1_observed')} | {f(r, 'd2_orig')} | "
                   f"{f(r, 'd2_sharp')} |")
    return "\n".join(out)


def main(argv=None):
    """``python -m verify.phase [--out docs/figures/phase_plane.png] [--quick]``: the figure
    of the (beta_1, lambda) plane at depth 1 and the least-beta_1 table (markdown)."""
    p = argparse.ArgumentParser(prog="python -m verify.phase", description=main.__doc__)
    p.add_argument("--out", default="docs/figures/phase_plane.png")
    p.add_argument("--activation", default="sigmoid")
    p.add_argument("--quick", action="store_true", help="a 2 x 5 grid, one seed (smoke run)")
    a = p.parse_args(argv)
    if a.quick:
        kw = dict(lams=(1e-2, 1.0), beta1s=np.logspace(-1, 4, 5), seeds=(0,), iters=80)
    else:
        kw = dict(lams=(1e-3, 1e-2, 1e-1, 1.0), beta1s=np.logspace(-1, 6, 15), seeds=(0, 1, 2),
                  iters=200)
    plane = phase_plane("square", beta_rest=(2.0,), activation=a.activation, **kw)
    plane.plot(a.out)
    print(f"figure: {a.out}\n")
    print(plane.table())
    print()
    print(_format_rows(least_beta1_table(lams=kw["lams"], activation=a.activation,
                                         seeds=kw["seeds"], iters=kw["iters"], plane=plane)))


if __name__ == "__main__":
    main()
