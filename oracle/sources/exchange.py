"""Price, depth and candle history of an asset from a centralised exchange through ccxt.

`ExchangeSource` wraps any object with ccxt's unified methods (`fetch_ohlcv`, `fetch_order_book`), so
the live path is `ExchangeSource.connect("binance", "ETH/USDT")` (= `ccxt.binance()`), and tests hand
it a replaying fake. Candles feed the volatility estimators; the order book's bids give the depth
(`oracle.metrics.depth_from_book`). ccxt's own errors are wrapped into `ExchangeError` so the
aggregator reports the source as failed instead of the keeper dying.
"""

from __future__ import annotations

import time

import numpy as np

from oracle.metrics import depth_from_book
from oracle.sources.base import Candles, Observation

TIMEFRAME_SECONDS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3_600, "4h": 14_400, "1d": 86_400}


class ExchangeError(Exception):
    """The exchange failed to answer or answered nonsense."""


def candles_from_ohlcv(rows: list[list], symbol: str = "") -> Candles:
    """ccxt's `[[ms, open, high, low, close, volume], ...]` as `Candles` (oldest first, deduplicated,
    rows with missing or non-positive prices dropped)."""
    clean: dict[int, list[float]] = {}
    for row in rows:
        if len(row) < 6 or any(v is None for v in row[:5]):
            continue
        ts = int(row[0]) // 1000
        o, h, lo, c = (float(v) for v in row[1:5])
        if min(o, h, lo, c) <= 0:
            continue
        clean[ts] = [o, h, lo, c, float(row[5] or 0.0)]
    if not clean:
        raise ExchangeError(f"{symbol or 'exchange'}: no usable candles")
    ts_sorted = sorted(clean)
    arr = np.array([clean[t] for t in ts_sorted], dtype=float)
    volume = arr[:, 4]
    return Candles(
        ts=np.array(ts_sorted, dtype=np.int64),
        open=arr[:, 0],
        high=arr[:, 1],
        low=arr[:, 2],
        close=arr[:, 3],
        volume=volume,
        volume_quote=volume * arr[:, 3],
        symbol=symbol,
    )


class ExchangeSource:
    """A `Source` over a ccxt exchange object for one symbol ("ETH/USDT")."""

    def __init__(self, exchange, symbol: str, timeframe: str = "1h", book_depth: int = 100, limit: int = 500):
        if timeframe not in TIMEFRAME_SECONDS:
            raise ValueError(f"unsupported timeframe {timeframe!r}")
        self.exchange = exchange
        self.symbol = symbol
        self.timeframe = timeframe
        self.book_depth = book_depth
        self.limit = limit
        self.name = f"ccxt:{getattr(exchange, 'id', type(exchange).__name__)}:{symbol}"

    @classmethod
    def connect(cls, exchange_id: str, symbol: str, **kw) -> ExchangeSource:
        """The live path: `ccxt.<exchange_id>()` with rate limiting on."""
        import ccxt

        if exchange_id not in ccxt.exchanges:
            raise ValueError(f"unknown ccxt exchange {exchange_id!r}")
        return cls(getattr(ccxt, exchange_id)({"enableRateLimit": True}), symbol, **kw)

    def _fetch(self, method: str, *args, **kw):
        import ccxt

        try:
            return getattr(self.exchange, method)(*args, **kw)
        except ccxt.BaseError as exc:
            raise ExchangeError(f"{self.name}: {method} failed: {type(exc).__name__}: {exc}") from None

    def _now(self) -> int:
        """The exchange object's clock (ccxt's `milliseconds()`), else this machine's, in seconds."""
        clock = getattr(self.exchange, "milliseconds", None)
        return int(clock()) // 1000 if clock is not None else int(time.time())

    def history(self) -> Candles:
        """The last closed candles (ccxt also returns the bar still forming: it is left out)."""
        rows = self._fetch("fetch_ohlcv", self.symbol, timeframe=self.timeframe, limit=self.limit)
        candles = candles_from_ohlcv(rows or [], self.symbol)
        if len(candles) > 1 and int(candles.ts[-1]) + TIMEFRAME_SECONDS[self.timeframe] > self._now():
            candles = candles[:-1]
        return candles

    def depth(self) -> tuple[float, float, int | None]:
        """(mid price, depth in quote units, book timestamp in s or None) from the order book."""
        book = self._fetch("fetch_order_book", self.symbol, self.book_depth)
        bids = [(float(p), float(s)) for p, s, *_ in book.get("bids") or []]
        asks = [(float(p), float(s)) for p, s, *_ in book.get("asks") or []]
        if not bids or not asks:
            raise ExchangeError(f"{self.name}: empty order book")
        best_bid, best_ask = max(p for p, _ in bids), min(p for p, _ in asks)
        if best_bid <= 0 or best_ask < best_bid:
            raise ExchangeError(f"{self.name}: crossed or empty book (bid {best_bid}, ask {best_ask})")
        mid = (best_bid + best_ask) / 2
        ts = book.get("timestamp")
        return mid, float(depth_from_book(bids, reference=mid)), (int(ts) // 1000 if ts else None)

    def latest(self) -> Observation:
        """Mid price and book depth now. The time is the book's own timestamp; many exchanges send none,
        then it is the exchange object's clock when the book arrived (ccxt's `milliseconds()`)."""
        mid, depth, ts = self.depth()
        if ts is None:
            ts = self._now()
        return Observation(ts=ts, price=mid, depth=depth)
