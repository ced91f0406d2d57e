"""Market.withdraw_collateral: gated by H_init and by stale data (only with debt)."""

import ape
from market_fixtures import COLL, PRICE, WAD

from oracle import model


def test_withdraw_collateral_without_debt(with_collateral, coll_token, borrower, other):
    tx = with_collateral.withdraw_collateral(COLL, other, sender=borrower)
    ev = tx.decode_logs(with_collateral.CollateralWithdrawn)[0]
    assert (ev.account, ev.receiver, ev.amount) == (borrower.address, other.address, COLL)
    assert coll_token.balanceOf(other) == COLL
    assert with_collateral.position(borrower) == (0, 0)


def test_withdraw_collateral_more_than_held_reverts(with_collateral, borrower):
    with ape.reverts("market: insufficient collateral"):
        with_collateral.withdraw_collateral(COLL + 1, borrower, sender=borrower)


def test_withdraw_collateral_zero_reverts(with_collateral, borrower):
    with ape.reverts("market: zero amount"):
        with_collateral.withdraw_collateral(0, borrower, sender=borrower)


def test_withdraw_collateral_keeps_h_init(lens, borrowed, borrower, chain):
    # every block at the head's time: the debt read here is the debt the withdrawal is judged on (interest
    # rounds up, so one second between the read and the withdrawal made this fail on a loaded machine)
    chain.provider.make_request("anvil_setBlockTimestampInterval", [0])
    chain.provider.make_request("evm_setNextBlockTimestamp", [chain.blocks.head.timestamp])
    chain.mine()
    try:
        _withdraw_to_the_h_init_limit(lens, borrowed, borrower, chain)
    finally:
        chain.provider.make_request("anvil_removeBlockTimestampInterval", [])


def _withdraw_to_the_h_init_limit(lens, m, borrower, chain):
    coll, debt = m.position(borrower)
    h = lens.h_init_of(m, borrower)
    p = m.risk_params()
    assert h == p.h_min + p.init_gap  # calm market: H_init at its floor, init_gap above h_min
    # smallest collateral still healthy under H_init, from the mirror
    min_value = -(-debt * WAD // (WAD - h))
    keep = -(-min_value * model.PRICE_SCALE // PRICE)
    assert model.is_healthy(debt, model.collateral_value(keep, PRICE), h)
    assert not model.is_healthy(debt, model.collateral_value(keep - 1, PRICE), h)
    snap = chain.snapshot()
    with ape.reverts("market: unhealthy after action"):
        m.withdraw_collateral(coll - keep + 1, borrower, sender=borrower)
    chain.restore(snap)
    m.withdraw_collateral(coll - keep, borrower, sender=borrower)
    assert m.position(borrower)[0] == keep
    assert not lens.is_liquidatable(m, borrower)
    assert lens.health_factor(m, borrower) >= WAD


def test_withdraw_collateral_stale_with_debt_reverts(borrowed, borrower, chain):
    chain.pending_timestamp += borrowed.risk_params().stale_after + 1
    with ape.reverts("market: stale risk data"):
        borrowed.withdraw_collateral(1, borrower, sender=borrower)


def test_withdraw_collateral_when_paused_reverts(with_collateral, borrower, admin):
    with_collateral.pause(sender=admin)
    with ape.reverts("market: paused"):
        with_collateral.withdraw_collateral(1, borrower, sender=borrower)
