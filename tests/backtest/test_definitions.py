"""Breach, shortfall, worst week and the static baselines on small hand-checked series."""

import numpy as np
import pytest

from oracle import backtest as bt

H = 3600


def test_low_ahead_regular_and_incomplete():
    ts = np.arange(5) * H
    low = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    ahead, complete = bt.low_ahead(ts, low, H, 2)
    assert ahead[:3].tolist() == [3.0, 2.0, 1.0]
    assert complete.tolist() == [True, True, True, False, False]


def test_low_ahead_respects_gaps_in_time():
    ts = np.array([0, 1, 3, 4]) * H  # hour 2 missing
    low = np.array([5.0, 4.0, 2.0, 1.0])
    ahead, complete = bt.low_ahead(ts, low, H, 2)
    # bar at hour 0 looks at hours 1..2 -> only hour 1; bar at hour 1 looks at hours 2..3 -> only hour 3
    assert ahead[:2].tolist() == [4.0, 2.0] and complete.tolist() == [True, True, False, False]


def test_horizon_bars():
    assert (
        bt.horizon_bars(6, 3600) == 6 and bt.horizon_bars(6, 86_400) == 1 and bt.horizon_bars(1.5, 3600) == 2
    )


def test_breach_and_shortfall_hand_checked():
    close = np.array([100.0, 100.0, 100.0, 200.0])
    ahead = np.array([95.0, 80.0, 99.0, 189.0])
    h, b = 0.10, 0.05  # line = 0.9 * 1.05 = 0.945 of close
    line = bt.breach_line(np.full(4, h), b)
    assert bt.breaches(close, ahead, line).tolist() == [False, True, False, False]
    assert bt.shortfall(close, ahead, line) == pytest.approx((0.945 - 0.80) / 4)
    # 189 / 200 = 0.945 exactly on the line: not a breach (strictly below only)
    assert bt.shortfall(close[3:], ahead[3:], line[3:]) == 0.0


def test_evaluate_array_and_scalar_agree():
    close = np.array([100.0, 100.0, 100.0])
    ahead = np.array([90.0, 99.0, 70.0])
    ts = np.arange(3) * H
    a = bt.evaluate(close, ahead, ts, H, np.full(3, 0.2), 0.05)
    s = bt.evaluate(close, ahead, ts, H, 0.2, 0.05)
    assert a == s
    assert a["breaches"] == 1 and a["breach_rate"] == pytest.approx(1 / 3)
    assert a["shortfall"] == pytest.approx((0.84 - 0.70) / 3) and a["worst_week_breaches"] == 1


def test_worst_week_counts_consecutive_168_hours():
    ts = np.array([0, 100, 167, 168, 300, 500, 501, 502, 503]) * H
    flags = np.array([1, 1, 1, 1, 0, 1, 1, 1, 1], dtype=bool)
    # hours 0..167 hold 0,100,167 (3); 1..168 hold 100,167,168 (3); 336..503 hold 500..503 (4)
    assert bt.worst_window(flags, ts, H) == 4
    flags[5:] = False
    assert bt.worst_window(flags, ts, H) == 3
    assert bt.worst_window(np.zeros(9, dtype=bool), ts, H) == 0
    assert bt.worst_window(np.array([True, True]), np.array([0, 1]) * H, H) == 2  # shorter than a week


def test_worst_week_daily_bars():
    ts = np.arange(10) * 86_400
    flags = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0], dtype=bool)
    assert bt.worst_window(flags, ts, 86_400) == 7


def test_static_eval_fixed_ratio():
    close = np.full(4, 100.0)
    ahead = np.array([90.0, 80.0, 85.0, 99.0])
    ts = np.arange(4) * H
    r = bt.static_eval(close, ahead, ts, H, 1.25, 0.05)  # line 1.05/1.25 = 0.84
    assert r["breaches"] == 1 and r["cr"] == 1.25
    assert r["shortfall"] == pytest.approx((0.84 - 0.80) / 4)


def test_smallest_safe_cr_is_minimal():
    rng = np.random.default_rng(3)
    close = rng.uniform(90, 110, 500)
    ahead = close * rng.uniform(0.7, 1.0, 500)
    ts = np.arange(500) * H
    for k in (0, 3, 25, 499, 500):
        r = bt.smallest_safe_cr(close, ahead, ts, H, 0.05, k)
        assert r["breaches"] <= k
        if r["cr"] > 1.0:
            lower = bt.static_eval(close, ahead, ts, H, r["cr"] * (1 - 1e-9), 0.05)
            assert lower["breaches"] > k  # any smaller ratio breaches more often


def test_smallest_safe_cr_hand_checked():
    close = np.full(4, 100.0)
    ahead = np.array([84.0, 105.0 / 1.5, 99.0, 75.0])  # u = 1.05*100/ahead = [1.25, 1.5, 1.0606, 1.4]
    ts = np.arange(4) * H
    assert bt.smallest_safe_cr(close, ahead, ts, H, 0.05, 0)["cr"] == pytest.approx(1.5)
    one = bt.smallest_safe_cr(close, ahead, ts, H, 0.05, 1)
    assert one["cr"] == pytest.approx(1.4) and one["breaches"] == 1
    assert bt.smallest_safe_cr(close, ahead, ts, H, 0.05, 4)["cr"] == 1.0
