"""One iteration of the test method: a simultaneous gradient step on every block of the
penalised lifted objective (the package docstring), and its state."""

import numpy as np

from solver import network_forward
from solver.admm import steps


class GDState:
    def __init__(self, W, V, k=0):
        self.W, self.V, self.k = list(W), list(V), int(k)

    def arrays(self, prefix=""):
        out = {f"{prefix}k": np.asarray(self.k)}
        out.update({f"{prefix}W{j}": w for j, w in enumerate(self.W)})
        out.update({f"{prefix}V{j}": v for j, v in enumerate(self.V)})
        return out


class LiftedGDEngine:
    name = "lifted_gd"

    def __init__(self, act, X, Y, lam, rho, lr):
        self.act, self.lam, self.rho, self.lr = act, lam, rho, lr
        self.X, self.Y = np.ascontiguousarray(X.T), np.ascontiguousarray(Y.T)

    def initial_state(self, weights):
        W = [np.hstack([w, b[:, None]]) for w, b in weights]
        V, _ = steps.initial_point(W, self.X, self.act)
        return GDState(W, V)

    def _objective(self, W, V):
        F = steps.constraint_residuals(W, V, self.X, self.act)
        f = (0.5 * np.sum((V[-1] - self.Y) ** 2) + 0.5 * self.lam * sum(np.sum(w * w) for w in W)
             + 0.5 * self.rho * sum(np.sum(r * r) for r in F))
        return float(f), F

    def iterate(self, st, row, *, track=True, train=True):
        W, V, N, rho = st.W, st.V, len(st.W), self.rho
        _, F = self._objective(W, V)
        A = [steps.augment(self.X)] + [steps.augment(v) for v in V[:-1]]
        P = [F[j] * self.act.d1(W[j] @ A[j]) if j < N - 1 else F[j] for j in range(N)]
        gW = [self.lam * W[j] + rho * P[j] @ A[j].T for j in range(N)]
        gV = [-rho * F[j] + rho * W[j + 1][:, :-1].T @ P[j + 1] for j in range(N - 1)]
        gV.append(V[-1] - self.Y - rho * F[-1])
        st.W = [w - self.lr * g for w, g in zip(W, gW)]
        st.V = [v - self.lr * g for v, g in zip(V, gV)]
        f, F = self._objective(st.W, st.V)
        row["objective"] = f
        row["grad_norm"] = float(np.sqrt(sum(np.sum(g * g) for g in gW + gV)))
        row["feas"] = [np.linalg.norm(r) for r in F]
        if train:
            row["train_mse"] = float(np.mean((self.forward(st.W, self.X) - self.Y) ** 2))
        st.k += 1

    def forward(self, W, X):
        return network_forward(W, X, self.act)

    @staticmethod
    def criterion(row, track):
        return row["grad_norm"]

    @staticmethod
    def state_from_arrays(z, prefix):
        N = sum(1 for key in z.keys() if key.startswith(f"{prefix}W"))
        return GDState([np.array(z[f"{prefix}W{j}"]) for j in range(N)],
                       [np.array(z[f"{prefix}V{j}"]) for j in range(N)], int(z[f"{prefix}k"]))
