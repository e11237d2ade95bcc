"""亩均评价 Firm evaluation: scores, classes, explanations, counterfactuals and price impacts."""

from __future__ import annotations

import io
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from allocator.ui.common import (
    api,
    attempt,
    fmt_num,
    get_case,
    get_scores,
    guard,
    list_methods,
    page_header,
    require,
    save_upload,
    t,
)


def read_firms(path: Path) -> pd.DataFrame:
    """Read an uploaded firms table with the library's importer (Chinese headers, GBK…)."""
    try:
        from allocator.case import io as case_io
    except ImportError:
        case_io = None
    for name in ("read_table", "import_table", "read_firms"):
        fn = getattr(case_io, name, None) if case_io else None
        if callable(fn):
            try:
                result = fn(path, "firms")
            except TypeError:
                result = fn(path)
            return result[0] if isinstance(result, tuple) else result
    if path.suffix.lower() in (".xlsx", ".xls"):
        return pd.read_excel(path)
    return pd.read_csv(path)


def source(case: Any) -> Any | None:
    """Choose the firms: the case's, or an uploaded spreadsheet."""
    choice = st.radio(
        t("ui.eval.source"),
        ["case", "upload"],
        format_func=lambda s: t(f"ui.eval.source_{s}"),
        horizontal=True,
        key="eval_source",
    )
    if choice == "case":
        return case
    upload = st.file_uploader(
        t("ui.eval.upload"), type=["xlsx", "csv"], key="eval_upload", max_upload_size=20
    )
    if upload is None:
        return None
    path = save_upload(upload, "firms")
    return attempt(read_firms, path)


def part_columns(table: pd.DataFrame) -> list[str]:
    """Return the partial-score columns of a score table."""
    return [c for c in table.columns if str(c).startswith("part_")]


def class_mix(table: pd.DataFrame, firms: pd.DataFrame, by: str) -> pd.DataFrame:
    """Return counts of classes per ``by`` (zone_id or industry group)."""
    joined = table.join(firms.set_index(firms["firm_id"].astype(str))[[by]], how="left")
    joined[by] = joined[by].astype(str)
    if by == "industry":
        joined[by] = joined[by].str[:3]
    cls = joined["class"].astype(object).where(joined["class"].notna(), "—")
    return pd.crosstab(joined[by], cls.astype(str))


def firm_detail(table: pd.DataFrame, firms: pd.DataFrame) -> None:
    """Show one firm's score explanation and counterfactual."""
    ids = table.index.astype(str).tolist()
    names = firms.set_index(firms["firm_id"].astype(str))["name"].astype(str).to_dict()
    firm = st.selectbox(
        t("ui.eval.firm"), ids, format_func=lambda f: f"{f} · {names.get(f, '')}", key="eval_firm"
    )
    row = table.loc[firm]
    cols = st.columns(4)
    cols[0].metric(t("ui.eval.score"), fmt_num(row.get("score"), 2))
    cols[1].metric(t("ui.eval.class"), str(row.get("class")) if pd.notna(row.get("class")) else "—")
    cols[2].metric(t("ui.eval.managed"), str(row.get("managed_class", "—")))
    cols[3].metric(t("ui.eval.pool"), str(row.get("pool", "—")))
    if isinstance(row.get("reason"), str) and row.get("reason"):
        st.info(row["reason"])
    parts = part_columns(table)
    if parts:
        st.bar_chart(
            pd.DataFrame(
                {"indicator": [p[5:] for p in parts], "score": row[parts].astype(float).values}
            ),
            x="indicator",
            y="score",
            height=220,
        )
    explain = [
        c
        for c in table.columns
        if c not in parts
        and c not in ("score", "class", "managed_class", "pool", "rated", "reason")
    ]
    if explain:
        st.dataframe(
            pd.DataFrame({"field": explain, "value": [str(row[c]) for c in explain]}),
            hide_index=True,
            width="stretch",
        )


def price_frames(impacts: Any) -> dict[str, pd.DataFrame]:
    """Return the tables of a ``PriceImpacts`` object by name."""
    if impacts is None:
        return {}
    if isinstance(impacts, pd.DataFrame):
        return {"firms": impacts}
    items = (
        {f.name: getattr(impacts, f.name) for f in fields(impacts)}
        if is_dataclass(impacts)
        else dict(vars(impacts))
    )
    return {k: v for k, v in items.items() if isinstance(v, pd.DataFrame)}


def workbook(
    table: pd.DataFrame, mixes: dict[str, pd.DataFrame], prices: dict[str, pd.DataFrame]
) -> bytes:
    """Return an xlsx workbook of the scores, class mixes and price impacts."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="xlsxwriter") as xl:
        table.to_excel(xl, sheet_name=t("ui.eval.sheet_scores")[:31])
        for name, frame in mixes.items():
            frame.to_excel(xl, sheet_name=name[:31])
        for name, frame in prices.items():
            frame.to_excel(xl, sheet_name=f"{t('ui.eval.sheet_prices')}-{name}"[:31])
    return buf.getvalue()


def render() -> None:
    """Draw the firm-evaluation page."""
    page_header("ui.eval.title", "ui.eval.caption")
    if not require("score"):
        return
    case = get_case()
    if case is None:
        return
    data = source(case)
    if data is None:
        return
    method = st.selectbox(t("ui.eval.method"), list_methods(), key="eval_method")
    if data is case:
        scores = get_scores(case, method)
        firms = case.firms
    else:
        scores = attempt(api("score"), data, method=method)
        firms = data
    if scores is None:
        return
    table = scores.table
    rated = table["class"].notna()
    cols = st.columns(5)
    cols[0].metric(t("ui.eval.n_firms"), len(table))
    for i, c in enumerate(("A", "B", "C", "D")):
        cols[i + 1].metric(
            t("ui.eval.n_class", cls=c), int((table["class"].astype(str) == c).sum())
        )
    st.caption(t("ui.eval.unrated", n=int((~rated).sum())))
    st.dataframe(table, width="stretch", height=300)

    mixes: dict[str, pd.DataFrame] = {}
    c1, c2 = st.columns(2)
    for col, by in ((c1, "zone_id"), (c2, "industry")):
        if by in firms.columns:
            mix = class_mix(table, firms, by)
            mixes[t(f"ui.eval.mix_{by}")] = mix
            with col:
                st.markdown(f"**{t(f'ui.eval.mix_{by}')}**")
                st.bar_chart(mix, height=260)

    st.subheader(t("ui.eval.explain"))
    firm_detail(table, firms)

    st.subheader(t("ui.eval.prices"))
    prices: dict[str, pd.DataFrame] = {}
    if api("price_impacts") is None:
        st.info(t("ui.missing", names="price_impacts"))
    else:
        impacts = attempt(api("price_impacts"), data, scores)
        prices = price_frames(impacts)
        for name, frame in prices.items():
            st.markdown(f"**{name}**")
            st.dataframe(frame, width="stretch", height=240)
    st.download_button(
        t("ui.eval.download"),
        data=workbook(table, mixes, prices),
        file_name=f"mujun-{method}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="eval_download",
    )


with guard():
    render()
