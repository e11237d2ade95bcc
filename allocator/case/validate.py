"""Validation of a case: every check of DATA.md, reporting all problems at once.

:func:`check_frames` runs on frames already coerced by :mod:`allocator.case.io`
(canonical columns, EPSG:4549 geometry); each check is vectorised over rows.
The public entry point for a path or a loaded case is
:func:`allocator.case.validate_case` (defined in :mod:`allocator.case.importers`,
since it reads a path as loading and importing do; this module is below
:mod:`allocator.case.io` and imports neither).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from allocator.case.schema import (
    ALL_LAYERS,
    POSITIONING,
    UNIT_CATEGORIES,
    Layer,
    row_labels,
    split_list,
)
from allocator.errors import ProblemList
from allocator.i18n import t

CREDIT_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""Characters allowed in a 统一社会信用代码 (GB 32100-2015: no I, O, Z, S, V)."""
CREDIT_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
"""Weights 3^i mod 31 of the first 17 characters (1, 3, 9, 27, 19, 26, …)."""

PLOT_MIN_MU = 0.1
"""Smallest plausible plot (mu); smaller ones are digitising slivers."""
PLOT_MAX_MU = 20_000.0
"""Largest plausible plot (mu); larger ones are usually a wrong CRS or a zone drawn as a plot."""
OUTSIDE_ZONE_TOLERANCE_M = 2.0
"""Buffer around a zone before a plot counts as sticking out of it (digitising noise)."""
OUTSIDE_ZONE_SHARE = 0.01
"""A plot with more than this share of its area outside its zone is reported."""

MAX_ABS_NUMBER = 1e12
"""Largest magnitude of any number in a case. No quantity of a bonded zone (万元,
tce, MWh, t, mu, people) comes near 10^12; such a value is a unit or typing
mistake and would wreck the solver's numerics."""

NUMBER_LIMITS: dict[str, tuple[float, str]] = {
    "far": (20.0, "a floor-area ratio above 20 is not an industrial plot"),
    "far_max": (20.0, "a floor-area ratio above 20 is not an industrial plot"),
    "approved_km2": (100.0, "the largest bonded zone in China is about 20 km²"),
    "employees": (1e6, "no single firm in a bonded zone employs a million people"),
    "land_mu": (PLOT_MAX_MU * 10, "ten times the largest plausible plot"),
    "land_min_mu": (PLOT_MAX_MU * 10, "ten times the largest plausible plot"),
    "land_max_mu": (PLOT_MAX_MU * 10, "ten times the largest plausible plot"),
}
"""Tighter plausible upper bounds (value, reason) of some columns; others use
:data:`MAX_ABS_NUMBER`."""

DEFAULTED_FIRM_NUMBERS = {
    "value_added_wan": "0",
    "electricity_mwh": "0",
    "energy_tce": "electricity_mwh × the scenario's coefficient",
}
"""Firm numbers the model fills when missing (allocator.prepare), with the value it uses:
a missing one is reported as a warning naming the row, not filled silently."""

INDUSTRY_RE = r"^[A-T]\d{2,4}$"
PREFIX_RE = r"^[A-T]\d{0,4}$"

_CREDIT_LOOKUP = np.full(256, -1, dtype=np.int64)
for _value, _char in enumerate(CREDIT_CHARSET):
    _CREDIT_LOOKUP[ord(_char)] = _value


def credit_check_char(first17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters of a code."""
    values = np.array([CREDIT_CHARSET.index(c) for c in first17.upper()], dtype=np.int64)
    if values.size != 17:
        raise ValueError("need exactly 17 characters")
    return CREDIT_CHARSET[(31 - int((values * CREDIT_WEIGHTS).sum()) % 31) % 31]


def credit_code_status(codes: pd.Series | list[str]) -> np.ndarray:
    """Classify credit codes: ``""`` valid or missing, ``length``, ``charset`` or ``check``.

    Vectorised: codes are packed into an (n, 18) byte array and the weighted
    sum mod 31 is taken row-wise.
    """
    series = pd.Series(codes, dtype=object)
    present = series.notna().to_numpy()
    text = series.where(series.notna(), "").astype(str).str.strip().str.upper()
    status = np.full(len(text), "", dtype=object)
    lengths = text.str.len().to_numpy()
    wrong_len = present & (lengths != 18)
    status[wrong_len] = "length"
    ok_len = present & (lengths == 18)
    if ok_len.any():
        joined = "".join(text[ok_len]).encode("ascii", errors="replace")
        chars = np.frombuffer(joined, dtype=np.uint8).reshape(-1, 18)
        values = _CREDIT_LOOKUP[chars]
        bad_chars = (values < 0).any(axis=1)
        check = (31 - (values[:, :17] * CREDIT_WEIGHTS).sum(axis=1) % 31) % 31
        bad_check = ~bad_chars & (check != values[:, 17])
        sub = np.full(chars.shape[0], "", dtype=object)
        sub[bad_chars] = "charset"
        sub[bad_check] = "check"
        status[ok_len] = sub
    return status


def _where(layer: str, files: dict[str, str]) -> dict[str, str]:
    return {"file": files.get(layer, ""), "layer": layer}


def _labels(frame: pd.DataFrame, layer: Layer) -> np.ndarray:
    return row_labels(frame, layer)


def _column_reported_missing(problems: ProblemList, layer: str, column: str) -> bool:
    return any(
        p.code == "missing_column" and p.layer == layer and p.column == column
        for p in problems.problems
    )


def _report(
    problems: ProblemList,
    severity: str,
    code: str,
    mask: np.ndarray,
    labels: np.ndarray,
    where: dict[str, str],
    column: str,
    message: object,
    hint: str,
) -> None:
    """Add one problem per True row of ``mask``; ``message`` is text or ``f(i) -> text``."""
    for i in np.flatnonzero(mask):
        text = message(i) if callable(message) else str(message)
        problems.add(
            severity,  # type: ignore[arg-type]
            code,
            text,
            row=str(labels[i]),
            column=column,
            hint=hint,
            **where,
        )


def _check_columns(
    frame: pd.DataFrame, layer: Layer, problems: ProblemList, files: dict[str, str]
) -> None:
    """Check required values, non-negative numbers, choices and unique ids."""
    where = _where(layer.name, files)
    labels = _labels(frame, layer)
    for col in layer.columns:
        if col.name not in frame.columns:
            continue
        values = frame[col.name]
        if col.required and not _column_reported_missing(problems, layer.name, col.name):
            _report(
                problems,
                "error",
                "missing_value",
                values.isna().to_numpy(),
                labels,
                where,
                col.name,
                t("case.missing_value", column=col.name),
                t("case.hint.missing_value", column=col.name),
            )
        if col.nonneg and col.kind in ("float", "int"):
            neg = (values.astype(float) < 0).to_numpy()
            _report(
                problems,
                "error",
                "negative",
                neg,
                labels,
                where,
                col.name,
                lambda i, v=values: t("case.negative", value=f"{v.iloc[i]:g}"),
                t("case.hint.negative"),
            )
        if col.choices:
            bad = (values.notna() & ~values.isin(col.choices)).to_numpy()
            _report(
                problems,
                "error",
                "bad_choice",
                bad,
                labels,
                where,
                col.name,
                lambda i, v=values: t("case.bad_choice", value=str(v.iloc[i])),
                t("case.hint.choices", choices=", ".join(col.choices)),
            )
    if layer.id_column and layer.id_column in frame.columns:
        ids = frame[layer.id_column]
        dup = (ids.notna() & ids.duplicated(keep="first")).to_numpy()
        _report(
            problems,
            "error",
            "duplicate_id",
            dup,
            labels,
            where,
            layer.id_column,
            lambda i: t("case.duplicate_id", id=str(ids.iloc[i])),
            t("case.hint.duplicate_id"),
        )


def _dangling(
    problems: ProblemList,
    frame: pd.DataFrame,
    layer: Layer,
    column: str,
    known: set[str] | pd.Index,
    target: str,
    files: dict[str, str],
    severity: str = "error",
    mask: np.ndarray | None = None,
) -> None:
    """Report values of ``column`` that are not ids of layer ``target``."""
    values = frame[column]
    bad = values.notna() & ~values.isin(list(known))
    if mask is not None:
        bad &= mask
    _report(
        problems,
        severity,
        "dangling_ref",
        bad.to_numpy(),
        _labels(frame, layer),
        _where(layer.name, files),
        column,
        lambda i: t("case.dangling_ref", value=str(values.iloc[i]), target=target),
        t("case.hint.dangling_ref", target=target),
    )


def _dangling_lists(
    problems: ProblemList,
    frame: pd.DataFrame,
    layer: Layer,
    column: str,
    known: set[str],
    target: str,
    files: dict[str, str],
) -> None:
    """Report items of a ``;``-separated column that are not ids of ``target``."""
    values = frame[column]
    filled = np.flatnonzero(values.notna().to_numpy())
    if filled.size == 0:
        return
    items = values.iloc[filled].map(split_list).explode().dropna()
    bad_items = items[~items.isin(list(known))]
    if bad_items.empty:
        return
    labels = _labels(frame, layer)
    where = _where(layer.name, files)
    for pos, grp in bad_items.groupby(level=0, sort=True):
        problems.error(
            "dangling_ref",
            t("case.dangling_ref", value=";".join(grp.astype(str)), target=target),
            row=str(labels[pos]),
            column=column,
            hint=t("case.hint.dangling_ref", target=target),
            **where,
        )


def _check_pattern(
    problems: ProblemList,
    frame: pd.DataFrame,
    layer: Layer,
    column: str,
    pattern: str,
    files: dict[str, str],
) -> None:
    values = frame[column]
    ok = values.str.fullmatch(pattern, na=True).fillna(True).astype(bool)
    _report(
        problems,
        "error",
        "bad_industry",
        (~ok).to_numpy(),
        _labels(frame, layer),
        _where(layer.name, files),
        column,
        lambda i: t("case.bad_industry", value=str(values.iloc[i])),
        t("case.hint.industry"),
    )


def _required(built: dict[str, pd.DataFrame | None], name: str) -> pd.DataFrame:
    """Return a required layer: build_case fills each one (empty when missing)."""
    frame = built[name]
    if frame is None:
        raise ValueError(f"required layer {name!r} was not built")
    return frame


def _check_plots(
    built: dict[str, pd.DataFrame | None], problems: ProblemList, files: dict[str, str]
) -> None:
    plots, zones, firms = _required(built, "plots"), built["zones"], built["firms"]
    layer = ALL_LAYERS["plots"]
    where = _where("plots", files)
    labels = _labels(plots, layer)
    area = plots["area_mu"].to_numpy(dtype=float)
    has_geom = ~shapely.is_missing(plots.geometry.array.to_numpy())
    tiny = np.isfinite(area) & (area < PLOT_MIN_MU) & (area > 0)
    huge = np.isfinite(area) & (area > PLOT_MAX_MU)
    _report(
        problems,
        "error",
        "plot_too_small",
        tiny & has_geom,
        labels,
        where,
        "geometry",
        lambda i: t("case.plot_too_small", area=f"{area[i]:.3f}", limit=PLOT_MIN_MU),
        t("case.hint.plot_area"),
    )
    _report(
        problems,
        "error",
        "plot_too_large",
        huge,
        labels,
        where,
        "geometry",
        lambda i: t("case.plot_too_large", area=f"{area[i]:,.0f}", limit=f"{PLOT_MAX_MU:,.0f}"),
        t("case.hint.plot_area"),
    )
    if zones is not None:
        _dangling(problems, plots, layer, "zone_id", set(zones["zone_id"].dropna()), "zones", files)
    if firms is not None:
        _dangling(
            problems, plots, layer, "occupant_id", set(firms["firm_id"].dropna()), "firms", files
        )
    status = plots["status"]
    occupant = plots["occupant_id"]
    _report(
        problems,
        "warning",
        "occupied_without_occupant",
        ((status == "occupied") & occupant.isna()).to_numpy(),
        labels,
        where,
        "occupant_id",
        t("case.occupied_without_occupant"),
        t("case.hint.occupant"),
    )
    _report(
        problems,
        "warning",
        "occupant_on_free_plot",
        (status.isin(["vacant"]) & occupant.notna()).to_numpy(),
        labels,
        where,
        "occupant_id",
        lambda i: t("case.occupant_on_free_plot", status=str(status.iloc[i])),
        t("case.hint.occupant"),
    )
    far, far_max = plots["far"], plots["far_max"]
    _report(
        problems,
        "warning",
        "far_above_max",
        (far > far_max).to_numpy(),
        labels,
        where,
        "far",
        lambda i: t("case.far_above_max", far=f"{far.iloc[i]:g}", far_max=f"{far_max.iloc[i]:g}"),
        t("case.hint.far"),
    )
    if zones is not None and plots.crs is not None and zones.crs is not None and len(plots):
        _check_plots_in_zones(plots, zones, problems, files)


def _check_plots_in_zones(
    plots: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, problems: ProblemList, files: dict[str, str]
) -> None:
    """Warn when more than 1 % of a plot lies outside its own zone (2 m tolerance)."""
    zone_pos = pd.Series(np.arange(len(zones)), index=zones["zone_id"].to_numpy())
    zone_pos = zone_pos[~zone_pos.index.duplicated()]
    idx = plots["zone_id"].map(zone_pos)
    known = idx.notna().to_numpy()
    pgeoms = np.asarray(plots.geometry.array, dtype=object)
    zgeoms = np.asarray(zones.geometry.array, dtype=object)
    ok_geom = known & ~shapely.is_missing(pgeoms)
    ok_geom[ok_geom] &= ~shapely.is_empty(pgeoms[ok_geom])
    if not ok_geom.any():
        return
    zvalid = ~shapely.is_missing(zgeoms)
    buffered = np.array([None] * len(zgeoms), dtype=object)
    buffered[zvalid] = shapely.buffer(zgeoms[zvalid], OUTSIDE_ZONE_TOLERANCE_M)
    shapely.prepare(buffered[zvalid])
    rows = np.flatnonzero(ok_geom)
    zi = idx.to_numpy()[rows].astype(int)
    usable = zvalid[zi]
    rows, zi = rows[usable], zi[usable]
    covered = shapely.covers(buffered[zi], pgeoms[rows])
    out_rows, out_zi = rows[~covered], zi[~covered]
    if out_rows.size == 0:
        return
    inter = shapely.area(shapely.intersection(pgeoms[out_rows], zgeoms[out_zi]))
    share_out = 1.0 - inter / np.maximum(shapely.area(pgeoms[out_rows]), 1e-9)
    labels = _labels(plots, ALL_LAYERS["plots"])
    where = _where("plots", files)
    for r, share in zip(out_rows, share_out, strict=True):
        if share > OUTSIDE_ZONE_SHARE:
            problems.warning(
                "plot_outside_zone",
                t("case.plot_outside_zone", share=f"{share:.0%}", zone=plots["zone_id"].iloc[r]),
                row=str(labels[r]),
                column="zone_id",
                hint=t("case.hint.plot_outside_zone"),
                **where,
            )


def _check_firms(
    built: dict[str, pd.DataFrame | None], problems: ProblemList, files: dict[str, str]
) -> None:
    firms, zones, plots = _required(built, "firms"), built["zones"], built["plots"]
    layer = ALL_LAYERS["firms"]
    where = _where("firms", files)
    labels = _labels(firms, layer)
    status = credit_code_status(firms["credit_code"])
    codes = firms["credit_code"]
    for kind in ("length", "charset", "check"):
        _report(
            problems,
            "error",
            f"credit_code_{kind}",
            status == kind,
            labels,
            where,
            "credit_code",
            lambda i, k=kind: t(f"case.credit_code_{k}", code=str(codes.iloc[i])),
            t("case.hint.credit_code"),
        )
    dup = (codes.notna() & codes.duplicated(keep="first")).to_numpy()
    _report(
        problems,
        "warning",
        "duplicate_credit_code",
        dup,
        labels,
        where,
        "credit_code",
        lambda i: t("case.duplicate_credit_code", code=str(codes.iloc[i])),
        t("case.hint.duplicate_credit_code"),
    )
    _check_pattern(problems, firms, layer, "industry", INDUSTRY_RE, files)
    existing = (firms["kind"] == "existing").to_numpy()
    applicant = (firms["kind"] == "applicant").to_numpy()
    required_by_kind = {
        "existing": ("zone_id", "land_mu", "tax_wan"),
        "applicant": ("land_max_mu", "tax_wan"),
    }
    for kind, mask in (("existing", existing), ("applicant", applicant)):
        for column in required_by_kind[kind]:
            _report(
                problems,
                "error",
                "missing_value",
                mask & firms[column].isna().to_numpy(),
                labels,
                where,
                column,
                t("case.missing_for_kind", column=column, kind=kind),
                t("case.hint.missing_value", column=column),
            )
    land_min, land_max = firms["land_min_mu"], firms["land_max_mu"]
    _report(
        problems,
        "error",
        "land_min_above_max",
        (land_min > land_max).to_numpy(),
        labels,
        where,
        "land_min_mu",
        lambda i: t(
            "case.land_min_above_max", lo=f"{land_min.iloc[i]:g}", hi=f"{land_max.iloc[i]:g}"
        ),
        t("case.hint.land_min_above_max"),
    )
    _report(
        problems,
        "error",
        "land_max_zero",
        applicant & (land_max <= 0).to_numpy(),
        labels,
        where,
        "land_max_mu",
        t("case.land_max_zero"),
        t("case.hint.land_max_zero"),
    )
    _report(
        problems,
        "warning",
        "no_candidate_zones",
        applicant & firms["candidate_zones"].isna().to_numpy(),
        labels,
        where,
        "candidate_zones",
        t("case.no_candidate_zones"),
        t("case.hint.no_candidate_zones"),
    )
    if zones is not None:
        zone_ids = set(zones["zone_id"].dropna())
        _dangling(problems, firms, layer, "zone_id", zone_ids, "zones", files)
        _dangling_lists(problems, firms, layer, "candidate_zones", zone_ids, "zones", files)
    if plots is not None:
        _dangling_lists(
            problems, firms, layer, "locked_plots", set(plots["plot_id"].dropna()), "plots", files
        )


def _check_numbers(
    built: dict[str, pd.DataFrame | None], problems: ProblemList, files: dict[str, str]
) -> None:
    """Every number finite and within its plausible magnitude (:data:`NUMBER_LIMITS`)."""
    for name, layer in ALL_LAYERS.items():
        frame = built.get(name)
        if frame is None:
            continue
        labels = _labels(frame, layer)
        where = _where(name, files)
        for col in layer.columns:
            if col.kind not in ("float", "int") or col.name not in frame.columns:
                continue
            values = pd.to_numeric(frame[col.name], errors="coerce").astype(float).to_numpy()
            _report(
                problems,
                "error",
                "not_finite",
                np.isinf(values),
                labels,
                where,
                col.name,
                lambda i, v=values: t("case.not_finite", value=str(v[i])),
                t("case.hint.not_finite"),
            )
            limit, reason = NUMBER_LIMITS.get(
                col.name, (MAX_ABS_NUMBER, t("case.reason.magnitude"))
            )
            with np.errstate(invalid="ignore"):
                big = np.isfinite(values) & (np.abs(values) > limit)
            _report(
                problems,
                "error",
                "implausible_number",
                big,
                labels,
                where,
                col.name,
                lambda i, v=values, lim=limit: t(
                    "case.implausible_number", value=f"{v[i]:.6g}", limit=f"{lim:.6g}"
                ),
                t("case.hint.implausible_number", reason=reason),
            )


def _check_firm_consistency(
    built: dict[str, pd.DataFrame | None], problems: ProblemList, files: dict[str, str]
) -> None:
    """Check references that disagree, firms on zero land and defaults the model fills."""
    firms, plots = built["firms"], built.get("plots")
    if firms is None:
        return
    layer = ALL_LAYERS["firms"]
    labels = _labels(firms, layer)
    where = _where("firms", files)
    existing = (firms["kind"] == "existing").to_numpy()
    land = pd.to_numeric(firms["land_mu"], errors="coerce").to_numpy(dtype=float)
    _report(
        problems,
        "error",
        "zero_land",
        existing & (land == 0),
        labels,
        where,
        "land_mu",
        t("case.zero_land"),
        t("case.hint.zero_land"),
    )
    for column, default in DEFAULTED_FIRM_NUMBERS.items():
        if column not in firms.columns:
            continue
        _report(
            problems,
            "warning",
            "default_filled",
            firms[column].isna().to_numpy(),
            labels,
            where,
            column,
            t("case.default_filled", column=column, default=default),
            t("case.hint.default_filled", column=column),
        )
    if plots is None or "occupant_id" not in plots.columns:
        return
    firm_zone = dict(zip(firms["firm_id"], firms["zone_id"], strict=True))
    occ = plots["occupant_id"]
    plot_zone = plots["zone_id"]
    fz = occ.map(lambda f: firm_zone.get(f) if isinstance(f, str) else None)
    mismatch = (
        occ.notna()
        & fz.notna()
        & plot_zone.notna()
        & (fz.astype(object) != plot_zone.astype(object))
    ).to_numpy()
    _report(
        problems,
        "error",
        "occupant_zone_mismatch",
        mismatch,
        _labels(plots, ALL_LAYERS["plots"]),
        _where("plots", files),
        "occupant_id",
        lambda i: t(
            "case.occupant_zone_mismatch",
            firm=str(occ.iloc[i]),
            firm_zone=str(fz.iloc[i]),
            plot_zone=str(plot_zone.iloc[i]),
        ),
        t("case.hint.occupant_zone_mismatch"),
    )


def check_frames(
    built: dict[str, pd.DataFrame | None],
    problems: ProblemList,
    files: dict[str, str] | None = None,
) -> None:
    """Run every check of DATA.md on coerced frames, adding to ``problems``."""
    files = files or {}
    for name, layer in ALL_LAYERS.items():
        frame = built.get(name)
        if frame is not None:
            _check_columns(frame, layer, problems, files)
    for name in ("zones", "plots", "firms"):
        frame = built.get(name)
        missing = any(p.severity == "error" and p.layer == name for p in problems.problems)
        if frame is not None and len(frame) == 0 and not missing:
            problems.error(
                "empty_layer",
                t("case.empty_layer", layer=name),
                hint=t("case.hint.empty_layer"),
                **_where(name, files),
            )
    _check_numbers(built, problems, files)
    if built.get("plots") is not None:
        _check_plots(built, problems, files)
    if built.get("firms") is not None:
        _check_firms(built, problems, files)
        _check_firm_consistency(built, problems, files)
    firms, zones, units = built.get("firms"), built.get("zones"), built.get("control_units")
    ch = built.get("class_history")
    if ch is not None:
        layer = ALL_LAYERS["class_history"]
        if firms is not None:
            _dangling(
                problems,
                ch,
                layer,
                "firm_id",
                set(firms["firm_id"].dropna()),
                "firms",
                files,
                severity="warning",
            )
        dup = ch.duplicated(subset=["firm_id", "year"], keep="first") & ch["firm_id"].notna()
        _report(
            problems,
            "error",
            "duplicate_class_year",
            dup.to_numpy(),
            _labels(ch, layer),
            _where("class_history", files),
            "year",
            lambda i: t("case.duplicate_class_year", firm=str(ch["firm_id"].iloc[i])),
            t("case.hint.duplicate_id"),
        )
    rules = built.get("access_rules")
    if rules is not None:
        layer = ALL_LAYERS["access_rules"]
        if units is not None:
            _dangling(
                problems,
                rules,
                layer,
                "scope_id",
                set(units["unit_id"].dropna()),
                "control_units",
                files,
                mask=(rules["scope"] == "unit"),
            )
        _dangling(
            problems,
            rules,
            layer,
            "scope_id",
            set(UNIT_CATEGORIES),
            "category",
            files,
            mask=(rules["scope"] == "category"),
        )
        _check_pattern(problems, rules, layer, "industry_prefix", PREFIX_RE, files)
    cat = built.get("catalogue")
    if cat is not None:
        layer = ALL_LAYERS["catalogue"]
        if zones is not None:
            _dangling(
                problems, cat, layer, "zone_id", set(zones["zone_id"].dropna()), "zones", files
            )
        _check_pattern(problems, cat, layer, "industry_prefix", PREFIX_RE, files)
    lur = built.get("land_use_rules")
    if lur is not None:
        _check_pattern(
            problems, lur, ALL_LAYERS["land_use_rules"], "industry_prefix", PREFIX_RE, files
        )
    cl = built.get("county_lists")
    if cl is not None:
        layer = ALL_LAYERS["county_lists"]
        _report(
            problems,
            "error",
            "dates_reversed",
            (cl["valid_to"] < cl["valid_from"]).to_numpy(),
            _labels(cl, layer),
            _where("county_lists", files),
            "valid_to",
            t("case.dates_reversed"),
            t("case.hint.dates_reversed"),
        )
    _check_partner_county(problems, built.get("firms"), cl, files)
    if zones is not None:
        pos = zones["positioning"]
        bad = pos.map(lambda s: any(x not in POSITIONING for x in split_list(s))).astype(bool)
        _report(
            problems,
            "warning",
            "bad_positioning",
            bad.to_numpy(),
            _labels(zones, ALL_LAYERS["zones"]),
            _where("zones", files),
            "positioning",
            lambda i: t("case.bad_positioning", value=str(pos.iloc[i])),
            t("case.hint.choices", choices="; ".join(POSITIONING)),
        )


def _check_partner_county(
    problems: ProblemList,
    firms: pd.DataFrame | None,
    county_lists: pd.DataFrame | None,
    files: dict[str, str],
) -> None:
    """Warn about a firm's ``partner_county`` that no county list names (it counts for none)."""
    if firms is None or "partner_county" not in firms.columns:
        return
    known = set()
    if county_lists is not None and "county" in county_lists.columns:
        known = set(county_lists["county"].dropna().astype(str))
    pc = firms["partner_county"]
    bad = pc.map(lambda c: isinstance(c, str) and c != "" and c not in known).astype(bool)
    _report(
        problems,
        "warning",
        "unknown_partner_county",
        bad.to_numpy(),
        _labels(firms, ALL_LAYERS["firms"]),
        _where("firms", files),
        "partner_county",
        lambda i: t("case.unknown_partner_county", value=str(pc.iloc[i])),
        t("case.hint.unknown_partner_county"),
    )
