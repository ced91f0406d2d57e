"""Price and depth of a collateral asset read from an on-chain constant-product pool.

The pool (`contracts/demo/ConstantProductPool.vy`, or any pool with the same views) holds reserves
x (collateral) and y (loan token). Spot price = y / x in whole tokens; depth = the loan-token value
of collateral sellable with at most 2% average price impact after the pool fee
(`oracle.metrics.depth_from_pool`). Reads go through `oracle.chain.Rpc`, so they fail over with
the keeper's transactions.
"""

from __future__ import annotations

from web3 import Web3
from web3.exceptions import BadFunctionCallOutput, ContractLogicError

from oracle.chain import Rpc
from oracle.metrics import depth_from_pool
from oracle.sources.base import Observation

POOL_FEE = 0.003  # ConstantProductPool.FEE_BPS / BPS

POOL_ABI = [
    {"name": "get_reserves", "type": "function", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "uint256"}, {"name": "", "type": "uint256"}]},
    {"name": "TOKEN0", "type": "function", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "address"}]},
    {"name": "TOKEN1", "type": "function", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "address"}]},
]  # fmt: skip
ERC20_DECIMALS_ABI = [
    {"name": "decimals", "type": "function", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "uint8"}]},
]  # fmt: skip


class PoolError(Exception):
    """The pool cannot be read or holds nothing to price with."""


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


class PoolSource:
    """A `Source` reading one pool. `collateral` picks the side (default: TOKEN0 is the collateral)."""

    def __init__(self, rpc: Rpc, pool: str, collateral: str | None = None, fee: float = POOL_FEE):
        self.rpc = rpc
        self.pool = Web3.to_checksum_address(pool)
        self.fee = fee
        self.name = f"pool:{self.pool}"
        self._collateral = collateral
        self._layout: tuple[bool, int, int] | None = None  # (collateral is token0, dec coll, dec loan)

    def _contract(self, w3: Web3):
        return w3.eth.contract(address=self.pool, abi=POOL_ABI)

    def _decimals(self, token: str) -> int:
        def go(w3: Web3) -> int:
            return w3.eth.contract(address=token, abi=ERC20_DECIMALS_ABI).functions.decimals().call()

        return int(self.rpc.call(go))

    def layout(self) -> tuple[bool, int, int]:
        if self._layout is None:
            try:
                token0 = self.rpc.call(lambda w3: self._contract(w3).functions.TOKEN0().call())
                token1 = self.rpc.call(lambda w3: self._contract(w3).functions.TOKEN1().call())
            except (ContractLogicError, BadFunctionCallOutput, ValueError) as exc:  # no code / not a pool
                raise PoolError(f"{self.pool} is not a constant-product pool ({exc})") from None
            zero_is_coll = True
            if self._collateral is not None and Web3.is_address(self._collateral):
                coll = Web3.to_checksum_address(self._collateral)
                if coll not in (token0, token1):
                    raise PoolError(f"pool {self.pool} does not trade {coll}")
                zero_is_coll = coll == token0
            coll_token, loan_token = (token0, token1) if zero_is_coll else (token1, token0)
            self._layout = (zero_is_coll, self._decimals(coll_token), self._decimals(loan_token))
        return self._layout

    def reserves(self) -> tuple[int, int]:
        """(collateral reserve, loan reserve), raw units."""
        zero_is_coll, _, _ = self.layout()
        try:
            r0, r1 = self.rpc.call(lambda w3: self._contract(w3).functions.get_reserves().call())
        except (ContractLogicError, BadFunctionCallOutput, ValueError) as exc:
            raise PoolError(f"cannot read reserves of {self.pool} ({exc})") from None
        return (r0, r1) if zero_is_coll else (r1, r0)

    def latest(self) -> Observation:
        _, dec_coll, dec_loan = self.layout()
        reserve_coll, reserve_loan = self.reserves()
        price, depth = price_and_depth(reserve_coll, reserve_loan, dec_coll, dec_loan, self.fee)
        return Observation(ts=int(self.rpc.block_timestamp()), price=price, depth=depth)
