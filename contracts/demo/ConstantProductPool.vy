# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title Constant-product pool (demo)
@notice A small x * y = k pool between two ERC-20 tokens with a 0.3% fee on
        the input amount. The demo trades against it to move the price, and
        the keeper's `PoolSource` reads its reserves to measure price and
        depth. Liquidity providers are not issued shares: this pool exists to
        be read and traded against, not to be farmed.
@custom:security The swap output rounds down and the fee is taken from the
        input before pricing, so k never decreases. Reserves are tracked in
        storage (not read from balances), so a donation does not move the
        price. Tokens that take a fee on transfer are not supported.
"""

from ethereum.ercs import IERC20

# @dev Fee denominator: amounts are in basis points.
BPS: constant(uint256) = 10_000
# @dev Swap fee in basis points of the input amount (0.3%).
FEE_BPS: constant(uint256) = 30

# @dev First token of the pair (the collateral in the demo).
TOKEN0: public(immutable(IERC20))
# @dev Second token of the pair (the loan token in the demo).
TOKEN1: public(immutable(IERC20))

# @dev Reserve of TOKEN0, raw units of TOKEN0.
reserve0: public(uint256)
# @dev Reserve of TOKEN1, raw units of TOKEN1.
reserve1: public(uint256)


event LiquidityAdded:
    supplier: indexed(address)
    amount0: uint256
    amount1: uint256


event Swapped:
    trader: indexed(address)
    token_in: indexed(address)
    amount_in: uint256
    amount_out: uint256
    receiver: indexed(address)


@deploy
def __init__(token0: address, token1: address):
    """
    @notice Creates an empty pool for the pair (token0, token1).
    @param token0 First token of the pair.
    @param token1 Second token of the pair; must differ from token0.
    """
    assert token0 != empty(address), "pool: zero address"
    assert token1 != empty(address), "pool: zero address"
    assert token0 != token1, "pool: identical tokens"
    TOKEN0 = IERC20(token0)
    TOKEN1 = IERC20(token1)


@external
def add_liquidity(amount0: uint256, amount1: uint256):
    """
    @notice Pulls `amount0` of TOKEN0 and `amount1` of TOKEN1 from the caller
            into the reserves. Any ratio is accepted (this sets the price when
            the pool is empty, and moves it otherwise).
    @param amount0 Raw units of TOKEN0, non-zero.
    @param amount1 Raw units of TOKEN1, non-zero.
    """
    assert amount0 > 0, "pool: zero amount"
    assert amount1 > 0, "pool: zero amount"
    assert extcall TOKEN0.transferFrom(msg.sender, self, amount0, default_return_value=True)
    assert extcall TOKEN1.transferFrom(msg.sender, self, amount1, default_return_value=True)
    self.reserve0 += amount0
    self.reserve1 += amount1
    log LiquidityAdded(supplier=msg.sender, amount0=amount0, amount1=amount1)


@view
@external
def get_amount_out(token_in: address, amount_in: uint256) -> uint256:
    """
    @notice Output of swapping `amount_in` of `token_in` at the current reserves.
    @param token_in TOKEN0 or TOKEN1.
    @param amount_in Raw units of token_in.
    @return Raw units of the other token, rounded down.
    """
    reserve_in: uint256 = 0
    reserve_out: uint256 = 0
    reserve_in, reserve_out = self._reserves_for(token_in)
    return self._amount_out(amount_in, reserve_in, reserve_out)


@external
def swap(token_in: address, amount_in: uint256, min_amount_out: uint256, receiver: address) -> uint256:
    """
    @notice Sells `amount_in` of `token_in` for the other token, 0.3% fee on the input.
    @param token_in TOKEN0 or TOKEN1.
    @param amount_in Raw units of token_in, non-zero.
    @param min_amount_out Slippage limit: reverts when the output would be lower.
    @param receiver Who receives the output.
    @return Raw units of the other token sent to `receiver`.
    """
    assert amount_in > 0, "pool: zero amount"
    assert receiver != empty(address), "pool: zero address"
    reserve_in: uint256 = 0
    reserve_out: uint256 = 0
    reserve_in, reserve_out = self._reserves_for(token_in)
    amount_out: uint256 = self._amount_out(amount_in, reserve_in, reserve_out)
    assert amount_out > 0, "pool: insufficient output"
    assert amount_out >= min_amount_out, "pool: slippage"
    token_out: IERC20 = TOKEN1
    if token_in == TOKEN0.address:
        self.reserve0 = reserve_in + amount_in
        self.reserve1 = reserve_out - amount_out
    else:
        token_out = TOKEN0
        self.reserve1 = reserve_in + amount_in
        self.reserve0 = reserve_out - amount_out
    assert extcall IERC20(token_in).transferFrom(msg.sender, self, amount_in, default_return_value=True)
    assert extcall token_out.transfer(receiver, amount_out, default_return_value=True)
    log Swapped(
        trader=msg.sender, token_in=token_in, amount_in=amount_in, amount_out=amount_out, receiver=receiver
    )
    return amount_out


@view
@external
def get_reserves() -> (uint256, uint256):
    """
    @notice Both reserves in one call (what the keeper's pool source reads).
    @return (reserve0, reserve1) in raw units of TOKEN0 and TOKEN1.
    """
    return self.reserve0, self.reserve1


@view
@internal
def _reserves_for(token_in: address) -> (uint256, uint256):
    """
    @dev (reserve of token_in, reserve of the other token); reverts for a foreign token.
    """
    if token_in == TOKEN0.address:
        return self.reserve0, self.reserve1
    assert token_in == TOKEN1.address, "pool: unknown token"
    return self.reserve1, self.reserve0


@pure
@internal
def _amount_out(amount_in: uint256, reserve_in: uint256, reserve_out: uint256) -> uint256:
    """
    @dev x * y = k output after the fee; rounds down (in favour of the pool).
    """
    if reserve_in == 0 or reserve_out == 0:
        return 0
    in_after_fee: uint256 = amount_in * (BPS - FEE_BPS)
    return in_after_fee * reserve_out // (reserve_in * BPS + in_after_fee)
