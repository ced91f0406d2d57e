"""PoolSource reads a real ConstantProductPool on anvil; the depth it reports is checked by trading."""

import ape
import pytest

from oracle.chain import Rpc
from oracle.metrics import depth_from_pool
from oracle.sources.base import Source
from oracle.sources.pool import POOL_FEE, PoolError, PoolSource, price_and_depth

WETH, USDC = 10**18, 10**6


@pytest.fixture(scope="module")
def pool(create_pool, weth, usdc):
    return create_pool(weth, usdc, 100 * WETH, 200_000 * USDC)  # 2,000 USDC per WETH


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


def test_price_follows_a_swap(pool, weth, usdc, rpc, admin, attacker):
    source = PoolSource(rpc, pool.address, collateral=weth.address)
    before = source.latest()
    weth.mint(attacker, 10 * WETH, sender=admin)
    weth.approve(pool, 10 * WETH, sender=attacker)
    pool.swap(weth, 10 * WETH, 0, attacker, sender=attacker)
    after = source.latest()
    r_weth, r_usdc = pool.get_reserves()
    assert after.price == pytest.approx((r_usdc / USDC) / (r_weth / WETH))
    assert after.price < before.price and after.depth < before.depth


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
