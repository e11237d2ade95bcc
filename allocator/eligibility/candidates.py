"""Candidate parcels (single plots and bundles) and (applicant, parcel) pairs with their reasons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import shapely

from allocator.case.io import split_list
from allocator.eligibility._arrays import _geoms, _text
from allocator.eligibility.overlays import overlap_areas, plot_overlays
from allocator.eligibility.params import EligibilityParams
from allocator.eligibility.reasons import BIT, REASON_CODES, decode, reason_text
from allocator.eligibility.rules import Rules
from allocator.parcels import adjacency, connected_sets
from allocator.units import M2_PER_MU

LOCKED_COLUMNS = (
    "firm_id",
    "parcel_id",
    "area_mu",
    "land_min_mu",
    "land_max_mu",
    "eligible",
    "failures",
)
"""Columns of :attr:`Candidates.locked`."""
LOCKED_PREFIX = "L:"
"""Prefix of the id of a locked parcel that is no generated bundle."""


@dataclass
class Candidates:
    """Candidate parcels and (applicant, parcel) pairs, with the reasons of every rejection.

    The reasons of a pair ``(firm, plot)`` are a bit mask over
    :data:`REASON_CODES`; they are not stored densely but recomputed from small
    per-plot and per-industry tables (:meth:`mask`), so a million plots cost
    no more memory than the plots themselves.
    """

    parcels: pd.DataFrame
    """``parcel_id``, ``plot_ids`` (tuple), ``area_mu``, ``zone_id``, ``unit_id``, ``n_plots``."""
    pairs: pd.DataFrame
    """``firm_id``, ``parcel_id`` of every candidate pair."""
    firm_ids: np.ndarray
    plot_ids: np.ndarray
    params: EligibilityParams = field(default_factory=EligibilityParams)
    _rules: Rules | None = field(default=None, repr=False)
    # per-plot and per-firm arrays set by build_candidates (None only before it ran)
    _plot_bits: Any = field(default=None, repr=False)
    _plot_unit: Any = field(default=None, repr=False)
    _plot_lu: Any = field(default=None, repr=False)
    _plot_zone: Any = field(default=None, repr=False)
    _plot_area: Any = field(default=None, repr=False)
    _firm_ind: Any = field(default=None, repr=False)
    _firm_zone_ok: Any = field(default=None, repr=False)
    _lmin: Any = field(default=None, repr=False)
    _lmax: Any = field(default=None, repr=False)
    _covered: np.ndarray | None = field(default=None, repr=False)
    _summary: pd.DataFrame | None = field(default=None, repr=False)
    locked: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LOCKED_COLUMNS))
    """One row per locked applicant with locked plots (:data:`LOCKED_COLUMNS`): its parcel,
    ``eligible``, and ``failures``, a tuple of ``(plot_id, code)`` per failed test (for
    ``size``, the parcel's plots joined by ``+``). MODEL.md: a lock does not override
    eligibility, so an ineligible locked parcel is not a candidate pair."""

    @property
    def summary(self) -> pd.DataFrame:
        """Per reason code: (firm, plot) ``pairs`` failing it, ``only`` it, ``plots`` affected.

        Computed on first use (one pass over every applicant × plot, in chunks).
        """
        if self._summary is None:
            self._summary = _summary(self)
        return self._summary

    def mask(
        self,
        firms: Sequence[int] | np.ndarray | None = None,
        plots: Sequence[int] | np.ndarray | None = None,
    ) -> np.ndarray:
        """Return the reason masks (uint8) for firm rows × plot rows (all when None)."""
        f = np.arange(len(self.firm_ids)) if firms is None else np.asarray(firms, dtype=np.int64)
        p = np.arange(len(self.plot_ids)) if plots is None else np.asarray(plots, dtype=np.int64)
        r = self._rules
        assert r is not None
        ind = self._firm_ind[f][:, None]
        unit, lu, zone = self._plot_unit[p][None, :], self._plot_lu[p][None, :], self._plot_zone[p]
        bits = np.broadcast_to(self._plot_bits[p][None, :], (len(f), len(p))).astype(np.uint8)
        bits = bits | np.where(r.prohibited[ind, unit], BIT["access_list"], 0).astype(np.uint8)
        bits |= np.where(r.admits[ind, lu], 0, BIT["land_use"]).astype(np.uint8)
        if self.params.catalogue:
            bits |= np.where(r.in_catalogue[ind, zone[None, :]], 0, BIT["catalogue"]).astype(
                np.uint8
            )
        bits |= np.where(self._firm_zone_ok[f][:, zone], 0, BIT["zone"]).astype(np.uint8)
        area = self._plot_area[p][None, :]
        lmin, lmax = self._lmin[f][:, None], self._lmax[f][:, None]
        small = area < lmin - 1e-9
        if self._covered is not None and len(self._covered) and small.any():
            code = f[:, None] * len(self.plot_ids) + p[None, :]
            pos = np.searchsorted(self._covered, code).clip(max=len(self._covered) - 1)
            small &= self._covered[pos] != code
        bits |= np.where((area > lmax + 1e-9) | small, BIT["size"], 0).astype(np.uint8)
        return bits

    def _locked_table(
        self, lock_f: np.ndarray, lock_b: np.ndarray, member: np.ndarray, n: int
    ) -> pd.DataFrame:
        """Run every eligibility test on each locked (applicant row, parcel row)."""
        rows = []
        keep = np.uint8(0xFF ^ BIT["size"])  # size is a parcel test here, not a plot test
        order = {code: k for k, code in enumerate(REASON_CODES)}
        for f, b in zip(lock_f.tolist(), lock_b.tolist(), strict=True):
            plots = member[b][member[b] < n]
            bits = self.mask([f], plots)[0] & keep
            failures = [
                (str(self.plot_ids[p]), code)
                for p, bb in zip(plots.tolist(), bits.tolist(), strict=True)
                for code in decode(int(bb))
            ]
            area = float(self.parcels["area_mu"].iloc[b])
            lmin, lmax = float(self._lmin[f]), float(self._lmax[f])
            if area < lmin - 1e-9 or area > lmax + 1e-9:
                failures.append(("+".join(self.parcels["plot_ids"].iloc[b]), "size"))
            failures.sort(key=lambda x: (order[x[1]], x[0]))
            rows.append(
                {
                    "firm_id": str(self.firm_ids[f]),
                    "parcel_id": str(self.parcels["parcel_id"].iloc[b]),
                    "area_mu": area,
                    "land_min_mu": lmin,
                    "land_max_mu": lmax,
                    "eligible": not failures,
                    "failures": tuple(failures),
                }
            )
        return pd.DataFrame(rows, columns=LOCKED_COLUMNS)

    def _rows(self, firm_id: str, plot_id: str) -> tuple[int, int]:
        fpos = np.flatnonzero(self.firm_ids == str(firm_id))
        ppos = np.flatnonzero(self.plot_ids == str(plot_id))
        if len(fpos) == 0:
            raise KeyError(f"no applicant {firm_id!r}")
        if len(ppos) == 0:
            raise KeyError(f"no plot {plot_id!r}")
        return int(fpos[0]), int(ppos[0])

    def reasons_for(self, firm_id: str, plot_id: str) -> list[str]:
        """Return the failed reason codes of (applicant, plot), in :data:`REASON_CODES` order."""
        f, p = self._rows(firm_id, plot_id)
        return decode(int(self.mask([f], [p])[0, 0]))

    def reasons_text(self, firm_id: str, plot_id: str, lang: str | None = None) -> list[str]:
        """Return the failed reasons of (applicant, plot) as sentences in ``lang``."""
        return [reason_text(c, lang) for c in self.reasons_for(firm_id, plot_id)]

    def reason_table(self, firm_id: str) -> pd.DataFrame:
        """Return one row per plot with the applicant's failed codes (``;``) and ``eligible``."""
        f, _ = self._rows(firm_id, self.plot_ids[0]) if len(self.plot_ids) else (0, 0)
        bits = self.mask([f])[0]
        return pd.DataFrame(
            {
                "plot_id": self.plot_ids,
                "eligible": bits == 0,
                "reasons": [";".join(decode(int(b))) for b in bits],
            }
        )


def _firm_arrays(applicants: pd.DataFrame, zone_ids: np.ndarray) -> dict[str, np.ndarray]:
    zpos = {z: k for k, z in enumerate(zone_ids)}
    n = len(applicants)
    zone_ok = np.zeros((n, len(zone_ids) + 1), dtype=bool)
    cz = applicants["candidate_zones"] if "candidate_zones" in applicants else [None] * n
    for k, text in enumerate(cz):
        wanted = split_list(text)
        if not wanted:
            zone_ok[k, : len(zone_ids)] = True
        else:
            zone_ok[k, [zpos[z] for z in wanted if z in zpos]] = True

    def num(col: str, default: float) -> np.ndarray:
        if col not in applicants:
            return np.full(n, default)
        v = pd.to_numeric(applicants[col], errors="coerce").to_numpy(dtype=float)
        return np.where(np.isnan(v), default, v)

    return {
        "zone_ok": zone_ok,
        "lmin": num("land_min_mu", 0.0),
        "lmax": num("land_max_mu", np.inf),
        "industry": _text(applicants["industry"] if "industry" in applicants else [None] * n),
    }


def build_candidates(
    case: Any,
    params: EligibilityParams | None = None,
    overlays: pd.DataFrame | None = None,
    applicants: pd.DataFrame | None = None,
) -> Candidates:
    """Return the candidate parcels and (applicant, parcel) pairs of ``case``.

    Parameters
    ----------
    case
        The case (plots, zones, red line, units, rule tables, firms).
    params
        Eligibility parameters (default :class:`EligibilityParams`).
    overlays
        Precomputed :func:`plot_overlays` with the same red-line buffer.
    applicants
        Firms to pair (default ``case.applicants``).
    """
    params = params or EligibilityParams()
    if overlays is None:
        overlays = plot_overlays(case, buffer_m=params.redline_buffer_m)
    if applicants is None:
        applicants = case.applicants
    applicants = applicants.reset_index(drop=True)
    plots = case.plots
    pid = _text(plots["plot_id"])
    n = len(pid)
    ov = overlays.reindex(pid)
    geoms = _geoms(plots)
    if "area_mu" in plots:
        area = pd.to_numeric(plots["area_mu"], errors="coerce").to_numpy(dtype=float)
    else:
        area = shapely.area(geoms) / M2_PER_MU
    share = ov["redline_share"].fillna(0.0).to_numpy(dtype=float)
    status = _text(plots["status"])
    occupant = _text(plots["occupant_id"]) if "occupant_id" in plots else np.full(n, "")
    leaving = np.isin(occupant, np.asarray(sorted(params.leaving_firms), dtype=object))
    status_ok = np.isin(status, ["vacant", "idle"]) | ((status == "occupied") & leaving)
    red_bad = share > params.redline_threshold
    plot_bits = np.where(red_bad, BIT["redline"], 0) | np.where(status_ok, 0, BIT["status"])
    plot_bits = plot_bits.astype(np.uint8)

    farr: dict[str, Any] = _firm_arrays(applicants, _text(case.zones["zone_id"]))
    inds, firm_ind = np.unique(farr["industry"].astype(str), return_inverse=True)
    rules = Rules.build(case, list(inds))
    p_unit = rules.unit_index(ov["unit_id"])
    p_lu = rules.land_use_index(plots["land_use"])
    p_zone = rules.zone_index(plots["zone_id"])

    # ---- parcels: singles (status ok) and bundles (status and red line ok)
    single = np.flatnonzero(status_ok)
    node_ok = status_ok & ~red_bad
    nodes = np.flatnonzero(node_ok)
    order = np.argsort(pid[nodes].astype(str), kind="stable")
    nodes = nodes[order]  # node rank order == plot-id order, so sorted sets give sorted ids
    lmax_all = farr["lmax"]
    max_area = float(np.max(lmax_all)) if len(lmax_all) else np.inf
    sets: list[np.ndarray] = []
    if params.bundle_size >= 2 and len(nodes) > 1:
        edges = adjacency(
            geoms[nodes],
            p_zone[nodes],
            tolerance_m=params.adjacency_tolerance_m,
            min_shared_m=params.min_shared_edge_m,
        )
        sets = [
            nodes[s]
            for s in connected_sets(
                len(nodes), edges, params.bundle_size, area=area[nodes], max_area=max_area
            )
        ]
    k = max(params.bundle_size, 1)
    members = [np.column_stack([single, np.full((len(single), k - 1), n, dtype=np.int64)])]
    for s in sets:
        pad = np.full((len(s), k - s.shape[1]), n, dtype=np.int64)
        members.append(np.column_stack([s, pad]))
    member = np.concatenate(members).astype(np.int64) if members else np.zeros((0, k), np.int64)
    n_generated = len(member)
    # locked applicants (一企一策): the parcel of exactly their locked plots, added when the
    # bundle generator did not produce it (offered to the locked applicant only)
    lock_f, lock_b, member = _locked_parcels(applicants, pid, member, n)
    parcels = _parcel_frame(
        case, plots, geoms, area, member, ov["unit_id"].to_numpy(dtype=object), n_generated
    )
    parcel_ids = parcels["parcel_id"].to_numpy(dtype=object)
    p_area = parcels["area_mu"].to_numpy(dtype=float)
    p_zone_b = p_zone[member[:, 0]] if len(member) else np.zeros(0, np.int64)
    n_plots = parcels["n_plots"].to_numpy()
    gen = slice(0, n_generated)

    # ---- pairs, one industry at a time (all its firms share the plot tests)
    ok_base = plot_bits == 0
    by_area = np.argsort(p_area[gen], kind="stable")
    sorted_area = p_area[gen][by_area]
    pair_f: list[np.ndarray] = []
    pair_b: list[np.ndarray] = []
    for i in range(len(inds)):
        plot_ok = ok_base & ~rules.prohibited[i, p_unit] & rules.admits[i, p_lu]
        plot_ok = np.append(plot_ok, True)  # the padding column of ``member``
        parcel_ok = np.asarray(plot_ok[member[gen]].all(axis=1), dtype=bool)
        if params.catalogue:
            parcel_ok &= rules.in_catalogue[i, p_zone_b[gen]]
        for f in np.flatnonzero(firm_ind == i):
            lo = np.searchsorted(sorted_area, farr["lmin"][f] - 1e-9, side="left")
            hi = np.searchsorted(sorted_area, farr["lmax"][f] + 1e-9, side="right")
            idx = by_area[lo:hi]
            idx = idx[parcel_ok[idx] & farr["zone_ok"][f][p_zone_b[idx]]]
            if len(idx):
                pair_f.append(np.full(len(idx), f, dtype=np.int64))
                pair_b.append(np.sort(idx))
    pf = np.concatenate(pair_f) if pair_f else np.zeros(0, np.int64)
    pb = np.concatenate(pair_b) if pair_b else np.zeros(0, np.int64)
    firm_ids = _text(applicants["firm_id"])

    # plots made usable for a firm by a candidate bundle (for the plot-level size reason)
    multi = n_plots[pb] > 1
    cov_f = np.repeat(pf[multi], member.shape[1])
    cov_p = member[pb[multi]].ravel()
    real = cov_p < n
    covered = np.unique(cov_f[real] * n + cov_p[real])

    cands = Candidates(
        parcels=parcels,
        pairs=pd.DataFrame({"firm_id": firm_ids[pf], "parcel_id": parcel_ids[pb]}),
        firm_ids=firm_ids,
        plot_ids=pid,
        params=params,
        _rules=rules,
        _plot_bits=plot_bits,
        _plot_unit=p_unit,
        _plot_lu=p_lu,
        _plot_zone=p_zone,
        _plot_area=area,
        _firm_ind=firm_ind.astype(np.int64),
        _firm_zone_ok=farr["zone_ok"],
        _lmin=farr["lmin"],
        _lmax=farr["lmax"],
        _covered=covered,
    )
    # a lock does not override eligibility: the locked pair is a candidate only when its
    # parcel passes every test (MODEL.md ``locked``); the failures are kept for the proof
    cands.locked = cands._locked_table(lock_f, lock_b, member, n)
    ok = cands.locked["eligible"].to_numpy(dtype=bool)
    pf = np.concatenate([pf, lock_f[ok]]).astype(np.int64)
    pb = np.concatenate([pb, lock_b[ok]]).astype(np.int64)
    if ok.any():
        keep = np.unique(pf * max(len(member), 1) + pb, return_index=True)[1]
        pf, pb = pf[np.sort(keep)], pb[np.sort(keep)]
    cands.pairs = pd.DataFrame({"firm_id": firm_ids[pf], "parcel_id": parcel_ids[pb]})
    return cands


def _locked_parcels(
    applicants: pd.DataFrame, pid: np.ndarray, member: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (applicant rows, parcel rows, member matrix with the added locked parcels).

    A locked applicant with ``locked_plots`` (known plot ids) gets the parcel of
    exactly those plots: the generated parcel with the same plots, or a new row
    appended to ``member`` (which is widened when the lock has more plots than a
    bundle may). Unknown plot ids are ignored (validation reports them).
    """
    if "locked" not in applicants or "locked_plots" not in applicants:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), member
    locked = applicants["locked"].fillna(False).astype(bool).to_numpy()
    pos = {p: i for i, p in enumerate(pid)}
    wanted: list[tuple[int, tuple[int, ...]]] = []
    for f in np.flatnonzero(locked):
        rows = sorted({pos[p] for p in split_list(applicants["locked_plots"].iloc[f]) if p in pos})
        if rows:
            wanted.append((int(f), tuple(sorted(rows, key=lambda r: str(pid[r])))))
    if not wanted:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), member
    touched = np.isin(member, [r for _, rows in wanted for r in rows]).any(axis=1)
    known = {frozenset(int(x) for x in member[b] if x < n): int(b) for b in np.flatnonzero(touched)}
    width = max(member.shape[1], max(len(rows) for _, rows in wanted))
    if width > member.shape[1]:
        pad = np.full((len(member), width - member.shape[1]), n, dtype=np.int64)
        member = np.column_stack([member, pad])
    extra: list[list[int]] = []
    lock_f, lock_b = [], []
    for fi, prow in wanted:
        key = frozenset(prow)
        if key not in known:
            known[key] = len(member) + len(extra)
            extra.append(list(prow) + [n] * (width - len(prow)))
        lock_f.append(fi)
        lock_b.append(known[key])
    if extra:
        member = np.concatenate([member, np.asarray(extra, dtype=np.int64)])
    return np.asarray(lock_f, np.int64), np.asarray(lock_b, np.int64), member


def _parcel_frame(
    case: Any,
    plots: pd.DataFrame,
    geoms: np.ndarray,
    area: np.ndarray,
    member: np.ndarray,
    plot_unit: np.ndarray,
    n_generated: int,
) -> pd.DataFrame:
    """Return each parcel's id, plots, area, zone and control unit: the one definition.

    ``member`` holds plot rows per parcel, padded with ``len(plots)``. The area
    is the sum of the plots' areas (``area``, mu); the zone is its first plot's; the
    control unit is the one holding most of the parcel's area (exact
    overlay for bundles, ties to the smaller id), as MODEL.md ``zone_split``
    asks. Rows from ``n_generated`` on are locked parcels that are no generated
    bundle; their id is :data:`LOCKED_PREFIX` + the plot ids.
    """
    n = len(plots)
    pid = _text(plots["plot_id"])
    area_pad = np.append(area, 0.0)
    ids_mat = np.append(pid, "")[member]
    plot_tuples = [tuple(x for x in row if x) for row in ids_mat]
    parcel_ids = np.array(["+".join(t) for t in plot_tuples], dtype=object)
    parcel_ids[n_generated:] = LOCKED_PREFIX + parcel_ids[n_generated:]
    return pd.DataFrame(
        {
            "parcel_id": parcel_ids,
            "plot_ids": plot_tuples,
            "area_mu": area_pad[member].sum(axis=1),
            "zone_id": np.append(_text(plots["zone_id"]), [None])[member[:, 0]]
            if len(member)
            else [],
            "unit_id": _parcel_units(case, geoms, member, n, plot_unit),
            "n_plots": (member < n).sum(axis=1),
        }
    )


def plot_set_units(
    case: Any, plot_sets: Sequence[Sequence[str]], overlays: pd.DataFrame
) -> np.ndarray:
    """Return the control unit holding most of each set of plots' area (None: no unit).

    The rule of a parcel's unit (:func:`_parcel_frame`) for any sets of plot
    ids, such as the plots an existing firm holds; ``overlays`` are
    :func:`plot_overlays` (their ``unit_id`` serves one-plot sets). Unknown
    plot ids are ignored.
    """
    plots = case.plots
    pid = _text(plots["plot_id"])
    n = len(pid)
    pos = {p: i for i, p in enumerate(pid)}
    rows = [[pos[p] for p in s if p in pos] for s in plot_sets]
    member = np.full((len(rows), max([1, *map(len, rows)])), n, dtype=np.int64)
    for i, r in enumerate(rows):
        member[i, : len(r)] = r
    multi = (member < n).sum(axis=1) > 1
    geoms = _geoms(plots) if multi.any() else np.zeros(n, dtype=object)
    plot_unit = overlays.reindex(pid)["unit_id"].to_numpy(dtype=object)
    return _parcel_units(case, geoms, member, n, plot_unit)


def _parcel_units(
    case: Any, geoms: np.ndarray, member: np.ndarray, n: int, plot_unit: np.ndarray
) -> np.ndarray:
    """Return the unit holding most of each parcel's area (exact for bundles)."""
    out = np.append(plot_unit, [None])[member[:, 0]] if len(member) else np.zeros(0, object)
    multi = np.flatnonzero((member < n).sum(axis=1) > 1)
    units = case.control_units
    if len(multi) == 0 or len(units) == 0:
        return out
    used = np.unique(member[multi][member[multi] < n])
    pi, uj, ua = overlap_areas(geoms[used], _geoms(units))
    pos = np.full(n + 1, -1, dtype=np.int64)
    pos[used] = np.arange(len(used))
    rows = np.repeat(multi, member.shape[1])
    mem = member[multi].ravel()
    real = mem < n
    frame = pd.DataFrame({"b": rows[real], "q": pos[mem[real]]})
    pairs = pd.DataFrame({"q": pi, "u": uj, "a": ua})
    merged = frame.merge(pairs, on="q")
    if merged.empty:
        return out
    agg = merged.groupby(["b", "u"], sort=False)["a"].sum().reset_index()
    uids = _text(units["unit_id"])
    agg["uid"] = uids[agg["u"].to_numpy()]
    agg = agg.sort_values(["b", "a", "uid"], ascending=[True, False, True]).drop_duplicates("b")
    out[agg["b"].to_numpy()] = agg["uid"].to_numpy()
    return out


def _summary(cands: Candidates, chunk: int = 256) -> pd.DataFrame:
    """Count (applicant, plot) pairs failing each reason, failing only it, and plots affected."""
    nf, n_p = len(cands.firm_ids), len(cands.plot_ids)
    pairs = np.zeros(len(REASON_CODES), dtype=np.int64)
    only = np.zeros(len(REASON_CODES), dtype=np.int64)
    plots_hit = np.zeros((len(REASON_CODES), n_p), dtype=bool)
    step = max(1, min(chunk, (20_000_000 // max(n_p, 1)) or 1))
    for s in range(0, nf, step):
        bits = cands.mask(np.arange(s, min(nf, s + step)))
        for k, code in enumerate(REASON_CODES):
            hit = (bits & BIT[code]) != 0
            pairs[k] += int(hit.sum())
            only[k] += int((bits == BIT[code]).sum())
            plots_hit[k] |= hit.any(axis=0)
    return pd.DataFrame(
        {
            "code": REASON_CODES,
            "pairs": pairs,
            "only": only,
            "plots": plots_hit.sum(axis=1),
        }
    ).set_index("code")
