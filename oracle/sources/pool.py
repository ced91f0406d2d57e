"""Price and depth of a collateral asset read from an on-chain constant-product pool, time-weighted.

The pool (`contracts/demo/ConstantProductPool.vy`, or any pool with the same views) holds reserves
x (collateral) and y (loan token). Its spot price y / x moves with every trade, so a source that reads
spot posts whatever the last trader wanted (one swap took the demo pool from 2,000 to 1,513 and the
keeper posted it). This source reads the pool's TIME-WEIGHTED price instead: the mean of the price
over the last `window` seconds, from the pool's cumulative prices (`observe(0)` and `observe(window)`,
read at one block). A trade moves it only in proportion to the time it stands: a swap made just before
the keeper reads moves it by nothing, one held for a tenth of the window by a tenth of its size.

Depth = the loan-token value of collateral sellable with at most 2% average price impact after the
pool fee (`oracle.metrics.depth_from_pool`), which for a constant-product pool is proportional to the
loan reserve y. The source takes the smaller of the depth at the spot reserves and the depth the pool
would have at the time-weighted price with its current k (y = sqrt(k * price)): a swap can make it
smaller (more conservative), never larger.

A pool whose history is shorter than the window (just created, or its ring of observations overwritten
by a trade in each of its last blocks) is an error of this source, not a spot fallback. Reads go
through `oracle.chain.Rpc` (failover) with the compiled ABI, all at one block number.
"""

from __future__ import annotations

import math

from web3 import Web3
from web3.exceptions import BadFunctionCallOutput, ContractLogicError

from oracle.chain import Rpc, contract_at
from oracle.metrics import depth_from_pool
from oracle.sources.base import Observation

POOL_FEE = 0.003  # ConstantProductPool.FEE_BPS / BPS
DEFAULT_WINDOW = 1_800  # seconds of the time-weighted price (30 minutes)
Q112 = 2**112  # the pool's fixed-point one (UQ112.112)
READ_ERRORS = (ContractLogicError, BadFunctionCallOutput, ValueError, OverflowError)


class PoolError(Exception):
    """The pool cannot be read, holds nothing to price with, or has too short a history."""


def price_and_depth(
    reserve_collateral: int,
    reserve_loan: int,
    collateral_decimals: int,
    loan_decimals: int,
    fee: float = POOL_FEE,
) -> tuple[float, float]:
    """(spot price in loan tokens per collateral token, depth in whole loan tokens) from raw reserves."""
    if reserve_collateral <= 0 or reserve_loan <= 0:
        raise PoolError("pool has an empty reserve")
    x = reserve_collateral / 10**collateral_decimals
    y = reserve_loan / 10**loan_decimals
    return y / x, float(depth_from_pool(x, y, fee=fee))


def twap_from_cumulatives(newer: int, older: int, seconds: int) -> float:
    """Mean price (raw units of the other token per raw unit, a float) between two cumulative readings
    `seconds` apart (UQ112.112 * seconds; the pool's cumulatives wrap modulo 2**256)."""
    if seconds <= 0:
        raise PoolError("empty time-weighted window")
    return ((newer - older) % 2**256) / seconds / Q112


def twap_price_and_depth(
    reserve_collateral: int,
    reserve_loan: int,
    twap_raw: float,
    collateral_decimals: int,
    loan_decimals: int,
    fee: float = POOL_FEE,
) -> tuple[float, float]:
    """(time-weighted price in loan tokens per collateral token, depth in whole loan tokens): the depth
    is the smaller of the spot reserves' and of the reserves the pool would hold at the time-weighted
    price with its current k."""
    _spot, depth = price_and_depth(reserve_collateral, reserve_loan, collateral_decimals, loan_decimals, fee)
    if not (twap_raw > 0 and math.isfinite(twap_raw)):
        raise PoolError(f"time-weighted price is {twap_raw!r}")
    price = twap_raw * 10**collateral_decimals / 10**loan_decimals
    # constant product at the time-weighted price: y' = sqrt(k * p) (raw), and depth is linear in y
    y_twap = math.sqrt(float(reserve_collateral) * float(reserve_loan) * twap_raw)
    return price, min(depth, depth * y_twap / reserve_loan)


class PoolSource:
    """A `Source` reading one pool's time-weighted price over `window` seconds. `collateral` picks the
    side (default: TOKEN0 is the collateral)."""

    def __init__(
        self,
        rpc: Rpc,
        pool: str,
        collateral: str | None = None,
        fee: float = POOL_FEE,
        window: int = DEFAULT_WINDOW,
    ):
        if window < 1:
            raise ValueError("the time-weighted window must be at least 1 second")
        self.rpc = rpc
        self.pool = Web3.to_checksum_address(pool)
        self.fee = fee
        self.window = int(window)
        self.name = f"pool:{self.pool}"
        self._collateral = collateral
        self._layout: tuple[bool, int, int] | None = None  # (collateral is token0, dec coll, dec loan)
        self.last_spot: float | None = None  # the spot price at the last reading (for logs and tests)

    def _contract(self, w3: Web3, address: str | None = None, name: str = "ConstantProductPool"):
        return contract_at(w3, name, address or self.pool)

    def _decimals(self, token: str) -> int:
        def go(w3: Web3) -> int:
            return self._contract(w3, token, "MockERC20").functions.decimals().call()

        try:
            return int(self.rpc.call(go))
        except READ_ERRORS as exc:
            raise PoolError(f"cannot read decimals() of {token} ({exc})") from None

    def tokens(self) -> tuple[str, str]:
        """(TOKEN0, TOKEN1) of the pool."""
        try:
            token0 = self.rpc.call(lambda w3: self._contract(w3).functions.TOKEN0().call())
            token1 = self.rpc.call(lambda w3: self._contract(w3).functions.TOKEN1().call())
        except READ_ERRORS as exc:  # no code / not a pool
            raise PoolError(f"{self.pool} is not a constant-product pool ({exc})") from None
        return Web3.to_checksum_address(token0), Web3.to_checksum_address(token1)

    def layout(self) -> tuple[bool, int, int]:
        if self._layout is None:
            token0, token1 = self.tokens()
            zero_is_coll = True
            if self._collateral is not None and Web3.is_address(self._collateral):
                coll = Web3.to_checksum_address(self._collateral)
                if coll not in (token0, token1):
                    raise PoolError(f"pool {self.pool} does not trade {coll}")
                zero_is_coll = coll == token0
            coll_token, loan_token = (token0, token1) if zero_is_coll else (token1, token0)
            self._layout = (zero_is_coll, self._decimals(coll_token), self._decimals(loan_token))
        return self._layout

    def bind(self, collateral: str, loan: str) -> None:
        """Price `collateral` in `loan` (the oracle's pair of the asset): the pool must trade exactly
        these two tokens (PoolError otherwise)."""
        pair = {Web3.to_checksum_address(collateral), Web3.to_checksum_address(loan)}
        token0, token1 = self.tokens()
        if {token0, token1} != pair:
            raise PoolError(
                f"pool {self.pool} trades {token0}/{token1}, not the asset's pair {collateral}/{loan}"
            )
        self._collateral = Web3.to_checksum_address(collateral)
        self._layout = None
        self.layout()

    def read(self) -> tuple[int, int, int, float]:
        """(block timestamp, collateral reserve, loan reserve, time-weighted price in raw loan units per
        raw collateral unit), all read at one block."""
        zero_is_coll, _, _ = self.layout()

        def go(w3: Web3):
            block = w3.eth.get_block("latest")
            at = block["number"]
            pool = self._contract(w3).functions
            r0, r1 = pool.get_reserves().call(block_identifier=at)
            try:
                now = pool.observe(0).call(block_identifier=at)
                then = pool.observe(self.window).call(block_identifier=at)
            except ContractLogicError as exc:
                if "too old" in str(exc):
                    oldest = pool.oldest_observation().call(block_identifier=at)
                    have = max(0, int(block["timestamp"]) - int(oldest)) if oldest else 0
                    raise PoolError(
                        f"pool {self.pool} has {have} s of price history, the time-weighted price needs "
                        f"{self.window} s"
                    ) from None
                raise
            return int(block["timestamp"]), r0, r1, now, then

        try:
            ts, r0, r1, now, then = self.rpc.call(go)
        except READ_ERRORS as exc:
            raise PoolError(f"cannot read the pool {self.pool} ({exc})") from None
        side = 0 if zero_is_coll else 1
        twap_raw = twap_from_cumulatives(now[side], then[side], self.window)
        return (ts, r0, r1, twap_raw) if zero_is_coll else (ts, r1, r0, twap_raw)

    def reserves(self) -> tuple[int, int]:
        """(collateral reserve, loan reserve), raw units, now."""
        _, reserve_coll, reserve_loan, _ = self.read()
        return reserve_coll, reserve_loan

    def latest(self) -> Observation:
        _, dec_coll, dec_loan = self.layout()
        ts, reserve_coll, reserve_loan, twap_raw = self.read()
        self.last_spot, _ = price_and_depth(reserve_coll, reserve_loan, dec_coll, dec_loan, self.fee)
        price, depth = twap_price_and_depth(
            reserve_coll, reserve_loan, twap_raw, dec_coll, dec_loan, self.fee
        )
        return Observation(ts=ts, price=price, depth=depth)
