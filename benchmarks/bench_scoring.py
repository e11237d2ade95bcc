"""Benchmark: 亩均 scoring + classing + explanations for 100,000 synthetic firms.

Target ≤ 2 s for ``score()`` (indicator values, partial scores, pool averages,
rank-percentile classes with ties, applicants against thresholds, weakest
indicator, next-class threshold and the exact tax / energy counterfactuals).
Baseline, same run: a plain numpy pass over the same arrays (six ratios, the
weighted sum and one argsort) — the least any scorer must do.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from allocator.pricing import price_impacts
from allocator.scoring import explanation_texts, score
from allocator.scoring.synthetic import synth_firms

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
REPEAT = 3
TARGET_S = 2.0


def timed(fn, repeat=REPEAT):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def numpy_baseline(df):
    land = df["land_mu"].to_numpy(float)
    va = df["value_added_wan"].to_numpy(float)
    emis = df[["cod_t", "nh3n_t", "so2_t", "nox_t"]].to_numpy(float).sum(axis=1)
    s = (
        30 * df["tax_wan"].to_numpy(float) / land / 24.097
        + 20 * va / land / 136.16
        + 20 * va / df["energy_tce"].to_numpy(float) / 2.694
        + 10 * va / emis / 4929.81
        + 10 * va / df["employees"].to_numpy(float) / 18.14
        + 10 * df["rd_wan"].to_numpy(float) / df["revenue_wan"].to_numpy(float) / 0.0302
    )
    return np.argsort(-s)


def main() -> int:
    df = synth_firms(N, seed=42, applicants=0.05)
    base_s, _ = timed(lambda: numpy_baseline(df))
    score_s, scores = timed(lambda: score(df, "huangyan_2022", year=2024))
    minmax_s, _ = timed(lambda: score(df, "minmax_example", year=2024))
    price_s, _ = timed(lambda: price_impacts(df, scores), repeat=1)
    text_s, _ = timed(lambda: explanation_texts(scores.table), repeat=1)
    tb = scores.table
    rows = [
        ("numpy baseline (6 ratios + sum + argsort)", base_s),
        ("score() huangyan_2022: scores+classes+explanations", score_s),
        ("score() minmax_example", minmax_s),
        ("price_impacts() price_default", price_s),
        ("explanation_texts() (sentences for exports)", text_s),
    ]
    print(f"bench_scoring: {N:,} firms, median of {REPEAT} runs (texts and prices: 1 run)")
    print(f"{'step':<56} {'seconds':>9} {'× baseline':>11}")
    for name, secs in rows:
        print(f"{name:<56} {secs:>9.3f} {secs / base_s:>11.1f}")
    classed = int(tb["class"].notna().sum())
    cf = int(tb["cf_tax_wan"].notna().sum())
    print(
        f"classed {classed:,}; with a tax counterfactual {cf:,}; target ≤ {TARGET_S} s: "
        f"{'met' if score_s <= TARGET_S else 'MISSED'} ({score_s:.3f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
