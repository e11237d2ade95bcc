"""综保区要素配置优化器 — the bonded-zone allocator library.

The public API, in pipeline order (ARCHITECTURE.md): ``load_case`` →
``score`` / ``check_plot`` → ``load_scenario`` → ``solve`` → ``export`` /
``compare``. Names are imported lazily so that ``import allocator`` stays fast
and a page or command only pays for what it uses.

What "public" means (docs/boundary.md): the names in ``__all__`` (the table
below) and the modules ``allocator.i18n``, ``allocator.errors`` and
``allocator.units``. The app (``allocator/ui``, ``app.py``) uses nothing else
of the library; ``tests/test_ui_imports.py`` checks it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # names that are also submodules: tell type checkers they are the functions
    from allocator.compare import compare as compare
    from allocator.diagnose import diagnose as diagnose
    from allocator.export import export as export
    from allocator.solve import solve as solve

__version__ = "0.1.0"

_API: dict[str, str] = {
    # case
    "Case": "allocator.case",
    "load_case": "allocator.case",
    "load_case_cached": "allocator.case.cache",
    "save_case": "allocator.case",
    "validate_case": "allocator.case",
    "import_case": "allocator.case",
    "check_zip": "allocator.archive",
    # the shared store (sign-in; the app's panel is allocator/ui/store.py)
    "store_address": "allocator.store.session",
    "with_credentials": "allocator.store.session",
    "check_sign_in": "allocator.store.session",
    "case_version": "allocator.store.session",
    "StoreUrl": "allocator.store.url",
    # firm classes and pollutants (defined with the model)
    "CLASSES": "models.data",
    "POLLUTANTS": "models.data",
    # scoring and prices
    "score": "allocator.scoring",
    "load_method": "allocator.scoring",
    "available_methods": "allocator.scoring",
    "explanation_texts": "allocator.scoring",
    "read_firms_input": "allocator.scoring",
    "write_score_workbook": "allocator.scoring",
    "price_impacts": "allocator.pricing",
    # eligibility
    "check_plot": "allocator.eligibility",
    "check_plots": "allocator.eligibility",
    "plot_overlays": "allocator.eligibility",
    # scenario, model, solve
    "Scenario": "allocator.scenario",
    "load_scenario": "allocator.scenario",
    "check_confined": "allocator.scenario_refs",
    "redact_paths": "allocator.scenario_refs",
    "scenario_schema": "allocator.scenario",
    # named scenarios and the what-if draft
    "ScenarioLibrary": "allocator.scenario_library",
    "SavedScenario": "allocator.scenario_library",
    "portable_toml": "allocator.scenario_library",
    "save_draft": "allocator.scenario_library",
    "load_draft": "allocator.scenario_library",
    "discard_draft": "allocator.scenario_library",
    "prepare": "allocator.prepare",
    "solve": "allocator.solve",
    "ReuseSession": "allocator.solve",
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
    "run_status_label": "allocator.status",
    "has_plan": "allocator.status",
    "Diagnosis": "allocator.diagnosis",
    "DiagnosisItem": "allocator.diagnosis",
    "repair_rows": "allocator.diagnosis",
    "repair_overrides": "allocator.diagnosis",
    "Kpis": "allocator.kpis",
    "KPI_KEYS": "allocator.kpis",
    "HEADLINE_KPIS": "allocator.kpis",
    "MEASURE_KPIS": "allocator.kpis",
    "shown_kpis": "allocator.kpis",
    "compute_kpis": "allocator.kpis",
    "kpi_label": "allocator.kpis",
    "format_kpi": "allocator.kpis",
    "format_delta": "allocator.kpis",
    "kpi_value": "allocator.kpis",
    "Result": "allocator.runs",
    "Run": "allocator.runs",
    "list_runs": "allocator.runs",
    "run_name": "allocator.runs",
    "run_names": "allocator.runs",
    "run_label": "allocator.runs",
    "set_run_label": "allocator.runs",
    "title_in": "allocator.runs",
    # many solves (allocator/analysis)
    "run_sweep": "allocator.analysis.sweep",
    "load_sweep": "allocator.analysis.sweep",
    "Vary": "allocator.analysis.sweep",
    "MonteCarlo": "allocator.analysis.sweep",
    "Runner": "allocator.analysis.runner",
    # outputs
    "export": "allocator.export",
    "write_comparison_brief": "allocator.export.brief",
    # shared assets: the vendored Leaflet of the web map and the app's draw widget,
    # the CJK font of the exports and the browser tests
    "leaflet_js": "allocator.export.webmap",
    "leaflet_css": "allocator.export.webmap",
    "shipped_font_path": "allocator.export.fonts",
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
