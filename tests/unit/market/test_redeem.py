"""Market.redeem: lender burns shares for the loan token."""

import ape
from market_fixtures import LEND


def test_redeem_all_returns_deposit(supplied, loan_token, lender):
    shares = supplied.balanceOf(lender)
    tx = supplied.redeem(shares, lender, lender, sender=lender)
    ev = tx.decode_logs(supplied.Withdraw)[0]
    # rounds down: the virtual share keeps at most 1 wei
    assert LEND - 1 <= ev.assets <= LEND
    assert loan_token.balanceOf(lender) == ev.assets
    assert supplied.totalSupply() == 0


def test_redeem_zero_is_a_no_op(supplied, lender):
    shares = supplied.balanceOf(lender)
    tx = supplied.redeem(0, lender, lender, sender=lender)
    assert tx.return_value == 0 and supplied.balanceOf(lender) == shares


def test_redeem_dust_reverts(supplied, lender):
    with ape.reverts("market: zero amount"):
        supplied.redeem(1, lender, lender, sender=lender)


def test_redeem_beyond_idle_reverts(borrowed, lender):
    shares = borrowed.balanceOf(lender)
    with ape.reverts("market: insufficient liquidity"):
        borrowed.redeem(shares, lender, lender, sender=lender)
    assert borrowed.maxRedeem(lender) < shares


def test_redeem_when_paused_reverts(supplied, lender, admin):
    supplied.pause(sender=admin)
    with ape.reverts("market: paused"):
        supplied.redeem(10**6, lender, lender, sender=lender)
    assert supplied.maxRedeem(lender) == 0
