"""Generated corruptions of every file kind: a clear error naming the path, or a recompute.

File kinds: traces (``Trace.save``/``Trace.load``), checkpoints (``ADMM(checkpoint=...)``,
``fit(resume=True)``) and sweep caches (``<out>.cache.jsonl`` of ``run_sweep``).  For
traces and checkpoints the only outcomes allowed are one ``ValueError`` whose message
names the file, or a load whose contents equal the file's original contents (a flipped
byte in zip metadata that no reader uses).  For a sweep cache the only outcome allowed is a
table equal to the clean run's: damaged or edited records are computed again, never
trusted.  Plus the issue's named cases: empty, truncated, text, wrong-kind and
missing-member files, and edited-but-valid archives (a changed weight, ``state_k = 500``, a
trace cut short) caught by the checksum or the consistency checks.

Example counts come from the hypothesis profile (``ci``: 15 per property; ``thorough``: 300).
"""

from __future__ import annotations

import io
import json
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver import ADMM, Trace, tasks
from solver.npz import LegacyFileWarning, content_digest

from pathlib import Path

DATA = Path(__file__).parent / "data"
KW = dict(hidden_layer_sizes=(3,), lam=1e-3, beta=2.0, init_scale=2.0, random_state=1, max_iter=4,
          checkpoint_every=2, verbose=0)
FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


class _Run(dict):
    def __repr__(self):  # hypothesis prints the fixtures of a failing example
        return "<run fixture>"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    X, y, _, _ = tasks.make_task("square", n=20, seed=0, n_test=5)
    ck = d / "ck.npz"
    m = ADMM(**KW, checkpoint=ck).fit(X, y)
    tr_path = m.trace_.save(d / "trace.npz")
    return _Run(X=X, y=y, ck=ck.read_bytes(), trace=tr_path.read_bytes(), model=m)


def _members(blob):
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _archive(members, recompute_checksum):
    m = dict(members)
    if recompute_checksum and "checksum" in m:
        m["checksum"] = np.asarray(content_digest(m))
    buf = io.BytesIO()
    np.savez(buf, **m)
    return buf.getvalue()


def _load_trace(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LegacyFileWarning)
        return Trace.load(path)


def _resume(run, path):
    return ADMM(**KW, checkpoint=path).fit(run["X"], run["y"], resume=True)


def _same_trace(a, b):
    da, db = a.to_dict(), b.to_dict()
    return da.keys() == db.keys() and all(
        np.array_equal(da[k], db[k], equal_nan=da[k].dtype.kind == "f") for k in da)


def _check_trace_outcome(path, original, forged=False):
    """A ValueError naming the file, or the original contents (a forged checksum: any load)."""
    try:
        tr = _load_trace(path)
    except ValueError as exc:
        assert str(path) in str(exc), exc
        return "error"
    assert forged or _same_trace(tr, original)
    return "loaded"


def _check_ckpt_outcome(run, path, forged=False):
    try:
        m = _resume(run, path)
    except ValueError as exc:
        assert str(path) in str(exc), exc
        return "error"
    ref = run["model"]
    assert forged or (m.n_iter_ == ref.n_iter_
                      and np.array_equal(m.trace_.lagrangian, ref.trace_.lagrangian))
    return "loaded"


# ------------------------------------------------------------------ byte-level damage
damage = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1, exclude_max=True)),
    st.tuples(st.just("flip"), st.floats(0, 1, exclude_max=True), st.integers(1, 255)),
    st.tuples(st.just("garbage"), st.binary(max_size=64)),
)


def _damage(blob, d):
    if d[0] == "truncate":
        return blob[: int(d[1] * len(blob))]
    if d[0] == "flip":
        b = bytearray(blob)
        b[int(d[1] * len(b))] ^= d[2]
        return bytes(b)
    return d[1]


@FUZZ
@given(d=damage)
def test_damaged_trace_file_is_refused_naming_the_path(run, tmp_path, d):
    p = tmp_path / "t.npz"
    p.write_bytes(_damage(run["trace"], d))
    _check_trace_outcome(p, run["model"].trace_)


@FUZZ
@given(d=damage)
def test_damaged_checkpoint_is_refused_naming_the_path(run, tmp_path, d):
    p = tmp_path / "c.npz"
    p.write_bytes(_damage(run["ck"], d))
    _check_ckpt_outcome(run, p)


# ------------------------------------------------------------------ member-level edits
def _edit(members, name, how):
    m = dict(members)
    a = np.asarray(m[name])
    if how == "drop":
        del m[name]
    elif how == "bump" and a.dtype.kind in "iuf":
        m[name] = a + 1
    elif how == "cut" and a.ndim >= 1 and len(a) > 1:
        m[name] = a[:-1]
    elif how == "reshape":
        m[name] = a.reshape(-1)[:, None] if a.size else a.reshape(1, 0)
    elif how == "text":
        m[name] = np.asarray("x")
    elif how == "extra":
        m["surprise"] = np.zeros(3)
    return m


edits = st.tuples(st.sampled_from(["drop", "bump", "cut", "reshape", "text", "extra"]), st.booleans(),
                  st.integers(0, 10_000))


@FUZZ
@given(e=edits)
def test_edited_trace_archive_is_caught(run, tmp_path, e):
    how, recompute, pick = e
    mem = _members(run["trace"])
    name = sorted(mem)[pick % len(mem)]
    p = tmp_path / "t.npz"
    edited = _edit(mem, name, how)
    p.write_bytes(_archive(edited, recompute))
    outcome = _check_trace_outcome(p, run["model"].trace_, forged=recompute)
    if not recompute and content_digest(edited) != content_digest(mem):
        assert outcome == "error"  # the checksum: any edit of a versioned file


@FUZZ
@given(e=edits)
def test_edited_checkpoint_archive_is_caught(run, tmp_path, e):
    how, recompute, pick = e
    mem = _members(run["ck"])
    name = sorted(mem)[pick % len(mem)]
    p = tmp_path / "c.npz"
    edited = _edit(mem, name, how)
    p.write_bytes(_archive(edited, recompute))
    outcome = _check_ckpt_outcome(run, p, forged=recompute)
    if not recompute and content_digest(edited) != content_digest(mem):
        assert outcome == "error"


# ------------------------------------------------------------------ the named cases
@pytest.mark.parametrize("content,what", [(b"", "empty"), (b"PK\x03\x04garbage", "truncated or corrupt"),
                                          (b"k,loss\n1,2\n", "not a .npz archive")])
def test_named_bad_files(tmp_path, run, content, what):
    p = tmp_path / "f.npz"
    p.write_bytes(content)
    with pytest.raises(ValueError, match=what):
        _load_trace(p)
    with pytest.raises(ValueError, match=what):
        _resume(run, p)


def test_wrong_kind_is_named(tmp_path, run):
    ck, tr = tmp_path / "ck.npz", tmp_path / "tr.npz"
    ck.write_bytes(run["ck"])
    tr.write_bytes(run["trace"])
    with pytest.raises(ValueError, match="is a 'solver.checkpoint' file, not a 'solver.trace' file"):
        Trace.load(ck)
    with pytest.raises(ValueError, match="is a 'solver.trace' file, not a 'solver.checkpoint' file"):
        _resume(run, tr)


def test_changed_weight_is_caught_by_the_checksum(tmp_path, run):
    mem = _members(run["ck"])
    mem["state_W0"] = mem["state_W0"] * (1 + 1e-12)
    p = tmp_path / "c.npz"
    p.write_bytes(_archive(mem, recompute_checksum=False))
    with pytest.raises(ValueError, match="checksum mismatch"):
        _resume(run, p)


def test_iteration_counter_and_cut_trace_are_caught_even_with_a_forged_checksum(tmp_path, run):
    mem = _members(run["ck"])
    p = tmp_path / "c.npz"
    p.write_bytes(_archive({**mem, "state_k": np.asarray(500)}, recompute_checksum=True))
    with pytest.raises(ValueError, match="iteration counter state_k = 500"):
        ADMM(**{**KW, "max_iter": 600}, checkpoint=p).fit(run["X"], run["y"], resume=True)
    cut = {k: (v[:2] if k.startswith("trace_") and np.ndim(v) >= 1 else v) for k, v in mem.items()}
    p.write_bytes(_archive(cut, recompute_checksum=True))
    with pytest.raises(ValueError, match="iteration counter"):
        _resume(run, p)


def test_trace_fields_of_inconsistent_lengths_are_refused(tmp_path, run):
    mem = _members(run["trace"])
    mem["lagrangian"] = mem["lagrangian"][:2]
    p = tmp_path / "t.npz"
    p.write_bytes(_archive(mem, recompute_checksum=True))
    with pytest.raises(ValueError, match="inconsistent lengths"):
        Trace.load(p)
    del mem["format_kind"], mem["format_version"], mem["checksum"]  # an unversioned file too
    p.write_bytes(_archive(mem, recompute_checksum=False))
    with pytest.raises(ValueError, match="inconsistent lengths"):
        _load_trace(p)


def test_files_written_before_versions_load_with_a_note():
    with pytest.warns(LegacyFileWarning, match="without the checksum check"):
        tr = Trace.load(DATA / "legacy_trace.npz")
    assert len(tr) == 6


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="no trace file"):
        Trace.load(tmp_path / "none.npz")


# ------------------------------------------------------------------ sweep caches
def square_trial(settings, seed):
    return {"value": settings["a"] * 10.0 + seed, "half": settings["a"] / 2}


def _sweep(out):
    from sigadmm.sweep import run_sweep

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_sweep(square_trial, [{"a": a} for a in (1, 2, 3)], trials=2, out=out,
                         scheduler="synchronous", progress=False)


def _values(res):
    t = res.table.sort_values(["a", "trial"])
    return list(zip(t["a"], t["trial"], t["status"], t["value"], t["half"]))


@pytest.fixture(scope="module")
def clean_cache(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "s.csv"
    res = _sweep(out)
    return _values(res), out.with_name(out.name + ".cache.jsonl").read_bytes()


cache_damage = st.one_of(
    damage,
    st.tuples(st.just("edit"), st.integers(0, 5), st.floats(-1e3, 1e3, allow_nan=False)),
    st.tuples(st.just("torn"), st.floats(0.05, 0.95)),
)


@FUZZ
@given(d=cache_damage)
def test_damaged_cache_is_recomputed_never_trusted(clean_cache, tmp_path, d):
    values, blob = clean_cache
    out = tmp_path / "s.csv"
    cache = out.with_name(out.name + ".cache.jsonl")
    if d[0] == "edit":  # an edited number in one record, valid JSON, old checksum
        lines = blob.decode().splitlines(keepends=True)
        rec = json.loads(lines[d[1]])
        rec["value"] = d[2] if d[2] != rec["value"] else d[2] + 1
        lines[d[1]] = json.dumps(rec) + "\n"
        cache.write_text("".join(lines))
    elif d[0] == "torn":  # a kill mid-append: the last line cut
        cache.write_bytes(blob[: len(blob) - int(d[1] * len(blob.splitlines()[-1]))])
    else:
        cache.write_bytes(_damage(blob, d))
    assert _values(_sweep(out)) == values
    assert _values(_sweep(out)) == values  # and the repaired cache is clean afterwards


def test_torn_last_line_does_not_swallow_the_next_record(tmp_path, clean_cache):
    from sigadmm.sweep import load_cache

    _, blob = clean_cache
    out = tmp_path / "s.csv"
    cache = out.with_name(out.name + ".cache.jsonl")
    cache.write_bytes(blob[:-1] + blob.splitlines(keepends=True)[0][:20])  # torn, no newline
    _sweep(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert len(load_cache(cache)) == 6
    assert cache.read_bytes().count(b"\n") == len(cache.read_bytes().splitlines())


def test_edited_cache_value_is_not_reported(tmp_path, clean_cache):
    """The issue's case: an edited cache line made the report show 61.5 instead of 7.29e-6."""
    from sigadmm.sweep import CacheWarning

    values, blob = clean_cache
    out = tmp_path / "s.csv"
    cache = out.with_name(out.name + ".cache.jsonl")
    cache.write_text(blob.decode().replace('"value": 10.0', '"value": 61.5', 1))
    with pytest.warns(CacheWarning, match="failed their checksum"):
        from sigadmm.sweep import load_cache
        load_cache(cache)
    assert 61.5 not in [v[3] for v in _values(_sweep(out))]


def test_zip_with_bad_crc_is_corrupt(tmp_path, run):
    p = tmp_path / "t.npz"
    blob = bytearray(run["ck"])
    with zipfile.ZipFile(io.BytesIO(run["ck"])) as zf:
        info = max(zf.infolist(), key=lambda i: i.file_size)  # stored, not compressed
    name_at = bytes(blob).index(info.filename.encode())  # in its local header
    blob[name_at + len(info.filename) + info.file_size // 2] ^= 0x01  # inside its data
    assert info.compress_type == zipfile.ZIP_STORED
    p.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match=str(p).replace(".", r"\.")):
        _resume(run, p)
