"""The maintenance ramp: after a spike H_init jumps at once, the H_maint of an existing position rises
at most ramp_per_hour per hour (risk_model.ramp), mirrored exactly by oracle.model.RampState.poke_market."""

import pytest
from market_fixtures import DEPTH, PRICE, RISK, WAD

from oracle import model

SPIKE = 3 * WAD


def mirror(m):
    """The ramp state as stored by the market now."""
    return model.RampState(
        value=m.maint_base(), updated_at=m.ramp_at(), ramping=m.ramping()
    )


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
    # ... while the maintenance base has not moved in the spike's block
    assert m.maint_base() == base0
    target = model.maint_base_target(p, SPIKE, m.borrow_rate())
    assert target > base0 + 3 * p.ramp_per_hour  # the spike needs several hours to pass through
    ramp = mirror(m)
    observed_at = risk_oracle.metrics(m.ASSET_ID())[3]
    seen, times = [base0], [m.ramp_at()]
    for _ in range(4):
        chain.pending_timestamp += 1_800
        post(m.ASSET_ID(), sigma=SPIKE)  # fresh data, same sigma
        observed_at = risk_oracle.metrics(m.ASSET_ID())[3]
        chain.pending_timestamp += 1_800
        m.poke(sender=keeper)  # the keeper (or a liquidation) pokes the ramp
        expected = ramp.poke_market(
            model.maint_base_target(p, SPIKE, m.borrow_rate()), observed_at, m.ramp_at(), p
        )
        assert m.maint_base() == expected
        seen.append(expected)
        times.append(m.ramp_at())
    for i in range(1, len(seen)):
        step = seen[i] - seen[i - 1]
        assert 0 < step <= p.ramp_per_hour * (times[i] - times[i - 1]) // 3_600
    assert seen[-1] < target
    # the position is judged by the ramped base, not by the target
    assert m.h_maint_of(borrower) == model.h_maint(p, seen[-1], value, DEPTH)
    assert m.h_maint_of(borrower) < model.h_maint(p, target, value, DEPTH)


def test_spike_after_quiet_spell_does_not_jump(borrowed, borrower, keeper, post, chain):
    """Ten quiet hours without any market call must not be spent at once when a spike arrives."""
    m = borrowed
    m.poke(sender=keeper)
    base0 = m.maint_base()
    chain.pending_timestamp += 10 * 3_600
    post(m.ASSET_ID(), sigma=SPIKE)
    m.poke(sender=keeper)
    assert m.maint_base() == base0  # the old clock (10 h) would have allowed +0.2 here
    chain.pending_timestamp += 3_600
    m.poke(sender=keeper)
    assert 0 < m.maint_base() - base0 <= RISK.ramp_per_hour


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
    m.poke(sender=keeper)
    assert m.ramping() and m.maint_base() == base0
    ramp = mirror(m)
    bases, times = [m.maint_base()], [m.ramp_at()]
    for _ in range(5):
        sigma = sigma * 13 // 10  # sigma rises at every post
        chain.pending_timestamp = m.ramp_at() + 3_600
        post(m.ASSET_ID(), sigma=sigma)
        observed_at = risk_oracle.metrics(m.ASSET_ID())[3]
        m.poke(sender=keeper)
        expected = ramp.poke_market(
            model.maint_base_target(RISK, sigma, m.borrow_rate()), observed_at, m.ramp_at(), RISK
        )
        assert m.maint_base() == expected
        bases.append(expected)
        times.append(m.ramp_at())
    for i in range(1, len(bases)):
        # the full pace for the time since the last poke (about an hour), never more
        allowed = RISK.ramp_per_hour * (times[i] - times[i - 1]) // 3_600
        assert bases[i] - bases[i - 1] == allowed >= RISK.ramp_per_hour
