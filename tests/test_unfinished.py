"""Unfinished runs and provenance from committed code (issue 21, items 2 and 8):
sigadmm.results.unfinished, the extension of a stage's unfinished trials, load_results'
longest-run table, the dirty-tree refusal and the diff hash."""

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sigadmm import results as R
from sigadmm.results import (UNFINISHED_TAIL, DirtyTree, Stage, load_results, register_trial,
                             require_clean, run_results, unfinished, write_plan)


def rec(best, its, status="max_iter"):
    return {"status": "ok", "run_status": status, "best_iteration": best, "iterations": its}


def test_unfinished_boundaries():
    assert unfinished(rec(300, 300))
    assert unfinished(rec(271, 300))
    assert not unfinished(rec(270, 300))  # exactly at 90 %: finished
    assert not unfinished(rec(17, 300))
    assert unfinished(rec(150, 150, "completed"))  # a baseline that ran all its epochs
    assert not unfinished(rec(95, 100, "diverged"))  # a diverged run is over
    assert not unfinished({"status": "failed", "run_status": "max_iter", "best_iteration": 300,
                           "iterations": 300})
    assert not unfinished({"status": "ok", "run_status": "max_iter"})  # no best iterate recorded
    assert not unfinished(rec(math.nan, 300))


@given(its=st.integers(1, 100_000), frac=st.floats(0, 1))
def test_unfinished_is_the_last_tenth(its, frac):
    best = max(1, round(frac * its))
    assert unfinished(rec(best, its)) == (best > (1 - UNFINISHED_TAIL) * its)


# ---------------------------------------------------------------- extension
def fake_trial(settings, seed):
    """A run that improves until iteration ``stop`` and stalls after (or never stops)."""
    its = int(settings["iters"])
    stop = int(settings["stop"]) + seed
    best = min(its, stop)
    return {"best_iteration": float(best), "iterations": its, "run_status": "max_iter",
            "best_train_mse": 1.0 / best}


register_trial("fake_unfinished", "tests.test_unfinished:fake_trial")


@pytest.fixture
def clean(monkeypatch):
    monkeypatch.setattr(R, "code_version", lambda **kw: {"commit": "c", "dirty": False, "diff_sha256": ""})


def test_extension_reruns_only_unfinished_and_keeps_the_longest(tmp_path, clean):
    stage = Stage("g", "fake_unfinished", 2,
                  [{"iters": 100, "stop": 10}, {"iters": 100, "stop": 500}, {"iters": 100, "stop": 5000}],
                  "", {"param": "iters", "lengths": [1000, 3000]})
    write_plan(tmp_path, [stage], name="t")
    run_results(tmp_path, progress=False, scheduler="synchronous", log=lambda m: None)
    lines = [json.loads(x) for x in (tmp_path / "sweeps" / "g.csv.cache.jsonl").read_text().splitlines()]
    # 6 plan runs; stop=10 finished (no rerun); stop=500: 2 reruns at 1000 (finished there);
    # stop=5000: 2 at 1000, 2 at 3000 (still unfinished there)
    assert len(lines) == 6 + 2 + 4
    t = load_results(tmp_path).stage("g")
    assert list(t["iters"]) == [100] * 6  # the plan's settings, whatever length ran
    by = {(r.stop, r.trial): r for r in t.itertuples()}
    assert math.isnan(by[(10, 0)].extended_to) and not by[(10, 0)].unfinished
    assert by[(500, 1)].extended_to == 1000 and by[(500, 1)].best_iteration == 501
    assert not by[(500, 1)].unfinished
    assert by[(5000, 0)].extended_to == 3000 and by[(5000, 0)].unfinished
    # resuming runs nothing new
    run_results(tmp_path, progress=False, scheduler="synchronous", log=lambda m: None)
    assert len((tmp_path / "sweeps" / "g.csv.cache.jsonl").read_text().splitlines()) == 12


def test_max_trials_runs_the_first_seeds_then_the_rest(tmp_path, clean):
    stage = Stage("g", "fake_unfinished", 4, [{"iters": 100, "stop": 500}], "",
                  {"param": "iters", "lengths": [1000]})
    write_plan(tmp_path, [stage], name="t")
    run_results(tmp_path, progress=False, scheduler="synchronous", log=lambda m: None, max_trials=2)
    assert len(load_results(tmp_path).stage("g")) == 2
    assert (load_results(tmp_path).stage("g")["extended_to"] == 1000).all()
    run_results(tmp_path, progress=False, scheduler="synchronous", log=lambda m: None)
    t = load_results(tmp_path).stage("g")
    assert len(t) == 4 and (t["extended_to"] == 1000).all()
    with pytest.raises(ValueError, match="max_trials"):
        run_results(tmp_path, progress=False, scheduler="synchronous", max_trials=0)


def test_plan_may_add_lengths_not_drop_them(tmp_path):
    s = [{"iters": 100, "stop": 10}]
    write_plan(tmp_path, [Stage("g", "fake_unfinished", 1, s, "", {"param": "iters", "lengths": [1000]})], "t")
    write_plan(tmp_path, [Stage("g", "fake_unfinished", 1, s, "", {"param": "iters", "lengths": [1000, 2000]})], "t")
    with pytest.raises(ValueError, match="not drop"):
        write_plan(tmp_path, [Stage("g", "fake_unfinished", 1, s, "", {"param": "iters", "lengths": [2000]})], "t")
    with pytest.raises(ValueError, match="extend"):
        Stage("h", "fake_unfinished", 1, s, "", {"param": "iters", "lengths": [2000, 1000]})
    with pytest.raises(ValueError, match="extend"):
        Stage("h", "fake_unfinished", 1, s, "", {"param": "epochs", "lengths": [2000]})


def test_contradictingcache_line_is_refused(tmp_path, clean):
    write_plan(tmp_path, [Stage("g", "fake_unfinished", 1, [{"iters": 100, "stop": 10}])], "t")
    run_results(tmp_path, progress=False, scheduler="synchronous", log=lambda m: None)
    path = tmp_path / "sweeps" / "g.csv.cache.jsonl"
    line = json.loads(path.read_text())
    line["best_iteration"] = 200.0  # beyond its 100 iterations
    from sigadmm.sweep import cache_line

    del line["_sha256"]
    path.write_text(cache_line(line))
    with pytest.raises(ValueError, match="best_iteration"):
        load_results(tmp_path)


# ---------------------------------------------------------------- provenance
def test_dirty_tree_is_refused_unless_allowed(tmp_path, monkeypatch):
    monkeypatch.setattr(R, "code_version", lambda **kw: {"commit": "c", "dirty": True, "diff_sha256": "ab"})
    write_plan(tmp_path, [Stage("g", "fake_unfinished", 1, [{"iters": 100, "stop": 10}])], "t")
    with pytest.raises(DirtyTree, match="--allow-dirty"):
        run_results(tmp_path, progress=False, scheduler="synchronous", log=lambda m: None)
    assert not (tmp_path / "sweeps").exists()  # nothing ran
    run_results(tmp_path, progress=False, scheduler="synchronous", log=lambda m: None, allow_dirty=True)
    prov = json.loads((tmp_path / "provenance.jsonl").read_text().splitlines()[-1])
    assert prov["dirty"] is True and prov["diff_sha256"] == "ab"
    require_clean({"dirty": False}, False)


def test_code_version_hashes_the_diff():
    v = R.code_version()
    assert set(v) == {"commit", "dirty", "diff_sha256"}
    assert (len(v["diff_sha256"]) == 64) == v["dirty"]


def test_a_results_set_extended_in_place_is_data_not_a_dirty_checkout(tmp_path, monkeypatch):
    """Issue 21: the runner refused to resume a committed results set in place, because the
    set's own (tracked) files changed.  ``code_version(exclude=out)`` leaves ``out`` out; any
    other tracked change still makes the checkout dirty, with the diff of the rest hashed."""
    import subprocess

    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "results" / "paper").mkdir(parents=True)
    (repo / "pkg" / "code.py").write_text("x = 1\n")
    (repo / "results" / "paper" / "table.csv").write_text("a\n1\n")

    def git(*a):
        subprocess.run(["git", *a], cwd=repo, check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@t", "-c", "user.name=t", "add", ".")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init")
    monkeypatch.setattr(R, "__file__", str(repo / "pkg" / "code.py"))   # code_version's cwd
    (repo / "results" / "paper" / "table.csv").write_text("a\n1\n2\n")
    out = repo / "results" / "paper"
    assert R.code_version()["dirty"] is True                      # the whole checkout: dirty
    assert R.code_version(exclude=out)["dirty"] is False          # the set being extended: data
    assert R.code_version(exclude=tmp_path / "elsewhere")["dirty"] is True
    (repo / "pkg" / "code.py").write_text("x = 2\n")
    v = R.code_version(exclude=out)
    assert v["dirty"] is True and len(v["diff_sha256"]) == 64
