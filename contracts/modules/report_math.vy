# pragma version ~=0.4.3
"""
@title Ballast report math (pure)
@notice The arithmetic `RiskOracle.vy` applies to signed reports, in one
        place so that `oracle/model.py` mirrors it to the wei and a harness
        tests it: the decimal floats of prices and depths, the spread of the
        signers' prices, and the bound on how far one update moves a price.

        A report carries each asset in 128 bits:
            asset_id:16 | price:48 | depth:32 | sigma:32
        price = a decimal float `exponent:8 | mantissa:40`, worth
        mantissa * 10**exponent loan raw units per collateral raw unit at
        PRICE_SCALE = 1e36: 1e-36 .. 1.1e66, which covers 1e-12 .. 1e12 loan
        tokens per collateral token for every pair of decimals from 0 to 18,
        with 12 significant digits. depth = a decimal float `exponent:8 |
        mantissa:24` of loan raw units (7 significant digits, up to 1.7e26).
        sigma in units of 1e-8 (1e10 wei of WAD).

        A float is CANONICAL when its exponent is 0 or its mantissa is at
        least a tenth of the mantissa range (rounded up): canonical floats
        compare as plain integers, which is how the oracle sorts them, and
        equal values have equal bits.
@custom:security The exponent bounds keep every decoded price below 2**220
        and every depth below 2**88, so `spread_of` and `price_too_far` never
        overflow. Comparisons of two floats with the same exponent are done
        on their mantissas, exactly.
"""

# @dev Fixed-point one.
WAD: constant(uint256) = 10**18
# @dev Seconds per hour (the price bound is per hour of observation time).
HOUR: constant(uint256) = 3_600
# @dev Price floats: mantissa mask, smallest canonical mantissa above exponent 0
#      (ceil(2**40 / 10)), largest exponent (2**40 * 1e54 < 2**220).
PRICE_MASK: constant(uint256) = 2**40 - 1
PRICE_MIN_NORMAL: constant(uint256) = 109_951_162_778
MAX_PRICE_EXP: constant(uint256) = 54
# @dev Depth floats: mantissa mask, smallest canonical mantissa above exponent 0
#      (ceil(2**24 / 10)), largest exponent (2**24 * 1e19 < 2**88).
DEPTH_MASK: constant(uint256) = 2**24 - 1
DEPTH_MIN_NORMAL: constant(uint256) = 1_677_722
MAX_DEPTH_EXP: constant(uint256) = 19
# @dev Wei of WAD per stored spread unit (spread_wad = units * SPREAD_UNIT).
SPREAD_UNIT: constant(uint256) = 10**10


@internal
@pure
def price_of(bits: uint256) -> uint256:
    """
    @notice Decode a 48-bit price float `exponent:8 | mantissa:40`.
    @param bits The float (a value below 2**48).
    @return The price at PRICE_SCALE (loan raw per collateral raw, 1e36).
    """
    e: uint256 = bits >> 40
    assert e <= MAX_PRICE_EXP, "oracle: price out of range"
    return unsafe_mul(bits & PRICE_MASK, pow_mod256(10, e))


@internal
@pure
def depth_of(bits: uint256) -> uint256:
    """
    @notice Decode a 32-bit depth float `exponent:8 | mantissa:24`.
    @param bits The float (a value below 2**32).
    @return The depth in loan raw units.
    """
    e: uint256 = bits >> 24
    assert e <= MAX_DEPTH_EXP, "oracle: depth out of range"
    return unsafe_mul(bits & DEPTH_MASK, pow_mod256(10, e))


@internal
@pure
def price_canonical(bits: uint256) -> bool:
    """
    @notice Whether a price float is canonical (exponent 0, or mantissa >= PRICE_MIN_NORMAL).
    """
    return bits < 2**40 or bits & PRICE_MASK >= PRICE_MIN_NORMAL


@internal
@pure
def depth_canonical(bits: uint256) -> bool:
    """
    @notice Whether a depth float is canonical (exponent 0, or mantissa >= DEPTH_MIN_NORMAL).
    """
    return bits < 2**24 or bits & DEPTH_MASK >= DEPTH_MIN_NORMAL


@internal
@pure
def spread_of(lo: uint256, hi: uint256, mid: uint256) -> uint256:
    """
    @notice Relative spread (hi - lo) / mid of the signers' prices, WAD,
            rounded up (a wider spread is the conservative side); WAD (100%)
            when the spread is at least that (no oracle accepts it).
    @dev Arguments are canonical price floats with lo <= mid <= hi. With one
         exponent the mantissas give the exact quotient; otherwise the
         decoded prices (below 2**220) are scaled down by 2**64 when large,
         the difference rounding up and the median down.
    @param lo Lowest price float.
    @param hi Highest price float.
    @param mid The median price float (non-zero).
    """
    d: uint256 = 0
    m: uint256 = 0
    if lo >> 40 == hi >> 40:
        d = unsafe_sub(hi, lo)  # same exponent: the difference of the mantissas
        m = mid & PRICE_MASK
    else:
        m = self.price_of(mid)
        d = unsafe_sub(self.price_of(hi), self.price_of(lo))
        if m >= 2**190:
            d = unsafe_add(d, 2**64 - 1) >> 64
            m = m >> 64
    if d >= m:
        return WAD
    return unsafe_div(unsafe_add(unsafe_mul(d, WAD), unsafe_sub(m, 1)), m)


@internal
@pure
def price_too_far(old: uint256, new: uint256, rate_per_hour: uint256, dt: uint256) -> bool:
    """
    @notice Whether the price float `new` lies outside old * (1 +- frac),
            frac = min(1, rate_per_hour * dt / HOUR) (rounded down).
    @dev Same exponent: exact, on the mantissas (|new - old| * WAD > old * frac).
         Otherwise on the decoded prices, the allowed step old * frac / WAD
         rounding down (the stricter side).
    @param old The stored price float (non-zero).
    @param new The median price float.
    @param rate_per_hour Largest relative move per hour of observation time, WAD.
    @param dt Seconds of observation time since the stored price (< 2**32).
    """
    frac: uint256 = min(WAD, unsafe_div(unsafe_mul(rate_per_hour, dt), HOUR))
    if old >> 40 == new >> 40:
        mo: uint256 = old & PRICE_MASK
        mn: uint256 = new & PRICE_MASK
        d: uint256 = 0
        if mn > mo:
            d = unsafe_sub(mn, mo)
        else:
            d = unsafe_sub(mo, mn)
        # d, mo < 2**40 and frac <= WAD < 2**60: no overflow
        return unsafe_mul(d, WAD) > unsafe_mul(mo, frac)
    po: uint256 = self.price_of(old)
    pn: uint256 = self.price_of(new)
    # po < 2**220: split so that no product passes 2**256
    step: uint256 = unsafe_add(unsafe_mul(po // WAD, frac), unsafe_div(unsafe_mul(po % WAD, frac), WAD))
    if pn > po:
        return unsafe_sub(pn, po) > step
    return unsafe_sub(po, pn) > step
