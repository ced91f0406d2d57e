"""Market.withdraw: lender takes out an exact amount of the loan token."""

import ape
from market_fixtures import LEND


def test_withdraw_burns_shares(supplied, loan_token, lender, other):
    amount = LEND // 4
    shares = supplied.previewWithdraw(amount)
    tx = supplied.withdraw(amount, other, lender, sender=lender)
    ev = tx.decode_logs(supplied.Withdraw)[0]
    assert (ev.sender, ev.receiver, ev.owner, ev.assets, ev.shares) == (
        lender.address,
        other.address,
        lender.address,
        amount,
        shares,
    )
    assert loan_token.balanceOf(other) == amount
    assert supplied.idle() == LEND - amount


def test_withdraw_zero_is_a_no_op(supplied, lender):
    shares = supplied.balanceOf(lender)
    tx = supplied.withdraw(0, lender, lender, sender=lender)
    assert tx.return_value == 0 and supplied.balanceOf(lender) == shares


def test_withdraw_beyond_idle_reverts(borrowed, lender):
    idle = borrowed.idle()
    with ape.reverts("market: insufficient liquidity"):
        borrowed.withdraw(idle + 1, lender, lender, sender=lender)
    assert borrowed.maxWithdraw(lender) == idle


def test_withdraw_more_than_owned_reverts(supplied, lender, other, loan_token, fund):
    fund(loan_token, other, 10**6, supplied)
    supplied.deposit(10**6, other, sender=other)
    with ape.reverts("market: insufficient shares"):
        supplied.withdraw(2 * 10**6, other, other, sender=other)


def test_withdraw_for_owner_needs_allowance(supplied, lender, other):
    with ape.reverts("market: insufficient allowance"):
        supplied.withdraw(10**6, other, lender, sender=other)
    supplied.approve(other, supplied.previewWithdraw(10**6), sender=lender)
    supplied.withdraw(10**6, other, lender, sender=other)
    assert supplied.allowance(lender, other) == 0


def test_withdraw_when_paused_reverts(supplied, lender, admin):
    supplied.pause(sender=admin)
    with ape.reverts("market: paused"):
        supplied.withdraw(10**6, lender, lender, sender=lender)
    assert supplied.maxWithdraw(lender) == 0
