"""Per-iteration record of everything the convergence proof talks about.

A :class:`Trace` is a set of equally long arrays indexed by the iteration
``k = 1..K`` (row ``j`` holds iteration ``k = j + 1``; row 0 of the optional
``*_init`` fields holds the initial point ``k = 0`` of paper eq. (7)).  The layer
index ``i = 1..N`` maps to column ``i - 1``; N = number of layers (hidden
layers + the linear output layer).

Fields (MATH.md section 2, "What to track each iteration")
-----------------------------------------------------------
lagrangian      (K,)   L_beta(W^k, V^k, Lam^k), paper eq. (6)
loss            (K,)   1/2 ||V_N^k - Y||_F^2
reg             (K,)   lambda/2 sum_i ||W_i^k||_F^2
dual            (K,)   sum_i <Lam_i^k, F_i(W^k, V^k)>
penalty         (K,)   sum_i beta_i/2 ||F_i(W^k, V^k)||_F^2
                       (lagrangian = loss + reg + dual + penalty)
dW2             (K, N) ||W_i^k - W_i^{k-1}||_F^2
dV2             (K, N) ||V_i^k - V_i^{k-1}||_F^2
dLam2           (K, N) ||Lam_i^k - Lam_i^{k-1}||_F^2 / beta_i
feas            (K, N) ||F_i(W^k, V^k)||_F
kkt             (K, 2N) Frobenius norms of the KKT residual blocks of paper eq. (24),
                       columns [W_1..W_N, V_1..V_N]
kkt_total       (K,)   sqrt(sum kkt^2 + sum feas^2): the full KKT residual
normW, normV, normLam (K, N) Frobenius norms of the iterates (boundedness)
curvature       (K, N) curvature c used by the LLA step of each W_i (nan for exact steps)
curvature_V     (K, N) curvature c used by the LLA step of each V_i (nan for exact steps:
                       V_{N-1}, V_N); added by the solver, absent from older traces
train_mse       (K,)   mean((net(X; W^k) - Y)^2) of the forward pass with W^k
test_mse        (K,)   same on the test set (nan when no test data were given)
time            (K,)   wall-clock seconds since the start of fit

``meta`` is a JSON-serialisable dict of the run's settings (activation, widths,
beta per layer, lam, curvature rule and factor, init, seed, n, ...).

The Lyapunov function of the proof (paper eq. 29) is
``Lhat^k = L_beta^k + sum_i xi_i ||V_i^k - V_i^{k-1}||^2``; it is not stored but
computed by :meth:`Trace.lyapunov` for any ``xi``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Trace", "TRACE_FIELDS_1D", "TRACE_FIELDS_LAYER"]

TRACE_FIELDS_1D = ("lagrangian", "loss", "reg", "dual", "penalty", "kkt_total",
                   "train_mse", "test_mse", "time")
TRACE_FIELDS_LAYER = ("dW2", "dV2", "dLam2", "feas", "normW", "normV", "normLam", "curvature",
                      "curvature_V")
TRACE_FIELDS_BLOCK = ("kkt",)
_ALL = TRACE_FIELDS_1D + TRACE_FIELDS_LAYER + TRACE_FIELDS_BLOCK


@dataclass
class Trace:
    """Arrays of per-iteration diagnostics of one ADMM run (see module docstring)."""

    n_layers: int
    meta: dict = field(default_factory=dict)
    lagrangian: np.ndarray = None
    loss: np.ndarray = None
    reg: np.ndarray = None
    dual: np.ndarray = None
    penalty: np.ndarray = None
    kkt_total: np.ndarray = None
    train_mse: np.ndarray = None
    test_mse: np.ndarray = None
    time: np.ndarray = None
    dW2: np.ndarray = None
    dV2: np.ndarray = None
    dLam2: np.ndarray = None
    feas: np.ndarray = None
    normW: np.ndarray = None
    normV: np.ndarray = None
    normLam: np.ndarray = None
    curvature: np.ndarray = None
    curvature_V: np.ndarray = None
    kkt: np.ndarray = None

    # ------------------------------------------------------------ building
    @classmethod
    def empty(cls, n_layers: int, capacity: int, meta: dict | None = None) -> "Trace":
        """Preallocate ``capacity`` rows filled with NaN (use :meth:`truncate` at the end)."""
        if int(n_layers) < 1:
            raise ValueError(f"n_layers: expected a positive integer, got {n_layers!r}")
        tr = cls(n_layers=int(n_layers), meta=dict(meta or {}))
        N = tr.n_layers
        for name in TRACE_FIELDS_1D:
            setattr(tr, name, np.full(capacity, np.nan))
        for name in TRACE_FIELDS_LAYER:
            setattr(tr, name, np.full((capacity, N), np.nan))
        tr.kkt = np.full((capacity, 2 * N), np.nan)
        tr._len = 0
        return tr

    def __len__(self) -> int:
        if hasattr(self, "_len"):
            return self._len
        return 0 if self.lagrangian is None else len(self.lagrangian)

    def truncate(self, length: int | None = None) -> "Trace":
        """Drop unused preallocated rows (in place); returns self."""
        n = len(self) if length is None else int(length)
        for name in _ALL:
            arr = getattr(self, name)
            if arr is not None:
                setattr(self, name, np.ascontiguousarray(arr[:n]))
        self._len = n
        return self

    def set_length(self, n: int) -> None:
        self._len = int(n)

    def set_row(self, j: int, row: dict) -> None:
        """Store the diagnostics ``row`` (field name -> value) of iteration ``k = j + 1``.

        Grows the arrays (doubling) when ``j`` is past the preallocated capacity and sets
        the length to ``j + 1``.  Fields missing from ``row`` stay NaN.
        """
        cap = 0 if self.lagrangian is None else len(self.lagrangian)
        if j >= cap:
            new = max(2 * cap, j + 1, 16)
            for name in _ALL:
                arr = getattr(self, name)
                if arr is None:
                    arr = np.full((cap,) + ((2 * self.n_layers,) if name == "kkt" else
                                            (self.n_layers,) if name in TRACE_FIELDS_LAYER else ()), np.nan)
                grown = np.full((new,) + arr.shape[1:], np.nan)
                grown[:len(arr)] = arr
                setattr(self, name, grown)
        for name, val in row.items():
            arr = getattr(self, name, None)
            if isinstance(arr, np.ndarray):
                arr[j] = val
        self._len = max(len(self), j + 1)

    def row(self, j: int) -> dict:
        """The diagnostics of iteration ``k = j + 1`` as a dict (negative ``j`` counts from the end)."""
        n = len(self)
        if not -n <= j < n:
            raise IndexError(f"j: expected an index in [-{n}, {n}), got {j}")
        return {name: getattr(self, name)[j] for name in _ALL if getattr(self, name) is not None}

    # ------------------------------------------------------------ plotting
    def plot(self, path=None, xi=0.0, fig=None):
        """The standard panels (matplotlib, Agg-safe); saves a PNG when ``path`` is given.

        Panels: (a) augmented Lagrangian and the Lyapunov function ``Lhat`` for ``xi``
        (paper eq. 29); (b) KKT residual (``kkt_total`` and its running minimum) against k
        with a ``C/k`` reference line (Theorem 4(c)); (c) feasibility ``||F_i||`` per layer;
        (d) train (and test) mean squared error.  Returns the figure.
        """
        from matplotlib.figure import Figure  # no pyplot: works headless, never changes the backend

        self.validate(need=("lagrangian", "feas", "train_mse"))
        n, k = len(self), self.k
        if fig is None:
            fig = Figure(figsize=(11, 7.5), layout="constrained")
        ax = fig.subplots(2, 2)
        a = ax[0, 0]
        lag = self.lagrangian[:n]
        a.plot(k, lag, label=r"$L_\beta$")
        xi_arr = np.broadcast_to(np.asarray(xi, dtype=float), (self.n_layers,))
        if np.any(xi_arr != 0):
            a.plot(k, self.lyapunov(xi_arr), "--", label=r"$\hat L$ ($\xi$=" + f"{np.asarray(xi).tolist()})")
        a.set_yscale("symlog", linthresh=max(1e-12, float(np.nanmin(np.abs(lag))) or 1e-12))
        a.set_xlabel("iteration k")
        a.set_title("augmented Lagrangian")
        a.legend()
        a = ax[0, 1]
        if self.kkt_total is not None and np.any(np.isfinite(self.kkt_total[:n])):
            kt = self.kkt_total[:n]
            a.loglog(k, kt, lw=0.8, label="KKT residual")
            a.loglog(k, np.fmin.accumulate(kt), label="min over first k")
            a.loglog(k, kt[0] / k, "k:", label="1/k reference")
            a.legend()
        else:
            a.text(0.5, 0.5, "not tracked (track=False)", ha="center", transform=a.transAxes)
        a.set_xlabel("iteration k")
        a.set_title("KKT residual (paper eq. 24)")
        a = ax[1, 0]
        for i in range(self.n_layers):
            a.semilogy(k, self.feas[:n, i], label=f"layer {i + 1}")
        a.set_xlabel("iteration k")
        a.set_title(r"feasibility $\|F_i\|$")
        a.legend(fontsize="small")
        a = ax[1, 1]
        a.semilogy(k, self.train_mse[:n], label="train")
        if self.test_mse is not None and np.any(np.isfinite(self.test_mse[:n])):
            a.semilogy(k, self.test_mse[:n], label="test")
        a.set_xlabel("iteration k")
        a.set_title("mean squared error")
        a.legend()
        title = ", ".join(f"{key}={self.meta[key]}" for key in ("activation", "hidden_layer_sizes",
                                                                  "curvature") if key in self.meta)
        fig.suptitle(title)
        if path is not None:
            fig.savefig(path, dpi=110)
        return fig

    # ---------------------------------------------------------- derived
    @property
    def k(self) -> np.ndarray:
        """Iteration numbers 1..K."""
        return np.arange(1, len(self) + 1)

    def lyapunov(self, xi=0.0) -> np.ndarray:
        """``Lhat^k = L_beta^k + sum_i xi_i ||V_i^k - V_i^{k-1}||^2`` (paper eq. 29).

        ``xi`` is a scalar (same for every layer) or one value per layer.
        """
        xi = np.broadcast_to(np.asarray(xi, dtype=float), (self.n_layers,))
        if np.any(~np.isfinite(xi)) or np.any(xi < 0):
            raise ValueError(f"xi: expected finite non-negative values, got {xi!r}")
        n = len(self)
        return self.lagrangian[:n] + self.dV2[:n] @ xi

    def validate(self, need=_ALL) -> None:
        """Raise ``ValueError`` naming any required field that is missing or empty."""
        if len(self) == 0:
            raise ValueError("trace: expected at least one recorded iteration, got an empty trace")
        missing = [nm for nm in need if getattr(self, nm, None) is None]
        if missing:
            raise ValueError(f"trace: missing fields {missing} needed by this check")

    # ------------------------------------------------------------ I/O
    def to_dict(self) -> dict:
        n = len(self)
        out = {name: np.asarray(getattr(self, name))[:n] for name in _ALL if getattr(self, name) is not None}
        out["n_layers"] = np.asarray(self.n_layers)
        out["meta_json"] = np.asarray(json.dumps(self.meta, default=_json_default))
        return out

    def save(self, path) -> Path:
        """Write the trace and its settings to a ``.npz`` file; returns the path."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, **self.to_dict())
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path) -> "Trace":
        """Read a trace written by :meth:`save`."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"path: no trace file at {str(path)!r}")
        with np.load(path, allow_pickle=False) as z:
            tr = cls(n_layers=int(z["n_layers"]), meta=json.loads(str(z["meta_json"])))
            for name in _ALL:
                if name in z.files:
                    setattr(tr, name, np.array(z[name]))
        tr._len = len(tr.lagrangian) if tr.lagrangian is not None else 0
        return tr

    def __repr__(self) -> str:
        return (f"Trace(n_layers={self.n_layers}, iterations={len(self)}, "
                f"activation={self.meta.get('activation')!r})")


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    return str(o)
