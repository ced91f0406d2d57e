# pragma version ~=0.4.3
"""
@title Risk model harness (tests only)
@notice Exposes the pure functions of `modules/risk_model.vy` so that the test suite can compare
        them with `oracle/model.py` on random inputs. Never deployed outside tests.
"""

from ..modules import risk_model


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
