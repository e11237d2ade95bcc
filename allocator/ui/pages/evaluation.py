"""亩均评价 Firm evaluation: scores, classes, explanations, counterfactuals and price impacts."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import streamlit as st

from allocator import (
    CLASSES,
    explanation_texts,
    i18n,
    price_impacts,
    read_firms_input,
    score,
    write_score_workbook,
)
from allocator.i18n import has
from allocator.safety import excel_writer, neutralise_frame
from allocator.ui.common import (
    attempt,
    case_key,
    column_label,
    fixed,
    fmt_num,
    get_case,
    get_scores,
    guard,
    lang,
    list_methods,
    method_title,
    page_header,
    save_upload,
    session_dir,
    short_hash,
    show_table,
    t,
)
from allocator.ui.summaries import reason_width


def source(case: Any) -> Any | None:
    """Choose the firms: the case's, or an uploaded spreadsheet.

    An upload is read as ``allocator score`` reads its input (Chinese headers
    mapped, GBK/BOM decoded, every problem named with its row and column).
    """
    choice = st.radio(
        t("ui.eval.source"),
        ["case", "upload"],
        format_func=fixed(lambda s: t(f"ui.eval.source_{s}")),
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
    return attempt(read_firms_input, path, name=upload.name, lang=lang())


def part_columns(table: pd.DataFrame) -> list[str]:
    """Return the partial-score columns of a score table."""
    return [c for c in table.columns if str(c).startswith("part_")]


MAIN_COLUMNS = [
    "name",
    "zone_id",
    "industry",
    "pool",
    "score",
    "rank",
    "class",
    "managed_class",
    "reason",
]


def class_mix(table: pd.DataFrame, firms: pd.DataFrame, by: str) -> pd.DataFrame:
    """Return counts of classes per ``by`` (zone_id, or industry as its GB/T 4754 major group)."""
    if by in table.columns:
        keys = table[by]
    else:
        keys = firms.set_index(firms["firm_id"].astype(str))[by].reindex(table.index.astype(str))
    keys = keys.astype(object).where(keys.notna(), "—").astype(str)
    if by == "industry":
        keys = keys.str[:3]
    cls = table["class"].astype(object).where(table["class"].notna(), "—").astype(str)
    return pd.crosstab(keys.to_numpy(), cls.to_numpy(), rownames=[by], colnames=["class"])


def _num(row: pd.Series, col: str) -> float | None:
    value = row.get(col)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if value != value else value


def firm_detail(table: pd.DataFrame, firms: pd.DataFrame) -> None:
    """Show one firm's score explanation (partial scores, weakest indicator) and counterfactual."""
    ids = table.index.astype(str).tolist()
    names = (
        table["name"].astype(str).to_dict()
        if "name" in table
        else firms.set_index(firms["firm_id"].astype(str))["name"].astype(str).to_dict()
    )
    firm = st.selectbox(
        t("ui.eval.firm"), ids, format_func=lambda f: f"{f} · {names.get(f, '')}", key="eval_firm"
    )
    row = table.loc[firm]
    cols = st.columns(4)
    cols[0].metric(t("ui.eval.score"), fmt_num(row.get("score"), 2))
    cols[1].metric(t("ui.eval.class"), str(row.get("class")) if pd.notna(row.get("class")) else "—")
    cols[2].metric(t("ui.eval.managed"), str(row.get("managed_class", "—")))
    pool = str(row.get("pool") or "")
    pool_key = f"scoring.pool.{pool}"
    cols[3].metric(t("ui.eval.pool"), t(pool_key) if pool and has(pool_key) else pool or "—")
    if isinstance(row.get("reason"), str) and row.get("reason"):
        st.info(row["reason"])
    sentence = explanation(table, firm)
    if sentence:
        st.info(sentence)
    weakest = row.get("weakest_indicator")
    if isinstance(weakest, str) and weakest:
        st.markdown(t("ui.eval.weakest", indicator=indicator_label(weakest)))
    nxt = row.get("next_class")
    if isinstance(nxt, str) and nxt:
        tax = _num(row, "cf_tax_per_mu")
        energy = _num(row, "cf_energy_cut_per_wan")
        parts = []
        if tax is not None:
            parts.append(t("ui.eval.cf_tax", value=fmt_num(tax, 2)))
        if energy is not None:
            parts.append(t("ui.eval.cf_energy", value=f"{energy:.4f}"))
        text = t("ui.eval.or").join(parts) if parts else t("ui.eval.cf_none")
        st.success(t("ui.eval.counterfactual", cls=nxt, how=text))
    elif pd.notna(row.get("class")) and str(row.get("class")) == "A":
        st.success(t("ui.eval.top_class"))
    parts = part_columns(table)
    values = pd.to_numeric(row[parts], errors="coerce") if parts else pd.Series(dtype=float)
    if parts and values.notna().any():
        chart = pd.DataFrame(
            {"indicator": [indicator_label(p[5:]) for p in parts], "score": values.to_numpy()}
        ).dropna()
        st.bar_chart(chart, x="indicator", y="score", height=220)
    inds = [c for c in table.columns if str(c).startswith("ind_")]
    if inds:
        frame = pd.DataFrame(
            {
                t("ui.eval.indicator"): [indicator_label(c[4:]) for c in inds],
                t("ui.eval.value"): pd.to_numeric(row[inds], errors="coerce").to_numpy(),
                t("ui.eval.partial"): [_num(row, "part_" + c[4:]) for c in inds],
            }
        ).dropna(subset=[t("ui.eval.value")])
        # the headers are planner words already: shown as they are, not hidden as unknown
        partial = frame[t("ui.eval.partial")].astype(object)
        frame[t("ui.eval.partial")] = partial.where(partial.notna(), "—")  # not scored: —
        config = {c: st.column_config.Column(c) for c in frame.columns}
        show_table(frame, hide_index=True, width="stretch", column_config=config)


def explanation(table: pd.DataFrame, firm: str) -> str | None:
    """Return the library's one-sentence explanation of a firm's score, if it has one."""
    try:
        text = explanation_texts(table.loc[[firm]], lang=lang()).iloc[0]
    except Exception:  # noqa: BLE001 - the numeric explanation below still shows
        return None
    return str(text) if isinstance(text, str) and text else None


def indicator_label(key: str) -> str:
    """Return the label of an indicator key (``tax_per_mu`` → 亩均税收)."""
    name = f"ui.ind.{key}"
    return i18n.t(name, lang=lang()) if i18n.has(name) else key


def price_frames(impacts: Any) -> dict[str, pd.DataFrame]:
    """Return the tables of ``price_impacts``' answer by name (none when it failed)."""
    return {} if impacts is None else {"firms": impacts.firms, "zones": impacts.zones}


def price_label(name: str) -> str:
    """Return the heading of a price-impact table (firms, zones)."""
    key = f"ui.eval.prices_{name}"
    return i18n.t(key, lang=lang()) if i18n.has(key) else name


@st.cache_resource(show_spinner=False, max_entries=8)
def library_workbook(key: tuple, _scores: Any, _impacts: Any) -> bytes:
    """Return the workbook ``allocator score --out`` writes.

    Cached by ``key`` (case version or upload, method, language): writing it takes a
    while for a province of firms, and the page reruns on every click.
    """
    path = session_dir() / "evaluation" / f"scores-{short_hash(repr(key))}.xlsx"
    return write_score_workbook(path, _scores, _impacts, lang=lang()).read_bytes()


def workbook(
    table: pd.DataFrame, mixes: dict[str, pd.DataFrame], prices: dict[str, pd.DataFrame]
) -> bytes:
    """Return an xlsx workbook of the scores and class mixes (when the prices failed)."""
    buf = io.BytesIO()
    with excel_writer(buf) as xl:
        neutralise_frame(table).to_excel(xl, sheet_name=t("ui.eval.sheet_scores")[:31])
        for name, frame in mixes.items():
            neutralise_frame(frame).to_excel(xl, sheet_name=name[:31])
        for name, frame in prices.items():
            neutralise_frame(frame).to_excel(xl, sheet_name=price_label(name)[:31])
    return buf.getvalue()


def render() -> None:
    """Draw the firm-evaluation page."""
    page_header("ui.eval.title", "ui.eval.caption")
    case = get_case()
    if case is None:
        return
    data = source(case)
    if data is None:
        return
    method = st.selectbox(
        t("ui.eval.method"), list_methods(), format_func=fixed(method_title), key="eval_method"
    )
    if data is case:
        scores = get_scores(case, method)
    else:
        scores = attempt(score, data, method=method)
    firms = data.firms
    if scores is None:
        return
    table = scores.table
    rated = table["class"].notna()
    cols = st.columns(5)
    cols[0].metric(t("ui.eval.n_firms"), len(table))
    for i, c in enumerate(CLASSES):
        cols[i + 1].metric(
            t("ui.eval.n_class", cls=c), int((table["class"].astype(str) == c).sum())
        )
    st.caption(t("ui.eval.unrated", n=int((~rated).sum())))
    main = [c for c in MAIN_COLUMNS if c in table.columns]
    shown = table[main].copy()
    if "reason" in shown.columns:
        shown["reason"] = shown["reason"].fillna("")
    unrated = t("pages.eval.unrated")
    if "class" in shown.columns:  # a firm not rated says so, never "None"
        shown["class"] = shown["class"].astype(object).where(shown["class"].notna(), unrated)
    if "managed_class" in shown.columns:
        managed = shown["managed_class"].astype(object)
        shown["managed_class"] = managed.where(managed.notna(), unrated)
    if "rank" in shown.columns:
        shown["rank"] = [f"{int(r):d}" if pd.notna(r) else "—" for r in shown["rank"]]
    if "pool" in shown.columns:
        shown["pool"] = shown["pool"].map(
            lambda v: t(f"scoring.pool.{v}") if has(f"scoring.pool.{v}") else v
        )
    show_table(
        shown,
        width="stretch",
        height=300,
        column_config={
            "score": st.column_config.NumberColumn(t("ui.col.score"), format="%.2f"),
            "rank": st.column_config.TextColumn(t("ui.col.rank")),
            "reason": st.column_config.TextColumn(
                column_label("reason"), width=reason_width(shown.get("reason"))
            ),
        },
    )
    with st.expander(t("ui.eval.all_columns")):
        show_table(table, width="stretch")

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
    impacts = attempt(price_impacts, data, scores)
    prices = price_frames(impacts)
    for name, frame in prices.items():
        st.markdown(f"**{price_label(name)}**")
        # a figure that cannot be worked out reads "—", never "None"
        show_table(frame.astype(object).where(frame.notna(), "—"), width="stretch", height=240)
    key = (str(case_key()) if data is case else str(id(data)), method, lang())
    book = attempt(library_workbook, key, scores, impacts) if impacts is not None else None
    st.download_button(
        t("ui.eval.download"),
        data=book or workbook(table, mixes, prices),
        file_name=f"mujun-{method}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="eval_download",
    )


with guard():
    render()
