"""The read-only views: position, health_factor, is_liquidatable, h_init_of, h_maint_of, required_ratio,
max_borrowable, borrow_rate, utilisation, num_borrowers, positions, and the ERC-4626 conversions."""

from market_fixtures import COLL, DEPTH, LEND, LOAN_DECIMALS, PRICE, RATES, RISK, SIGMA, WAD

from oracle import model

DEBT = 10_000 * 10**LOAN_DECIMALS


def test_health_views_match_the_mirror(borrowed, borrower, other):
    m = borrowed
    value = model.collateral_value(COLL, PRICE)
    rate = m.borrow_rate()
    assert rate == model.market_rate(DEBT, LEND - DEBT, RATES)
    assert m.utilisation() == model.utilisation(DEBT, LEND - DEBT)
    h_init = model.h_init(RISK, SIGMA, rate, value, DEPTH)
    h_maint = model.h_maint(RISK, m.maint_base(), value, DEPTH)
    assert m.h_init_of(borrower) == h_init
    assert m.h_maint_of(borrower) == h_maint
    assert m.required_ratio(COLL, True) == model.collateral_ratio(h_init)
    assert m.required_ratio(COLL, False) == model.collateral_ratio(h_maint)
    assert m.health_factor(borrower) == model.health_factor(DEBT, value, h_maint)
    assert m.health_factor(other) == 2**256 - 1
    assert not m.is_liquidatable(borrower) and not m.is_liquidatable(other)
    assert m.max_borrowable(borrower) == value * (WAD - h_init) // WAD - DEBT
    assert m.max_borrowable(other) == 0


def test_interest_accrues_per_second(borrowed, chain):
    m = borrowed
    start, rate = m.total_debt(), m.borrow_rate()
    t0 = m.last_update()
    chain.pending_timestamp = t0 + 365 * 86_400
    chain.mine()
    assert m.total_debt() == model.accrue(start, rate, 365 * 86_400)
    assert m.totalAssets() == m.idle() + m.total_debt()


def test_positions_page(borrowed, borrower, other, coll_token, fund):
    m = borrowed
    assert m.num_borrowers() == 1
    page = m.positions(0, 10)
    assert len(page) == 1
    assert (page[0].account, page[0].collateral, page[0].debt, page[0].liquidatable) == (
        borrower.address,
        COLL,
        DEBT,
        False,
    )
    assert len(m.positions(1, 10)) == 0
    assert len(m.positions(0, 0)) == 0
    fund(coll_token, other, COLL, m)
    m.supply_collateral(COLL, other, sender=other)
    assert m.num_borrowers() == 2
    assert [p.account for p in m.positions(0, 10)] == [borrower.address, other.address]
    assert [p.account for p in m.positions(1, 1)] == [other.address]


def test_erc4626_conversions(supplied):
    m = supplied
    assets = 12_345 * 10**LOAN_DECIMALS
    assert m.convertToShares(assets) == m.previewDeposit(assets)
    assert m.previewWithdraw(assets) >= m.convertToShares(assets)
    shares = m.convertToShares(assets)
    assert m.convertToAssets(shares) == m.previewRedeem(shares) <= assets
    assert m.previewMint(shares) >= m.convertToAssets(shares)
    assert m.asset() == m.LOAN()
