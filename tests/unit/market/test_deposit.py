"""Market.deposit: lender supplies the loan token for ERC-4626 shares."""

import ape
from market_fixtures import LEND, LOAN_DECIMALS


def test_deposit_mints_shares_and_logs(market, loan_token, lender, fund):
    fund(loan_token, lender, LEND, market)
    expected = market.previewDeposit(LEND)
    tx = market.deposit(LEND, lender, sender=lender)
    ev = tx.decode_logs(market.Deposit)[0]
    assert (ev.sender, ev.owner, ev.assets, ev.shares) == (lender.address, lender.address, LEND, expected)
    # virtual offset: the first deposit mints assets * 10**6 shares
    assert expected == LEND * 10**6
    assert market.balanceOf(lender) == expected == market.totalSupply()
    assert market.totalAssets() == LEND == market.idle()
    assert loan_token.balanceOf(market) == LEND
    assert market.decimals() == LOAN_DECIMALS + 6


def test_deposit_zero_is_a_no_op(market, lender):
    """ERC-4626: maxDeposit may be 0, and deposit(maxDeposit) must not revert."""
    supply = market.totalSupply()
    tx = market.deposit(0, lender, sender=lender)
    assert tx.return_value == 0 and market.totalSupply() == supply and tx.decode_logs(market.Deposit) == []


def test_deposit_to_zero_address_reverts(market, loan_token, lender, fund):
    fund(loan_token, lender, LEND, market)
    with ape.reverts("market: zero address"):
        market.deposit(LEND, "0x0000000000000000000000000000000000000000", sender=lender)


def test_deposit_when_paused_reverts(market, loan_token, lender, admin, fund):
    fund(loan_token, lender, LEND, market)
    market.pause(sender=admin)
    with ape.reverts("market: paused"):
        market.deposit(LEND, lender, sender=lender)
    assert market.maxDeposit(lender) == 0


def test_deposit_later_gets_fewer_shares_after_interest(borrowed, loan_token, other, fund, chain):
    chain.pending_timestamp += 30 * 86_400
    fund(loan_token, other, LEND, borrowed)
    shares = borrowed.deposit(LEND, other, sender=other).return_value
    assert shares < LEND * 10**6  # the share price grew with accrued interest
    assert shares == borrowed.previewDeposit(LEND)
