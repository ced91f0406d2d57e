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
    assert (
        p.z_init % PPB == 0
        and p.z_maint % PPB == 0
        and p.bonus % PPB == 0
        and p.h_min % PPB == 0
        and p.h_max % PPB == 0
        and p.slip_k % (50 * PPB) == 0
        and p.ramp_per_hour % PPB == 0
        and p.max_spread % PPB == 0
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
