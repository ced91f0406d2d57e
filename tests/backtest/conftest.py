"""Fixtures of the backtest tests: synthetic candles and the generated CSV fixture."""

from pathlib import Path

import numpy as np
import pytest

from oracle.sources.base import Candles

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
T0 = 1_577_836_800


def make_candles(close, low=None, high=None, ts=None, volume_quote=1e12, period=3600) -> Candles:
    close = np.asarray(close, dtype=float)
    n = len(close)
    ts = np.asarray(ts if ts is not None else T0 + period * np.arange(n), dtype=np.int64)
    low = np.asarray(low if low is not None else close, dtype=float)
    high = np.asarray(high if high is not None else close, dtype=float)
    open_ = np.concatenate(([close[0]], close[:-1]))
    vq = np.full(n, float(volume_quote))
    return Candles(
        ts, open_, np.maximum(high, close), np.minimum(low, close), close, vq / close, vq, "TST/USD"
    )


@pytest.fixture
def fixture_csv(tmp_path):
    """The committed synthetic fixture (regenerate with tests/fixtures/make_candles.py)."""
    return FIXTURES / "synthetic_ETHUSDT_1h.csv"


@pytest.fixture
def shared_data():
    """../shared/data with the real 36k-row files, or skip."""
    from oracle.backtest import data_dir

    folder = data_dir()
    if folder is None:
        pytest.skip("the real candle files (../shared/data) are not present on this machine")
    return folder


@pytest.fixture
def candles_of():
    """Factory: Candles from a close series (lows/highs/timestamps optional)."""
    return make_candles
