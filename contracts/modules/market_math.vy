# pragma version ~=0.4.3
"""
@title Ballast market math (pure)
@notice Everything a market computes from its storage words, the oracle's
        metrics and the time, in one module that `Market.vy` (transactions)
        and `MarketLens.vy` (views) share, so that a view always says what a
        transaction would do. `oracle/model.py` mirrors it.

        Storage words (high to low bits):
          debt   total_debt:128 | total_debt_shares:128
          state  idle:128 | last_update:32 | u_ema:60 | cap_hour:16 | cap_used:19 | paused:1
                 (cap_used: collateral value liquidated in hour cap_hour (mod 2**16), 1e-5 of the depth)
          ramp   maint_base:64 | ramp_at:40 | maint_depth:88 | base_gap:32 | depth_gap:32
          hot_a  vol_init:32 | vol_maint:32 | h_min:32 | h_max:32 | bonus:32 |
                 ramp_per_hour:32 | slip_coef:32 | max_spread:32        (1e9 units)
          hot_b  stale_sigma:32 (1e10 units) | horizon:20 | stale_after:20 |
                 base:32 | slope1:32 | slope2:34 | kink:32 | init_gap:29 (1e9 units) |
                 min_debt:24 (whole loan tokens) | has_feed:1
          hot_c  bonus_min:32 | target_margin:32 | bonus_slope:64 | liq_cap:40 (1e9 units) | 0:88
                 (read by liquidations only)
@custom:security Rounding: collateral value and share-to-debt conversions
        round against the borrower; interest rounds up; every haircut term
        rounds up (risk_model). Widths: every field fits by the bounds of
        `market_params.vy`.
"""

from . import risk_model
from . import report_math

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
MASK60: constant(uint256) = 2**60 - 1
MASK34: constant(uint256) = 2**34 - 1
MASK29: constant(uint256) = 2**29 - 1
MASK24: constant(uint256) = 2**24 - 1
MASK20: constant(uint256) = 2**20 - 1
MASK19: constant(uint256) = 2**19 - 1
MASK16: constant(uint256) = 2**16 - 1
# @dev Unit of the liquidation cap's counter: 1e-5 of the posted depth.
CAP_UNITS: constant(uint256) = 10**5


struct Totals:
    total_debt: uint256    # loan raw units owed by all borrowers, incl. accrued interest
    total_shares: uint256  # debt shares outstanding
    idle: uint256          # loan raw units held for lenders (not lent out)
    last_update: uint256   # unix seconds of the last accrual
    u_ema: uint256         # utilisation average (WAD) as of last_update
    cap_hour: uint256      # the hour (unix hours mod 2**16) cap_used counts
    cap_used: uint256      # collateral value liquidated in cap_hour, 1e-5 of the posted depth
    paused: bool


struct Ramp:
    maint_base: uint256    # ramped maintenance base, WAD
    ramp_at: uint256       # unix seconds of the last poke
    maint_depth: uint256   # ramped depth of the maintenance liquidity term, loan raw units
    base_gap: uint256      # the target the last poke saw, above maint_base, WAD (multiple of 1e9)
    depth_gap: uint256     # the posted depth the last poke saw, below maint_depth, fraction 1e-9


struct Hot:
    a: uint256             # vol_init:32 | vol_maint:32 | h_min:32 | h_max:32 | bonus:32 | ramp_per_hour:32 |
                           # slip_coef:32 | max_spread:32 (1e9 units)
    b: uint256             # stale_sigma:32 (1e10 units) | horizon:20 | stale_after:20 | base:32 | slope1:32 |
                           # slope2:34 | kink:32 | init_gap:29 (1e9 units) | min_debt:24 (whole tokens) | has_feed:1
    c: uint256             # bonus_min:32 | target_margin:32 | bonus_slope:64 | liq_cap:40 (1e9 units); 0 unless
                           # read (liquidations)
                           # (kept packed: the words travel cheaply between functions; accessors below)


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
        last_update=(state_word >> 96) & MASK32,
        u_ema=(state_word >> 36) & MASK60,
        cap_hour=(state_word >> 20) & MASK16,
        cap_used=(state_word >> 1) & MASK19,
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
    @dev The state word of Totals. The utilisation average is stored at least
         at the utilisation the action left: a rise counts at once (a supply in
         the same block cannot take it back), a fall decays over the hour.
    """
    return (
        (t.idle << 128) | (t.last_update << 96) | (max(t.u_ema, self.utilisation(t)) << 36) | (t.cap_hour << 20)
        | (t.cap_used << 1)
        | convert(t.paused, uint256)
    )


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
def unpack_hot(a: uint256, b: uint256, c: uint256) -> Hot:
    """
    @dev The parameter words (read the fields with the accessors below).
    """
    return Hot(a=a, b=b, c=c)


@internal
@pure
def vol_init(h: Hot) -> uint256:
    """
    @dev z_init * sqrt(h / YEAR), WAD (rounded up to 1e9).
    """
    return (h.a >> 224) * PPB


@internal
@pure
def vol_maint(h: Hot) -> uint256:
    """
    @dev z_maint * sqrt(h / YEAR), WAD.
    """
    return ((h.a >> 192) & MASK32) * PPB


@internal
@pure
def h_min(h: Hot) -> uint256:
    """
    @dev haircut floor, WAD.
    """
    return ((h.a >> 160) & MASK32) * PPB


@internal
@pure
def h_max(h: Hot) -> uint256:
    """
    @dev haircut cap, WAD.
    """
    return ((h.a >> 128) & MASK32) * PPB


@internal
@pure
def bonus(h: Hot) -> uint256:
    """
    @dev liquidation bonus, WAD.
    """
    return ((h.a >> 96) & MASK32) * PPB


@internal
@pure
def ramp_per_hour(h: Hot) -> uint256:
    """
    @dev tightening of the maintenance base per hour, WAD.
    """
    return ((h.a >> 64) & MASK32) * PPB


@internal
@pure
def slip_coef(h: Hot) -> uint256:
    """
    @dev 0.02 * k, WAD.
    """
    return ((h.a >> 32) & MASK32) * PPB


@internal
@pure
def max_spread(h: Hot) -> uint256:
    """
    @dev largest spread of the oracle signers' prices for new risk, WAD.
    """
    return (h.a & MASK32) * PPB


@internal
@pure
def stale_sigma(h: Hot) -> uint256:
    """
    @dev stressed sigma floor once stale, WAD.
    """
    return (h.b >> 224) * SIGMA_UNIT


@internal
@pure
def horizon(h: Hot) -> uint256:
    """
    @dev liquidation horizon, seconds.
    """
    return (h.b >> 204) & MASK20


@internal
@pure
def stale_after(h: Hot) -> uint256:
    """
    @dev staleness limit, seconds.
    """
    return (h.b >> 184) & MASK20


@internal
@pure
def has_feed(h: Hot) -> bool:
    """
    @dev Whether a price feed cross-checks new risk.
    """
    return h.b & 1 != 0


@internal
@pure
def init_gap(h: Hot) -> uint256:
    """
    @dev H_init's floor above h_min, WAD.
    """
    return ((h.b >> 25) & MASK29) * PPB


@internal
@pure
def min_debt(h: Hot, unit: uint256) -> uint256:
    """
    @dev The smallest non-zero debt of a position, loan raw units (`unit`: one whole loan token).
    """
    return ((h.b >> 1) & MASK24) * unit


@internal
@pure
def bonus_min(h: Hot) -> uint256:
    """
    @dev The liquidation bonus just below the line, WAD.
    """
    return (h.c >> 224) * PPB


@internal
@pure
def target_margin(h: Hot) -> uint256:
    """
    @dev A liquidation restores max(H_init, H_maint + target_margin), WAD.
    """
    return ((h.c >> 192) & MASK32) * PPB


@internal
@pure
def bonus_slope(h: Hot) -> uint256:
    """
    @dev Growth of the bonus per unit of health factor below 1, WAD (market_params.bonus_slope).
    """
    return ((h.c >> 128) & MASK64) * PPB


@internal
@pure
def liq_cap(h: Hot) -> uint256:
    """
    @dev Collateral value liquidated per hour, fraction of the posted depth, WAD (0: no cap).
    """
    return ((h.c >> 88) & MASK40) * PPB


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
    b: uint256 = h.b
    return risk_model.borrow_rate(
        u, ((b >> 152) & MASK32) * PPB, ((b >> 120) & MASK32) * PPB, ((b >> 86) & MASK34) * PPB,
        ((b >> 54) & MASK32) * PPB,
    )


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
         average moved towards the utilisation that interest leaves (a rise
         by interest counts at once too: a supply after a quiet day cannot
         take the carry term back to the last update's); last_update = now.
    """
    out: Totals = t
    if now > t.last_update:
        dt: uint256 = now - t.last_update
        if t.total_debt != 0:
            out.total_debt = t.total_debt + risk_model.interest(t.total_debt, self.rate_at(self.utilisation(t), h), dt)
        out.u_ema = risk_model.ema_utilisation(t.u_ema, self.utilisation(out), dt)
        out.last_update = now
    return out


# ------------------------------------------------------------------ risk and ramp

@internal
@pure
def risk_of_word(w: uint256, h: Hot, now: uint256) -> Risk:
    """
    @dev The oracle's raw asset slot (`RiskOracle.risk_word`: price:48 | depth:88 | sigma:32 |
         spread:32 | observed_at:32 | flags:8) as the market uses it (stressed sigma when stale); an
         unposted slot has price 0.
    """
    bits: uint256 = w >> 192
    price: uint256 = 0
    if bits != 0:
        price = report_math.price_of(bits)
    observed_at: uint256 = (w >> 8) & MASK32
    stale_after: uint256 = self.stale_after(h)
    return Risk(
        price=price,
        sigma=risk_model.effective_sigma(
            ((w >> 72) & MASK32) * SIGMA_UNIT, observed_at, now, stale_after, self.stale_sigma(h)
        ),
        depth=(w >> 104) & MASK88,
        observed_at=observed_at,
        spread=((w >> 40) & MASK32) * report_math.SPREAD_UNIT,
        stale=now > observed_at + stale_after,
    )


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
        sigma=risk_model.effective_sigma(sigma, observed_at, now, self.stale_after(h), self.stale_sigma(h)),
        depth=depth,
        observed_at=observed_at,
        spread=spread,
        stale=age > self.stale_after(h),
    )


@internal
@pure
def poked(rp: Ramp, t: Totals, h: Hot, r: Risk, now: uint256) -> Ramp:
    """
    @dev The ramp after a poke at `now` (risk_model.ramp_poke) towards the
         maintenance base target of the effective sigma and the risk rate.
    """
    target: uint256 = risk_model.base_haircut(r.sigma, self.vol_maint(h), self.risk_rate(t, h), self.horizon(h), self.bonus(h))
    elapsed: uint256 = 0
    if now > rp.ramp_at:
        elapsed = now - rp.ramp_at
    base: uint256 = 0
    gap: uint256 = 0
    depth: uint256 = 0
    depth_gap: uint256 = 0
    base, gap, depth, depth_gap = risk_model.ramp_poke(
        rp.maint_base, rp.base_gap, rp.maint_depth, rp.depth_gap, elapsed, target, r.depth, self.ramp_per_hour(h), self.h_max(h)
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
    if price >= 2**128 and collateral > max_value(uint256) // price:
        return MAX_VALUE  # (below 2**128 the product of two 128-bit numbers cannot overflow)
    return min(collateral * price // PRICE_SCALE, MAX_VALUE)


@internal
@pure
def h_init(v: uint256, rate: uint256, sigma: uint256, depth: uint256, spread: uint256, h: Hot) -> uint256:
    """
    @dev H_init of a position of value v: the effective sigma, the risk rate (`risk_rate`), the posted
         depth, plus the spread of the oracle signers' prices (scalars: no struct copies on the hot path).
    """
    base: uint256 = risk_model.base_haircut(sigma, self.vol_init(h), rate, self.horizon(h), self.bonus(h))
    h_max: uint256 = self.h_max(h)
    return risk_model.clamp(
        base + risk_model.liquidity_term(v, depth, self.slip_coef(h), h_max) + spread,
        self.h_min(h) + self.init_gap(h), h_max,
    )


@internal
@pure
def h_maint(v: uint256, maint_base: uint256, maint_depth: uint256, h: Hot) -> uint256:
    """
    @dev Effective H_maint of a position of value v: the ramped base plus its liquidity term at the
         ramped depth.
    """
    h_max: uint256 = self.h_max(h)
    return risk_model.clamp(
        maint_base + risk_model.liquidity_term(v, maint_depth, self.slip_coef(h), h_max), self.h_min(h), h_max
    )


@internal
@pure
def healthy_init(
    collateral: uint256, debt: uint256, price: uint256, rate: uint256, sigma: uint256, depth: uint256,
    spread: uint256, h: Hot,
) -> bool:
    """
    @dev debt <= value * (1 - H_init).
    """
    if debt == 0:
        return True
    v: uint256 = self.value(collateral, price)
    return debt * WAD <= v * (WAD - self.h_init(v, rate, sigma, depth, spread, h))


@internal
@pure
def healthy_maint(
    collateral: uint256, debt: uint256, price: uint256, maint_base: uint256, maint_depth: uint256, h: Hot
) -> bool:
    """
    @dev debt <= value * (1 - H_maint) with the ramped base and depth.
    """
    if debt == 0:
        return True
    v: uint256 = self.value(collateral, price)
    return debt * WAD <= v * (WAD - self.h_maint(v, maint_base, maint_depth, h))


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


# ------------------------------------------------------------------ liquidation engine

struct Liquidation:
    repaid: uint256        # loan raw units the liquidator pays
    seized: uint256        # collateral raw units to the liquidator
    burnt: uint256         # debt shares the repayment burns
    bad_shares: uint256    # debt shares written off
    bad: uint256           # loan raw units written off (bad debt)
    bonus: uint256         # the bonus paid, WAD
    debt_left: uint256     # the position's debt after the call, loan raw units (rounded up)


@internal
@pure
def bonus_at(hf: uint256, h: Hot) -> uint256:
    """
    @dev The bonus at health factor `hf` (WAD): bonus_min just below the line, growing by bonus_slope per
         unit of health below 1, at most `bonus` (rounds down: no more than the curve).
    """
    b_min: uint256 = self.bonus_min(h)
    if hf >= WAD:
        return b_min
    return min(self.bonus(h), b_min + self.bonus_slope(h) * (WAD - hf) // WAD)


@internal
@pure
def repay_to_target(debt: uint256, v: uint256, h_target: uint256, b: uint256) -> uint256:
    """
    @dev The smallest repay r after which D - r <= (V - 1 - r (1 + b)) (1 - H_t): rounds up (the target is
         reached), with V - 1 so that the seizure's rounding cannot leave the position a wei short; `debt`
         when no partial repay reaches it ((1 + b)(1 - H_t) >= 1). Widths: D < 2**128, V <= 2**160.
    """
    keep: uint256 = WAD - h_target
    a: uint256 = debt * WAD
    c: uint256 = 0
    if v > 0:
        c = (v - 1) * keep
    if a <= c:
        return 0
    den: uint256 = WAD * WAD
    if (WAD + b) * keep >= den:
        return debt
    den -= (WAD + b) * keep
    return ((a - c) * WAD + den - 1) // den


@internal
@pure
def settle(collateral: uint256, shares: uint256, t: Totals, price: uint256, b: uint256, repaid: uint256,
           whole: bool) -> Liquidation:
    """
    @dev What repaying `repaid` of a position does: the seizure (repaid * (1 + b) at the price, rounded
         down, at most the collateral), the shares burnt (rounded down unless the whole debt is repaid),
         and the early write-off: the debt left that the collateral left cannot pay for at the bonus
         (cover = value * WAD / (WAD + b), rounded down) is bad debt at once, so what stays can be
         liquidated in full; with `whole`, all the debt left is written off.
    """
    debt: uint256 = self.to_debt(shares, t, True)
    seized: uint256 = min(repaid * (WAD + b) // WAD * PRICE_SCALE // price, collateral)
    burnt: uint256 = shares
    if repaid < debt:
        burnt = self.debt_to_shares(repaid, t, False)
    after: Totals = t
    after.total_shares -= burnt
    after.total_debt -= min(repaid, t.total_debt)
    left: uint256 = shares - burnt
    bad_shares: uint256 = 0
    debt_left: uint256 = 0
    if left != 0:
        debt_left = self.to_debt(left, after, True)
        cover: uint256 = 0
        if not whole and collateral > seized:
            cover = self.value(collateral - seized, price) * WAD // (WAD + b)
        if cover < debt_left:
            # (cover < debt_left < 2**128: no overflow; the kept shares are fewer than `left`)
            bad_shares = left - self.debt_to_shares(cover, after, False)
    bad: uint256 = 0
    if bad_shares != 0:
        bad = min(self.to_debt(bad_shares, after, False), after.total_debt)
        after.total_debt -= bad
        after.total_shares -= bad_shares
        debt_left = 0
        if left > bad_shares:
            debt_left = self.to_debt(left - bad_shares, after, True)
    return Liquidation(
        repaid=repaid, seized=seized, burnt=burnt, bad_shares=bad_shares, bad=bad, bonus=b, debt_left=debt_left
    )


@internal
@pure
def liquidation(
    collateral: uint256, shares: uint256, t: Totals, h: Hot, r: Risk, rp: Ramp, offered: uint256,
    min_debt: uint256, now: uint256,
) -> Liquidation:
    """
    @dev `Market.liquidate` of a position with the accrued totals `t`, the oracle's risk `r` and the
         ramp `rp` as a poke now would leave it: reverts "market: position healthy" unless the debt
         exceeds value * (1 - H_maint); then `engine`, with the position's H_init and the hourly cap's room.
    """
    v: uint256 = self.value(collateral, r.price)
    h_m: uint256 = self.h_maint(v, rp.maint_base, rp.maint_depth, h)
    assert self.to_debt(shares, t, True) * WAD > v * (WAD - h_m), "market: position healthy"
    return self.engine(
        collateral, shares, t, r.price, h_m, self.h_init(v, self.risk_rate(t, h), r.sigma, r.depth, r.spread, h),
        offered, self.cap_room(t, h, r.depth, now), min_debt, h,
    )


@internal
@pure
def engine(
    collateral: uint256, shares: uint256, t: Totals, price: uint256, h_m: uint256, h_i: uint256,
    offered: uint256, room: uint256, min_debt: uint256, h: Hot,
) -> Liquidation:
    """
    @dev One liquidation of an unhealthy position (the caller checked it): at most what restores the
         target haircut H_t = max(H_init, H_maint + target_margin), or the whole debt when the position is
         too small (debt <= min_debt) or too deep to save (V <= (1 + b) D: any partial call lowers its
         health); at most what the collateral pays for and what the hourly cap's `room` (collateral
         value) allows; a call that would leave 0 < debt < min_debt must take the whole debt (or what the
         collateral pays for) and its liquidator must offer it.
    @param h_m The position's effective H_maint; h_i its H_init (both WAD).
    @param room Collateral value the hourly cap still allows (MAX_VALUE: no cap).
    """
    v: uint256 = self.value(collateral, price)
    debt: uint256 = self.to_debt(shares, t, True)
    b: uint256 = self.bonus_at(v * (WAD - h_m) // debt, h)
    # the most the collateral pays for (rounded up), and what the cap allows
    affordable: uint256 = max((v * WAD + WAD + b - 1) // (WAD + b), 1)
    room = room * WAD // (WAD + b)
    assert room != 0, "market: liquidation cap reached"
    most: uint256 = debt
    if debt > min_debt and v * WAD > debt * (WAD + b):
        most = self.repay_to_target(debt, v, max(h_i, min(h_m + self.target_margin(h), WAD - 1)), b)
    out: Liquidation = self.settle(
        collateral, shares, t, price, b, min(min(offered, most), min(affordable, room)), False
    )
    if out.debt_left != 0 and out.debt_left < min_debt:
        # dust: the call takes the whole debt, or all the collateral pays for (the rest is written off)
        most = min(debt, affordable)
        assert offered >= most, "market: would leave dust"
        assert room >= most, "market: liquidation cap reached"
        out = self.settle(collateral, shares, t, price, b, most, True)
    return out


@internal
@pure
def cap_room(t: Totals, h: Hot, depth: uint256, now: uint256) -> uint256:
    """
    @dev Collateral value the hourly cap still allows at `now`: liq_cap * posted depth less what was
         liquidated this hour (MAX_VALUE without a cap or without a posted depth).
    """
    cap: uint256 = self.liq_cap(h)
    if cap == 0 or depth == 0:
        return MAX_VALUE
    room: uint256 = cap * depth // WAD
    if t.cap_hour == (now // 3600) & MASK16:
        room -= min(t.cap_used * depth // CAP_UNITS, room)
    return room


@internal
@pure
def liquidated(t: Totals, h: Hot, price: uint256, depth: uint256, liq: Liquidation, received: uint256,
               now: uint256) -> Totals:
    """
    @dev Totals after a liquidation: the repayment (what arrived) and the write-off, and the hourly cap's
         counter (rounded up; a new hour starts it again).
    """
    out: Totals = t
    out.total_shares -= liq.burnt + liq.bad_shares
    out.total_debt -= min(received, out.total_debt)
    out.total_debt -= liq.bad
    out.idle += received
    if out.total_shares == 0:
        out.total_debt = 0  # as in repay: no residue without debt shares
    if self.liq_cap(h) != 0 and depth != 0:
        hour: uint256 = (now // 3600) & MASK16
        if out.cap_hour != hour:
            out.cap_hour = hour
            out.cap_used = 0
        used: uint256 = (self.value(liq.seized, price) * CAP_UNITS + depth - 1) // depth
        out.cap_used = min(out.cap_used + used, MASK19)
    return out
