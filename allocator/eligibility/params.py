"""Scenario parameters of eligibility and of bundle adjacency."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EligibilityParams:
    """Scenario parameters of eligibility (MODEL.md) and of bundle adjacency."""

    redline_threshold: float = 0.0
    """Largest red-line share a plot may have (0: any overlap excludes)."""
    redline_buffer_m: float = 0.0
    """Grow the dissolved red line by this many metres first."""
    catalogue: bool = False
    """Apply the zones' 招商 catalogues (一区一策)."""
    bundle_size: int = 3
    """Largest number of adjacent plots in one parcel (k)."""
    leaving_firms: frozenset[str] = frozenset()
    """Existing firms whose occupied plots are offered (they may leave)."""
    adjacency_tolerance_m: float = 1.0
    """Plots at most this far apart may be adjacent (see :mod:`allocator.parcels`)."""
    min_shared_edge_m: float = 5.0
    """…when they share at least this much boundary (metres)."""
