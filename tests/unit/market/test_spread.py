"""Disagreement is risk: the spread of the oracle signers' prices adds to H_init of new risk, and beyond
the market's `max_spread` it stops new risk like stale data does (repay, deposits and liquidation go on)."""

import ape
from market_fixtures import COLL, DEPTH, PRICE, RISK, SIGMA

from oracle import model

USDC = 10**6


HIGH = 3 * SIGMA  # H_init above its floor, so that the margin shows


def _post_spread(post, m, ppm, sigma=SIGMA):
    """Three signers: the oracle price is the median, the other two `ppm` below and above."""
    d = PRICE * ppm // 10**6
    own = {0: (PRICE - d, sigma, DEPTH), 1: (PRICE, sigma, DEPTH), 2: (PRICE + d, sigma, DEPTH)}
    post(m.ASSET_ID(), own=own)


def test_spread_adds_to_h_init(lens, with_collateral, borrower, post, risk_oracle):
    m = with_collateral
    post(m.ASSET_ID(), sigma=HIGH)
    h0 = lens.h_init_of(m, borrower)
    assert h0 > RISK.h_min
    _post_spread(post, m, 10_000, HIGH)  # 1% each way: a 2% spread
    spread = risk_oracle.metrics(m.ASSET_ID())[4]
    assert 2 * 10**16 <= spread <= 2 * 10**16 + model.SPREAD_UNIT
    value = model.collateral_value(COLL, PRICE)
    assert lens.h_init_of(m, borrower) == model.h_init(RISK, HIGH, lens.risk_rate(m), value, DEPTH, spread)
    assert lens.h_init_of(m, borrower) > h0
    # maintenance is not judged on the spread
    assert lens.h_maint_of(m, borrower) == model.h_maint(RISK, lens.maint_base(m), value, DEPTH)


def test_spread_at_max_allows_new_risk_and_beyond_stops_it(lens, borrowed, borrower, post, risk_oracle):
    m = borrowed
    assert RISK.max_spread == 2 * 10**16
    _post_spread(post, m, 9_999)  # just under 2%
    assert risk_oracle.metrics(m.ASSET_ID())[4] <= RISK.max_spread
    m.borrow(USDC, borrower, sender=borrower)
    _post_spread(post, m, 10_100)  # 2.02%
    assert risk_oracle.metrics(m.ASSET_ID())[4] > RISK.max_spread
    with ape.reverts("market: price spread too wide"):
        m.borrow(USDC, borrower, sender=borrower)
    with ape.reverts("market: price spread too wide"):
        m.withdraw_collateral(10**15, borrower, sender=borrower)
    assert lens.max_borrowable(m, borrower) == 0
    m.repay(USDC, borrower, sender=borrower)  # risk-reducing actions go on
