"""Industry × (unit, land use, zone) tables from the access, land-use and 招商 rules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from allocator.eligibility._arrays import _text
from allocator.industry import catalogue_prefixes, in_catalogue, matches_prefix


@dataclass
class Rules:
    """Industry × (unit, land use, zone) lookup tables built from the case's rule tables."""

    industries: np.ndarray
    unit_ids: np.ndarray
    unit_categories: np.ndarray
    land_uses: np.ndarray
    zone_ids: np.ndarray
    prohibited: np.ndarray
    """(industries, units + 1) bool; last column: outside every unit."""
    restricted: np.ndarray
    admits: np.ndarray
    """(industries, land uses + 1) bool; last column: unknown land use."""
    in_catalogue: np.ndarray
    """(industries, zones + 1) bool: industry in the zone's catalogue (no catalogue: True)."""

    @classmethod
    def build(cls, case: Any, industries: Sequence[str]) -> Rules:
        """Build the tables for ``industries`` (GB/T 4754 codes or prefixes)."""
        inds = np.asarray([str(x) for x in industries], dtype=object)
        units = case.control_units
        uids = _text(units["unit_id"]) if len(units) else np.zeros(0, dtype=object)
        ucat = _text(units["category"]) if len(units) else np.zeros(0, dtype=object)
        upos = {u: k for k, u in enumerate(uids)}
        prohibited = np.zeros((len(inds), len(uids) + 1), dtype=bool)
        restricted = np.zeros_like(prohibited)
        rules = case.access_rules if case.access_rules is not None else pd.DataFrame()
        for row in rules.itertuples(index=False):
            scope, sid = str(row.scope).strip(), str(row.scope_id).strip()
            prefix, kind = str(row.industry_prefix).strip(), str(row.rule).strip()
            if scope == "unit":
                cols = [upos[sid]] if sid in upos else []
            else:
                cols = list(np.flatnonzero(ucat == sid))
            if not cols:
                continue
            hit = np.array([matches_prefix(c, prefix) for c in inds], dtype=bool)
            target = prohibited if kind == "prohibit" else restricted
            target[np.ix_(hit, np.asarray(cols, dtype=np.int64))] = True
        lu_rules = case.land_use_rules if case.land_use_rules is not None else pd.DataFrame()
        land_uses = np.asarray(
            sorted({*_text(case.plots["land_use"]), *_text(lu_rules.get("land_use", []))}),
            dtype=object,
        )
        lpos = {lu: k for k, lu in enumerate(land_uses)}
        if len(lu_rules) == 0:
            admits = np.ones((len(inds), len(land_uses) + 1), dtype=bool)
        else:
            admits = np.zeros((len(inds), len(land_uses) + 1), dtype=bool)
            for lu, prefix in zip(
                _text(lu_rules["land_use"]), _text(lu_rules["industry_prefix"]), strict=True
            ):
                hit = np.array([matches_prefix(c, prefix) for c in inds], dtype=bool)
                admits[hit, lpos[lu]] = True
        zids = _text(case.zones["zone_id"])
        in_cat = np.ones((len(inds), len(zids) + 1), dtype=bool)
        prefixes = catalogue_prefixes(case.catalogue)
        for k, z in enumerate(zids):
            if z in prefixes:
                in_cat[:, k] = [in_catalogue(c, z, prefixes) for c in inds]
        return cls(inds, uids, ucat, land_uses, zids, prohibited, restricted, admits, in_cat)

    def unit_index(self, unit_ids: Iterable[Any]) -> np.ndarray:
        """Map unit ids to columns (unknown or missing: the 'no unit' column)."""
        pos = {u: k for k, u in enumerate(self.unit_ids)}
        return np.array([pos.get(u, len(self.unit_ids)) for u in _text(unit_ids)], dtype=np.int64)

    def land_use_index(self, land_uses: Iterable[Any]) -> np.ndarray:
        """Map land uses to columns (unknown: the last column)."""
        pos = {u: k for k, u in enumerate(self.land_uses)}
        return np.array([pos.get(u, len(self.land_uses)) for u in _text(land_uses)], dtype=np.int64)

    def zone_index(self, zone_ids: Iterable[Any]) -> np.ndarray:
        """Map zone ids to columns (unknown: the last column)."""
        pos = {u: k for k, u in enumerate(self.zone_ids)}
        return np.array([pos.get(u, len(self.zone_ids)) for u in _text(zone_ids)], dtype=np.int64)


def industry_groups(case: Any) -> list[str]:
    """Return the GB/T 4754 divisions (letter + 2 digits) of the firms' and catalogue's codes.

    A division is checked as the code itself: a rule on a longer prefix (e.g.
    ``C2614`` within ``C26``) applies to part of the division only and is listed
    in the plot check's ``partly`` column instead of excluding the division.
    """
    groups: set[str] = set()
    for code in _text(case.firms["industry"]) if "industry" in case.firms else []:
        if code:
            groups.add(code[:3].upper())
    if case.catalogue is not None and len(case.catalogue):
        groups.update(p[:3].upper() for p in _text(case.catalogue["industry_prefix"]) if p)
    return sorted(groups)


def _applying_rules(case: Any, unit_id: str | None, category: Any) -> pd.DataFrame:
    """Return the access-list rules for a unit (scope unit) and its category (scope category)."""
    cols = ["scope", "scope_id", "industry_prefix", "rule", "note"]
    rules = case.access_rules
    if rules is None or len(rules) == 0 or unit_id is None:
        return pd.DataFrame(columns=cols)
    scope, sid = _text(rules["scope"]), _text(rules["scope_id"])
    cat = category if isinstance(category, str) else ""
    keep = ((scope == "unit") & (sid == unit_id)) | ((scope == "category") & (sid == cat))
    out = rules.loc[keep].copy()
    for c in cols:
        if c not in out:
            out[c] = None
    return out[cols].reset_index(drop=True)
