"""Market.borrow: gated by H_init (immediate sigma), stale data and liquidity."""

import ape
from market_fixtures import COLL, LEND, LOAN_DECIMALS, WAD

from .helpers_market import max_first_borrow

SPIKED = 3 * WAD // 2  # 150% vol makes H_init exceed the floor


def test_borrow_up_to_h_init_exactly(lens, with_collateral, borrower, loan_token, post, chain):
    m = with_collateral
    post(m.ASSET_ID(), sigma=SPIKED)
    limit = max_first_borrow(COLL, LEND, SPIKED)
    assert 0 < limit < 20_000 * 10**LOAN_DECIMALS
    snap = chain.snapshot()
    with ape.reverts("market: unhealthy after action"):
        m.borrow(limit + 1, borrower, sender=borrower)
    chain.restore(snap)
    tx = m.borrow(limit, borrower, sender=borrower)
    ev = tx.decode_logs(m.Borrowed)[0]
    assert (ev.account, ev.receiver, ev.assets) == (borrower.address, borrower.address, limit)
    assert ev.shares == limit * 10**6
    assert m.position(borrower) == (COLL, limit)
    assert loan_token.balanceOf(borrower) == limit
    assert lens.idle(m) == LEND - limit and m.total_debt() == limit


def test_borrow_zero_reverts(with_collateral, borrower):
    with ape.reverts("market: zero amount"):
        with_collateral.borrow(0, borrower, sender=borrower)


def test_borrow_without_collateral_reverts(supplied, other):
    with ape.reverts("market: unhealthy after action"):
        supplied.borrow(1, other, sender=other)


def test_borrow_beyond_liquidity_reverts(with_collateral, borrower):
    with ape.reverts("market: insufficient liquidity"):
        with_collateral.borrow(LEND + 1, borrower, sender=borrower)


def test_borrow_stale_reverts(with_collateral, borrower, chain):
    m = with_collateral
    stale_after = m.risk_params().stale_after
    chain.pending_timestamp += stale_after + 1
    with ape.reverts("market: stale risk data"):
        m.borrow(10**6, borrower, sender=borrower)


def test_borrow_at_stale_limit_still_works(with_collateral, borrower, chain, post):
    m = with_collateral
    at = chain.pending_timestamp
    post(m.ASSET_ID(), observed_at=at)
    chain.pending_timestamp = at + m.risk_params().stale_after
    m.borrow(10**6, borrower, sender=borrower)


def test_borrow_when_paused_reverts(with_collateral, borrower, admin):
    with_collateral.pause(sender=admin)
    with ape.reverts("market: paused"):
        with_collateral.borrow(10**6, borrower, sender=borrower)
