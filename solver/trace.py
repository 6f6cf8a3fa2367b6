"""Per-iteration record of everything a method's convergence proof talks about.

A :class:`Trace` is a set of equally long arrays indexed by the iteration ``k = 1..K``
(row ``j`` holds iteration ``k = j + 1``).  The layer index ``i = 1..N`` maps to column
``i - 1``; N = number of layers (hidden layers + the linear output layer).

Which arrays a trace holds is fixed by its :class:`Schema`, owned here: an engine fills a
:class:`Row` that the trace made (:meth:`Trace.new_row`), and a field name the schema does
not know raises instead of becoming a silent NaN column.  Every schema carries the three
fields the shared run loop (:func:`solver.core.solve`) fills itself: ``train_mse``,
``test_mse``, ``time`` and ``val_score``.

A method's schema lives in its own package (the sigmoid ADMM's: :data:`solver.admm.schema.ADMM_SCHEMA`,
whose docstring lists its fields) and reaches :meth:`Trace.load` through the method registry
(:mod:`solver.registry`).  A file or a :class:`Trace` that names no schema is the sigmoid ADMM's
(:data:`DEFAULT_SCHEMA`: traces written before schemas existed).

``meta`` is a JSON-serialisable dict of the run's settings.  The Lyapunov function of the
proof (paper eq. 29), ``Lhat^k = L_beta^k + sum_i xi_i ||V_i^k - V_i^{k-1}||^2``, is not
stored but computed by :meth:`Trace.lyapunov` for any ``xi``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._json import loads_json
from .npz import (FORMAT_MEMBERS, FORMAT_VERSION, LegacyFileWarning, _looks_like_legacy_trace, _scalar,
                  atomic_write, content_digest, read_npz, write_npz)
from .registry import METHODS

__all__ = ["Field", "Schema", "Row", "Trace", "SCHEMAS", "DEFAULT_SCHEMA", "LegacyFileWarning",
           "TRACE_FORMAT", "FORMAT_VERSION"]

#: the file-format names that lived here before solver.npz: still importable from solver.trace
#: (verify.strategies and sigadmm.results import them; other branches may too)
_MOVED_TO_NPZ = (atomic_write, content_digest, read_npz, write_npz)

#: ``format_kind`` of a trace file (:meth:`Trace.save`); checkpoints use ``solver.checkpoint``
TRACE_FORMAT = "solver.trace"

#: the schema of a trace that names none (files written before schemas existed: all ADMM's)
DEFAULT_SCHEMA = "admm"

#: how many columns a field has: one value per run, per layer (N), or per KKT block (2N)
_SHAPES = ("run", "layer", "block")


@dataclass(frozen=True)
class Field:
    """One traced quantity: its name, its shape per iteration and what it means.

    ``guard``: a non-finite value stops the run (the loop keeps the last finite iterate).
    """

    name: str
    shape: str
    doc: str
    guard: bool = False

    def __post_init__(self):
        if self.shape not in _SHAPES:
            raise ValueError(f"shape: expected one of {_SHAPES}, got {self.shape!r}")

    def columns(self, n_layers):
        """The per-iteration shape: ``()``, ``(N,)`` or ``(2N,)``."""
        return {"run": (), "layer": (n_layers,), "block": (2 * n_layers,)}[self.shape]


#: the fields the shared loop fills for every method
LOOP_FIELDS = (
    Field("train_mse", "run", "mean((net(X; W^k) - Y)^2)", guard=True),
    Field("test_mse", "run", "mean((net(X_test; W^k) - Y_test)^2) (nan without test data)"),
    Field("time", "run", "wall-clock seconds since the start of fit"),
    Field("val_score", "run", "early stopping: score of net(X_val; W^k) on the held-out rows "
          "(R^2, or accuracy for a classifier; nan without early_stopping)"),
)


class Schema:
    """The ordered set of :class:`Field` s of one method's trace (plus :data:`LOOP_FIELDS`),
    and optionally the method's standard plot of a trace (``plot``)."""

    def __init__(self, name, fields, plot=None):
        self.name = str(name)
        if plot is not None and not callable(plot):
            raise TypeError(f"plot: expected a callable (trace, *, path, xi, fig) -> figure, got {plot!r}")
        #: ``plot(trace, *, path, xi, fig)``: the method's standard panels (:meth:`Trace.plot`), or None
        self.plot = plot
        fields = tuple(fields) + tuple(f for f in LOOP_FIELDS if f.name not in {g.name for g in fields})
        names = [f.name for f in fields]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"fields: duplicate names {sorted(dup)}")
        self.fields = fields
        self._by_name = {f.name: f for f in fields}

    @property
    def names(self):
        return tuple(self._by_name)

    def __contains__(self, name):
        return name in self._by_name

    def __getitem__(self, name):
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"field: {name!r} is not a field of the {self.name!r} trace; expected "
                           f"one of {list(self._by_name)}") from None

    def __repr__(self):
        return f"Schema({self.name!r}, {list(self._by_name)})"


class Row(dict):
    """One iteration's values, made by :meth:`Trace.new_row` with every field NaN.

    Assigning a name the schema does not know raises ``KeyError``; the loop's non-finite
    guard looks at a ``run`` field only once it was assigned (:attr:`assigned`).
    """

    def __init__(self, schema, n_layers):
        super().__init__()
        self.schema = schema
        self.assigned = set()
        for f in schema.fields:
            cols = f.columns(n_layers)
            dict.__setitem__(self, f.name, np.full(cols, np.nan) if cols else np.nan)

    def __setitem__(self, key, value):
        if key not in self:
            self.schema[key]  # raises, naming the schema's fields
        self.assigned.add(key)
        dict.__setitem__(self, key, value)

    def update(self, other=(), **kw):
        for key, value in dict(other, **kw).items():
            self[key] = value

    def setdefault(self, key, default=None):  # pragma: no cover - dict API completeness
        raise TypeError("Row.setdefault: rows have every field already; assign with row[key] = value")

    def non_finite(self):
        """Names of guarded fields holding NaN/inf (unassigned ``run`` fields are skipped)."""
        bad = []
        for f in self.schema.fields:
            if not f.guard:
                continue
            if f.shape == "run" and f.name not in self.assigned:
                continue
            if not np.all(np.isfinite(self[f.name])):
                bad.append(f.name)
        return bad


class Trace:
    """Arrays of per-iteration diagnostics of one run (see the module docstring).

    The fields of the trace's :class:`Schema` are attributes (``trace.lagrangian``); a
    field may be ``None`` (absent, e.g. from an older file).  Assigning an attribute that is
    neither a field nor one of ``n_layers``/``meta`` raises ``AttributeError``.
    """

    _OWN = ("schema", "n_layers", "meta", "_arrays", "_len")

    def __init__(self, n_layers, meta=None, schema=None, **arrays):
        object.__setattr__(self, "schema", _known_schema(DEFAULT_SCHEMA) if schema is None else schema)
        object.__setattr__(self, "_arrays", {name: None for name in self.schema.names})
        object.__setattr__(self, "_len", None)
        if int(n_layers) < 1:
            raise ValueError(f"n_layers: expected a positive integer, got {n_layers!r}")
        self.n_layers = int(n_layers)
        self.meta = dict(meta or {})
        for name, val in arrays.items():
            setattr(self, name, val)

    # ------------------------------------------------------------ fields
    def __getattr__(self, name):
        arrays = self.__dict__.get("_arrays")
        if arrays is not None and name in arrays:
            return arrays[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}"
                             + (f" (the {self.schema.name!r} schema's fields are {list(arrays)})"
                                if arrays is not None else ""))

    def __setattr__(self, name, value):
        if name in ("n_layers", "meta"):
            object.__setattr__(self, name, value)
        elif name in self._arrays:
            self._arrays[name] = None if value is None else np.asarray(value, dtype=float)
        else:
            raise AttributeError(f"{name}: not a field of the {self.schema.name!r} trace; expected "
                                 f"one of {list(self._arrays)}")

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._arrays))

    # ------------------------------------------------------------ building
    @classmethod
    def empty(cls, n_layers: int, capacity: int, meta: dict | None = None, schema=None) -> "Trace":
        """Preallocate ``capacity`` rows filled with NaN (use :meth:`truncate` at the end)."""
        tr = cls(n_layers, meta, schema)
        for f in tr.schema.fields:
            tr._arrays[f.name] = np.full((capacity,) + f.columns(tr.n_layers), np.nan)
        object.__setattr__(tr, "_len", 0)
        return tr

    def new_row(self) -> Row:
        """A row of this trace's schema, every field NaN, for an engine to fill."""
        return Row(self.schema, self.n_layers)

    def __len__(self) -> int:
        if self._len is not None:
            return self._len
        first = next((a for a in self._arrays.values() if a is not None), None)
        return 0 if first is None else len(first)

    def truncate(self, length: int | None = None) -> "Trace":
        """Drop unused preallocated rows (in place); returns self."""
        n = len(self) if length is None else int(length)
        for name, arr in self._arrays.items():
            if arr is not None:
                self._arrays[name] = np.ascontiguousarray(arr[:n])
        object.__setattr__(self, "_len", n)
        return self

    def set_length(self, n: int) -> None:
        object.__setattr__(self, "_len", int(n))

    def _capacity(self):
        first = next((a for a in self._arrays.values() if a is not None), None)
        return 0 if first is None else len(first)

    def set_row(self, j: int, row) -> None:
        """Store ``row`` (a :class:`Row` or a dict of field values) as iteration ``k = j + 1``.

        Grows the arrays (doubling) past the preallocated capacity and sets the length to
        at least ``j + 1``.  A name that is not a field of the schema raises ``KeyError``.
        """
        for key in row:
            if key not in self._arrays:
                self.schema[key]  # raises, naming the fields
        cap = self._capacity()
        if j >= cap:
            new = max(2 * cap, j + 1, 16)
            for f in self.schema.fields:
                arr = self._arrays[f.name]
                if arr is None:
                    arr = np.full((cap,) + f.columns(self.n_layers), np.nan)
                grown = np.full((new,) + arr.shape[1:], np.nan)
                grown[:len(arr)] = arr
                self._arrays[f.name] = grown
        for name, val in row.items():
            arr = self._arrays[name]
            if arr is not None:
                arr[j] = val
        object.__setattr__(self, "_len", max(len(self), j + 1))

    def row(self, j: int) -> dict:
        """The values of iteration ``k = j + 1`` as a dict (negative ``j`` counts from the end)."""
        n = len(self)
        if not -n <= j < n:
            raise IndexError(f"j: expected an index in [-{n}, {n}), got {j}")
        return {name: arr[j] for name, arr in self._arrays.items() if arr is not None}

    # ---------------------------------------------------------- derived
    @property
    def k(self) -> np.ndarray:
        """Iteration numbers 1..K."""
        return np.arange(1, len(self) + 1)

    def lyapunov(self, xi=0.0) -> np.ndarray:
        """``Lhat^k = L_beta^k + sum_i xi_i ||V_i^k - V_i^{k-1}||^2`` (paper eq. 29).

        ``xi`` is a scalar (same for every layer) or one value per layer.
        """
        self.validate(need=("lagrangian", "dV2"))
        xi = np.broadcast_to(np.asarray(xi, dtype=float), (self.n_layers,))
        if np.any(~np.isfinite(xi)) or np.any(xi < 0):
            raise ValueError(f"xi: expected finite non-negative values, got {xi!r}")
        n = len(self)
        return self.lagrangian[:n] + self.dV2[:n] @ xi

    def validate(self, need=None) -> None:
        """Raise ``ValueError`` naming any required field that is missing, or an empty trace."""
        need = self.schema.names if need is None else tuple(need)
        if len(self) == 0:
            raise ValueError("trace: expected at least one recorded iteration, got an empty trace")
        missing = [nm for nm in need if self._arrays.get(nm) is None]
        if missing:
            raise ValueError(f"trace: missing fields {missing} needed by this check")

    # ------------------------------------------------------------ plotting
    def plot(self, path=None, xi=0.0, fig=None):
        """The standard panels of this trace's method (its schema's ``plot``: for the sigmoid
        ADMM :func:`solver.admm.schema.plot_trace`); saves a PNG if ``path``.  Returns the
        figure; a schema without panels is a ``ValueError``."""
        if self.schema.plot is None:
            raise ValueError(f"trace: the {self.schema.name!r} schema has no standard plot")
        return self.schema.plot(self, path=path, xi=xi, fig=fig)

    # ------------------------------------------------------------ I/O
    def to_dict(self) -> dict:
        """The arrays (cut to the length), ``n_layers``, ``meta_json`` and ``schema``."""
        n = len(self)
        out = {name: np.asarray(arr)[:n] for name, arr in self._arrays.items() if arr is not None}
        out["n_layers"] = np.asarray(self.n_layers)
        out["meta_json"] = np.asarray(json.dumps(self.meta, default=_json_default))
        out["schema"] = np.asarray(self.schema.name)
        return out

    @classmethod
    def from_dict(cls, z, source="trace") -> "Trace":
        """Inverse of :meth:`to_dict` (``z``: a mapping of arrays, e.g. an open ``.npz``).

        Files written before schemas existed carry no ``schema`` entry: they are ADMM traces.
        Every inconsistency raises one ``ValueError`` naming ``source``: entries that are not
        fields of the schema, a missing ``n_layers``/``meta_json``, a field whose shape is
        not ``(K,)``, ``(K, N)`` or ``(K, 2N)`` as its schema says, or fields of different
        lengths ``K``.
        """
        files = list(z.keys()) if hasattr(z, "keys") else list(z)
        files = [f for f in files if f not in FORMAT_MEMBERS]
        try:
            name = str(_scalar(z, "schema", str)) if "schema" in files else DEFAULT_SCHEMA
        except ValueError as exc:
            raise ValueError(f"{source}: {exc}") from None
        schema = _known_schema(name) if isinstance(name, str) else None
        if schema is None:
            raise ValueError(f"{source}: unknown trace schema {name!r}; expected one of "
                             f"{sorted(set(SCHEMAS) | set(METHODS))}")
        unknown = [f for f in files if f not in schema and f not in ("n_layers", "meta_json", "schema")]
        if unknown:
            raise ValueError(f"{source}: entries {unknown} are not fields of the {name!r} trace")
        missing = [f for f in ("n_layers", "meta_json") if f not in files]
        if missing:
            raise ValueError(f"{source}: missing entries {missing} (not a complete trace)")
        try:
            n_layers = _scalar(z, "n_layers", int)
            if n_layers < 1:
                raise ValueError(f"n_layers: expected a positive integer, got {n_layers}")
            meta = loads_json(str(_scalar(z, "meta_json", str)))
            if not isinstance(meta, dict):
                raise ValueError(f"meta_json: expected a JSON object, got {type(meta).__name__}")
        except (ValueError, TypeError) as exc:  # json.JSONDecodeError is a ValueError
            raise ValueError(f"{source}: {exc}") from None
        tr = cls(n_layers, meta, schema)
        lengths = {}
        for f in schema.fields:
            if f.name not in files:
                continue
            raw = np.asarray(z[f.name])
            if raw.dtype.kind not in "biuf":
                raise ValueError(f"{source}: field {f.name!r} holds {raw.dtype} values; expected numbers")
            arr = np.array(raw, dtype=float)
            cols = f.columns(n_layers)
            if arr.ndim != 1 + len(cols) or arr.shape[1:] != cols:
                raise ValueError(f"{source}: field {f.name!r} has shape {arr.shape}; expected "
                                 f"(K,){' + ' + str(cols) if cols else ''} for a {n_layers}-layer "
                                 f"trace ({f.shape} field)")
            lengths[f.name] = arr.shape[0]
            tr._arrays[f.name] = arr
        if len(set(lengths.values())) > 1:
            raise ValueError(f"{source}: fields of inconsistent lengths {lengths}; expected one "
                             f"length (one row per iteration) for every field")
        object.__setattr__(tr, "_len", None)
        object.__setattr__(tr, "_len", len(tr))
        return tr

    def save(self, path) -> Path:
        """Write the trace and its settings to a ``.npz`` file, atomically; returns the path.

        The file carries ``format_kind`` (``"solver.trace"``), ``format_version`` and a
        ``checksum`` (sha256 of every other member) that :meth:`load` verifies.
        """
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(".npz")
        if path.is_dir():
            raise IsADirectoryError(f"path: {str(path)!r} is a directory; expected a file name")
        path.parent.mkdir(parents=True, exist_ok=True)
        write_npz(path, self.to_dict(), TRACE_FORMAT, compressed=True)
        return path

    @classmethod
    def load(cls, path) -> "Trace":
        """Read a trace written by :meth:`save` (never unpickles).

        Verifies the file's kind, format version, checksum and the consistency of its fields;
        any failure is one ``ValueError`` naming the path and what is wrong (a missing file:
        ``FileNotFoundError``).  Files written before format versions load without the
        checksum check, with a :class:`LegacyFileWarning`.
        """
        path = Path(path)
        z = read_npz(path, TRACE_FORMAT, what="trace", legacy_ok=_looks_like_legacy_trace)
        return cls.from_dict(z, source=f"trace file {str(path)!r}")

    def __repr__(self) -> str:
        return (f"Trace(schema={self.schema.name!r}, n_layers={self.n_layers}, iterations={len(self)}, "
                f"activation={self.meta.get('activation')!r})")


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    return str(o)


#: every schema a trace file may name, by name (extended by :func:`register_schema`)
SCHEMAS: dict[str, Schema] = {}

def _known_schema(name):
    """The schema ``name``: a registered one, or that of the method ``name`` of
    :data:`solver.registry.METHODS` (its module imported on first use), so that a trace file
    of any registered method loads in a fresh process without the caller importing it."""
    if name not in SCHEMAS and name in METHODS:
        schema = METHODS[name].trace_schema()
        if schema.name != name:
            raise ValueError(f"schema: method {name!r} declares the schema {schema.name!r}; a "
                             f"method's schema carries the method's name")
        register_schema(schema)
    return SCHEMAS.get(name)


def register_schema(schema: Schema) -> Schema:
    """Make ``schema`` known to :meth:`Trace.load` (a new method registers its own)."""
    if not isinstance(schema, Schema):
        raise TypeError(f"schema: expected a solver.trace.Schema, got {type(schema).__name__}")
    old = SCHEMAS.get(schema.name)
    if old is not None and old.names != schema.names:
        raise ValueError(f"schema: a different schema named {schema.name!r} is already registered")
    SCHEMAS[schema.name] = schema
    return schema


__all__ += ["register_schema", "LOOP_FIELDS"]
