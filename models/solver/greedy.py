"""A primal greedy plan built from the model data alone, without any LP.

At province scale (463k candidate pairs) the LP relaxation takes minutes, so a
run with a short limit needs a plan that does not wait for it. The greedy:

1. keeps every existing firm (``retain``; a firm that may leave also stays,
   which costs no relocation), except an occupant that may leave of a locked
   project's parcel;
2. reserves what the floors require (``class_floor``, ``service_floor``) from
   the caps: when that alone breaks a cap the greedy gives up (None);
3. places locked projects first, on their locked parcel (or their best one);
4. then serves firms in order of objective value per unit of the tightest
   resource they use (zone electricity and energy, energy intensity,
   province energy, unit emissions; shares of what is left after step 2):
   an existing firm grows its output up to what its request, growth, class
   cap and the caps allow; an applicant takes, among its candidate parcels
   whose plots are all free, the one carrying the most output under the caps
   (the smaller parcel on a tie), if that output covers its class floor.

It stops when nothing more fits. Output values are the greedy's own; the
caller fixes the admissions and re-optimises the outputs with
:func:`models.solver.start._fixed_plan`, which also checks the plan against
every row of the built model (rows the greedy does not know, such as an
objective floor, make that check fail, and then there is no greedy plan).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from models.allocation import Built

SAFETY = 1e-9
"""Relative margin kept below every cap, so that the rows hold after rounding."""


@dataclass
class GreedyPlan:
    """Admissions and outputs of a greedy plan (aligned with the model data)."""

    y: np.ndarray
    """Served flags per firm (0/1)."""
    x: np.ndarray
    """Chosen candidate pairs (0/1, aligned with ``data.cand_firm``)."""
    o: np.ndarray
    """Output per firm (万元 value added)."""


class _Caps:
    """What is left of every shared cap, and how much of it a unit of output uses."""

    def __init__(self, built: Built) -> None:
        d, p = built.data, built.params
        inf = np.inf

        def cap(on: bool, values: np.ndarray) -> np.ndarray:
            v = np.asarray(values, float)
            return np.where(on & np.isfinite(v), v, inf)

        self.el = cap(p.on("zone_electricity"), d.zone_electricity_cap_mwh)
        self.en = cap(p.on("zone_energy"), d.zone_energy_cap_tce)
        kappa = np.asarray(d.zone_intensity_cap_tce_per_wan, float)
        self.kappa_on = p.on("energy_intensity") & np.isfinite(kappa)
        self.kappa = np.where(self.kappa_on, kappa, 0.0)
        self.intensity = np.where(self.kappa_on, 0.0, inf)
        prov = float(d.province_energy_cap_tce)
        self.prov = prov if p.on("province_energy") and np.isfinite(prov) else inf
        self.em = cap(p.on("unit_emissions"), d.unit_emission_cap_t).reshape(d.n_units, -1)
        self.f_el = np.asarray(d.el, float)
        self.f_en = np.asarray(d.en, float)
        self.f_em = np.asarray(d.em, float).reshape(d.n_firms, -1)

    def use(self, f: np.ndarray, z: np.ndarray, u: np.ndarray, q: np.ndarray) -> None:
        """Take outputs ``q`` of firms ``f`` counted in zones ``z`` and units ``u`` (-1: none)."""
        inz = z >= 0
        np.subtract.at(self.el, z[inz], (self.f_el[f] * q)[inz])
        np.subtract.at(self.en, z[inz], (self.f_en[f] * q)[inz])
        over = (self.f_en[f] - self.kappa[np.maximum(z, 0)]) * q
        np.subtract.at(self.intensity, z[inz], over[inz])
        self.prov -= float(self.f_en[f] @ q)
        inu = u >= 0
        for k in range(self.em.shape[1]):
            np.subtract.at(self.em[:, k], u[inu], (self.f_em[f, k] * q)[inu])

    def broken(self) -> bool:
        """Return True when some cap is already exceeded."""
        parts = [self.el, self.en, self.intensity, self.em.ravel(), np.array([self.prov])]
        return any((v < -1e-9 * np.maximum(1.0, np.abs(v))).any() for v in parts)

    def room(self, f: np.ndarray, z: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Return the most output each of firms ``f`` may add in zone ``z``, unit ``u``."""
        q = np.full(len(f), np.inf)
        zz = np.maximum(z, 0)
        inz = z >= 0

        def limit(left: np.ndarray, per: np.ndarray, where: np.ndarray) -> None:
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.where(per > 0, np.maximum(left, 0.0) / per, np.inf)
            np.minimum(q, np.where(where, r, np.inf), out=q)

        limit(self.el[zz], self.f_el[f], inz)
        limit(self.en[zz], self.f_en[f], inz)
        limit(self.intensity[zz], self.f_en[f] - self.kappa[zz], inz & self.kappa_on[zz])
        limit(np.full(len(f), self.prov), self.f_en[f], np.ones(len(f), bool))
        uu = np.maximum(u, 0)
        for k in range(self.em.shape[1]):
            limit(self.em[uu, k], self.f_em[f, k], u >= 0)
        return np.where(np.isfinite(q), q * (1.0 - SAFETY), q)

    def room_at(self, f: int) -> tuple[np.ndarray, np.ndarray]:
        """Return the most output firm ``f`` may add in each zone and in each unit.

        Both arrays have one more entry, at index -1, for "no zone" ("no unit").
        """
        inf = np.inf
        prov = max(self.prov, 0.0) / self.f_en[f] if self.f_en[f] > 0 else inf
        rz = np.full(len(self.el) + 1, prov)
        zones = rz[:-1]
        for left, per in ((self.el, self.f_el[f]), (self.en, self.f_en[f])):
            if per > 0:
                np.minimum(zones, np.maximum(left, 0.0) / per, out=zones)
        per_z = self.f_en[f] - self.kappa
        hit = self.kappa_on & (per_z > 0)
        if hit.any():
            zones[hit] = np.minimum(zones[hit], np.maximum(self.intensity[hit], 0.0) / per_z[hit])
        ru = np.full(self.em.shape[0] + 1, inf)
        units = ru[:-1]
        for k in range(self.em.shape[1]):
            per = self.f_em[f, k]
            if per > 0:
                np.minimum(units, np.maximum(self.em[:, k], 0.0) / per, out=units)
        return rz * (1.0 - SAFETY), ru * (1.0 - SAFETY)

    def room_one(self, f: int, z: int, u: int) -> float:
        """:meth:`room` for one firm (plain floats: the loop over existing firms)."""
        q = max(self.prov, 0.0) / self.f_en[f] if self.f_en[f] > 0 else np.inf
        if z >= 0:
            for left, per in (
                (self.el[z], self.f_el[f]),
                (self.en[z], self.f_en[f]),
                (self.intensity[z], self.f_en[f] - self.kappa[z]),
            ):
                if per > 0:
                    q = min(q, max(float(left), 0.0) / per)
        if u >= 0:
            for left, per in zip(self.em[u], self.f_em[f], strict=True):
                if per > 0:
                    q = min(q, max(float(left), 0.0) / per)
        return float(q * (1.0 - SAFETY))

    def use_one(self, f: int, z: int, u: int, q: float) -> None:
        """:meth:`use` for one firm."""
        if z >= 0:
            self.el[z] -= self.f_el[f] * q
            self.en[z] -= self.f_en[f] * q
            self.intensity[z] -= (self.f_en[f] - self.kappa[z]) * q
        self.prov -= self.f_en[f] * q
        if u >= 0:
            self.em[u] -= self.f_em[f] * q

    def tightness(self, f: np.ndarray, z: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Share of the tightest cap one unit of output of firm ``f`` in (z, u) uses."""
        room = self.room(f, z, u)
        with np.errstate(divide="ignore"):
            return np.where(room > 0, 1.0 / room, np.inf)


def _value_per_output(built: Built) -> np.ndarray:
    """Objective coefficient (万元 per 万元 of output) of each firm's output ``o_f``."""
    # from the build's own arrays (maximised): no PuLP problem is made for this
    m = built.matrix()
    at = m.col_of[np.asarray(built.o_col, dtype=np.int64)]
    return np.where(at >= 0, m.cost[np.maximum(at, 0)], 0.0).astype(float)


def greedy_plan(built: Built, deadline: float = float("inf")) -> GreedyPlan | None:
    """Return a plan built by the greedy of the module docstring, or None.

    None when the floors or locks cannot be met this way (nothing else is
    tried: the caller then goes on without a greedy plan). The plan meets
    ``plot_once``, ``one_parcel``, ``retain``, ``locked``, the output bounds,
    the floors and every cap family that is switched on; rows the greedy does
    not know are left to the caller's check. At ``deadline``
    (``time.perf_counter()``) the firms not yet reached keep their floor output
    (applicants: not admitted), which is still a plan.
    """
    d, p = built.data, built.params
    n_f = d.n_firms
    app = np.asarray(d.firm_applicant, bool)
    may_exit = np.asarray(d.may_exit, bool)
    locked = np.asarray(d.locked, bool)
    locked_parcel = np.asarray(d.locked_parcel, np.int64)
    cls = np.asarray(d.firm_class, np.int64)
    oreq = np.asarray(d.oreq, float)
    o0 = np.asarray(d.o0, float)
    cf = np.asarray(d.cand_firm, np.int64)
    cb = np.asarray(d.cand_parcel, np.int64)
    ptr = np.asarray(d.parcel_ptr, np.int64)
    pplot = np.asarray(d.parcel_plot, np.int64)
    occ = np.asarray(d.plot_occupant, np.int64)
    cz = np.asarray(d.parcel_zone, np.int64)[cb]
    cu = np.asarray(d.parcel_unit, np.int64)[cb]
    area = np.asarray(d.parcel_area_mu, float)[cb]
    cap_c = np.minimum(oreq[cf], np.asarray(d.va_mu, float)[cf] * area)
    value = _value_per_output(built)

    # output bounds and floors per firm
    ub = np.minimum(oreq, np.asarray(d.growth_cap, float) * o0)
    if p.on("class_cap"):
        psi = np.asarray(p.class_cap, float)[cls]
        ub = np.where(
            ~app & np.isfinite(psi), np.minimum(ub, np.where(np.isfinite(psi), psi, 0.0) * o0), ub
        )
    floor = np.zeros(n_f)
    if p.on("class_floor"):
        floor = np.asarray(p.class_floor, float)[cls] * oreq
    if p.on("service_floor"):
        floor = np.where(app, floor, np.maximum(floor, float(p.service_floor) * o0))

    y = np.where(app, 0.0, 1.0)
    x = np.zeros(len(cf))
    o = np.zeros(n_f)
    used = np.zeros(d.n_plots, bool)
    c_order = np.argsort(cf, kind="stable")
    c_ptr = np.zeros(n_f + 1, np.int64)
    np.cumsum(np.bincount(cf, minlength=n_f), out=c_ptr[1:])

    def plots_of(c: int) -> np.ndarray:
        return pplot[ptr[cb[c]] : ptr[cb[c] + 1]]

    # locked projects' parcels: an occupant that may leave does; one that may not blocks
    lock_c = np.full(n_f, -1, np.int64)
    for f in np.flatnonzero(app & locked & (locked_parcel >= 0)):
        cs = c_order[c_ptr[f] : c_ptr[f + 1]]
        hit = cs[cb[cs] == locked_parcel[f]]
        if not len(hit):
            return None
        lock_c[f] = hit[0]
        o_ = occ[plots_of(int(hit[0]))]
        o_ = o_[o_ >= 0]
        if not (may_exit[o_] & ~locked[o_]).all():
            return None
        y[o_] = 0.0
    stays = ~app & (y > 0.5)
    if (floor[stays] > ub[stays] * (1 + 1e-9)).any():
        return None
    used[(occ >= 0)] = y[np.maximum(occ, 0)][occ >= 0] > 0.5

    caps = _Caps(built)
    firm_zone = np.asarray(d.firm_zone, np.int64)
    firm_unit = np.asarray(d.firm_unit, np.int64)
    ex = np.flatnonzero(stays)
    o[ex] = floor[ex]
    caps.use(ex, firm_zone[ex], firm_unit[ex], o[ex])
    if caps.broken():
        return None

    # the plots of every candidate, candidates in firm order
    lens = ptr[cb[c_order] + 1] - ptr[cb[c_order]]
    e_ptr = np.zeros(len(cf) + 1, np.int64)
    np.cumsum(lens, out=e_ptr[1:])
    e_plot = pplot[
        np.repeat(ptr[cb[c_order]], lens) + (np.arange(e_ptr[-1]) - np.repeat(e_ptr[:-1], lens))
    ]

    def place(f: int, only: int = -1, must: bool = False) -> bool:
        """Put applicant ``f`` on its free candidate carrying the most output (``only``: that one).

        On a tie the smaller parcel (land for others). ``must`` (a locked project,
        or the last pass): admitted even when the caps leave it no output, on the
        parcel of largest capacity among the best.
        """
        a, b = c_ptr[f], c_ptr[f + 1]
        if a == b:
            return False
        blocked = np.logical_or.reduceat(used[e_plot[e_ptr[a] : e_ptr[b]]], e_ptr[a:b] - e_ptr[a])
        cs = c_order[a:b][~blocked]
        if only >= 0:
            cs = cs[cs == only]
        if not len(cs):
            return False
        rz, ru = caps.room_at(f)
        q = np.minimum(cap_c[cs], np.minimum(rz[cz[cs]], ru[cu[cs]]))
        ok = q >= floor[f] * (1 + 1e-9) if floor[f] > 0 else (q > 0) | must
        if not ok.any():
            return False
        cs, q = cs[ok], q[ok]
        best = np.lexsort((-cap_c[cs] if must else area[cs], -q))[0]
        c = int(cs[best])
        used[plots_of(c)] = True
        x[c] = 1.0
        y[f] = 1.0
        o[f] = q[best]
        caps.use_one(f, int(cz[c]), int(cu[c]), float(q[best]))
        return True

    for f in np.flatnonzero(app & locked):
        if not place(int(f), int(lock_c[f]), must=True):
            return None

    # order: value per unit of the tightest cap (an applicant at its best candidate)
    tight = np.full(n_f, np.inf)
    tight[ex] = caps.tightness(ex, firm_zone[ex], firm_unit[ex])
    if len(cf):
        t_c = caps.tightness(cf, cz, cu)
        np.minimum.at(tight, cf, t_c)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(tight > 0, value / tight, np.where(value > 0, np.inf, 0.0))
    todo = np.flatnonzero((value > 0) & ((app & (y < 0.5)) | (stays & (ub > o))))
    todo = todo[np.argsort(-score[todo], kind="stable")]
    for i, f in enumerate(todo):
        if i % 1024 == 1023 and time.perf_counter() > deadline:
            todo = todo[:i]  # the firms not reached keep what they have: still a plan
            break
        if app[f]:
            place(int(f))
            continue
        z, u = int(firm_zone[f]), int(firm_unit[f])
        q = min(float(ub[f] - o[f]), caps.room_one(int(f), z, u))
        if q > 0:
            o[f] += q
            caps.use_one(int(f), z, u, q)
    # last pass: applicants the caps left without output still get free land (at no
    # output, when no floor asks for one): re-optimising the outputs may use them
    for f in todo[app[todo] & (y[todo] < 0.5) & (floor[todo] <= 0)]:
        place(int(f), must=True)
    return GreedyPlan(y=y, x=x, o=o)
