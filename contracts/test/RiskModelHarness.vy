# pragma version ~=0.4.3
"""
@title Risk model harness (tests only)
@notice Exposes the pure functions of `modules/risk_model.vy`, `report_math.vy` and `market_math.vy`
        so that the test suite can compare
        them with `oracle/model.py` on random inputs. Never deployed outside tests.
"""

from ..modules import risk_model
from ..modules import report_math
from ..modules import market_math


@external
@pure
def vol_coefficient(z: uint256, horizon: uint256) -> uint256:
    """
    @notice See risk_model.vol_coefficient.
    """
    return risk_model.vol_coefficient(z, horizon)


@external
@pure
def base_haircut(sigma: uint256, vol_coef: uint256, rate: uint256, horizon: uint256, bonus: uint256) -> uint256:
    """
    @notice See risk_model.base_haircut.
    """
    return risk_model.base_haircut(sigma, vol_coef, rate, horizon, bonus)


@external
@pure
def liquidity_term(coll_value: uint256, depth: uint256, slip_coef: uint256, h_max: uint256) -> uint256:
    """
    @notice See risk_model.liquidity_term.
    """
    return risk_model.liquidity_term(coll_value, depth, slip_coef, h_max)


@external
@pure
def clamp(h: uint256, h_min: uint256, h_max: uint256) -> uint256:
    """
    @notice See risk_model.clamp.
    """
    return risk_model.clamp(h, h_min, h_max)


@external
@pure
def ramp(current: uint256, target: uint256, elapsed: uint256, ramp_per_hour: uint256) -> uint256:
    """
    @notice See risk_model.ramp.
    """
    return risk_model.ramp(current, target, elapsed, ramp_per_hour)


@external
@pure
def effective_sigma(sigma: uint256, observed_at: uint256, at_time: uint256, stale_after: uint256, stale_sigma: uint256) -> uint256:
    """
    @notice See risk_model.effective_sigma.
    """
    return risk_model.effective_sigma(sigma, observed_at, at_time, stale_after, stale_sigma)


@external
@pure
def collateral_ratio(h: uint256) -> uint256:
    """
    @notice See risk_model.collateral_ratio.
    """
    return risk_model.collateral_ratio(h)


@external
@pure
def borrow_rate(utilisation: uint256, base: uint256, slope1: uint256, slope2: uint256, kink: uint256) -> uint256:
    """
    @notice See risk_model.borrow_rate.
    """
    return risk_model.borrow_rate(utilisation, base, slope1, slope2, kink)


@external
@pure
def ramp_poke(
    base: uint256, base_gap: uint256, depth: uint256, depth_gap: uint256, elapsed: uint256, target: uint256,
    posted_depth: uint256, ramp_per_hour: uint256, h_max: uint256,
) -> (uint256, uint256, uint256, uint256):
    """
    @notice See risk_model.ramp_poke.
    """
    return risk_model.ramp_poke(base, base_gap, depth, depth_gap, elapsed, target, posted_depth, ramp_per_hour, h_max)


@external
@pure
def ema_utilisation(u_ema: uint256, u_prev: uint256, dt: uint256) -> uint256:
    """
    @notice See risk_model.ema_utilisation.
    """
    return risk_model.ema_utilisation(u_ema, u_prev, dt)


@external
@pure
def interest(total_debt: uint256, rate: uint256, dt: uint256) -> uint256:
    """
    @notice See risk_model.interest.
    """
    return risk_model.interest(total_debt, rate, dt)


@external
@pure
def price_of(bits: uint256) -> uint256:
    """
    @notice See report_math.price_of.
    """
    return report_math.price_of(bits)


@external
@pure
def depth_of(bits: uint256) -> uint256:
    """
    @notice See report_math.depth_of.
    """
    return report_math.depth_of(bits)


@external
@pure
def spread_of(lo: uint256, hi: uint256, mid: uint256) -> uint256:
    """
    @notice See report_math.spread_of.
    """
    return report_math.spread_of(lo, hi, mid)


@external
@pure
def price_too_far(old: uint256, new: uint256, rate_per_hour: uint256, dt: uint256) -> bool:
    """
    @notice See report_math.price_too_far.
    """
    return report_math.price_too_far(old, new, rate_per_hour, dt)


@external
@pure
def value(collateral: uint256, price: uint256) -> uint256:
    """
    @notice See market_math.value.
    """
    return market_math.value(collateral, price)
