"""Market.repay: capped at the debt, credits what arrived, works when paused and stale."""

import ape
from market_fixtures import LOAN_DECIMALS

DEBT = 10_000 * 10**LOAN_DECIMALS


def test_repay_partial(borrowed, borrower, loan_token):
    shares = borrowed.debt_shares(borrower)
    tx = borrowed.repay(DEBT // 4, borrower, sender=borrower)
    ev = tx.decode_logs(borrowed.Repaid)[0]
    assert (ev.caller, ev.account, ev.assets) == (borrower.address, borrower.address, DEBT // 4)
    assert borrowed.debt_shares(borrower) == shares - ev.shares
    assert tx.return_value == DEBT // 4


def test_repay_is_capped_at_debt(borrowed, borrower, loan_token, fund, chain):
    chain.pending_timestamp += 86_400
    fund(loan_token, borrower, DEBT, borrowed)
    before = loan_token.balanceOf(borrower)
    tx = borrowed.repay(2**256 - 1, borrower, sender=borrower)
    repaid = tx.decode_logs(borrowed.Repaid)[0].assets
    assert repaid > DEBT  # one day of interest
    assert before - loan_token.balanceOf(borrower) == repaid
    assert borrowed.position(borrower)[1] == 0
    assert borrowed.debt_shares(borrower) == 0
    assert borrowed.total_debt_shares() == 0


def test_repay_on_behalf(borrowed, borrower, other, loan_token, fund):
    fund(loan_token, other, DEBT * 2, borrowed)
    tx = borrowed.repay(2**256 - 1, borrower, sender=other)  # everything, interest included
    ev = tx.decode_logs(borrowed.Repaid)[0]
    assert (ev.caller, ev.account) == (other.address, borrower.address)
    assert borrowed.position(borrower)[1] == 0


def test_repay_without_debt_reverts(with_collateral, borrower):
    with ape.reverts("market: no debt"):
        with_collateral.repay(1, borrower, sender=borrower)


def test_repay_zero_reverts(borrowed, borrower):
    with ape.reverts("market: zero amount"):
        borrowed.repay(0, borrower, sender=borrower)


def test_repay_works_when_paused_and_stale(borrowed, borrower, admin, chain):
    borrowed.pause(sender=admin)
    chain.pending_timestamp += 3 * 86_400
    borrowed.repay(DEBT // 2, borrower, sender=borrower)
    assert borrowed.position(borrower)[1] > 0
