"""Helpers of the stress tests: small generated candles and hand-made populations (a module of its own
name: `from conftest import ...` picks whichever conftest was imported first when tests/backtest is
collected in the same run)."""

from pathlib import Path

import numpy as np

from oracle import stress
from oracle.sources.base import Candles

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
T0 = 1_577_836_800  # 2020-01-01


def make_candles(close, low=None, high=None, volume_quote=1e6, period=3600) -> Candles:
    close = np.asarray(close, dtype=float)
    n = len(close)
    ts = T0 + period * np.arange(n, dtype=np.int64)
    low = np.asarray(low if low is not None else close, dtype=float)
    high = np.asarray(high if high is not None else close, dtype=float)
    open_ = np.concatenate(([close[0]], close[:-1]))
    vq = np.full(n, float(volume_quote))
    return Candles(ts, open_, np.maximum(high, np.maximum(close, open_)), np.minimum(low, np.minimum(close, open_)),
                   close, vq / close, vq, "TST/USD")


def one_position(hist: stress.History, open_bar: int, fraction: float, manager: bool = False,
                 close_bar: int | None = None) -> stress.Population:
    """One borrower with one position of collateral value hist.scale[open_bar] (n_active = 1)."""
    n = len(hist.ts)
    return stress.Population(
        slot=np.array([0]),
        open_bar=np.array([open_bar]),
        close_bar=np.array([close_bar if close_bar is not None else n]),
        fraction=np.array([fraction]),
        weight=np.array([1.0]),
        manager=np.array([manager]),
        n_active=1.0,
    )
