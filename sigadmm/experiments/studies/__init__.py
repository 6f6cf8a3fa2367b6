"""Studies, each runnable as ``python -m sigadmm.experiments.studies.<name>``:

* ``chaos`` — rounding sensitivity of a beta = 1 run (compiled vs reference engine);
* ``square_drift`` — the square task's train error after its early minimum, per curvature rule;
* ``square_engines`` — the same drift under the numba, numpy and reference engines.
"""
