"""The common shapes of the keeper's inputs: a block of OHLCV candles and a live `Source`.

`Candles` is a plain container of equal-length numpy arrays, oldest first, one row per bar, with unique
strictly increasing timestamps (loaders guarantee this). A `Source` is anything that can say what the
price (and, when it knows, the depth) of one asset is now: a CSV replay, an AMM pool, an exchange.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Observation:
    """One reading of a source.

    ts: unix seconds of the observation; price: collateral price in loan-token units (float);
    depth: loan-token value sellable at <= 2% price impact, or None when the source cannot tell.
    """

    ts: int
    price: float
    depth: float | None = None


class SourceExhausted(Exception):
    """A replay source has no more observations."""


@runtime_checkable
class Source(Protocol):
    """A source of observations for one asset. Implementations: `oracle.sources.csv.CsvReplaySource`,
    pool and exchange sources (oracle/sources/pool.py, ccxt.py)."""

    name: str

    def latest(self) -> Observation:
        """The newest observation. Raises SourceExhausted (replays) or an error of the source."""
        ...


@dataclass(frozen=True)
class Candles:
    """OHLCV bars, oldest first. ts: int64 unix seconds of the bar's open; prices in quote units;
    volume in base units; volume_quote in quote units. `notes` records what a loader repaired."""

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    volume_quote: np.ndarray
    symbol: str = ""
    notes: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        n = len(self.ts)
        for name in ("open", "high", "low", "close", "volume", "volume_quote"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"candles: column {name} has {len(getattr(self, name))} rows, ts has {n}")

    def __len__(self) -> int:
        return len(self.ts)

    def __getitem__(self, index: slice) -> Candles:
        if not isinstance(index, slice):
            raise TypeError("candles: index with a slice")
        return Candles(
            self.ts[index],
            self.open[index],
            self.high[index],
            self.low[index],
            self.close[index],
            self.volume[index],
            self.volume_quote[index],
            self.symbol,
            self.notes,
        )

    @property
    def period(self) -> int:
        """Bar length in seconds: the most common spacing (gaps do not change it)."""
        if len(self.ts) < 2:
            return 3_600
        steps, counts = np.unique(np.diff(self.ts), return_counts=True)
        return int(steps[np.argmax(counts)])

    @property
    def asset(self) -> str:
        """Base asset of the symbol ("ETH" for "ETH/USDT"), or the symbol itself."""
        return self.symbol.split("/")[0] if self.symbol else ""
