"""GB/T 4754-2017 division names."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from allocator.industry import division, divisions, industry_label, industry_name


def test_table_has_the_97_divisions_in_their_sections():
    table = divisions()
    assert len(table) == 97
    assert sorted(int(k[1:]) for k in table) == list(range(1, 98))
    sections = {"A": (1, 5), "B": (6, 12), "C": (13, 43), "D": (44, 46), "G": (53, 60),
                "I": (63, 65), "M": (73, 75), "T": (97, 97)}  # fmt: skip
    for letter, (lo, hi) in sections.items():
        assert {k for k in table if k[0] == letter} == {
            f"{letter}{n:02d}" for n in range(lo, hi + 1)
        }
    assert all(v["zh"] and v["en"] for v in table.values())


def test_names_and_labels():
    assert industry_name("C26") == "化学原料和化学制品制造业"
    assert industry_name("C3973", "en") == "Computers, communication and other electronic equipment"
    assert industry_name(" g5942 ") == "装卸搬运和仓储业"
    assert industry_label("I65") == "I65 软件和信息技术服务业"
    assert industry_label("C", "zh") == "C"  # a bare section has no division name
    assert industry_name("X99") == ""
    assert division("C2710") == "C27"


@given(st.text(max_size=8))
def test_any_text_gives_a_name_or_nothing(code):
    name = industry_name(code)
    assert name == "" or division(code) in divisions()


def test_catalogue_membership_one_rule():
    import pandas as pd

    from allocator.industry import catalogue_prefixes, in_catalogue, matches_prefix

    assert matches_prefix("C2614", "c26")
    assert not matches_prefix("C2614", "")
    assert not matches_prefix(None, "C26")
    cat = pd.DataFrame({"zone_id": ["Z1", "Z1", "Z3"], "industry_prefix": ["C39", "F51", None]})
    prefixes = catalogue_prefixes(cat)
    assert prefixes == {"Z1": ("C39", "F51")}
    assert in_catalogue("C3973", "Z1", prefixes)
    assert not in_catalogue("C2614", "Z1", prefixes)
    # no catalogue rows (Z2), or rows without a prefix (Z3): nothing is outside
    assert in_catalogue("C2614", "Z2", prefixes)
    assert in_catalogue("C2614", "Z3", prefixes)
    assert catalogue_prefixes(None) == {}
