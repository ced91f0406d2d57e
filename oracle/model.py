"""Exact Python mirror of the on-chain risk model.

Every function here reproduces the integer arithmetic of `contracts/modules/risk_model.vy`
(and of the guardrails in `contracts/RiskOracle.vy` and the position math in `contracts/Market.vy`)
to the wei. A property test compares them on random inputs and requires equality.

Units: WAD = 1e18 = 1.0. Sigma, haircuts, rates, ratios are WAD. Values and depth are loan-token
raw units. Times are seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

WAD = 10**18
YEAR = 365 * 86_400
HOUR = 3_600

# --- oracle storage packing (RiskOracle.vy) ------------------------------------------------
# One asset = one 256-bit slot:  price:96 | depth:88 | sigma:32 | observed_at:32 | flags:8
# Calldata update word:          asset_id:16 | price:96 | depth:88 | sigma:32   (observed_at per batch)
SIGMA_UNIT = 10**10  # sigma is stored in units of 1e-8 (1e10 wei of WAD)
PRICE_BITS, DEPTH_BITS, SIGMA_BITS, TIME_BITS, ID_BITS = 96, 88, 32, 32, 16
MAX_PRICE = 2**PRICE_BITS - 1
MAX_DEPTH = 2**DEPTH_BITS - 1
MAX_SIGMA_UNITS = 2**SIGMA_BITS - 1
FLAG_PENDING = 1
FLAG_EXISTS = 2  # set by add_asset: an id without it is unknown
MIN_SIGMA = WAD // 100  # RiskOracle accepts sigma in [MIN_SIGMA, MAX_SIGMA] (WAD)
MAX_SIGMA = 20 * WAD


def ceil_div(a: int, b: int) -> int:
    return (a + b - 1) // b


def isqrt(n: int) -> int:
    import math

    return math.isqrt(n)


# --- risk_model.vy ----------------------------------------------------------------------------


def vol_coefficient(z: int, horizon: int) -> int:
    root = isqrt(horizon * WAD * WAD // YEAR)
    return ceil_div(z * root, WAD)


def base_haircut(sigma: int, vol_coef: int, rate: int, horizon: int, bonus: int) -> int:
    m_vol = ceil_div(sigma * vol_coef, WAD)
    m_rate = ceil_div(rate * horizon, YEAR)
    return m_vol + m_rate + bonus


def liquidity_term(value: int, depth: int, slip_coef: int, h_max: int) -> int:
    if depth == 0:
        return h_max
    return ceil_div(value * slip_coef, depth)


def clamp(h: int, h_min: int, h_max: int) -> int:
    return min(max(h, h_min), h_max)


def ramp(current: int, target: int, elapsed: int, ramp_per_hour: int) -> int:
    if target <= current:
        return target
    step = ramp_per_hour * elapsed // HOUR
    return min(target, current + step)


def effective_sigma(sigma: int, observed_at: int, now: int, stale_after: int, stale_sigma: int) -> int:
    age = now - observed_at if now > observed_at else 0
    if age <= stale_after:
        return sigma
    return ceil_div(max(sigma, stale_sigma) * age, stale_after)


def collateral_ratio(h: int) -> int:
    return ceil_div(WAD * WAD, WAD - h)


def borrow_rate(utilisation: int, base: int, slope1: int, slope2: int, kink: int) -> int:
    if utilisation <= kink:
        return base + slope1 * utilisation // kink
    return base + slope1 + slope2 * (utilisation - kink) // (WAD - kink)


# --- market parameters ------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskParams:
    """Per-market risk parameters (Market.vy). Defaults are the calibrated defaults used by
    `make demo`, the deploy scripts and `ballast backtest` (calibrated on ETH and BTC hourly history:
    docs/BACKTEST.md)."""

    z_init: int = 3 * WAD  # confidence multiplier gating new risk
    z_maint: int = 2 * WAD  # confidence multiplier for liquidation
    horizon: int = 6 * HOUR  # liquidation horizon, seconds
    bonus: int = 5 * WAD // 100  # liquidation bonus
    h_min: int = 13 * WAD // 100  # haircut floor (calibrated, docs/BACKTEST.md: the volatility floor)
    h_max: int = 90 * WAD // 100  # haircut cap
    slip_k: int = WAD  # slippage multiplier k; slip_coef = 0.02 * k
    ramp_per_hour: int = 2 * WAD // 100  # max tightening of the maintenance base per hour
    stale_after: int = 2 * HOUR  # metrics older than this are stale
    stale_sigma: int = 2 * WAD  # stressed sigma floor once stale

    @property
    def vol_coef_init(self) -> int:
        return vol_coefficient(self.z_init, self.horizon)

    @property
    def vol_coef_maint(self) -> int:
        return vol_coefficient(self.z_maint, self.horizon)

    @property
    def slip_coef(self) -> int:
        return self.slip_k * 2 // 100

    def replace(self, **kw) -> RiskParams:
        return replace(self, **kw)


@dataclass(frozen=True)
class RateParams:
    base: int = 0
    slope1: int = 4 * WAD // 100
    slope2: int = 75 * WAD // 100
    kink: int = 90 * WAD // 100


def h_init(p: RiskParams, sigma: int, rate: int, value: int, depth: int) -> int:
    """Initial haircut for a position of collateral value `value` (gates borrow / withdraw)."""
    base = base_haircut(sigma, p.vol_coef_init, rate, p.horizon, p.bonus)
    return clamp(base + liquidity_term(value, depth, p.slip_coef, p.h_max), p.h_min, p.h_max)


def maint_base_target(p: RiskParams, sigma: int, rate: int) -> int:
    return base_haircut(sigma, p.vol_coef_maint, rate, p.horizon, p.bonus)


def h_maint(p: RiskParams, maint_base_eff: int, value: int, depth: int) -> int:
    """Maintenance haircut of a position, from the ramped effective base."""
    return clamp(maint_base_eff + liquidity_term(value, depth, p.slip_coef, p.h_max), p.h_min, p.h_max)


# --- oracle guardrails (RiskOracle.vy) ------------------------------------------------------


@dataclass(frozen=True)
class GuardParams:
    """RiskOracle guardrails. Risk goes up fast and comes down slowly."""

    sigma_fall_per_hour: int = 5 * WAD // 100  # sigma may fall at most 5% of itself per hour
    depth_rise_per_hour: int = 5 * WAD // 100  # depth may rise at most 5% of itself per hour
    loosen_threshold: int = 20 * WAD // 100  # a single loosening beyond 20% waits in the pending slot
    challenge_window: int = HOUR  # seconds a pending update waits


def sigma_to_units(sigma_wad: int) -> int:
    """Storage units of sigma, rounding up (conservative)."""
    return ceil_div(sigma_wad, SIGMA_UNIT)


def units_to_sigma(units: int) -> int:
    return units * SIGMA_UNIT


def min_sigma_allowed(old_sigma: int, dt: int, g: GuardParams) -> int:
    """Lowest sigma (WAD) the oracle accepts `dt` seconds of observation time after `old_sigma`."""
    frac = min(WAD, g.sigma_fall_per_hour * dt // HOUR)
    return old_sigma - old_sigma * frac // WAD


def max_depth_allowed(old_depth: int, dt: int, g: GuardParams) -> int:
    """Highest depth the oracle accepts `dt` seconds after `old_depth`."""
    return old_depth + old_depth * (g.depth_rise_per_hour * dt // HOUR) // WAD


def is_loosening_beyond_threshold(
    old_sigma: int, new_sigma: int, old_depth: int, new_depth: int, g: GuardParams
) -> bool:
    if new_sigma * WAD < old_sigma * (WAD - g.loosen_threshold):
        return True
    return new_depth * WAD > old_depth * (WAD + g.loosen_threshold)


# The keeper never posts a depth below this (loan raw units; 1 token of a 6-decimal loan token).
# The oracle's rise guards are relative and round down, so a depth of a few raw units could never
# rise again (1 * 5% per hour rounds to 0): a drained pool must not brick its asset.
MIN_POSTED_DEPTH = 10**6


def clip_update(
    old_sigma: int, old_depth: int, dt: int, new_sigma: int, new_depth: int, g: GuardParams, first: bool = False
) -> tuple[int, int]:
    """What the keeper posts so the guardrails never revert and nothing waits in the pending slot:
    sigma no lower than the fall bound (nor below the loosen threshold), depth no higher than the
    rise bound (nor above it), both inside the oracle's hard bounds (sigma in [MIN_SIGMA, MAX_SIGMA],
    depth in [1, MAX_DEPTH]) and depth no lower than MIN_POSTED_DEPTH where the guards allow it. Sigma
    is returned rounded to its storage unit (up). A first post (`first`) is only held to the hard bounds.
    Needs dt >= 1 (an observation newer than the stored one)."""
    if first:
        sigma = min(max(units_to_sigma(sigma_to_units(new_sigma)), MIN_SIGMA), MAX_SIGMA)
        return sigma, min(max(new_depth, MIN_POSTED_DEPTH), MAX_DEPTH)
    lo = max(min_sigma_allowed(old_sigma, dt, g), ceil_div(old_sigma * (WAD - g.loosen_threshold), WAD))
    sigma = max(new_sigma, lo, MIN_SIGMA)
    # MAX_SIGMA is a multiple of SIGMA_UNIT and the stored sigma never exceeds it, so capping keeps
    # sigma >= lo (lo <= old_sigma <= MAX_SIGMA).
    sigma = min(units_to_sigma(sigma_to_units(sigma)), MAX_SIGMA)
    hi = min(max_depth_allowed(old_depth, dt, g), old_depth * (WAD + g.loosen_threshold) // WAD)
    # hi >= old_depth >= 1, so the floor never exceeds what the oracle accepts
    depth = max(min(new_depth, hi, MAX_DEPTH), min(MIN_POSTED_DEPTH, hi), 1)
    return sigma, depth


def pack_update(asset_id: int, price: int, depth: int, sigma_wad: int) -> int:
    """Calldata word for RiskOracle.post: asset_id:16 | price:96 | depth:88 | sigma:32 (high to low)."""
    units = sigma_to_units(sigma_wad)
    assert 0 <= asset_id < 2**ID_BITS and 0 <= price <= MAX_PRICE and 0 <= units <= MAX_SIGMA_UNITS
    depth = min(depth, MAX_DEPTH)
    return (
        (asset_id << (PRICE_BITS + DEPTH_BITS + SIGMA_BITS))
        | (price << (DEPTH_BITS + SIGMA_BITS))
        | (depth << SIGMA_BITS)
        | units
    )


def unpack_update(word: int) -> tuple[int, int, int, int]:
    """(asset_id, price, depth, sigma_wad) from a calldata word."""
    units = word & MAX_SIGMA_UNITS
    depth = (word >> SIGMA_BITS) & MAX_DEPTH
    price = (word >> (DEPTH_BITS + SIGMA_BITS)) & MAX_PRICE
    asset_id = word >> (PRICE_BITS + DEPTH_BITS + SIGMA_BITS)
    return asset_id, price, depth, units_to_sigma(units)


# --- market ramp state -----------------------------------------------------------------------


@dataclass
class RampState:
    """Market's maintenance ramp: the ramped base (position-independent part of H_maint) and the
    ramped depth of the maintenance liquidity term."""

    value: int
    updated_at: int
    ramping: bool = False  # the last poke left a tightening under way (Market.vy)
    depth: int = 0  # ramped depth for H_maint (0: none yet, the first poke takes the posted one)

    def poke_market(self, target: int, observed_at: int, now: int, p: RiskParams, depth: int) -> int:
        """Market.vy's poke exactly. While a tightening is under way the clock runs from the last poke;
        when it had caught up, a new rise is no older than the observation that brought it, so the clock
        starts there (a spike after a quiet spell never spends the spell's allowance in one block). The
        stored value is capped at h_max (any base at or above it gives the same H_maint). `depth` is the
        posted depth: the ramped depth follows a rise at once and a fall by at most
        MAINT_DEPTH_FALL_PER_HOUR of itself per hour, on the same clock."""
        since = self.updated_at
        if not self.ramping and observed_at > since:
            since = observed_at
        elapsed = max(0, now - since)
        self.value = min(ramp(self.value, target, elapsed, p.ramp_per_hour), p.h_max)
        self.depth = ramp_depth(self.depth, depth, elapsed)
        self.updated_at = now
        self.ramping = self.value < min(target, p.h_max) or self.depth > depth
        return self.value


MAINT_DEPTH_FALL_PER_HOUR = 20 * WAD // 100  # Market.vy: the maintenance depth falls at most 20%/h


def ramp_depth(current: int, posted: int, elapsed: int) -> int:
    """Market.vy's ramped maintenance depth: a rise applies at once, a fall by at most
    MAINT_DEPTH_FALL_PER_HOUR of itself per hour of `elapsed`."""
    if posted >= current:
        return posted
    frac = min(WAD, MAINT_DEPTH_FALL_PER_HOUR * elapsed // HOUR)
    return max(posted, current - current * frac // WAD)


# --- market position math (Market.vy) -------------------------------------------------------


def collateral_value(amount: int, price: int) -> int:
    """Collateral value in loan-token raw units (rounds down, against the borrower)."""
    return amount * price // WAD


def utilisation(total_debt: int, idle: int) -> int:
    """total_debt / (idle + total_debt), WAD, rounds down; 0 for an empty market."""
    total = idle + total_debt
    return 0 if total == 0 else total_debt * WAD // total


def market_rate(total_debt: int, idle: int, r: RateParams) -> int:
    """The market's annual borrow rate at its utilisation (WAD)."""
    return borrow_rate(utilisation(total_debt, idle), r.base, r.slope1, r.slope2, r.kink)


def accrue(total_debt: int, rate: int, dt: int) -> int:
    """Total debt after `dt` seconds of linear accrual at `rate` (interest rounds down)."""
    return total_debt + total_debt * rate * dt // (YEAR * WAD)


def is_healthy(debt: int, value: int, h: int) -> bool:
    """debt <= value * (1 - H), in the contract's integer form."""
    return debt == 0 or debt * WAD <= value * (WAD - h)


def health_factor(debt: int, value: int, h: int) -> int:
    """value * (1 - H) / debt, WAD (rounds down); max uint256 without debt."""
    return 2**256 - 1 if debt == 0 else value * (WAD - h) // debt


def seized_collateral(repaid: int, price: int, bonus: int, collateral: int) -> int:
    """Collateral a liquidator receives for `repaid` (rounds down), at most what is left."""
    return min(repaid * (WAD + bonus) // price, collateral)
