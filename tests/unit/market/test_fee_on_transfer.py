"""Fee-on-transfer tokens: the market credits only what arrived (balance delta), never the amount sent."""

import ape
import pytest
from market_fixtures import COLL, LEND


@pytest.fixture
def fee_loan(project, admin):
    return admin.deploy(project.MockFeeOnTransferERC20, "Fee USD", "fUSD", 6)


@pytest.fixture
def fee_coll(project, admin):
    return admin.deploy(project.MockFeeOnTransferERC20, "Fee ETH", "fETH", 18)


@pytest.fixture
def fee_market(create_market, fee_loan, fee_coll, post):
    m = create_market(fee_loan, fee_coll, name="fee", symbol="fee")
    post(m.ASSET_ID())
    return m


def test_supply_collateral_credits_net(fee_market, fee_coll, borrower, fund):
    fund(fee_coll, borrower, COLL, fee_market)
    tx = fee_market.supply_collateral(COLL, borrower, sender=borrower)
    net = COLL - COLL * fee_coll.fee_bps() // 10_000
    assert tx.decode_logs(fee_market.CollateralSupplied)[0].amount == net
    assert fee_market.position(borrower)[0] == net == fee_coll.balanceOf(fee_market)


def test_deposit_mints_for_net(fee_market, fee_loan, lender, fund):
    fund(fee_loan, lender, LEND, fee_market)
    tx = fee_market.deposit(LEND, lender, sender=lender)
    net = LEND - LEND * fee_loan.fee_bps() // 10_000
    ev = tx.decode_logs(fee_market.Deposit)[0]
    assert ev.assets == net and ev.shares == net * 10**6
    assert fee_market.totalAssets() == net == fee_loan.balanceOf(fee_market)


def test_mint_with_fee_token_reverts(fee_market, fee_loan, lender, fund):
    fund(fee_loan, lender, LEND, fee_market)
    with ape.reverts("market: received less than sent"):
        fee_market.mint(10**12, lender, sender=lender)


def test_repay_credits_net(lens, fee_market, fee_loan, fee_coll, lender, borrower, fund):
    fund(fee_loan, lender, LEND, fee_market)
    fee_market.deposit(LEND, lender, sender=lender)
    fund(fee_coll, borrower, COLL, fee_market)
    fee_market.supply_collateral(COLL, borrower, sender=borrower)
    fee_market.borrow(1_000 * 10**6, borrower, sender=borrower)
    fee_loan.approve(fee_market, 2**256 - 1, sender=borrower)
    idle = lens.idle(fee_market)
    tx = fee_market.repay(500 * 10**6, borrower, sender=borrower)
    net = 500 * 10**6 * 99 // 100
    assert tx.decode_logs(fee_market.Repaid)[0].assets == net
    assert lens.idle(fee_market) == idle + net == fee_loan.balanceOf(fee_market)
    assert fee_market.position(borrower)[1] >= 1_000 * 10**6 - net
