# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title Constant-product pool (demo)
@notice A small x * y = k pool between two ERC-20 tokens with a 0.3% fee on
        the input amount. The demo trades against it to move the price, and
        the keeper's `PoolSource` reads it to measure price and depth.
        Liquidity providers are not issued shares: this pool exists to be
        read and traded against, not to be farmed.

        ONE SWAP MUST NOT MOVE AN ORACLE. The spot price y / x moves with
        every trade, so whoever trades just before the keeper reads could
        post any price. The pool therefore keeps a time-weighted record (as
        Uniswap v2 and v3 do): after every change of the reserves it writes
        an observation (block time, the cumulative prices up to it, and the
        prices from it on) into a ring of OBSERVATIONS slots, at most one per
        block. `observe(seconds_ago)` returns the cumulative prices at any
        time the ring still covers, and the keeper reads the mean price of
        the last `window` seconds: a trade moves it only in proportion to
        the time it stands, which arbitrage makes expensive.
@custom:security The swap output rounds down and the fee is taken from the
        input before pricing, so k never decreases. Reserves are tracked in
        storage (not read from balances), so a donation does not move the
        price. Tokens that take a fee on transfer are not supported. The
        cumulative prices wrap modulo 2**256 (like Uniswap's): a reader
        takes differences modulo 2**256. Prices are UQ112.112 fixed point
        (reserve_out * 2**112 // reserve_in), exact for reserves below
        2**144.
"""

from ethereum.ercs import IERC20

# @dev Fee denominator: amounts are in basis points.
BPS: constant(uint256) = 10_000
# @dev Swap fee in basis points of the input amount (0.3%).
FEE_BPS: constant(uint256) = 30
# @dev Slots of the observation ring (one observation per block with a change).
OBSERVATIONS: constant(uint256) = 64
# @dev Fixed-point one of the prices (UQ112.112).
Q112: constant(uint256) = 2**112


# @dev First token of the pair (the collateral in the demo).
TOKEN0: public(immutable(IERC20))
# @dev Second token of the pair (the loan token in the demo).
TOKEN1: public(immutable(IERC20))


struct Observation:
    timestamp: uint256    # block time of the change that wrote it (0: slot never written)
    cumulative0: uint256  # sum of price0 * seconds up to `timestamp` (UQ112.112 * s, wraps)
    cumulative1: uint256  # sum of price1 * seconds up to `timestamp` (UQ112.112 * s, wraps)
    price0: uint256       # TOKEN1 per TOKEN0 from `timestamp` on (UQ112.112)
    price1: uint256       # TOKEN0 per TOKEN1 from `timestamp` on (UQ112.112)


# @dev Reserve of TOKEN0, raw units of TOKEN0.
reserve0: public(uint256)
# @dev Reserve of TOKEN1, raw units of TOKEN1.
reserve1: public(uint256)
# @dev Ring of observations, oldest overwritten first.
observations: public(Observation[OBSERVATIONS])
# @dev Slot of the newest observation.
observation_index: public(uint256)
# @dev Number of slots written so far (at most OBSERVATIONS).
observation_count: public(uint256)


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
    self._observe_change()
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
    self._observe_change()
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
@external
def observe(seconds_ago: uint256) -> (uint256, uint256):
    """
    @notice The cumulative prices at `block.timestamp - seconds_ago`: the
            mean price over [t0, t1] is (cumulative(t1) - cumulative(t0)) /
            (t1 - t0), differences taken modulo 2**256.
    @dev Reverts "pool: observation too old" before the oldest observation
         the ring holds (or before the first liquidity).
    @param seconds_ago How far back from the current block's time.
    @return (cumulative0, cumulative1), UQ112.112 * seconds.
    """
    assert seconds_ago <= block.timestamp, "pool: observation too old"
    target: uint256 = block.timestamp - seconds_ago
    count: uint256 = self.observation_count
    i: uint256 = self.observation_index
    for _: uint256 in range(OBSERVATIONS):
        if count == 0:
            break
        o: Observation = self.observations[i]
        if o.timestamp <= target:
            dt: uint256 = target - o.timestamp
            # the prices stood from o.timestamp until the next observation (after target)
            return (
                unsafe_add(o.cumulative0, unsafe_mul(o.price0, dt)),
                unsafe_add(o.cumulative1, unsafe_mul(o.price1, dt)),
            )
        count -= 1
        i = (i + OBSERVATIONS - 1) % OBSERVATIONS
    raise "pool: observation too old"


@view
@external
def oldest_observation() -> uint256:
    """
    @notice Block time of the oldest observation the ring still holds (0 before any liquidity).
    """
    count: uint256 = self.observation_count
    if count == 0:
        return 0
    return self.observations[(self.observation_index + OBSERVATIONS + 1 - count) % OBSERVATIONS].timestamp


@internal
def _observe_change():
    """
    @dev Record the prices after a change of the reserves. The newest
         observation is brought up to this block (its prices times the
         seconds they stood, wrapping) into a new slot; a second change in
         the same block only updates the prices of this block's slot.
    """
    r0: uint256 = self.reserve0
    r1: uint256 = self.reserve1
    p0: uint256 = 0
    p1: uint256 = 0
    if r0 != 0 and r1 != 0:
        p0 = r1 * Q112 // r0
        p1 = r0 * Q112 // r1
    count: uint256 = self.observation_count
    i: uint256 = self.observation_index
    if count == 0:
        self.observations[0] = Observation(
            timestamp=block.timestamp, cumulative0=0, cumulative1=0, price0=p0, price1=p1
        )
        self.observation_count = 1
        return
    last: Observation = self.observations[i]
    if last.timestamp == block.timestamp:
        self.observations[i] = Observation(
            timestamp=last.timestamp,
            cumulative0=last.cumulative0,
            cumulative1=last.cumulative1,
            price0=p0,
            price1=p1,
        )
        return
    dt: uint256 = block.timestamp - last.timestamp
    i = (i + 1) % OBSERVATIONS
    self.observations[i] = Observation(
        timestamp=block.timestamp,
        cumulative0=unsafe_add(last.cumulative0, unsafe_mul(last.price0, dt)),
        cumulative1=unsafe_add(last.cumulative1, unsafe_mul(last.price1, dt)),
        price0=p0,
        price1=p1,
    )
    self.observation_index = i
    if count < OBSERVATIONS:
        self.observation_count = count + 1


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
