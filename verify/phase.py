"""Phase diagram: where descent and the O(1/k) rate are observed in the (lambda, beta) plane.

For each activation, lambda, beta (the same beta on every layer, as the paper runs
it) and seed, one run is fitted from explicit initial weights and checked with
:func:`verify.sufficient_descent` and :func:`verify.kkt_rate`; beside it,
:func:`verify.conditions.guaranteed` says whether the derived conditions cover
that point (depth 1 only; ``None`` where nothing is derived).  This is what the
paper does not give: how far beyond its conditions the guarantees hold in practice.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .checks import kkt_rate, sufficient_descent

__all__ = ["phase_diagram", "PhaseDiagram"]


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
        import matplotlib

        if path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

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
    from solver import tasks

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
    from solver import ADMM, init_weights
    from theory import get_activation

    from . import conditions

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
        from tqdm.auto import tqdm

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
                            sd = sufficient_descent(tr)
                            kr = kkt_rate(tr, squared=kkt_squared)
                            d_ok, r_ok = sd.passed, kr.passed
                            xi, slope = sd.xi, kr.slope
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
