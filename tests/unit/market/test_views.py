"""The read-only views: position, health_factor, is_liquidatable, h_init_of, h_maint_of, required_ratio,
max_borrowable, borrow_rate, utilisation, num_borrowers, positions, and the ERC-4626 conversions."""

from market_fixtures import COLL, DEPTH, LOAN_DECIMALS, PRICE, RATES, RISK, SIGMA, WAD

from oracle import model

DEBT = 10_000 * 10**LOAN_DECIMALS


def test_health_views_match_the_mirror(lens, borrowed, borrower, other):
    m = borrowed
    value = model.collateral_value(COLL, PRICE)
    total, idle = m.total_debt(), m.idle()  # interest (rounded up) may have accrued since the borrow
    debt = m.position(borrower)[1]
    assert DEBT <= total <= DEBT + 2 and debt == total
    rate = lens.borrow_rate(m)
    assert rate == model.market_rate(total, idle, RATES) == lens.risk_rate(m)
    assert lens.utilisation(m) == model.utilisation(total, idle)
    h_init = model.h_init(RISK, SIGMA, rate, value, DEPTH)
    h_maint = model.h_maint(RISK, lens.maint_base(m), value, DEPTH)
    assert lens.h_init_of(m, borrower) == h_init
    assert lens.h_maint_of(m, borrower) == h_maint
    assert lens.required_ratio(m, COLL, True) == model.collateral_ratio(h_init)
    assert lens.required_ratio(m, COLL, False) == model.collateral_ratio(h_maint)
    assert lens.health_factor(m, borrower) == model.health_factor(debt, value, h_maint)
    assert lens.health_factor(m, other) == 2**256 - 1
    assert not lens.is_liquidatable(m, borrower) and not lens.is_liquidatable(m, other)
    assert lens.max_borrowable(m, borrower) == value * (WAD - h_init) // WAD - debt
    assert lens.max_borrowable(m, other) == 0


def test_interest_accrues_per_second(lens, borrowed, chain):
    m = borrowed
    start, rate = m.total_debt(), lens.borrow_rate(m)
    t0 = m.last_update()
    chain.pending_timestamp = t0 + 365 * 86_400
    chain.mine()
    assert m.total_debt() == model.accrue(start, rate, 365 * 86_400)
    assert m.totalAssets() == m.idle() + m.total_debt()


def test_positions_page(lens, borrowed, borrower, other, coll_token, fund):
    m = borrowed
    assert m.num_borrowers() == 1
    page = lens.positions(m, 0, 10)
    assert len(page) == 1
    assert (page[0].account, page[0].collateral, page[0].debt, page[0].liquidatable) == (
        borrower.address,
        COLL,
        DEBT,
        False,
    )
    assert len(lens.positions(m, 1, 10)) == 0
    assert len(lens.positions(m, 0, 0)) == 0
    fund(coll_token, other, COLL, m)
    m.supply_collateral(COLL, other, sender=other)
    assert m.num_borrowers() == 2
    assert [p.account for p in lens.positions(m, 0, 10)] == [borrower.address, other.address]
    assert [p.account for p in lens.positions(m, 1, 1)] == [other.address]


def test_erc4626_conversions(supplied):
    m = supplied
    assets = 12_345 * 10**LOAN_DECIMALS
    assert m.convertToShares(assets) == m.previewDeposit(assets)
    assert m.previewWithdraw(assets) >= m.convertToShares(assets)
    shares = m.convertToShares(assets)
    assert m.convertToAssets(shares) == m.previewRedeem(shares) <= assets
    assert m.previewMint(shares) >= m.convertToAssets(shares)
    assert m.asset() == m.LOAN()
