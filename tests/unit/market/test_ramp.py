"""The maintenance ramp: after a spike H_init jumps at once, the H_maint of an existing position rises
at most ramp_per_hour per hour of time since the rise was first seen by a poke (risk_model.ramp_poke),
mirrored exactly by oracle.model.RampState. The depth of the maintenance liquidity term is ramped too:
after a depth collapse H_init prices the thin market at once, while existing positions see the depth
fall at most 20% per hour. Audit findings 1 and 2 (the clock armed by anyone; stale onset tightened by
all the time since the last poke) have their regression tests here."""

import pytest
from market_fixtures import COLL, DEPTH, PRICE, RISK, SIGMA, WAD

from oracle import model

SPIKE = 3 * WAD
HOUR = 3_600


def stored(m):
    """The ramp as the market stores it (RampState from the raw ramp word)."""
    w = m.state().ramp_word
    return model.RampState(
        value=w >> 192, updated_at=(w >> 152) & (2**40 - 1), depth=(w >> 64) & (2**88 - 1),
        base_gap=((w >> 32) & (2**32 - 1)) * model.PPB, depth_gap=w & (2**32 - 1),
    )  # fmt: skip


def risk_rate(lens, m):
    return lens.risk_rate(m)


def keeper_round(lens, m, ramp, post, keeper, chain, sigma=SIGMA, depth=DEPTH, poke_delay=0):
    """One keeper round on the market and on its mirror: post fresh (sigma, depth), let `poke_delay`
    seconds pass, poke; the mirror pokes at the same time. Asserts the market's stored ramp equals the
    mirror's; returns the base."""
    post(m.ASSET_ID(), sigma=sigma, depth=depth)
    if poke_delay:
        chain.pending_timestamp += poke_delay
    m.poke(sender=keeper)
    target = model.maint_base_target(RISK, sigma, risk_rate(lens, m))
    ramp.poke_market(target, m.ramp_at(), RISK, depth)
    assert stored(m) == ramp
    return ramp.value


def test_spike_moves_h_init_at_once_and_h_maint_at_ramp_pace(lens, borrowed, borrower, keeper, post, chain):
    m = borrowed
    p = RISK
    m.poke(sender=keeper)
    base0 = stored(m).value
    h_init0 = lens.h_init_of(m, borrower)
    post(m.ASSET_ID(), sigma=SPIKE)
    m.poke(sender=keeper)  # the keeper pokes right after posting: the first poke that sees the rise
    coll, _ = m.position(borrower)
    value = model.collateral_value(coll, PRICE)
    # H_init applies at once, with the new sigma
    assert lens.h_init_of(m, borrower) == model.h_init(p, SPIKE, risk_rate(lens, m), value, DEPTH) > h_init0
    # ... while the maintenance base has not moved: its clock starts at this poke
    ramp = stored(m)
    assert ramp.value == base0 and ramp.ramping
    target = model.maint_base_target(p, SPIKE, risk_rate(lens, m))
    assert target > base0 + 3 * p.ramp_per_hour  # the spike needs several hours to pass through
    seen, times = [ramp.value], [m.ramp_at()]
    for _ in range(4):
        chain.pending_timestamp += 1_800
        # fresh data, same sigma; the poke (the keeper's or a liquidation's) half an hour later
        seen.append(keeper_round(lens, m, ramp, post, keeper, chain, sigma=SPIKE, poke_delay=1_800))
        times.append(m.ramp_at())
    for i in range(1, len(seen)):
        step = seen[i] - seen[i - 1]
        assert 0 < step == p.ramp_per_hour * (times[i] - times[i - 1]) // HOUR
    assert seen[-1] < target
    # the position is judged by the ramped base, not by the target
    assert lens.h_maint_of(m, borrower) == model.h_maint(p, seen[-1], value, DEPTH)
    assert lens.h_maint_of(m, borrower) < model.h_maint(p, target, value, DEPTH)


def test_spike_after_quiet_spell_does_not_jump(lens, borrowed, borrower, keeper, post, chain):
    """Ten quiet hours without any market call must not be spent at once when a spike arrives."""
    m = borrowed
    m.poke(sender=keeper)
    ramp = stored(m)
    base0 = ramp.value
    chain.pending_timestamp += 10 * HOUR
    post(m.ASSET_ID(), sigma=SPIKE)
    m.poke(sender=keeper)
    target = model.maint_base_target(RISK, SPIKE, risk_rate(lens, m))
    assert ramp.poke_market(target, m.ramp_at(), RISK, DEPTH) == stored(m).value == base0
    chain.pending_timestamp = m.ramp_at() + HOUR
    m.poke(sender=keeper)
    ramp.poke_market(target, m.ramp_at(), RISK, DEPTH)
    assert stored(m) == ramp
    # exactly one hour's worth since the poke that saw the spike
    assert stored(m).value - base0 == RISK.ramp_per_hour * (m.ramp_at() - (m.ramp_at() - HOUR)) // HOUR


def test_armed_clock_cannot_spend_quiet_hours_on_a_spike(
    lens, borrowed, borrower, lender, liquidator, keeper, post, chain, loan_token, fund
):
    """Audit finding 1: poke(), raise the target a little (a one-unit lender withdrawal raises the
    utilisation and so the rate term), poke() again: the old market kept a `ramping` flag and a clock
    from that moment, so ten quiet hours later (hourly posts, no pokes) a spike moved the base by the
    hours' allowance inside the liquidator's own `liquidate`, and a borrower at the limit was liquidated
    in the spike's block. Now a rise gets no credit for the time before the poke that first saw it."""
    m = borrowed
    post(m.ASSET_ID())
    # at 99.9% of the H_init limit (in calm data H_init and H_maint both sit at h_min: the maintenance
    # limit too); ten hours of interest do not cover the 0.1% left
    m.borrow(lens.max_borrowable(m, borrower) * 999 // 1000, borrower, sender=borrower)
    fund(loan_token, liquidator, 10**12, m)
    m.poke(sender=keeper)
    m.withdraw(1, lender, lender, sender=lender)  # the utilisation, and so the target, rise a little
    m.poke(sender=keeper)  # the old market armed its clock here
    base0 = stored(m).value
    for _ in range(10):  # ten quiet hours: the keeper posts, nobody pokes
        chain.pending_timestamp += HOUR
        post(m.ASSET_ID())
    post(m.ASSET_ID(), sigma=SPIKE)
    with pytest.raises(Exception, match="market: position healthy"):
        m.liquidate(borrower, 10**12, sender=liquidator)
    m.poke(sender=keeper)
    assert stored(m).value - base0 <= model.PPB  # at most the rounding of what the last poke had seen
    assert not lens.is_liquidatable(m, borrower)


def test_stale_onset_is_not_tightened_by_the_time_before_it(lens, borrowed, borrower, keeper, post, chain, risk_oracle):
    """Audit finding 2: the stressed sigma starts at observed_at + stale_after, but the old ramp counted
    from the last poke, so the first poke after the threshold tightened by ramp_per_hour x the hours
    since the last poke at once (0.04 with the defaults)."""
    m = borrowed
    post(m.ASSET_ID())
    m.poke(sender=keeper)
    base0 = stored(m).value
    observed_at = risk_oracle.metrics(m.ASSET_ID())[3]
    chain.pending_timestamp = observed_at + RISK.stale_after + 60  # stale now, no poke since
    m.poke(sender=keeper)
    ramp = stored(m)
    assert ramp.value == base0 and ramp.ramping  # the stressed target is seen, its clock starts now
    chain.pending_timestamp = m.ramp_at() + HOUR
    m.poke(sender=keeper)
    assert stored(m).value - base0 == RISK.ramp_per_hour * HOUR // HOUR


def test_loosening_applies_at_once(lens, borrowed, borrower, keeper, post, chain):
    m = borrowed
    post(m.ASSET_ID(), sigma=SPIKE)
    m.poke(sender=keeper)
    for _ in range(10):  # fresh posts every hour: the base reaches its target
        chain.pending_timestamp += HOUR
        post(m.ASSET_ID(), sigma=SPIKE)
        m.poke(sender=keeper)
    high = stored(m).value
    assert high == pytest.approx(model.maint_base_target(RISK, SPIKE, risk_rate(lens, m)), rel=1e-9, abs=0)
    # a 5% lower sigma (within the oracle's fall limit): the lower target applies at once
    chain.pending_timestamp += HOUR
    post(m.ASSET_ID(), sigma=SPIKE * 95 // 100)
    m.poke(sender=keeper)
    target = model.maint_base_target(RISK, SPIKE * 95 // 100, risk_rate(lens, m))
    assert target < high
    low = stored(m).value
    assert low < high  # in one poke, with no ramp on the way down
    assert low == pytest.approx(target, rel=1e-9, abs=0)


def test_rising_sigma_every_hour_still_ramps_at_full_pace(lens, borrowed, keeper, post, chain):
    """A crash whose sigma rises at every hourly post: the first poke sees the rise and starts the clock;
    every later hourly poke tightens by exactly ramp_per_hour (the previous target is always far above)."""
    m = borrowed
    m.poke(sender=keeper)
    base0 = stored(m).value
    sigma = WAD
    post(m.ASSET_ID(), sigma=sigma)
    m.poke(sender=keeper)
    ramp = stored(m)
    assert ramp.value == base0 and ramp.ramping
    bases, times = [ramp.value], [m.ramp_at()]
    for _ in range(5):
        sigma = sigma * 13 // 10  # sigma rises at every post
        chain.pending_timestamp = m.ramp_at() + HOUR
        bases.append(keeper_round(lens, m, ramp, post, keeper, chain, sigma=sigma))
        times.append(m.ramp_at())
    for i in range(1, len(bases)):
        allowed = RISK.ramp_per_hour * (times[i] - times[i - 1]) // HOUR
        assert bases[i] - bases[i - 1] == allowed >= RISK.ramp_per_hour


USDC = 10**6
THIN = 100_000 * USDC  # a market 100x thinner than DEPTH: the liquidity term of COLL is 0.4%
COLLAPSED = 1_000 * USDC  # the pool drained: the liquidity term of COLL is 40%


def test_depth_rise_reaches_positions_at_once(lens, with_collateral, keeper, post, chain):
    m = with_collateral
    post(m.ASSET_ID(), depth=THIN)
    m.poke(sender=keeper)
    assert lens.maint_depth(m) == THIN  # the first poke takes the posted depth as it is
    # three hours later a 15% deeper market (inside the oracle's 5%/h rise guard): applies at once
    chain.pending_timestamp += 3 * HOUR
    post(m.ASSET_ID(), depth=THIN * 115 // 100)
    m.poke(sender=keeper)
    assert lens.maint_depth(m) == THIN * 115 // 100
    assert not lens.ramping(m)


def test_depth_collapse_is_priced_at_once_for_new_risk_and_ramped_for_positions(
    lens, with_collateral, borrower, keeper, post, chain
):
    """A drained pool must not liquidate every position in the next block (the cascade the ramp exists
    to prevent): the maintenance depth falls 20% per hour from the poke that saw the collapse, exactly as
    the mirror says, and the position becomes liquidatable only when the ramped depth is low enough."""
    m = with_collateral
    p = RISK
    post(m.ASSET_ID(), depth=THIN)
    m.poke(sender=keeper)
    m.borrow(lens.max_borrowable(m, borrower) * 95 // 100, borrower, sender=borrower)
    value = model.collateral_value(COLL, PRICE)

    post(m.ASSET_ID(), depth=COLLAPSED)
    m.poke(sender=keeper)
    # new risk: H_init uses the posted depth at once, nothing more can be borrowed
    assert lens.h_init_of(m, borrower) == model.h_init(p, SIGMA, risk_rate(lens, m), value, COLLAPSED)
    assert lens.max_borrowable(m, borrower) == 0
    # judged by the posted depth the position would be liquidated now; it is not
    debt = m.position(borrower)[1]
    assert not model.is_healthy(debt, value, model.h_maint(p, lens.maint_base(m), value, COLLAPSED))
    assert not lens.is_liquidatable(m, borrower)
    assert lens.ramping(m) and lens.maint_depth(m) == THIN  # the collapse is seen, its clock starts now

    ramp = stored(m)
    depths, times = [ramp.depth], [m.ramp_at()]
    hours_to_liquidatable = None
    for hour in range(1, 25):
        chain.pending_timestamp = m.ramp_at() + HOUR
        keeper_round(lens, m, ramp, post, keeper, chain, depth=COLLAPSED)  # fresh data, same depth
        depths.append(ramp.depth)
        times.append(m.ramp_at())
        debt = m.position(borrower)[1]
        expected = not model.is_healthy(debt, value, model.h_maint(p, ramp.value, value, ramp.depth))
        assert lens.is_liquidatable(m, borrower) == expected
        if expected:
            hours_to_liquidatable = hour
            break
    # each hour the depth fell by exactly 20% of itself per hour elapsed, never more
    for i in range(1, len(depths)):
        frac = model.MAINT_DEPTH_FALL_PER_HOUR * (times[i] - times[i - 1]) // HOUR
        assert depths[i] == max(COLLAPSED, depths[i - 1] - depths[i - 1] * frac // WAD)
        assert depths[i] >= depths[i - 1] * 79 // 100
    # liquidatable once the liquidity term (0.02 * 20,000 / depth) has eaten the margin: in the 15th
    # hour or so (log(4.1k / 100k) / log(0.8) = 14.3), never in the collapse's block
    assert hours_to_liquidatable is not None and 14 <= hours_to_liquidatable <= 16
