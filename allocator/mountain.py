"""山区26县: which firms and projects count as the mountain counties', and the reserve.

The policy (浙政办发〔2023〕3号) asks the zones to cooperate with the 山区26县
(山区26县开放平台共建). The case holds the dated membership (``county_lists``:
``county``, ``list_name``, ``valid_from``, ``valid_to``); a firm counts as a
26县 firm when

- its optional ``partner_county`` (the 26县 county it comes from or partners
  with under 共建) is a member on the reference date (basis ``partner``), or
- it is an existing firm in a zone whose ``county`` is a member (basis ``zone``);

and an admitted project counts when its firm does or its parcel lies in such a
zone. :func:`mountain_model_inputs` gives the ``mountain_land`` /
``mountain_energy`` families their arrays: the reserve is land (亩) of the
province's open land and energy (tce) of its energy quota that the other users
may not take (left to the 26县 users, or free).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from allocator.errors import ScenarioError
from allocator.i18n import t


def _dates(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, errors="coerce")


def reference_date(county_lists: pd.DataFrame, list_name: str, as_of: str | None) -> pd.Timestamp:
    """Return the date the membership is read on: ``as_of``, else the list's latest change.

    The latest ``valid_from`` or ``valid_to`` of ``list_name`` is the list as the
    case last knows it (deterministic for a case, unlike today's date).
    """
    if as_of:
        when = pd.to_datetime(as_of, errors="coerce")
        if pd.isna(when):
            raise ScenarioError(
                t("mountain.error.bad_date", value=as_of), hint=t("mountain.error.bad_date_hint")
            )
        return pd.Timestamp(when)
    rows = county_lists[county_lists["list_name"].astype(str) == list_name]
    stamps = pd.concat([_dates(rows["valid_from"]), _dates(rows["valid_to"])]).dropna()
    return pd.Timestamp(stamps.max()) if len(stamps) else pd.Timestamp("1900-01-01")


def member_counties(
    county_lists: pd.DataFrame | None, list_name: str = "山区26县", as_of: str | None = None
) -> frozenset[str]:
    """Counties on ``list_name`` on the reference date (:func:`reference_date`).

    A row is in force from ``valid_from`` (inclusive) to ``valid_to`` (exclusive;
    empty = still in force).
    """
    if county_lists is None or not len(county_lists):
        return frozenset()
    when = reference_date(county_lists, list_name, as_of)
    rows = county_lists[county_lists["list_name"].astype(str) == list_name]
    start = _dates(rows["valid_from"])
    end = _dates(rows["valid_to"])
    live = (start <= when) & (end.isna() | (end > when))
    return frozenset(str(c) for c in rows.loc[live, "county"])


def mountain_flags(case: Any, scenario: Any) -> tuple[pd.DataFrame, np.ndarray]:
    """Mark the case's firms and zones as 山区26县 on the scenario's reference date.

    Returns ``(firms, zone_flag)``: ``firms`` aligned with ``case.firms`` with
    ``mountain_26`` (bool) and ``mountain_basis`` (``partner``, ``zone`` or
    None); ``zone_flag`` (Z,) True where the zone's ``county`` is a member.
    """
    members = member_counties(
        getattr(case, "county_lists", None),
        str(scenario["mountain.list_name"]),
        scenario.get("mountain.as_of"),
    )
    zones = case.zones.reset_index(drop=True)
    county = zones["county"] if "county" in zones else pd.Series([None] * len(zones))
    zone_flag = county.map(lambda c: isinstance(c, str) and c in members).to_numpy(dtype=bool)
    zone_of = dict(zip(zones["zone_id"].astype(str), zone_flag, strict=True))
    firms = case.firms.reset_index(drop=True)
    partner = (
        firms["partner_county"] if "partner_county" in firms else pd.Series([None] * len(firms))
    )
    by_partner = partner.map(lambda c: isinstance(c, str) and c in members).to_numpy(dtype=bool)
    existing = firms["kind"].astype(str).to_numpy() == "existing"
    by_zone = existing & firms["zone_id"].map(lambda z: bool(zone_of.get(str(z), False))).to_numpy(
        dtype=bool
    )
    basis = np.full(len(firms), None, dtype=object)
    basis[by_zone] = "zone"
    basis[by_partner] = "partner"
    out = pd.DataFrame(
        {
            "firm_id": firms["firm_id"].astype(str).to_numpy(),
            "mountain_26": by_partner | by_zone,
            "mountain_basis": basis,
        }
    )
    return out, zone_flag


def mountain_model_inputs(
    case: Any,
    scenario: Any,
    open_plot: np.ndarray,
    plot_area_mu: np.ndarray,
    energy_quota_tce: float,
) -> dict[str, Any]:
    """Return the ``ModelData`` fields of ``mountain_land`` / ``mountain_energy``.

    The flags are always given (reports mark 26县 firms and projects); the
    reserves only where their family is on, each needing its amount
    (``mountain.reserve_mu``, ``mountain.reserve_tce``). The open land is the
    area of the plots ``open_plot`` marks (vacant or idle, not excluded by the
    red line: land a project may take); the energy quota is the province
    cap, else the sum of the finite zone caps (``energy_quota_tce``; an energy
    reserve without any finite energy cap is refused).
    """
    flags, zone_flag = mountain_flags(case, scenario)
    out: dict[str, Any] = {
        "firm_mountain": flags["mountain_26"].to_numpy(dtype=bool),
        "zone_mountain": zone_flag,
    }
    reserves = (
        ("mountain_land", "mountain.reserve_mu"),
        ("mountain_energy", "mountain.reserve_tce"),
    )
    for switch, key in reserves:
        if bool(scenario[f"switches.{switch}"]) and scenario.get(key) is None:
            raise ScenarioError(
                t("mountain.error.no_reserve", name=scenario.name, switch=switch, param=key),
                hint=t("mountain.error.no_reserve_hint", param=key),
            )
    if bool(scenario["switches.mountain_land"]):
        free = np.asarray(open_plot, dtype=bool)
        out["mountain_reserve_mu"] = float(scenario["mountain.reserve_mu"])
        out["mountain_open_land_mu"] = float(np.asarray(plot_area_mu, float)[free].sum())
    if bool(scenario["switches.mountain_energy"]):
        if not math.isfinite(energy_quota_tce):
            raise ScenarioError(
                t("mountain.error.no_quota", name=scenario.name),
                hint=t("mountain.error.no_quota_hint"),
            )
        out["mountain_reserve_tce"] = float(scenario["mountain.reserve_tce"])
        out["mountain_energy_tce"] = float(energy_quota_tce)
    return out
