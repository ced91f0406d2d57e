"""Market.mint: lender mints an exact number of shares."""

import ape
from market_fixtures import LEND


def test_mint_takes_preview_assets(market, loan_token, lender, fund):
    fund(loan_token, lender, LEND, market)
    shares = LEND * 10**6
    assets = market.previewMint(shares)
    tx = market.mint(shares, lender, sender=lender)
    ev = tx.decode_logs(market.Deposit)[0]
    assert (ev.assets, ev.shares) == (assets, shares)
    assert market.balanceOf(lender) == shares
    assert loan_token.balanceOf(market) == assets == LEND


def test_mint_zero_is_a_no_op(market, lender):
    tx = market.mint(0, lender, sender=lender)
    assert tx.return_value == 0 and market.balanceOf(lender) == 0


def test_mint_when_paused_reverts(market, lender, admin):
    market.pause(sender=admin)
    with ape.reverts("market: paused"):
        market.mint(10**6, lender, sender=lender)
    assert market.maxMint(lender) == 0
