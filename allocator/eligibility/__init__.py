"""Spatial eligibility: red line, control units, access lists, candidate pairs, plot checks.

MODEL.md (section Eligibility) defines which (applicant, parcel) pairs become
model variables; this module computes them and keeps, for every rejected
(applicant, plot), the named reasons:

``redline``
    The plot's share of area inside the ecological protection red line
    (生态保护红线, all red-line polygons dissolved first so overlapping polygons
    are not counted twice, then grown by the scenario's buffer in metres) is
    **greater than** the threshold. At the default threshold 0 any overlap of
    positive area excludes; a plot that only *touches* the red line (shared
    edge or corner: share 0, distance 0) is eligible. That is deliberate:
    touching is not occupying, and a planner who wants a margin sets
    ``redline_buffer_m``.
``access_list``
    A ``prohibit`` rule of the 生态环境准入清单 matches the firm's GB/T 4754
    industry code by prefix (rule ``C26`` matches ``C2614``), for the plot's
    control unit (``scope = unit``) or for its unit's category
    (``scope = category``). ``restrict`` rules do **not** exclude: they are
    reported (``PlotCheck.industries["restricted"]``) because a restricted
    industry may enter under conditions (emission reduction, review) that the
    model cannot judge. A plot outside every control unit has no rule.
``land_use``
    The plot's land use admits the industry: some ``land_use_rules`` row for
    the plot's land use has a prefix of the industry code. A land use with no
    row admits nothing; an empty ``land_use_rules`` table means no land-use
    restriction at all.
``catalogue``
    Only when ``EligibilityParams.catalogue``: the industry matches a prefix of
    the zone's 招商 catalogue (一区一策). A zone without catalogue rows is not
    restricted (it has published none).
``status``
    The plot is ``vacant`` or ``idle``, or ``occupied`` by a firm in
    ``leaving_firms``.
``zone``
    The plot's zone is among the firm's ``candidate_zones`` (empty: any zone).
``size``
    The parcel's area lies in ``[land_min_mu, land_max_mu]`` (missing: 0 / no
    upper bound). At plot level a plot fails ``size`` when it is larger than
    ``land_max_mu``, or smaller than ``land_min_mu`` and in no candidate bundle
    of that firm.

Geometry is in EPSG:4549; areas in mu. Every overlay is vectorised with
Shapely 2 array functions and ``STRtree.query`` pairs: the tree is built on
the few large polygons (red-line parts, control units) and queried with all
plots; a plot lying properly inside a polygon takes its whole area without an
intersection, so only boundary plots pay for one.

Control units: the unit holding most of a plot's area is its ``unit_id`` (ties:
the smaller ``unit_id``); ``unit_ids`` lists every unit sharing positive area
with the plot. ``in_zone`` is True when the plot lies within its zone's polygon
grown by ``ZONE_TOLERANCE_M`` (1 m, for digitising noise); a False is a
validation warning, not a reason. ``redline_distance_m`` is the distance to the
unbuffered red line (0 when touching or overlapping), exact up to
``distance_cap_m`` (default 500 m) and NaN beyond it, because an exact nearest
search for a million plots costs far more than the rest of the overlay; pass
``distance_cap_m=None`` for exact distances everywhere. The plot check always
computes the exact distance.

The package is split by concern: :mod:`~allocator.eligibility.overlays` (red line,
control units, zones), :mod:`~allocator.eligibility.rules` (access list, land
use, catalogue tables), :mod:`~allocator.eligibility.candidates` (parcels,
bundles, pairs), :mod:`~allocator.eligibility.plotcheck` (``check_plot``,
``check_plots``) and :mod:`~allocator.eligibility.reasons` (codes and texts).
"""

from __future__ import annotations

from allocator.eligibility.candidates import (
    LOCKED_COLUMNS,
    LOCKED_PREFIX,
    Candidates,
    build_candidates,
    plot_set_units,
)
from allocator.eligibility.overlays import (
    DISTANCE_CAP_M,
    OVERLAY_COLUMNS,
    ZONE_TOLERANCE_M,
    overlap_areas,
    overlay_geometries,
    plot_overlays,
    redline_distance,
    redline_parts,
)
from allocator.eligibility.params import EligibilityParams
from allocator.eligibility.plotcheck import PlotCheck, check_plot, check_plots
from allocator.eligibility.reasons import BIT, REASON_CODES, decode, reason_text
from allocator.eligibility.rules import Rules, industry_groups

__all__ = [
    "BIT",
    "DISTANCE_CAP_M",
    "LOCKED_COLUMNS",
    "LOCKED_PREFIX",
    "OVERLAY_COLUMNS",
    "REASON_CODES",
    "ZONE_TOLERANCE_M",
    "Candidates",
    "EligibilityParams",
    "PlotCheck",
    "Rules",
    "build_candidates",
    "check_plot",
    "check_plots",
    "decode",
    "industry_groups",
    "overlap_areas",
    "overlay_geometries",
    "plot_overlays",
    "plot_set_units",
    "reason_text",
    "redline_distance",
    "redline_parts",
]
