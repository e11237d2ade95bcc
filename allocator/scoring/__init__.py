"""亩均效益 evaluation: firm scores, A/B/C/D classes and explanations.

Public API: :func:`score`, :func:`load_method`, :class:`Scores`,
:class:`ScoringMethod`, :func:`explanation_texts`, :func:`class_summary`,
:func:`read_firms_input` and :func:`write_score_workbook` (the evaluation's
input table and workbook, shared by ``allocator score`` and the app).
Methods are TOML files in ``allocator/policy/`` (see
:mod:`allocator.scoring.method`); every rule of the engine is documented in
:mod:`allocator.scoring.engine`.
"""

from allocator.scoring.engine import (
    TABLE_COLUMNS,
    Scores,
    class_summary,
    reason_texts,
    score,
    solve_piecewise,
)
from allocator.scoring.explain import explanation_texts
from allocator.scoring.method import (
    INDICATORS,
    POOLS,
    ClassRules,
    Indicator,
    IndicatorRule,
    ScoringMethod,
    available_methods,
    load_method,
    method_from_dict,
    read_policy,
)
from allocator.scoring.workbook import (
    FirmsInput,
    localise_scores,
    read_firms_input,
    write_score_workbook,
)

__all__ = [
    "INDICATORS",
    "POOLS",
    "TABLE_COLUMNS",
    "ClassRules",
    "FirmsInput",
    "Indicator",
    "IndicatorRule",
    "Scores",
    "ScoringMethod",
    "available_methods",
    "class_summary",
    "explanation_texts",
    "load_method",
    "localise_scores",
    "method_from_dict",
    "read_firms_input",
    "read_policy",
    "reason_texts",
    "score",
    "solve_piecewise",
    "write_score_workbook",
]
