"""Write the tiny case as a planner would hand it over: mixed formats, Chinese headers.

Run from the repository root: ``python tests/data/import_example/make_example.py``.
The files are committed; ``tests/test_case_import.py`` imports them. Layout:

- ``园区.geojson`` (zones, CGCS2000 lon/lat, Chinese headers)
- ``plots.zip`` (zipped Shapefile in EPSG:4549, GBK DBF without .cpg)
- ``redline.gpkg`` (EPSG:4490)
- ``control_units.parquet`` (GeoParquet, EPSG:4549)
- ``企业.csv`` (GBK, Chinese headers; electricity in 万kWh, tax in 万元)
- ``tables.xlsx`` (sheets class_history, access_rules, catalogue, land_use_rules, 山区26县)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from allocator.case.testing import tiny_frames  # noqa: E402

FIRM_HEADERS = {
    "firm_id": "企业编号",
    "name": "企业名称",
    "credit_code": "统一社会信用代码",
    "kind": "类别",
    "zone_id": "所属园区",
    "candidate_zones": "意向园区",
    "industry": "行业代码",
    "is_service": "是否服务业",
    "tax_wan": "税收(万元)",
    "value_added_wan": "增加值（万元）",
    "revenue_wan": "营业收入(万元)",
    "rd_wan": "研发经费(万元)",
    "employees": "从业人数",
    "energy_tce": "综合能耗(吨标准煤)",
    "electricity_mwh": "用电量(万千瓦时)",
    "cod_t": "化学需氧量(吨)",
    "nh3n_t": "氨氮(吨)",
    "so2_t": "二氧化硫(吨)",
    "nox_t": "氮氧化物(吨)",
    "land_mu": "用地面积(亩)",
    "land_min_mu": "最小用地(亩)",
    "land_max_mu": "申请用地(亩)",
    "energy_req_tce": "申请用能(吨标准煤)",
    "locked": "锁定",
    "locked_plots": "锁定地块",
    "founded_year": "成立年份",
    "under_construction": "在建",
}


def main(out: Path = HERE) -> None:
    frames = tiny_frames()
    for old in out.iterdir():
        if old.name != Path(__file__).name:
            old.unlink()
    zones = frames["zones"].to_crs("EPSG:4490").rename(
        columns={"zone_id": "园区编号", "name": "园区名称", "city": "城市", "county": "县区",
                 "approved_km2": "批复面积(平方公里)", "positioning": "功能定位",
                 "energy_cap_tce": "能耗上限(吨标准煤)", "electricity_cap_mwh": "用电上限(MWh)"}
    )  # fmt: skip
    zones.to_file(out / "园区.geojson", driver="GeoJSON")
    plots = frames["plots"].rename(
        columns={"plot_id": "地块编号", "zone_id": "园区编号", "land_use": "用地性质",
                 "status": "状态", "occupant_id": "使用企业", "far": "容积率",
                 "far_max": "容积率上限"}
    )  # fmt: skip
    plots["用地性质"] = plots["用地性质"].map(
        {"M1": "一类工业用地", "M0": "新型产业用地", "W": "物流仓储用地", "MIX": "混合用地"}
    )
    plots["状态"] = plots["状态"].map({"occupied": "已占用", "vacant": "空闲", "idle": "闲置"})
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / "地块.shp"
        plots.to_file(shp, encoding="gbk")
        shp.with_suffix(".cpg").unlink()
        with zipfile.ZipFile(out / "plots.zip", "w", zipfile.ZIP_DEFLATED) as zf:
            for part in sorted(Path(tmp).iterdir()):
                zf.write(part, part.name)
    frames["redline"].to_crs("EPSG:4490").to_file(out / "redline.gpkg", layer="redline")
    frames["control_units"].to_parquet(out / "control_units.parquet")
    firms = frames["firms"].copy()
    firms["electricity_mwh"] = firms["electricity_mwh"] / 10.0  # in 万kWh
    firms["kind"] = firms["kind"].map({"existing": "现有", "applicant": "申请"})
    firms["industry"] = firms["industry"].str[1:]  # bare digits, as in many spreadsheets
    firms["is_service"] = firms["is_service"].map({True: "是", False: "否"})
    firms["locked"] = firms["locked"].map({True: "是", False: "否"})
    firms = firms.rename(columns=FIRM_HEADERS)
    firms.to_csv(out / "企业.csv", index=False, encoding="gbk")
    with pd.ExcelWriter(out / "tables.xlsx", engine="openpyxl") as xl:
        frames["class_history"].rename(
            columns={"firm_id": "企业编号", "year": "年份", "class": "评价等级"}
        ).to_excel(xl, sheet_name="class_history", index=False)
        frames["access_rules"].to_excel(xl, sheet_name="access_rules", index=False)
        frames["catalogue"].to_excel(xl, sheet_name="catalogue", index=False)
        frames["land_use_rules"].to_excel(xl, sheet_name="land_use_rules", index=False)
        frames["county_lists"].rename(
            columns={"county": "县(市、区)", "city": "设区市", "list_name": "名单",
                     "valid_from": "生效日期", "valid_to": "失效日期"}
        ).to_excel(xl, sheet_name="山区26县", index=False)  # fmt: skip
    shutil.rmtree(out / "__pycache__", ignore_errors=True)


if __name__ == "__main__":
    main()
