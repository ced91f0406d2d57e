"""Market.liquidate: judged by the ramped H_maint; partial with bonus; bad debt written off."""

import ape
from market_fixtures import COLL, LOAN_DECIMALS, PRICE, WAD

from oracle import model

DEBT = 10_000 * 10**LOAN_DECIMALS


def test_liquidate_healthy_reverts(lens, borrowed, borrower, liquidator):
    assert not lens.is_liquidatable(borrowed, borrower)
    with ape.reverts("market: position healthy"):
        borrowed.liquidate(borrower, DEBT, sender=liquidator)


def test_liquidate_partial_pays_bonus(lens, borrowed, borrower, liquidator, loan_token, coll_token, fund, post):
    m = borrowed
    crash = PRICE * 52 // 100  # collateral value 10,400 vs debt 10,000: below 1 - h_min
    post(m.ASSET_ID(), price=crash)
    assert lens.is_liquidatable(m, borrower)
    assert lens.health_factor(m, borrower) < WAD
    fund(loan_token, liquidator, DEBT, m)
    before = m.position(borrower)[1]  # DEBT and the interest of the hours the crash took
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
    assert before - repay <= debt <= before - repay + 1
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
    # what the collateral pays for, rounded up
    assert liq.repaid == -(-model.collateral_value(COLL, crash) * WAD // (WAD + bonus))
    assert bad.borrower == borrower.address
    assert m.position(borrower) == (0, 0)
    assert m.total_debt() == 0 and m.total_debt_shares() == 0
    # lenders absorb the loss: totalAssets falls by the bad debt
    assert assets_before - m.totalAssets() == bad.assets
    assert liq.repaid + bad.assets >= DEBT
    assert loan_token.balanceOf(m) == m.idle()


def test_liquidate_works_when_paused_and_stale(
    lens, borrowed, borrower, liquidator, loan_token, admin, fund, chain
):
    m = borrowed
    m.pause(sender=admin)
    # stale data stresses sigma, which tightens H_maint over time at the ramp's pace
    chain.pending_timestamp += 2 * 86_400
    chain.mine()
    assert lens.is_liquidatable(m, borrower)
    fund(loan_token, liquidator, DEBT, m)
    m.liquidate(borrower, DEBT // 10, sender=liquidator)
