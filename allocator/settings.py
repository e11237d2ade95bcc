"""Solver settings: resolved once, passed whole to every solve.

A :class:`SolverSettings` is built from the scenario's ``[solver]`` table, then
the CLI flags or the app's widgets override single values
(:meth:`SolverSettings.resolve`). The same value then reaches the main solve,
the elastic re-solve of a diagnosis and, later, every sweep point; the run
folder records it (``summary.json`` → ``settings``), so a reader can see which
limits produced a plan. Each value is checked by the scenario schema's rule
for its key, so ``--gap 2`` is refused with the flag named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from allocator.scenario import Scenario, check_param

SETTING_KEYS: dict[str, str] = {
    "solver": "solver.name",
    "time_limit_s": "solver.time_limit_s",
    "rel_gap": "solver.rel_gap",
    "threads": "solver.threads",
    "seed": "solver.seed",
    "work_limit": "solver.work_limit",
    "search": "solver.search",
}
"""Each field of :class:`SolverSettings` and the scenario key that sets it."""


def _work_limit(value: Any) -> int | None:
    """Read ``solver.work_limit``: 0 (the default) or None means no work limit."""
    return None if value is None or int(value) == 0 else int(value)


@dataclass(frozen=True)
class SolverSettings:
    """How a model is solved: solver, wall-clock limit, relative gap, threads, seed, work limit."""

    solver: str = "highs"
    time_limit_s: float = 60.0
    rel_gap: float = 1e-4
    threads: int = 1
    seed: int = 0
    work_limit: int | None = None
    """Branch-and-bound nodes at most (None: no limit; ``solver.work_limit = 0`` in a scenario):
    a deterministic limit beside the clock."""
    search: str = "auto"
    """What follows a start not within the gap (``solver.search``): ``models.solver.run``."""

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> SolverSettings:
        """Read the settings of a resolved scenario (its ``[solver]`` table)."""
        return cls(
            solver=str(scenario["solver.name"]),
            time_limit_s=float(scenario["solver.time_limit_s"]),
            rel_gap=float(scenario["solver.rel_gap"]),
            threads=int(scenario["solver.threads"]),
            seed=int(scenario["solver.seed"]),
            work_limit=_work_limit(scenario["solver.work_limit"]),
            search=str(scenario["solver.search"]),
        )

    def override(
        self, values: Mapping[str, Any], where: Mapping[str, str] | None = None
    ) -> SolverSettings:
        """Return a copy with ``values`` (field → value; None = keep) checked and applied.

        ``where`` names the source of each value for error messages (e.g.
        ``{"rel_gap": "--gap"}``); each value is checked by the scenario
        schema's rule for its key.
        """
        where = where or {}
        changes: dict[str, Any] = {}
        for name, value in values.items():
            if value is None:
                continue
            if name not in SETTING_KEYS:
                raise KeyError(f"unknown solver setting {name!r}")
            key = SETTING_KEYS[name]
            changes[name] = check_param(key, value, where.get(name, key))
            if name == "work_limit":
                changes[name] = _work_limit(changes[name])
        return replace(self, **changes) if changes else self

    @classmethod
    def resolve(
        cls,
        scenario: Scenario,
        settings: SolverSettings | None = None,
        *,
        time_limit_s: float | None = None,
        rel_gap: float | None = None,
    ) -> SolverSettings:
        """Return the settings of one solve: ``settings`` or the scenario's, then the two flags."""
        base = settings if settings is not None else cls.from_scenario(scenario)
        return base.override(
            {"time_limit_s": time_limit_s, "rel_gap": rel_gap},
            where={"time_limit_s": "--time-limit", "rel_gap": "--gap"},
        )

    def solver_kwargs(self) -> dict[str, Any]:
        """Return the keyword arguments of ``models.solver.run`` these settings stand for.

        Every solve passes them whole, so a setting added here reaches all of them.
        """
        return {
            "solver": self.solver,
            "time_limit_s": self.time_limit_s,
            "rel_gap": self.rel_gap,
            "threads": self.threads,
            "seed": self.seed,
            "work_limit": self.work_limit,
            "search": self.search,
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON (the run folder's ``settings``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SolverSettings | None:
        """Read :meth:`to_dict` output back; None when ``data`` is empty (older runs)."""
        if not data:
            return None
        known = {k: data[k] for k in SETTING_KEYS if k in data}
        return cls(**known)

    def as_scenario_overrides(self) -> dict[str, Any]:
        """Return the settings as scenario keys (``solver.rel_gap`` …)."""
        out = {key: getattr(self, name) for name, key in SETTING_KEYS.items()}
        out["solver.work_limit"] = self.work_limit or 0  # the scenario's "no limit"
        return out
