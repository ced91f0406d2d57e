"""Pure helpers for market tests: the largest borrow the contract must accept, from oracle.model."""

from market_fixtures import DEPTH, PRICE, RATES, RISK

from oracle import model


def max_first_borrow(collateral, idle, sigma, price=PRICE, depth=DEPTH, p=RISK, r=RATES):
    """Largest first borrow (no prior debt) healthy under H_init computed with the post-borrow rate."""
    value = model.collateral_value(collateral, price)

    def ok(amount):
        rate = model.market_rate(amount, idle - amount, r)
        return model.is_healthy(amount, value, model.h_init(p, sigma, rate, value, depth))

    lo, hi = 0, min(value, idle)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo
