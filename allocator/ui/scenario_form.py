"""Scenario widgets generated from ``allocator.scenario.scenario_schema()``.

Every schema key becomes a widget (keyed ``<prefix><dotted key>``) labelled with
the schema's own description in the session's language; the form returns only
the keys the user changed, as a flat dotted dict for ``Scenario.with_overrides``.
Cap factors are sliders in percent; the per-zone ``caps.zones.*`` keys are
expanded once per zone of the case (energy and electricity factors), so "every
cap per zone" is one slider each.
"""

from __future__ import annotations

import math
from typing import Any

import streamlit as st

from allocator import i18n, scenario_schema
from allocator.ui.common import fixed, lang, list_methods, t

HIDDEN = ("name", "description", "case", "case_hash")
SECTIONS = ("caps", "switches", "classes", "exit", "eligibility", "solver", "objective", "energy")
ZONE_KEYS = ("energy_factor", "electricity_factor")
SLIDER_SPAN = 10.0


def schema() -> list[dict[str, Any]]:
    """Return the scenario schema in the session's language."""
    return scenario_schema(lang())


def section_of(key: str) -> str:
    """Return the section (expander) a key is shown in."""
    head = key.split(".")[0]
    return head if head in SECTIONS else "objective" if head == "service_floor" else head


def section_label(section: str) -> str:
    """Return the label of a section."""
    key = f"ui.section.{section}"
    return i18n.t(key, lang=lang()) if i18n.has(key) else section


def _is_factor(key: str) -> bool:
    return key.endswith("_factor") or key.endswith(".factor")


_BASE = object()
"""``widget(start=...)`` default: the widget starts at the base scenario's value."""


def widget(key: str, desc: dict, value: Any, wkey: str, start: Any = _BASE) -> Any:
    """Draw one widget for a schema entry; return its value in the scenario's units.

    ``value`` is the base scenario's value; ``start`` the value the widget shows
    when it is drawn anew (a kept draft's), by default the base's.
    """
    shown = value if start is _BASE else start
    label = desc.get("description") or key
    helptext = key
    kind = desc.get("type")
    lo, hi = desc.get("min"), desc.get("max")
    choices = list(desc.get("choices") or [])
    if kind == "bool":
        return st.toggle(label, value=bool(shown), key=wkey, help=helptext)
    if kind == "list[str]":
        opts = list(dict.fromkeys([*choices, *(value or []), *(shown or [])]))
        return st.multiselect(label, opts, default=list(shown or []), key=wkey, help=helptext)
    if kind == "str":
        if key == "scoring.method":
            choices = list(dict.fromkeys([str(value), *list_methods()]))
        if choices:
            extra = [v for v in (value, shown) if v not in choices]
            opts = list(dict.fromkeys([*extra, *choices]))
            return st.selectbox(
                label,
                opts,
                index=opts.index(shown),
                key=wkey,
                help=helptext,
                format_func=fixed(choice_label),
            )
        return st.text_input(label, value=str(shown or ""), key=wkey, help=helptext)
    if kind == "int":
        return int(
            st.number_input(
                label,
                value=int(shown if shown is not None else desc.get("default") or 0),
                min_value=int(lo) if lo is not None else None,
                max_value=int(hi) if hi is not None else None,
                step=1,
                key=wkey,
                help=helptext,
            )
        )
    # floats
    if _is_factor(key):
        base_pct = 100.0 * (1.0 if value is None else float(value))
        pct = 100.0 * (1.0 if shown is None else float(shown))
        top = max(200.0, math.ceil(max(base_pct, pct) / 50) * 50)
        chosen = st.slider(
            f"{label} (%)", 0.0, top, pct, step=1.0, key=wkey, help=helptext, format="%.0f%%"
        )
        if value is None and abs(chosen - 100.0) < 1e-9:
            return None
        return chosen / 100.0
    if shown is not None and math.isinf(float(shown)):
        shown = None
    if key == "solver.rel_gap":
        # in percent, any value the schema allows (0.5 % included), not a slider's coarse steps
        pct = st.number_input(
            f"{label} (%)",
            value=100.0 * float(shown if shown is not None else desc.get("default") or 0.0),
            min_value=100.0 * float(lo or 0.0),
            max_value=100.0 * float(hi if hi is not None else 1.0),
            step=0.05,
            format="%.3f",
            key=wkey,
            help=helptext,
        )
        return float(pct) / 100.0
    if lo is not None and hi is not None and float(hi) - float(lo) <= SLIDER_SPAN:
        return st.slider(
            label,
            float(lo),
            float(hi),
            float(shown if shown is not None else lo),
            step=(float(hi) - float(lo)) / 100,
            key=wkey,
            help=helptext,
        )
    if key == "eligibility.redline_buffer_m":
        return st.slider(label, 0.0, float(hi or 5000), float(shown or 0), 50.0, key=wkey)
    number = st.number_input(  # type: ignore[misc]  # mypy gives up on its many union overloads
        label,
        value=None if shown is None else float(shown),  # type: ignore[arg-type]  # None: empty box
        min_value=float(lo) if lo is not None else None,
        max_value=float(hi) if hi is not None else None,
        placeholder="∞" if desc.get("default") == math.inf else "—",
        format="%.4g",
        key=wkey,
        help=helptext,
    )
    if number is None and desc.get("default") == math.inf:
        return math.inf
    return number


def choice_label(value: Any) -> str:
    """Return a choice in planner words (当量值, HiGHS …) when the locale has it."""
    key = f"ui.choice.{value}"
    return i18n.t(key, lang=lang()) if i18n.has(key) else str(value)


def _differs(new: Any, old: Any) -> bool:
    if old is None or new is None:
        return (old is None) != (new is None)
    if isinstance(old, float | int) and isinstance(new, float | int):
        if math.isinf(float(old)) or math.isinf(float(new)):
            return float(old) != float(new)
        return not math.isclose(float(new), float(old), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(old, list | tuple) and isinstance(new, list | tuple):
        return sorted(map(str, new)) != sorted(map(str, old))
    return new != old


def form(
    scenario: Any,
    zones: list[tuple[str, str]],
    prefix: str,
    initial: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Draw the scenario's widgets grouped by section; return the changed keys (dotted).

    ``initial`` holds changed keys kept from before (a draft): a widget drawn
    anew (after a page change or a reload) starts there instead of at the base.
    """
    initial = initial or {}
    entries = [d for d in schema() if d["key"] not in HIDDEN]
    changed: dict[str, Any] = {}
    by_section: dict[str, list[dict]] = {}
    for desc in entries:
        by_section.setdefault(section_of(desc["key"]), []).append(desc)
    order = [s for s in SECTIONS if s in by_section] + [s for s in by_section if s not in SECTIONS]
    for section in order:
        with st.expander(section_label(section), expanded=section == "caps"):
            for desc in by_section[section]:
                key = desc["key"]
                if key.startswith("caps.units."):
                    continue  # per-unit caps: set in a scenario file (too many for widgets)
                if key.startswith("caps.zones."):
                    continue  # drawn below, one slider per zone
                if "*" in key:
                    continue  # other per-zone keys (land.use_share.*): set in a scenario file
                old = scenario.get(key)
                new = widget(key, desc, old, prefix + key, initial.get(key, old))
                if _differs(new, old):
                    changed[key] = new
            if section == "caps" and zones:
                st.markdown(f"**{t('ui.whatif.zone_caps')}**")
                zone_descs = {
                    d["key"].split(".")[-1]: d
                    for d in entries
                    if d["key"].startswith("caps.zones.")
                }
                for zone_id, name in zones:
                    cols = st.columns(len(ZONE_KEYS))
                    for col, field in zip(cols, ZONE_KEYS, strict=True):
                        key = f"caps.zones.{zone_id}.{field}"
                        desc = dict(zone_descs.get(field, {"type": "float"}))
                        desc["description"] = f"{zone_id} {name} · {t(f'ui.whatif.{field}')}"
                        old = scenario.get(key)
                        with col:
                            new = widget(key, desc, old, prefix + key, initial.get(key, old))
                        if _differs(new, old):
                            changed[key] = new
    return changed


def caption_changes(overrides: dict, zones: list[tuple[str, str]] | None = None) -> None:
    """Show which parameters differ from the base scenario, by their descriptions."""
    if not overrides:
        return
    descs = {d["key"]: d for d in schema()}
    names = dict(zones or [])
    shown = []
    for key, value in list(overrides.items())[:12]:
        parts = key.split(".")
        if key.startswith("caps.zones.") and len(parts) == 4:
            label = f"{names.get(parts[2], parts[2])} · {t(f'ui.whatif.{parts[3]}')}"
        else:
            generic = ".".join(p if i != 2 else "*" for i, p in enumerate(parts))
            desc = descs.get(key) or descs.get(generic) or {}
            label = desc.get("description") or key
        shown.append(f"{label} = {_value_text(key, value)}")
    st.caption(t("ui.whatif.changed", n=len(overrides)) + " " + "；".join(shown))


def _value_text(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return t("ui.on") if value else t("ui.off")
    if isinstance(value, float) and _is_factor(key):
        return f"{100 * value:.0f}%"
    if isinstance(value, list | tuple):
        return "、".join(choice_label(v) for v in value) or "—"
    if value is None:
        return "—"
    return choice_label(value)
