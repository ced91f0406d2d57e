"""Market.liquidate: judged by the ramped H_maint; partial with bonus; bad debt written off."""

import ape
from market_fixtures import COLL, LOAN_DECIMALS, PRICE, WAD

from oracle import model

DEBT = 10_000 * 10**LOAN_DECIMALS


def test_liquidate_healthy_reverts(borrowed, borrower, liquidator):
    assert not borrowed.is_liquidatable(borrower)
    with ape.reverts("market: position healthy"):
        borrowed.liquidate(borrower, DEBT, sender=liquidator)


def test_liquidate_partial_pays_bonus(borrowed, borrower, liquidator, loan_token, coll_token, fund, post):
    m = borrowed
    crash = PRICE * 52 // 100  # collateral value 10,400 vs debt 10,000: below 1 - h_min
    post(m.ASSET_ID(), price=crash)
    assert m.is_liquidatable(borrower)
    assert m.health_factor(borrower) < WAD
    fund(loan_token, liquidator, DEBT, m)
    repay = 1_000 * 10**LOAN_DECIMALS
    tx = m.liquidate(borrower, repay, sender=liquidator)
    ev = tx.decode_logs(m.Liquidated)[0]
    bonus = m.risk_params().bonus
    expected = model.seized_collateral(repay, crash, bonus, COLL)
    assert (ev.liquidator, ev.borrower, ev.repaid, ev.seized) == (
        liquidator.address,
        borrower.address,
        repay,
        expected,
    )
    assert coll_token.balanceOf(liquidator) == expected
    coll, debt = m.position(borrower)
    assert coll == COLL - expected
    assert DEBT - repay <= debt <= DEBT - repay + 1
    assert not tx.decode_logs(m.BadDebtRealized)


def test_liquidate_zero_reverts(borrowed, borrower, liquidator):
    with ape.reverts("market: zero amount"):
        borrowed.liquidate(borrower, 0, sender=liquidator)


def test_liquidate_realizes_bad_debt(
    borrowed, borrower, liquidator, lender, loan_token, coll_token, fund, post
):
    m = borrowed
    crash = PRICE // 10  # collateral worth 2,000 against 10,000 of debt
    post(m.ASSET_ID(), price=crash)
    assets_before = m.totalAssets()
    fund(loan_token, liquidator, DEBT, m)
    tx = m.liquidate(borrower, DEBT, sender=liquidator)
    liq = tx.decode_logs(m.Liquidated)[0]
    bad = tx.decode_logs(m.BadDebtRealized)[0]
    assert liq.seized == COLL
    assert coll_token.balanceOf(liquidator) == COLL
    bonus = m.risk_params().bonus
    assert liq.repaid == -(-COLL * crash // (WAD + bonus))  # what the collateral pays for, rounded up
    assert bad.borrower == borrower.address
    assert m.position(borrower) == (0, 0)
    assert m.total_debt() == 0 and m.total_debt_shares() == 0
    # lenders absorb the loss: totalAssets falls by the bad debt
    assert assets_before - m.totalAssets() == bad.assets
    assert liq.repaid + bad.assets >= DEBT
    assert loan_token.balanceOf(m) == m.idle()


def test_liquidate_works_when_paused_and_stale(
    borrowed, borrower, liquidator, loan_token, admin, fund, chain
):
    m = borrowed
    m.pause(sender=admin)
    # stale data stresses sigma, which tightens H_maint over time at the ramp's pace
    chain.pending_timestamp += 2 * 86_400
    chain.mine()
    assert m.is_liquidatable(borrower)
    fund(loan_token, liquidator, DEBT, m)
    m.liquidate(borrower, DEBT // 10, sender=liquidator)
