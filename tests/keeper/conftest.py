"""Keeper test helpers: a ccxt exchange stand-in that replays recorded responses."""

import json
from pathlib import Path

import pool_fixtures
import pytest

# the shared token and pool fixtures, used by name in this module's tests
weth, usdc, create_pool = pool_fixtures.weth, pool_fixtures.usdc, pool_fixtures.create_pool
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ccxt"


def load_fixture(name: str):
    return json.loads((FIXTURES / name).read_text())


class ReplayExchange:
    """Answers ccxt's unified `fetch_ohlcv` / `fetch_order_book` from recorded JSON files (the shapes
    ccxt returns); `fail` maps a method name to the exception it raises instead. Records every call."""

    def __init__(self, exchange_id: str, fail: dict | None = None, book: dict | None = None):
        self.id = exchange_id
        self.fail = fail or {}
        self.calls: list[tuple] = []
        self._ohlcv = load_fixture(f"{exchange_id}_ETH-USDT_ohlcv_1h.json")
        self._book = book if book is not None else load_fixture(f"{exchange_id}_ETH-USDT_book.json")

    def fetch_ohlcv(self, symbol, timeframe="1m", since=None, limit=None, params=None):
        self.calls.append(("fetch_ohlcv", symbol, timeframe, limit))
        if "fetch_ohlcv" in self.fail:
            raise self.fail["fetch_ohlcv"]
        rows = self._ohlcv
        return rows[-limit:] if limit else rows

    def milliseconds(self):
        """ccxt's clock; here the time the responses were recorded (the binance book's timestamp)."""
        return load_fixture("binance_ETH-USDT_book.json")["timestamp"]

    def fetch_order_book(self, symbol, limit=None, params=None):
        self.calls.append(("fetch_order_book", symbol, limit))
        if "fetch_order_book" in self.fail:
            raise self.fail["fetch_order_book"]
        book = dict(self._book)
        if limit:
            book["bids"], book["asks"] = book["bids"][:limit], book["asks"][:limit]
        return book


@pytest.fixture
def replay_exchange():
    return ReplayExchange


@pytest.fixture
def recorded():
    """Loads a recorded ccxt response by file name."""
    return load_fixture


# --- on-chain fixtures (real contracts on the anvil node ape started) ---------------------------

WETH_UNIT = 10**18
USDC_UNIT = 10**6


@pytest.fixture(scope="session")
def rpc_url(chain):
    return chain.provider.uri


@pytest.fixture(scope="session", autouse=True)
def _session_first(admin, keeper, guardian, attacker, other, rpc_url):
    """Session fixtures exist before any test snapshots the chain (ape isolates per scope, in order)."""


