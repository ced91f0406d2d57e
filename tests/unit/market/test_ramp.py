"""The maintenance ramp: after a spike H_init jumps at once, the H_maint of an existing position rises
at most ramp_per_hour per hour (risk_model.ramp), mirrored exactly by oracle.model.RampState.poke_market.
The depth of the maintenance liquidity term is ramped too: after a depth collapse H_init prices the thin
market at once, while existing positions see the depth fall at most 20% per hour."""

import pytest
from market_fixtures import COLL, DEPTH, PRICE, RISK, SIGMA, WAD

from oracle import model

SPIKE = 3 * WAD


def mirror(m):
    """The ramp state as stored by the market now."""
    return model.RampState(
        value=m.maint_base(), updated_at=m.ramp_at(), ramping=m.ramping(), depth=m.maint_depth()
    )


def keeper_round(m, ramp, post, keeper, risk_oracle, chain, sigma=SIGMA, depth=DEPTH, poke_delay=0):
    """One keeper round on the market and on its mirror: post fresh (sigma, depth), let `poke_delay`
    seconds pass, poke; the mirror pokes with the same observation and time. Asserts that the market's
    ramp (base and depth) equals the mirror's; returns the base."""
    post(m.ASSET_ID(), sigma=sigma, depth=depth)
    observed_at = risk_oracle.metrics(m.ASSET_ID())[3]
    if poke_delay:
        chain.pending_timestamp += poke_delay
    m.poke(sender=keeper)
    target = model.maint_base_target(RISK, sigma, m.borrow_rate())
    ramp.poke_market(target, observed_at, m.ramp_at(), RISK, depth)
    assert (m.maint_base(), m.maint_depth()) == (ramp.value, ramp.depth)
    return ramp.value


def test_spike_moves_h_init_at_once_and_h_maint_at_ramp_pace(
    borrowed, borrower, keeper, post, chain, risk_oracle
):
    m = borrowed
    p = RISK
    m.poke(sender=keeper)
    base0 = m.maint_base()
    h_init0 = m.h_init_of(borrower)
    post(m.ASSET_ID(), sigma=SPIKE)
    m.poke(sender=keeper)  # the keeper pokes right after posting: the ramp starts now
    coll, _ = m.position(borrower)
    value = model.collateral_value(coll, PRICE)
    # H_init applies at once, with the new sigma
    assert m.h_init_of(borrower) == model.h_init(p, SPIKE, m.borrow_rate(), value, DEPTH) > h_init0
    # ... while the maintenance base moved only by the time from the observation to the poke (0 s when
    # they share a block, a second or two on a loaded machine), not by the spike
    spike_at = risk_oracle.metrics(m.ASSET_ID())[3]
    assert m.maint_base() - base0 == p.ramp_per_hour * (m.ramp_at() - spike_at) // 3_600
    assert m.ramp_at() - spike_at <= 5
    target = model.maint_base_target(p, SPIKE, m.borrow_rate())
    assert target > base0 + 3 * p.ramp_per_hour  # the spike needs several hours to pass through
    ramp = mirror(m)
    seen, times = [m.maint_base()], [m.ramp_at()]
    for _ in range(4):
        chain.pending_timestamp += 1_800
        # fresh data, same sigma; the poke (the keeper's or a liquidation's) half an hour later
        seen.append(keeper_round(m, ramp, post, keeper, risk_oracle, chain, sigma=SPIKE, poke_delay=1_800))
        times.append(m.ramp_at())
    for i in range(1, len(seen)):
        step = seen[i] - seen[i - 1]
        assert 0 < step <= p.ramp_per_hour * (times[i] - times[i - 1]) // 3_600
    assert seen[-1] < target
    # the position is judged by the ramped base, not by the target
    assert m.h_maint_of(borrower) == model.h_maint(p, seen[-1], value, DEPTH)
    assert m.h_maint_of(borrower) < model.h_maint(p, target, value, DEPTH)


def test_spike_after_quiet_spell_does_not_jump(borrowed, borrower, keeper, post, chain, risk_oracle):
    """Ten quiet hours without any market call must not be spent at once when a spike arrives."""
    m = borrowed
    m.poke(sender=keeper)
    ramp = mirror(m)
    base0 = ramp.value
    chain.pending_timestamp += 10 * 3_600
    post(m.ASSET_ID(), sigma=SPIKE)
    spike_at = risk_oracle.metrics(m.ASSET_ID())[3]
    m.poke(sender=keeper)
    target = model.maint_base_target(RISK, SPIKE, m.borrow_rate())
    assert m.maint_base() == ramp.poke_market(target, spike_at, m.ramp_at(), RISK, DEPTH)
    # the clock starts at the observation: seconds of ramp at most, where the old clock (10 h) would
    # have allowed +0.2 at once
    assert m.maint_base() - base0 <= RISK.ramp_per_hour * 5 // 3_600
    chain.pending_timestamp = m.ramp_at() + 3_600
    m.poke(sender=keeper)
    assert m.maint_base() == ramp.poke_market(target, spike_at, m.ramp_at(), RISK, DEPTH)
    # about one hour's worth since the observation (the poke may land a few seconds late)
    assert 0 < m.maint_base() - base0 <= RISK.ramp_per_hour * (3_600 + 10) // 3_600


def test_loosening_applies_at_once(borrowed, borrower, keeper, post, chain):
    m = borrowed
    post(m.ASSET_ID(), sigma=SPIKE)
    m.poke(sender=keeper)
    for _ in range(8):  # fresh posts every hour: the base reaches its target
        chain.pending_timestamp += 3_600
        post(m.ASSET_ID(), sigma=SPIKE)
        m.poke(sender=keeper)
    high = m.maint_base()
    # the base has reached its target. Views run at the node's clock, and interest accruing between two
    # views (or between a post and the poke in the same second) moves the rate, and so the target, by
    # ~1e-14: compare to within 1e-9 relative.
    assert high == pytest.approx(model.maint_base_target(RISK, SPIKE, m.borrow_rate()), rel=1e-9, abs=0)
    # a 5% lower sigma (within the oracle's fall limit): the lower target applies at once
    chain.pending_timestamp += 3_600
    post(m.ASSET_ID(), sigma=SPIKE * 95 // 100)
    m.poke(sender=keeper)
    target = model.maint_base_target(RISK, SPIKE * 95 // 100, m.borrow_rate())
    assert target < high
    low = m.maint_base()
    assert low < high  # in one poke, with no ramp on the way down
    assert low == pytest.approx(target, rel=1e-9, abs=0)


def test_rising_sigma_every_hour_still_ramps_at_full_pace(borrowed, borrower, keeper, post, chain, risk_oracle):
    """A crash whose sigma rises at every hourly post: after the first poke (which starts the clock at
    the observation), every hourly poke tightens by exactly ramp_per_hour until the target is reached."""
    m = borrowed
    m.poke(sender=keeper)
    base0 = m.maint_base()
    sigma = WAD
    post(m.ASSET_ID(), sigma=sigma)
    first_at = risk_oracle.metrics(m.ASSET_ID())[3]
    m.poke(sender=keeper)
    # the clock starts at the observation: only the seconds between it and the poke count
    assert m.ramping()
    assert m.maint_base() - base0 == RISK.ramp_per_hour * (m.ramp_at() - first_at) // 3_600
    ramp = mirror(m)
    bases, times = [m.maint_base()], [m.ramp_at()]
    for _ in range(5):
        sigma = sigma * 13 // 10  # sigma rises at every post
        chain.pending_timestamp = m.ramp_at() + 3_600
        bases.append(keeper_round(m, ramp, post, keeper, risk_oracle, chain, sigma=sigma))
        times.append(m.ramp_at())
    for i in range(1, len(bases)):
        # the full pace for the time since the last poke (about an hour), never more
        allowed = RISK.ramp_per_hour * (times[i] - times[i - 1]) // 3_600
        assert bases[i] - bases[i - 1] == allowed >= RISK.ramp_per_hour


USDC = 10**6
THIN = 100_000 * USDC  # a market 100x thinner than DEPTH: the liquidity term of COLL is 0.4%
COLLAPSED = 1_000 * USDC  # the pool drained: the liquidity term of COLL is 40%


def test_depth_rise_reaches_positions_at_once(with_collateral, keeper, post, chain):
    m = with_collateral
    post(m.ASSET_ID(), depth=THIN)
    m.poke(sender=keeper)
    assert m.maint_depth() == THIN  # the first poke takes the posted depth as it is
    # three hours later a 15% deeper market (inside the oracle's 5%/h rise guard): applies at once
    chain.pending_timestamp += 3 * 3_600
    post(m.ASSET_ID(), depth=THIN * 115 // 100)
    m.poke(sender=keeper)
    assert m.maint_depth() == THIN * 115 // 100
    assert not m.ramping()


def test_depth_collapse_is_priced_at_once_for_new_risk_and_ramped_for_positions(
    with_collateral, borrower, keeper, post, chain, risk_oracle
):
    """A drained pool must not liquidate every position in the next block (the cascade the ramp exists
    to prevent): the maintenance depth falls 20% per hour, exactly as the mirror says, and the position
    becomes liquidatable only when the ramped depth has come down far enough."""
    m = with_collateral
    p = RISK
    post(m.ASSET_ID(), depth=THIN)
    m.poke(sender=keeper)
    m.borrow(m.max_borrowable(borrower) * 95 // 100, borrower, sender=borrower)
    value = model.collateral_value(COLL, PRICE)

    post(m.ASSET_ID(), depth=COLLAPSED)
    m.poke(sender=keeper)
    # new risk: H_init uses the posted depth at once, nothing more can be borrowed
    assert m.h_init_of(borrower) == model.h_init(p, SIGMA, m.borrow_rate(), value, COLLAPSED)
    assert m.max_borrowable(borrower) == 0
    # judged by the posted depth the position would be liquidated now; it is not
    debt = m.position(borrower)[1]
    assert not model.is_healthy(debt, value, model.h_maint(p, m.maint_base(), value, COLLAPSED))
    assert not m.is_liquidatable(borrower)
    assert m.ramping()

    ramp = mirror(m)
    depths, times = [ramp.depth], [m.ramp_at()]
    hours_to_liquidatable = None
    for hour in range(1, 25):
        chain.pending_timestamp = m.ramp_at() + 3_600
        keeper_round(m, ramp, post, keeper, risk_oracle, chain, depth=COLLAPSED)  # fresh data, same depth
        depths.append(ramp.depth)
        times.append(m.ramp_at())
        debt = m.position(borrower)[1]
        expected = not model.is_healthy(debt, value, model.h_maint(p, ramp.value, value, ramp.depth))
        assert m.is_liquidatable(borrower) == expected
        if expected:
            hours_to_liquidatable = hour
            break
    # each hour the depth fell by exactly 20% of itself per hour elapsed, never more
    for i in range(1, len(depths)):
        frac = model.MAINT_DEPTH_FALL_PER_HOUR * (times[i] - times[i - 1]) // 3_600
        assert depths[i] == max(COLLAPSED, depths[i - 1] - depths[i - 1] * frac // WAD)
        assert depths[i] >= depths[i - 1] * 79 // 100
    # debt at 82.7% of the value and a maintenance base of 7.6%: liquidatable once the liquidity term
    # (0.02 * 20,000 / depth) passes 9.7%, i.e. once the ramped depth is below ~4,100 USDC:
    # log(4.1k / 100k) / log(0.8) = 14.3, so in the 15th hour rather than in the collapse's block
    assert hours_to_liquidatable is not None and 14 <= hours_to_liquidatable <= 16
