# pragma version ~=0.4.3
# pragma optimize gas
"""
@title Ballast price-feed cross-check (stateless)
@notice Checks a Chainlink-compatible feed (`latestRoundData`, `decimals`)
        against the oracle's price for a market's new risk. One instance
        serves every market of a factory (`MarketFactory.FEED_CHECK`); it
        holds nothing and reverts with the market's own messages, so a market
        calls it only when it has a feed and only for borrow and collateral
        withdrawal. Kept out of `Market.vy`, which is near the code-size limit.
@custom:security A feed that reverts, answers zero or negative, answers from
        the future or from an incomplete round, or is older than `max_age`
        makes `check` revert: new risk stops; nothing else depends on it.
"""

# @dev Fixed-point one.
WAD: constant(uint256) = 10**18


@external
@view
def exponent(feed: address, loan_decimals: uint256, collateral_decimals: uint256) -> uint256:
    """
    @notice The power of ten that turns the feed's answer (collateral in loan
            tokens, `decimals()` decimals) into loan raw units per collateral
            raw unit at 1e36: 36 + loan decimals - collateral decimals - feed decimals.
    @param feed The feed.
    @param loan_decimals Decimals of the loan token.
    @param collateral_decimals Decimals of the collateral token.
    @return The exponent.
    """
    ok: bool = False
    resp: Bytes[32] = b""
    ok, resp = raw_call(feed, method_id("decimals()"), max_outsize=32, is_static_call=True, revert_on_failure=False)
    assert ok and len(resp) == 32, "market: not a price feed"
    feed_decimals: uint256 = convert(resp, uint256)
    top: uint256 = 36 + loan_decimals
    assert feed_decimals <= top and collateral_decimals <= top - feed_decimals, (
        "market: price feed decimals out of range"
    )
    return top - feed_decimals - collateral_decimals


@external
@view
def check(feed: address, price: uint256, max_deviation: uint256, max_age: uint256, exponent: uint256) -> bool:
    """
    @notice Revert unless the feed gives a sane, fresh answer within
            `max_deviation` of `price`.
    @param feed The feed.
    @param price The oracle's price (loan raw per collateral raw, 1e36).
    @param max_deviation Largest |price - feed| / feed, WAD.
    @param max_age Largest age of the feed's answer, seconds.
    @param exponent From `exponent` (at most 60).
    @return True (or a revert).
    """
    ok: bool = False
    resp: Bytes[160] = b""
    ok, resp = raw_call(
        feed, method_id("latestRoundData()"), max_outsize=160, is_static_call=True, revert_on_failure=False
    )
    assert ok and len(resp) == 160, "market: price feed unavailable"
    round_id: uint256 = 0
    answer: int256 = 0
    started_at: uint256 = 0
    updated_at: uint256 = 0
    answered_in: uint256 = 0
    round_id, answer, started_at, updated_at, answered_in = abi_decode(
        resp, (uint256, int256, uint256, uint256, uint256)
    )
    scale: uint256 = pow_mod256(10, exponent)
    assert answer > 0 and convert(answer, uint256) <= max_value(uint256) // scale, "market: price feed invalid"
    assert updated_at != 0 and updated_at <= block.timestamp, "market: price feed invalid"
    assert answered_in >= round_id, "market: price feed round incomplete"
    assert block.timestamp - updated_at <= max_age, "market: price feed stale"
    feed_price: uint256 = convert(answer, uint256) * scale
    diff: uint256 = 0
    if price > feed_price:
        diff = price - feed_price
    else:
        diff = feed_price - price
    # |oracle - feed| <= feed * max_deviation / WAD, the product split so it cannot overflow
    assert diff <= (feed_price // WAD) * max_deviation + (feed_price % WAD) * max_deviation // WAD, (
        "market: price disagrees with feed"
    )
    return True
