# pragma version ~=0.4.3
"""
@title Ballast market parameters (types, bounds, validation, packing)
@notice Shared by `Market.vy` and `MarketFactory.vy`: the parameter structs
        (mirroring `oracle.model.RiskParams` / `RateParams`) and the hard
        bounds governance can never leave. Fractions and rates are WAD on a
        grid of 1e9 (PPB units), so that a market keeps every hot value in
        32 bits and reads all of them from two storage words.
@custom:security Every bound has its own named constant and its own revert
        message. The packing widths in `market_math.vy` are only safe because
        these bounds keep every field inside its width: change both together.
"""

# @dev Fixed-point one.
WAD: constant(uint256) = 10**18
# @dev Sigma packing unit (same as the oracle's: 1e-8).
from . import risk_model

SIGMA_UNIT: constant(uint256) = 10**10
# @dev Grid of every WAD fraction and rate: 1e9 wei (parts per billion).
PPB: constant(uint256) = 10**9

# --- risk parameter bounds (WAD unless noted) ---
# @dev Confidence multiplier gating new risk.
MIN_Z_INIT: constant(uint256) = 10**18
MAX_Z_INIT: constant(uint256) = 10 * 10**18
# @dev Confidence multiplier for liquidation (also strictly below z_init).
MIN_Z_MAINT: constant(uint256) = 5 * 10**17
# @dev Liquidation horizon, seconds.
MIN_HORIZON: constant(uint256) = 600
MAX_HORIZON: constant(uint256) = 7 * 86_400
# @dev Liquidation bonus.
MIN_BONUS: constant(uint256) = 5 * 10**15
MAX_BONUS: constant(uint256) = 2 * 10**17
# @dev Haircut floor (also at least the bonus, so a position at its limit can pay its liquidator).
MAX_H_MIN: constant(uint256) = 5 * 10**17
# @dev Haircut cap (also above h_min).
MAX_H_MAX: constant(uint256) = 95 * 10**16
# @dev Slippage multiplier k (slip_coef = 0.02 * k).
MAX_SLIP_K: constant(uint256) = 100 * 10**18
# @dev Max tightening of the maintenance base per hour.
MIN_RAMP_PER_HOUR: constant(uint256) = 10**15
MAX_RAMP_PER_HOUR: constant(uint256) = 5 * 10**17
# @dev Staleness limit, seconds.
MIN_STALE_AFTER: constant(uint256) = 60
MAX_STALE_AFTER: constant(uint256) = 86_400
# @dev Stressed sigma floor once stale.
MIN_STALE_SIGMA: constant(uint256) = 10**17
MAX_STALE_SIGMA: constant(uint256) = 20 * 10**18
# @dev Largest spread of the signers' prices (oracle confidence) new risk accepts.
MIN_MAX_SPREAD: constant(uint256) = 10**15
MAX_MAX_SPREAD: constant(uint256) = 5 * 10**17
# @dev The liquidation engine: the bonus just below the line (the bonus above is its maximum);
#      the margin of the target haircut above H_maint; the gap of H_init's floor above h_min;
#      the smallest debt a position may hold (whole loan tokens); the collateral value liquidated per
#      hour as a fraction of the posted depth (0: no cap).
MAX_TARGET_MARGIN: constant(uint256) = 5 * 10**17
MAX_INIT_GAP: constant(uint256) = 3 * 10**17
MAX_MIN_DEBT: constant(uint256) = 10**7
MAX_LIQ_CAP: constant(uint256) = 5 * 10**18

# --- rate parameter bounds (annual, WAD) ---
MAX_BASE_RATE: constant(uint256) = 10**18
MAX_SLOPE1: constant(uint256) = 2 * 10**18
MAX_SLOPE2: constant(uint256) = 10 * 10**18
MIN_KINK: constant(uint256) = 5 * 10**16
MAX_KINK: constant(uint256) = 99 * 10**16


struct RiskParams:
    z_init: uint256         # WAD
    z_maint: uint256        # WAD
    horizon: uint256        # seconds
    bonus: uint256          # WAD
    h_min: uint256          # WAD
    h_max: uint256          # WAD
    slip_k: uint256         # WAD
    ramp_per_hour: uint256  # WAD per hour
    stale_after: uint256    # seconds
    stale_sigma: uint256    # WAD
    max_spread: uint256     # WAD: a wider spread of the oracle signers' prices stops new risk
    bonus_min: uint256      # WAD: the liquidation bonus just below the line (`bonus` is the most)
    target_margin: uint256  # WAD: a liquidation restores max(H_init, H_maint + target_margin)
    init_gap: uint256       # WAD: H_init's floor is h_min + init_gap
    min_debt: uint256       # whole loan tokens: no position keeps a smaller non-zero debt
    liq_cap: uint256        # WAD: collateral value liquidated per hour <= liq_cap * posted depth (0: off)


struct RateParams:
    base: uint256    # WAD per year
    slope1: uint256  # WAD per year
    slope2: uint256  # WAD per year
    kink: uint256    # WAD utilisation


@internal
@pure
def validate_risk(p: RiskParams):
    """
    @notice Revert unless every risk parameter is inside its hard bounds.
    @param p The risk parameters.
    """
    assert p.z_init >= MIN_Z_INIT, "market: z_init too low"
    assert p.z_init <= MAX_Z_INIT, "market: z_init too high"
    assert p.z_maint >= MIN_Z_MAINT, "market: z_maint too low"
    assert p.z_maint < p.z_init, "market: z_maint must be below z_init"
    assert p.horizon >= MIN_HORIZON, "market: horizon too short"
    assert p.horizon <= MAX_HORIZON, "market: horizon too long"
    assert p.bonus >= MIN_BONUS, "market: bonus too low"
    assert p.bonus <= MAX_BONUS, "market: bonus too high"
    assert p.h_min >= p.bonus, "market: h_min below bonus"
    assert p.h_min <= MAX_H_MIN, "market: h_min too high"
    assert p.h_max > p.h_min, "market: h_max must be above h_min"
    assert p.h_max <= MAX_H_MAX, "market: h_max too high"
    assert p.slip_k <= MAX_SLIP_K, "market: slip_k too high"
    assert p.ramp_per_hour >= MIN_RAMP_PER_HOUR, "market: ramp_per_hour too low"
    assert p.ramp_per_hour <= MAX_RAMP_PER_HOUR, "market: ramp_per_hour too high"
    assert p.stale_after >= MIN_STALE_AFTER, "market: stale_after too short"
    assert p.stale_after <= MAX_STALE_AFTER, "market: stale_after too long"
    assert p.stale_sigma >= MIN_STALE_SIGMA, "market: stale_sigma too low"
    assert p.stale_sigma <= MAX_STALE_SIGMA, "market: stale_sigma too high"
    assert p.stale_sigma % SIGMA_UNIT == 0, "market: stale_sigma not in sigma units"
    assert p.max_spread >= MIN_MAX_SPREAD, "market: max_spread too low"
    assert p.max_spread <= MAX_MAX_SPREAD, "market: max_spread too high"
    assert p.bonus_min >= MIN_BONUS, "market: bonus_min too low"
    assert p.bonus_min <= p.bonus, "market: bonus_min above bonus"
    assert p.target_margin <= MAX_TARGET_MARGIN, "market: target_margin too high"
    assert p.init_gap <= MAX_INIT_GAP, "market: init_gap too high"
    assert p.h_min + p.init_gap < p.h_max, "market: init floor not below h_max"
    assert p.min_debt <= MAX_MIN_DEBT, "market: min_debt too high"
    assert p.liq_cap <= MAX_LIQ_CAP, "market: liq_cap too high"
    assert (
        p.z_init % PPB == 0
        and p.z_maint % PPB == 0
        and p.bonus % PPB == 0
        and p.h_min % PPB == 0
        and p.h_max % PPB == 0
        and p.slip_k % (50 * PPB) == 0
        and p.ramp_per_hour % PPB == 0
        and p.max_spread % PPB == 0
        and p.bonus_min % PPB == 0
        and p.target_margin % PPB == 0
        and p.init_gap % PPB == 0
        and p.liq_cap % PPB == 0
    ), "market: risk params off the 1e9 grid"


@internal
@pure
def validate_rates(r: RateParams):
    """
    @notice Revert unless every rate parameter is inside its hard bounds.
    @param r The rate parameters.
    """
    assert r.base <= MAX_BASE_RATE, "market: base rate too high"
    assert r.slope1 <= MAX_SLOPE1, "market: slope1 too high"
    assert r.slope2 <= MAX_SLOPE2, "market: slope2 too high"
    assert r.kink >= MIN_KINK, "market: kink too low"
    assert r.kink <= MAX_KINK, "market: kink too high"
    assert (
        r.base % PPB == 0 and r.slope1 % PPB == 0 and r.slope2 % PPB == 0 and r.kink % PPB == 0
    ), "market: rate params off the 1e9 grid"


@internal
@pure
def bonus_slope(bonus_min: uint256, bonus_max: uint256, h_min: uint256) -> uint256:
    """
    @notice The slope of the liquidation bonus (WAD per unit of health factor below 1), rounded up,
            so that the bonus reaches `bonus_max` no lower than the deep line (1 + bonus_max)(1 - h_min):
            below that line a liquidation lowers a position's health, and a flat bonus there is what
            keeps a split liquidation from paying more than one call.
    @dev The deep line is below 1 because h_min >= bonus_max > 0 (validate_risk).
    """
    den: uint256 = WAD * WAD - (WAD + bonus_max) * (WAD - h_min)
    return ((bonus_max - bonus_min) * WAD * WAD + den - 1) // den


@internal
@pure
def pack(p: RiskParams, r: RateParams) -> uint256[3]:
    """
    @dev Validate both sets and pack the market's three parameter words
         (layouts in market_math.vy; the feed flag, bit 0 of the second, is 0).
         The volatility coefficients and the bonus slope round up to the 1e9
         grid (a larger haircut, a steeper bonus).
    """
    self.validate_risk(p)
    self.validate_rates(r)
    vol_init: uint256 = (risk_model.vol_coefficient(p.z_init, p.horizon) + PPB - 1) // PPB
    vol_maint: uint256 = (risk_model.vol_coefficient(p.z_maint, p.horizon) + PPB - 1) // PPB
    a: uint256 = (
        (vol_init << 224) | (vol_maint << 192) | ((p.h_min // PPB) << 160) | ((p.h_max // PPB) << 128)
        | ((p.bonus // PPB) << 96) | ((p.ramp_per_hour // PPB) << 64) | ((p.slip_k // (50 * PPB)) << 32)
        | (p.max_spread // PPB)
    )
    b: uint256 = ((p.stale_sigma // SIGMA_UNIT) << 224) | (p.horizon << 204) | (p.stale_after << 184)
    b |= ((r.base // PPB) << 152) | ((r.slope1 // PPB) << 120) | ((r.slope2 // PPB) << 86) | ((r.kink // PPB) << 54)
    b |= ((p.init_gap // PPB) << 25) | (p.min_debt << 1)
    slope: uint256 = self.bonus_slope(p.bonus_min, p.bonus, p.h_min)
    c: uint256 = ((p.bonus_min // PPB) << 224) | ((p.target_margin // PPB) << 192) | (((slope + PPB - 1) // PPB) << 128) | (
        (p.liq_cap // PPB) << 88
    )
    return [a, b, c]
