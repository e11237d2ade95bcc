"""AppTest: the 权衡分析 page runs a real sweep of the tiny case on a local Dask cluster."""

from __future__ import annotations

import pytest
from app_helpers import open_page, texts, write_tiny_case

from allocator import i18n

pytest.importorskip("distributed", reason="dask[distributed] is not installed")


@pytest.fixture
def env(tmp_path, monkeypatch):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "baseline.toml").write_text('name = "tiny"\n', encoding="utf-8")
    monkeypatch.setenv("ALLOCATOR_SCENARIOS", str(scenarios))
    monkeypatch.setenv("ALLOCATOR_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("ALLOCATOR_CASE", str(write_tiny_case()))
    return tmp_path


def test_page_renders_in_both_languages(env):
    at = open_page("tradeoff")
    assert [h.value for h in at.header] == ["权衡分析"]
    assert i18n.t("ui.nav.tradeoff", "zh") != i18n.t("ui.nav.tradeoff", "en")
    at = open_page("tradeoff", lang="en")
    assert [h.value for h in at.header] == ["Trade-offs"]


@pytest.mark.dask
def test_range_sweep_shows_curve_quota_values_and_a_point(env):
    at = open_page("tradeoff", timeout=180)
    at.selectbox(key="to_param").set_value("caps.province_energy_tce").run()
    at.number_input(key="to_start_caps.province_energy_tce").set_value(13000.0)
    at.number_input(key="to_stop_caps.province_energy_tce").set_value(19000.0)
    at.number_input(key="to_points").set_value(3)
    at.number_input(key="to_workers").set_value(1)
    at.button(key="to_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [type(e).__name__ for e in at.main].count("Image") == 1
    curve = at.dataframe[0].value
    assert curve["value"].tolist() == [13000.0, 16000.0, 19000.0]
    assert set(curve["status"]) == {"optimal"}
    quota = at.dataframe[1].value
    assert len(quota) == 2
    assert quota["value_per_unit"].iloc[0] == pytest.approx(quota["lp_marginal_to"].iloc[0])
    kpis = at.dataframe[2].value
    assert "增加值（万元）" in set(kpis.iloc[:, 0])
    runs = list((env / "runs" / "sweeps").iterdir())
    assert len(runs) == 1
    assert (runs[0] / "sweep.csv").exists()


@pytest.mark.dask
def test_zero_spread_robustness_on_the_page(env):
    at = open_page("tradeoff", timeout=180)
    at.radio(key="to_mode").set_value("robustness").run()
    at.number_input(key="to_n").set_value(2)
    at.number_input(key="to_spread").set_value(0.0)
    at.number_input(key="to_workers").set_value(1)
    at.button(key="to_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    frames = [d.value for d in at.dataframe]
    firms = next(f for f in frames if "firm_id" in f.columns)
    assert set(firms["frequency"]) <= {0.0, 1.0}
    assert "企业入选频率" in texts(at)
    assert [b.proto.label for b in at.get("download_button")] == ["下载地块入选频率图层（GeoJSON）"]
