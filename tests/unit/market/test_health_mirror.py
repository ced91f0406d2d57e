"""Property: the market's health views equal oracle.model's mirror to the wei, for random risk data and
positions (h_init_of, h_maint_of, required_ratio, health_factor, is_liquidatable, max_borrowable)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from market_fixtures import DEPTH, LEND, RATES, RISK, SIGMA, WAD

from oracle import model

EXAMPLES = 15


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    # sigma may not fall and depth may not rise fast through the oracle: draw on the allowed side of
    # the fixture's post
    sigma=st.integers(SIGMA, 20 * WAD).map(lambda s: s // model.SIGMA_UNIT * model.SIGMA_UNIT),
    price=st.integers(10**24, 10**32).map(model.round_price),  # 1e-6 .. 100 USDC per WETH wei (6 / 18 decimals)
    depth=st.integers(10**6, DEPTH).map(model.round_depth),
    collateral=st.integers(10**12, 10**22),
    debt_frac=st.integers(1, 99),
)
def test_views_match_mirror(
    lens, with_collateral,
    borrower,
    keeper,
    post,
    chain,
    coll_token,
    fund,
    sigma,
    price,
    depth,
    collateral,
    debt_frac,
):
    m = with_collateral
    snap = chain.snapshot()
    try:
        post(m.ASSET_ID(), price=price, sigma=sigma, depth=depth)
        m.poke(sender=keeper)
        coll = m.position(borrower)[0]
        if collateral > coll:
            fund(coll_token, borrower, collateral - coll, m)
            m.supply_collateral(collateral - coll, borrower, sender=borrower)
        coll = m.position(borrower)[0]
        value = model.collateral_value(coll, price)
        limit = lens.max_borrowable(m, borrower)
        rate = lens.borrow_rate(m)
        h_init = model.h_init(RISK, sigma, rate, value, depth)
        assert lens.h_init_of(m, borrower) == h_init
        assert limit == min(value * (WAD - h_init) // WAD, LEND)
        amount = limit * debt_frac // 100
        if amount > 0:
            m.borrow(amount, borrower, sender=borrower)
        coll, debt = m.position(borrower)
        rate = lens.borrow_rate(m)
        assert rate == model.market_rate(m.total_debt(), m.idle(), RATES)
        # the maintenance liquidity term uses the ramped depth (test_ramp checks its pace)
        assert lens.maint_depth(m) >= depth
        h_maint = model.h_maint(RISK, lens.maint_base(m), value, lens.maint_depth(m))
        assert lens.h_maint_of(m, borrower) == h_maint
        assert lens.required_ratio(m, coll, False) == model.collateral_ratio(h_maint)
        assert lens.required_ratio(m, coll, True) == model.collateral_ratio(
            model.h_init(RISK, sigma, rate, value, depth)
        )
        assert lens.health_factor(m, borrower) == model.health_factor(debt, value, h_maint)
        assert lens.is_liquidatable(m, borrower) == (not model.is_healthy(debt, value, h_maint))
        # a borrow accepted under H_init is never liquidatable in the same block
        assert not lens.is_liquidatable(m, borrower)
    finally:
        chain.restore(snap)
