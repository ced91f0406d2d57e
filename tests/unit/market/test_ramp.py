"""The maintenance ramp: after a spike H_init jumps at once, the H_maint of an existing position rises
at most ramp_per_hour per hour (risk_model.ramp), mirrored exactly by oracle.model.RampState."""

from market_fixtures import DEPTH, PRICE, RISK, WAD

from oracle import model

SPIKE = 3 * WAD


def test_spike_moves_h_init_at_once_and_h_maint_at_ramp_pace(borrowed, borrower, post, chain):
    m = borrowed
    p = RISK
    base0 = m.maint_base()
    h_init0 = m.h_init_of(borrower)
    post(m.ASSET_ID(), sigma=SPIKE)
    chain.mine()
    coll, _debt = m.position(borrower)
    value = model.collateral_value(coll, PRICE)
    # H_init applies at once, with the new sigma
    assert m.h_init_of(borrower) == model.h_init(p, SPIKE, m.borrow_rate(), value, DEPTH) > h_init0
    target = model.maint_base_target(p, SPIKE, m.borrow_rate())
    assert target > base0 + 3 * p.ramp_per_hour  # the spike needs several hours to pass through
    ramp = model.RampState(value=base0, updated_at=m.last_update())
    seen, times = [base0], [m.last_update()]
    for _ in range(4):
        chain.pending_timestamp += 3_600
        m.repay(1, borrower, sender=borrower)  # any mutating call pokes the ramp
        expected = ramp.poke(model.maint_base_target(p, SPIKE, m.borrow_rate()), m.last_update(), p)
        assert m.maint_base() == expected
        seen.append(expected)
        times.append(m.last_update())
    for i in range(1, len(seen)):
        step = seen[i] - seen[i - 1]
        assert 0 < step <= p.ramp_per_hour * (times[i] - times[i - 1]) // 3_600
    assert seen[-1] < target
    # the position is judged by the ramped base, not by the target
    assert m.h_maint_of(borrower) == model.h_maint(p, seen[-1], value, DEPTH)
    assert m.h_maint_of(borrower) < model.h_maint(p, target, value, DEPTH)


def test_loosening_applies_at_once(borrowed, borrower, post, chain):
    m = borrowed
    at0 = chain.pending_timestamp
    post(m.ASSET_ID(), sigma=SPIKE, observed_at=at0)
    chain.pending_timestamp += 10 * 3_600
    m.repay(1, borrower, sender=borrower)
    high = m.maint_base()
    # 10 h without a post: the stressed (stale) sigma keeps pulling the base up, at the ramp's pace
    assert high <= RISK.h_min + 10 * RISK.ramp_per_hour
    # a fresh, 10% lower sigma: the lower target applies at once
    post(m.ASSET_ID(), sigma=SPIKE * 90 // 100)
    m.repay(1, borrower, sender=borrower)
    target = model.maint_base_target(RISK, SPIKE * 90 // 100, m.borrow_rate())
    assert target < high
    assert m.maint_base() == target
