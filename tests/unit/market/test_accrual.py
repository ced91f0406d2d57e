"""Interest accrues on every call and rounds up (risk_model.interest): small or low-rate debt of a
6-decimal token keeps accruing however often anyone pokes (audit finding 7: it rounded to zero)."""

import pytest
from market_fixtures import LOAN_DECIMALS

from oracle import model

USDC = 10**LOAN_DECIMALS
FLAT = model.RateParams(base=5 * model.WAD // 100, slope1=0, slope2=0, kink=90 * model.WAD // 100)  # 5% APR


@pytest.fixture
def small(create_market, loan_token, project, admin, post, lender, borrower, fund):
    coll = admin.deploy(project.MockERC20, "Wrapped Ether", "WETH", 18)
    m = create_market(loan_token, coll, rates=FLAT, name="flat", symbol="FLAT")
    post(m.ASSET_ID())
    fund(loan_token, lender, 1_000 * USDC, m)
    m.deposit(1_000 * USDC, lender, sender=lender)
    fund(coll, borrower, 10**18, m)
    m.supply_collateral(10**18, borrower, sender=borrower)
    m.borrow(10 * USDC, borrower, sender=borrower)  # 10 USDC at 5%: 0.19 raw units per 12 s
    return m


def test_frequent_pokes_do_not_round_interest_away(small, other, chain):
    m = small
    start, t0 = m.total_debt(), m.last_update()
    for _ in range(30):
        chain.pending_timestamp += 12
        m.poke(sender=other)
    elapsed = m.last_update() - t0
    true_interest = start * FLAT.base * elapsed // (model.YEAR * model.WAD)  # ~5.7 raw units
    grown = m.total_debt() - start
    assert grown >= true_interest  # never less than the real interest (it was 0 before)
    assert grown <= true_interest + 30  # and at most one raw unit per accrual above it
    assert grown == 30  # each accrual of 0.19 raw units rounded up to 1


def test_accrual_over_a_year_matches_the_mirror(small, other, chain, borrower):
    m = small
    start, t0 = m.total_debt(), m.last_update()
    chain.pending_timestamp = t0 + model.YEAR
    m.poke(sender=other)
    rate = model.borrow_rate(model.utilisation(start, 990 * USDC), FLAT.base, FLAT.slope1, FLAT.slope2, FLAT.kink)
    assert m.total_debt() == model.accrue(start, rate, model.YEAR)
