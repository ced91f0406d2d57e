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
PPB = 10**9  # the grid of every stored WAD fraction and rate of a market (1e9 wei)
UTIL_EMA_SECONDS = 3_600  # risk_model.UTIL_EMA_SECONDS

# --- oracle storage packing (RiskOracle.vy) ------------------------------------------------
# One asset = one 256-bit slot:  price:48 | depth:88 | sigma:32 | spread:32 | observed_at:32 | flags:8
# A report carries two assets per word, 128 bits each (asset 2i in the high half of word i; the low half
# of the last word is zero after an odd last asset):
#     asset_id:16 | price:48 | depth:32 | sigma:32
# price = the canonical decimal float exponent:8 | mantissa:40 of loan raw units per collateral raw unit
# at PRICE_SCALE; depth (in a report) = the canonical decimal float exponent:8 | mantissa:24 of loan raw
# units; sigma in units of SIGMA_UNIT (modules/report_math.vy).
SIGMA_UNIT = 10**10  # sigma is stored in units of 1e-8 (1e10 wei of WAD)
SPREAD_UNIT = 10**10  # so is the spread of the signers' prices
PRICE_SCALE = 10**36  # prices: loan raw units per collateral raw unit, times 1e36
PRICE_MANTISSA_BITS, DEPTH_MANTISSA_BITS = 40, 24
PRICE_MASK = 2**PRICE_MANTISSA_BITS - 1
DEPTH_MASK = 2**DEPTH_MANTISSA_BITS - 1
PRICE_MIN_NORMAL = 109_951_162_778  # ceil(2**40 / 10)
DEPTH_MIN_NORMAL = 1_677_722  # ceil(2**24 / 10)
MAX_PRICE_EXP = 54
MAX_DEPTH_EXP = 19
MAX_PRICE = PRICE_MASK * 10**MAX_PRICE_EXP  # the largest price a float holds (PRICE_SCALE)
DEPTH_BITS, SIGMA_BITS, ID_BITS = 88, 32, 16
MAX_DEPTH = DEPTH_MASK * 10**MAX_DEPTH_EXP  # the largest depth a report carries (< 2**88)
MAX_SIGMA_UNITS = 2**SIGMA_BITS - 1
FLAG_PENDING = 1
FLAG_EXISTS = 2  # set by add_asset: an id without it is unknown
MIN_SIGMA = WAD // 100  # RiskOracle accepts sigma in [MIN_SIGMA, MAX_SIGMA] (WAD)
MAX_SIGMA = 20 * WAD
HALF_DEPTH_SHIFT, HALF_PRICE_SHIFT, HALF_ID_SHIFT = 32, 64, 112
MASK128 = 2**128 - 1


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
    max_spread: int = 2 * WAD // 100  # a wider spread of the oracle signers' prices stops new risk

    @property
    def vol_coef_init(self) -> int:
        """As the market stores it: rounded up to the 1e9 grid."""
        return ceil_div(vol_coefficient(self.z_init, self.horizon), PPB) * PPB

    @property
    def vol_coef_maint(self) -> int:
        return ceil_div(vol_coefficient(self.z_maint, self.horizon), PPB) * PPB

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


def h_init(p: RiskParams, sigma: int, rate: int, value: int, depth: int, spread: int = 0) -> int:
    """Initial haircut for a position of collateral value `value` (gates borrow / withdraw): the immediate
    sigma, the risk rate (`risk_rate`), the posted depth, plus the spread of the oracle signers' prices."""
    base = base_haircut(sigma, p.vol_coef_init, rate, p.horizon, p.bonus)
    return clamp(base + liquidity_term(value, depth, p.slip_coef, p.h_max) + spread, p.h_min, p.h_max)


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
    # the price may move at most 50% of itself per hour of observation time: the largest hourly moves in
    # the shared ETH/BTC files are -20.9% / +18.1% close to close, -28.0% / +27.8% to an hour's low / high
    max_price_move_per_hour: int = 50 * WAD // 100
    max_disagreement: int = 5 * WAD // 100  # a batch whose signers' prices spread wider reverts


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


def sigma_loosens_beyond(old_sigma: int, new_sigma: int, g: GuardParams) -> bool:
    """A fall of sigma beyond the loosen threshold: the new sigma waits in the pending slot."""
    return new_sigma * WAD < old_sigma * (WAD - g.loosen_threshold)


def depth_loosens_beyond(old_depth: int, new_depth: int, g: GuardParams) -> bool:
    """A rise of depth beyond the loosen threshold: the new depth waits in the pending slot."""
    return new_depth * WAD > old_depth * (WAD + g.loosen_threshold)


def is_loosening_beyond_threshold(
    old_sigma: int, new_sigma: int, old_depth: int, new_depth: int, g: GuardParams
) -> bool:
    """Whether any field of the update waits (each field is judged, and queued, on its own)."""
    return sigma_loosens_beyond(old_sigma, new_sigma, g) or depth_loosens_beyond(old_depth, new_depth, g)


def clip_price(old: int, new: int, dt: int, g: GuardParams) -> int:
    """The price nearest to `new` that the oracle's move bound accepts `dt` seconds after `old` (both at
    PRICE_SCALE, `old` a stored float value; 0 means a first post: only the float's range). The result is
    a float value (what a report carries), checked with the contract's own `price_too_far`."""
    bits = encode_price(min(max(new, 1), MAX_PRICE))
    if old == 0:
        return price_of(bits)
    ob = encode_price(old)
    rate = g.max_price_move_per_hour
    if not price_too_far(ob, bits, rate, dt):
        return price_of(bits)
    step = old * min(WAD, rate * dt // HOUR) // WAD
    if new > old:
        bits = encode_price(min(old + step, MAX_PRICE))
        while price_too_far(ob, bits, rate, dt):  # the float's rounding can land a hair outside
            bits = encode_price(price_of(bits) - 1)
    else:
        bits = encode_price_up(max(old - step, 1))
        while price_too_far(ob, bits, rate, dt):
            bits = encode_price_up(price_of(bits) + 1)
    return price_of(bits)


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


_POW10 = [10**i for i in range(100)]


def _encode(value: int, bits: int, min_normal: int, max_exp: int, up: bool) -> int:
    """The canonical decimal float exponent:8 | mantissa:bits nearest `value` from below (`up`: above)."""
    if value <= 0:
        raise ValueError("value must be positive")
    top = (1 << bits) - 1
    if value <= top:
        return value
    # one below the exponent the bit length suggests, then up (one or two steps)
    e = max(0, int((value.bit_length() - bits) * 0.30102999566398) - 1)
    if up:
        while -(-value // _POW10[e]) > top:
            e += 1
        m = -(-value // _POW10[e])
    else:
        while value // _POW10[e] > top:
            e += 1
        m = value // _POW10[e]
    if e > 0 and m < min_normal:
        if up:
            m = min_normal  # the smallest canonical float of this exponent, above value
        else:
            e, m = e - 1, top  # the largest float of the exponent below, below value
    if e > max_exp:
        raise ValueError("value out of range")
    return (e << bits) | m


def encode_price(price: int) -> int:
    """The largest canonical price float (exponent:8 | mantissa:40) not above `price` (PRICE_SCALE)."""
    return _encode(price, PRICE_MANTISSA_BITS, PRICE_MIN_NORMAL, MAX_PRICE_EXP, up=False)


def encode_price_up(price: int) -> int:
    """The smallest canonical price float not below `price`."""
    return _encode(price, PRICE_MANTISSA_BITS, PRICE_MIN_NORMAL, MAX_PRICE_EXP, up=True)


def encode_depth(depth: int) -> int:
    """The largest canonical depth float (exponent:8 | mantissa:24) not above `depth` (raw units)."""
    return _encode(min(depth, MAX_DEPTH), DEPTH_MANTISSA_BITS, DEPTH_MIN_NORMAL, MAX_DEPTH_EXP, up=False)


def price_canonical(bits: int) -> bool:
    return bits < 2**PRICE_MANTISSA_BITS or bits & PRICE_MASK >= PRICE_MIN_NORMAL


def depth_canonical(bits: int) -> bool:
    return bits < 2**DEPTH_MANTISSA_BITS or bits & DEPTH_MASK >= DEPTH_MIN_NORMAL


def price_of(bits: int) -> int:
    """report_math.price_of: the price (PRICE_SCALE) of a 48-bit float."""
    e = bits >> PRICE_MANTISSA_BITS
    if e > MAX_PRICE_EXP:
        raise ValueError("oracle: price out of range")
    return (bits & PRICE_MASK) * _POW10[e]


def depth_of(bits: int) -> int:
    """report_math.depth_of: the depth (raw units) of a 32-bit float."""
    e = bits >> DEPTH_MANTISSA_BITS
    if e > MAX_DEPTH_EXP:
        raise ValueError("oracle: depth out of range")
    return (bits & DEPTH_MASK) * _POW10[e]


def round_price(price: int) -> int:
    """The price a report can carry (the float below it)."""
    return price_of(encode_price(price))


def round_depth(depth: int) -> int:
    """The depth a report can carry (the float below it)."""
    return depth_of(encode_depth(depth))


def price_from_human(price: float | str, loan_decimals: int, collateral_decimals: int) -> int:
    """Loan tokens per collateral token (a human price) as the on-chain price at PRICE_SCALE, exactly
    (through the decimal text of the number), rounded down."""
    from decimal import Decimal, localcontext

    with localcontext() as ctx:
        ctx.prec = 80
        value = Decimal(str(price)) * Decimal(10) ** (36 + loan_decimals - collateral_decimals)
        return int(value)


def price_to_human(price: int, loan_decimals: int, collateral_decimals: int) -> float:
    """The inverse of `price_from_human` (as a float, for display)."""
    return price / 10 ** (36 + loan_decimals - collateral_decimals)


def pack_half(asset_id: int, price: int, depth: int, sigma_wad: int) -> int:
    """The 128 bits of one asset in a report: asset_id:16 | price:48 | depth:32 | sigma:32, for a price at
    PRICE_SCALE and a depth in raw units (each rounded down to its float) and sigma in WAD (rounded up to
    its unit)."""
    units = sigma_to_units(sigma_wad)
    assert 0 <= asset_id < 2**ID_BITS and 0 <= units <= MAX_SIGMA_UNITS
    return (
        (asset_id << HALF_ID_SHIFT)
        | (encode_price(price) << HALF_PRICE_SHIFT)
        | (encode_depth(depth) << HALF_DEPTH_SHIFT)
        | units
    )


def unpack_half(half: int) -> tuple[int, int, int, int]:
    """(asset_id, price at PRICE_SCALE, depth, sigma_wad) of one asset of a report."""
    return (
        half >> HALF_ID_SHIFT,
        price_of((half >> HALF_PRICE_SHIFT) & (2**48 - 1)),
        depth_of((half >> HALF_DEPTH_SHIFT) & (2**32 - 1)),
        units_to_sigma(half & MAX_SIGMA_UNITS),
    )


def pack_words(halves: list[int]) -> list[int]:
    """A report's words: asset 2i in the high half of word i, 2i + 1 in its low half (0 if none)."""
    out = []
    for i in range(0, len(halves), 2):
        low = halves[i + 1] if i + 1 < len(halves) else 0
        out.append((halves[i] << 128) | low)
    return out


def unpack_words(words: list[int]) -> list[int]:
    """The halves of a report's words (a zero low half of the last word is padding)."""
    halves = []
    for i, w in enumerate(words):
        halves.append(w >> 128)
        if i < len(words) - 1 or w & MASK128:
            halves.append(w & MASK128)
    return halves


def pack_update(asset_id: int, price: int, depth: int, sigma_wad: int) -> list[int]:
    """The report words of a single asset (one word, the low half empty)."""
    return pack_words([pack_half(asset_id, price, depth, sigma_wad)])


def pack_report(updates: list[tuple[int, int, int, int]]) -> list[int]:
    """The report words of (asset_id, price, depth, sigma_wad) tuples, in the order given."""
    return pack_words([pack_half(*u) for u in updates])


# --- report math (modules/report_math.vy) and the median of a batch (RiskOracle.vy) -----------------


def spread_of(lo: int, hi: int, mid: int) -> int:
    """report_math.spread_of on canonical price floats lo <= mid <= hi: (hi - lo) / mid, WAD, rounded up;
    WAD when at least 100%."""
    if lo >> PRICE_MANTISSA_BITS == hi >> PRICE_MANTISSA_BITS:
        d, m = hi - lo, mid & PRICE_MASK
    else:
        m = price_of(mid)
        d = price_of(hi) - price_of(lo)
        if m >= 2**190:
            d = (d + 2**64 - 1) >> 64
            m = m >> 64
    if d >= m:
        return WAD
    return ceil_div(d * WAD, m)


def price_too_far(old: int, new: int, rate_per_hour: int, dt: int) -> bool:
    """report_math.price_too_far on price floats."""
    frac = min(WAD, rate_per_hour * dt // HOUR)
    if old >> PRICE_MANTISSA_BITS == new >> PRICE_MANTISSA_BITS:
        mo, mn = old & PRICE_MASK, new & PRICE_MASK
        return abs(mn - mo) * WAD > mo * frac
    po, pn = price_of(old), price_of(new)
    step = (po // WAD) * frac + (po % WAD) * frac // WAD
    return abs(pn - po) > step


@dataclass(frozen=True)
class Aggregate:
    """What RiskOracle takes from one asset's column of signed halves: the medians and the spread."""

    asset_id: int
    price_bits: int  # the median price float, stored unchanged
    sigma_units: int
    depth: int  # raw units (the median depth float, decoded)
    spread: int  # WAD (not yet rounded to its storage unit)

    @property
    def price(self) -> int:
        return price_of(self.price_bits)

    @property
    def sigma(self) -> int:
        return units_to_sigma(self.sigma_units)

    @property
    def spread_units(self) -> int:
        return ceil_div(self.spread, SPREAD_UNIT)


def aggregate(column: list[int]) -> Aggregate:
    """RiskOracle.post's medians for one asset (one 128-bit half per signer, in batch order): the
    conservative middle for an even count (lower price, higher sigma, lower depth); canonical floats sort
    as integers. Raises ValueError("oracle: ...") where the contract would revert (checks of the medians
    against the stored slot are `accepted`'s)."""
    n = len(column)
    if n == 0:
        raise ValueError("oracle: malformed batch")
    aid = column[0] >> HALF_ID_SHIFT
    if any(h >> HALF_ID_SHIFT != aid for h in column):
        raise ValueError("oracle: reports differ in assets")
    prices = [(h >> HALF_PRICE_SHIFT) & (2**48 - 1) for h in column]
    depths = [(h >> HALF_DEPTH_SHIFT) & (2**32 - 1) for h in column]
    if n > 1 and not all(price_canonical(f) for f in prices):
        raise ValueError("oracle: price not canonical")
    if n > 1 and not all(depth_canonical(f) for f in depths):
        raise ValueError("oracle: depth not canonical")
    prices.sort()
    depths.sort()
    sigmas = sorted(h & MAX_SIGMA_UNITS for h in column)
    bits = prices[(n - 1) // 2]
    spread = 0 if prices[0] == prices[-1] else spread_of(prices[0], prices[-1], bits)
    return Aggregate(aid, bits, sigmas[n // 2], depth_of(depths[(n - 1) // 2]), spread)


# --- market ramp state -----------------------------------------------------------------------


MAINT_DEPTH_FALL_PER_HOUR = 20 * WAD // 100  # risk_model: the maintenance depth falls at most 20%/h


def ramp_poke(base: int, base_gap: int, depth: int, depth_gap: int, elapsed: int, target: int, posted_depth: int,
              ramp_per_hour: int, h_max: int) -> tuple[int, int, int, int]:  # fmt: skip
    """risk_model.ramp_poke: (base, base_gap, depth, depth_gap) after one poke. The base moves towards
    min(target, the target the previous poke saw) by at most ramp_per_hour per hour of `elapsed`, the depth
    falls towards max(posted, the depth the previous poke saw) by at most MAINT_DEPTH_FALL_PER_HOUR of
    itself per hour; a rise (fall) beyond what the previous poke saw starts its clock at this poke;
    loosening applies at once."""
    goal = min(target, h_max)
    new_base = goal
    if goal > base:
        new_base = min(goal, base + base_gap, base + ramp_per_hour * elapsed // HOUR)
    new_gap = (goal - new_base) // PPB * PPB if goal > new_base else 0
    new_depth = posted_depth
    if posted_depth < depth:
        frac = min(WAD, MAINT_DEPTH_FALL_PER_HOUR * elapsed // HOUR)
        seen = depth - depth * depth_gap // PPB
        new_depth = max(posted_depth, seen, depth - depth * frac // WAD)
    new_depth_gap = (new_depth - posted_depth) * PPB // new_depth if new_depth > posted_depth else 0
    return new_base, new_gap, new_depth, new_depth_gap


@dataclass
class RampState:
    """Market's maintenance ramp (market_math.Ramp): the ramped base (position-independent part of H_maint),
    the ramped depth of the maintenance liquidity term, and what the last poke saw (the gaps)."""

    value: int  # maint_base, WAD
    updated_at: int  # ramp_at: the last poke
    depth: int = 0  # maint_depth (0: none yet, the first poke takes the posted one)
    base_gap: int = 0  # the target the last poke saw, above the base (WAD, multiple of 1e9)
    depth_gap: int = 0  # the posted depth the last poke saw, below `depth` (fraction, 1e-9)

    @property
    def ramping(self) -> bool:
        """A tightening is under way (the ramp advances only when poked)."""
        return self.base_gap != 0 or self.depth_gap != 0

    @property
    def target(self) -> int:
        return self.value + self.base_gap

    def poke_market(self, target: int, now: int, p: RiskParams, depth: int) -> int:
        """market_math.poked at `now` towards `target` (model.maint_base_target of the effective sigma and
        the risk rate) with the posted `depth`; returns the new base."""
        elapsed = max(0, now - self.updated_at)
        self.value, self.base_gap, self.depth, self.depth_gap = ramp_poke(
            self.value, self.base_gap, self.depth, self.depth_gap, elapsed, target, depth, p.ramp_per_hour, p.h_max
        )
        self.updated_at = now
        return self.value


def ramp_depth(current: int, posted: int, elapsed: int) -> int:
    """The ramped maintenance depth after `elapsed` seconds of a fall the last poke had already seen
    (a rise applies at once, a fall at most MAINT_DEPTH_FALL_PER_HOUR of itself per hour)."""
    return ramp_poke(0, 0, current, PPB if current else 0, elapsed, 0, posted, 0, WAD)[2]


# --- market position math (Market.vy) -------------------------------------------------------


MAX_VALUE = 2**160  # market_math.MAX_VALUE


def collateral_value(amount: int, price: int) -> int:
    """market_math.value: collateral value in loan raw units for a price at PRICE_SCALE (rounds down,
    against the borrower; saturates at MAX_VALUE)."""
    if price and amount > (2**256 - 1) // price:
        return MAX_VALUE
    return min(amount * price // PRICE_SCALE, MAX_VALUE)


def utilisation(total_debt: int, idle: int) -> int:
    """total_debt / (idle + total_debt), WAD, rounds down; 0 for an empty market."""
    total = idle + total_debt
    return 0 if total == 0 else total_debt * WAD // total


def market_rate(total_debt: int, idle: int, r: RateParams) -> int:
    """The market's annual borrow rate at its utilisation (WAD)."""
    return borrow_rate(utilisation(total_debt, idle), r.base, r.slope1, r.slope2, r.kink)


def interest(total_debt: int, rate: int, dt: int) -> int:
    """risk_model.interest: linear interest over `dt` seconds, rounded UP (frequent accruals never round
    interest away)."""
    return ceil_div(total_debt * rate * dt, YEAR * WAD)


def accrue(total_debt: int, rate: int, dt: int) -> int:
    """Total debt after `dt` seconds of linear accrual at `rate` (interest rounds up)."""
    return total_debt + interest(total_debt, rate, dt)


def ema_utilisation(u_ema: int, u_prev: int, dt: int) -> int:
    """risk_model.ema_utilisation: the utilisation average moves min(dt, 1 h) / 1 h of the way."""
    w = min(dt, UTIL_EMA_SECONDS)
    if u_prev >= u_ema:
        return u_ema + (u_prev - u_ema) * w // UTIL_EMA_SECONDS
    return u_ema - (u_ema - u_prev) * w // UTIL_EMA_SECONDS


def risk_rate(total_debt: int, idle: int, u_ema: int, r: RateParams) -> int:
    """market_math.risk_rate: the carry term's rate, at max(utilisation, its average)."""
    u = utilisation(total_debt, idle)
    return borrow_rate(max(u, u_ema), r.base, r.slope1, r.slope2, r.kink)


def is_healthy(debt: int, value: int, h: int) -> bool:
    """debt <= value * (1 - H), in the contract's integer form."""
    return debt == 0 or debt * WAD <= value * (WAD - h)


def health_factor(debt: int, value: int, h: int) -> int:
    """value * (1 - H) / debt, WAD (rounds down); max uint256 without debt."""
    return 2**256 - 1 if debt == 0 else value * (WAD - h) // debt


def seized_collateral(repaid: int, price: int, bonus: int, collateral: int) -> int:
    """Collateral a liquidator receives for `repaid` at a price at PRICE_SCALE (rounds down), at most what
    is left."""
    return min(repaid * (WAD + bonus) // WAD * PRICE_SCALE // price, collateral)
