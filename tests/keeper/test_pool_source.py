"""PoolSource reads a real ConstantProductPool on anvil: its time-weighted price (the pool's ring of
cumulative prices) resists one swap; the depth it reports is checked by trading."""

import itertools

import ape
import pytest

from oracle.chain import Rpc
from oracle.metrics import depth_from_pool
from oracle.sources.base import Source
from oracle.sources.pool import (
    POOL_FEE,
    Q112,
    PoolError,
    PoolSource,
    price_and_depth,
    twap_from_cumulatives,
    twap_price_and_depth,
)

WETH, USDC = 10**18, 10**6
WINDOW = 1_800


@pytest.fixture(scope="module")
def pool(create_pool, weth, usdc, chain):
    pool = create_pool(weth, usdc, 100 * WETH, 200_000 * USDC)  # 2,000 USDC per WETH
    chain.pending_timestamp += 2 * WINDOW  # the pool has a price history longer than the window
    chain.mine()
    return pool


@pytest.fixture(scope="module", autouse=True)
def _deployed_first(admin, attacker, pool):
    """Module deployments happen before the first test (ape isolates per scope, in order)."""


@pytest.fixture
def rpc(rpc_url):
    return Rpc([rpc_url])


def test_price_and_depth_scales_decimals():
    price, depth = price_and_depth(100 * WETH, 200_000 * USDC, 18, 6)
    assert price == pytest.approx(2_000.0)
    assert depth == pytest.approx(depth_from_pool(100.0, 200_000.0, fee=POOL_FEE))


def test_price_and_depth_refuses_an_empty_reserve():
    with pytest.raises(PoolError, match="empty reserve"):
        price_and_depth(0, 1, 18, 6)


def test_twap_from_cumulatives_wraps_modulo_2_256():
    price = 2_000 * Q112
    assert twap_from_cumulatives(5 * price, 2 * price, 3) == pytest.approx(2_000)
    assert twap_from_cumulatives(price - 7, 2**256 - 7 - price, 2) == pytest.approx(2_000)  # wrapped once


def test_depth_at_the_time_weighted_price_never_exceeds_spot_depth():
    x, y = 100 * WETH, 200_000 * USDC
    twap_raw = 2_000 * USDC / WETH
    price, depth = twap_price_and_depth(x, y, twap_raw, 18, 6)
    assert price == pytest.approx(2_000) and depth == pytest.approx(price_and_depth(x, y, 18, 6)[1])
    # spot above the time-weighted price (someone bought collateral): the depth of the twap's reserves
    _, lower = twap_price_and_depth(x * 9 // 10, y * 10 // 9, twap_raw, 18, 6)
    assert lower == pytest.approx(depth, rel=1e-9) and lower < price_and_depth(x * 9 // 10, y * 10 // 9, 18, 6)[1]
    # spot below (someone sold collateral): the spot depth, already the smaller
    _, spot_depth = price_and_depth(x * 10 // 9, y * 9 // 10, 18, 6)
    assert twap_price_and_depth(x * 10 // 9, y * 9 // 10, twap_raw, 18, 6)[1] == pytest.approx(spot_depth)


def test_latest_reads_reserves_and_block_time(pool, weth, rpc, chain):
    source = PoolSource(rpc, pool.address, collateral=weth.address)
    assert isinstance(source, Source)
    obs = source.latest()
    assert obs.price == pytest.approx(2_000.0)
    assert obs.depth == pytest.approx(depth_from_pool(100.0, 200_000.0, fee=POOL_FEE))
    assert obs.ts == chain.blocks.head.timestamp


def test_collateral_on_token1_side_flips_the_pool(pool, usdc, rpc):
    obs = PoolSource(rpc, pool.address, collateral=usdc.address).latest()
    assert obs.price == pytest.approx(1 / 2_000.0)


def test_depth_is_what_really_sells_at_two_percent_impact(pool, weth, usdc, rpc, admin, attacker):
    obs = PoolSource(rpc, pool.address, collateral=weth.address).latest()
    sell = int(obs.depth / obs.price * WETH)
    weth.mint(attacker, 2 * sell, sender=admin)
    weth.approve(pool, 2 * sell, sender=attacker)
    quoted_ok = pool.get_amount_out(weth, sell)
    quoted_more = pool.get_amount_out(weth, sell * 101 // 100)
    assert quoted_ok / USDC / (sell / WETH) >= obs.price * 0.98 * (1 - 1e-9)
    assert quoted_more / USDC / (sell * 1.01 / WETH) < obs.price * 0.98
    tx = pool.swap(weth, sell, quoted_ok, attacker, sender=attacker)
    assert usdc.balanceOf(attacker) == quoted_ok
    [event] = tx.decode_logs(pool.Swapped)
    assert event.trader == attacker and event.amount_in == sell and event.amount_out == quoted_ok


def test_price_follows_a_swap_that_stands(pool, weth, usdc, rpc, admin, attacker, chain):
    """The time-weighted price moves with the time a new price stands: by a third after a third of the
    window, all the way after the whole window."""
    source = PoolSource(rpc, pool.address, collateral=weth.address, window=WINDOW)
    before = source.latest()
    weth.mint(attacker, 10 * WETH, sender=admin)
    weth.approve(pool, 10 * WETH, sender=attacker)
    pool.swap(weth, 10 * WETH, 0, attacker, sender=attacker)
    r_weth, r_usdc = pool.get_reserves()
    spot = (r_usdc / USDC) / (r_weth / WETH)
    swapped_at = chain.blocks.head.timestamp
    chain.pending_timestamp = swapped_at + WINDOW // 3
    chain.mine()
    third = source.latest()
    assert third.price == pytest.approx(before.price + (spot - before.price) / 3, rel=1e-6)
    assert source.last_spot == pytest.approx(spot)
    chain.pending_timestamp = swapped_at + WINDOW
    chain.mine()
    after = source.latest()
    assert after.price == pytest.approx(spot, rel=1e-9)
    assert after.depth < before.depth


def test_one_swap_does_not_move_the_time_weighted_price(pool, weth, usdc, rpc, admin, attacker, chain):
    """The issue's attack: one swap takes the pool from 2,000 to ~1,513 right before the keeper reads.
    Spot says 1,513; the source says what the pool said for the last half hour."""
    source = PoolSource(rpc, pool.address, collateral=weth.address, window=WINDOW)
    chain.pending_timestamp += WINDOW
    chain.mine()
    honest = source.latest()
    r_weth, r_usdc = pool.get_reserves()
    k = (r_weth / WETH) * (r_usdc / USDC)
    sell = int(((k / 1_513) ** 0.5 - r_weth / WETH) / (1 - POOL_FEE) * WETH)
    weth.mint(attacker, sell, sender=admin)
    weth.approve(pool, sell, sender=attacker)
    pool.swap(weth, sell, 0, attacker, sender=attacker)
    attacked = source.latest()
    assert source.last_spot == pytest.approx(1_513, rel=1e-3)
    assert attacked.price == pytest.approx(honest.price, rel=1e-3)  # the swap stood for one second
    assert attacked.depth <= honest.depth  # and it only makes the depth smaller


def test_a_pool_younger_than_the_window_is_an_error(create_pool, weth, usdc, rpc):
    fresh = create_pool(weth, usdc, 10 * WETH, 20_000 * USDC)
    with pytest.raises(PoolError, match=f"has [0-9] s of price history, the time-weighted price needs {WINDOW} s"):
        PoolSource(rpc, fresh.address, collateral=weth.address, window=WINDOW).latest()


def test_observe_reverts_before_the_oldest_observation(pool, chain):
    oldest = pool.oldest_observation()
    assert 0 < oldest <= chain.blocks.head.timestamp
    with ape.reverts("pool: observation too old"):
        pool.observe(chain.blocks.head.timestamp - oldest + 10)


def test_observations_one_per_block_and_the_ring_wraps(create_pool, weth, usdc, admin, chain):
    fresh = create_pool(weth, usdc, 10 * WETH, 20_000 * USDC)
    assert fresh.observation_count() == 1
    weth.mint(admin, 100 * WETH, sender=admin)
    weth.approve(fresh, 2**256 - 1, sender=admin)
    for _ in range(70):
        chain.pending_timestamp += 10
        fresh.swap(weth, WETH // 100, 0, admin, sender=admin)
    assert fresh.observation_count() == 64
    index = fresh.observation_index()
    ring = [fresh.observations((index + 1 + i) % 64) for i in range(64)]  # oldest first
    assert ring[-1].timestamp == chain.blocks.head.timestamp
    assert fresh.oldest_observation() == ring[0].timestamp
    assert all(b.timestamp > a.timestamp for a, b in itertools.pairwise(ring))  # one per block, in order
    for a, b in itertools.pairwise(ring):  # each cumulative = the previous one + its price * the seconds it stood
        assert b.cumulative0 == (a.cumulative0 + a.price0 * (b.timestamp - a.timestamp)) % 2**256
    # the cumulative price at a past time is the stored one plus the price that stood since, times seconds
    before = fresh.observations((fresh.observation_index() + 63) % 64)
    c0, _ = fresh.observe(chain.blocks.head.timestamp - before.timestamp - 4)  # 4 s into `before`
    assert c0 == before.cumulative0 + before.price0 * 4


def test_swap_slippage_limit_reverts(pool, weth, admin, attacker):
    weth.mint(attacker, WETH, sender=admin)
    weth.approve(pool, WETH, sender=attacker)
    out = pool.get_amount_out(weth, WETH)
    with ape.reverts("pool: slippage"):
        pool.swap(weth, WETH, out + 1, attacker, sender=attacker)


def test_swap_unknown_token_reverts(pool, admin, attacker):
    with ape.reverts("pool: unknown token"):
        pool.swap(admin, 1, 0, attacker, sender=attacker)


def test_add_liquidity_emits_and_rejects_zero(pool, weth, usdc, admin):
    weth.mint(admin, WETH, sender=admin)
    usdc.mint(admin, 2_000 * USDC, sender=admin)
    weth.approve(pool, WETH, sender=admin)
    usdc.approve(pool, 2_000 * USDC, sender=admin)
    tx = pool.add_liquidity(WETH, 2_000 * USDC, sender=admin)
    [event] = tx.decode_logs(pool.LiquidityAdded)
    assert event.supplier == admin and event.amount0 == WETH and event.amount1 == 2_000 * USDC
    assert pool.get_reserves() == (101 * WETH, 202_000 * USDC)
    with ape.reverts("pool: zero amount"):
        pool.add_liquidity(0, 1, sender=admin)


def test_not_a_pool_is_a_pool_error(weth, rpc):
    with pytest.raises(PoolError, match="is not a constant-product pool"):
        PoolSource(rpc, weth.address).latest()


def test_collateral_not_in_the_pool_is_a_pool_error(pool, rpc, admin):
    with pytest.raises(PoolError, match="does not trade"):
        PoolSource(rpc, pool.address, collateral=admin.address).latest()
