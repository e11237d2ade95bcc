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
