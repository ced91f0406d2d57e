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
    price=st.integers(10**6, 10**14),
    depth=st.integers(10**6, DEPTH),
    collateral=st.integers(10**12, 10**22),
    debt_frac=st.integers(1, 99),
)
def test_views_match_mirror(
    with_collateral,
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
        limit = m.max_borrowable(borrower)
        rate = m.borrow_rate()
        h_init = model.h_init(RISK, sigma, rate, value, depth)
        assert m.h_init_of(borrower) == h_init
        assert limit == min(value * (WAD - h_init) // WAD, LEND)
        amount = limit * debt_frac // 100
        if amount > 0:
            m.borrow(amount, borrower, sender=borrower)
        coll, debt = m.position(borrower)
        rate = m.borrow_rate()
        assert rate == model.market_rate(m.total_debt(), m.idle(), RATES)
        # the maintenance liquidity term uses the ramped depth (test_ramp checks its pace)
        assert m.maint_depth() >= depth
        h_maint = model.h_maint(RISK, m.maint_base(), value, m.maint_depth())
        assert m.h_maint_of(borrower) == h_maint
        assert m.required_ratio(coll, False) == model.collateral_ratio(h_maint)
        assert m.required_ratio(coll, True) == model.collateral_ratio(
            model.h_init(RISK, sigma, rate, value, depth)
        )
        assert m.health_factor(borrower) == model.health_factor(debt, value, h_maint)
        assert m.is_liquidatable(borrower) == (not model.is_healthy(debt, value, h_maint))
        # a borrow accepted under H_init is never liquidatable in the same block
        assert not m.is_liquidatable(borrower)
    finally:
        chain.restore(snap)
