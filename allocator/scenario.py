"""Scenarios: TOML files that name a case and set only parameters.

A scenario says what differs from a base (``extends = "baseline.toml"``,
chains allowed, cycles are errors), like calliope's overrides. Every key is
declared in one typed schema (:func:`scenario_schema`, which the app turns into
widgets); unknown keys, wrong types, out-of-range values and conflicting
values are :class:`~allocator.errors.ScenarioError` naming the file and key.
The resolved scenario is frozen (nested read-only mappings) and hashed
(sha256 of the canonical JSON of its parameters).

The case is named by ``case`` (a path, relative to the file that sets it) and,
in saved scenarios (:mod:`allocator.scenario_library`), also by its content
hash ``case_hash``: solving on a case with another hash is an error naming the
key (:func:`allocator.scenario_refs.check_case_hash`).

Conflicts (within one file or override dict; a child file may always replace
what its parent set):

- one key given twice with different values (a dotted and a nested spelling);
- the same cap set both as an absolute value and as a factor
  (``caps.zones.Z03.energy_tce`` and ``caps.zones.Z03.energy_factor``; a unit's
  ``factor`` scales all four of its pollutant caps, so it conflicts with any
  ``caps.units.U01.cod_t`` … of the same unit);
- a switchable family switched off while the same file sets its parameters
  (``switches.class_floor = false`` with ``classes.floor.A = 0.9``).

Each pollutant cap of a control unit (``caps.units.U01.cod_t``,
``caps.units.U01.nh3n_t`` …) is its own key: one unit may carry several, and
a child that sets one keeps the others it inherits. Across files, a key drops
the inherited keys whose caps it covers: an absolute zone cap drops the
parent's factor for that cap and vice versa (a child can move from a factor to
an absolute value), and a unit ``factor`` drops the parent's pollutant caps of
that unit; a unit pollutant cap keeps the parent's unit factor, which then
still scales the other pollutants.

Cap overrides resolve as: zone value = (absolute if set, else case value ×
zone factor) × all-zones factor; the province energy cap is the absolute
value, or the factor × the sum of the resolved zone energy caps, or none; a
unit's pollutant cap = absolute if set, else case value × unit factor ×
all-units factor.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
import numbers
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from allocator.errors import ScenarioError
from allocator.i18n import t
from allocator.units import TCE_PER_MWH_CALORIFIC
from models.data import CLASSES, OFF_BY_DEFAULT, POLLUTANTS, SEARCHES, SWITCHABLE, USES

ANY_ID = "*"
"""Placeholder segment for per-zone / per-unit keys in the schema."""

SOLVERS = ("highs", "cbc")
BASES = ("calorific", "equivalent")
TARGET_MODES = ("constraint", "objective")
"""How ``a_class_target`` uses its target: a row (at least n zones) or an objective term only."""
"""当量值 (calorific, 0.1229 tce/MWh) and 等价值 (equivalent, ≈0.28–0.31 tce/MWh)."""


@dataclass(frozen=True)
class Field:
    """One scenario key: its type, default, allowed range and description key."""

    key: str
    type: str  # float | int | bool | str | list[str]
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False
    """None (not set) is allowed; the default is None."""
    sets: tuple[str, ...] = ()
    """The caps this key sets, per zone or unit: two keys of one zone or unit that set a common
    cap conflict in one file, and a child's key replaces the parent's keys whose caps it covers."""

    @property
    def desc_key(self) -> str:
        """The i18n key of the description."""
        return "solve.scenario." + self.key.replace(".*.", ".").replace(".", "_")


def _fields() -> list[Field]:
    f: list[Field] = [
        Field("name", "str", ""),
        Field("description", "str", ""),
        Field("case", "str", "", optional=True),
        Field("case_hash", "str", None, optional=True),
        Field("objective.alpha_va", "float", 1.0, min=0.0),
        Field("objective.alpha_tax", "float", 1.0, min=0.0),
    ]
    f += [Field(f"objective.class_weight.{c}", "float", 1.0, min=0.0) for c in CLASSES]
    f += [Field(f"switches.{s}", "bool", s not in OFF_BY_DEFAULT) for s in SWITCHABLE]
    f += [Field(f"classes.floor.{c}", "float", 0.0, min=0.0, max=1.0) for c in CLASSES]
    f += [Field(f"classes.cap.{c}", "float", math.inf, min=0.0) for c in CLASSES]
    f += [Field(f"classes.growth.{c}", "float", 1.0, min=0.0, max=10.0) for c in CLASSES]
    f += [
        Field("service_floor", "float", 0.0, min=0.0, max=1.0),
        Field("exit.classes", "list[str]", [], choices=CLASSES),
        Field("exit.non_catalogue", "bool", False),
        Field("exit.relocation_cost_wan_per_mu", "float", 0.0, min=0.0),
        Field(
            "energy.electricity_coef_tce_per_mwh", "float", TCE_PER_MWH_CALORIFIC, min=0.0, max=1.0
        ),
        Field("energy.basis", "str", "calorific", choices=BASES),
        Field(
            "energy.case_electricity_coef_tce_per_mwh",
            "float",
            TCE_PER_MWH_CALORIFIC,
            min=0.0,
            max=1.0,
        ),
        Field("energy.trade_threshold_tce_per_wan", "float", 0.6, min=0.0),
        Field("energy.trade_price_wan_per_tce", "float", 0.0, min=0.0),
        Field("caps.electricity_factor", "float", 1.0, min=0.0),
        Field("caps.energy_factor", "float", 1.0, min=0.0),
        Field("caps.intensity_factor", "float", 1.0, min=0.0),
        Field("caps.unit_emission_factor", "float", 1.0, min=0.0),
        Field("caps.province_energy_tce", "float", None, min=0.0, optional=True, sets=("prov",)),
        Field("caps.province_energy_factor", "float", None, min=0.0, optional=True, sets=("prov",)),
    ]
    for absolute, factor, cap in (
        ("electricity_mwh", "electricity_factor", "el"),
        ("energy_tce", "energy_factor", "en"),
        ("intensity_tce_per_wan", "intensity_factor", "in"),
    ):
        f += [
            Field(f"caps.zones.*.{absolute}", "float", None, min=0.0, optional=True, sets=(cap,)),
            Field(f"caps.zones.*.{factor}", "float", None, min=0.0, optional=True, sets=(cap,)),
        ]
    # One cap per unit × pollutant; the unit factor scales all four.
    f.append(Field("caps.units.*.factor", "float", None, min=0.0, optional=True, sets=POLLUTANTS))
    f += [
        Field(f"caps.units.*.{k}_t", "float", None, min=0.0, optional=True, sets=(k,))
        for k in POLLUTANTS
    ]
    f += [
        Field("land.far_rule", "str", "far_upgrade_default"),
        Field("land.far_cost_yuan_per_m2", "float", None, min=0.0, optional=True),
        Field("land.idle_rule", "str", "idle_reuse_default"),
        Field("land.supply_rule", "str", "land_supply_default"),
        Field("land.supply_plan_years", "int", 20, min=1, max=50),
        Field("land.supply_start_year", "int", 2026, min=2000, max=2100),
        Field("land.return_by_year", "int", 2046, min=2000, max=2200),
        Field("land.mixed_use", "bool", False),
        Field("land.use_rule", "str", "land_use_mix"),
    ]
    f += [
        Field(f"land.use_share.*.{u}", "float", None, min=0.0, max=1.0, optional=True) for u in USES
    ]
    f += [
        Field("assessment.rule", "str", "assessment_a_class"),
        Field("eligibility.redline_threshold", "float", 0.0, min=0.0, max=1.0),
        Field("eligibility.redline_buffer_m", "float", 0.0, min=0.0, max=5000.0),
        Field("eligibility.bundle_size", "int", 3, min=1, max=6),
        Field("eligibility.catalogue", "bool", False),
        Field("scoring.method", "str", "huangyan_2022"),
        Field("solver.name", "str", "highs", choices=SOLVERS),
        Field("solver.time_limit_s", "float", 60.0, min=0.1, max=86400.0),
        Field("solver.rel_gap", "float", 1e-4, min=0.0, max=1.0),
        Field("solver.threads", "int", 1, min=1, max=64),
        Field("solver.seed", "int", 0, min=0),
        Field("alternatives.k", "int", 5, min=1, max=50),
        Field("alternatives.within", "float", 0.02, min=0.0, max=1.0),
        Field("stability.approved", "str", None, optional=True),
        Field("stability.max_changes", "int", None, min=0, optional=True),
        Field("stability.change_cost_wan", "float", 0.0, min=0.0),
        Field("solver.work_limit", "int", 0, min=0),  # 0: no work limit
        Field("solver.search", "str", "auto", choices=SEARCHES),
        Field("assessment.target_zones", "int", 0, min=0),  # 0: the policy's goal
        Field("assessment.target_mode", "str", "constraint", choices=TARGET_MODES),
        Field("assessment.zone_weight_wan", "float", 0.0, min=0.0),
        Field("mountain.list_name", "str", "山区26县"),
        Field("mountain.as_of", "str", ""),  # empty: the list's latest change
        Field("mountain.reserve_mu", "float", None, min=0.0, optional=True),
        Field("mountain.reserve_tce", "float", None, min=0.0, optional=True),
    ]
    return f


FIELDS: tuple[Field, ...] = tuple(_fields())
_EXACT: dict[str, Field] = {f.key: f for f in FIELDS if ANY_ID not in f.key}
_PATTERN: list[tuple[re.Pattern[str], Field]] = [
    (re.compile("^" + re.escape(f.key).replace(r"\*", r"([^.]+)") + "$"), f)
    for f in FIELDS
    if ANY_ID in f.key
]
FREE_TABLES = ("source",)
"""Top-level tables kept as they are (provenance), not validated key by key."""

# Parameters that a switched-off family makes meaningless (conflict when set in the same file).
_SWITCH_PARAMS: dict[str, tuple[str, ...]] = {
    "class_floor": ("classes.floor.",),
    "class_cap": ("classes.cap.",),
    "service_floor": ("service_floor",),
    "zone_energy": ("caps.energy_factor", "caps.zones.*.energy_"),
    "zone_electricity": ("caps.electricity_factor", "caps.zones.*.electricity_"),
    "energy_intensity": ("caps.intensity_factor", "caps.zones.*.intensity_"),
    "province_energy": ("caps.province_energy_",),
    "unit_emissions": ("caps.unit_emission_factor", "caps.units."),
    "far_upgrade": ("land.far_",),
    "idle_reuse": ("land.idle_",),
    "use_share_min": ("land.use_share.",),
    "a_class_target": ("assessment.target_", "assessment.zone_weight_wan"),
    "mountain_land": ("mountain.reserve_mu",),
    "mountain_energy": ("mountain.reserve_tce",),
}
_NOT_HASHED = ("name", "description", "case", "case_hash")


def field_for(key: str) -> Field | None:
    """Return the schema field of a dotted key (per-zone keys match ``*``), or None."""
    if key in _EXACT:
        return _EXACT[key]
    for pattern, fld in _PATTERN:
        if pattern.match(key):
            return fld
    return None


def check_param(key: str, value: Any, where: str) -> Any:
    """Validate one parameter given outside a scenario file (a CLI flag, an API argument).

    Same rules as in a file (type, range, choices); ``where`` names the source,
    e.g. ``--time-limit``. Returns the coerced value.
    """
    fld = field_for(key)
    if fld is None:
        raise ScenarioError(
            t("err.scenario.unknown_key", where=where, param=key),
            hint=t("err.scenario.see_schema"),
        )
    return _check_value(fld, key, value, where)


ANALYSIS_TABLES: tuple[str, ...] = ("alternatives.", "stability.")
"""Keys that configure an analysis (alternatives, stability), not the plan of a solve."""


def scenario_schema(lang: str | None = None, *, analysis: bool = False) -> list[dict[str, Any]]:
    """Return every scenario key with its type, default, range and description.

    The app builds its widgets from this list. Keys containing ``*`` stand for
    one entry per zone (``caps.zones.*``) or control unit (``caps.units.*``).
    The analysis keys (:data:`ANALYSIS_TABLES`) are included only with
    ``analysis=True``: a what-if form has no use for them.
    """
    from allocator.i18n import t

    out = []
    for f in FIELDS:
        if not analysis and f.key.startswith(ANALYSIS_TABLES):
            continue
        out.append(
            {
                "key": f.key,
                "type": f.type,
                "default": copy.deepcopy(f.default),
                "min": f.min,
                "max": f.max,
                "choices": list(f.choices),
                "optional": f.optional,
                "description": t(f.desc_key, lang),
                "description_zh": t(f.desc_key, "zh"),
                "description_en": t(f.desc_key, "en"),
            }
        )
    return out


def defaults() -> dict[str, Any]:
    """Return the flat dict of defaults of every non-pattern key."""
    return {f.key: copy.deepcopy(f.default) for f in FIELDS if ANY_ID not in f.key}


# ----------------------------------------------------------------------------- parsing


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and not (prefix == "" and key in FREE_TABLES):
            yield from _flatten(value, dotted + ".")
        else:
            yield dotted, value


def _check_value(fld: Field, key: str, value: Any, where: str) -> Any:
    def bad(problem: str) -> ScenarioError:
        bounded = fld.min is not None or fld.max is not None
        return ScenarioError(
            t("err.scenario.bad_value", where=where, param=key, problem=problem),
            hint=t(
                "err.scenario.expected",
                type=fld.type,
                range=t("err.scenario.range", min=fld.min, max=fld.max) if bounded else "",
                choices=t("err.scenario.choices", choices=list(fld.choices)) if fld.choices else "",
            ),
        )

    if value is None:
        if fld.optional:
            return None
        raise bad(t("err.scenario.must_be_set"))
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)  # numpy integers from widgets
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = float(value)
    if fld.type == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad(t("err.scenario.wrong_type", type=type(value).__name__))
        value = float(value)
        if math.isnan(value):
            raise bad(t("err.scenario.nan"))
    elif fld.type == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise bad(t("err.scenario.wrong_type", type=type(value).__name__))
    elif fld.type == "bool":
        if not isinstance(value, bool):
            raise bad(t("err.scenario.wrong_type", type=type(value).__name__))
    elif fld.type == "str":
        if not isinstance(value, str):
            raise bad(t("err.scenario.wrong_type", type=type(value).__name__))
    elif fld.type == "list[str]":
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise bad(t("err.scenario.not_str_list"))
        value = sorted(dict.fromkeys(value))
        if fld.choices:
            wrong = [v for v in value if v not in fld.choices]
            if wrong:
                raise bad(t("err.scenario.unknown_values", values=wrong))
        return value
    if fld.choices and value not in fld.choices:
        raise bad(t("err.scenario.unknown_value", value=repr(value)))
    if fld.type in ("float", "int"):
        if fld.min is not None and value < fld.min:
            raise bad(t("err.scenario.below_min", value=value, min=fld.min))
        if fld.max is not None and value > fld.max:
            raise bad(t("err.scenario.above_max", value=value, max=fld.max))
    return value


def _parse_layer(raw: Mapping[str, Any], where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate one file's (or override dict's) keys; return (flat params, free tables)."""
    flat: dict[str, Any] = {}
    free: dict[str, Any] = {}
    for key, value in _flatten(raw):
        if key in FREE_TABLES:
            free[key] = value
            continue
        if key == "extends":
            continue
        fld = field_for(key)
        if fld is None:
            known = list(_EXACT) + [f.key for _, f in _PATTERN]
            close = difflib.get_close_matches(key, known, n=1)
            raise ScenarioError(
                t("err.scenario.unknown_key", where=where, param=key),
                hint=t("err.scenario.did_you_mean", close=close[0])
                if close
                else t("err.scenario.see_schema"),
            )
        checked = _check_value(fld, key, value, where)
        if key in flat and flat[key] != checked:
            raise ScenarioError(
                t("err.scenario.key_twice", where=where, param=key),
                hint=t("err.scenario.keep_one"),
            )
        flat[key] = checked
    _check_conflicts(flat, where)
    return flat, free


def _cap_slots(key: str) -> set[tuple[str, str]]:
    """Return the (zone or unit prefix, cap) pairs that ``key`` sets (empty for other keys)."""
    fld = field_for(key)
    if fld is None or not fld.sets:
        return set()
    prefix = key.rsplit(".", 1)[0]
    return {(prefix, cap) for cap in fld.sets}


def _check_conflicts(flat: dict[str, Any], where: str) -> None:
    seen: dict[tuple[str, str], str] = {}
    for key, value in flat.items():
        if value is None:
            continue
        for slot in sorted(_cap_slots(key)):
            if slot in seen:
                raise ScenarioError(
                    t("err.scenario.same_cap_twice", where=where, a=seen[slot], b=key),
                    hint=t("err.scenario.keep_one"),
                )
            seen[slot] = key
    for family, prefixes in _SWITCH_PARAMS.items():
        if flat.get(f"switches.{family}") is not False:
            continue
        for key, value in flat.items():
            norm = re.sub(r"^caps\.(zones|units)\.[^.]+\.", r"caps.\1.*.", key)
            if any(norm.startswith(p) or key.startswith(p) for p in prefixes):
                fld = field_for(key)
                if value is not None and fld is not None and value != fld.default:
                    raise ScenarioError(
                        t("err.scenario.switched_off", where=where, family=family, param=key),
                        hint=t("err.scenario.switched_off_hint", family=family, param=key),
                    )


def _merge(base: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """Apply a child layer key by key; a cap key drops the inherited keys whose caps it covers."""
    out = dict(base)
    for key, value in layer.items():
        slots = _cap_slots(key)
        if slots:
            for other in [k for k in out if k != key]:
                theirs = _cap_slots(other)
                if theirs and theirs <= slots:
                    del out[other]
        out[key] = value
    return out


def _check_resolved(flat: Mapping[str, Any], where: str) -> None:
    """Cross-key checks on the resolved parameters (after inheritance)."""
    basis = flat.get("energy.basis")
    coef = float(flat.get("energy.electricity_coef_tce_per_mwh", TCE_PER_MWH_CALORIFIC))
    if basis == "calorific" and not 0.12 <= coef <= 0.125:
        raise ScenarioError(
            t("err.scenario.basis_calorific", where=where, coef=coef),
            hint=t("err.scenario.basis_calorific_hint"),
        )
    if basis == "equivalent" and not 0.2 <= coef <= 0.45:
        raise ScenarioError(
            t("err.scenario.basis_equivalent", where=where, coef=coef),
            hint=t("err.scenario.basis_equivalent_hint"),
        )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(
            t("err.scenario.cannot_read", path=path, error=exc.strerror),
            hint=t("err.scenario.check_path"),
        ) from exc
    try:
        return tomllib.loads(raw.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(
            t("err.scenario.not_toml", path=path, error=exc), hint=t("err.scenario.fix_syntax")
        ) from exc


MAX_EXTENDS_DEPTH = 32
"""Longest ``extends`` chain: a real scenario extends one or two others; a chain
this long is generated or a mistake (and deeper ones would exhaust the stack)."""


def _resolve_file(
    path: Path, chain: tuple[Path, ...] = ()
) -> tuple[dict[str, Any], dict[str, Any], list[Path]]:
    path = path.resolve()
    if path in chain:
        cycle = " → ".join(p.name for p in (*chain, path))
        raise ScenarioError(
            t("err.scenario.cycle", path=path, cycle=cycle), hint=t("err.scenario.break_cycle")
        )
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(
            t("err.scenario.extends_too_deep", path=chain[0], n=MAX_EXTENDS_DEPTH, last=path),
            hint=t("err.scenario.extends_too_deep_hint"),
        )
    raw = _read_toml(path)
    parent_flat: dict[str, Any] = defaults()
    parent_free: dict[str, Any] = {}
    files: list[Path] = []
    ext = raw.get("extends")
    if ext is not None:
        if not isinstance(ext, str):
            raise ScenarioError(
                t("err.scenario.extends_name", path=path), hint=t("err.scenario.extends_hint")
            )
        parent_flat, parent_free, files = _resolve_file(path.parent / ext, (*chain, path))
    flat, free = _parse_layer(raw, str(path))
    if flat.get("case"):
        case = Path(flat["case"])
        flat["case"] = str(case if case.is_absolute() else (path.parent / case).resolve())
    merged = _merge(parent_flat, flat)
    if "name" not in flat:
        merged["name"] = path.stem
    free_merged = {**parent_free, **free}
    _check_resolved(merged, str(path))
    return merged, free_merged, [*files, path]


# ----------------------------------------------------------------------------- the object


def _freeze(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in obj.items()})
    if isinstance(obj, list | tuple):
        return tuple(_freeze(v) for v in obj)
    return obj


def _thaw(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {k: _thaw(v) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return [_thaw(v) for v in obj]
    return obj


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in sorted(flat):
        value = flat[key]
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def _canon(obj: Any) -> Any:
    if isinstance(obj, float):
        if math.isinf(obj):
            return "inf" if obj > 0 else "-inf"
        return repr(obj)
    if isinstance(obj, Mapping):
        return {k: _canon(v) for k, v in sorted(obj.items())}
    if isinstance(obj, list | tuple):
        return [_canon(v) for v in obj]
    return obj


@dataclass(frozen=True)
class Scenario:
    """A resolved, frozen scenario.

    ``flat`` maps every dotted key to its value (None = not set); ``data`` is
    the same as nested read-only mappings; ``source`` keeps the provenance
    tables; ``files`` lists the chain of files from the root ancestor.
    """

    flat: Mapping[str, Any]
    source: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    files: tuple[Path, ...] = ()

    @property
    def name(self) -> str:
        """The scenario name (file stem unless ``name`` is set)."""
        return str(self.flat.get("name") or "scenario")

    @property
    def case_path(self) -> Path | None:
        """Absolute path of the case, or None when the scenario names none."""
        case = self.flat.get("case")
        return Path(case) if case else None

    @property
    def data(self) -> Mapping[str, Any]:
        """The resolved parameters as nested read-only mappings."""
        frozen: Mapping[str, Any] = _freeze(
            _nest({k: v for k, v in self.flat.items() if v is not None})
        )
        return frozen

    @property
    def hash(self) -> str:
        """sha256 of the canonical JSON of the parameters (name, description, case ref excluded)."""
        params = {k: v for k, v in self.flat.items() if k not in _NOT_HASHED and v is not None}
        text = json.dumps(_canon(params), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def get(self, key: str, default: Any = None) -> Any:
        """Return the value of a dotted key."""
        value = self.flat.get(key, default)
        return _thaw(value) if isinstance(value, tuple) else value

    def __getitem__(self, key: str) -> Any:
        if key not in self.flat:
            raise KeyError(key)
        return self.get(key)

    def class_values(self, prefix: str) -> tuple[float, ...]:
        """Return ``prefix.A`` … ``prefix.D`` as a tuple in :data:`CLASSES` order."""
        return tuple(float(self.flat[f"{prefix}.{c}"]) for c in CLASSES)

    def per_id(self, prefix: str) -> dict[str, dict[str, Any]]:
        """Return ``{id: {field: value}}`` for ``caps.zones`` or ``caps.units``."""
        out: dict[str, dict[str, Any]] = {}
        for key, value in self.flat.items():
            if value is None or not key.startswith(prefix + "."):
                continue
            ident, name = key[len(prefix) + 1 :].rsplit(".", 1)
            out.setdefault(ident, {})[name] = value
        return out

    def subset_hash(self, prefixes: tuple[str, ...]) -> str:
        """Hash of the keys starting with one of ``prefixes`` (for caches)."""
        sub = {k: v for k, v in self.flat.items() if k.startswith(prefixes) and v is not None}
        return hashlib.sha256(json.dumps(_canon(sub), sort_keys=True).encode()).hexdigest()

    def with_overrides(self, overrides: Mapping[str, Any], where: str = "<overrides>") -> Scenario:
        """Return a new scenario with ``overrides`` (nested or dotted keys) applied.

        The overrides are validated like a child file: unknown keys, wrong
        types and conflicts are :class:`ScenarioError` naming ``where``.
        """
        flat, free = _parse_layer(overrides, where)
        if flat.get("case"):
            flat["case"] = str(Path(flat["case"]).resolve())
        merged = _merge(dict(self.flat), flat)
        _check_resolved(merged, where)
        source = {**_thaw(self.source), **free}
        return Scenario(_freeze(merged), _freeze(source), self.files)

    def to_dict(self) -> dict[str, Any]:
        """Return the resolved scenario as a plain nested dict (None keys dropped)."""
        out = _nest({k: _thaw(v) for k, v in self.flat.items() if v is not None})
        if self.source:
            out.update(_thaw(self.source))
        return out

    def to_toml(self) -> str:
        """Return the resolved scenario as TOML (no ``extends``; the case path absolute)."""
        import tomli_w

        return tomli_w.dumps(self.to_dict())

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_toml` to ``path``."""
        path = Path(path)
        path.write_text(self.to_toml(), encoding="utf-8")
        return path


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load and resolve a scenario file (with its ``extends`` chain).

    Parameters
    ----------
    path
        The TOML file.
    overrides
        Optional extra keys applied last (nested or dotted), e.g. from the app.

    Raises
    ------
    ScenarioError
        Unreadable file, unknown key, wrong type, out of range, conflict or cycle.
    """
    flat, free, files = _resolve_file(Path(path))
    scen = Scenario(_freeze(flat), _freeze(free), tuple(files))
    if overrides:
        scen = scen.with_overrides(overrides)
    return scen


def scenario_from_dict(data: Mapping[str, Any], where: str = "<dict>") -> Scenario:
    """Build a scenario from a dict (nested or dotted keys) on top of the defaults."""
    flat, free = _parse_layer(data, where)
    merged = _merge(defaults(), flat)
    _check_resolved(merged, where)
    if not merged.get("name"):
        merged["name"] = "scenario"
    return Scenario(_freeze(merged), _freeze(free), ())
