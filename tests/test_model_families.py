"""Known answers: the model's optimum equals a brute-force enumeration (to 1e-6).

One test per constraint family (``test_<family>``: the case has rows of that
family and the switch, where there is one, is exercised on and off), plus a
sweep of random tiny cases with every switch. The brute force
(``test_model_bruteforce.brute_force``) writes MODEL.md's algebra itself.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_model_bruteforce import brute_force, hand_case

from models import synthetic
from models.allocation import build
from models.data import SWITCHABLE, ModelParams
from models.solver import Status, run

ALL_OFF = {name: False for name in SWITCHABLE}


def only(*families: str) -> dict[str, bool]:
    return {**ALL_OFF, **dict.fromkeys(families, True)}


def check(data, params, family: str | None = None, min_rows: int = 1):
    """Solve with the model and by brute force; compare objectives; return both."""
    built = build(data, params)
    if family is not None:
        assert built.family_rows[family] >= min_rows, built.family_rows
    sol = run(built, time_limit_s=30, rel_gap=1e-9)
    expected, _ = brute_force(data, params)
    if expected is None:
        assert sol.status == Status.INFEASIBLE
    else:
        assert sol.status == Status.OPTIMAL, sol.message
        assert sol.objective == pytest.approx(expected, rel=1e-6, abs=1e-6)
    return built, sol, expected


def assert_binds(built, sol, family: str, rel: float = 1e-6) -> None:
    """Some row of ``family`` holds with equality at the solution (the cap is really used)."""
    rows = [(n, i) for n, i in built.registry.rows.items() if i.family == family]
    assert rows, f"no {family} rows"
    tight = [
        n
        for n, i in rows
        if n in sol.row_activity
        and abs(sol.row_activity[n] - i.rhs) <= rel * max(1.0, abs(i.rhs)) + 1e-7
    ]
    assert tight, f"no {family} row binds: the test would pass with the family switched off"


def assert_matters(data, params, family: str, expected: float | None) -> None:
    """Switching ``family`` off changes the brute-force optimum: the family shapes the answer."""
    switches = {**dict(params.switches), family: False}
    loose, _ = brute_force(data, dataclasses.replace(params, switches=switches))
    assert loose is not None
    assert expected is None or loose > expected + 1e-6, (family, loose, expected)


# ----------------------------------------------------------------- per family


def test_plot_once():
    # two applicants competing for the same plots
    d = synthetic.tiny(0, 4, 6, n_applicants=3, k=3, max_cands=9)
    built, sol, _ = check(d, ModelParams(), "plot_once", 3)
    used = []
    for c in np.flatnonzero(sol.x > 0.5):
        used.extend(d.parcel_plots(d.cand_parcel[c]).tolist())
    assert len(used) == len(set(used))


def test_one_parcel():
    d = synthetic.tiny(2, 4, 7, n_applicants=2)
    built, sol, _ = check(d, ModelParams(), "one_parcel", 2)
    for f in np.flatnonzero(d.firm_applicant):
        assert sol.x[d.cand_firm == f].sum() == sol.y[f]


def test_zone_split():
    # applicants with candidates in several zones and binding zone caps
    d = synthetic.tiny(3, 5, 8, n_applicants=3, n_zones=2, k=2, max_cands=9, cap_factor=0.5)
    built, sol, _ = check(d, ModelParams(switches=only("zone_energy")), "zone_split", 2)
    # o_fz adds up to o_f
    tot = np.zeros(d.n_firms)
    np.add.at(tot, sol.zone_firm, sol.zone_output)
    assert np.allclose(tot, sol.o, atol=1e-6)


def test_output_by_land():
    d = hand_case()
    built, sol, best = check(d, ModelParams(alpha_tax=0.0, switches=ALL_OFF), "output_by_land", 3)
    assert best == pytest.approx(620.0)
    assert sol.o[2] == pytest.approx(500.0)  # 20 万元/mu × 30 mu capped at oreq


def test_output_request():
    d = synthetic.tiny(4, 4, 6)
    d = dataclasses.replace(d, oreq=d.oreq * 0.5)
    built, sol, _ = check(d, ModelParams(switches=ALL_OFF), "output_request", 4)
    assert (sol.o <= d.oreq + 1e-6).all()


def test_zone_electricity():
    d = synthetic.tiny(5, 5, 7, cap_factor=0.5)
    p = ModelParams(switches=only("zone_electricity"))
    built, sol, best = check(d, p, "zone_electricity")
    assert_binds(built, sol, "zone_electricity")
    assert_matters(d, p, "zone_electricity", best)


def test_zone_energy():
    check(hand_case(300.0), ModelParams(alpha_tax=0.0), "zone_energy")
    d = synthetic.tiny(6, 5, 7, cap_factor=0.5)
    p = ModelParams(switches=only("zone_energy"))
    built, sol, best = check(d, p, "zone_energy")
    assert_binds(built, sol, "zone_energy")
    assert_matters(d, p, "zone_energy", best)


def test_province_energy():
    d = synthetic.tiny(7, 5, 7, cap_factor=0.6)
    p = ModelParams(switches=only("province_energy"))
    built, sol, best = check(d, p, "province_energy")
    assert_binds(built, sol, "province_energy")
    assert_matters(d, p, "province_energy", best)


def test_energy_intensity():
    # factor 0.5 binds in zone Z02 (at 0.8, the case used before, no intensity row bound)
    d = synthetic.tiny(8, 5, 7, intensity_factor=0.5)
    p = ModelParams(switches=only("energy_intensity"))
    built, sol, best = check(d, p, "energy_intensity")
    assert_binds(built, sol, "energy_intensity")
    assert_matters(d, p, "energy_intensity", best)


def test_unit_emissions():
    d = synthetic.tiny(9, 5, 7, n_units=2, cap_factor=0.5)
    p = ModelParams(switches=only("unit_emissions"))
    built, sol, best = check(d, p, "unit_emissions", 4)
    assert_binds(built, sol, "unit_emissions")
    assert_matters(d, p, "unit_emissions", best)


def test_class_floor():
    d = synthetic.tiny(10, 5, 7, cap_factor=0.7)
    p = ModelParams(class_floor=(0.9, 0.6, 0.3, 0.0), switches=only("class_floor", "zone_energy"))
    built, sol, best = check(d, p, "class_floor", 2)
    assert_binds(built, sol, "class_floor")
    assert_matters(d, p, "class_floor", best)


def test_class_cap():
    d = synthetic.tiny(11, 5, 7, may_exit_share=0.0)
    d = dataclasses.replace(d, firm_class=np.array([3, 2, 3, 0, 1]))
    p = ModelParams(class_cap=(np.inf, np.inf, 0.9, 0.8), switches=only("class_cap"))
    built, sol, best = check(d, p, "class_cap", 3)
    assert_binds(built, sol, "class_cap")
    assert_matters(d, p, "class_cap", best)
    ex = ~d.firm_applicant
    assert (sol.o[ex & (d.firm_class == 3)] <= 0.8 * d.o0[ex & (d.firm_class == 3)] + 1e-6).all()


def test_retain():
    d = synthetic.tiny(12, 5, 7, may_exit_share=0.0, cap_factor=0.3)
    built, sol, _ = check(d, ModelParams(), "retain", 3)
    assert (sol.y[~d.firm_applicant] == 1).all()
    # letting them go can only help the objective
    d2 = dataclasses.replace(d, may_exit=~d.firm_applicant)
    _, sol2, _ = check(d2, ModelParams())
    assert sol2.objective >= sol.objective - 1e-6


def test_service_floor():
    d = synthetic.tiny(13, 5, 7, cap_factor=0.6)
    p = ModelParams(service_floor=0.7, switches=only("service_floor", "zone_energy"))
    built, sol, best = check(d, p, "service_floor", 2)
    assert_binds(built, sol, "service_floor")
    assert_matters(d, p, "service_floor", best)


def test_locked():
    d = synthetic.tiny(14, 5, 7, n_applicants=3, n_locked=1, cap_factor=0.5)
    built, sol, _ = check(d, ModelParams(), "locked", 2)
    f = int(np.flatnonzero(d.locked)[0])
    c = np.flatnonzero((d.cand_firm == f) & (d.cand_parcel == d.locked_parcel[f]))[0]
    assert sol.y[f] == 1
    assert sol.x[c] == 1


# ----------------------------------------------------------------- objective terms


def test_relocation_cost_known_answer():
    # hand answers: 620 without relocation cost, 570 at 8 万元/mu
    p = ModelParams(alpha_tax=0.0, relocation_cost_wan_per_mu=8.0)
    built, sol, best = check(hand_case(), p)
    assert best == pytest.approx(570.0)
    assert sol.y.tolist() == [1, 1, 1]


def test_energy_right_price_and_weights():
    d = synthetic.tiny(15, 5, 7)
    p = ModelParams(
        energy_price_threshold_tce_per_wan=0.2,
        energy_price_wan_per_tce=3.0,
        class_weight=(2.0, 1.0, 0.8, 0.5),
        alpha_tax=3.0,
    )
    check(d, p)


# ----------------------------------------------------------------- random sweep

SWEEP = [
    (seed, n_firms, n_plots, switches)
    for seed, (n_firms, n_plots) in enumerate([(2, 3), (3, 4), (4, 5), (5, 6), (6, 8), (4, 8)])
    for switches in ("all", "none")
]


@pytest.mark.parametrize(("seed", "n_firms", "n_plots", "switches"), SWEEP)
def test_known_answer_sweep(seed, n_firms, n_plots, switches):
    d = synthetic.tiny(100 + seed, n_firms, n_plots, cap_factor=0.6, max_cands=7)
    p = ModelParams(
        switches=ALL_OFF if switches == "none" else {n: True for n in SWITCHABLE},
        class_floor=(0.5, 0.0, 0.0, 0.0),
        class_cap=(np.inf, np.inf, np.inf, 0.9),
        service_floor=0.2,
        relocation_cost_wan_per_mu=1.0,
    )
    check(d, p)
