import math
from pathlib import Path

import pytest

from allocator import i18n
from allocator.errors import ScenarioError
from allocator.scenario import (
    FIELDS,
    load_scenario,
    scenario_from_dict,
    scenario_schema,
)
from models.data import SWITCHABLE

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "scenarios").glob("*.toml"))


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_scenarios_load_and_hash_differently():
    names = {p.stem for p in SHIPPED}
    assert {
        "baseline",
        "energy_cap_minus_15pct",
        "d_class_exit",
        "redline_buffer_200m",
        "catalogue_strict",
        "growth_priority_a",
    } <= names
    hashes = set()
    for path in SHIPPED:
        scen = load_scenario(path)
        assert scen.name == path.stem
        assert scen.case_path == (ROOT / "gis_data" / "zhejiang_sample.gpkg").resolve()
        hashes.add(scen.hash)
    assert len(hashes) == len(SHIPPED)


def test_shipped_values():
    tight = load_scenario(ROOT / "scenarios/energy_cap_minus_15pct.toml")
    assert tight["caps.energy_factor"] == 0.85
    assert load_scenario(ROOT / "scenarios/d_class_exit.toml")["exit.classes"] == ["D"]
    assert load_scenario(ROOT / "scenarios/growth_priority_a.toml")["classes.floor.A"] == 0.9
    assert load_scenario(ROOT / "scenarios/catalogue_strict.toml")["eligibility.catalogue"] is True
    base = load_scenario(ROOT / "scenarios/baseline.toml")
    assert base["energy.basis"] == "equivalent"
    assert base["energy.electricity_coef_tce_per_mwh"] == 0.30
    assert base["energy.case_electricity_coef_tce_per_mwh"] == 0.30
    assert "electricity_equivalent" in base.source["source"]


def test_frozen_and_hash_stable(tmp_path):
    a = load_scenario(ROOT / "scenarios/baseline.toml")
    b = load_scenario(ROOT / "scenarios/baseline.toml")
    assert a.hash == b.hash
    with pytest.raises(TypeError):
        a.flat["objective.alpha_va"] = 3  # type: ignore[index]
    with pytest.raises(TypeError):
        a.data["objective"]["alpha_va"] = 3  # type: ignore[index]
    c = a.with_overrides({"objective": {"alpha_va": 2.0}})
    assert c["objective.alpha_va"] == 2.0
    assert a["objective.alpha_va"] == 1.0
    assert c.hash != a.hash
    d = a.with_overrides({"objective.alpha_va": 2.0})
    assert d.hash == c.hash


def test_extends_chain_and_relative_case(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    write(tmp_path, "base.toml", 'case = "data/case.gpkg"\n[caps]\nenergy_factor = 0.9\n')
    write(sub, "mid.toml", 'extends = "../base.toml"\n[objective]\nalpha_tax = 2.0\n')
    leaf = write(sub, "leaf.toml", 'extends = "mid.toml"\n[caps]\nenergy_factor = 0.8\n')
    scen = load_scenario(leaf)
    assert scen["caps.energy_factor"] == 0.8
    assert scen["objective.alpha_tax"] == 2.0
    assert scen.case_path == (tmp_path / "data" / "case.gpkg").resolve()
    assert [p.name for p in scen.files] == ["base.toml", "mid.toml", "leaf.toml"]
    assert scen.name == "leaf"


def test_cycle_is_an_error(tmp_path):
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="形成循环"):
        load_scenario(tmp_path / "a.toml")


@pytest.mark.parametrize(
    ("text", "match", "zh"),
    [
        (
            "[objective]\nalpah_va = 1.0\n",
            "unknown key 'objective.alpah_va'",
            "未知参数 'objective.alpah_va'",
        ),
        (
            "[objective]\nalpha_va = 'x'\n",
            "objective.alpha_va.*wrong type",
            "'objective.alpha_va'：类型错误",
        ),
        ("[objective]\nalpha_va = -1.0\n", "below the minimum", "低于最小值"),
        ("[classes.floor]\nA = 1.5\n", "above the maximum", "高于最大值"),
        ("[exit]\nclasses = ['E']\n", "unknown value", "未知取值"),
        ("[solver]\nname = 'gurobi'\n", "unknown value", "未知取值"),
        ("[eligibility]\nbundle_size = 2.5\n", "wrong type", "类型错误"),
        ("[switches]\nno_such = true\n", "unknown key", "未知参数"),
        (
            "[caps.zones.Z03]\nenergy_tce = 100.0\nenergy_factor = 0.9\n",
            "same cap twice",
            "重复设定同一上限",
        ),
        (
            "[caps]\nprovince_energy_tce = 1.0\nprovince_energy_factor = 0.9\n",
            "same cap twice",
            "重复设定同一上限",
        ),
        (
            "[caps.units.U1]\ncod_t = 1.0\nfactor = 0.9\n",
            "same cap twice",
            "重复设定同一上限",
        ),
        ("[switches]\nclass_floor = false\n[classes.floor]\nA = 0.9\n", "switched off", "已关闭"),
        (
            "[switches]\nzone_energy = false\n[caps]\nenergy_factor = 0.8\n",
            "switched off",
            "已关闭",
        ),
        (
            "[switches]\nzone_energy = false\n[caps.zones.Z1]\nenergy_tce = 8.0\n",
            "switched off",
            "已关闭",
        ),
        ("[energy]\nbasis = 'equivalent'\n", "does not match", "不符"),
        ("[energy]\nelectricity_coef_tce_per_mwh = 0.3\n", "does not match", "不符"),
        ("[objective\n", "not valid TOML", "不是有效的 TOML"),
    ],
)
def test_errors_name_file_and_key(tmp_path, text, match, zh):
    """Each error names the file and key, in English and in Chinese (the default)."""
    from allocator.i18n import set_lang

    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "bad.toml" in str(info.value)
    assert zh in str(info.value)
    assert info.value.hint
    set_lang("en")
    with pytest.raises(ScenarioError, match=match) as info:
        load_scenario(path)
    assert "bad.toml" in str(info.value)


def test_child_replaces_absolute_with_factor(tmp_path):
    write(tmp_path, "p.toml", "[caps.zones.Z1]\nenergy_tce = 100.0\n")
    child = write(tmp_path, "c.toml", 'extends = "p.toml"\n[caps.zones.Z1]\nenergy_factor = 0.5\n')
    scen = load_scenario(child)
    assert scen.per_id("caps.zones") == {"Z1": {"energy_factor": 0.5}}
    # switching a family off in a child of a file that set its parameters is the point of a switch
    off = write(tmp_path, "off.toml", 'extends = "p.toml"\n[switches]\nzone_energy = false\n')
    assert load_scenario(off)["switches.zone_energy"] is False


def test_one_unit_carries_several_pollutant_caps(tmp_path):
    """Each unit × pollutant cap is its own key: two on one unit are not 'the same cap twice'."""
    path = write(tmp_path, "two.toml", "[caps.units.U1]\ncod_t = 2.0\nnh3n_t = 0.15\n")
    scen = load_scenario(path)
    assert scen.per_id("caps.units") == {"U1": {"cod_t": 2.0, "nh3n_t": 0.15}}


def test_child_overriding_one_pollutant_keeps_the_parents_others(tmp_path):
    write(
        tmp_path,
        "p.toml",
        "[caps.units.U1]\ncod_t = 2.0\nnh3n_t = 0.15\n[caps.units.U2]\nfactor = 0.5\n",
    )
    child = write(
        tmp_path,
        "c.toml",
        'extends = "p.toml"\n[caps.units.U1]\ncod_t = 3.0\n[caps.units.U2]\nso2_t = 1.0\n',
    )
    scen = load_scenario(child)
    assert scen.per_id("caps.units") == {
        "U1": {"cod_t": 3.0, "nh3n_t": 0.15},
        # the unit factor still scales U2's other pollutants; so2 is absolute
        "U2": {"factor": 0.5, "so2_t": 1.0},
    }
    # a unit factor covers all four pollutant caps: it replaces the parent's absolute ones
    back = write(tmp_path, "b.toml", 'extends = "p.toml"\n[caps.units.U1]\nfactor = 0.8\n')
    assert load_scenario(back).per_id("caps.units")["U1"] == {"factor": 0.8}


def test_one_key_twice_with_different_values_is_an_error():
    from allocator.i18n import set_lang

    set_lang("en")
    both = {"caps.units.U1.cod_t": 1.0, "caps": {"units": {"U1": {"cod_t": 2.0}}}}
    with pytest.raises(ScenarioError, match="<dict>: key 'caps.units.U1.cod_t' is given twice"):
        scenario_from_dict(both)
    same = {"caps.units.U1.cod_t": 1.0, "caps": {"units": {"U1": {"cod_t": 1.0}}}}
    assert scenario_from_dict(same)["caps.units.U1.cod_t"] == 1.0


def test_equivalent_basis_ok(tmp_path):
    path = write(
        tmp_path, "eq.toml", "[energy]\nbasis = 'equivalent'\nelectricity_coef_tce_per_mwh = 0.30\n"
    )
    assert load_scenario(path)["energy.basis"] == "equivalent"


def test_toml_round_trip(tmp_path):
    scen = load_scenario(ROOT / "scenarios/growth_priority_a.toml").with_overrides(
        {"caps": {"zones": {"Z01": {"energy_tce": 123.0}}}}
    )
    out = scen.save(tmp_path / "resolved.toml")
    again = load_scenario(out)
    assert again.hash == scen.hash
    assert math.isinf(again["classes.cap.B"])
    assert again.case_path == scen.case_path
    assert again.per_id("caps.zones")["Z01"]["energy_tce"] == 123.0


def test_overrides_are_validated():
    from allocator.i18n import set_lang

    set_lang("en")
    scen = scenario_from_dict({"objective": {"alpha_va": 0.5}})
    with pytest.raises(ScenarioError, match="<overrides>.*unknown key 'foo'"):
        scen.with_overrides({"foo": 1})
    with pytest.raises(ScenarioError, match="wrong type"):
        scen.with_overrides({"switches.zone_energy": "yes"})


def test_schema_lists_every_key_with_descriptions():
    schema = scenario_schema("en")
    keys = {entry["key"] for entry in schema}
    assert {f"switches.{s}" for s in SWITCHABLE} <= keys
    assert "caps.zones.*.energy_factor" in keys
    for entry in schema:
        assert entry["description_zh"]
        assert entry["description_en"]
        assert entry["type"] in {"float", "int", "bool", "str", "list[str]"}
    assert len(scenario_schema("en", analysis=True)) == len(FIELDS)
    assert not {k for k in keys if k.startswith(("alternatives.", "stability."))}
    for f in FIELDS:
        assert i18n.has(f.desc_key)


def test_numpy_numbers_from_widgets_are_accepted():
    import numpy as np

    scen = scenario_from_dict({}).with_overrides(
        {"eligibility.bundle_size": np.int64(2), "objective.alpha_va": np.float32(0.5)}
    )
    assert scen["eligibility.bundle_size"] == 2
    assert scen["objective.alpha_va"] == 0.5
    assert isinstance(scen["eligibility.bundle_size"], int)
