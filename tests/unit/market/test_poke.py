"""Market.poke: anyone accrues interest and moves the ramp."""

from market_fixtures import RISK, SIGMA

from oracle import model


def test_poke_accrues_and_stamps(lens, borrowed, other, chain, risk_oracle):
    m = borrowed
    observed_at = risk_oracle.metrics(m.ASSET_ID())[3]
    # the stored debt at the last update (total_debt() projects interest to the latest block, which on a
    # loaded machine is a second or more after it)
    debt, rate, t0 = m.state().debt_word >> 128, lens.borrow_rate(m), lens.last_update(m)
    base_before = lens.maint_base(m)
    chain.pending_timestamp = t0 + 86_400
    tx = m.poke(sender=other)
    assert lens.last_update(m) == chain.blocks[tx.block_number].timestamp == t0 + 86_400
    assert m.total_debt() == model.accrue(debt, rate, 86_400)
    # a day without a post: the ramp moves towards the target of the stressed sigma
    stressed = model.effective_sigma(SIGMA, observed_at, t0 + 86_400, RISK.stale_after, RISK.stale_sigma)
    assert stressed > SIGMA
    assert base_before < lens.maint_base(m) <= model.maint_base_target(RISK, stressed, rate)
