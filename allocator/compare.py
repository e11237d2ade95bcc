"""Compare runs side by side: KPIs, per-zone deltas, plots and firms that changed.

The first run is the base; every table reports the others against it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.errors import AllocatorError
from allocator.i18n import has, normalize_lang, t
from allocator.kpis import (
    HEADLINE_KPIS,
    KPI_UNITS,
    MEASURE_KPIS,
    Kpis,
    kpi_label,
    kpi_value,
    shown_kpis,
)
from allocator.runs import Run, load_run, run_name, run_names
from allocator.status import status_label

RUN_ROWS = ("status", "objective", "gap", "solve_seconds")
"""Rows of the key-figure table that describe the solve itself."""
KPI_ROWS = RUN_ROWS + HEADLINE_KPIS + MEASURE_KPIS
"""Rows of the key-figure table: the solve, then the plan's headline KPIs."""


def row_label(name: str, lang: str | None = None) -> str:
    """Return the label of a key-figure row: a solve row or a KPI (the one KPI label table)."""
    return t(f"compare.kpi.{name}", lang) if name in RUN_ROWS else kpi_label(name, lang)


ZONE_METRICS = (
    "land_used_mu",
    "land_free_mu",
    "energy_tce",
    "electricity_mwh",
    "tax_per_mu_after",
    "va_per_mu_after",
    "tax_per_km2_after",
    "developed_share_after",
)


@dataclass
class Comparison:
    """Side-by-side tables of several runs (the first is the base)."""

    labels: list[str]
    """The runs' names for people (:func:`run_labels`): the tables' run columns and values."""
    kpis: pd.DataFrame
    """Rows: KPI names; columns: run labels."""
    zones: pd.DataFrame
    """Long table: ``zone_id``, ``metric``, one column per run, ``delta_<label>`` vs base."""
    plots: pd.DataFrame
    """Plots whose outcome or firm changed vs the base: ``plot_id``, ``run``, before/after."""
    firms: pd.DataFrame
    """Firms gained or lost vs the base: ``firm_id``, ``run``, ``change``, ``binding_changed``,
    and the run's own ``reason`` (code) with its ``reason_zh`` / ``reason_en`` text."""
    binding: pd.DataFrame
    """Cap rows whose binding state or marginal value changed vs the base."""
    runs: list[Run] = field(default_factory=list, repr=False)
    attribution: Any = None
    """Why the second run differs from the first, when asked for (an
    :class:`allocator.analysis.attribution.Attribution`): the workbook's attribution sheet."""

    def firms_in(self, lang: str | None = None) -> pd.DataFrame:
        """Return :attr:`firms` with the run's reason in ``lang`` only, for people to read.

        Keeps ``reason_zh`` or ``reason_en``; drops the other and the code ``reason``.
        """
        other = "reason_en" if normalize_lang(lang) == "zh" else "reason_zh"
        return self.firms.drop(columns=[c for c in ("reason", other) if c in self.firms.columns])

    def to_excel(self, path: str | Path, lang: str | None = None) -> Path:
        """Write every comparison table to one workbook at ``path``; return the path.

        Sheets: runs, key figures, zones, plots, firms, binding rows; headers in
        ``lang``, runs named as the app names them (:func:`run_labels` in
        ``lang``; the runs sheet also gives each run's folder). Atomic: a
        failure leaves an existing file untouched and no temp file behind.
        """
        lang = normalize_lang(lang)
        from allocator.export.data import outcome_label
        from allocator.export.tables import Workbook, localized

        names = run_labels(self.runs, lang) if len(self.runs) == len(self.labels) else self.labels
        named = dict(zip(self.labels, names, strict=True))
        labels = list(names)

        def col(name: str) -> str:
            key = f"compare.col.{name}"

            return t(key, lang) if has(key) else name

        def heads(frame: pd.DataFrame) -> list[str]:
            out = []
            for c in frame.columns:
                c = str(c)
                if c.startswith("delta_") and c[6:] in named:
                    out.append(f"{t('compare.delta', lang)}: {named[c[6:]]}")
                else:
                    out.append(named.get(c) or col(c))
            return out

        def by_name(frame: pd.DataFrame) -> pd.DataFrame:
            """Name the runs in a table's ``run`` column."""
            if "run" not in frame.columns:
                return frame
            return frame.assign(run=frame["run"].map(lambda r: named.get(r, r)))

        kpis = self.kpis.copy().astype(object)
        for name in KPI_UNITS:  # figures in the unit their labels name (万千瓦时)
            if name in kpis.index:
                kpis.loc[name] = [
                    kpi_value(name, v) if isinstance(v, int | float) else v for v in kpis.loc[name]
                ]
        if "status" in kpis.index:
            kpis.loc["status"] = [status_label(v, lang) for v in kpis.loc["status"]]
        kpis.insert(0, "metric", [row_label(k, lang) for k in kpis.index])
        zones = self.zones.copy()
        if len(zones):
            elec = zones["metric"] == "electricity_mwh"  # shown in 万千瓦时, like the KPIs
            numbers = [c for c in zones.columns if c not in ("metric", "zone_id")]
            zones.loc[elec, numbers] = zones.loc[elec, numbers] * kpi_value("electricity_mwh", 1.0)
            zones["metric"] = [t(f"compare.metric.{m}", lang) for m in zones["metric"]]
        plots = by_name(self.plots)
        for c in ("outcome_base", "outcome"):
            plots[c] = plots[c].map(lambda o: outcome_label(str(o), lang))
        firms = by_name(self.firms_in(lang))
        firms["change"] = firms["change"].map(lambda c: t(f"compare.firm_{c}", lang))
        firms = localized(firms, lang)
        runs = pd.DataFrame(
            {
                "run": [f"[{i}]" for i in range(len(labels))],
                "run_name": labels,
                # the run folder's name (to type on the command line): never a server path
                "path": [getattr(folder_of(r), "name", "") for r in self.runs] or labels,
                "scenario": [str((r.summary or {}).get("scenario_name", "")) for r in self.runs]
                or labels,
            }
        )
        path = Path(path)
        if not path.parent.is_dir():
            raise AllocatorError(
                t("compare.cli.write_failed", lang, path=path, error="no such folder"),
                hint=t("compare.cli.write_failed_hint", lang),
            )
        fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=path.parent, prefix=".compare-")
        os.close(fd)
        try:
            book = Workbook(Path(tmp), lang)
            book.sheet(t("compare.sheet.runs", lang), runs, heads(runs))
            kpis_out = kpis.reset_index(drop=True)
            book.sheet(t("compare.sheet.kpis", lang), kpis_out, heads(kpis_out))
            book.sheet(t("compare.sheet.zones", lang), zones, heads(zones))
            book.sheet(t("compare.sheet.plots", lang), plots, heads(plots))
            book.sheet(t("compare.sheet.firms", lang), firms, heads(firms))
            binding = by_name(self.binding)
            book.sheet(t("compare.sheet.binding", lang), binding, heads(binding))
            if self.attribution is not None:
                from allocator.analysis.attribution import attribution_sheet

                frame = attribution_sheet(self.attribution, lang)
                book.sheet(t("compare.sheet.attribution", lang), frame, list(frame.columns))
            book.close()
            os.replace(tmp, path)
        except OSError as exc:
            raise AllocatorError(
                t("compare.cli.write_failed", lang, path=path, error=exc),
                hint=t("compare.cli.write_failed_hint", lang),
            ) from exc
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path


def _as_run(item: Any) -> Run:
    if isinstance(item, Run):
        return item
    if isinstance(item, str | Path):
        return load_run(item)
    if hasattr(item, "firms") and hasattr(item, "summary"):
        duck: Run = item  # a Result works too: it has the tables and summary a Run has
        return duck
    raise AllocatorError(
        t("err.compare.cannot", item=repr(item)), hint=t("err.compare.cannot_hint")
    )


def _kpis(run: Any) -> dict[str, Any]:
    """Return the solve rows and headline KPIs of a run; a run without a plan has NaN, never 0."""
    s = run.summary
    out: dict[str, Any] = {
        "status": str(s.get("status")),
        "objective": s.get("objective"),
        "gap": s.get("gap"),
        "solve_seconds": s.get("solve_seconds"),
    }
    kpis = run.kpis if isinstance(run.kpis, Kpis) else Kpis.from_dict(run.kpis)
    for key in HEADLINE_KPIS + MEASURE_KPIS:
        value = kpis.get(key)
        out[key] = np.nan if value is None else value
    return out


def folder_of(run: Any) -> Path | None:
    """Return the run folder of a :class:`Run` or a written result (None when unwritten)."""
    path = getattr(run, "path", None) or getattr(run, "run_path", None)
    return Path(path) if path else None


def run_labels(runs: Sequence[Any], lang: str | None = None) -> list[str]:
    """Return the runs' names for people, as the app names them, unique among ``runs``.

    Each is :func:`allocator.runs.run_name` (scenario title · time · label),
    never a folder name; run folders get the names the app's lists give them
    (:func:`allocator.runs.run_names`). A name that is still repeated (the same
    run twice) gets (2), (3) … in the given order.
    """
    folders = [folder_of(r) for r in runs]
    on_disk = list(dict.fromkeys(f for f in folders if f is not None))
    names = run_names(on_disk, lang) if on_disk else {}
    used: set[str] = set()
    out = []
    for run, folder in zip(runs, folders, strict=True):
        base = names[folder] if folder is not None else run_name(run, lang)
        label, n = base, 2
        while label in used:
            label, n = f"{base} ({n})", n + 1
        used.add(label)
        out.append(label)
    return out


def compare(runs: Sequence[Any], lang: str | None = None) -> Comparison:
    """Compare runs (folders, :class:`Run` or results); the first is the base.

    The tables name the runs by :func:`run_labels` in ``lang`` (default: the
    current language).
    """
    items = [_as_run(r) for r in runs]
    if len(items) < 2:
        raise AllocatorError(t("err.compare.need_two"), hint=t("err.compare.need_two_hint"))
    labels = run_labels(items, lang)
    # the land measures' rows only where some run has them
    shown = shown_kpis(*(r.kpis for r in items))
    kpis = pd.DataFrame({lab: _kpis(r) for lab, r in zip(labels, items, strict=True)}).reindex(
        [k for k in KPI_ROWS if k in RUN_ROWS or k in shown]
    )
    base, base_label = items[0], labels[0]
    # zones
    frames = []
    for metric in ZONE_METRICS:
        cols = {}
        for lab, r in zip(labels, items, strict=True):
            if metric in r.zones and len(r.zones):
                cols[lab] = r.zones.set_index(r.zones["zone_id"].astype(str))[metric].astype(float)
        if not cols:
            continue
        frame = pd.DataFrame(cols)
        for lab in labels[1:]:
            if lab in frame and base_label in frame:
                frame[f"delta_{lab}"] = frame[lab] - frame[base_label]
        frame.insert(0, "metric", metric)
        frames.append(frame.rename_axis("zone_id").reset_index())
    zones = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    # plots
    bp = base.plots.set_index(base.plots["plot_id"].astype(str))
    plot_rows = []
    for lab, r in zip(labels[1:], items[1:], strict=True):
        op = r.plots.set_index(r.plots["plot_id"].astype(str))
        both = bp.index.intersection(op.index)
        b_out, o_out = bp.loc[both, "outcome"], op.loc[both, "outcome"]
        b_f = bp.loc[both, "firm_id_after"].astype(object).fillna("").astype(str)
        o_f = op.loc[both, "firm_id_after"].astype(object).fillna("").astype(str)
        changed = (b_out != o_out) | (b_f != o_f)
        for pid in both[changed.to_numpy()]:
            plot_rows.append(
                {
                    "plot_id": pid,
                    "run": lab,
                    "zone_id": op.at[pid, "zone_id"],
                    "outcome_base": b_out[pid],
                    "outcome": o_out[pid],
                    "firm_base": b_f[pid] or None,
                    "firm": o_f[pid] or None,
                }
            )
    plots = pd.DataFrame(
        plot_rows,
        columns=["plot_id", "run", "zone_id", "outcome_base", "outcome", "firm_base", "firm"],
    )
    # binding rows
    bind_rows = []
    bm = _marg(base)
    for lab, r in zip(labels[1:], items[1:], strict=True):
        om = _marg(r)
        for row in sorted(set(bm.index) | set(om.index)):
            b_bind = bool(bm["binding"].get(row, False))
            o_bind = bool(om["binding"].get(row, False))
            b_val = float(bm["value"].get(row, 0.0))
            o_val = float(om["value"].get(row, 0.0))
            if b_bind != o_bind or abs(b_val - o_val) > 1e-6 * max(1.0, abs(b_val)):
                bind_rows.append(
                    {
                        "row": row,
                        "run": lab,
                        "binding_base": b_bind,
                        "binding": o_bind,
                        "value_base": b_val,
                        "value": o_val,
                        "unit": om["unit"].get(row, bm["unit"].get(row, "")),
                    }
                )
    binding = pd.DataFrame(
        bind_rows, columns=["row", "run", "binding_base", "binding", "value_base", "value", "unit"]
    )
    # firms gained / lost
    bf = base.firms.set_index(base.firms["firm_id"].astype(str))
    firm_rows = []
    for lab, r in zip(labels[1:], items[1:], strict=True):
        of = r.firms.set_index(r.firms["firm_id"].astype(str))
        both = bf.index.intersection(of.index)
        b_s = bf.loc[both, "served"].astype(bool)
        o_s = of.loc[both, "served"].astype(bool)
        changed_rows = binding.loc[binding["run"] == lab, "row"].tolist()
        for fid in both[(b_s != o_s).to_numpy()]:
            zone = of.at[fid, "zone_id"] if o_s[fid] else bf.at[fid, "zone_id"]
            firm_rows.append(
                {
                    "firm_id": fid,
                    "run": lab,
                    "name": of.at[fid, "name"] if "name" in of else None,
                    "kind": of.at[fid, "kind"] if "kind" in of else None,
                    "change": "gained" if o_s[fid] else "lost",
                    "zone_id": zone,
                    "value_added_base_wan": float(bf.at[fid, "value_added_wan"]),
                    "value_added_wan": float(of.at[fid, "value_added_wan"]),
                    "binding_changed": ";".join(
                        r_ for r_ in changed_rows if zone is not None and str(zone) in r_
                    ),
                    "reason": of.at[fid, "reason"] if "reason" in of else None,
                    "reason_zh": of.at[fid, "reason_zh"] if "reason_zh" in of else None,
                    "reason_en": of.at[fid, "reason_en"] if "reason_en" in of else None,
                }
            )
    firms = pd.DataFrame(
        firm_rows,
        columns=[
            "firm_id", "run", "name", "kind", "change", "zone_id",
            "value_added_base_wan", "value_added_wan", "binding_changed",
            "reason", "reason_zh", "reason_en",
        ],
    )  # fmt: skip
    return Comparison(labels, kpis, zones, plots, firms, binding, runs=items)


def _marg(run: Any) -> pd.DataFrame:
    m = getattr(run, "marginals", None)
    if m is None or not len(m):
        return pd.DataFrame(columns=["binding", "value", "unit"])
    return m.set_index(m["row"].astype(str))[["binding", "value", "unit"]]


from allocator._callable import make_callable  # noqa: E402

make_callable(__name__, "compare")
