"""Stability against an approved plan: at most N changes, what each change gains.

A scenario names its approved plan with ``[stability] approved = "RUN_OR_TABLE"``
(a run folder, or a CSV ``firm_id, plot_ids`` a planner uploads: listed firms
are served on the listed plots, unlisted existing firms leave, unlisted
applicants are not admitted) and ``max_changes = N`` and/or
``change_cost_wan`` (万元 per change, an objective term). A *change* is a plot
whose assigned firm differs from the approved plan or a firm whose outcome
differs (an existing firm leaving or staying against the plan, an applicant
on other plots or none): the ``change_limit`` family of
:mod:`models.allocation` counts them.

With N = 0 the plan is the approved one, its outputs re-optimised under the
scenario. When the approved plan cannot hold (new caps, new eligibility
rules), the model is infeasible and :func:`stability` says which approved
assignments are forbidden: those the scenario's candidates no longer contain
(the firm is not eligible for those plots), and those a minimum-change
re-solve must give up to meet the caps, each a :class:`DiagnosisItem` naming
the firm and its plots.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from allocator.analysis.alternatives import plan_ref, polish, prepared_inputs
from allocator.diagnosis import Diagnosis, DiagnosisItem
from allocator.errors import AllocatorError, ScenarioError
from allocator.i18n import t
from allocator.prepare import Prepared
from allocator.runs import Result, load_run, write_run
from allocator.scenario import Scenario, check_param
from allocator.settings import SolverSettings
from allocator.status import Status
from models.allocation import Analysis, PlanRef

CHANGE_KINDS = ("admitted", "dropped", "moved", "left", "returned")
"""Per-firm change against the approved plan (applicant admitted / dropped / on other plots;
existing firm left / stayed although the plan moved it out)."""


@dataclass(frozen=True)
class Approved:
    """An approved plan read from a run folder or a table, in the prepared case's positions."""

    source: str
    ref: PlanRef
    plots: dict[str, tuple[str, ...]]
    """Served firm id → its approved plot ids (applicants; existing firms: empty)."""
    forbidden: tuple[DiagnosisItem, ...]
    """Approved assignments that are no longer candidate pairs."""


def _split(value: Any) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ()
    return tuple(s.strip() for s in str(value).split(";") if s.strip())


def _approved_table(path: Path) -> pd.DataFrame:
    """Return ``firm_id``, ``plot_ids`` of the served firms of a run folder or a CSV."""
    if path.is_dir():
        firms = load_run(path).firms
        served = firms[firms["served"].astype(bool)]
        plots = served["plot_ids"] if "plot_ids" in served.columns else pd.Series(None)
        return pd.DataFrame(
            {"firm_id": served["firm_id"].astype(str).to_numpy(), "plot_ids": plots.to_numpy()}
        )
    if not path.is_file():
        raise AllocatorError(
            t("stability.err.missing", path=path), hint=t("stability.err.source_hint")
        )
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise AllocatorError(
            t("stability.err.unreadable", path=path, error=str(exc)),
            hint=t("stability.err.source_hint"),
        ) from exc
    for col in ("firm_id", "plot_ids"):
        if col not in table.columns:
            raise AllocatorError(
                t("stability.err.column", path=path, column=col),
                hint=t("stability.err.source_hint"),
            )
    return table[["firm_id", "plot_ids"]]


def read_approved(source: str | Path, prep: Prepared) -> Approved:
    """Read the approved plan ``source`` (run folder or CSV) against the prepared case.

    Raises :class:`AllocatorError` naming the file, row and column for an
    unknown firm or plot or a missing column; nothing is solved then.
    """
    path = Path(source)
    table = _approved_table(path)
    d = prep.data
    firm_pos = {f: i for i, f in enumerate(d.firm_ids)}
    plot_set = set(d.plot_ids)
    parcel_of = {frozenset(d.plot_ids[p] for p in d.parcel_plots(b)): b for b in range(d.n_parcels)}
    cands: dict[int, set[int]] = {}
    for f, b in zip(
        np.asarray(d.cand_firm).tolist(), np.asarray(d.cand_parcel).tolist(), strict=True
    ):
        cands.setdefault(f, set()).add(b)
    served = np.zeros(d.n_firms, dtype=bool)
    parcel = np.full(d.n_firms, -1, dtype=np.int64)
    app = np.asarray(d.firm_applicant, dtype=bool)
    plots: dict[str, tuple[str, ...]] = {}
    forbidden: list[DiagnosisItem] = []
    names = dict(
        zip(prep.firms["firm_id"].astype(str), prep.firms["name"].astype(str), strict=True)
    )
    for row, (fid, pids) in enumerate(zip(table["firm_id"], table["plot_ids"], strict=True), 2):
        fid = str(fid).strip()
        if fid not in firm_pos:
            raise AllocatorError(
                t("stability.err.firm", path=path, row=row, firm=fid),
                hint=t("stability.err.source_hint"),
            )
        f = firm_pos[fid]
        served[f] = True
        ids = _split(pids)
        unknown = [p for p in ids if p not in plot_set]
        if unknown:
            raise AllocatorError(
                t("stability.err.plot", path=path, row=row, plot=unknown[0]),
                hint=t("stability.err.source_hint"),
            )
        if not app[f]:
            continue
        plots[fid] = ids
        b = parcel_of.get(frozenset(ids), -1)
        parcel[f] = b
        if b < 0 or b not in cands.get(f, set()):
            label = {
                lang: t(
                    "stability.forbidden_candidate",
                    lang,
                    firm=f"{names.get(fid, fid)} ({fid})",
                    plots=", ".join(ids) or "—",
                )
                for lang in ("zh", "en")
            }
            forbidden.append(
                DiagnosisItem(
                    source="presolve",
                    severity="infeasible",
                    code="approved_not_candidate",
                    family="change_limit",
                    subject_kind="firm",
                    subject_id=fid,
                    subject_name=names.get(fid, fid),
                    amount=float(len(ids)),
                    unit="plot",
                    row=";".join(ids),
                    label_zh=label["zh"],
                    label_en=label["en"],
                )
            )
    return Approved(str(source), PlanRef(served=served, parcel=parcel), plots, tuple(forbidden))


def _firm_plots(result: Result) -> dict[str, tuple[bool, tuple[str, ...]]]:
    f = result.firms
    return {
        str(fid): (bool(s), _split(p))
        for fid, s, p in zip(f["firm_id"], f["served"], f["plot_ids"], strict=True)
    }


def change_table(
    result: Result, approved: Approved, approved_result: Result | None, prep: Prepared
) -> pd.DataFrame:
    """One row per firm whose outcome differs from the approved plan, with what it gains.

    ``delta_value_added_wan`` and ``delta_tax_wan`` compare the firm's figures
    with those under the approved plan re-optimised (N = 0); without that
    plan (infeasible) the approved figures are missing.
    """
    d = prep.data
    app = dict(zip(d.firm_ids, np.asarray(d.firm_applicant, bool).tolist(), strict=True))
    now = _firm_plots(result)
    before_va: dict[str, float] = {}
    before_tax: dict[str, float] = {}
    if approved_result is not None and approved_result.has_solution:
        af = approved_result.firms
        before_va = dict(
            zip(af["firm_id"].astype(str), af["value_added_wan"].astype(float), strict=True)
        )
        before_tax = dict(zip(af["firm_id"].astype(str), af["tax_wan"].astype(float), strict=True))
    rows = []
    names = dict(zip(result.firms["firm_id"].astype(str), result.firms["name"], strict=True))
    va = dict(
        zip(result.firms["firm_id"].astype(str), result.firms["value_added_wan"], strict=True)
    )
    tax = dict(zip(result.firms["firm_id"].astype(str), result.firms["tax_wan"], strict=True))
    for i, fid in enumerate(d.firm_ids):
        was = bool(approved.ref.served[i])
        was_plots = approved.plots.get(fid, ())
        is_, is_plots = now.get(fid, (False, ()))
        if app[fid]:
            if was == is_ and (not is_ or set(was_plots) == set(is_plots)):
                continue
            kind = "admitted" if is_ and not was else ("dropped" if was and not is_ else "moved")
        else:
            if was == is_:
                continue
            kind = "left" if was else "returned"
        b_va, b_tax = before_va.get(fid), before_tax.get(fid)
        rows.append(
            {
                "firm_id": fid,
                "name": names.get(fid, fid),
                "change": kind,
                "plots_approved": ";".join(was_plots),
                "plots_now": ";".join(is_plots),
                "value_added_approved_wan": b_va,
                "value_added_wan": float(va.get(fid, 0.0)),
                "delta_value_added_wan": None if b_va is None else float(va[fid]) - b_va,
                "delta_tax_wan": None if b_tax is None else float(tax[fid]) - b_tax,
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "firm_id",
            "name",
            "change",
            "plots_approved",
            "plots_now",
            "value_added_approved_wan",
            "value_added_wan",
            "delta_value_added_wan",
            "delta_tax_wan",
        ],
    )


def count_changes(result: Result, approved: Approved, prep: Prepared) -> tuple[int, int]:
    """Return ``(plots reassigned, firms changed)`` of ``result`` against the approved plan."""
    d = prep.data
    before = approved.ref.plot_firm(d)
    now = plan_ref(result).plot_firm(d)
    ref_now = plan_ref(result)
    app = np.asarray(d.firm_applicant, bool)
    firm_diff = (ref_now.served != approved.ref.served) | (
        app & approved.ref.served & (ref_now.parcel != approved.ref.parcel)
    )
    return int((before != now).sum()), int(firm_diff.sum())


@dataclass
class Stability:
    """A plan under a change limit against an approved plan, and its changes."""

    scenario: Scenario
    approved: Approved
    max_changes: int | None
    change_cost_wan: float
    result: Result
    """The plan (or the infeasible outcome with its diagnosis)."""
    approved_result: Result | None
    """The approved plan with its outputs re-optimised (None when it cannot hold)."""
    changes: pd.DataFrame
    plots_changed: int = 0
    firms_changed: int = 0
    seconds: float = 0.0

    @property
    def n_changes(self) -> int:
        """Plots reassigned plus firms changed (what ``max_changes`` limits)."""
        return self.plots_changed + self.firms_changed

    @property
    def gain_wan(self) -> float | None:
        """Objective of the plan minus that of the approved plan re-optimised (万元)."""
        if self.approved_result is None or not self.approved_result.has_solution:
            return None
        if self.result.objective is None or self.approved_result.objective is None:
            return None
        return float(self.result.objective) - float(self.approved_result.objective)

    def write(self, out_dir: str | Path) -> Path:
        """Write the run folder with ``analysis.json`` and ``changes.csv``; return its path."""
        path = write_run(self.result, out_dir)
        info = {
            "kind": "stability",
            "approved": self.approved.source,
            "max_changes": self.max_changes,
            "change_cost_wan": self.change_cost_wan,
            "plots_changed": self.plots_changed,
            "firms_changed": self.firms_changed,
            "approved_plots": {k: list(v) for k, v in self.approved.plots.items()},
            "approved_served": [
                f
                for f, s in zip(
                    self.result.prepared.data.firm_ids, self.approved.ref.served, strict=True
                )
                if s
            ],
            "gain_wan": self.gain_wan,
        }
        (path / "analysis.json").write_text(json.dumps(info, indent=1), "utf-8")
        self.changes.to_csv(path / "changes.csv", index=False)
        return path


def _settings_of(
    scenario: Scenario, approved: str | Path | None, max_changes: int | None, cost: float | None
) -> tuple[str | Path, int | None, float]:
    source = approved if approved is not None else scenario.get("stability.approved")
    if not source:
        raise ScenarioError(
            t("stability.err.no_approved", name=scenario.name), hint=t("stability.err.source_hint")
        )
    path = Path(source)
    if not path.is_absolute() and not path.exists() and scenario.files:
        path = Path(scenario.files[-1]).parent / path
    n = max_changes if max_changes is not None else scenario.get("stability.max_changes")
    if n is not None:
        n = int(check_param("stability.max_changes", n, "--max-changes"))
    kappa = cost if cost is not None else scenario.get("stability.change_cost_wan", 0.0)
    kappa = float(check_param("stability.change_cost_wan", kappa or 0.0, "--change-cost"))
    return path, n, kappa


def _why_infeasible(
    prep: Prepared, settings: SolverSettings, approved: Approved
) -> tuple[DiagnosisItem, ...]:
    """Name the approved assignments the scenario forbids (fewest changes that make it feasible).

    Re-solves with the objective "fewest changes" (MODEL.md weights 0, one
    unit per change): each approved firm whose outcome that plan changes is
    an item (its pair is no longer a candidate, or the caps forbid it).
    """
    from allocator.diagnose import elastic_diagnosis
    from allocator.solve import run_model

    params = replace(
        prep.params,
        alpha_va=0.0,
        alpha_tax=0.0,
        relocation_cost_wan_per_mu=0.0,
        energy_price_wan_per_tce=0.0,
    )
    fewest = run_model(
        prep,
        settings=settings,
        params=params,
        analysis=Analysis(approved=approved.ref, change_cost_wan=1.0),
    )
    if not fewest.has_solution:
        return elastic_diagnosis(prep, settings).items
    listed = {i.subject_id for i in approved.forbidden}
    items = list(approved.forbidden)
    for row in change_table(fewest, approved, None, prep).itertuples(index=False):
        if row.firm_id in listed:
            continue
        plots = row.plots_approved or "—"
        labels = {
            lang: t(
                f"stability.forbidden_{row.change}",
                lang,
                firm=f"{row.name} ({row.firm_id})",
                plots=plots,
            )
            for lang in ("zh", "en")
        }
        items.append(
            DiagnosisItem(
                source="elastic",
                severity="infeasible",
                code="approved_forbidden_by_caps",
                family="change_limit",
                subject_kind="firm",
                subject_id=row.firm_id,
                subject_name=str(row.name),
                amount=1.0,
                unit="change",
                row=plots,
                label_zh=labels["zh"],
                label_en=labels["en"],
            )
        )
    return tuple(items)


def stability(
    scenario: Scenario | str | Path,
    *,
    approved: str | Path | None = None,
    max_changes: int | None = None,
    change_cost_wan: float | None = None,
    case: Any = None,
    prepared: Prepared | None = None,
    settings: SolverSettings | None = None,
    time_limit_s: float | None = None,
    rel_gap: float | None = None,
) -> Stability:
    """Solve the scenario with at most ``max_changes`` changes against its approved plan.

    Arguments default to the scenario's ``[stability]`` table. With a cost
    per change the plan's reported objective is MODEL.md's (the cost is
    reported separately); its status is then ``feasible`` (the solver's bound
    is of the objective with the cost).
    """
    t0 = time.perf_counter()
    scenario, settings, prep = prepared_inputs(
        scenario,
        case=case,
        prepared=prepared,
        settings=settings,
        time_limit_s=time_limit_s,
        rel_gap=rel_gap,
    )
    source, n, kappa = _settings_of(scenario, approved, max_changes, change_cost_wan)
    appr = read_approved(source, prep)
    from allocator.solve import run_model

    base = polish(prep, settings, appr.ref, f"{scenario.name}-approved")
    base_ok = base.has_solution
    result = run_model(
        prep,
        settings=settings,
        analysis=Analysis(approved=appr.ref, max_changes=n, change_cost_wan=kappa),
    )
    result.scenario_name = f"{scenario.name}-stability"
    if result.has_solution and kappa:
        own = polish(prep, settings, plan_ref(result), result.scenario_name)
        own.status = Status.FEASIBLE
        own.best_bound, own.gap = None, None
        own.timings["solve"] = own.timings.get("solve", 0.0) + result.timings.get("solve", 0.0)
        result = own
    if result.status == Status.INFEASIBLE:
        result.diagnosis = Diagnosis(items=_why_infeasible(prep, settings, appr), settings=settings)
    out = Stability(
        scenario,
        appr,
        n,
        kappa,
        result,
        base if base_ok else None,
        change_table(result, appr, base if base_ok else None, prep)
        if result.has_solution
        else pd.DataFrame(),
    )
    if result.has_solution:
        out.plots_changed, out.firms_changed = count_changes(result, appr, prep)
    out.seconds = time.perf_counter() - t0
    return out


def change_curve(
    scenario: Scenario | str | Path,
    ns: list[int],
    *,
    approved: str | Path | None = None,
    case: Any = None,
    prepared: Prepared | None = None,
    settings: SolverSettings | None = None,
    time_limit_s: float | None = None,
    rel_gap: float | None = None,
) -> pd.DataFrame:
    """Objective against the change limit: one :func:`stability` solve per N in ``ns``.

    Returns ``max_changes``, ``status``, ``objective``, ``gain_wan``,
    ``changes``, ``plots_changed``, ``firms_changed``, ``seconds``.
    """
    scenario, settings, prep = prepared_inputs(
        scenario,
        case=case,
        prepared=prepared,
        settings=settings,
        time_limit_s=time_limit_s,
        rel_gap=rel_gap,
    )
    rows = []
    for n in ns:
        s = stability(
            scenario, approved=approved, max_changes=n, change_cost_wan=0.0, prepared=prep,
            settings=settings,
        )  # fmt: skip
        rows.append(
            {
                "max_changes": n,
                "status": str(s.result.status),
                "objective": s.result.objective,
                "gain_wan": s.gain_wan,
                "changes": s.n_changes if s.result.has_solution else None,
                "plots_changed": s.plots_changed if s.result.has_solution else None,
                "firms_changed": s.firms_changed if s.result.has_solution else None,
                "seconds": s.seconds,
            }
        )
    return pd.DataFrame(rows)
