"""Row and variable names: reversible, unique, safe for PuLP and LP/MPS files."""

from __future__ import annotations

import pulp
from hypothesis import given
from hypothesis import strategies as st
from test_model_bruteforce import hand_case

from models import synthetic
from models.allocation import build
from models.data import FAMILIES, ModelParams
from models.naming import NameRegistry, display_name, parse, solver_name

SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


def test_display_names_follow_the_spec():
    assert display_name("zone_energy", {"zone": "Z03"}) == "zone_energy[Z03]"
    assert (
        display_name("zone_split", {"firm": "F1", "zone": "Z03"}) == "zone_split[firm=F1,zone=Z03]"
    )
    assert display_name("province_energy") == "province_energy"
    assert parse("zone_energy[Z03]", single_key="zone") == ("zone_energy", {"zone": "Z03"})
    assert parse("zone_split[firm=F1,zone=Z03]") == ("zone_split", {"firm": "F1", "zone": "Z03"})


ids = st.text(min_size=1, max_size=12)


@given(
    family=st.sampled_from(FAMILIES),
    keys=st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True), ids, max_size=3),
)
def test_any_ids_round_trip(family, keys):
    name = display_name(family, keys)
    fam, back = parse(name, single_key=next(iter(keys), "key"))
    assert fam == family
    assert list(back.values()) == list(keys.values())
    if len(keys) != 1:
        assert back == keys
    assert set(solver_name(name)) <= SAFE


def test_registry_unique_solver_names_for_clashing_ids():
    reg = NameRegistry()
    a = reg.add("zone_energy", {"zone": "Z-1"}, "tce", "<=", 1.0)
    b = reg.add("zone_energy", {"zone": "Z+1"}, "tce", "<=", 1.0)
    c = reg.add("zone_energy", {"zone": "Z_1"}, "tce", "<=", 1.0)
    assert len({a.solver_name, b.solver_name, c.solver_name}) == 3
    for info in (a, b, c):
        assert reg.display(info.solver_name) == info.name


def test_every_model_row_round_trips_through_pulp():
    d = synthetic.tiny(3, 6, 8, n_applicants=3, n_locked=1, max_cands=9)
    # hostile ids: PuLP's illegal characters, Chinese, commas and brackets
    d = d.__class__(
        **{
            **{f: getattr(d, f) for f in d.field_names()},
            "zone_ids": ("舟山-综保区 [A]", "宁波/梅山+1"),
            "firm_ids": tuple(f"企业,{i}=x]" for i in range(d.n_firms)),
        }
    )
    built = build(d, ModelParams(elastic=True))
    pulp_names = set(built.prob._constraints)  # noqa: SLF001
    assert len(pulp_names) == len(built.rows)
    for name, info in built.rows.items():
        assert info.solver_name in pulp_names
        assert set(info.solver_name) <= SAFE
        assert built.registry.display(info.solver_name) == name
        fam, keys = parse(name, single_key=info.keys[0][0] if info.keys else "key")
        assert fam == info.family
        assert keys == info.key_dict
        assert built.constraints[name].name == info.solver_name
    shown = set()
    for v in built.prob.variables():
        assert set(v.name) <= SAFE
        shown.add(built.variable_display(v.name))
    assert len(shown) == len(built.prob.variables())
    f0 = d.firm_ids[0]
    assert built.variable_display("y_0") == display_name("y", {"firm": f0})
    assert built.variable_display("x_0").startswith("x[firm=")
    slack = next(iter(built.slacks))
    assert built.variable_display(built.slacks[slack].name) == "slack:" + slack


def test_family_row_counts_and_size():
    built = build(hand_case(), ModelParams())
    assert set(built.family_rows) == set(FAMILIES)
    assert sum(built.family_rows.values()) == built.size["rows"]
    assert built.size["rows"] == len(built.prob._constraints)  # noqa: SLF001
    assert built.size["columns"] == len(built.prob.variables())
    nnz = sum(1 for c in built.prob._constraints.values() for _, a in c.items() if a != 0)  # noqa: SLF001
    assert built.size["nonzeros"] == nnz
    assert built.size["binaries"] == sum(v.cat == pulp.LpInteger for v in built.prob.variables())
    assert built.rows_of("zone_energy") == ["zone_energy[Z1]"]
