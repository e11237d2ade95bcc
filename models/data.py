"""ModelData: the arrays and id maps the formulation reads (no geometry).

``allocator.prepare`` builds it from a case, a scenario, the 亩均 scores and
the eligibility engine; ``models.allocation`` turns it into a PuLP problem.
Everything is indexed by position; the ``*_ids`` tuples map positions back to
the case's stable ids. Units follow MODEL.md: mu, 万元, MWh, tce, t/yr.
A missing cap is ``nan`` (no row is built for it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

import numpy as np

CLASSES: tuple[str, ...] = ("A", "B", "C", "D")
"""亩均 classes by index; unrated firms are managed as B (index 1) in the model."""

POLLUTANTS: tuple[str, ...] = ("cod", "nh3n", "so2", "nox")
"""The four 主要污染物, the K axis of every emissions array."""

FAMILIES: tuple[str, ...] = (
    "plot_once",
    "one_parcel",
    "zone_split",
    "output_by_land",
    "output_request",
    "zone_electricity",
    "zone_energy",
    "province_energy",
    "energy_intensity",
    "unit_emissions",
    "class_floor",
    "class_cap",
    "retain",
    "service_floor",
    "locked",
    "objective_floor",
    "distance_to",
    "change_limit",
    "far_upgrade",
    "idle_reuse",
    "land_supply",
    "use_share_min",
    "a_class_reach",
    "a_class_target",
    "mountain_land",
    "mountain_energy",
)
"""Constraint families of MODEL.md, in build order; names are row-name prefixes.

``objective_floor``, ``distance_to`` and ``change_limit`` are analysis families
(near-optimal alternatives, stability against an approved plan), built only when
``build`` is given an ``Analysis``; ``far_upgrade`` and ``idle_reuse`` are the land
measures (switched off unless a scenario turns them on); ``a_class_reach`` (the
per-zone indicator rows) is built with ``a_class_target``, the zones' national
assessment target; ``mountain_land`` and ``mountain_energy`` keep land and energy for
山区26县 projects and firms."""

SWITCHABLE: tuple[str, ...] = (
    "zone_electricity",
    "zone_energy",
    "province_energy",
    "energy_intensity",
    "unit_emissions",
    "class_floor",
    "class_cap",
    "service_floor",
    "far_upgrade",
    "idle_reuse",
    "land_supply",
    "use_share_min",
    "a_class_target",
    "mountain_land",
    "mountain_energy",
)
"""Families a scenario may switch off."""

OFF_BY_DEFAULT: tuple[str, ...] = (
    "far_upgrade",
    "idle_reuse",
    "land_supply",
    "a_class_target",
    "mountain_land",
    "mountain_energy",
)
"""Switchable families a scenario must switch on (the land measures of issue 20): a
scenario written before they existed solves the same model as before."""


SUPPLY_MODES: tuple[str, ...] = (
    "full_term",
    "flexible",
    "lease_then_transfer",
    "lease_transfer_mix",
    "long_lease",
)
"""Land supply modes (出让, 弹性年期出让, 先租后让, 租让结合, 长期租赁) of ``land_supply``."""

USES: tuple[str, ...] = ("industrial", "warehouse", "rd", "office")
"""Project uses of mixed-use land (工业, 仓储, 研发, 办公): the axis of ``use_share_min``."""
A_CLASS_INDICATORS: tuple[str, ...] = ("tax", "value_added", "developed_land")
"""The national assessment's indicators a plan changes, the last axis of ``zone_a_class_need``:
tax (万元), value added (万元, standing in for output) and developed land (亩) of a zone."""

SEARCHES: tuple[str, ...] = ("auto", "lns", "bnb", "none")
"""What a HiGHS run does after a start that is not within the gap (``solver.search``): the
neighbourhood search over zones, branch and bound on the whole model, ``auto`` by size, or
nothing (``models.solver.run``)."""


def _default_switches() -> dict[str, bool]:
    return {name: name not in OFF_BY_DEFAULT for name in SWITCHABLE}


@dataclass(frozen=True)
class ModelParams:
    """Scalar scenario parameters of the formulation.

    Per-class tuples are indexed like :data:`CLASSES`. ``nan`` or ``inf`` in a
    class cap means "no cap"; 0 in a class floor means "no floor".
    """

    switches: Mapping[str, bool] = field(default_factory=_default_switches)
    alpha_va: float = 1.0
    """Objective weight on value added (per 万元)."""
    alpha_tax: float = 1.0
    """Objective weight on tax (per 万元 of tax); tax = tax_va_f · o_f."""
    class_weight: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)
    """Class multipliers w_class in the objective."""
    class_floor: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)
    """φ_class: o_f ≥ φ · oreq_f · y_f (all firms of the class)."""
    class_cap: tuple[float, ...] = (np.inf, np.inf, np.inf, np.inf)
    """ψ_class: o_f ≤ ψ · o0_f for existing firms of the class."""
    service_floor: float = 0.0
    """σ: a staying existing firm gets o_f ≥ σ · o0_f."""
    relocation_cost_wan_per_mu: float = 0.0
    """ρ: compensation per mu of land vacated by an existing firm leaving."""
    energy_price_threshold_tce_per_wan: float = 0.6
    """τ: applicants above it buy their energy (用能权, 浙发改能源〔2019〕358号)."""
    energy_price_wan_per_tce: float = 0.0
    """π: 用能权 trading price."""
    elastic: bool = False
    """Build with penalised slacks on cap, floor and lock rows (diagnosis)."""
    elastic_penalty: float = 1.0e6
    """Objective penalty per unit of slack (in the row's own units)."""
    elastic_only: tuple[str, ...] = ()
    """With ``elastic``: when not empty, only these families get slacks and every
    other row stays hard (the diagnosis' repair set: the caps a scenario key sets)."""

    def on(self, family: str) -> bool:
        """Return True when ``family`` is built (non-switchable ones always are)."""
        if family not in FAMILIES:
            raise KeyError(f"unknown constraint family {family!r}")
        if family not in SWITCHABLE:
            return True
        return bool(self.switches.get(family, family not in OFF_BY_DEFAULT))


@dataclass(frozen=True, eq=False)
class ModelData:
    """Arrays of one prepared case+scenario; see the module docstring."""

    # zones (Z)
    zone_ids: tuple[str, ...]
    zone_electricity_cap_mwh: np.ndarray
    zone_energy_cap_tce: np.ndarray
    zone_intensity_cap_tce_per_wan: np.ndarray
    # control units (U) and pollutants (K)
    unit_ids: tuple[str, ...]
    unit_emission_cap_t: np.ndarray  # (U, K)
    # plots (P)
    plot_ids: tuple[str, ...]
    plot_zone: np.ndarray  # int, index into zone_ids
    plot_area_mu: np.ndarray
    plot_occupant: np.ndarray  # int, index into firm_ids, -1 = none
    # firms (F)
    firm_ids: tuple[str, ...]
    firm_applicant: np.ndarray  # bool
    firm_zone: np.ndarray  # int, existing firms' zone; -1 for applicants
    firm_unit: np.ndarray  # int, existing firms' control unit; -1 for applicants/unknown
    firm_class: np.ndarray  # int 0..3, managed class (unrated -> B)
    va_mu: np.ndarray  # 万元 value added per mu
    tax_va: np.ndarray  # 万元 tax per 万元 value added
    el: np.ndarray  # MWh per 万元 value added
    en: np.ndarray  # tce per 万元 value added (electricity included)
    em: np.ndarray  # (F, K) t per 万元 value added
    o0: np.ndarray  # current value added, 万元/yr (0 for applicants)
    oreq: np.ndarray  # requested value added for the plan period
    growth_cap: np.ndarray  # g_f: existing o_f ≤ g_f · o0_f · y_f
    land_min_mu: np.ndarray  # applicants; 0 for existing
    land_max_mu: np.ndarray  # applicants; 0 for existing
    land0_mu: np.ndarray  # existing firms' land held (L0); 0 for applicants
    may_exit: np.ndarray  # bool: existing firm may leave (retain relaxed)
    locked: np.ndarray  # bool: 一企一策 / 一事一议 project
    locked_parcel: np.ndarray  # int, index into parcel_ids, -1 = none
    # parcels (B): CSR lists of plots
    parcel_ids: tuple[str, ...]
    parcel_ptr: np.ndarray  # int, len B+1
    parcel_plot: np.ndarray  # int, plot indices
    parcel_area_mu: np.ndarray
    parcel_zone: np.ndarray
    parcel_unit: np.ndarray  # control unit holding most of the parcel's area, -1 none
    # candidate pairs (C)
    cand_firm: np.ndarray
    cand_parcel: np.ndarray
    # province
    province_energy_cap_tce: float = float("nan")
    # plot-ratio upgrades (``far_upgrade``), existing firms (F); None = no firm may upgrade
    floor_headroom_m2: np.ndarray | None = None
    """m² of floor area an eligible existing firm may add on its plots (Σ area·(far_max − far))."""
    upgrade_output_per_m2: np.ndarray | None = None
    """万元/yr of value added one added m² of floor area carries (e · o0_f / floor area now)."""
    upgrade_cost_wan_per_m2: np.ndarray | None = None
    """Annual cost of one added m² (construction cost ÷ amortisation years), 万元/m²/yr."""
    # idle plants (``idle_reuse``), parcels (B); None = idle plots count as vacant land only
    parcel_idle_floor_m2: np.ndarray | None = None
    """Floor area of the idle plants on each parcel (Σ area · far over its idle plots), m²."""
    idle_saving_wan_per_m2: float = 0.0
    """Building cost a project saves per m² of idle floor area it reuses, per year (万元)."""
    # land supply (``land_supply``), firms × SUPPLY_MODES; None = the family cannot be built
    supply_weight_wan_per_mu: np.ndarray | None = None
    """Objective weight of each supply mode per mu and year (万元): land income over the plan
    period and the discounted land returning at term end; NaN where the rule does not permit it."""
    # mixed use (``use_share_min``); None = every firm industrial, no share floor
    firm_use: np.ndarray | None = None
    """Each firm's use, an index into :data:`USES` (F,)."""
    use_share_min: np.ndarray | None = None
    """Least share of each use in the land admitted in each zone (Z, len(USES)); 0 = no row."""
    # the zones' national assessment (``a_class_target``); None = no target
    zone_a_class_need: np.ndarray | None = None
    """(Z, 3) what a zone needs to reach A class, per :data:`A_CLASS_INDICATORS`: tax 万元,
    value added 万元, developed land 亩 (the thresholds × the zone's approved km²); NaN = no
    threshold on that indicator."""
    a_class_target_zones: int = 0
    """At least this many zones reach A class (``a_class_target`` row; 0 = no count row)."""
    a_class_weight_wan: float = 0.0
    """Objective weight per zone that reaches A class (万元; 0 = no objective term)."""
    # 山区26县 (``mountain_land``, ``mountain_energy``); None = no firm is marked
    firm_mountain: np.ndarray | None = None
    """(F,) bool: the firm is from or partnered with a 山区26县 county (or, existing, sits in a
    zone of one)."""
    zone_mountain: np.ndarray | None = None
    """(Z,) bool: the zone lies in a 山区26县 county (a project placed there counts as one)."""
    mountain_reserve_mu: float = float("nan")
    """Land kept for 山区26县 projects: non-26县 projects take at most ``open_land_mu`` − this."""
    mountain_open_land_mu: float = 0.0
    """The province's land open to new projects (plots without an occupant), 亩."""
    mountain_reserve_tce: float = float("nan")
    """Energy kept for 山区26县 firms: the others use at most ``mountain_energy_tce`` − this."""
    mountain_energy_tce: float = float("nan")
    """The energy quota the reserve is taken from (province cap, else Σ finite zone caps), tce."""

    @property
    def n_zones(self) -> int:
        """Number of zones."""
        return len(self.zone_ids)

    @property
    def n_units(self) -> int:
        """Number of control units."""
        return len(self.unit_ids)

    @property
    def n_plots(self) -> int:
        """Number of plots."""
        return len(self.plot_ids)

    @property
    def n_firms(self) -> int:
        """Number of firms."""
        return len(self.firm_ids)

    @property
    def n_parcels(self) -> int:
        """Number of parcels."""
        return len(self.parcel_ids)

    @property
    def n_candidates(self) -> int:
        """Number of candidate (applicant, parcel) pairs."""
        return len(self.cand_firm)

    def parcel_plots(self, b: int) -> np.ndarray:
        """Return the plot indices of parcel ``b``."""
        return self.parcel_plot[self.parcel_ptr[b] : self.parcel_ptr[b + 1]]

    def validate(self) -> None:
        """Check shapes and index ranges; raise ``ValueError`` naming the field."""
        z, u, p, f, b = self.n_zones, self.n_units, self.n_plots, self.n_firms, self.n_parcels
        k = len(POLLUTANTS)
        expected = {
            "zone_electricity_cap_mwh": (z,),
            "zone_energy_cap_tce": (z,),
            "zone_intensity_cap_tce_per_wan": (z,),
            "unit_emission_cap_t": (u, k),
            "plot_zone": (p,),
            "plot_area_mu": (p,),
            "plot_occupant": (p,),
            "em": (f, k),
            "parcel_ptr": (b + 1,),
            "parcel_area_mu": (b,),
            "parcel_zone": (b,),
            "parcel_unit": (b,),
        }
        for name in (
            "firm_applicant firm_zone firm_unit firm_class va_mu tax_va el en o0 oreq "
            "growth_cap land_min_mu land_max_mu land0_mu may_exit locked locked_parcel"
        ).split():
            expected[name] = (f,)
        for name, shape in expected.items():
            got = np.shape(getattr(self, name))
            if got != shape:
                raise ValueError(f"ModelData.{name}: shape {got}, expected {shape}")
        if np.shape(self.cand_firm) != np.shape(self.cand_parcel):
            raise ValueError("ModelData.cand_firm and cand_parcel differ in length")
        ranges = {
            "plot_zone": (self.plot_zone, z, False),
            "plot_occupant": (self.plot_occupant, f, True),
            "firm_zone": (self.firm_zone, z, True),
            "firm_unit": (self.firm_unit, u, True),
            "firm_class": (self.firm_class, len(CLASSES), False),
            "locked_parcel": (self.locked_parcel, b, True),
            "parcel_plot": (self.parcel_plot, p, False),
            "parcel_zone": (self.parcel_zone, z, False),
            "parcel_unit": (self.parcel_unit, u, True),
            "cand_firm": (self.cand_firm, f, False),
            "cand_parcel": (self.cand_parcel, b, False),
        }
        for name in ("floor_headroom_m2", "upgrade_output_per_m2", "upgrade_cost_wan_per_m2"):
            arr = getattr(self, name)
            if arr is None:
                continue
            if np.shape(arr) != (f,):
                raise ValueError(f"ModelData.{name}: shape {np.shape(arr)}, expected {(f,)}")
            a = np.asarray(arr, dtype=float)
            if a.size and (np.isnan(a).any() or (a < 0).any()):
                raise ValueError(f"ModelData.{name}: negative or NaN values")
        idle = self.parcel_idle_floor_m2
        if idle is not None:
            if np.shape(idle) != (b,):
                raise ValueError(
                    f"ModelData.parcel_idle_floor_m2: shape {np.shape(idle)}, expected {(b,)}"
                )
            a = np.asarray(idle, dtype=float)
            if a.size and (np.isnan(a).any() or (a < 0).any()):
                raise ValueError("ModelData.parcel_idle_floor_m2: negative or NaN values")
        shapes = {
            "supply_weight_wan_per_mu": (f, len(SUPPLY_MODES)),
            "firm_use": (f,),
            "use_share_min": (z, len(USES)),
        }
        for name, shape in shapes.items():
            arr = getattr(self, name)
            if arr is not None and np.shape(arr) != shape:
                raise ValueError(f"ModelData.{name}: shape {np.shape(arr)}, expected {shape}")
        if self.firm_use is not None:
            ranges["firm_use"] = (self.firm_use, len(USES), False)
        share = self.use_share_min
        if share is not None and np.size(share):
            a = np.asarray(share, dtype=float)
            if np.isnan(a).any() or (a < 0).any() or (a > 1).any():
                raise ValueError("ModelData.use_share_min: shares must lie in [0, 1]")
        need = self.zone_a_class_need
        if need is not None and np.shape(need) != (z, len(A_CLASS_INDICATORS)):
            raise ValueError(
                f"ModelData.zone_a_class_need: shape {np.shape(need)}, expected "
                f"{(z, len(A_CLASS_INDICATORS))}"
            )
        for name, n in (("firm_mountain", f), ("zone_mountain", z)):
            arr = getattr(self, name)
            if arr is not None and np.shape(arr) != (n,):
                raise ValueError(f"ModelData.{name}: shape {np.shape(arr)}, expected {(n,)}")
        for name, (arr, n, allow_minus_one) in ranges.items():
            a = np.asarray(arr)
            if a.size == 0:
                continue
            lo = -1 if allow_minus_one else 0
            if a.min() < lo or a.max() >= n:
                raise ValueError(f"ModelData.{name}: index out of range [{lo}, {n})")
        for name in (
            "va_mu",
            "tax_va",
            "el",
            "en",
            "em",
            "o0",
            "oreq",
            "growth_cap",
            "land_min_mu",
            "land_max_mu",
            "land0_mu",
            "plot_area_mu",
            "parcel_area_mu",
        ):
            a = np.asarray(getattr(self, name), dtype=float)
            if a.size and (np.isnan(a).any() or (a < 0).any()):
                raise ValueError(f"ModelData.{name}: negative or NaN values")

    def summary(self) -> dict[str, int]:
        """Return the set sizes (for logs and reports)."""
        return {
            "zones": self.n_zones,
            "units": self.n_units,
            "plots": self.n_plots,
            "firms": self.n_firms,
            "applicants": int(np.asarray(self.firm_applicant).sum()),
            "parcels": self.n_parcels,
            "candidates": self.n_candidates,
        }

    def field_names(self) -> list[str]:
        """Return the names of all fields (for serialisation)."""
        return [fl.name for fl in fields(self)]
