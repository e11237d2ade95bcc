"""Analyses that run many solves: sweeps, trade-off curves, quota values, robustness.

Every point is an ordinary solve (:func:`allocator.solve.solve`) of the case
prepared once, run on a :class:`~allocator.analysis.runner.Runner` (a Dask
``LocalCluster`` by default, or an existing scheduler by address) and written
as an ordinary run folder keyed by the point's hash, so an interrupted sweep
resumes without recomputing what finished.
"""
