# pragma version ~=0.4.3
"""
@title Ballast risk model (pure math)
@notice One formula, two implementations: this module and `oracle/model.py`
        must agree to the wei. Every quantity is an integer; ratios,
        volatilities and rates are WAD (1e18 = 1.0 = 100%).

        haircut H = clamp(m_vol + m_liq + m_rate + bonus, h_min, h_max)
          m_vol  = sigma * vol_coef               vol_coef = z * sqrt(horizon / YEAR)
          m_liq  = value * slip_coef / depth           slip_coef = 0.02 * k
          m_rate = rate * horizon / YEAR
        A position is healthy while debt <= value * (1 - H).

        The maintenance haircut of existing positions does not jump: its
        position-independent part (m_vol + m_rate + bonus) moves towards its
        target at most `ramp_per_hour` per hour when it tightens, and only
        towards the target it had seen at the previous poke: a rise first
        seen by a poke starts its clock at that poke, so no caller can make
        the ramp spend time that passed before the rise was known (`ramp_poke`).
        When it loosens the new value applies at once (the oracle already lets
        sigma fall only slowly, and the rate term follows a utilisation that
        falls slowly: `ema_utilisation`). The depth of the liquidity term
        ramps the same way in the other direction.
@custom:security Every term rounds up (towards a larger haircut), so the
        protocol never judges a position healthier than the real numbers say.
        `coll_value * slip_coef` and `sigma * vol_coef` cannot overflow for
        values below 2**128 and coefficients below 2**64 * WAD.
"""

# @dev Fixed-point one.
WAD: constant(uint256) = 10**18
# @dev Seconds in the year used to annualise volatility and rates.
YEAR: constant(uint256) = 365 * 86_400
# @dev Seconds in an hour (ramp rates are per hour).
HOUR: constant(uint256) = 3_600
# @dev The depth of H_maint's liquidity term falls at most 20% of itself per hour.
MAINT_DEPTH_FALL_PER_HOUR: constant(uint256) = 20 * 10**16
# @dev Grid of the stored gaps: 1e9 wei of WAD; the depth gap is a fraction of the depth in 1e-9.
PPB: constant(uint256) = 10**9
# @dev Time constant of the utilisation average that the rate term uses (seconds).
UTIL_EMA_SECONDS: constant(uint256) = 3_600


@internal
@pure
def _ceil_div(a: uint256, b: uint256) -> uint256:
    """
    @dev Division rounding up; b must be non-zero.
    """
    return (a + b - 1) // b


@internal
@pure
def vol_coefficient(z: uint256, horizon: uint256) -> uint256:
    """
    @notice z * sqrt(horizon / YEAR), WAD, computed once when parameters change.
    @dev isqrt rounds down; the final product rounds up.
    @param z Confidence multiplier, WAD.
    @param horizon Liquidation horizon, seconds.
    """
    root: uint256 = isqrt(horizon * WAD * WAD // YEAR)
    return self._ceil_div(z * root, WAD)


@internal
@pure
def base_haircut(sigma: uint256, vol_coef: uint256, rate: uint256, horizon: uint256, bonus: uint256) -> uint256:
    """
    @notice The position-independent part: m_vol + m_rate + bonus (WAD, not clamped).
    @param sigma Annualised volatility, WAD.
    @param vol_coef z * sqrt(h / YEAR), WAD.
    @param rate Annual borrow rate, WAD.
    @param horizon Liquidation horizon, seconds.
    @param bonus Liquidation bonus, WAD.
    """
    m_vol: uint256 = self._ceil_div(sigma * vol_coef, WAD)
    m_rate: uint256 = self._ceil_div(rate * horizon, YEAR)
    return m_vol + m_rate + bonus


@internal
@pure
def liquidity_term(coll_value: uint256, depth: uint256, slip_coef: uint256, h_max: uint256) -> uint256:
    """
    @notice m_liq = coll_value * slip_coef / depth (WAD); no depth means the cap.
    @param coll_value Collateral value in loan-token units.
    @param depth Loan-token value sellable within 2% impact.
    @param slip_coef 0.02 * k, WAD.
    @param h_max Haircut cap, WAD.
    """
    if depth == 0:
        return h_max
    return self._ceil_div(coll_value * slip_coef, depth)


@internal
@pure
def clamp(h: uint256, h_min: uint256, h_max: uint256) -> uint256:
    """
    @notice Clamp a haircut into [h_min, h_max].
    """
    return min(max(h, h_min), h_max)


@internal
@pure
def ramp(current: uint256, target: uint256, elapsed: uint256, ramp_per_hour: uint256) -> uint256:
    """
    @notice Move `current` towards `target`: at once when loosening, at most
            `ramp_per_hour` per hour when tightening.
    @dev The step rounds down, so tightening is never faster than the bound.
    """
    if target <= current:
        return target
    step: uint256 = ramp_per_hour * elapsed // HOUR
    return min(target, current + step)


@internal
@pure
def effective_sigma(sigma: uint256, observed_at: uint256, at_time: uint256, stale_after: uint256, stale_sigma: uint256) -> uint256:
    """
    @notice Sigma the market uses: the posted one while fresh; once older than
            `stale_after`, a stressed value max(sigma, stale_sigma) * age / stale_after
            that keeps growing with age (stale data degrades, never freezes).
    """
    age: uint256 = 0
    if at_time > observed_at:
        age = at_time - observed_at
    if age <= stale_after:
        return sigma
    return self._ceil_div(max(sigma, stale_sigma) * age, stale_after)


@internal
@pure
def collateral_ratio(h: uint256) -> uint256:
    """
    @notice CR = 1 / (1 - H), WAD; rounds up. h must be below WAD.
    """
    return self._ceil_div(WAD * WAD, WAD - h)


@internal
@pure
def borrow_rate(utilisation: uint256, base: uint256, slope1: uint256, slope2: uint256, kink: uint256) -> uint256:
    """
    @notice Kinked annual borrow rate (WAD) at `utilisation` (WAD, <= 1).
    @dev kink is in (0, WAD). Rounds down (lenders never accrue more than borrowers owe).
    """
    if utilisation <= kink:
        return base + slope1 * utilisation // kink
    return base + slope1 + slope2 * (utilisation - kink) // (WAD - kink)


@internal
@pure
def ramp_poke(
    base: uint256,
    base_gap: uint256,
    depth: uint256,
    depth_gap: uint256,
    elapsed: uint256,
    target: uint256,
    posted_depth: uint256,
    ramp_per_hour: uint256,
    h_max: uint256,
) -> (uint256, uint256, uint256, uint256):
    """
    @notice One poke of the maintenance ramp. The previous poke left the base
            `base` with the target it saw `base + base_gap` above it, and the
            depth `depth` with the posted depth it saw `depth_gap` (a fraction,
            1e-9) below it; `elapsed` seconds have passed since.
    @dev Tightening: the base moves towards min(target, the previous target)
         by at most ramp_per_hour * elapsed / HOUR; the depth falls towards
         max(posted, the previous posted depth) by at most
         MAINT_DEPTH_FALL_PER_HOUR of itself per hour. A rise of the target
         (or fall of the depth) beyond what the previous poke saw gets no
         credit for the time before this poke: its clock starts now. Loosening
         applies at once. The gaps are stored rounded down (the base gap to
         1e9 wei, the depth gap to 1e-9 of the depth), so the previous target
         is never seen higher, nor the previous depth lower, than it was.
    @return (base, base gap, depth, depth gap) after the poke; the base is
            capped at h_max (any base at or above it gives the same H_maint).
    """
    goal: uint256 = min(target, h_max)
    new_base: uint256 = goal
    if goal > base:
        step: uint256 = ramp_per_hour * elapsed // HOUR
        new_base = min(goal, min(base + base_gap, base + step))
    new_gap: uint256 = 0
    if goal > new_base:
        new_gap = (goal - new_base) // PPB * PPB

    new_depth: uint256 = posted_depth
    if posted_depth < depth:
        # depth < 2**88, fractions <= WAD < 2**60: no overflow.
        frac: uint256 = min(10**18, MAINT_DEPTH_FALL_PER_HOUR * elapsed // HOUR)
        seen: uint256 = depth - depth * depth_gap // PPB
        new_depth = max(posted_depth, max(seen, depth - depth * frac // 10**18))
    new_depth_gap: uint256 = 0
    if new_depth > posted_depth:
        new_depth_gap = (new_depth - posted_depth) * PPB // new_depth
    return new_base, new_gap, new_depth, new_depth_gap


@internal
@pure
def ema_utilisation(u_ema: uint256, u_prev: uint256, dt: uint256) -> uint256:
    """
    @notice The utilisation average after `dt` seconds at utilisation `u_prev`:
            a fall moves by min(dt, UTIL_EMA_SECONDS) / UTIL_EMA_SECONDS of the
            way (both WAD). A rise is stored at once by the market
            (`market_math.pack_state`), so `u_prev` is at most the average;
            should it be above, the average takes it.
    @dev The step rounds down (the average falls slowly).
    """
    if u_prev >= u_ema:
        return u_prev
    w: uint256 = min(dt, UTIL_EMA_SECONDS)
    return u_ema - (u_ema - u_prev) * w // UTIL_EMA_SECONDS


@internal
@pure
def interest(total_debt: uint256, rate: uint256, dt: uint256) -> uint256:
    """
    @notice Interest on `total_debt` over `dt` seconds at the annual `rate` (WAD),
            linear, rounded UP: frequent accruals on small or low-rate debt
            never round interest away (the borrowers pay the rounding).
    """
    return self._ceil_div(total_debt * rate * dt, YEAR * WAD)
