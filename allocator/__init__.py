"""综保区要素配置优化器 — the bonded-zone allocator library.

The public API, in pipeline order (ARCHITECTURE.md): ``load_case`` →
``score`` / ``check_plot`` → ``load_scenario`` → ``solve`` → ``export`` /
``compare``. Names are imported lazily so that ``import allocator`` stays fast
and a page or command only pays for what it uses.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API: dict[str, str] = {
    # case
    "Case": "allocator.case",
    "load_case": "allocator.case",
    "save_case": "allocator.case",
    "validate_case": "allocator.case",
    "import_case": "allocator.case",
    # scoring and prices
    "score": "allocator.scoring",
    "load_method": "allocator.scoring",
    "price_impacts": "allocator.pricing",
    # eligibility
    "check_plot": "allocator.eligibility",
    "check_plots": "allocator.eligibility",
    "plot_overlays": "allocator.eligibility",
    # scenario, model, solve
    "load_scenario": "allocator.scenario",
    "prepare": "allocator.prepare",
    "solve": "allocator.solve",
    "diagnose": "allocator.diagnose",
    "load_run": "allocator.runs",
    "compare": "allocator.compare",
    # analyses on the same model
    "alternatives": "allocator.analysis.alternatives",
    "stability": "allocator.analysis.stability",
    "change_curve": "allocator.analysis.stability",
    "attribute": "allocator.analysis.attribution",
    "attribution_sheet": "allocator.analysis.attribution",
    # typed values at the boundary
    "SolverSettings": "allocator.settings",
    "Status": "allocator.status",
    "status_label": "allocator.status",
    "has_plan": "allocator.status",
    "Diagnosis": "allocator.diagnosis",
    "DiagnosisItem": "allocator.diagnosis",
    "Kpis": "allocator.kpis",
    "KPI_KEYS": "allocator.kpis",
    "HEADLINE_KPIS": "allocator.kpis",
    "compute_kpis": "allocator.kpis",
    "kpi_label": "allocator.kpis",
    "format_kpi": "allocator.kpis",
    "format_delta": "allocator.kpis",
    "Result": "allocator.runs",
    "Run": "allocator.runs",
    "list_runs": "allocator.runs",
    # outputs
    "export": "allocator.export",
    # errors
    "AllocatorError": "allocator.errors",
    "CaseError": "allocator.errors",
    "ScenarioError": "allocator.errors",
    "SolverError": "allocator.errors",
    "ExportError": "allocator.errors",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    """Import public names on first use."""
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'allocator' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
