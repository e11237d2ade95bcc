"""The 亩均效益 engine: indicator values, partial scores, classes, explanations.

Everything is vectorised over firms (numpy; loops only over pools, indicators
and the four classes), so 100,000 firms score in well under two seconds.

Definitions and choices (documented here because planners will ask):

- **Pool**: ``service`` when ``is_service``; otherwise ``above`` (规上) when
  ``revenue_wan ≥ method.above_size_revenue_wan`` (2,000 万元), else ``below``.
  A non-service firm with no revenue cannot be placed and is not scorable.
- **Land**: existing firms use ``land_mu``; applicants use ``land_max_mu``
  (their commitments are a full year at design capacity on it, DATA.md), or
  ``land_mu`` when ``land_max_mu`` is empty.
- **Energy** for 单位能耗增加值 is on the method's basis (Huangyan: 等价值). When
  the method says the firms' ``energy_tce`` is on another basis, the electricity
  part is re-valued: ``energy + electricity_mwh × (f_method − f_input)``.
- **Emissions** are ``cod_t + nh3n_t + so2_t + nox_t`` (missing parts count 0;
  all four missing = no emission data).
- **Reference firms** of a pool: existing, rated, scorable firms of that pool
  in the input. Computed benchmarks (``pool_mean``: mean of firm values;
  ``pool_aggregate``: Σ numerator / Σ denominator, each × ``benchmark_multiple``),
  min-max ranges and the "pool average" partial score given to firms without
  data for an indicator are all taken over them (one county evaluation).
- **Min-max** methods: ``weight × (20 + 80·(x − min)/(max − min)) / 100`` with
  the range over the reference firms; values outside it (applicants, unrated
  firms) are clipped to it; when ``max == min`` nobody differs and every firm
  gets the full weight.
- **Caps**: ``partial ≤ cap × weight`` (per indicator, or a method-wide ``cap``).
- **Not scorable**: no land, a needed number missing, or a zero denominator
  whose rule is ``not_scorable``. Such a firm keeps a reason, ``score`` NaN,
  no class and is managed as B (neutral) — never a silent 0.
- **Unrated** (existing firms only): founded fewer than ``min_years`` before
  the evaluation year, under construction, or in a utility industry
  (D44–D46 by default). They get a score when possible, no class, and are
  managed as B.
- **Classes**: within each ranking group (jurisdiction × industry group ×
  pool), reference firms are sorted by score (best first), ties by
  ``firm_id``. With ``n`` firms and cumulative band bounds ``b`` the first
  ``round_half_up(b_A·n)`` ranks are A, up to ``round_half_up(b_B·n)`` B, and
  so on, so each class's count is within one firm of its share. **Ties**:
  firms with exactly equal scores get the same class — the best class any of
  them reaches — so the row order or an id never decides between equal firms.
- **Applicants** are scored from their commitments and classed against the
  thresholds of the existing firms of their group (the score of the worst
  firm inside each class; equal → that class), without shifting them. Their
  group's jurisdiction comes from ``zone_id`` or the first candidate zone.
- **Explanation**: partial score per indicator; the weakest indicator is the
  one with the largest shortfall of the firm's partial score below the pool
  average partial; the counterfactual to reach the next (non-empty, better)
  class of the group holds every other firm, the benchmarks and the min-max
  ranges fixed and solves exactly (the score is piecewise linear in tax and in
  1/energy, caps are the breakpoints) for the extra tax (万元, and 万元/亩) or
  the energy cut (tce, and tce per 万元 of value added) that lifts the score
  to that threshold. The answer is rounded up by 1e-9 (relative) so applying
  it crosses the threshold in floating point too. NaN: no better class, or
  unreachable through that lever (caps).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from allocator.errors import CaseError
from allocator.i18n import has, t
from allocator.scoring.method import (
    CLASSES,
    EMISSIONS,
    ENERGY,
    INDICATORS,
    LAND,
    POOLS,
    IndicatorRule,
    ScoringMethod,
    load_method,
)
from models.data import POLLUTANTS

CF_EPS = 1e-9
"""Relative margin added to counterfactual targets so applying them crosses the threshold."""


@dataclass
class Scores:
    """Result of :func:`score`.

    ``table`` has one row per firm (index ``firm_id``, input order); see
    :data:`TABLE_COLUMNS`. ``thresholds``: per ranking group and class, the
    score of the worst firm inside the class and the class size.
    ``benchmarks``: the benchmark (or min-max range) used per pool and
    indicator. ``year``: the evaluation year used for the unrated rules.
    """

    table: pd.DataFrame
    method: ScoringMethod
    year: int
    thresholds: pd.DataFrame
    benchmarks: pd.DataFrame
    problems: list[str] = field(default_factory=list)

    def summary(self, by: str = "zone_id") -> pd.DataFrame:
        """Count firms per ``by`` value and class (A–D, unrated, not scorable)."""
        return class_summary(self.table, by=by)


TABLE_COLUMNS = (
    "name",
    "kind",
    "zone_id",
    "industry",
    "pool",
    "group",
    "land_used_mu",
    "score",
    "rated",
    "scorable",
    "class",
    "managed_class",
    "reason_code",
    "reason",
    "rank",
    "group_size",
    "weakest_indicator",
    "weakest_shortfall",
    "next_class",
    "next_threshold",
    "gap_to_next",
    "cf_tax_wan",
    "cf_tax_per_mu",
    "cf_energy_cut_tce",
    "cf_energy_cut_per_wan",
    "d_years_running",
)
"""Columns of ``Scores.table`` besides ``ind_<key>`` (indicator values) and ``part_<key>``."""


# --------------------------------------------------------------------------- inputs


def _num(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _bool(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        return np.zeros(len(df), dtype=bool)
    s = df[col]
    if s.dtype == bool:
        return s.to_numpy()
    low = s.astype("string").str.strip().str.lower()
    return low.isin(["true", "1", "yes", "y", "是", "1.0"]).fillna(False).to_numpy(dtype=bool)


def _text(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series([pd.NA] * len(df), index=df.index, dtype="string")
    return df[col].astype("string").str.strip().replace("", pd.NA)


def _split_inputs(
    firms_or_case: Any, zones: pd.DataFrame | None, class_history: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    if isinstance(firms_or_case, pd.DataFrame):
        return firms_or_case, zones, class_history
    firms = getattr(firms_or_case, "firms", None)
    if not isinstance(firms, pd.DataFrame):
        raise TypeError("score() takes a Case or a firms DataFrame")
    if zones is None:
        zones = getattr(firms_or_case, "zones", None)
    if class_history is None:
        class_history = getattr(firms_or_case, "class_history", None)
    return firms, zones, class_history


# --------------------------------------------------------------------------- helpers


def _round_half_up(x: np.ndarray) -> np.ndarray:
    return np.floor(x + 0.5 + 1e-9).astype(np.int64)


def _group_mean(values: np.ndarray, codes: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """Mean of ``values[mask]`` per code (NaN for empty codes)."""
    sums = np.bincount(codes[mask], weights=values[mask], minlength=n)
    counts = np.bincount(codes[mask], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def solve_piecewise(
    t0: np.ndarray,
    target: np.ndarray,
    const: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> np.ndarray:
    """Solve ``const + Σ_k clip(alpha_k + beta_k·x, lo_k, hi_k) = target`` for ``x ≥ t0``.

    Arrays ``alpha``… have shape ``(n, K)`` with ``beta ≥ 0``; the left side is
    piecewise linear and nondecreasing in ``x``, so the smallest solution is
    found exactly by evaluating it at the breakpoints and interpolating on
    the segment that crosses ``target``. Returns NaN where ``target`` cannot
    be reached (every term capped).
    """
    n, k = alpha.shape
    if n == 0:
        return np.zeros(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        bp_hi = (hi - alpha) / beta
        bp = np.concatenate([(lo - alpha) / beta, bp_hi], axis=1)
    bp = np.where(np.isfinite(bp) & (np.concatenate([beta, beta], axis=1) > 0), bp, -np.inf)
    bp = np.concatenate([t0[:, None], np.maximum(bp, t0[:, None])], axis=1)
    bp.sort(axis=1)

    def total(x: np.ndarray) -> np.ndarray:  # x: (n, J)
        terms = np.clip(
            alpha[:, None, :] + beta[:, None, :] * x[:, :, None], lo[:, None, :], hi[:, None, :]
        )
        return const[:, None] + terms.sum(axis=2)

    s = total(bp)
    reached = s >= target[:, None]
    any_reached = reached.any(axis=1)
    j = np.argmax(reached, axis=1)
    rows = np.arange(n)
    jm = np.maximum(j - 1, 0)
    x0, x1 = bp[rows, jm], bp[rows, j]
    s0, s1 = s[rows, jm], s[rows, j]
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = np.where(s1 > s0, x0 + (target - s0) * (x1 - x0) / (s1 - s0), x1)
    inside = np.where(j == 0, bp[:, 0], inside)
    # Beyond the last breakpoint: slope of the terms not yet capped.
    last = bp[:, -1]
    capped = np.isfinite(bp_hi) & (beta > 0) & (last[:, None] >= bp_hi)
    slope = np.where(capped, 0.0, beta).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        beyond = np.where(slope > 0, last + (target - s[:, -1]) / slope, np.nan)
    return np.where(any_reached, inside, beyond)


# --------------------------------------------------------------------------- main


def score(
    firms_or_case: Any,
    method: str | ScoringMethod = "huangyan_2022",
    *,
    class_history: pd.DataFrame | None = None,
    year: int | None = None,
    zones: pd.DataFrame | None = None,
    lang: str | None = None,
) -> Scores:
    """Score, class and explain every firm of a case (or a firms DataFrame).

    Parameters
    ----------
    firms_or_case
        A :class:`~allocator.case.Case` or a DataFrame with the canonical
        ``firms`` columns (missing columns count as missing data).
    method
        Method name (``allocator/policy/<name>.toml``), path, or a loaded
        :class:`ScoringMethod`.
    class_history
        ``firm_id, year, class`` of past evaluations (default: the case's);
        gives ``d_years_running`` for the "D three years running" price rule.
    year
        Evaluation year for the unrated rules (default: the year after the
        latest class history, else last calendar year).
    zones
        ``zone_id, county, city`` when classing by county or city from a bare
        firms table (default: the case's zones).
    lang
        Language of the ``reason`` texts (default: the current one).

    Returns
    -------
    Scores
        See :class:`Scores` and the module docstring for every rule.
    """
    m = load_method(method)
    firms_in, zones, history = _split_inputs(firms_or_case, zones, class_history)
    n = len(firms_in)
    if "firm_id" not in firms_in.columns:
        raise CaseError(t("scoring.error.no_firm_id"), hint=t("scoring.hint.firm_id"))
    ids_in = firms_in["firm_id"].astype(str).to_numpy(dtype=str)
    order = np.argsort(ids_in, kind="stable")
    ids = ids_in[order]
    dup = ids[1:] == ids[:-1]
    if dup.any():
        raise CaseError(
            t("scoring.error.duplicate_id", ids=", ".join(sorted(set(ids[1:][dup]))[:10])),
            hint=t("scoring.hint.firm_id"),
        )
    df = firms_in.iloc[order].reset_index(drop=True)
    if year is None:
        latest = (
            pd.to_numeric(history["year"], errors="coerce").max()
            if history is not None and len(history) and "year" in history
            else np.nan
        )
        year = int(latest) + 1 if np.isfinite(latest) else _dt.date.today().year - 1
    year = int(year)

    kind = _text(df, "kind").fillna("existing").to_numpy(dtype=object)
    applicant = kind == "applicant"
    existing = ~applicant

    # ---- raw quantities
    cols: dict[str, np.ndarray] = {}
    for c in (
        "tax_wan",
        "value_added_wan",
        "revenue_wan",
        "rd_wan",
        "employees",
        "energy_tce",
        "electricity_mwh",
    ):
        cols[c] = _num(df, c)
    land_mu, land_max = _num(df, "land_mu"), _num(df, "land_max_mu")
    land = np.where(applicant & ~np.isnan(land_max), land_max, land_mu)
    cols[LAND] = land
    energy = cols["energy_tce"].copy()
    if m.input_energy_basis != m.energy_basis:
        f = m.electricity_tce_per_mwh
        elec0 = np.nan_to_num(cols["electricity_mwh"])
        energy = energy + elec0 * (f[m.energy_basis] - f[m.input_energy_basis])
    cols[ENERGY] = energy
    pol = np.column_stack([_num(df, f"{p}_t") for p in POLLUTANTS])
    cols[EMISSIONS] = np.where(np.isnan(pol).all(axis=1), np.nan, np.nansum(pol, axis=1))

    # ---- pools
    service = _bool(df, "is_service")
    revenue = cols["revenue_wan"]
    pool = np.where(
        service, "service", np.where(revenue >= m.above_size_revenue_wan, "above", "below")
    )
    pool = pool.astype(object)
    pool_idx = np.select([pool == p for p in POOLS], list(range(len(POOLS))), 0)

    reason = np.full(n, None, dtype=object)

    def flag(mask: np.ndarray, code: str) -> None:
        hit = mask & (reason == None)  # noqa: E711 - elementwise
        reason[hit] = code

    # ---- unrated (existing only; applicants are classed from commitments)
    founded = _num(df, "founded_year")
    cr = m.classes
    industry = _text(df, "industry").fillna("")
    utility = industry.str.upper().str.startswith(cr.unrated_industry_prefixes).to_numpy(dtype=bool)
    new = founded > year - cr.min_years
    building = _bool(df, "under_construction") & cr.unrated_under_construction
    unrated = existing & (new | building | utility)
    flag(existing & new, "unrated_new")
    flag(existing & building, "unrated_construction")
    flag(existing & utility, "unrated_utility")

    # ---- scorability
    scored_pools = np.array([bool(m.rules(p)) for p in POOLS])
    not_scorable = np.zeros(n, dtype=bool)

    def bad(mask: np.ndarray, code: str) -> None:
        nonlocal not_scorable
        hit = mask & ~not_scorable
        not_scorable |= hit
        codes[hit] = code

    codes = np.full(n, None, dtype=object)
    bad(~service & np.isnan(revenue), "missing:revenue_wan")
    bad(~scored_pools[pool_idx], "pool_not_scored")
    bad(np.isnan(land), "missing:land")
    bad(land <= 0, "zero:land")

    values: dict[str, np.ndarray] = {}
    status: dict[str, np.ndarray] = {}  # 0 ok, 1 missing, 2 zero denominator
    for key in m.indicator_keys:
        ind = INDICATORS[key]
        num = cols[ind.numerator]
        den = cols[ind.denominator] / ind.den_per_unit
        st = np.where(np.isnan(num) | np.isnan(den), 1, np.where(den <= 0, 2, 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            values[key] = np.where(st == 0, num / np.where(st == 0, den, 1.0), np.nan)
        status[key] = st

    fill = {}  # (pool, key) -> mask of firms given the pool average
    for p_i, p in enumerate(POOLS):
        in_pool = pool_idx == p_i
        for rule in m.rules(p):
            st = status[rule.key]
            ind = INDICATORS[rule.key]
            den_col = "land" if ind.denominator == LAND else ind.denominator.strip("_")
            num_missing = np.isnan(cols[ind.numerator])
            miss = in_pool & (st == 1)
            zero = in_pool & (st == 2)
            fmask = np.zeros(n, dtype=bool)
            if rule.on_missing == "pool_average":
                fmask |= miss
            else:
                bad(miss & num_missing, f"missing:{ind.numerator}")
                bad(miss, f"missing:{den_col}")
            if rule.on_zero == "pool_average":
                fmask |= zero
            else:
                bad(zero, f"zero:{den_col}")
            fill[(p, rule.key)] = fmask

    scorable = ~not_scorable
    reference = existing & ~unrated & scorable

    # ---- partial scores
    parts: dict[str, np.ndarray] = {key: np.full(n, np.nan) for key in m.indicator_keys}
    bench_rows: list[dict[str, Any]] = []
    lin: dict[tuple[str, str], tuple[Any, ...]] = {}
    for p_i, p in enumerate(POOLS):
        in_pool = (pool_idx == p_i) & scorable
        ref = reference & (pool_idx == p_i)
        for rule in m.rules(p):
            key = rule.key
            ind = INDICATORS[key]
            x = values[key]
            fmask = fill[(p, key)]
            ok_ref = ref & ~fmask & (status[key] == 0)
            w = rule.weight
            cap = rule.cap * w if rule.cap is not None else np.inf
            row: dict[str, Any] = {"pool": p, "indicator": key, "weight": w, "cap": rule.cap}
            if m.kind == "benchmark_ratio":
                if isinstance(rule.benchmark, str):
                    if ok_ref.any():
                        if rule.benchmark == "pool_mean":
                            b = float(x[ok_ref].mean())
                        else:
                            den = cols[ind.denominator][ok_ref] / ind.den_per_unit
                            b = float(cols[ind.numerator][ok_ref].sum() / den.sum())
                        b *= rule.benchmark_multiple
                    else:
                        b = np.nan
                    row.update(benchmark=b, computed=rule.benchmark)
                else:
                    b = float(rule.benchmark)
                    row.update(benchmark=b, computed="given")
                part = w * x / b
                # affine in x: alpha + beta·x, clipped to [lo, hi]
                lin[(p, key)] = (0.0, w / b, -np.inf, cap)
            else:
                lo_x = float(x[ok_ref].min()) if ok_ref.any() else np.nan
                hi_x = float(x[ok_ref].max()) if ok_ref.any() else np.nan
                row.update(benchmark=np.nan, computed="minmax", min=lo_x, max=hi_x)
                if hi_x > lo_x:
                    part = w * (20 + 80 * (np.clip(x, lo_x, hi_x) - lo_x) / (hi_x - lo_x)) / 100
                    beta = 0.8 * w / (hi_x - lo_x)
                    lin[(p, key)] = (0.2 * w - beta * lo_x, beta, 0.2 * w, min(w, cap))
                else:
                    part = np.full(n, w if np.isfinite(lo_x) else np.nan)
                    lin[(p, key)] = (w, 0.0, -np.inf, min(w, cap))
            part = np.minimum(part, cap)
            avg_src = ok_ref & np.isfinite(part)
            avg = float(part[avg_src].mean()) if avg_src.any() else np.nan
            row["pool_average_part"] = avg
            part = np.where(fmask, avg, part)
            bad(in_pool & ~np.isfinite(part), f"no_reference:{key}")
            parts[key][pool_idx == p_i] = part[pool_idx == p_i]
            bench_rows.append(row)

    scorable = ~not_scorable
    reference = existing & ~unrated & scorable
    total = np.zeros(n)
    for p_i, p in enumerate(POOLS):
        sel = pool_idx == p_i
        for rule in m.rules(p):
            total[sel] += parts[rule.key][sel]
    total = np.where(scorable, total, np.nan)
    for key in parts:
        parts[key] = np.where(scorable, parts[key], np.nan)

    # ---- ranking groups
    zone = _text(df, "zone_id")
    if "candidate_zones" in df.columns:
        first_cand = _text(df, "candidate_zones").str.split(";").str[0].str.strip()
        zone = zone.fillna(first_cand)
    if cr.jurisdiction == "case":
        juris = pd.Series([""] * n, dtype=object)
    elif cr.jurisdiction == "zone" or zones is None or cr.jurisdiction not in zones.columns:
        juris = zone.astype(object)
    else:
        zmap = dict(zip(zones["zone_id"].astype(str), zones[cr.jurisdiction], strict=False))
        juris = zone.map(zmap).astype(object)
        juris = juris.where(juris.notna(), zone.astype(object))
    juris = juris.fillna("").astype(str).to_numpy(dtype=object)
    igroup = np.full(n, cr.other_group if cr.industry_groups else "", dtype=object)
    up = industry.str.upper()
    for gname, prefixes in reversed(cr.industry_groups):
        igroup[up.str.startswith(tuple(p.upper() for p in prefixes)).to_numpy(dtype=bool)] = gname
    pool_key = pool if cr.separate_pools else np.full(n, "all", dtype=object)
    group_label = pd.Series(pool_key).str.cat([pd.Series(juris), pd.Series(igroup)], sep="|")
    gcode, glabels = pd.factorize(group_label)
    ng = len(glabels)

    # ---- classes of the reference firms
    cls_idx = np.full(n, -1, dtype=np.int64)
    rank = np.full(n, np.nan)
    gsize = np.bincount(gcode[reference], minlength=ng)
    bounds = np.array([b for _, b in cr.bands])
    cut = _round_half_up(bounds[None, :] * gsize[:, None])  # (ng, 4) cumulative counts
    cut[:, -1] = gsize
    thr = np.full((ng, len(CLASSES)), np.nan)
    members = np.zeros((ng, len(CLASSES)), dtype=np.int64)
    ridx = np.flatnonzero(reference)
    if ridx.size:
        o = np.lexsort((ridx, -total[ridx], gcode[ridx]))
        srt = ridx[o]
        g = gcode[srt]
        s = total[srt]
        pos = np.arange(srt.size)
        start = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
        gstart = np.zeros(ng, dtype=np.int64)
        gstart[g[start]] = start
        r = pos - gstart[g] + 1
        c = (r[:, None] > cut[g][:, :-1]).sum(axis=1)
        run_start = np.r_[True, (g[1:] != g[:-1]) | (s[1:] != s[:-1])]
        first = np.maximum.accumulate(np.where(run_start, pos, 0))
        c = c[first]
        cls_idx[srt] = c
        rank[srt] = r
        keyc = g * len(CLASSES) + c
        end = np.r_[keyc[1:] != keyc[:-1], True]
        thr.flat[keyc[end]] = s[end]
        np.add.at(members.reshape(-1), keyc, 1)

    # ---- applicants: classed against the existing firms' thresholds of their group
    app = applicant & scorable
    has_ref = gsize[gcode] > 0
    flag(app & ~has_ref, "no_reference_group")
    aidx = np.flatnonzero(app & has_ref)
    if aidx.size:
        at = thr[gcode[aidx]]
        ok = total[aidx][:, None] >= at  # NaN thresholds compare False
        ac = np.where(ok.any(axis=1), np.argmax(ok, axis=1), len(CLASSES) - 1)
        cls_idx[aidx] = ac
    rated = cls_idx >= 0

    # ---- reasons: unrated first, then why not scorable
    reason = np.where(reason == None, codes, reason)  # noqa: E711
    reason = np.where(~rated & (reason == None), "no_reference_group", reason)  # noqa: E711

    # ---- explanation: weakest indicator vs pool average partial
    weakest = np.full(n, None, dtype=object)
    shortfall = np.full(n, np.nan)
    avg_part = {(r["pool"], r["indicator"]): r["pool_average_part"] for r in bench_rows}
    for p_i, p in enumerate(POOLS):
        rules = m.rules(p)
        sel = np.flatnonzero((pool_idx == p_i) & scorable)
        if not rules or not sel.size:
            continue
        gaps = np.column_stack([avg_part[(p, r.key)] - parts[r.key][sel] for r in rules])
        gaps = np.where(np.isnan(gaps), -np.inf, gaps)
        k = np.argmax(gaps, axis=1)
        weakest[sel] = np.array([r.key for r in rules], dtype=object)[k]
        shortfall[sel] = gaps[np.arange(sel.size), k]

    # ---- next class and counterfactuals
    nxt = np.full(n, -1, dtype=np.int64)
    nxt_thr = np.full(n, np.nan)
    for better in range(len(CLASSES)):  # ascending: the last write is the nearest better class
        cand = rated & (cls_idx > better)
        tv = thr[gcode, better]
        take = cand & ~np.isnan(tv)
        nxt[take] = better
        nxt_thr[take] = tv[take]
    gap_next = nxt_thr - total
    target = nxt_thr + CF_EPS * np.maximum(1.0, np.abs(nxt_thr))
    cf_tax = np.full(n, np.nan)
    cf_energy = np.full(n, np.nan)
    for p_i, p in enumerate(POOLS):
        rules = m.rules(p)
        sel = np.flatnonzero((pool_idx == p_i) & (nxt >= 0))
        if not rules or not sel.size:
            continue
        cf_tax[sel] = _counterfactual(
            sel, p, rules, "tax_wan", cols, values, parts, total, target, lin, fill, m
        )
        if any(INDICATORS[r.key].denominator == ENERGY for r in rules):
            u = _counterfactual(
                sel, p, rules, ENERGY, cols, values, parts, total, target, lin, fill, m
            )
            e0 = cols[ENERGY][sel]
            with np.errstate(divide="ignore", invalid="ignore"):
                cf_energy[sel] = np.where(u > 0, e0 - 1.0 / u, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        cf_tax_mu = cf_tax / land
        cf_energy_wan = cf_energy / cols["value_added_wan"]

    # ---- consecutive D years
    cls_lab = np.array([*CLASSES, None], dtype=object)[np.where(rated, cls_idx, len(CLASSES))]
    d_run = _d_years_running(ids, cls_lab, history, year)

    managed = np.where(rated, cls_lab, "B")
    next_lab = np.array([*CLASSES, None], dtype=object)[np.where(nxt >= 0, nxt, len(CLASSES))]
    table = pd.DataFrame(
        {
            "firm_id": ids,
            "name": _text(df, "name").to_numpy(dtype=object),
            "kind": kind,
            "zone_id": zone.to_numpy(dtype=object),
            "industry": industry.to_numpy(dtype=object),
            "pool": pool,
            "group": glabels.to_numpy(dtype=object)[gcode],
            "land_used_mu": land,
            "score": total,
            "rated": rated,
            "scorable": scorable,
            "class": cls_lab,
            "managed_class": managed,
            "reason_code": reason,
            "rank": rank,
            "group_size": gsize[gcode].astype(float),
            "weakest_indicator": weakest,
            "weakest_shortfall": shortfall,
            "next_class": next_lab,
            "next_threshold": nxt_thr,
            "gap_to_next": gap_next,
            "cf_tax_wan": cf_tax,
            "cf_tax_per_mu": cf_tax_mu,
            "cf_energy_cut_tce": cf_energy,
            "cf_energy_cut_per_wan": cf_energy_wan,
            "d_years_running": d_run,
        }
    )
    table.insert(table.columns.get_loc("reason_code") + 1, "reason", reason_texts(reason, lang))
    for key in m.indicator_keys:
        table[f"ind_{key}"] = values[key]
    for key in m.indicator_keys:
        table[f"part_{key}"] = parts[key]
    # back to input order
    inv = np.empty(n, dtype=np.int64)
    inv[order] = np.arange(n)
    table = table.iloc[inv].set_index("firm_id")

    thresholds = _threshold_table(glabels, thr, members)
    benchmarks = pd.DataFrame(bench_rows)
    return Scores(table=table, method=m, year=year, thresholds=thresholds, benchmarks=benchmarks)


def _counterfactual(
    sel: np.ndarray,
    pool: str,
    rules: tuple[IndicatorRule, ...],
    driver: str,
    cols: dict[str, np.ndarray],
    values: dict[str, np.ndarray],
    parts: dict[str, np.ndarray],
    total: np.ndarray,
    target: np.ndarray,
    lin: dict[tuple[str, str], tuple[Any, ...]],
    fill: dict[tuple[str, str], np.ndarray],
    m: ScoringMethod,
) -> np.ndarray:
    """Extra ``tax_wan`` (driver ``tax_wan``) or the new ``1/energy`` (driver ENERGY)."""
    terms = []
    for rule in rules:
        ind = INDICATORS[rule.key]
        if driver == ENERGY:
            if ind.denominator != ENERGY:
                continue
            scale = cols[ind.numerator][sel]  # indicator = VA · (1/E)
        else:
            if ind.numerator != driver:
                continue
            scale = ind.den_per_unit / cols[ind.denominator][sel]  # indicator = t / den
        a, b, lo, hi = lin[(pool, rule.key)]
        fixed = fill[(pool, rule.key)][sel]
        beta = np.where(fixed, 0.0, b * scale)
        alpha = np.where(fixed, parts[rule.key][sel], a)
        terms.append((rule.key, alpha, beta, lo, hi))
    if not terms:
        return np.full(sel.size, np.nan)
    alpha = np.column_stack([np.broadcast_to(x[1], sel.shape) for x in terms]).astype(float)
    beta = np.column_stack([np.broadcast_to(x[2], sel.shape) for x in terms]).astype(float)
    lo = np.column_stack([np.full(sel.size, x[3], dtype=float) for x in terms])
    hi = np.column_stack([np.full(sel.size, x[4], dtype=float) for x in terms])
    lo = np.where(beta > 0, lo, -np.inf)
    current = sum(parts[x[0]][sel] for x in terms)
    const = total[sel] - current
    if driver == ENERGY:
        with np.errstate(divide="ignore"):
            x0 = 1.0 / cols[ENERGY][sel]
    else:
        x0 = cols[driver][sel]
    x0 = np.where(np.isfinite(x0), x0, np.nan)
    hi = np.where(beta > 0, hi, np.maximum(hi, alpha))
    lo = np.where(beta > 0, lo, np.minimum(lo, alpha))
    x1 = solve_piecewise(x0, target[sel], const, alpha, beta, lo, hi)
    if driver == ENERGY:
        return x1
    return x1 - x0


def _threshold_table(glabels: pd.Index, thr: np.ndarray, members: np.ndarray) -> pd.DataFrame:
    parts = pd.Series(glabels).str.split("|", expand=True, regex=False)
    rows = []
    for gi, label in enumerate(glabels):
        for ci, c in enumerate(CLASSES):
            rows.append(
                {
                    "group": label,
                    "pool": parts.iloc[gi, 0],
                    "jurisdiction": parts.iloc[gi, 1],
                    "industry_group": parts.iloc[gi, 2],
                    "class": c,
                    "min_score": thr[gi, ci],
                    "firms": int(members[gi, ci]),
                }
            )
    return pd.DataFrame(
        rows,
        columns=["group", "pool", "jurisdiction", "industry_group", "class", "min_score", "firms"],
    )


def _d_years_running(
    ids: np.ndarray,
    cls_lab: np.ndarray,
    history: pd.DataFrame | None,
    year: int,
    cls: str = "D",
) -> np.ndarray:
    """Consecutive years in class ``cls`` up to and including ``year`` (0 when not in it now)."""
    cur_d = cls_lab == cls
    run = cur_d.astype(float)
    if history is None or not len(history) or not cur_d.any():
        return run
    h = history[["firm_id", "year", "class"]].copy()
    h["firm_id"] = h["firm_id"].astype(str)
    h["year"] = pd.to_numeric(h["year"], errors="coerce")
    h = h.dropna(subset=["year"])
    h = h[(h["class"].astype(str) == cls) & (h["year"] < year)]
    dset = set(zip(h["firm_id"], h["year"].astype(int), strict=False))
    alive = cur_d.copy()
    pos = np.flatnonzero(cur_d)
    for back in range(1, 50):
        if not alive[pos].any():
            break
        has = np.array([(ids[i], year - back) in dset for i in pos], dtype=bool)
        alive[pos] &= has
        run[pos] += alive[pos]
    return run


def reason_texts(codes: np.ndarray, lang: str | None = None) -> np.ndarray:
    """Translate reason codes (``code`` or ``code:detail``) into text, once per distinct code."""
    out = np.full(len(codes), None, dtype=object)
    present = pd.Series(codes, dtype=object)
    for code in present.dropna().unique():
        head, _, detail = str(code).partition(":")
        text = t(f"scoring.reason.{head}", lang, detail=_detail_label(detail, lang))
        out[present.to_numpy() == code] = text
    return out


def _detail_label(detail: str, lang: str | None) -> str:
    if detail in INDICATORS:
        return t(f"scoring.ind.{detail}", lang)
    if has(f"scoring.col.{detail}"):
        return t(f"scoring.col.{detail}", lang)
    if detail:
        return detail
    return ""


def class_summary(table: pd.DataFrame, by: str = "zone_id") -> pd.DataFrame:
    """Count firms per ``by`` value: A–D, ``unrated``, ``unclassed`` (not scorable), total."""
    key = table[by].astype(object).fillna("—") if by in table else pd.Series("—", index=table.index)
    unrated = table["reason_code"].astype(str).str.startswith("unrated")
    status = np.where(
        table["class"].notna(),
        table["class"].astype(object),
        np.where(unrated, "unrated", "unclassed"),
    )
    out = pd.crosstab(pd.Series(key.to_numpy(), name=by), pd.Series(status, name="class"))
    cols = [*CLASSES, "unrated", "unclassed"]
    out = out.reindex(columns=cols, fill_value=0)
    out.columns.name = None
    out["total"] = out.sum(axis=1)
    return out
