"""Human-readable explanations from the numeric explanation columns of ``Scores.table``.

Vectorised: each sentence template is translated once and filled column-wise,
so 100,000 firms take a fraction of a second.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from allocator.i18n import t
from allocator.scoring.method import INDICATORS


def _fmt(values: pd.Series, nd: int) -> pd.Series:
    arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    rounded = np.round(arr, nd)
    text = np.char.mod(f"%.{nd}f", np.nan_to_num(rounded))
    return pd.Series(text, index=values.index, dtype=object)


def _fill(key: str, lang: str | None, index: pd.Index, **cols: pd.Series | str) -> pd.Series:
    """Fill the template of ``key`` column-wise with the given Series (or constants)."""
    template = t(key, lang, **{name: "{" + name + "}" for name in cols})
    out = pd.Series("", index=index, dtype=object)
    for piece in re.split(r"(\{\w+\})", template):
        if not piece:
            continue
        name = piece[1:-1] if piece.startswith("{") and piece.endswith("}") else None
        if name in cols:
            value = cols[name]
            out = out + (value.astype(str) if isinstance(value, pd.Series) else str(value))
        else:
            out = out + piece
    return out


def explanation_texts(table: pd.DataFrame, lang: str | None = None) -> pd.Series:
    """One sentence per firm: weakest indicator and what lifts it to the next class.

    Built from ``weakest_indicator``, ``weakest_shortfall``, ``next_class``,
    ``gap_to_next``, the ``cf_*`` columns and ``reason``; firms that could not
    be scored get their reason.
    """
    idx = table.index
    sep = t("scoring.explain.sep", lang)
    pieces: list[pd.Series] = []

    def add(mask: pd.Series, text: pd.Series) -> None:
        pieces.append(text.where(mask.to_numpy(dtype=bool), ""))

    scored = pd.Series(np.isfinite(table["score"].to_numpy(dtype=float)), index=idx)
    weakest = table["weakest_indicator"]
    has_weak = scored & weakest.isin(list(INDICATORS))
    short = pd.to_numeric(table["weakest_shortfall"], errors="coerce")
    labels = {k: t(f"scoring.ind.{k}", lang) for k in INDICATORS}
    add(has_weak & ~(short > 0), pd.Series(t("scoring.explain.no_weak", lang), index=idx))
    add(
        has_weak & (short > 0),
        _fill(
            "scoring.explain.weakest",
            lang,
            idx,
            indicator=weakest.map(labels).fillna(""),
            points=_fmt(short, 2),
        ),
    )
    nxt = table["next_class"]
    has_next = scored & nxt.notna()
    add(
        has_next,
        _fill(
            "scoring.explain.gap",
            lang,
            idx,
            cls=nxt.fillna(""),
            points=_fmt(table["gap_to_next"], 2),
        ),
    )
    tax_ok = has_next & np.isfinite(pd.to_numeric(table["cf_tax_wan"], errors="coerce"))
    add(
        tax_ok,
        _fill(
            "scoring.explain.cf_tax",
            lang,
            idx,
            per_mu=_fmt(table["cf_tax_per_mu"], 3),
            total=_fmt(table["cf_tax_wan"], 1),
        ),
    )
    en_ok = has_next & np.isfinite(pd.to_numeric(table["cf_energy_cut_tce"], errors="coerce"))
    add(
        en_ok,
        _fill(
            "scoring.explain.cf_energy",
            lang,
            idx,
            tce=_fmt(table["cf_energy_cut_tce"], 1),
            per_wan=_fmt(table["cf_energy_cut_per_wan"], 4),
        ),
    )
    add(has_next & ~tax_ok & ~en_ok, pd.Series(t("scoring.explain.cf_none", lang), index=idx))
    top = scored & nxt.isna() & (table["class"].astype(object) == "A")
    add(top, pd.Series(t("scoring.explain.top", lang), index=idx))
    reason = table["reason"].astype(object)
    add(reason.map(lambda r: isinstance(r, str) and bool(r)), reason.fillna("").astype(str))
    out = np.full(len(idx), "", dtype=object)
    for piece in pieces:
        p = piece.to_numpy(dtype=object)
        empty_out, empty_p = out == "", p == ""
        out = np.where(empty_p, out, np.where(empty_out, p, out + sep + p))
    return pd.Series(out, index=idx, name="explanation", dtype=object)
