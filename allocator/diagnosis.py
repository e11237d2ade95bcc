"""Why a scenario has no plan, as typed records a planner can act on.

A :class:`Diagnosis` holds :class:`DiagnosisItem` records from two sources:
presolve proofs (cheap, exact: "the floors alone need 1,240 tce, the cap is
980") and the elastic re-solve (the rows that had to be relaxed, by how much).
Each item names its policy family, its subject (zone, control unit, firm —
by the planner's name as well as its id), the amount needed in planner units
and that amount's share of the cap, with a label in zh and en. Items are
sorted by what it takes to repair: proofs first, then the largest relaxation
relative to its cap. The run folder keeps the record as ``diagnosis.json``;
:meth:`Diagnosis.from_json` also reads the untyped layout of older runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, TypedDict

from allocator.i18n import normalize_lang, t
from allocator.settings import SolverSettings
from allocator.units import format_quantity

SOURCES = ("presolve", "elastic")

SUBJECT_KEYS: dict[str, str] = {"zone": "zone", "unit": "unit", "firm": "firm", "plot": "plot"}
"""Row-name keys (``models.naming``) that name the subject of a row."""

FAMILY_SUBJECT: dict[str, str] = {
    "zone_electricity": "zone",
    "zone_energy": "zone",
    "energy_intensity": "zone",
    "plot_once": "zone",
    "province_energy": "province",
    "unit_emissions": "unit",
    "class_floor": "firm",
    "class_cap": "firm",
    "service_floor": "firm",
    "retain": "firm",
    "locked": "firm",
}
"""What a one-key row of each family is about (``zone_energy[Z03]`` is about zone Z03)."""


@dataclass(frozen=True)
class DiagnosisItem:
    """One reason a scenario has no plan, and what relaxing it takes."""

    source: str
    """``presolve`` (a proof before solving) or ``elastic`` (a relaxed row of the re-solve)."""
    severity: str
    """``infeasible`` (must be repaired) or ``warning``."""
    code: str
    """What was found (``floors_exceed_cap``, ``locked_overlap``, ``elastic_short`` …)."""
    family: str
    """The constraint family (``zone_energy``, ``unit_emissions``, ``locked`` …)."""
    subject_kind: str = ""
    """``zone``, ``unit``, ``firm``, ``plot``, ``province`` or empty."""
    subject_id: str = ""
    subject_name: str = ""
    """The planner's name of the subject (zone or firm name); the id when there is none."""
    pollutant: str = ""
    indicator: str = ""
    """The A-class indicator a zone misses (``tax``, ``value_added``, ``developed_land``)."""
    amount: float = math.nan
    """What it takes to repair, in ``unit`` (tce, MWh, t, 万元, 亩); NaN when not a quantity."""
    unit: str = ""
    cap: float | None = None
    """The cap or available amount the need is measured against, when there is one."""
    share_of_cap: float | None = None
    """``amount / cap`` when both are known."""
    row: str = ""
    """The model row (traceability; not for people)."""
    plot_id: str = ""
    """The plot concerned (a locked project's plot), when there is one."""
    test: str = ""
    """The eligibility test a locked parcel fails (``redline``, ``land_use`` …), if any."""
    label_zh: str = ""
    label_en: str = ""

    def label(self, lang: str | None = None) -> str:
        """Return the item's sentence in ``lang``."""
        return self.label_zh if normalize_lang(lang) == "zh" else self.label_en

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DiagnosisItem:
        """Read :meth:`to_dict` output back (unknown keys ignored)."""
        names = cls.__dataclass_fields__
        kwargs = {k: v for k, v in data.items() if k in names}
        if kwargs.get("amount") is None:
            kwargs["amount"] = math.nan
        return cls(**kwargs)


def repair_order(item: DiagnosisItem) -> tuple[int, float, float]:
    """Sort key: proofs before relaxations, then the largest share of its cap, then amount."""
    share = item.share_of_cap if item.share_of_cap is not None else -1.0
    amount = item.amount if math.isfinite(item.amount) else 0.0
    return (0 if item.source == "presolve" else 1, -share, -abs(amount))


@dataclass(frozen=True)
class Diagnosis:
    """Everything known about why a scenario has no plan (or what is tight in it)."""

    items: tuple[DiagnosisItem, ...] = ()
    elastic_status: str | None = None
    """Status of the elastic re-solve (None when it did not run)."""
    settings: SolverSettings | None = None
    """The settings the elastic re-solve ran with (the run's own settings)."""
    notes: tuple[str, ...] = field(default_factory=tuple)
    """Technical notes (e.g. why marginal values could not be computed)."""
    repair: tuple[DiagnosisItem, ...] = ()
    """The caps a scenario key sets, raised by what they take with every other row
    kept (floors, locks): applying all of them gives a feasible plan."""
    repair_status: str | None = None
    """Status of that repair re-solve (None when it did not run; ``infeasible``
    when no scenario cap can make the plan feasible)."""

    def __post_init__(self) -> None:
        """Keep the items in repair order."""
        object.__setattr__(self, "items", tuple(sorted(self.items, key=repair_order)))
        object.__setattr__(self, "repair", tuple(sorted(self.repair, key=repair_order)))

    @property
    def proofs(self) -> tuple[DiagnosisItem, ...]:
        """The presolve items that prove the scenario infeasible."""
        return tuple(i for i in self.items if i.source == "presolve" and i.severity == "infeasible")

    @property
    def relaxations(self) -> tuple[DiagnosisItem, ...]:
        """The rows the elastic re-solve relaxed."""
        return tuple(i for i in self.items if i.source == "elastic")

    @property
    def warnings(self) -> tuple[DiagnosisItem, ...]:
        """Presolve warnings (not proofs)."""
        return tuple(i for i in self.items if i.severity == "warning")

    def __bool__(self) -> bool:
        """Return True when there is anything to report."""
        return bool(self.items) or bool(self.notes) or self.elastic_status is not None

    def with_items(self, items: tuple[DiagnosisItem, ...]) -> Diagnosis:
        """Return a copy with more items."""
        return replace(self, items=self.items + tuple(items))

    def to_json(self) -> dict[str, Any]:
        """Plain dict for ``diagnosis.json``."""
        return {
            "version": 2,
            "items": [i.to_dict() for i in self.items],
            "elastic_status": self.elastic_status,
            "settings": self.settings.to_dict() if self.settings else None,
            "notes": list(self.notes),
            "repair": [i.to_dict() for i in self.repair],
            "repair_status": self.repair_status,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Diagnosis:
        """Read ``diagnosis.json``, typed (version 2) or the untyped layout of older runs."""
        if not data:
            return cls()
        if data.get("version") == 2:
            return cls(
                items=tuple(DiagnosisItem.from_dict(i) for i in data.get("items") or []),
                elastic_status=data.get("elastic_status"),
                settings=SolverSettings.from_dict(data.get("settings")),
                notes=tuple(data.get("notes") or ()),
                repair=tuple(DiagnosisItem.from_dict(i) for i in data.get("repair") or []),
                repair_status=data.get("repair_status"),
            )
        return _from_legacy(data)


def _from_legacy(data: Mapping[str, Any]) -> Diagnosis:
    """Read the untyped ``{"presolve": [...], "elastic": {...}}`` of runs before version 2."""
    items = [presolve_item(f) for f in data.get("presolve") or []]
    elastic = data.get("elastic") or {}
    for r in elastic.get("rows") or []:
        items.append(
            DiagnosisItem(
                source="elastic",
                severity="infeasible",
                code="elastic_short",
                family=str(r.get("family", "")),
                amount=float(r.get("amount") or 0.0),
                unit=str(r.get("unit", "")),
                row=str(r.get("row", "")),
                label_zh=str(r.get("message_zh", "")),
                label_en=str(r.get("message_en", "")),
                **_subject(str(r.get("row", ""))),
            )
        )
    notes = (str(data["marginals_error"]),) if data.get("marginals_error") else ()
    return Diagnosis(
        items=tuple(items),
        elastic_status=elastic.get("status") if elastic else None,
        notes=notes,
    )


class _Subject(TypedDict, total=False):
    subject_kind: str
    subject_id: str
    subject_name: str
    pollutant: str
    indicator: str


def _subject(row: str, names: Mapping[str, Mapping[str, str]] | None = None) -> _Subject:
    """Return the subject of a model row (``zone_energy[HZ]`` → zone HZ, with its name)."""
    from models.naming import parse

    try:
        family, keys = parse(row)
    except ValueError:
        return {}
    out: _Subject = {}
    for key, kind in SUBJECT_KEYS.items():
        if key in keys:
            sid = str(keys[key])
            out = {
                "subject_kind": kind,
                "subject_id": sid,
                "subject_name": str((names or {}).get(kind, {}).get(sid, sid)),
            }
            break
    else:
        if family == "province_energy" or "province" in row:
            out = {"subject_kind": "province", "subject_id": "", "subject_name": ""}
        elif keys:
            # a row keyed by one value (``locked[A0001]``): its family says what it is about
            sid = str(next(iter(keys.values())))
            kind = FAMILY_SUBJECT.get(family, "")
            name = (names or {}).get(kind, {}).get(sid, sid)
            out = {"subject_kind": kind, "subject_id": sid, "subject_name": str(name)}
    if "pollutant" in keys:
        out["pollutant"] = str(keys["pollutant"])
    if "indicator" in keys:
        out["indicator"] = str(keys["indicator"])
    return out


def family_label(family: str, lang: str | None = None) -> str:
    """Return the policy a constraint family serves (能耗总量, 重大项目锁定 …) in ``lang``."""
    from allocator.i18n import has

    key = f"diagnosis.family.{family}"
    return t(key, lang) if has(key) else family


def row_where(
    row: str, names: Mapping[str, Mapping[str, str]] | None = None, lang: str | None = None
) -> str:
    """Return a model row in planner words: its policy and its subject by name.

    ``zone_energy[Z02]`` becomes "能耗总量·宁波梅山综合保税区" (zh) or
    "Energy quota, <zone name>" (en); ``names`` maps a subject kind to id → name.
    """
    from models.naming import parse

    try:
        family = parse(row)[0]
    except ValueError:
        family = row.split("[", 1)[0]
    subject = _subject(row, names)
    zh = normalize_lang(lang) == "zh"
    where = subject.get("subject_name") or subject.get("subject_id") or ""
    if subject.get("subject_kind") == "province":
        where = t("diagnosis.province", lang)
    fam = family_label(family, lang)
    pol = subject.get("pollutant", "")
    if pol:
        from allocator.i18n import has

        pkey = f"diagnosis.pollutant.{pol}"
        label = t(pkey, lang) if has(pkey) else pol
        fam = f"{fam}（{label}）" if zh else f"{fam} ({label})"
    if not where:
        return fam
    return f"{fam}·{where}" if zh else f"{fam}, {where}"


def merge_repeats(items: list[DiagnosisItem]) -> list[DiagnosisItem]:
    """Keep one item per source, family, subject and pollutant: the one that takes the most.

    A locked project is relaxed on its project row and on its parcel row; a
    planner sees one line for it.
    """
    best: dict[tuple[str, str, str, str, str], DiagnosisItem] = {}
    order: list[tuple[str, str, str, str, str]] = []
    for item in items:
        key = (
            item.source,
            item.family,
            item.subject_kind,
            item.subject_id,
            item.pollutant + item.indicator,
        )
        if not item.subject_id and item.subject_kind != "province":
            key = (*key[:4], item.row)
        old = best.get(key)
        if old is None:
            order.append(key)
            best[key] = item
        elif abs(_finite(item.amount)) > abs(_finite(old.amount)):
            best[key] = item
    return [best[k] for k in order]


def _finite(x: float) -> float:
    return x if math.isfinite(x) else 0.0


def presolve_item(
    finding: Mapping[str, Any], names: Mapping[str, Mapping[str, str]] | None = None
) -> DiagnosisItem:
    """Return a presolve finding (``allocator.diagnose.Finding.to_dict()``) as a typed item.

    The amount to repair is what the need exceeds the cap by (``need − have``)
    for quantity proofs; a lock conflict has no quantity (NaN).
    """
    row = str(finding.get("row", ""))
    from models.naming import parse

    try:
        family = parse(row)[0]
    except ValueError:
        family = row.split("[", 1)[0]
    need = float(finding.get("need") or 0.0)
    have = float(finding.get("have") or 0.0)
    unit = str(finding.get("unit", ""))
    quantity = bool(unit) and str(finding.get("code")) not in ("locked_size",)
    amount = max(need - have, 0.0) if quantity else math.nan
    cap = have if quantity else None
    share = amount / have if quantity and have > 0 else None
    return DiagnosisItem(
        source="presolve",
        severity=str(finding.get("severity", "infeasible")),
        code=str(finding.get("code", "")),
        family=family,
        amount=amount,
        unit=unit,
        cap=cap,
        share_of_cap=share,
        row=row,
        plot_id=str(finding.get("plot_id") or ""),
        test=str(finding.get("reason") or ""),
        label_zh=str(finding.get("message_zh", "")),
        label_en=str(finding.get("message_en", "")),
        **_subject(row, names),
    )


def elastic_item(
    row: str,
    amount: float,
    unit: str,
    cap: float | None,
    sense: str,
    names: Mapping[str, Mapping[str, str]] | None = None,
    names_en: Mapping[str, Mapping[str, str]] | None = None,
) -> DiagnosisItem:
    """One relaxed row of the elastic re-solve as a typed item with its planner label.

    ``names``/``names_en`` map a subject kind (``zone``, ``firm``…) to id → name.
    """
    from models.naming import parse

    try:
        family = parse(row)[0]
    except ValueError:
        family = row.split("[", 1)[0]
    subject = _subject(row, names)
    share = abs(amount) / cap if cap is not None and math.isfinite(cap) and cap > 0 else None
    code = "elastic_short" if sense == "<=" else "elastic_relaxed"
    if unit in ("firm", "plot", "parcel"):
        code = "elastic_unmet"  # a lock or a retention that cannot hold: no quantity to show
    where = subject.get("subject_name") or subject.get("subject_id") or ""
    where_en = _subject(row, names_en).get("subject_name") or where if names_en else where
    if subject.get("subject_kind") == "province":
        where, where_en = t("diagnosis.province", "zh"), t("diagnosis.province", "en")
    pol = subject.get("pollutant", "")
    fmt_zh = _fmt_args(family, where, amount, unit, share, "zh", pol)
    fmt_en = _fmt_args(family, where_en, amount, unit, share, "en", pol)
    return DiagnosisItem(
        source="elastic",
        severity="infeasible",
        code=code,
        family=family,
        amount=abs(float(amount)),
        unit=unit,
        cap=cap,
        share_of_cap=share,
        row=row,
        label_zh=t(f"diagnosis.{code}", "zh", **fmt_zh),
        label_en=t(f"diagnosis.{code}", "en", **fmt_en),
        **subject,
    )


def _fmt_args(
    family: str,
    where: str,
    amount: float,
    unit: str,
    share: float | None,
    lang: str,
    pollutant: str,
) -> dict[str, str]:
    from allocator.i18n import has

    fam_key = f"diagnosis.family.{family}"
    fam = t(fam_key, lang) if has(fam_key) else family
    if pollutant:
        pkey = f"diagnosis.pollutant.{pollutant}"
        pol = t(pkey, lang) if has(pkey) else pollutant
        fam = f"{fam}（{pol}）" if lang == "zh" else f"{fam} ({pol})"
    share_text = "" if share is None else t("diagnosis.share", lang, share=f"{100 * share:.1f}%")
    return {
        "family": fam,
        "where": where,
        "amount": format_quantity(abs(amount), unit, lang),
        "share": share_text,
    }


# ----------------------------------------------------------------------------- repair

REPAIR_KEYS: dict[str, str] = {
    "zone_energy": "caps.zones.{id}.energy_tce",
    "zone_electricity": "caps.zones.{id}.electricity_mwh",
    "province_energy": "caps.province_energy_tce",
    "unit_emissions": "caps.units.{id}.{pollutant}_t",
}
"""The scenario key that sets the cap of each relaxable family (in the row's own unit)."""


def repair_rows(diagnosis: Diagnosis) -> list[DiagnosisItem]:
    """Return one row per thing to repair, grouped by policy and sorted by what it takes.

    The proofs and relaxations of one policy and subject are merged, keeping
    the larger amount (a proof's "floors alone need" can exceed the elastic
    relaxation, which may also release a lock). The policy whose row takes the
    largest share of its cap comes first; within a policy, by share then amount.
    """
    merged: dict[tuple[str, str, str, str], DiagnosisItem] = {}
    for item in diagnosis.items:
        if item.severity != "infeasible":
            continue
        key = (
            item.family,
            item.subject_kind,
            item.subject_id or item.row,
            item.pollutant + item.indicator,
        )
        old = merged.get(key)
        if old is None or _repair_need(item) > _repair_need(old):
            merged[key] = item
    rows = list(merged.values())
    top: dict[str, tuple[float, float]] = {}
    for r in rows:
        top[r.family] = max(top.get(r.family, (-1.0, 0.0)), _weight(r))
    return sorted(rows, key=lambda r: (_neg(top[r.family]), r.family, _neg(_weight(r))))


def _repair_need(item: DiagnosisItem) -> float:
    return abs(item.amount) if math.isfinite(item.amount) else 0.0


def _weight(item: DiagnosisItem) -> tuple[float, float]:
    share = item.share_of_cap if item.share_of_cap is not None else math.inf
    return (share if item.cap is not None and item.cap > 0 else math.inf, _repair_need(item))


def _neg(pair: tuple[float, float]) -> tuple[float, float]:
    return (-pair[0], -pair[1])


def repair_overrides(items: tuple[DiagnosisItem, ...] | list[DiagnosisItem]) -> dict[str, float]:
    """Return the scenario overrides that relax ``items``: each cap raised by what it takes.

    A cap row's new cap is its cap plus the amount, rounded up to a whole unit
    (``caps.zones.Z02.energy_tce = 8,081``); a scenario key replaces the
    factor it covers (``Scenario.with_overrides``). Items no scenario key can
    relax (a major-project lock, a floor) are left out; an empty dict means
    nothing here can be relaxed from the scenario.
    """
    out: dict[str, float] = {}
    for item in items:
        template = REPAIR_KEYS.get(item.family)
        if template is None or item.cap is None or not math.isfinite(item.amount):
            continue
        if item.family != "province_energy" and not item.subject_id:
            continue
        need = float(item.cap) + abs(float(item.amount))
        value = float(math.ceil(need + 1e-6 * max(1.0, need)))
        key = template.format(id=item.subject_id, pollutant=item.pollutant)
        out[key] = max(out.get(key, 0.0), value)
    return out
