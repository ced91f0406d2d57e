# pragma version ~=0.4.3
"""
@title Ballast market math (pure)
@notice Everything a market computes from its storage words, the oracle's
        metrics and the time, in one module that `Market.vy` (transactions)
        and `MarketLens.vy` (views) share, so that a view always says what a
        transaction would do. `oracle/model.py` mirrors it.

        Storage words (high to low bits):
          debt   total_debt:128 | total_debt_shares:128
          state  idle:128 | last_update:40 | u_ema:64 | paused:8
          ramp   maint_base:64 | ramp_at:40 | maint_depth:88 | base_gap:32 | depth_gap:32
          hot_a  vol_init:32 | vol_maint:32 | h_min:32 | h_max:32 | bonus:32 |
                 ramp_per_hour:32 | slip_coef:32 | max_spread:32        (1e9 units)
          hot_b  stale_sigma:32 (1e10 units) | horizon:20 | stale_after:20 |
                 base:32 | slope1:32 | slope2:40 | kink:32 (1e9 units) | has_feed:8
@custom:security Rounding: collateral value and share-to-debt conversions
        round against the borrower; interest rounds up; every haircut term
        rounds up (risk_model). Widths: every field fits by the bounds of
        `market_params.vy`.
"""

from . import risk_model

# @dev Fixed-point one.
WAD: constant(uint256) = 10**18
# @dev Oracle prices: loan raw units per collateral raw unit, times 1e36.
PRICE_SCALE: constant(uint256) = 10**36
# @dev Largest collateral value computed (loan raw units): above any debt (< 2**128).
MAX_VALUE: constant(uint256) = 2**160
# @dev Units of the packed parameters.
PPB: constant(uint256) = 10**9
SIGMA_UNIT: constant(uint256) = 10**10
# @dev Debt shares carry a virtual offset (a first borrower cannot inflate them).
VIRTUAL_DEBT_SHARES: constant(uint256) = 10**6
VIRTUAL_DEBT: constant(uint256) = 1

MASK128: constant(uint256) = 2**128 - 1
MASK88: constant(uint256) = 2**88 - 1
MASK64: constant(uint256) = 2**64 - 1
MASK40: constant(uint256) = 2**40 - 1
MASK32: constant(uint256) = 2**32 - 1
MASK20: constant(uint256) = 2**20 - 1
MASK8: constant(uint256) = 2**8 - 1


struct Totals:
    total_debt: uint256    # loan raw units owed by all borrowers, incl. accrued interest
    total_shares: uint256  # debt shares outstanding
    idle: uint256          # loan raw units held for lenders (not lent out)
    last_update: uint256   # unix seconds of the last accrual
    u_ema: uint256         # utilisation average (WAD) as of last_update
    paused: bool


struct Ramp:
    maint_base: uint256    # ramped maintenance base, WAD
    ramp_at: uint256       # unix seconds of the last poke
    maint_depth: uint256   # ramped depth of the maintenance liquidity term, loan raw units
    base_gap: uint256      # the target the last poke saw, above maint_base, WAD (multiple of 1e9)
    depth_gap: uint256     # the posted depth the last poke saw, below maint_depth, fraction 1e-9


struct Hot:
    vol_init: uint256      # z_init * sqrt(h / YEAR), WAD (rounded up to 1e9)
    vol_maint: uint256     # z_maint * sqrt(h / YEAR), WAD (rounded up to 1e9)
    h_min: uint256         # WAD
    h_max: uint256         # WAD
    bonus: uint256         # WAD
    ramp_per_hour: uint256 # WAD per hour
    slip_coef: uint256     # 0.02 * k, WAD
    max_spread: uint256    # WAD
    stale_sigma: uint256   # WAD
    horizon: uint256       # seconds
    stale_after: uint256   # seconds
    base: uint256          # rates, WAD per year
    slope1: uint256
    slope2: uint256
    kink: uint256          # WAD utilisation
    has_feed: bool         # a price feed cross-checks new risk


struct Risk:
    price: uint256         # loan raw units per collateral raw unit, 1e36
    sigma: uint256         # effective sigma (stressed when stale), WAD
    depth: uint256         # loan raw units
    observed_at: uint256   # unix seconds
    spread: uint256        # spread of the oracle signers' prices, WAD
    stale: bool


# ------------------------------------------------------------------ words

@internal
@pure
def unpack_totals(debt_word: uint256, state_word: uint256) -> Totals:
    """
    @dev The two market words as Totals.
    """
    return Totals(
        total_debt=debt_word >> 128,
        total_shares=debt_word & MASK128,
        idle=state_word >> 128,
        last_update=(state_word >> 72) & MASK40,
        u_ema=(state_word >> 8) & MASK64,
        paused=state_word & 1 == 1,
    )


@internal
@pure
def pack_debt(t: Totals) -> uint256:
    """
    @dev The debt word of Totals.
    """
    return (t.total_debt << 128) | t.total_shares


@internal
@pure
def pack_state(t: Totals) -> uint256:
    """
    @dev The state word of Totals.
    """
    return (t.idle << 128) | (t.last_update << 72) | (t.u_ema << 8) | convert(t.paused, uint256)


@internal
@pure
def unpack_ramp(w: uint256) -> Ramp:
    """
    @dev The ramp word as a Ramp.
    """
    return Ramp(
        maint_base=w >> 192,
        ramp_at=(w >> 152) & MASK40,
        maint_depth=(w >> 64) & MASK88,
        base_gap=((w >> 32) & MASK32) * PPB,
        depth_gap=w & MASK32,
    )


@internal
@pure
def pack_ramp(rp: Ramp) -> uint256:
    """
    @dev The ramp word of a Ramp (base_gap is a multiple of PPB).
    """
    return (
        (rp.maint_base << 192) | (rp.ramp_at << 152) | (rp.maint_depth << 64) | ((rp.base_gap // PPB) << 32)
        | rp.depth_gap
    )


@internal
@pure
def unpack_hot(a: uint256, b: uint256) -> Hot:
    """
    @dev The two parameter words as Hot (WAD values).
    """
    return Hot(
        vol_init=(a >> 224) * PPB,
        vol_maint=((a >> 192) & MASK32) * PPB,
        h_min=((a >> 160) & MASK32) * PPB,
        h_max=((a >> 128) & MASK32) * PPB,
        bonus=((a >> 96) & MASK32) * PPB,
        ramp_per_hour=((a >> 64) & MASK32) * PPB,
        slip_coef=((a >> 32) & MASK32) * PPB,
        max_spread=(a & MASK32) * PPB,
        stale_sigma=(b >> 224) * SIGMA_UNIT,
        horizon=(b >> 204) & MASK20,
        stale_after=(b >> 184) & MASK20,
        base=((b >> 152) & MASK32) * PPB,
        slope1=((b >> 120) & MASK32) * PPB,
        slope2=((b >> 80) & MASK40) * PPB,
        kink=((b >> 48) & MASK32) * PPB,
        has_feed=(b >> 40) & MASK8 != 0,
    )


# ------------------------------------------------------------------ interest

@internal
@pure
def utilisation(t: Totals) -> uint256:
    """
    @dev total_debt / (idle + total_debt), WAD, rounds down; 0 when empty.
    """
    total: uint256 = t.idle + t.total_debt
    if total == 0:
        return 0
    return t.total_debt * WAD // total


@internal
@pure
def rate_at(u: uint256, h: Hot) -> uint256:
    """
    @dev The kinked annual borrow rate at utilisation u (WAD).
    """
    return risk_model.borrow_rate(u, h.base, h.slope1, h.slope2, h.kink)


@internal
@pure
def risk_rate(t: Totals, h: Hot) -> uint256:
    """
    @dev The rate the haircuts' carry term uses: at max(utilisation now, its
         average), so that supplying for a moment cannot lower it.
    """
    return self.rate_at(max(self.utilisation(t), t.u_ema), h)


@internal
@pure
def accrued(t: Totals, h: Hot, now: uint256) -> Totals:
    """
    @dev Totals accrued up to `now`: interest at the rate of the stored
         utilisation (risk_model.interest, rounded up) and the utilisation
         average moved towards it; last_update = now.
    """
    out: Totals = t
    if now > t.last_update:
        dt: uint256 = now - t.last_update
        u: uint256 = self.utilisation(t)
        if t.total_debt != 0:
            out.total_debt = t.total_debt + risk_model.interest(t.total_debt, self.rate_at(u, h), dt)
        out.u_ema = risk_model.ema_utilisation(t.u_ema, u, dt)
        out.last_update = now
    return out


# ------------------------------------------------------------------ risk and ramp

@internal
@pure
def risk_of(
    price: uint256, sigma: uint256, depth: uint256, observed_at: uint256, spread: uint256, h: Hot, now: uint256
) -> Risk:
    """
    @dev The oracle's metrics as the market uses them (stressed sigma when stale).
    """
    age: uint256 = 0
    if now > observed_at:
        age = now - observed_at
    return Risk(
        price=price,
        sigma=risk_model.effective_sigma(sigma, observed_at, now, h.stale_after, h.stale_sigma),
        depth=depth,
        observed_at=observed_at,
        spread=spread,
        stale=age > h.stale_after,
    )


@internal
@pure
def poked(rp: Ramp, t: Totals, h: Hot, r: Risk, now: uint256) -> Ramp:
    """
    @dev The ramp after a poke at `now` (risk_model.ramp_poke) towards the
         maintenance base target of the effective sigma and the risk rate.
    """
    target: uint256 = risk_model.base_haircut(r.sigma, h.vol_maint, self.risk_rate(t, h), h.horizon, h.bonus)
    elapsed: uint256 = 0
    if now > rp.ramp_at:
        elapsed = now - rp.ramp_at
    base: uint256 = 0
    gap: uint256 = 0
    depth: uint256 = 0
    depth_gap: uint256 = 0
    base, gap, depth, depth_gap = risk_model.ramp_poke(
        rp.maint_base, rp.base_gap, rp.maint_depth, rp.depth_gap, elapsed, target, r.depth, h.ramp_per_hour, h.h_max
    )
    return Ramp(maint_base=base, ramp_at=now, maint_depth=depth, base_gap=gap, depth_gap=depth_gap)


# ------------------------------------------------------------------ health

@internal
@pure
def value(collateral: uint256, price: uint256) -> uint256:
    """
    @dev Collateral value in loan raw units; rounds down (against the
         borrower); saturates at MAX_VALUE (no debt can reach it), so that a
         huge position never makes a view or a liquidation revert.
    """
    if price != 0 and collateral > max_value(uint256) // price:
        return MAX_VALUE
    return min(collateral * price // PRICE_SCALE, MAX_VALUE)


@internal
@pure
def h_init(v: uint256, t: Totals, r: Risk, h: Hot) -> uint256:
    """
    @dev H_init of a position of value v: immediate sigma, the risk rate, the
         posted depth, plus the spread of the oracle signers' prices.
    """
    base: uint256 = risk_model.base_haircut(r.sigma, h.vol_init, self.risk_rate(t, h), h.horizon, h.bonus)
    return risk_model.clamp(
        base + risk_model.liquidity_term(v, r.depth, h.slip_coef, h.h_max) + r.spread, h.h_min, h.h_max
    )


@internal
@pure
def h_maint(v: uint256, rp: Ramp, h: Hot) -> uint256:
    """
    @dev Effective H_maint of a position of value v: the ramped base plus its
         liquidity term at the ramped depth.
    """
    return risk_model.clamp(
        rp.maint_base + risk_model.liquidity_term(v, rp.maint_depth, h.slip_coef, h.h_max), h.h_min, h.h_max
    )


@internal
@pure
def healthy_init(collateral: uint256, debt: uint256, t: Totals, r: Risk, h: Hot) -> bool:
    """
    @dev debt <= value * (1 - H_init).
    """
    if debt == 0:
        return True
    v: uint256 = self.value(collateral, r.price)
    return debt * WAD <= v * (WAD - self.h_init(v, t, r, h))


@internal
@pure
def healthy_maint(collateral: uint256, debt: uint256, rp: Ramp, r: Risk, h: Hot) -> bool:
    """
    @dev debt <= value * (1 - H_maint) with the ramped base and depth.
    """
    if debt == 0:
        return True
    v: uint256 = self.value(collateral, r.price)
    return debt * WAD <= v * (WAD - self.h_maint(v, rp, h))


# ------------------------------------------------------------------ debt shares

@internal
@pure
def to_debt(shares: uint256, t: Totals, up: bool) -> uint256:
    """
    @dev Debt of `shares` debt shares (virtual offset; shares < 2**128, debt < 2**128).
    """
    num: uint256 = shares * (t.total_debt + VIRTUAL_DEBT)
    den: uint256 = t.total_shares + VIRTUAL_DEBT_SHARES
    if up:
        return (num + den - 1) // den
    return num // den


@internal
@pure
def debt_to_shares(assets: uint256, t: Totals, up: bool) -> uint256:
    """
    @dev Debt shares for a debt amount (virtual offset).
    """
    num: uint256 = assets * (t.total_shares + VIRTUAL_DEBT_SHARES)
    den: uint256 = t.total_debt + VIRTUAL_DEBT
    if up:
        return (num + den - 1) // den
    return num // den
