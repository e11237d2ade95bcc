"""AppTest: the firm-evaluation page (scores, classes, one firm's explanation, uploads)."""

from __future__ import annotations

import json

import pytest
from app_helpers import open_page, texts, write_tiny_case

import allocator
from allocator.case.testing import tiny_case
from allocator.ui.summaries import reason_width


@pytest.fixture
def tiny_env(tmp_path, monkeypatch):
    case = write_tiny_case(tmp_path)
    monkeypatch.setenv("ALLOCATOR_CASE", str(case))
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(tmp_path / "runs"))
    return case


def test_scores_of_the_case(tiny_env):
    expected = allocator.score(tiny_case()).table
    at = open_page("evaluation")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["企业数"] == str(len(expected))
    for cls in "ABCD":
        assert metrics[f"{cls} 类"] == str(int((expected["class"].astype(str) == cls).sum()))
    main = at.dataframe[0].value
    assert sorted(main.index.astype(str)) == sorted(expected.index.astype(str))
    assert main.loc["F001", "score"] == pytest.approx(expected.loc["F001", "score"])
    # a firm without a rank (an applicant is not ranked) reads —, never "None"
    unranked = expected.index[expected["rank"].isna()].astype(str)
    assert sorted(unranked) == ["A001", "A002"]
    assert set(main.loc[unranked, "rank"]) == {"—"}
    rated = expected["rank"].dropna()
    assert main.loc[rated.index, "rank"].tolist() == [f"{int(r)}" for r in rated]
    # the reason column is wide enough to read (the screenshot cut it off)
    config = json.loads(at.dataframe[0].proto.columns)
    assert config["reason"]["width"] == reason_width(expected["reason"]) == 240  # no reasons

    at.selectbox(key="eval_firm").set_value("F002").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["得分"] == f"{expected.loc['F002', 'score']:,.2f}"
    assert "最拖分的指标" in texts(at)
    # the firm's indicator table shows its columns (they were all hidden: no column label)
    detail = next(d for d in at.dataframe if "单项得分" in d.value.columns)
    config = json.loads(detail.proto.columns)
    assert not any((config.get(c) or {}).get("hidden") for c in ("指标", "数值", "单项得分"))
    assert at.get("download_button")[0].label == "下载评价工作簿（xlsx）"


def test_reason_width_fits_the_longest_reason():
    import pandas as pd

    # 17 Chinese characters = 34 half-ems × 7 px + 24 px of padding
    assert reason_width(pd.Series(["新办企业（不足评价年限），暂不定档", None])) == 262
    assert reason_width(pd.Series(["x" * 500])) == 640  # beyond that the table scrolls
    assert reason_width(None) == 240


def test_uploaded_spreadsheet_with_chinese_headers(tiny_env, tmp_path):
    import io

    firms = tiny_case().firms
    renamed = firms.rename(
        columns={"name": "企业名称", "tax_wan": "税收", "land_mu": "用地面积(亩)"}
    )
    buf = io.BytesIO()
    renamed.to_excel(buf, index=False)
    at = open_page("evaluation")
    at.radio(key="eval_source").set_value("upload").run()
    at.file_uploader(key="eval_upload").set_value(("亩均数据.xlsx", buf.getvalue(), "x")).run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["企业数"] == str(len(firms))


def test_unreadable_upload_is_a_message(tiny_env):
    at = open_page("evaluation")
    at.radio(key="eval_source").set_value("upload").run()
    at.file_uploader(key="eval_upload").set_value(("x.csv", b"foo,bar\n1,2\n", "text/csv")).run()
    assert not at.exception
    assert "无法读取输入文件 x.csv" in at.error[0].value


def test_methods_and_price_impacts(tiny_env):
    at = open_page("evaluation")
    methods = at.selectbox(key="eval_method").options
    # methods by their titles, not their file names
    assert methods[0] == "黄岩区亩均效益综合评价（2022年度基准值）"
    assert "极差标准化评价示例（指标与权重沿用黄岩）" in methods
    assert not [m for m in methods if "_" in m]
    assert "各企业差别化价格年度影响（万元）" in texts(at)
    at.selectbox(key="eval_method").set_value("minmax_example").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["企业数"] == "6"


def test_every_shipped_method_has_a_title():
    """The method lists (evaluation page, what-if form) name each method for people."""
    from allocator.ui.common import list_methods, method_title

    for name in list_methods():
        assert method_title(name) != name
        assert "_" not in method_title(name)
