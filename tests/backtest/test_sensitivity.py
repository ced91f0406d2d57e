"""oracle.sensitivity, the tool behind the calibration tables of docs/BACKTEST.md: the target marks,
the volatility scaling of a file and the per-episode breach counts."""

import numpy as np
import pytest

from oracle import metrics, sensitivity
from oracle.backtest import BacktestConfig, run


def _result(rate, week, cap_week, short, cap_short, median, safe_cr):
    return {
        "dynamic": {
            "breach_rate": rate,
            "worst_week_breaches": week,
            "shortfall": short,
            "median_cr": median,
        },
        "static_same_capital": {"worst_week_breaches": cap_week, "shortfall": cap_short},
        "static_same_safety": {"cr": safe_cr},
    }


def test_cell_marks_nothing_when_every_target_holds():
    assert (
        sensitivity.cell(_result(0.0064, 12, 31, 0.63, 1.0, 1.173, 1.22)) == "0.64%, 12/31, 0.63, 1.173/1.220"
    )


def test_cell_marks_each_missed_target_at_its_bound():
    # rate just above 1%, worst week just above half, shortfall ratio above 0.75, median CR equal to the static one
    cell = sensitivity.cell(_result(0.0101, 16, 31, 0.76, 1.0, 1.2, 1.2))
    assert cell == "1.01% !, 16/31 !, 0.76 !, 1.200/1.200 !"
    # exactly at the bounds passes (<=, <=, <=), the CR bound is strict
    assert sensitivity.cell(_result(0.010, 15, 30, 0.75, 1.0, 1.199, 1.2)).count("!") == 0


def test_scaled_multiplies_sigma_and_keeps_the_first_close(candles_of):
    rng = np.random.default_rng(7)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 500)))
    candles = candles_of(close, low=close * 0.99, high=close * 1.01)
    wild = sensitivity.scaled(candles, 2.0)
    assert wild.close[0] == pytest.approx(candles.close[0])
    r, r2 = np.diff(np.log(candles.close)), np.diff(np.log(wild.close))
    assert np.allclose(r2, 2 * r)
    assert np.all(wild.low <= wild.close) and np.all(wild.high >= wild.close)
    s1 = metrics.ewma_vol(candles.close, candles.ts)[-1]
    s2 = metrics.ewma_vol(wild.close, wild.ts)[-1]
    assert s2 == pytest.approx(2 * s1, rel=1e-9)


def test_dataset_halves_split_the_rows(candles_of):
    candles = candles_of(np.linspace(100, 200, 11))
    assert len(sensitivity.dataset(candles, 0, 1.0)) == 5
    assert len(sensitivity.dataset(candles, 1, 1.0)) == 6
    assert sensitivity.dataset(candles, None, 1.0) is candles


def test_episode_counts_add_up_to_the_breaches_inside_the_window(candles_of, monkeypatch):
    # 30 calm days, a 40% crash, calm again; one episode covering the crash, one before any data
    close = np.concatenate((np.full(720, 100.0), np.full(300, 60.0)))
    candles = candles_of(close)
    result, series = run(candles, BacktestConfig())
    crash_day = np.datetime64(int(candles.ts[719]), "s").astype("datetime64[D]")
    episodes = [
        ("crash", str(crash_day), str(crash_day + 2)),
        ("before", "2001-01-01", "2001-02-01"),
    ]
    monkeypatch.setattr(sensitivity, "EPISODES", episodes)
    (dyn, cap, safe), empty = sensitivity.episode_counts(result, series)
    assert empty == (0, 0, 0)
    assert dyn == result["dynamic"]["breaches"] > 0
    assert cap == result["static_same_capital"]["breaches"]
    assert safe == result["static_same_safety"]["breaches"]
