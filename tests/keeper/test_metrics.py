"""Estimators against closed-form cases."""

import math

import numpy as np
import pytest

from oracle import metrics as m

H = 3600


def test_ewma_constant_returns_converge_to_their_vol():
    r = 0.01
    close = 100 * np.exp(r * np.arange(2000))
    sig = m.ewma_vol(close, sigma0=0.0)
    assert sig[-1] == pytest.approx(r * math.sqrt(m.YEAR / H), rel=1e-9)


def test_ewma_fast_up_slow_down_closed_form():
    # variance v0, then one bar with sample s > v: v1 = v0 + (1 - 2^-(1/up)) (s - v0)
    up, down = 2 * H, 48 * H
    close = np.array([100.0, 100.0 * math.exp(0.05), 100.0 * math.exp(0.05)])
    sig = m.ewma_vol(close, sigma0=0.5, half_life_up=up, half_life_down=down)
    v0 = 0.25
    s = 0.05**2 * m.YEAR / H
    v1 = v0 + (1 - 2 ** (-0.5)) * (s - v0)
    v2 = v1 + (1 - 2 ** (-1 / 48)) * (0 - v1)
    assert sig[1] == pytest.approx(math.sqrt(v1), rel=1e-12)
    assert sig[2] == pytest.approx(math.sqrt(v2), rel=1e-12)
    assert sig[1] > 0.5 and sig[2] > 0.99 * sig[1]  # rises fast, falls slowly


def test_ewma_gap_counts_as_longer_return():
    close = np.array([100.0, 110.0])
    a = m.ewma_vol(close, ts=np.array([0, H]), sigma0=0.0, half_life_up=H)
    b = m.ewma_vol(close, ts=np.array([0, 4 * H]), sigma0=0.0, half_life_up=H)
    sample = math.log(1.1) ** 2 * m.YEAR
    assert a[1] ** 2 == pytest.approx(0.5 * sample / H)
    assert b[1] ** 2 == pytest.approx((1 - 2**-4) * sample / (4 * H))
    with pytest.raises(ValueError):
        m.ewma_vol(close, ts=np.array([H, H]))


def test_parkinson_closed_form():
    hl = 0.02
    high, low = np.full(10, math.exp(hl)), np.ones(10)
    expect = math.sqrt(hl * hl / (4 * math.log(2)) * m.YEAR / H)
    assert m.parkinson_vol(high, low) == pytest.approx(expect)
    roll = m.parkinson_vol(high, low, window=3)
    assert roll.shape == (10,) and roll == pytest.approx(np.full(10, expect))


def test_garman_klass_closed_form():
    o, c = np.ones(4), np.full(4, math.exp(0.01))
    high, low = np.full(4, math.exp(0.02)), np.ones(4)
    per = 0.5 * 0.02**2 - (2 * math.log(2) - 1) * 0.01**2
    assert m.garman_klass_vol(o, high, low, c) == pytest.approx(math.sqrt(per * m.YEAR / H))
    assert m.garman_klass_vol(o, high, low, c, window=2)[-1] == pytest.approx(math.sqrt(per * m.YEAR / H))


def test_range_estimators_agree_with_simulated_brownian_motion():
    rng = np.random.default_rng(7)
    sigma, steps, bars = 0.8, 240, 3000
    dt = H / steps / m.YEAR
    path = np.cumsum(rng.normal(0, sigma * math.sqrt(dt), (bars, steps)), axis=1)
    o = np.zeros(bars)
    hi, lo, c = np.maximum(path.max(1), 0), np.minimum(path.min(1), 0), path[:, -1]
    pk = m.parkinson_vol(np.exp(hi), np.exp(lo))
    gk = m.garman_klass_vol(np.exp(o), np.exp(hi), np.exp(lo), np.exp(c))
    assert pk == pytest.approx(sigma, rel=0.06) and gk == pytest.approx(sigma, rel=0.06)


def test_depth_from_pool_closed_form():
    x, y = 1_000.0, 2_000_000.0  # spot 2000
    d = m.depth_from_pool(x, y)
    assert d == pytest.approx(y * 0.02 / 0.98)
    dx = d / (y / x)
    received = y * dx / (x + dx)
    assert received / dx == pytest.approx(2000 * 0.98)  # average price exactly 2% below spot
    with_fee = m.depth_from_pool(x, y, fee=0.003)
    dx = with_fee / 2000
    assert y * dx * 0.997 / (x + dx * 0.997) / dx == pytest.approx(2000 * 0.98)
    assert m.depth_from_pool(x, y, fee=0.03) == 0.0
    assert m.depth_from_pool(0, y) == 0.0


def test_depth_from_book_partial_level():
    bids = [(99.0, 1.0), (100.0, 1.0), (97.0, 10.0)]  # unsorted on purpose
    # ref 100, limit 98: both top levels pass (avg 99.5); at 97: q = (199 - 98*2)/(98-97) = 3
    assert m.depth_from_book(bids) == pytest.approx(5.0 * 100)
    # ref 101, limit 98.98: q at 97 = (199 - 98.98*2) / (98.98 - 97)
    q = (199 - 98.98 * 2) / (98.98 - 97)
    assert m.depth_from_book(bids, reference=101.0) == pytest.approx((2 + q) * 101)
    assert m.depth_from_book([]) == 0.0
    assert m.depth_from_book([(100.0, 2.0)]) == pytest.approx(200.0)


def test_depth_from_book_reference_above_book():
    # reference 110 -> limit 107.8; best bid 100 is below: nothing sellable within 2%
    assert m.depth_from_book([(100.0, 5.0)], reference=110.0) == 0.0


def test_depth_from_volume_square_root_law():
    vq = np.full(48, 1_000_000.0)  # 1M per hour -> ADV 24M
    sigma = np.full(48, 0.04 / math.sqrt(86_400 / m.YEAR))  # 4% a day
    d = m.depth_from_volume(vq, sigma)
    assert d[-1] == pytest.approx(24e6 * (0.02 / 0.04) ** 2)
    assert m.depth_from_volume(vq, 2 * sigma)[-1] == pytest.approx(d[-1] / 4)


def test_ewma_with_range_counts_a_wide_bar_that_closes_flat():
    close = np.full(3, 100.0)
    high = np.array([100.0, 110.0, 100.0])
    low = np.array([100.0, 95.0, 100.0])
    flat = m.ewma_vol(close, sigma0=0.0)
    ranged = m.ewma_vol(close, sigma0=0.0, high=high, low=low, half_life_up=H)
    assert flat.tolist() == [0.0, 0.0, 0.0]
    park = math.log(110 / 95) ** 2 / (4 * math.log(2)) * m.YEAR / H
    assert ranged[1] ** 2 == pytest.approx(0.5 * park)
    # a bar whose close-to-close return is larger than its range term uses the return
    big = m.ewma_vol(
        np.array([100.0, 120.0]),
        sigma0=0.0,
        high=np.array([100.0, 120.0]),
        low=np.array([100.0, 119.0]),
        half_life_up=H,
    )
    assert big[1] ** 2 == pytest.approx(0.5 * math.log(1.2) ** 2 * m.YEAR / H)


def test_measure_uses_only_the_past():
    from oracle.sources.base import Candles

    rng = np.random.default_rng(1)
    n = 300
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    ts = np.arange(n, dtype=np.int64) * H
    c = Candles(ts, close, close * 1.01, close * 0.99, close, np.ones(n), np.full(n, 1e6), "X/Y")
    sigma, depth = m.measure(c)
    cut = c[:200]
    s2, d2 = m.measure(cut)
    assert np.array_equal(sigma[:200], s2) and np.array_equal(depth[:200], d2)
    assert sigma.shape == depth.shape == (n,) and (depth > 0).all()
