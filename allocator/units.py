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
