"""sigadmm: the applications built on the three libraries (``theory``, ``solver``, ``verify``).

* :mod:`sigadmm.cli` — the ``sigadmm`` command line;
* :mod:`sigadmm.reproduce` — the paper reproduction (``sigadmm reproduce``) and its tables;
* :mod:`sigadmm.baselines` — the PyTorch SGD / SGD-momentum / Adam baselines;
* :mod:`sigadmm.sweep` — cached, resumable Dask sweeps;
* :mod:`sigadmm.report` — the Markdown / HTML report writer;
* :mod:`sigadmm.data` — data-set loaders (the paper's toy tasks, scikit-learn's bundled sets);
* :mod:`sigadmm.experiments.studies` — studies, each ``python -m sigadmm.experiments.studies.<name>``.

Imports go downward only: ``sigadmm -> verify -> solver -> theory`` (the import-linter
contract in ``pyproject.toml``, run by ``tests/test_layers.py``).  Submodules are not
imported here, so ``import sigadmm`` is cheap.
"""
