"""Stale risk data degrades, never freezes: past stale_after the market stresses sigma (growing with
age, risk_model.effective_sigma), borrow and withdraw_collateral revert, repay, supply_collateral and
liquidate keep working (each entry point's file has its own stale case)."""

from market_fixtures import COLL, DEPTH, PRICE, RISK, SIGMA

from oracle import model


def test_stale_sigma_grows_with_age_and_feeds_h_init(lens, borrowed, borrower, chain, post, risk_oracle):
    m = borrowed
    post(m.ASSET_ID(), observed_at=chain.pending_timestamp)
    at = risk_oracle.metrics(m.ASSET_ID())[3]
    value = model.collateral_value(COLL, PRICE)
    previous = 0
    for target_age in (
        RISK.stale_after - 60,
        RISK.stale_after + 60,
        2 * RISK.stale_after,
        4 * RISK.stale_after,
    ):
        chain.pending_timestamp = at + target_age
        chain.mine()
        age = chain.blocks.head.timestamp - at  # what block.timestamp is in the views
        on_chain = lens.h_init_of(m, borrower)
        # the call's block.timestamp may differ from the head block's by a second: accept those, exactly
        candidates = [
            model.h_init(
                RISK,
                model.effective_sigma(SIGMA, at, at + a, RISK.stale_after, RISK.stale_sigma),
                lens.borrow_rate(m),
                value,
                DEPTH,
            )
            for a in (age - 1, age, age + 1)
        ]
        assert on_chain in candidates
        h = on_chain
        assert h >= previous
        previous = h
        if age > RISK.stale_after:
            assert lens.max_borrowable(m, borrower) == 0
    assert previous > RISK.h_min  # the stress is real, not just a flag


def test_fresh_post_ends_stale_mode(lens, with_collateral, borrower, chain, post):
    m = with_collateral
    chain.pending_timestamp += RISK.stale_after + 10
    chain.mine()
    assert lens.max_borrowable(m, borrower) == 0
    post(m.ASSET_ID())
    m.borrow(10**6, borrower, sender=borrower)
    assert m.position(borrower)[1] == 10**6
