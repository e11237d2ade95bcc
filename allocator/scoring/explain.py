"""Human-readable explanations from the numeric explanation columns of ``Scores.table``."""

from __future__ import annotations

import math

import pandas as pd

from allocator.i18n import t


def _fmt(x: float, nd: int = 2) -> str:
    return f"{x:,.{nd}f}"


def explanation_texts(table: pd.DataFrame, lang: str | None = None) -> pd.Series:
    """One sentence per firm: weakest indicator and what lifts it to the next class.

    Built from ``weakest_indicator``, ``next_class``, ``gap_to_next`` and the
    ``cf_*`` columns; a per-firm loop, meant for exports (the numbers
    themselves are computed vectorised by :func:`allocator.scoring.score`).
    """
    out = []
    for row in table.itertuples(index=False):
        score_ = getattr(row, "score", math.nan)
        if not (isinstance(score_, float) and math.isfinite(score_)):
            out.append(str(row.reason) if isinstance(row.reason, str) else "")
            continue
        bits = []
        if isinstance(row.weakest_indicator, str) and not row.weakest_shortfall > 0:
            bits.append(t("scoring.explain.no_weak", lang))
        elif isinstance(row.weakest_indicator, str):
            bits.append(
                t(
                    "scoring.explain.weakest",
                    lang,
                    indicator=t(f"scoring.ind.{row.weakest_indicator}", lang),
                    points=_fmt(row.weakest_shortfall),
                )
            )
        if isinstance(row.next_class, str):
            bits.append(
                t(
                    "scoring.explain.gap",
                    lang,
                    cls=row.next_class,
                    points=_fmt(row.gap_to_next),
                )
            )
            if math.isfinite(row.cf_tax_wan):
                bits.append(
                    t(
                        "scoring.explain.cf_tax",
                        lang,
                        per_mu=_fmt(row.cf_tax_per_mu, 3),
                        total=_fmt(row.cf_tax_wan, 1),
                    )
                )
            if math.isfinite(row.cf_energy_cut_tce):
                bits.append(
                    t(
                        "scoring.explain.cf_energy",
                        lang,
                        tce=_fmt(row.cf_energy_cut_tce, 1),
                        per_wan=_fmt(row.cf_energy_cut_per_wan, 4),
                    )
                )
            if not math.isfinite(row.cf_tax_wan) and not math.isfinite(row.cf_energy_cut_tce):
                bits.append(t("scoring.explain.cf_none", lang))
        elif isinstance(row._asdict().get("class"), str):
            bits.append(t("scoring.explain.top", lang))
        if isinstance(row.reason, str) and row.reason:
            bits.append(row.reason)
        out.append(t("scoring.explain.sep", lang).join(bits))
    return pd.Series(out, index=table.index, name="explanation", dtype=object)
