"""oracle/model.py must equal contracts/modules/risk_model.vy to the wei, on random and extreme inputs."""

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oracle import model

EXAMPLES = int(os.environ.get("BALLAST_MIRROR_EXAMPLES", "1000"))
WAD = model.WAD

mirror = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

# Domains: what the contracts can actually be given (bounded by their setters and storage packing),
# with the extremes of each drawn often.
sigma_s = st.one_of(st.sampled_from([0, 1, model.SIGMA_UNIT, 20 * WAD, model.MAX_SIGMA_UNITS * model.SIGMA_UNIT]),
                    st.integers(0, model.MAX_SIGMA_UNITS * model.SIGMA_UNIT))
wad_s = st.one_of(st.sampled_from([0, 1, WAD - 1, WAD]), st.integers(0, WAD))
coef_s = st.one_of(st.sampled_from([0, 1, 10 * WAD]), st.integers(0, 10 * WAD))
horizon_s = st.one_of(st.sampled_from([1, 60, 3_600, 7 * 86_400, 30 * 86_400]), st.integers(1, 30 * 86_400))
value_s = st.one_of(st.sampled_from([0, 1, 2**128 - 1]), st.integers(0, 2**128 - 1))
depth_s = st.one_of(st.sampled_from([0, 1, model.MAX_DEPTH]), st.integers(0, model.MAX_DEPTH))
time_s = st.integers(0, 2**32 - 1)
rate_s = st.one_of(st.sampled_from([0, 10 * WAD]), st.integers(0, 10 * WAD))


@pytest.fixture(scope="module")
def harness(project, admin):
    return admin.deploy(project.RiskModelHarness)


@mirror
@given(z=st.integers(0, 20 * WAD), horizon=horizon_s)
def test_vol_coefficient(harness, z, horizon):
    assert harness.vol_coefficient(z, horizon) == model.vol_coefficient(z, horizon)


@mirror
@given(sigma=sigma_s, vol_coef=coef_s, rate=rate_s, horizon=horizon_s, bonus=wad_s)
def test_base_haircut(harness, sigma, vol_coef, rate, horizon, bonus):
    assert harness.base_haircut(sigma, vol_coef, rate, horizon, bonus) == model.base_haircut(
        sigma, vol_coef, rate, horizon, bonus
    )


@mirror
@given(value=value_s, depth=depth_s, slip=coef_s, h_max=wad_s)
def test_liquidity_term(harness, value, depth, slip, h_max):
    assert harness.liquidity_term(value, depth, slip, h_max) == model.liquidity_term(value, depth, slip, h_max)


@mirror
@given(h=st.integers(0, 2**128), lo=wad_s, hi=wad_s)
def test_clamp(harness, h, lo, hi):
    assert harness.clamp(h, lo, hi) == model.clamp(h, lo, hi)


@mirror
@given(current=wad_s, target=wad_s, elapsed=st.integers(0, 10**9), per_hour=wad_s)
def test_ramp(harness, current, target, elapsed, per_hour):
    assert harness.ramp(current, target, elapsed, per_hour) == model.ramp(current, target, elapsed, per_hour)


@mirror
@given(sigma=sigma_s, observed=time_s, now=time_s, stale_after=st.integers(1, 30 * 86_400), stale_sigma=sigma_s)
def test_effective_sigma(harness, sigma, observed, now, stale_after, stale_sigma):
    assert harness.effective_sigma(sigma, observed, now, stale_after, stale_sigma) == model.effective_sigma(
        sigma, observed, now, stale_after, stale_sigma
    )


@mirror
@given(h=st.integers(0, WAD - 1))
def test_collateral_ratio(harness, h):
    assert harness.collateral_ratio(h) == model.collateral_ratio(h)


@mirror
@given(u=wad_s, base=rate_s, s1=rate_s, s2=rate_s, kink=st.integers(1, WAD - 1))
def test_borrow_rate(harness, u, base, s1, s2, kink):
    assert harness.borrow_rate(u, base, s1, s2, kink) == model.borrow_rate(u, base, s1, s2, kink)


def test_rounding_direction_is_pinned(harness):
    """The comparisons above can tell rounding directions apart: on an input where ceiling and floor
    differ, the contract and the mirror both round up (towards a larger haircut), and a floor-rounding
    mirror would not match."""
    assert harness.liquidity_term(10, 3, 1, WAD) == model.liquidity_term(10, 3, 1, WAD) == 4
    assert harness.liquidity_term(10, 3, 1, WAD) != 10 * 1 // 3
    assert harness.base_haircut(1, 1, 1, 1, 0) == model.base_haircut(1, 1, 1, 1, 0) == 2


gap_s = st.one_of(st.sampled_from([0, model.PPB, WAD]), st.integers(0, WAD // model.PPB).map(lambda x: x * model.PPB))
fraction_s = st.one_of(st.sampled_from([0, 1, model.PPB]), st.integers(0, model.PPB))


@mirror
@given(base=wad_s, gap=gap_s, depth=depth_s, depth_gap=fraction_s, elapsed=st.integers(0, 10**8), target=wad_s,
       posted=depth_s, per_hour=wad_s, h_max=wad_s)  # fmt: skip
def test_ramp_poke(harness, base, gap, depth, depth_gap, elapsed, target, posted, per_hour, h_max):
    args = (base, gap, depth, depth_gap, elapsed, target, posted, per_hour, h_max)
    assert tuple(harness.ramp_poke(*args)) == model.ramp_poke(*args)


@mirror
@given(u_ema=wad_s, u_prev=wad_s, dt=st.one_of(st.sampled_from([0, 1, 3_599, 3_600, 10**6]), st.integers(0, 10**7)))
def test_ema_utilisation(harness, u_ema, u_prev, dt):
    assert harness.ema_utilisation(u_ema, u_prev, dt) == model.ema_utilisation(u_ema, u_prev, dt)


@mirror
@given(debt=value_s, rate=rate_s, dt=st.integers(0, 2**32 - 1))
def test_interest(harness, debt, rate, dt):
    assert harness.interest(debt, rate, dt) == model.interest(debt, rate, dt)


price_bits_s = st.one_of(
    st.sampled_from([1, model.PRICE_MASK, (model.MAX_PRICE_EXP << 40) | model.PRICE_MASK]),
    st.integers(1, model.MAX_PRICE).map(model.encode_price),
)


@mirror
@given(bits=price_bits_s)
def test_price_of(harness, bits):
    assert harness.price_of(bits) == model.price_of(bits)


@mirror
@given(depth=st.integers(1, model.MAX_DEPTH))
def test_depth_of(harness, depth):
    bits = model.encode_depth(depth)
    assert harness.depth_of(bits) == model.depth_of(bits) == model.round_depth(depth) <= depth


@mirror
@given(prices=st.lists(price_bits_s, min_size=3, max_size=3))
def test_spread_of(harness, prices):
    lo, mid, hi = sorted(prices)
    assert harness.spread_of(lo, hi, mid) == model.spread_of(lo, hi, mid)


@mirror
@given(old=price_bits_s, new=price_bits_s, rate=st.integers(10**16, 10 * WAD), dt=st.integers(0, 2**32 - 1))
def test_price_too_far(harness, old, new, rate, dt):
    assert harness.price_too_far(old, new, rate, dt) == model.price_too_far(old, new, rate, dt)


@mirror
@given(old=st.integers(1, model.MAX_PRICE).map(model.round_price), new=st.integers(1, model.MAX_PRICE),
       rate=st.integers(10**16, 10 * WAD), dt=st.integers(1, 10**6))  # fmt: skip
def test_clip_price_is_accepted(harness, old, new, rate, dt):
    """What the keeper clips to is what the contract accepts (and a float it can carry)."""
    g = model.GuardParams(max_price_move_per_hour=rate)
    p = model.clip_price(old, new, dt, g)
    assert model.round_price(p) == p
    assert not harness.price_too_far(model.encode_price(old), model.encode_price(p), rate, dt)


@mirror
@given(collateral=value_s, price=st.one_of(st.sampled_from([0, 1, model.MAX_PRICE]), st.integers(0, model.MAX_PRICE)))
def test_value(harness, collateral, price):
    assert harness.value(collateral, price) == model.collateral_value(collateral, price)
