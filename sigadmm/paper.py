"""The paper's numbers (Zeng, Lin, Yao, Zhou, JMLR 2021): Tables 3-6 and the settings the
reproduction takes from the paper, as data (docs/experiments.md#results-tables-3-to-6).

Nothing here runs anything: :mod:`sigadmm.trials` defines the experiments that measure "ours",
:mod:`sigadmm.reproduce` and :mod:`sigadmm.results_report` put the two side by side.
"""

from __future__ import annotations

from dataclasses import dataclass

from solver.tasks import TASKS

__all__ = ["PaperEntry", "PAPER_TABLES", "METHODS", "METHOD_LABELS", "METHOD_PARTS", "LEARNING_NOISE",
           "DEFAULT_NOISE", "SATURATION_VANISHING", "PAPER_TRIALS", "PAPER_EPOCHS"]


@dataclass(frozen=True)
class PaperEntry:
    """One cell of the paper's Tables 3-6: mean (std) MSE over 20 trials, run time, structure."""

    mse: float
    std: float
    seconds: float
    depth: int
    width: int


#: The methods of the paper's Tables 3-6 (optimizer and activation: :data:`METHOD_PARTS`);
#: not the solver's methods (:data:`solver.registry.METHODS`, :data:`sigadmm.peers.METHODS`).
METHODS = ("sgd_relu", "sgdm_relu", "adam_relu", "sgd_sigmoid", "admm_sigmoid")
METHOD_LABELS = {"sgd_relu": "SGD (ReLU)", "sgdm_relu": "SGDM (ReLU)", "adam_relu": "Adam (ReLU)",
                 "sgd_sigmoid": "SGD (sigmoid)", "admm_sigmoid": "ADMM (sigmoid)"}
METHOD_PARTS = {"sgd_relu": ("sgd", "relu"), "sgdm_relu": ("sgdm", "relu"),
                 "adam_relu": ("adam", "relu"), "sgd_sigmoid": ("sgd", "sigmoid"),
                 "admm_sigmoid": ("admm", "sigmoid")}

#: Tables 3-6 of the paper (docs/experiments.md#results-tables-3-to-6), keyed by the task
#: names of :mod:`solver.tasks`.  ``metric``: which error the table reports (approximation
#: tasks: the MSE on the 1000 training points; learning tasks: test MSE).
PAPER_TABLES = {
    "square": {"table": "Table 3", "metric": "train_mse", "methods": {
        "sgd_relu": PaperEntry(5.34e-8, 2.34e-8, 26.99, 18, 100),
        "sgdm_relu": PaperEntry(3.95e-8, 1.25e-8, 41.35, 15, 100),
        "adam_relu": PaperEntry(3.33e-8, 1.46e-8, 38.26, 15, 80),
        "sgd_sigmoid": PaperEntry(2.46e-4, 1.69e-4, 3.45, 2, 60),
        "admm_sigmoid": PaperEntry(2.53e-9, 1.18e-9, 9.47, 2, 100)}},
    "product": {"table": "Table 4", "metric": "train_mse", "methods": {
        "sgd_relu": PaperEntry(1.22e-6, 3.68e-7, 66.37, 20, 300),
        "sgdm_relu": PaperEntry(3.37e-7, 1.29e-7, 54.17, 18, 180),
        "adam_relu": PaperEntry(1.13e-6, 4.37e-7, 46.58, 13, 120),
        "sgd_sigmoid": PaperEntry(1.13e-3, 2.33e-4, 9.72, 2, 240),
        "admm_sigmoid": PaperEntry(2.62e-9, 1.05e-9, 17.29, 2, 300)}},
    "radial": {"table": "Table 5", "metric": "test_mse", "methods": {
        "sgd_relu": PaperEntry(2.48e-5, 9.74e-6, 23.24, 17, 50),
        "sgdm_relu": PaperEntry(2.26e-5, 7.88e-6, 18.23, 13, 50),
        "adam_relu": PaperEntry(2.16e-5, 8.53e-6, 14.66, 10, 50),
        "sgd_sigmoid": PaperEntry(4.58e-5, 1.59e-5, 1.68, 1, 20),
        "admm_sigmoid": PaperEntry(1.69e-5, 4.34e-6, 10.36, 4, 10)}},
    "smooth_radial": {"table": "Table 6", "metric": "test_mse", "methods": {
        "sgd_relu": PaperEntry(1.68e-5, 6.43e-6, 104.52, 16, 300),
        "sgdm_relu": PaperEntry(1.21e-5, 5.25e-6, 116.44, 12, 400),
        "adam_relu": PaperEntry(1.02e-5, 4.88e-6, 108.49, 11, 400),
        "sgd_sigmoid": PaperEntry(9.33e-5, 1.42e-5, 18.13, 4, 200),
        "admm_sigmoid": PaperEntry(9.28e-6, 1.01e-6, 47.36, 5, 300)}},
}

if not set(PAPER_TABLES) <= set(TASKS):  # one task table: solver.tasks
    raise ImportError(f"PAPER_TABLES names tasks missing from solver.tasks: "
                      f"{sorted(set(PAPER_TABLES) - set(TASKS))}")

#: Noise (standard deviation) of the learning tasks' training targets: not recoverable from
#: our copy of the paper (its test errors ~1e-5 imply small noise); our documented choice
#: (docs/experiments.md#unknown-values-and-our-choices).
LEARNING_NOISE = 0.01

#: Training noise per task: none for the approximation tasks (Tables 3-4, the table reports
#: the train MSE), :data:`LEARNING_NOISE` for the learning tasks (Tables 5-6, test MSE on
#: clean targets).  The default of :attr:`ReproConfig.noise`.
DEFAULT_NOISE = {task: (LEARNING_NOISE if info["metric"] == "test_mse" else 0.0)
                 for task, info in PAPER_TABLES.items()}

#: Saturation study: ADMM's first-layer steps count as vanishing when their mean size is below
#: this fraction of the output layer's (our threshold: the paper gives none; its Figure 4
#: claim is that they do not vanish).  A ratio below it *contradicts* the claim.
SATURATION_VANISHING = 1e-3

#: The paper's trials and epochs/iterations per cell (Tables 3-6).
PAPER_TRIALS, PAPER_EPOCHS = 20, 2000

