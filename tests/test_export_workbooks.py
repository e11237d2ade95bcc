"""Workbooks that read and print: number formats by quantity, A4 landscape page set-up.

Every workbook written through the shared writer (the run's ``tables.xlsx`` and
``allocator compare --out``) is opened with openpyxl and each numeric cell is
displayed the way its number format shows it.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest_export import make_export_run

from allocator.case.schema import FIRM_KINDS, UNIT_CATEGORIES
from allocator.cli import main
from allocator.export.data import OUTCOMES
from allocator.export.tables import Workbook
from models.allocation import FAMILIES

COUNT_HEADERS = ("企业数", "家", "个")


def shown(value: float, num_format: str) -> str:
    """Return how Excel/LibreOffice shows ``value`` under ``num_format`` (the formats we write)."""
    if num_format in ("General", None):
        return repr(value)
    if "E+" in num_format:
        return f"{value:.2E}"
    decimals = len(num_format.split(".")[1].rstrip("%")) if "." in num_format else 0
    if num_format.endswith("%"):
        return f"{100 * value:.{decimals}f}%"
    return f"{value:,.{decimals}f}"


def _is_zero_text(text: str) -> bool:
    return re.fullmatch(r"-?[0,]*\.?0*%?", text) is not None


def check_workbook(path: Path) -> dict[str, int]:
    """Assert the page set-up and that no non-zero number shows as zero; count cells checked."""
    book = openpyxl.load_workbook(path)
    counts = {"numbers": 0, "count_cells": 0}
    for ws in book.worksheets:
        setup = ws.page_setup
        assert setup.orientation == "landscape", ws.title
        assert int(setup.paperSize) == 9, ws.title  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert int(setup.fitToWidth or 1) == 1, ws.title  # OOXML default 1 when omitted
        assert int(setup.fitToHeight) == 0, ws.title
        assert ws.print_title_rows.replace("$", "") == "1:1", ws.title
        assert ws.freeze_panes == "A2", ws.title
        heads = [str(c.value or "") for c in ws[1]]
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                v = cell.value
                if isinstance(v, bool) or not isinstance(v, int | float) or v == 0:
                    continue
                counts["numbers"] += 1
                text = shown(float(v), cell.number_format)
                assert not _is_zero_text(text), (ws.title, cell.coordinate, v, text)
                head = heads[cell.column - 1]
                if any(h in head for h in COUNT_HEADERS) and float(v).is_integer():
                    counts["count_cells"] += 1
                    assert cell.number_format == "#,##0", (ws.title, head, cell.number_format)
    return counts


def test_number_formats_by_quantity(tmp_path):
    frame = pd.DataFrame(
        {
            "nh3n_t": [0.0042, 1.25, 0.0, 310.5],
            "firms_before": [261.0, 3.0, 0.0, 12.0],
            "area_mu": [90.0, 45.0, 12.0, 7.0],
            "gap": [0.00036, 0.0, 0.05, 0.0],
            "developed_share_after": [0.25, 0.5, 1.0, 0.0],
            "tiny": [3e-9, 0.0, 0.0, 1.0],
        }
    )
    book = Workbook(tmp_path / "w.xlsx", "zh")
    book.sheet("表", frame)
    book.close()
    check_workbook(tmp_path / "w.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "w.xlsx").active
    fmts = [ws.cell(2, j + 1).number_format for j in range(6)]
    assert fmts[0] == "#,##0.0000"  # 0.0042 t shows as 0.0042, not 0.00
    assert fmts[1] == "#,##0"  # 261 firms, not 261.00
    assert fmts[2] == "#,##0"  # whole mu
    assert fmts[3] == "0.00%"  # the gap 0.036 % shows as 0.04 %, not 0.0 %
    assert shown(0.00036, fmts[3]) == "0.04%"
    assert fmts[4] == "0.0%"
    assert "E+" in fmts[5]


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory):
    base = tmp_path_factory.mktemp("books")
    run_path = make_export_run(base)
    out = base / "out"
    assert main(["export", str(run_path), "--format", "xlsx", "-o", str(out)]) == 0
    gpkg = base / "tiny_export.gpkg"
    scores = base / "scores.xlsx"
    assert main(["score", str(gpkg), "--out", str(scores)]) == 0
    check = base / "check.xlsx"
    assert main(["check", str(gpkg), "--out", str(check)]) == 0
    second = make_export_run(base / "second")
    cmp_path = base / "compare.xlsx"
    assert main(["compare", str(run_path), str(second), "--out", str(cmp_path)]) == 0
    return {"tables": out / "tables.xlsx", "compare": cmp_path, "scores": scores, "check": check}


def test_every_shared_writer_workbook_reads_and_prints(workbooks):
    total = {"numbers": 0, "count_cells": 0}
    for path in workbooks.values():
        for k, v in check_workbook(path).items():
            total[k] += v
    assert total["numbers"] > 50


CODES = {
    *OUTCOMES,
    *UNIT_CATEGORIES,
    *FIRM_KINDS,
    "vacant", "idle", "occupied", "excluded", "key_control", "nh3n", "cod", "so2", "nox",
    "pollutant", "reason_zh", "reason_en", "plot_id", "zone_id", "firm_id", "unit_id",
    "land_use", "status", "redline_share", "in_zone", "eligible_groups", "subject",
    "share_of_cap", *FAMILIES,
}  # fmt: skip
ROW_CODE = re.compile(r"^[a-z_]+\[.*\]$")
"""A solver row name such as ``zone_energy[Z01]``."""
"""Internal codes (outcome, status, kind, category values; column names) nobody should read."""


@pytest.mark.parametrize("name", ["scores", "check", "tables", "compare"])
def test_no_internal_code_in_any_workbook(workbooks, name):
    book = openpyxl.load_workbook(workbooks[name])
    hits = []
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                text = cell.value.strip() if isinstance(cell.value, str) else None
                if text is not None and (text in CODES or ROW_CODE.match(text)):
                    hits.append((ws.title, cell.coordinate, cell.value))
    assert hits == []


def _column(ws, header: str) -> list:
    heads = [c.value for c in ws[1]]
    j = heads.index(header)
    return [row[j].value for row in ws.iter_rows(min_row=2)]


def test_electricity_reads_in_wan_kwh_in_the_run_workbook(workbooks):
    """Planners read 万千瓦时 (allocator.units): 1 万千瓦时 = 10 MWh, so the tiny run's
    Z01 uses 39,800 MWh = 3,980 万千瓦时 of a 60,000 MWh = 6,000 万千瓦时 cap and F001
    19,800 MWh = 1,980 万千瓦时."""
    book = openpyxl.load_workbook(workbooks["tables"])
    zones, firms = book["综保区"], book["企业"]
    assert _column(zones, "用电量(万千瓦时)") == [3980.0, 900.0]
    assert _column(zones, "用电上限(万千瓦时)") == [6000.0, 4000.0]
    f = dict(zip(_column(firms, "企业编号"), _column(firms, "用电量(万千瓦时)"), strict=True))
    assert f["F001"] == 1980.0
    for ws in book.worksheets:
        assert not any("兆瓦时" in str(c.value) for row in ws.iter_rows() for c in row), ws.title


def test_marginal_value_of_electricity_is_per_wan_kwh(tmp_path):
    """2.5 万元 per MWh is 25 万元 per 万千瓦时 (the rate's denominator in the planner's unit)."""
    from allocator.export.data import collect
    from allocator.export.tables import marginals_frame
    from allocator.runs import load_run

    data = collect(load_run(make_export_run(tmp_path)))
    data.marginals.loc[data.marginals["family"] == "zone_electricity", "value"] = 2.5
    frame = marginals_frame(data)
    row = frame[frame["unit"] == "万元/万千瓦时"]
    assert list(row["value"]) == [25.0]
    assert list(frame.loc[frame["unit"] == "万元/吨标准煤", "value"]) == [11.0, 0.0]
