"""One instrumented ADMM iteration, compiled (paper Algorithm 1; docs/algorithm.md).

:class:`FastEngine` runs the six steps of Algorithm 1 in the paper's backward-forward
order, one method per step, named as the functions of :mod:`solver.admm.steps` that they
compute (:meth:`~FastEngine.output_weight_step`, :meth:`~FastEngine.lla_weight_step`,
:meth:`~FastEngine.lla_activation_step`, :meth:`~FastEngine.last_hidden_activation_step`,
:meth:`~FastEngine.output_activation_step`, :meth:`~FastEngine.multiplier_step`), with

* fused elementwise kernels (:mod:`solver.admm.kernels`: numba for the activations of the
  registry :mod:`solver.activation_kernels`, their numpy twins otherwise);
* matrix products through BLAS into preallocated buffers, biases kept apart
  (``W A = Wbar V + b 1^T``, ``A A^T`` from the Gram ``V V^T``), so ``[V; 1]`` is never
  formed;
* every symmetric positive definite system factored once (Cholesky), in numpy's own
  LAPACK where it exports one (:mod:`solver._lapack`; one thread pool with the products):
  the weight systems ``lambda I + c A A^T`` (possibly ill-conditioned: ``lambda`` is tiny)
  solved in place (``potrs``); the well-conditioned activation systems
  ``beta_i I + c Wbar^T Wbar`` of steps 3-4 inverted from their factor and applied by
  numpy's multithreaded dgemm (cheaper than ``n`` right-hand sides of ``dtrsm``,
  docs/solver.md); for the last hidden layer, whose system
  ``beta_{N-1} I + beta_N Wbar_N^T Wbar_N`` is a low-rank update when the output is
  narrow, the Woodbury identity with a ``d_N x d_N`` Cholesky factor;
* products shared between steps and the trace computed once: the pre-activation
  ``Z_i = W_i^k [V_{i-1}^k; 1]`` of step 3/4 feeds the multiplier update, the KKT
  residual of ``W_i`` and ``V_{i-1}``, and is the ``U0`` of the next iteration's step 2;
* products that only feed a norm or the train error run over column blocks in persistent
  ``d x CHUNK`` work blocks (peak memory under twice the iterate arrays, no page faults).

The plain transcription is :class:`solver.admm.reference.ReferenceEngine`; this engine is
tested against it.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.linalg as sla
from scipy.linalg import blas

from .. import _lapack
from .. import activation_kernels as _AK
from . import kernels as _K
from .._blas_threads import numpy_blas_threads, scipy_blas_one_thread
from .problem import ADMMProblem, ADMMState
from .reference import ReferenceEngine

__all__ = ["ADMMState", "FastEngine", "ReferenceEngine"]


class _Pool:
    """Spare ``d x n`` work buffers, reused across steps and iterations (no churn)."""

    def __init__(self, n):
        self.n, self.free = n, {}

    def get(self, d):
        lst = self.free.get(d)
        return lst.pop() if lst else np.empty((d, self.n))

    def try_get(self, d):
        """A spare ``d x n`` buffer if one is free, else ``None`` (never grows the pool)."""
        lst = self.free.get(d)
        return lst.pop() if lst else None

    def put(self, a):
        self.free.setdefault(a.shape[0], []).append(a)


class FastEngine(ADMMProblem):
    """Compiled iteration: fused kernels + BLAS, shared products (module docstring)."""

    name = "numba"

    def __init__(self, act, X, Y, lam, beta, rule, factor, use_numba=True, threads=None):
        super().__init__(act, X, Y, lam, beta, rule, factor)
        self.threads = None if threads is None else int(threads)
        kid = _AK.kernel_id(act) if use_numba else None
        if kid is not None:
            self.K, self.a = _K.NUMBA_KERNELS, _K.act_key(kid)
        else:
            self.K, self.a = _K.NUMPY_KERNELS, act
            self.name = "numpy"
        self.pool = _Pool(self.n)
        self._work, self._block_edges, self._dmax = [], None, 0
        self.gramX = self.X @ self.X.T  # V_0 = X is constant: its Gram once
        self.sumX = self.X.sum(axis=1)
        self._zeros = {}

    # ------------------------------------------------------------- helpers
    def _zero(self, d):
        z = self._zeros.get(d)
        if z is None:
            z = self._zeros[d] = np.zeros(d)
        return z

    def _gram_aug(self, j, P, scale, shift):
        """``shift I + scale [P;1][P;1]^T`` (``A A^T`` from the Gram, docs/algorithm.md#solving-the-linear-systems)."""
        d = P.shape[0]
        M = np.empty((d + 1, d + 1))
        if j == 0:
            M[:d, :d] = self.gramX
            s = self.sumX
        else:
            np.matmul(P, P.T, out=M[:d, :d])  # syrk-shaped; written in place
            s = P.sum(axis=1)
        M[:d, d] = s
        M[d, :d] = s
        M[d, d] = self.n
        M *= scale
        M.flat[:: d + 2] += shift
        return M

    @staticmethod
    def _times_aug_T(T, P):
        """``T [P; 1]^T`` without forming ``[P; 1]``."""
        out = np.empty((T.shape[0], P.shape[0] + 1))
        np.matmul(T, P.T, out=out[:, :-1])
        out[:, -1] = T.sum(axis=1)
        return out

    @staticmethod
    def _solve_right(R, M):
        """``R M^{-1}``, ``M`` SPD (one Cholesky factorisation); overwrites ``R`` and ``M``.

        In numpy's own LAPACK where it exports one (:mod:`solver._lapack`), else scipy's.
        """
        if _lapack.AVAILABLE and R.flags.c_contiguous and M.flags.c_contiguous:
            return _lapack.potrs_right(_lapack.potrf_lower(M), R)
        c = sla.cho_factor(M, lower=True, overwrite_a=True, check_finite=False)
        out = sla.cho_solve(c, R.T, overwrite_b=True, check_finite=False)  # R^T is Fortran-ordered
        return R if np.shares_memory(out, R) else np.ascontiguousarray(out.T)

    def _chol_solve(self, M, R):
        """``M^{-1} R``, ``M = beta I + c Wbar^T Wbar`` SPD (steps 3-4): into a spare pool
        buffer when one is free (``R`` is then returned to the pool), else in place over
        column blocks.

        ``M^{-1}`` is formed once from its Cholesky factor (LAPACK ``potrf`` + ``potri``,
        ``d^3`` flops) and applied by numpy's BLAS over column blocks of ``R`` (``2 d^2 n``
        flops in multithreaded dgemm's) instead of two triangular solves with ``n``
        right-hand sides, which run far below dgemm speed (docs/solver.md).  These systems are well conditioned
        (``kappa <= 1 + c ||Wbar||^2 beta_{i+1}/beta_i``), so the explicit inverse loses
        nothing measurable: the iteration agrees with the Cholesky-solve reference to 1e-10.
        """
        Minv = self._spd_inverse(M)
        out = self.pool.try_get(R.shape[0])
        if out is not None:  # a spare buffer: one full-width product, R goes back to the pool
            np.matmul(Minv, R, out=out)
            self.pool.put(R)
            return out
        for s, e in self._blocks():
            T = self._block(0, Minv.shape[0], e - s)
            np.matmul(Minv, R[:, s:e], out=T)
            R[:, s:e] = T
        return R

    @staticmethod
    def _spd_inverse(M):
        """``M^{-1}`` of an SPD ``M`` via Cholesky (``potrf``, ``potri``); overwrites ``M``."""
        F = M.T  # the same symmetric matrix, Fortran-ordered: LAPACK works in place
        if _lapack.AVAILABLE and M.flags.c_contiguous:
            _lapack.spd_inverse(M)  # fills F's lower triangle
            _K.symmetrize_from_lower(F)
            return M
        c, info = sla.lapack.dpotrf(F, lower=1, clean=0, overwrite_a=1)
        if info != 0:
            raise np.linalg.LinAlgError(f"{info}-th leading minor not positive definite")
        inv, info = sla.lapack.dpotri(c, lower=1, overwrite_c=1)
        if info != 0:  # pragma: no cover - a zero diagonal of a successful factor
            raise np.linalg.LinAlgError("singular Cholesky factor")
        _K.symmetrize_from_lower(inv)  # potri fills the lower triangle only
        return inv

    def _last_hidden_solve(self, R, WbarN, b1, bN):
        """``(b1 I + bN Wbar^T Wbar)^{-1} R`` (docs/algorithm.md#step-4-last-hidden-activation-exactly); Woodbury in place if the output
        is narrow, else :meth:`_chol_solve` (which may return another buffer)."""
        dN, d = WbarN.shape
        if 2 * dN < d:
            S = WbarN @ WbarN.T
            S.flat[:: dN + 1] += b1 / bN
            c = sla.cho_factor(S, lower=True, check_finite=False)
            sol = sla.cho_solve(c, WbarN @ R, check_finite=False)
            # R -= Wbar^T sol in place: R^T (Fortran view) <- R^T - sol^T Wbar (one dgemm)
            out = blas.dgemm(-1.0, sol.T, WbarN, beta=1.0, c=R.T, overwrite_c=1)
            if not np.shares_memory(out, R):  # pragma: no cover
                R[...] = out.T
            R *= 1.0 / b1
            return R
        M = bN * (WbarN.T @ WbarN)
        M.flat[:: d + 1] += b1
        return self._chol_solve(M, R)

    # ------------------------------------------------------------ iteration
    #: below this many entries per d x n block the kernels always run on one thread (the
    #: parallel launch costs more than it saves)
    PARALLEL_MIN_ENTRIES = 100_000

    def iterate(self, st, row, *, track=True, train=True):
        """One iteration of Algorithm 1 on ``st`` (in place), filling the trace ``row``.

        ``threads`` (the engine's): ``None`` leaves numpy's BLAS as it is and runs the
        kernels on one thread; ``1`` also holds numpy's BLAS to one thread; ``k > 1`` runs
        BLAS on ``k`` threads and the kernels' parallel twins on ``k`` numba threads
        (:func:`solver.admm.kernels.parallel_kernels`; docs/solver.md, "Both cores").
        Overflow is not warned about here: a non-finite iterate is detected by the caller
        from the row.
        """
        threads = self.threads
        par = (threads is not None and threads > 1 and self.K is _K.NUMBA_KERNELS
               and max(w.shape[0] for w in st.W) * self.n >= self.PARALLEL_MIN_ENTRIES)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"), scipy_blas_one_thread(), \
                numpy_blas_threads(threads):
            if not par:
                return self._iterate(st, row, track, train, self.K)
            K = _K.parallel_kernels()
            old = numba.get_num_threads()
            numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
            try:
                return self._iterate(st, row, track, train, K)
            finally:
                numba.set_num_threads(old)

    def _iterate(self, st, row, track, train, K):
        dmax = max(max(w.shape[0] for w in st.W), self.X.shape[0])
        if dmax > self._dmax:  # the work blocks are sized for the widest layer
            self._dmax, self._work = dmax, []
        N = st.n_layers
        self.output_weight_step(st, row, K)
        bmax = {}  # ||V_i - Lam_i/beta_i||_max: step 3 needs the same B' for layer i+1
        for j in range(N - 2, -1, -1):
            self.lla_weight_step(st, row, K, j, bmax)
        for j in range(0, N - 2):
            self.lla_activation_step(st, row, K, j, bmax)
        self.last_hidden_activation_step(st, row, K)
        ZN = self.output_activation_step(st, row)
        self.multiplier_step(st, row, K, ZN, track)
        if train:
            row["train_mse"] = self._train_mse(K, st.W, st.Z[0])
        st.k += 1

    def _Vin(self, st, j):
        """``V_{i-1}`` for list index ``j`` (``X`` for the first layer): current contents."""
        return self.X if j == 0 else st.V[j - 1]

    def output_weight_step(self, st, row, K):
        """Step 1, exact ``W_N`` (:func:`solver.admm.steps.output_weight_step`), ``A = [V_{N-1}^{k-1}; 1]``."""
        W, V, Lam, beta, j = st.W, st.V, st.Lam, self.beta, st.n_layers - 1
        P = self._Vin(st, j)
        E = beta[j] * V[j] - Lam[j]
        Wn = self._solve_right(self._times_aug_T(E, P), self._gram_aug(j, P, beta[j], self.lam))
        row["dW2"][j] = K["sq_diff"](Wn, W[j], 0)
        W[j] = Wn

    def lla_weight_step(self, st, row, K, j, bmax):
        """Step 2, LLA update of hidden ``W_i`` (:func:`solver.admm.steps.lla_weight_step`).

        ``U0 = Z_i`` of the previous iteration (cached); records ``||B||_max`` in ``bmax``.
        """
        W, V, Lam, Z, beta, pool = st.W, st.V, st.Lam, st.Z, self.beta, self.pool
        P = self._Vin(st, j)
        ib = 1.0 / beta[j]
        bmax[j] = K["bmax"](V[j], Lam[j], ib)
        c = self.curvature(bmax[j])
        T = pool.get(W[j].shape[0])
        K["lla_rhs"](self.a, Z[j], self._zero(T.shape[0]), V[j], Lam[j], ib, c, True, T)
        R = self._times_aug_T(T, P)
        pool.put(T)
        pool.put(Z[j])  # Z_i^{k-1} is spent; Z_i^k is formed in step 3/4
        Z[j] = None
        R *= beta[j]
        Wn = self._solve_right(R, self._gram_aug(j, P, beta[j] * c, self.lam))
        row["dW2"][j] = K["sq_diff"](Wn, W[j], 0)
        row["curvature"][j] = c
        W[j] = Wn

    def lla_activation_step(self, st, row, K, j, bmax):
        """Step 3, LLA update of hidden ``V_i``, i <= N-2 (:func:`solver.admm.steps.lla_activation_step`)."""
        W, V, Lam, Z, beta, pool = st.W, st.V, st.Lam, st.Z, self.beta, self.pool
        Wb, bn = W[j + 1][:, :-1], self._bias(W[j + 1])
        T = pool.get(Wb.shape[0])
        np.matmul(Wb, V[j], out=T)                           # Wbar_{i+1} V_i^{k-1}
        ib = 1.0 / beta[j + 1]
        c = self.curvature(bmax[j + 1])  # V_{i+1}^{k-1}, Lam_{i+1}^{k-1}: as in step 2
        K["lla_rhs"](self.a, T, bn, V[j + 1], Lam[j + 1], ib, c, False, T)   # c Wbar V - G
        R = pool.get(V[j].shape[0])
        np.matmul(Wb.T, T, out=R)
        pool.put(T)
        Z[j] = pool.get(V[j].shape[0])
        np.matmul(W[j][:, :-1], self._Vin(st, j), out=Z[j])  # Z_i^k (bias added below)
        K["activation_rhs"](self.a, Z[j], self._bias(W[j]), Lam[j], beta[j], R, beta[j + 1], R)
        M = (beta[j + 1] * c) * (Wb.T @ Wb)
        M.flat[:: M.shape[0] + 1] += beta[j]
        R = self._chol_solve(M, R)
        del M  # d x d temporaries are not kept alive through the rest of the iteration
        row["dV2"][j] = K["sq_diff"](R, V[j], 0)
        row["curvature_V"][j] = c
        pool.put(V[j])
        V[j] = R

    def last_hidden_activation_step(self, st, row, K):
        """Step 4, exact ``V_{N-1}`` (:func:`solver.admm.steps.last_hidden_activation_step`)."""
        W, V, Lam, Z, beta, pool = st.W, st.V, st.Lam, st.Z, self.beta, self.pool
        N = st.n_layers
        j = N - 2
        Z[j] = pool.get(V[j].shape[0])
        np.matmul(W[j][:, :-1], self._Vin(st, j), out=Z[j])
        WbN, bN = W[N - 1][:, :-1], W[N - 1][:, -1]
        E = Lam[N - 1] - beta[N - 1] * (V[N - 1] - bN[:, None])
        R = pool.get(V[j].shape[0])
        np.matmul(WbN.T, E, out=R)
        K["activation_rhs"](self.a, Z[j], self._bias(W[j]), Lam[j], beta[j], R, -1.0, R)
        R = self._last_hidden_solve(R, WbN, beta[j], beta[N - 1])
        row["dV2"][j] = K["sq_diff"](R, V[j], 0)
        pool.put(V[j])
        V[j] = R

    def output_activation_step(self, st, row):
        """Step 5, ``V_N`` (:func:`solver.admm.steps.output_activation_step`); returns ``W_N^k [V_{N-1}^k; 1]``."""
        W, V, Lam, N = st.W, st.V, st.Lam, st.n_layers
        WbN, bN = W[N - 1][:, :-1], W[N - 1][:, -1]
        ZN = WbN @ V[N - 2]
        ZN += bN[:, None]
        VN = (self.Y + Lam[N - 1] + self.beta[N - 1] * ZN) / (1.0 + self.beta[N - 1])
        row["dV2"][N - 1] = np.sum((VN - V[N - 1]) ** 2)
        V[N - 1] = VN
        return ZN

    def multiplier_step(self, st, row, K, ZN, track):
        """Step 6, ``Lam_i += beta_i F_i`` (:func:`solver.admm.steps.multiplier_step`), fused with
        the Lagrangian's parts (paper eq. 6) and, with ``track``, the KKT residuals (eq. 24)."""
        W, V, Lam, Z, beta, lam, pool = st.W, st.V, st.Lam, st.Z, self.beta, self.lam, self.pool
        N = st.n_layers
        a = self.a
        dual = pen = 0.0
        for j in range(N - 1):
            if track:
                Q, qsum = pool.get(V[j].shape[0]), np.empty(V[j].shape[0])
                f2, lf, l2, v2 = K["multiplier_update_q"](a, Z[j], V[j], Lam[j], beta[j], Q, qsum)
            else:
                f2, lf, l2, v2 = K["multiplier_update"](a, Z[j], V[j], Lam[j], beta[j])
            self._layer_stats(row, j, f2, lf, l2, v2)
            dual += lf
            pen += 0.5 * beta[j] * f2
            if track:
                # W_i block: lam W_i + Q [V_{i-1}; 1]^T (product part, bias column = row sums)
                P = self._Vin(st, j)
                QP = np.empty((Q.shape[0], P.shape[0]))
                np.matmul(Q, P.T, out=QP)
                row["kkt"][j] = np.sqrt(K["kkt_w_sq"](lam, W[j], QP, qsum))
                del QP
                if j >= 1:   # V_{i-1} block: -Lam_{i-1} + Wbar_i^T (Lam_i * sigma'(Z_i))
                    row["kkt"][N + j - 1] = np.sqrt(self._sq_diff_product(K, W[j][:, :-1].T, Q, Lam[j - 1]))
                pool.put(Q)
        j = N - 1
        WbN = W[j][:, :-1]
        FN = ZN - V[j]
        Lam[j] = Lam[j] + beta[j] * FN
        f2 = float(np.sum(FN * FN))
        lf = float(np.sum(Lam[j] * FN))
        self._layer_stats(row, j, f2, lf, float(np.sum(Lam[j] ** 2)), float(np.sum(V[j] ** 2)))
        dual += lf
        pen += 0.5 * beta[j] * f2
        row["normW"][:] = [np.sqrt(np.sum(w * w)) for w in W]
        row["loss"] = 0.5 * float(np.sum((V[j] - self.Y) ** 2))
        row["reg"] = 0.5 * lam * float(np.sum(row["normW"] ** 2))
        row["dual"], row["penalty"] = dual, pen
        row["lagrangian"] = row["loss"] + row["reg"] + dual + pen
        if track:
            rW = self._times_aug_T(Lam[j], V[j - 1])
            rW += lam * W[j]
            row["kkt"][j] = np.linalg.norm(rW)
            if WbN.shape[0] <= self.LOWRANK_MAX:  # narrow output: no d x n product
                kv = K["sq_diff_lowrank"](np.ascontiguousarray(WbN), Lam[j], Lam[j - 1])
            else:
                kv = self._sq_diff_product(K, WbN.T, Lam[j], Lam[j - 1])
            row["kkt"][2 * N - 2] = np.sqrt(kv)
            row["kkt"][2 * N - 1] = np.linalg.norm(V[j] - self.Y - Lam[j])
            row["kkt_total"] = float(np.sqrt(np.sum(row["kkt"] ** 2) + np.sum(row["feas"] ** 2)))

    def _layer_stats(self, row, j, f2, lf, l2, v2):
        row["feas"][j] = np.sqrt(f2)
        row["dLam2"][j] = self.beta[j] * f2      # ||beta F||^2 / beta
        row["normLam"][j] = np.sqrt(l2)
        row["normV"][j] = np.sqrt(v2)

    #: output layers up to this width get the KKT residual of ``V_{N-1}`` from a fused kernel
    LOWRANK_MAX = 4
    #: column block of the products that only feed a norm or the train error, and of the
    #: ``M^{-1} R`` products: a persistent ``d x CHUNK`` work block instead of a ``d x n``
    #: temporary (the peak-memory budget); a 300 x 300 x 256 dgemm runs within 3% of the
    #: 300 x 300 x 1000 rate here
    CHUNK = 256

    def _blocks(self):
        """Column blocks ``(s, e)`` of at most ``CHUNK`` columns, of near-equal widths."""
        b = self._block_edges
        if b is None:
            n = self.n
            m = -(-n // self.CHUNK)
            edges = [(i * n) // m for i in range(m + 1)]
            b = self._block_edges = list(zip(edges[:-1], edges[1:]))
        return b

    def _block(self, i, d, w):
        """A contiguous ``d x w`` view (``w <= CHUNK``) of the ``i``-th persistent work block.

        The blocks are allocated once per engine, sized for the widest layer: reused every
        iteration, so no page faults from fresh temporaries.
        """
        while len(self._work) <= i:
            self._work.append(np.empty(self._dmax * min(self.CHUNK, self.n)))
        return self._work[i][: d * w].reshape(d, w)

    def _sq_diff_product(self, K, A, B, C):
        """``||A B - C||_F^2`` over column blocks (no ``d x n`` temporary)."""
        tot = 0.0
        for s, e in self._blocks():
            T = self._block(0, A.shape[0], e - s)
            np.matmul(A, B[:, s:e], out=T)
            tot += K["sq_diff"](T, C, s)
        return tot

    @staticmethod
    def _bias(w):
        """The bias column of ``W_i`` as a contiguous vector: the kernels then see one array
        type for every bias (a strided column would compile a second specialisation)."""
        return np.ascontiguousarray(w[:, -1])

    def _train_mse(self, K, W, Z0):
        """``mean((net(X; W^k) - Y)^2)``; layer 1 reuses ``Z_1 = W_1^k [X; 1]``.

        Column blocks through persistent work blocks; ``sigma(Z_1)`` goes into the spare
        pool buffer when there is one (one pass).  For a narrow output the last hidden
        activation, the output layer and the squared error are one fused pass
        (:func:`solver.admm.kernels.output_sq_err`).
        """
        a, N, pool = self.a, len(W), self.pool
        zero = self._zero(Z0.shape[0])
        Wo, bo = np.ascontiguousarray(W[N - 1][:, :-1]), self._bias(W[N - 1])
        biases = [None] + [self._bias(W[j]) for j in range(1, N - 1)]
        narrow = Wo.shape[0] <= self.LOWRANK_MAX
        tot = 0.0
        if N == 2 and narrow:
            for s, e in self._blocks():
                tot += K["output_sq_err"](a, Z0, s, e - s, zero, Wo, bo, self.Y, s)
            return tot / self.Y.size
        S = pool.try_get(Z0.shape[0])
        if S is not None:
            K["activate"](a, Z0, 0, zero, S)
        for s, e in self._blocks():
            if S is not None:
                H = S[:, s:e]
            else:
                H = self._block(1, Z0.shape[0], e - s)  # layer outputs ping-pong 0, 1, 0, ...
                K["activate"](a, Z0, s, zero, H)
            for j in range(1, N - 1):
                H2 = self._block((j + 1) % 2, W[j].shape[0], e - s)
                np.matmul(W[j][:, :-1], H, out=H2)
                if j == N - 2 and narrow:  # last hidden layer + output + error in one pass
                    tot += K["output_sq_err"](a, H2, 0, e - s, biases[j], Wo, bo, self.Y, s)
                    break
                K["activate"](a, H2, 0, biases[j], H2)
                H = H2
            else:
                out = Wo @ H
                out += bo[:, None]
                out -= self.Y[:, s:e]
                tot += float(np.sum(out * out))
        if S is not None:
            pool.put(S)
        return tot / self.Y.size
