"""Dask sweeps (sigadmm.sweep): grid, cache keys, resume, failures, summaries."""

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigadmm.sweep import grid, load_cache, run_sweep, settings_key, summarize


# Trials are module-level so Dask workers can unpickle them.
def cheap_trial(settings, seed):
    if settings.get("fail") and seed % 2 == 1:
        raise RuntimeError(f"boom at seed {seed}")
    rng = np.random.default_rng(seed)
    return {"score": settings["x"] * 10 + seed, "noise": float(rng.normal())}


def counting_trial(settings, seed):
    """Appends each call to a log file, and interrupts the sweep when told to."""
    with open(settings["log"], "a") as fh:
        fh.write(f"{settings['x']},{seed}\n")
    if settings["x"] == settings.get("interrupt_at", -1) and seed == 0:
        raise KeyboardInterrupt
    return {"score": settings["x"] + seed}


axes_st = st.dictionaries(st.sampled_from(list("abcdef")),
                          st.lists(st.integers(-5, 5), min_size=1, max_size=3, unique=True),
                          min_size=1, max_size=4)


@given(axes=axes_st)
def test_grid_is_the_cartesian_product(axes):
    pts = grid(**axes)
    assert len(pts) == math.prod(len(v) for v in axes.values())
    assert len({tuple(sorted(p.items())) for p in pts}) == len(pts)
    for p in pts:
        assert set(p) == set(axes) and all(p[k] in axes[k] for k in axes)


def test_grid_scalars_and_errors():
    assert grid(task="square", depth=[1, 2]) == [{"task": "square", "depth": 1},
                                                 {"task": "square", "depth": 2}]
    with pytest.raises(ValueError, match="depth"):
        grid(depth=[])
    with pytest.raises(ValueError, match="trial"):
        grid(trial=[1])
    with pytest.raises(ValueError, match="axes"):
        grid()


@given(d=st.dictionaries(st.text(min_size=1, max_size=5),
                         st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                                   st.text(max_size=5), st.booleans()), max_size=5),
       t=st.integers(0, 100))
def test_settings_key_is_order_free_and_separates_trials(d, t):
    rev = dict(reversed(list(d.items())))
    assert settings_key(d, t) == settings_key(rev, t)
    assert settings_key(d, t) != settings_key(d, t + 1)
    assert settings_key(d, t, "f") != settings_key(d, t, "g")


def test_settings_key_numbers_and_bad_values():
    assert settings_key({"lam": 1}) == settings_key({"lam": 1.0}) == settings_key({"lam": np.float64(1)})
    assert settings_key({"lam": 1e-6}) != settings_key({"lam": 1e-7})
    with pytest.raises(ValueError, match="settings"):
        settings_key({"w": object()})


def test_sweep_records_failures_and_resumes(tmp_path):
    out = tmp_path / "s.parquet"
    pts = grid(x=[1, 2], fail=[False, True])
    r = run_sweep(cheap_trial, pts, trials=4, out=out, scheduler="synchronous", progress=False)
    assert (r.n_computed, r.n_cached) == (16, 0)
    t = r.table
    assert len(t) == 16 and out.exists()
    failed = t[t.status == "failed"]
    assert len(failed) == r.n_failed == 4  # fail=True, odd seeds, both x
    assert all(failed.fail) and all(failed.seed % 2 == 1)
    assert failed.error.str.contains("boom at seed").all()
    ok = t[t.status == "ok"]
    np.testing.assert_array_equal(ok.score, ok.x * 10 + ok.seed)
    # second run: all from the cache; retry_failed recomputes exactly the failures
    r2 = run_sweep(cheap_trial, pts, trials=4, out=out, scheduler="synchronous", progress=False)
    assert (r2.n_computed, r2.n_cached) == (0, 16)
    r3 = run_sweep(cheap_trial, pts, trials=4, out=out, scheduler="synchronous", progress=False,
                   retry_failed=True)
    assert (r3.n_computed, r3.n_cached) == (4, 12)
    # more trials: only the new ones run
    r4 = run_sweep(cheap_trial, pts, trials=5, out=out, scheduler="synchronous", progress=False)
    assert (r4.n_computed, r4.n_cached) == (4, 16)
    import pandas as pd
    assert len(pd.read_parquet(out)) == 20


def test_interrupted_sweep_resumes_without_recomputing(tmp_path):
    log = tmp_path / "calls.log"
    out = tmp_path / "s.csv"
    pts = grid(x=[0, 1, 2], log=str(log), interrupt_at=2)
    r = run_sweep(counting_trial, pts, trials=2, out=out, scheduler="synchronous", progress=False)
    assert r.interrupted and r.n_computed == 4  # x=0, x=1 done, x=2 seed 0 interrupted
    assert len(r.table) == 4 and out.exists()
    pts2 = grid(x=[0, 1, 2], log=str(log), interrupt_at=-1)
    # a different setting value is a different key: use the same settings, lift the interrupt
    r2 = run_sweep(counting_trial, pts, trials=2, out=out, scheduler="synchronous", progress=False)
    assert r2.interrupted and r2.n_cached == 4 and r2.n_computed == 0
    calls = log.read_text().split()
    assert calls.count("0,0") == 1 and calls.count("1,1") == 1  # nothing recomputed
    r3 = run_sweep(counting_trial, pts2, trials=2, out=out, scheduler="synchronous", progress=False)
    assert not r3.interrupted and r3.n_computed == 6


def test_cache_tolerates_a_torn_last_line(tmp_path):
    out = tmp_path / "s.parquet"
    run_sweep(cheap_trial, grid(x=[1, 2]), trials=2, out=out, scheduler="synchronous", progress=False)
    cache = tmp_path / "s.parquet.cache.jsonl"
    with open(cache, "a") as fh:
        fh.write('{"key": "abc", "sta')  # killed mid-write
    assert len(load_cache(cache)) == 4
    r = run_sweep(cheap_trial, grid(x=[1, 2]), trials=2, out=out, scheduler="synchronous", progress=False)
    assert r.n_computed == 0


def test_summary_matches_numpy(tmp_path):
    r = run_sweep(cheap_trial, grid(x=[1, 2], fail=[True]), trials=6, scheduler="synchronous",
                  progress=False)
    s = r.summary(metrics=["noise"])
    ok_seeds = [0, 2, 4]
    noise = [np.random.default_rng(sd).normal() for sd in ok_seeds]
    row = s[s.x == 1].iloc[0]
    assert row.noise_mean == pytest.approx(np.mean(noise), rel=1e-12)
    assert row.noise_std == pytest.approx(np.std(noise, ddof=1), rel=1e-12)
    assert row.noise_count == 3 and row.n_failed == 3
    with pytest.raises(ValueError, match="trial"):
        summarize(r.table.drop(columns=["trial"]))


def test_sweep_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="trial"):
        run_sweep("not callable", grid(x=[1]))
    with pytest.raises(ValueError, match="settings_list"):
        run_sweep(cheap_trial, [])
    with pytest.raises(ValueError, match="trials"):
        run_sweep(cheap_trial, grid(x=[1]), trials=0)
    with pytest.raises(ValueError, match="out"):
        run_sweep(cheap_trial, grid(x=[1]), out=tmp_path / "a.xlsx")
    with pytest.raises(ValueError, match="scheduler"):
        run_sweep(cheap_trial, grid(x=[1]), scheduler="http://nowhere", progress=False)


def test_local_dask_cluster_gives_the_synchronous_results(tmp_path):
    pts = grid(x=[1, 2, 3], fail=[False, True])
    a = run_sweep(cheap_trial, pts, trials=3, out=tmp_path / "a.parquet", scheduler="local",
                  n_workers=2, progress=False)
    b = run_sweep(cheap_trial, pts, trials=3, scheduler="synchronous", progress=False)
    cols = ["x", "fail", "trial", "seed", "status", "score", "noise"]
    pd_a = a.table[cols].sort_values(["x", "fail", "trial"]).reset_index(drop=True)
    pd_b = b.table[cols].sort_values(["x", "fail", "trial"]).reset_index(drop=True)
    assert pd_a.equals(pd_b)
    recs = [json.loads(line) for line in open(tmp_path / "a.parquet.cache.jsonl")]
    assert len(recs) == 18 and {r["status"] for r in recs} == {"ok", "failed"}
