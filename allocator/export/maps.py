"""Static maps (PNG at 200 dpi and vector PDF) drawn with matplotlib.

- Province overview: zones over the case's city/county boundaries (``admin``
  layer, when the case has one), zone ids labelled.
- One map per zone: plots coloured by outcome (kept / new project / freed /
  vacant / excluded by red line), the red line hatched, zone boundary, legend,
  scale bar in metres (EPSG:4549 is metric), north arrow, title with scenario
  and date, source line.

All text is set in the shipped CJK font (:mod:`allocator.export.fonts`),
registered with matplotlib's font manager when this module is imported; the
settings apply only inside this module's ``rc_context``.
"""

from __future__ import annotations

import io
import math
import struct
import zlib
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg", force=False)

import matplotlib.patches as mpatches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from allocator.export import fonts  # noqa: E402
from allocator.export.data import (  # noqa: E402
    OUTCOME_COLORS,
    OUTCOMES,
    REDLINE_COLOR,
    ExportData,
    outcome_label,
    outcomes_present,
)
from allocator.i18n import t  # noqa: E402
from allocator.safety import safe_filename  # noqa: E402

CJK_FAMILY = fonts.register_cjk_font()
DPI = 200
ZONE_EDGE = "#1f3b73"
ADMIN_EDGE = "#8c8c8c"
ADMIN_SIMPLIFY_M = 100.0
"""Boundaries on the province overview are simplified to 100 m (well under a pixel)."""
FIGSIZE = (8.27, 7.0)  # A4 width; the square map fills MAP_RECT
MAP_RECT = (0.04, 0.07, 0.72, 0.85)  # 0.72 × 8.27 in = 0.85 × 7.0 in: no blank band


def compound_path(geoms: Any) -> MplPath | None:
    """Return one matplotlib path of all the (multi)polygons in ``geoms``, holes included.

    Polygons are oriented first (exteriors counter-clockwise, holes clockwise), so
    that under the non-zero fill rule of Agg and PDF holes stay open and
    polygons that touch or overlap fill as their union. One path per style
    instead of one per plot: the PDF map writes a few paths instead of
    thousands, and Agg draws it in one pass (about half the time of a map).
    """
    import shapely

    arr = np.asarray(list(geoms), dtype=object)
    arr = arr[~shapely.is_missing(arr)] if len(arr) else arr
    if not len(arr):
        return None
    parts = shapely.get_parts(shapely.orient_polygons(arr))
    parts = parts[~shapely.is_empty(parts)]
    rings = shapely.get_rings(parts)
    xy, which = shapely.get_coordinates(rings, return_index=True)
    if not len(xy):
        return None
    counts = np.bincount(which, minlength=len(rings))
    counts = counts[counts > 0]
    ends = np.cumsum(counts)
    codes = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
    codes[ends - counts] = MplPath.MOVETO
    codes[ends - 1] = MplPath.CLOSEPOLY
    return MplPath(xy, codes)


def add_polygons(ax: Any, geoms: Any, **style: Any) -> None:
    """Draw (multi)polygons as one path (GeoDataFrame.plot redraws the figure each time)."""
    path = compound_path(geoms)
    if path is not None:
        ax.add_collection(PathCollection([path], **style), autolim=False)


def _latin(text: str) -> str:
    """Font family for ``text``: DejaVu Sans when it is plain ASCII (ids, numbers), else CJK.

    Laying out a string in the 19 MB CJK collection costs ~3 ms; ids and numbers
    are most of a map's labels.
    """
    return "DejaVu Sans" if text.isascii() else CJK_FAMILY


def _nice_length(span_m: float) -> float:
    """Return a round scale-bar length close to a quarter of ``span_m``."""
    target = max(span_m / 4.0, 1.0)
    exp = 10 ** math.floor(math.log10(target))
    for step in (5, 2, 1):
        if step * exp <= target:
            return float(step * exp)
    return float(exp)


def add_scale_bar(ax: Any, lang: str) -> None:
    """Draw a two-segment scale bar in the lower left, labelled in m or km."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    bx = x0 + 0.05 * (x1 - x0)
    by = y0 + 0.05 * (y1 - y0)
    h = 0.012 * (y1 - y0)
    ax.add_patch(
        mpatches.Rectangle(
            (bx - 0.02 * (x1 - x0), by - 0.015 * (y1 - y0)),
            length + 0.09 * (x1 - x0),
            h + 0.05 * (y1 - y0),
            facecolor="white",
            edgecolor="none",
            alpha=0.85,
            zorder=19,
        )
    )
    for k, color in enumerate(("black", "white")):
        ax.add_patch(
            mpatches.Rectangle(
                (bx + k * length / 2, by),
                length / 2,
                h,
                facecolor=color,
                edgecolor="black",
                lw=0.8,
                zorder=20,
            )
        )
    if length >= 1000:
        text = f"{length / 1000:g} {t('export.map.km', lang)}"
        mid = f"{length / 2000:g}"
    else:
        text = f"{length:g} {t('export.map.metres', lang)}"
        mid = f"{length / 2:g}"
    ticks = [(bx, "0"), (bx + length / 2, mid), (bx + length, text)]
    bar_in = length / (x1 - x0) * ax.get_position().width * ax.figure.get_figwidth()
    if bar_in < 1.2:  # too short for three labels: keep 0 and the length
        del ticks[1]
    for x, s in ticks:
        ax.text(x, by + 1.6 * h, s, ha="center", va="bottom", fontsize=7, zorder=20,
                fontfamily=_latin(s))  # fmt: skip


def add_north_arrow(ax: Any, lang: str) -> None:
    """Draw a north arrow in the upper right (grid north of EPSG:4549)."""
    ax.annotate(
        t("export.map.north", lang),
        xy=(0.94, 0.95),
        xytext=(0.94, 0.85),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=10,
        arrowprops={"facecolor": "black", "width": 3, "headwidth": 9, "headlength": 9},
        bbox={
            "boxstyle": "round,pad=0.2",
            "facecolor": "white",
            "edgecolor": "none",
            "alpha": 0.85,
        },
        zorder=20,
    )


def _frame(ax: Any, data: ExportData, what: str | None) -> None:
    """Make the axes square and tickless, with the title (unless ``what`` is None)."""
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    if what is not None:
        ax.set_title(data.title(what), fontsize=11, pad=10)


def _source_line(fig: Figure, data: ExportData) -> None:
    """Write the source line at the foot of the figure (run, case, scenario hash, CRS)."""
    fig.text(
        0.02,
        0.012,
        data.source_line(),
        fontsize=6,
        color="#555555",
        ha="left",
        va="bottom",
    )


def _pad_limits(ax: Any, bounds: tuple[float, float, float, float], pad: float = 0.08) -> None:
    minx, miny, maxx, maxy = bounds
    w, h = maxx - minx, maxy - miny
    side = max(w, h) * (1 + 2 * pad)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    ax.set_xlim(cx - side / 2, cx + side / 2)
    ax.set_ylim(cy - side / 2, cy + side / 2)


PANEL_MERGE_M = 500.0
"""Zone parts closer than this (or a quarter of the largest part's extent) share a panel."""
PANEL_SPLIT_RATIO = 2.5
"""Separate panels when the whole zone spans more than this many times its main cluster."""
MAX_PANELS = 4
PANEL_GAP_IN = 0.2
MAP_WIDTH_IN = MAP_RECT[2] * FIGSIZE[0]
MAP_BOTTOM_IN = MAP_RECT[1] * FIGSIZE[1]
MAP_TOP_IN = FIGSIZE[1] * (1 - MAP_RECT[1] - MAP_RECT[3])


def zone_panels(geom: Any) -> list[tuple[float, float, float, float]]:
    """Return the bounds to draw a zone in: one, or one per far-apart cluster of its parts.

    Many zones are several 片区 kilometres apart; one frame around all of them
    shows each part as a speck. Parts closer than :data:`PANEL_MERGE_M` (or a
    quarter of the largest part's extent) are clustered; when the whole zone
    spans more than :data:`PANEL_SPLIT_RATIO` times its largest cluster, each
    cluster gets its own panel (largest first, at most :data:`MAX_PANELS`).
    """
    import shapely

    if geom is None or geom.is_empty:
        return []
    parts = [p for p in getattr(geom, "geoms", [geom]) if not p.is_empty]
    whole = tuple(geom.bounds)
    if len(parts) <= 1:
        return [whole]

    def side(b: tuple[float, ...]) -> float:
        return max(b[2] - b[0], b[3] - b[1])

    merge = max(PANEL_MERGE_M, 0.25 * max(side(p.bounds) for p in parts))
    blobs = shapely.union_all([p.buffer(merge / 2) for p in parts])
    groups = []
    for blob in getattr(blobs, "geoms", [blobs]):
        members = [p for p in parts if blob.intersects(p)]
        groups.append((sum(p.area for p in members), shapely.union_all(members).bounds))
    groups.sort(key=lambda g: (-g[0], g[1]))
    if len(groups) == 1 or len(groups) > MAX_PANELS:
        return [whole]
    if side(whole) <= PANEL_SPLIT_RATIO * side(groups[0][1]):
        return [whole]
    return [tuple(b) for _, b in groups]


def _panel_axes(
    fig_width_in: float, n: int
) -> tuple[float, list[tuple[float, float, float, float]]]:
    """Return the figure height (in) and the axes rectangles of ``n`` square map panels."""
    cols = 1 if n == 1 else 2
    rows = math.ceil(n / cols)
    size = (MAP_WIDTH_IN - (cols - 1) * PANEL_GAP_IN) / cols
    height = MAP_BOTTOM_IN + rows * size + (rows - 1) * PANEL_GAP_IN + MAP_TOP_IN
    rects = []
    for i in range(n):
        r, c = divmod(i, cols)
        left = MAP_RECT[0] + c * (size + PANEL_GAP_IN) / fig_width_in
        bottom = (MAP_BOTTOM_IN + (rows - 1 - r) * (size + PANEL_GAP_IN)) / height
        rects.append((left, bottom, size / fig_width_in, size / height))
    return height, rects


def _draw_zone(ax: Any, data: ExportData, zone: Any, plots: Any, units: Any) -> None:
    """Draw a zone's layers into ``ax`` (limits already set): units, plots, labels, red line."""
    if len(units):
        add_polygons(
            ax,
            units.geometry,
            facecolor=(0.58, 0.40, 0.74, 0.08),
            edgecolor="#9467bd",
            lw=0.6,
            linestyle="--",
            zorder=1,
        )
    for outcome in OUTCOMES:
        part = plots[plots["outcome"] == outcome]
        if len(part):
            add_polygons(
                ax,
                part.geometry,
                facecolor=OUTCOME_COLORS[outcome],
                edgecolor="#404040",
                lw=0.5,
                zorder=3,
            )
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    shown = plots.cx[x0:x1, y0:y1] if len(plots) else plots
    if len(shown) <= 150:
        # label a plot only where its id fits inside it on paper (6 pt text)
        width_in = ax.get_position().width * ax.figure.get_figwidth()
        m_per_pt = (x1 - x0) / (width_in * 72.0)
        for _, row in shown.iterrows():
            label = str(row["plot_id"])
            bx0, by0, bx1, by1 = row.geometry.bounds
            if bx1 - bx0 < 6 * 0.62 * len(label) * m_per_pt or by1 - by0 < 9 * m_per_pt:
                continue
            p = row.geometry.representative_point()
            ax.text(
                p.x,
                p.y,
                label,
                fontsize=6,
                fontfamily=_latin(label),
                ha="center",
                va="center",
                zorder=6,
                clip_on=True,
            )
    red = data.layers["redline"]
    if len(red):
        add_polygons(
            ax,
            red.geometry,
            facecolor="none",
            edgecolor=REDLINE_COLOR,
            hatch="////",
            lw=0.9,
            zorder=5,
        )
    if len(zone):
        add_polygons(ax, zone.geometry, facecolor="none", edgecolor=ZONE_EDGE, lw=1.6, zorder=7)


def zone_figure(data: ExportData, zone_id: str) -> Figure:
    """Return the map of one zone: plots by outcome, red line hatched, legend, scale, north.

    A zone whose parts lie far apart gets one panel per part (:func:`zone_panels`),
    each with its own scale bar, under one title and legend.
    """
    lang = data.lang
    with matplotlib.rc_context(fonts.rc_params()):
        zones = data.layers["zones"]
        zone = zones[zones["zone_id"] == zone_id]
        plots = data.layers["allocation"]
        plots = plots[plots["zone_id"] == zone_id]
        units = data.layers["control_units"]
        panels = zone_panels(zone.union_all()) if len(zone) else []
        if not panels:
            panels = [tuple(plots.total_bounds)]
        height, rects = _panel_axes(FIGSIZE[0], len(panels))
        fig = plt.figure(figsize=(FIGSIZE[0], height))
        title = data.title(t("export.map.zone", lang, name=data.zone_name(zone_id)))
        views: list[tuple[float, float, float, float]] = []  # x0, x1, y0, y1 of each panel
        for i, (bounds, rect) in enumerate(zip(panels, rects, strict=True)):
            ax = fig.add_axes(rect)
            _pad_limits(ax, bounds, pad=0.12)  # type: ignore[arg-type]
            views.append((*ax.get_xlim(), *ax.get_ylim()))
            _draw_zone(ax, data, zone, plots, units)
            if len(panels) == 1:
                _frame(ax, data, t("export.map.zone", lang, name=data.zone_name(zone_id)))
            else:
                _frame(ax, data, None)
                ax.text(
                    0.03,
                    0.97,
                    t("export.map.part", lang, i=i + 1, n=len(panels)),
                    transform=ax.transAxes,
                    ha="left",
                    va="top",
                    fontsize=9,
                    zorder=21,
                    bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "alpha": 0.85,
                          "edgecolor": "none"},
                )  # fmt: skip
            add_scale_bar(ax, lang)
            add_north_arrow(ax, lang)
        _source_line(fig, data)
        if len(panels) > 1:
            fig.suptitle(title, x=MAP_RECT[0] + MAP_RECT[2] / 2, y=1 - 0.12 / height, fontsize=11)
        handles: list[Any] = [
            mpatches.Patch(
                facecolor=OUTCOME_COLORS[o], edgecolor="#404040", label=outcome_label(o, lang)
            )
            for o in outcomes_present(plots)
        ]
        red = data.layers["redline"]
        if len(red) and any(len(red.cx[x0:x1, y0:y1]) for x0, x1, y0, y1 in views):
            handles.append(
                mpatches.Patch(
                    facecolor="none",
                    edgecolor=REDLINE_COLOR,
                    hatch="////",
                    label=t("export.legend.redline", lang),
                )
            )
        handles.append(
            Line2D([0], [0], color=ZONE_EDGE, lw=1.6, label=t("export.legend.zone", lang))
        )
        if len(units):
            handles.append(
                mpatches.Patch(
                    facecolor="#9467bd",
                    alpha=0.3,
                    edgecolor="#9467bd",
                    linestyle="--",
                    label=t("export.legend.units", lang),
                )
            )
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0.77, 1 - MAP_TOP_IN / height),
            fontsize=8,
            title=t("export.legend.title", lang),
            title_fontsize=9,
            frameon=False,
        )
    return fig


ZONE_LABEL_OFFSETS_PT = (
    (5, 4, "left", "bottom"),
    (5, -4, "left", "top"),
    (-5, 4, "right", "bottom"),
    (-5, -4, "right", "top"),
    (0, 7, "center", "bottom"),
    (0, -7, "center", "top"),
    (7, 0, "left", "center"),
    (-7, 0, "right", "center"),
)
"""Where a zone id may sit around its marker (points, alignment), in order of preference;
tried again at 2, 3 and 4 times the distance when all are taken."""
CITY_LABEL_OFFSETS_PT = (
    (0, 0, "center", "center"),
    (0, 9, "center", "bottom"),
    (0, -9, "center", "top"),
    (12, 0, "left", "center"),
    (-12, 0, "right", "center"),
)
"""Where a city name may sit around its city's representative point."""
MARKER_RADIUS_PT = 3.5
"""Half the side of the box a zone marker (5 pt, white edge) keeps free of labels."""


def _free(box: Bbox, frame: Bbox, taken: list[Bbox]) -> bool:
    """Return True when ``box`` lies inside ``frame`` and overlaps none of ``taken``."""
    inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    return inside and not any(box.overlaps(b) for b in taken)


def _place(
    ax: Any,
    text: str,
    xy: tuple[float, float],
    candidates: list[tuple[float, float, str, str]],
    frame: Bbox,
    taken: list[Bbox],
    **style: Any,
) -> tuple[Any, Bbox] | None:
    """Put ``text`` at the first candidate offset where it overlaps nothing (None: none is)."""
    renderer = ax.figure.canvas.get_renderer()
    for dx, dy, ha, va in candidates:
        ann = ax.annotate(text, xy, xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                          fontfamily=_latin(text), **style)  # fmt: skip
        box = ann.get_window_extent(renderer)
        if _free(box, frame, taken):
            return ann, box
        ann.remove()
    return None


def place_labels(ax: Any, cities: list[tuple[str, Any]], zones: list[tuple[str, Any]]) -> list[Any]:
    """Label city names and zone ids on the overview so that no two labels overlap.

    Text sizes come from matplotlib's renderer (the axes' limits and the figure
    size must be final). Zone markers and the texts already in ``ax`` (scale
    bar, north arrow) are kept free. City names go first at their city's
    representative point (moved aside when a zone marker is there, left out
    when nowhere fits); each zone id then takes the first free spot around its
    marker (:data:`ZONE_LABEL_OFFSETS_PT`, then farther out). Returns the labels.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    r = MARKER_RADIUS_PT * fig.dpi / 72.0
    taken = [t.get_window_extent(renderer) for t in ax.texts]
    if zones:
        xy = ax.transData.transform([(p.x, p.y) for _, p in zones])
        taken += [Bbox.from_extents(x - r, y - r, x + r, y + r) for x, y in xy]
    texts_only = list(taken[: len(ax.texts)])
    out = []
    for name, p in cities:
        style = {"fontsize": 7, "color": "#666666", "zorder": 2}
        hit = _place(ax, name, (p.x, p.y), list(CITY_LABEL_OFFSETS_PT), frame, taken, **style)
        if hit is None:  # a marker everywhere around: keep the name where no text is
            hit = _place(ax, name, (p.x, p.y), list(CITY_LABEL_OFFSETS_PT[:1]), frame, texts_only,
                         **style)  # fmt: skip
        if hit is not None:
            out.append(hit[0])
            taken.append(hit[1])
            texts_only.append(hit[1])
    rings: list[tuple[float, float, str, str]] = [
        (float(dx * k), float(dy * k), ha, va)
        for k in (1, 2, 3, 4)
        for dx, dy, ha, va in ZONE_LABEL_OFFSETS_PT
    ]
    for zid, p in zones:
        style = {"fontsize": 7, "zorder": 6}
        hit = _place(ax, zid, (p.x, p.y), rings, frame, taken, **style)
        if hit is None:  # nowhere free: the first choice (an id must be on the map)
            dx, dy, ha, va = ZONE_LABEL_OFFSETS_PT[0]
            ann = ax.annotate(zid, (p.x, p.y), xytext=(dx, dy), textcoords="offset points", ha=ha,
                              va=va, fontfamily=_latin(zid), **style)  # fmt: skip
            hit = (ann, ann.get_window_extent(renderer))
        out.append(hit[0])
        taken.append(hit[1])
    return out


def overview_figure(data: ExportData) -> Figure:
    """Return the province overview: zones over city/county boundaries."""
    lang = data.lang
    with matplotlib.rc_context(fonts.rc_params()):
        fig = plt.figure(figsize=FIGSIZE)
        ax = fig.add_axes(MAP_RECT)
        zones = data.layers["zones"]
        admin = data.layers.get("admin")
        if admin is not None and len(admin):
            level = admin["level"] if "level" in admin.columns else None
            shown = (
                admin[level == "city"] if level is not None and (level == "city").any() else admin
            )
            outline = shown.geometry.simplify(ADMIN_SIMPLIFY_M, preserve_topology=True)
            add_polygons(ax, outline, facecolor="#f4f4f0", edgecolor=ADMIN_EDGE, lw=0.7, zorder=1)
            bounds = tuple(shown.total_bounds)
        else:
            shown = None
            bounds = tuple(zones.total_bounds)
        _pad_limits(ax, bounds, pad=0.04)  # type: ignore[arg-type]
        add_polygons(ax, zones.geometry, facecolor="#d62728", edgecolor="#d62728", lw=1.0, zorder=4)
        points = [(str(r["zone_id"]), r.geometry.centroid) for _, r in zones.iterrows()]
        for _, c in points:
            ax.plot([c.x], [c.y], marker="o", ms=5, mfc="#d62728", mec="white", mew=0.8, zorder=5)
        cities = []
        if shown is not None and len(shown) <= 40:
            cities = [
                (str(r["name"]), r.geometry.representative_point()) for _, r in shown.iterrows()
            ]
        _frame(ax, data, t("export.map.overview", lang))
        _source_line(fig, data)
        add_scale_bar(ax, lang)
        add_north_arrow(ax, lang)
        place_labels(ax, cities, points)
        handles = [
            Line2D(
                [0],
                [0],
                marker="o",
                color="none",
                mfc="#d62728",
                mec="white",
                ms=7,
                label=t("export.legend.zone_point", lang),
            ),
            mpatches.Patch(
                facecolor="#f4f4f0", edgecolor=ADMIN_EDGE, label=t("export.legend.admin", lang)
            ),
        ]
        labels = [f"{z}  {data.zone_name(z)}" for z in data.zone_ids]
        handles += [Line2D([0], [0], color="none", label=s) for s in labels[:40]]
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0.77, 0.9),
            fontsize=7,
            title=t("export.legend.title", lang),
            title_fontsize=9,
            frameon=False,
        )
    return fig


PREVIEW_QUALITY = 90
"""JPEG quality of the previews the report and the brief embed (reportlab keeps JPEG as is)."""
ZONE_PREVIEW_REDUCE = 2
"""Zone maps are half the text width in the report: their preview is ``DPI / 2`` (100 dpi)."""


def _render(fig: Figure, zone_id: str | None) -> tuple[bytes, bytes]:
    """Draw ``fig`` once at :data:`DPI`; return its PNG and its JPEG preview.

    The PNG (:func:`encode_png`) is RGB when the drawing is opaque (the maps
    are: white background), a quarter less to encode than RGBA and the same
    picture. The
    preview, for the PDFs of the report and the brief, is made from the same
    pixels: the overview at full size, a zone map reduced by
    :data:`ZONE_PREVIEW_REDUCE` (box filter).
    """
    from PIL import Image

    buf = io.BytesIO()
    with matplotlib.rc_context(fonts.rc_params()):
        fig.savefig(buf, format="rgba", dpi=DPI)
    raw = buf.getvalue()
    w, h = (int(v) for v in fig.get_size_inches() * DPI)
    if len(raw) != w * h * 4:  # not the size Agg drew: let matplotlib encode it
        png = io.BytesIO()
        with matplotlib.rc_context(fonts.rc_params()):
            fig.savefig(png, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
        img = Image.open(io.BytesIO(png.getvalue())).convert("RGB")
        return png.getvalue(), _jpeg(img, zone_id)
    pixels = np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 4)
    if bool((pixels[:, :, 3] == 255).all()):
        pixels = pixels[:, :, :3]
    img = Image.fromarray(np.ascontiguousarray(pixels[:, :, :3]))
    return encode_png(pixels, DPI), _jpeg(img, zone_id)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def encode_png(pixels: np.ndarray, dpi: int) -> bytes:
    """Return ``pixels`` (height × width × 3 RGB or 4 RGBA, uint8) as a PNG at ``dpi``.

    Rows unfiltered, deflated at level 1: for a map's flat colours this is half
    the time of Pillow's adaptive filters (0.02 s against 0.05 s for an A4 map)
    and a smaller file; the picture is the same, pixel for pixel.
    """
    h, w, channels = pixels.shape
    rows = np.zeros((h, w * channels + 1), dtype=np.uint8)  # filter byte 0: none
    rows[:, 1:] = pixels.reshape(h, w * channels)
    per_m = round(dpi / 0.0254)
    software = f"matplotlib version{matplotlib.__version__}, https://matplotlib.org/"
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2 if channels == 3 else 6, 0, 0, 0)),
            _chunk(b"pHYs", struct.pack(">IIB", per_m, per_m, 1)),
            _chunk(b"tEXt", b"Software\x00" + software.encode("latin-1")),
            _chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)),
            _chunk(b"IEND", b""),
        )
    )


def _jpeg(img: Any, zone_id: str | None) -> bytes:
    """Return the preview JPEG of a drawn map (a zone map reduced, the overview as it is)."""
    small = img.reduce(ZONE_PREVIEW_REDUCE) if zone_id is not None else img
    buf = io.BytesIO()
    small.save(buf, format="JPEG", quality=PREVIEW_QUALITY)
    return buf.getvalue()


def map_figure(data: ExportData, zone_id: str | None = None) -> Figure:
    """Return the overview (``zone_id`` None) or the map of one zone."""
    return overview_figure(data) if zone_id is None else zone_figure(data, zone_id)


def _small_preview(fig: Figure) -> bytes:
    """Return a zone map's preview drawn at its own size (no PNG of the map is exported)."""
    buf = io.BytesIO()
    with matplotlib.rc_context(fonts.rc_params()):
        fig.savefig(buf, format="jpg", dpi=DPI // ZONE_PREVIEW_REDUCE,
                    pil_kwargs={"quality": PREVIEW_QUALITY})  # fmt: skip
    return buf.getvalue()


def _draw(
    data: ExportData, zone_id: str | None, fig: Figure | None = None, *, png: bool = True
) -> None:
    """Draw the map's pixels once into ``data.rendered`` (PNG) and ``data.previews`` (JPEG).

    ``png`` False: only the preview is wanted (a zone map in a report exported
    without the PNG maps): drawn at the preview's size, a quarter of the pixels.
    ``fig``: the caller's figure (left open for its PDF), else one is built and closed.
    """
    if zone_id in data.previews and (zone_id in data.rendered or not png):
        return
    own = fig is None
    fig = map_figure(data, zone_id) if fig is None else fig
    try:
        if png or zone_id is None:
            data.rendered[zone_id], data.previews[zone_id] = _render(fig, zone_id)
        else:
            data.previews[zone_id] = _small_preview(fig)
    finally:
        if own:
            plt.close(fig)


def map_png(data: ExportData, zone_id: str | None = None) -> bytes:
    """Return the PNG of the overview (``zone_id`` None) or of one zone, drawn once per export.

    :func:`write_map` keeps each PNG it draws in ``data.rendered`` (and its preview
    in ``data.previews``); the brief and the report take the map from there
    instead of drawing it again.
    """
    _draw(data, zone_id)
    return data.rendered[zone_id]


def map_preview(data: ExportData, zone_id: str | None = None) -> bytes:
    """Return the JPEG preview of a map (the report's and the brief's PDFs), drawn once."""
    _draw(data, zone_id, png=False)
    return data.previews[zone_id]


def write_map(
    data: ExportData,
    folder: Path,
    zone_id: str | None,
    formats: tuple[str, ...],
    *,
    preview: bool = True,
) -> list[Path]:
    """Write one map (the overview when ``zone_id`` is None) in ``formats``; draw it once.

    Pixels already drawn in this export (``data.rendered``) are written as they
    are; the figure is built only when something is missing, its PNG and
    preview kept for the brief and the report. With no format, only the
    preview is made (an export of the report alone); ``preview`` False and no
    PNG: no pixels are drawn (the PDF alone).
    """
    stem = folder / ("overview" if zone_id is None else f"zone_{safe_filename(zone_id)}")
    out = []
    need_pdf = "pdf" in formats
    png = "png" in formats
    missing = (png and zone_id not in data.rendered) or (preview and zone_id not in data.previews)
    fig = map_figure(data, zone_id) if need_pdf or missing else None
    try:
        if png or preview:
            _draw(data, zone_id, fig, png=png)
        if formats:
            folder.mkdir(parents=True, exist_ok=True)
        if png:
            out.append(stem.with_suffix(".png"))
            out[-1].write_bytes(data.rendered[zone_id])
        if need_pdf and fig is not None:
            path = stem.with_suffix(".pdf")
            title = fig.axes[0].get_title() or fig.get_suptitle()
            with matplotlib.rc_context(fonts.rc_params()):
                fig.savefig(path, metadata={"Title": title})
            out.append(path)
    finally:
        if fig is not None:
            plt.close(fig)
    return out


def map_ids(data: ExportData) -> list[str | None]:
    """Return the maps of an export: the overview (None) unless one zone is asked, each zone."""
    return ([None] if data.zone is None else []) + list(data.zone_ids)


def write_maps(
    data: ExportData, folder: Path, formats: tuple[str, ...] = ("png", "pdf")
) -> list[Path]:
    """Write the overview (unless one zone was asked for) and one map per zone."""
    out: list[Path] = []
    for zid in map_ids(data):
        out += write_map(data, folder, zid, formats)
    return out
