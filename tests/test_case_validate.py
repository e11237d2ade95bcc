"""Validation checks on the tiny case, one broken thing at a time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from allocator.case import validate_case
from allocator.case.io import build_case
from allocator.case.testing import tiny_frames
from allocator.case.validate import credit_check_char, credit_code_status
from allocator.errors import ProblemList

REAL_CODES = [
    "91330100716105852F",  # published codes of large listed firms
    "914403001922038216",
    "9144030071526726XG",
    "91110000802100433B",
]


def _problems(frames) -> list:
    problems = ProblemList()
    build_case(frames, problems)
    return problems.problems


def _codes(problems, severity=None) -> set[tuple[str, str, str, str]]:
    return {
        (p.code, p.layer, p.row, p.column)
        for p in problems
        if severity is None or p.severity == severity
    }


def test_credit_codes_known_valid():
    assert list(credit_code_status(REAL_CODES)) == ["", "", "", ""]
    for code in REAL_CODES:
        assert credit_check_char(code[:17]) == code[17]


def test_credit_code_kinds():
    status = credit_code_status(
        ["91330100716105852G", "9133010071610585", "91330100716105852I", None, "91330100716105852f"]
    )
    assert list(status) == ["check", "length", "charset", "", ""]


def test_credit_code_check_character_zero():
    # A remainder of 0 gives check value 31 → "0".
    for i in range(200):
        base = f"9133010{i:010d}"
        ch = credit_check_char(base)
        assert credit_code_status([base + ch])[0] == ""
        assert ch in "0123456789ABCDEFGHJKLMNPQRTUWXY"


def test_all_problems_reported_at_once():
    f = tiny_frames()
    f["plots"].loc[0, "zone_id"] = "Z09"
    f["plots"].loc[1, "land_use"] = "工厂"
    f["firms"].loc[2, "tax_wan"] = -1.0
    f["firms"].loc[3, "credit_code"] = "91330206MA2D7G8H9"
    f["catalogue"].loc[0, "zone_id"] = "Z42"
    f["county_lists"].loc[1, "valid_to"] = "2020-01-01"
    errors = _codes(_problems(f), "error")
    assert ("dangling_ref", "plots", "P01", "zone_id") in errors
    assert ("bad_choice", "plots", "P02", "land_use") in errors
    assert ("negative", "firms", "F003", "tax_wan") in errors
    assert ("credit_code_length", "firms", "F004", "credit_code") in errors
    assert ("dangling_ref", "catalogue", "#1", "zone_id") in errors
    assert ("dates_reversed", "county_lists", "#2", "valid_to") in errors


def test_plot_outside_zone_is_a_warning():
    f = tiny_frames()
    plots = f["plots"]
    plots.loc[3, "geometry"] = shapely.affinity.translate(plots.geometry.iloc[3], 0, -150)
    plots.loc[4, "geometry"] = shapely.affinity.translate(plots.geometry.iloc[4], 0, -1.0)
    problems = _problems(f)
    warnings = _codes(problems, "warning")
    assert ("plot_outside_zone", "plots", "P04", "zone_id") in warnings
    assert not any(p.row == "P05" for p in problems)  # 1 m is within tolerance
    assert not [p for p in problems if p.severity == "error"]


def test_status_occupant_consistency():
    f = tiny_frames()
    f["plots"].loc[0, "occupant_id"] = None
    f["plots"].loc[3, "occupant_id"] = "F003"
    warnings = _codes(_problems(f), "warning")
    assert ("occupied_without_occupant", "plots", "P01", "occupant_id") in warnings
    assert ("occupant_on_free_plot", "plots", "P04", "occupant_id") in warnings


def test_required_by_kind():
    f = tiny_frames()
    f["firms"].loc[0, "zone_id"] = None
    f["firms"].loc[4, "land_max_mu"] = np.nan
    errors = _codes(_problems(f), "error")
    assert ("missing_value", "firms", "F001", "zone_id") in errors
    assert ("missing_value", "firms", "A001", "land_max_mu") in errors


def test_access_rules_scope():
    f = tiny_frames()
    f["access_rules"].loc[0, "scope_id"] = "red_zone"
    errors = _codes(_problems(f), "error")
    assert ("dangling_ref", "access_rules", "#1", "scope_id") in errors


def test_class_history_dangling_is_warning():
    f = tiny_frames()
    f["class_history"].loc[0, "firm_id"] = "F777"
    problems = _problems(f)
    assert ("dangling_ref", "class_history", "#1", "firm_id") in _codes(problems, "warning")
    assert not [p for p in problems if p.severity == "error"]


def test_duplicate_class_year():
    f = tiny_frames()
    f["class_history"].loc[1, "year"] = 2022
    assert ("duplicate_class_year", "class_history", "#2", "year") in _codes(_problems(f), "error")


def test_bool_and_number_words():
    f = tiny_frames()
    firms = f["firms"].astype({"locked": object, "tax_wan": object})
    firms.loc[0, "locked"] = "是"
    firms.loc[1, "locked"] = "maybe"
    firms.loc[2, "tax_wan"] = "1,234.5"
    f["firms"] = firms
    problems = ProblemList()
    case = build_case(f, problems)
    assert case is None
    assert ("not_a_bool", "firms", "F002", "locked") in _codes(problems.problems, "error")
    firms.loc[1, "locked"] = "否"
    problems = ProblemList()
    case = build_case(f, problems)
    assert case is not None
    assert case.firms["locked"].tolist()[:3] == [True, False, False]
    assert case.firms["tax_wan"].iloc[2] == pytest.approx(1234.5)


def test_validate_case_on_case_keeps_warnings():
    f = tiny_frames()
    plots = f["plots"]
    x0, y0, x1, y1 = plots.geometry.iloc[3].bounds
    plots.loc[3, "geometry"] = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    problems = ProblemList()
    case = build_case(f, problems)
    assert case is not None
    found = validate_case(case)
    assert [p.code for p in found] == ["geometry_repaired", "multipart_plot"]


def test_text_ids_from_numbers():
    f = tiny_frames()
    f["catalogue"]["priority"] = f["catalogue"]["priority"].astype(float)
    f["class_history"]["year"] = f["class_history"]["year"].astype(str)
    problems = ProblemList()
    case = build_case(f, problems)
    assert case is not None
    assert case.catalogue["priority"].dtype == np.int64
    assert case.class_history["year"].dtype == np.int64
    assert pd.api.types.is_string_dtype(case.plots["plot_id"])


CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@settings(max_examples=300, deadline=None)
@given(
    base=st.text(alphabet=CHARSET, min_size=17, max_size=17),
    pos=st.integers(0, 17),
    new=st.sampled_from(CHARSET),
)
def test_credit_code_detects_any_single_substitution(base, pos, new):
    code = base + credit_check_char(base)
    assert credit_code_status([code])[0] == ""
    changed = code[:pos] + new + code[pos + 1 :]
    expected = "" if changed == code else "check"
    assert credit_code_status([changed])[0] == expected
