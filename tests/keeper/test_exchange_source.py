"""ExchangeSource over a ccxt exchange object, fed with recorded ccxt responses."""

import time

import ccxt
import numpy as np
import pytest

from oracle.sources.base import Source
from oracle.sources.exchange import ExchangeError, ExchangeSource, candles_from_ohlcv


def _sell_average(bids, qty):
    """Average execution price of selling `qty` into `bids` (best first), by brute force."""
    left, cost = qty, 0.0
    for price, size in sorted(bids, key=lambda lv: -lv[0]):
        take = min(left, size)
        cost += take * price
        left -= take
        if left <= 0:
            return cost / qty
    return 0.0  # the book cannot absorb it


def test_is_a_source(replay_exchange):
    assert isinstance(ExchangeSource(replay_exchange("binance"), "ETH/USDT"), Source)


def test_history_converts_ccxt_ohlcv(recorded, replay_exchange):
    rows = recorded("binance_ETH-USDT_ohlcv_1h.json")
    ex = replay_exchange("binance")
    candles = ExchangeSource(ex, "ETH/USDT", limit=24).history()
    assert len(candles) == 24
    assert ex.calls == [("fetch_ohlcv", "ETH/USDT", "1h", 24)]
    assert candles.ts[-1] == rows[-1][0] // 1000  # milliseconds -> seconds
    assert candles.close[-1] == rows[-1][4]
    assert np.all(np.diff(candles.ts) == 3_600)
    assert candles.period == 3_600 and candles.asset == "ETH"


def test_history_leaves_out_the_bar_still_forming(recorded, replay_exchange):
    rows = recorded("binance_ETH-USDT_ohlcv_1h.json")
    exchange = replay_exchange("binance")
    exchange.milliseconds = lambda: rows[-1][0] + 20 * 60_000  # 20 minutes into the last bar
    candles = ExchangeSource(exchange, "ETH/USDT").history()
    assert len(candles) == len(rows) - 1 and candles.ts[-1] == rows[-2][0] // 1000


def test_candles_are_sorted_deduplicated_and_cleaned(recorded):
    rows = recorded("binance_ETH-USDT_ohlcv_1h.json")[:6]
    messy = list(reversed(rows)) + [rows[2]] + [[rows[-1][0] + 3_600_000, None, 1, 1, 1, 1]]
    messy.append([rows[-1][0] + 7_200_000, 10.0, 11.0, 0.0, 10.5, 3.0])  # zero low: a bad print
    candles = candles_from_ohlcv(messy, "ETH/USDT")
    assert list(candles.ts) == [r[0] // 1000 for r in rows]
    assert list(candles.close) == [r[4] for r in rows]


def test_candles_refuse_nothing_usable():
    with pytest.raises(ExchangeError, match="no usable candles"):
        candles_from_ohlcv([[0, None, None, None, None, None]], "ETH/USDT")


def test_latest_mid_price_and_book_depth(recorded, replay_exchange):
    book = recorded("binance_ETH-USDT_book.json")
    obs = ExchangeSource(replay_exchange("binance"), "ETH/USDT").latest()
    mid = (book["bids"][0][0] + book["asks"][0][0]) / 2
    assert obs.price == pytest.approx(mid)
    assert obs.ts == book["timestamp"] // 1000
    # depth is the value sellable at <= 2% average impact: that much passes, 1% more does not
    qty = obs.depth / mid
    assert _sell_average(book["bids"], qty) >= mid * 0.98 - 1e-9
    assert _sell_average(book["bids"], qty * 1.01) < mid * 0.98


def test_book_without_timestamp_takes_the_exchange_clock(recorded, replay_exchange):
    exchange = replay_exchange("kraken")
    assert recorded("kraken_ETH-USDT_book.json")["timestamp"] is None
    obs = ExchangeSource(exchange, "ETH/USDT").latest()
    assert obs.ts == exchange.milliseconds() // 1000


def test_without_any_clock_the_time_is_now(recorded):
    class BareExchange:  # only the two unified methods, no ccxt clock
        def fetch_order_book(self, symbol, limit=None, params=None):
            return recorded("kraken_ETH-USDT_book.json")

    before = int(time.time())
    obs = ExchangeSource(BareExchange(), "ETH/USDT").latest()
    assert before <= obs.ts <= int(time.time())


def test_thin_book_gives_smaller_depth(replay_exchange):
    deep = ExchangeSource(replay_exchange("binance"), "ETH/USDT").latest()
    thin = ExchangeSource(replay_exchange("binance"), "ETH/USDT", book_depth=3).latest()
    assert 0 < thin.depth < deep.depth


def test_ccxt_errors_become_exchange_errors(replay_exchange):
    ex = replay_exchange("binance", fail={"fetch_order_book": ccxt.NetworkError("binance GET timed out")})
    with pytest.raises(ExchangeError, match="fetch_order_book failed: NetworkError"):
        ExchangeSource(ex, "ETH/USDT").latest()


def test_empty_book_is_an_error(replay_exchange):
    ex = replay_exchange("binance", book={"bids": [], "asks": [], "timestamp": None})
    with pytest.raises(ExchangeError, match="empty order book"):
        ExchangeSource(ex, "ETH/USDT").latest()


def test_crossed_book_is_an_error(replay_exchange):
    ex = replay_exchange("binance", book={"bids": [[101.0, 1.0]], "asks": [[100.0, 1.0]], "timestamp": None})
    with pytest.raises(ExchangeError, match="crossed"):
        ExchangeSource(ex, "ETH/USDT").latest()


def test_connect_builds_a_live_ccxt_exchange_without_calling_it():
    source = ExchangeSource.connect("binance", "ETH/USDT")
    assert isinstance(source.exchange, ccxt.binance)
    assert source.name == "ccxt:binance:ETH/USDT"


def test_connect_rejects_unknown_exchange():
    with pytest.raises(ValueError, match="unknown ccxt exchange 'nosuchx'"):
        ExchangeSource.connect("nosuchx", "ETH/USDT")


def test_rejects_unknown_timeframe(replay_exchange):
    with pytest.raises(ValueError, match="unsupported timeframe"):
        ExchangeSource(replay_exchange("binance"), "ETH/USDT", timeframe="7m")
