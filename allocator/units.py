"""Unit constants and conversions; names carry their units.

Internal units (MODEL.md): land in mu, money in 万元, electricity in MWh,
energy in tce, emissions in t/yr.
"""

from __future__ import annotations

M2_PER_MU: float = 10_000.0 / 15.0
"""1 mu = 10000/15 m² ≈ 666.67 m²."""
MU_PER_KM2: float = 1_500.0
"""1 km² = 1,500 mu."""
MWH_PER_WAN_KWH: float = 10.0
"""1 万kWh = 10 MWh."""
TCE_PER_MWH_CALORIFIC: float = 0.1229
"""Electricity to standard coal at 当量值 (calorific equivalent): 0.1229 kgce/kWh (GB/T 2589)."""
TCE_PER_MWH_EQUIVALENT: float = 0.30
"""Electricity to standard coal at 等价值: a typical year's figure (0.28–0.31, region and year
specific); methods and scenarios set their own, this is only the default."""
REVENUE_ABOVE_SIZE_WAN: float = 2_000.0
"""规上 threshold: annual main-business revenue ≥ 2,000 万元 (national statistical rule)."""


def m2_to_mu(area_m2: float) -> float:
    """Convert square metres to mu."""
    return area_m2 / M2_PER_MU


def mu_to_m2(area_mu: float) -> float:
    """Convert mu to square metres."""
    return area_mu * M2_PER_MU


def mu_to_km2(area_mu: float) -> float:
    """Convert mu to km²."""
    return area_mu / MU_PER_KM2


def km2_to_mu(area_km2: float) -> float:
    """Convert km² to mu."""
    return area_km2 * MU_PER_KM2


def wan_kwh_to_mwh(energy_wan_kwh: float) -> float:
    """Convert 万kWh to MWh."""
    return energy_wan_kwh * MWH_PER_WAN_KWH


def mwh_to_tce(electricity_mwh: float, tce_per_mwh: float) -> float:
    """Convert electricity to standard coal at a given coefficient (tce/MWh).

    The coefficient is a scenario setting: 0.1229 at 当量值 (calorific), about
    0.28–0.31 at the year's 等价值; reports must say which basis was used.
    """
    return electricity_mwh * tce_per_mwh


# ----------------------------------------------------------------------------- display

_DISPLAY: dict[str, tuple[float, str, str]] = {
    # internal unit: (factor to the planner's unit, zh label, en label)
    "tce": (1.0, "吨标准煤", "tce"),
    "MWh": (1.0 / MWH_PER_WAN_KWH, "万千瓦时", "10⁴ kWh"),
    "t": (1.0, "吨", "t"),
    "万元": (1.0, "万元", "万元"),
    "亩": (1.0, "亩", "mu"),
    "mu": (1.0, "亩", "mu"),
    "firm": (1.0, "家企业", "firm(s)"),
    "plot": (1.0, "块地块", "plot(s)"),
    "parcel": (1.0, "宗地", "parcel(s)"),
}
"""How each internal unit is shown to a planner: electricity in 万千瓦时, energy in 吨标准煤."""

_LARGE: dict[str, tuple[float, str, str]] = {
    "tce": (10_000.0, "万吨标准煤", "10⁴ tce"),
    "万元": (10_000.0, "亿元", "亿元"),
}
"""Above this many planner units a figure is shown in the larger unit (万吨, 亿元)."""


def planner_unit(unit: str, lang: str | None = "zh") -> tuple[float, str]:
    """Return ``(factor, label)``: internal ``unit`` × factor is the planner's unit, so labelled.

    The fixed part of the display rule, for columns and KPI tables whose
    header names one unit for every row (MWh → 万千瓦时, × 0.1); it never
    switches to the larger unit. An unknown unit is kept as given.
    """
    zh = not str(lang or "zh").lower().startswith("en")
    factor, label_zh, label_en = _DISPLAY.get(unit, (1.0, unit, unit))
    return factor, label_zh if zh else label_en


def display_quantity(amount: float, unit: str, lang: str = "zh") -> tuple[float, str]:
    """Return ``amount`` (in the internal ``unit``) in the planner's unit and that unit's label.

    The one rule for units shown to people (app, CLI, exports): MWh become
    万千瓦时 (1 万kWh = 10 MWh), tce 吨标准煤 and 万元 stay, and from 10,000 of
    them on they become 万吨标准煤 and 亿元. An unknown unit is kept as given.
    """
    zh = not str(lang).lower().startswith("en")
    factor, label_zh, label_en = _DISPLAY.get(unit, (1.0, unit, unit))
    value = float(amount) * factor
    large = _LARGE.get(unit)
    if large is not None and abs(value) >= large[0]:
        value, label_zh, label_en = value / large[0], large[1], large[2]
    return value, label_zh if zh else label_en


def format_quantity(amount: float, unit: str, lang: str = "zh") -> str:
    """Return ``amount`` as planner text with thousands separators and its unit ("7,680 吨标准煤").

    NaN or infinite amounts are shown as an em dash.
    """
    import math

    if amount is None or not math.isfinite(float(amount)):
        return "—"
    value, label = display_quantity(amount, unit, lang)
    if abs(value) >= 100 or float(value).is_integer():
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.3g}" if abs(value) >= 1 else f"{value:.3g}"
    sep = "" if label in ("家企业", "块地块", "宗地") else " "
    return f"{text}{sep}{label}" if label else text


def display_rate(value: float, unit: str, lang: str = "zh") -> tuple[float, str]:
    """Return a rate such as 万元/MWh (a marginal value) per the planner's unit of its denominator.

    ``万元/MWh`` becomes 万元 per 万千瓦时 (× 10), ``万元/tce`` 万元 per 吨标准煤;
    the numerator is kept. A unit without ``/`` goes through :func:`display_quantity`.
    """
    if "/" not in unit:
        return display_quantity(value, unit, lang)
    top, bottom = unit.split("/", 1)
    factor, label_zh, label_en = _DISPLAY.get(bottom, (1.0, bottom, bottom))
    zh = not str(lang).lower().startswith("en")
    top_label = _DISPLAY.get(top, (1.0, top, top))[1 if zh else 2]
    return float(value) / factor, f"{top_label}/{label_zh if zh else label_en}"
