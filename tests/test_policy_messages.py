"""Policy loaders refuse a bad value with one message: the file, the item (key or row), why.

The loaders of :mod:`allocator.land`, :mod:`allocator.land_supply` and
:mod:`allocator.pricing` share :class:`allocator.scoring.method.PolicyFile`; each
case pins the message a bad file gets (``{path}`` stands for the file), written
down from the loaders as they were before they shared it.
"""

from __future__ import annotations

import pytest

from allocator.errors import ScenarioError
from allocator.i18n import set_lang
from allocator.land import load_assessment_rule, load_far_rule, load_idle_rule
from allocator.land_supply import load_supply_rule, load_use_rule
from allocator.pricing import load_price_table

LOADERS = {
    "far": load_far_rule,
    "idle": load_idle_rule,
    "aclass": load_assessment_rule,
    "supply": load_supply_rule,
    "use": load_use_rule,
    "price": load_price_table,
}
FAR = (
    'eligible_classes = ["A", "B"]\ncost_yuan_per_m2 = 2000.0\n'
    "amortisation_years = 10.0\noutput_elasticity = 1.0\n"
)
IDLE = "saving_yuan_per_m2 = 1500.0\namortisation_years = 10.0\n"
ACLASS = "min_tax_wan_per_km2 = 1.0\nmin_va_wan_per_km2 = 1.0\nmin_developed_share = 0.5\n"
SUPPLY = 'include = ["land_supply_default"]\n'
RULE = '[[rule]]\nmodes = ["flexible"]\ndefault = "flexible"\n'
MODES = "full_term, flexible, lease_then_transfer, lease_transfer_mix, long_lease"
LAND = "用地规则文件 {path} 中 "

CASES = {
    "far.classes": (
        "far", FAR.replace('"B"', '"E"'), "eligible_classes 有误：须为类别列表（A/B/C/D）",
    ),
    "far.industry_not_table": ("far", FAR + "[industry]\nC39 = 5\n", "industry.C39 有误：须为表"),
    "far.industry_zero_years": (
        "far", FAR + "[industry.C39]\namortisation_years = 0\n",
        "industry.C39.amortisation_years 有误：须大于0",
    ),
    "far.missing": (
        "far", FAR.replace("cost_yuan_per_m2 = 2000.0\n", ""), "cost_yuan_per_m2 有误：缺少该项",
    ),
    "far.not_number": (
        "far", FAR.replace("= 1.0", '= "abc"'), "output_elasticity 有误：不是数字",
    ),
    "far.negative": ("far", FAR.replace("2000.0", "-1.0"), "cost_yuan_per_m2 有误：不能为负"),
    "far.infinite_years": ("far", FAR.replace("10.0", "inf"), "amortisation_years 有误：须大于0"),
    "idle.zero_years": ("idle", IDLE.replace("10.0", "0"), "amortisation_years 有误：须大于0"),
    "idle.not_number": ("idle", IDLE.replace("1500.0", '"x"'), "saving_yuan_per_m2 有误：不是数字"),
    "aclass.share": (
        "aclass", ACLASS + 'target_share = "2"\n',
        'target_share 有误：应为 0 到 1 之间的比例（如 "1/3"）',
    ),
    "aclass.missing": (
        "aclass", ACLASS.replace("min_developed_share = 0.5\n", ""),
        "min_developed_share 有误：缺少该项",
    ),
    "supply.no_modes": (
        "supply", "return_value_yuan_per_mu = 1.0\ndiscount_rate = 0.0\n", "modes 有误：须为表",
    ),
    "supply.unknown_mode": (
        "supply", SUPPLY + "[modes.bogus]\nyears = 1\nprice_yuan_per_mu_year = 1\n",
        f"modes.bogus 有误：供地方式须为以下之一：{MODES}",
    ),
    "supply.mode_not_table": (
        "supply", SUPPLY + "[modes]\nflexible = 5\n", "modes.flexible 有误：须为表",
    ),
    "supply.mode_zero_years": (
        "supply", SUPPLY + "[modes.flexible]\nyears = 0\n", "modes.flexible.years 有误：须大于0",
    ),
    "supply.cycles_not_table": ("supply", SUPPLY + "cycle_years = 5\n", "cycle_years 有误：须为表"),
    "supply.cycle_negative": (
        "supply", SUPPLY + "[cycle_years]\nC39 = -1\n", "cycle_years.C39 有误：不能为负",
    ),
    "supply.no_rule": ("supply", SUPPLY + "rule = []\n", "rule 有误：缺少该项"),
    "supply.row_not_table": ("supply", SUPPLY + "rule = [5]\n", "rule[1] 有误：须为表"),
    "supply.row_modes": (
        "supply", SUPPLY + RULE.replace('["flexible"]', '["bogus"]'),
        f"rule[1].modes 有误：供地方式须为以下之一：{MODES}",
    ),
    "supply.row_default": (
        "supply", SUPPLY + RULE.replace('default = "flexible"', 'default = "long_lease"'),
        "rule[1].default 有误：默认供地方式须是本条规则允许的方式之一",
    ),
    "supply.row_classes": (
        "supply", SUPPLY + RULE + 'classes = ["E"]\n',
        "rule[1].classes 有误：须为类别列表（A/B/C/D）",
    ),
    "supply.row_years": (
        "supply", SUPPLY + RULE + "years = { flexible = 0 }\n",
        "rule[1].years.flexible 有误：须大于0",
    ),
    "supply.row_cycle": (
        "supply", SUPPLY + RULE + 'min_cycle_years = "x"\n',
        "rule[1].min_cycle_years 有误：不是数字",
    ),
    "supply.last_row": (
        "supply", SUPPLY + RULE + 'classes = ["A"]\n',
        "rule[1] 有误：最后一条规则须适用于所有项目（不限行业、类别与生产周期）",
    ),
    "use.not_table": ("use", "admits = 5\n", "admits 有误：须为表"),
    "use.land_use": (
        "use", '[admits]\nXX = ["industrial"]\n',
        "admits.XX 有误：用地类型须为以下之一：M1, M0, W, RD, B, MIX",
    ),
    "use.use": (
        "use", '[admits]\nM1 = ["bogus"]\n',
        "admits.M1 有误：项目用途须为以下之一：industrial, warehouse, rd, office",
    ),
}  # fmt: skip
PRICE_CASES = {
    "price.class": (
        "[electricity.surcharge_yuan_per_kwh]\nE = 0.1\n",
        "评价方法文件 {path} 中 electricity.E 有误：class must be A–D",
    ),
    "price.step": (
        '[[electricity.consecutive]]\nclass = "D"\nsurcharge_yuan_per_kwh = 0.4\n',
        "评价方法文件 {path} 中 electricity.consecutive[0] 有误："
        "needs class, years, surcharge_yuan_per_kwh",
    ),
}


def _message(tmp_path, kind: str, text: str) -> str:
    path = tmp_path / "rule.toml"
    path.write_text(text, encoding="utf-8")
    set_lang("zh")
    with pytest.raises(ScenarioError) as info:
        LOADERS[kind](path)
    return info.value.message.replace(str(path), "{path}")


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_rule_value_is_one_message_naming_file_and_item(tmp_path, name):
    kind, text, expected = CASES[name]
    assert _message(tmp_path, kind, text) == LAND + expected


@pytest.mark.parametrize("name", list(PRICE_CASES))
def test_a_bad_price_value_is_one_message_naming_file_and_item(tmp_path, name):
    text, expected = PRICE_CASES[name]
    assert _message(tmp_path, "price", text) == expected


def test_the_shipped_policies_load_with_their_source():
    for loader in LOADERS.values():
        assert loader().source  # every shipped default names its source document
