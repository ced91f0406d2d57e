"""oracle/engine.py: the liquidation engine candidates (integer, prices at model.PRICE_SCALE) and their
float twin.

Properties: a health-targeted call reaches its target, the bonus curve is monotone and bounded, dust
is never left, the early write-off leaves a position that can be closed at the bonus, and splitting a
liquidation never pays more than one call (with the parameter condition `EngineParams.check` states:
below the deep line (1 + b_max)(1 - H) a liquidation lowers health, so the curve must be flat there).
The shipped candidate is held to `model.engine` (the contract's mirror): its integer path on positions
inside a market of other borrowers, the candidate formulas with the same parameters, and the float twin
the simulator runs.
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from oracle import engine, model
from oracle.engine import EngineError, EngineParams

WAD = model.WAD
PCT = WAD // 100
H_MIN = model.RiskParams().h_min
EXAMPLES = int(os.environ.get("BALLAST_ENGINE_EXAMPLES", "300"))
prop = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

CURVE = EngineParams(target="init_margin", target_margin=5 * PCT, bonus_min=2 * PCT, bonus_max=5 * PCT)
RISK = model.RiskParams()
SHIPPED = engine.shipped(RISK)
SHIPPED_DUST = engine.shipped(RISK, min_debt=1_000 * 10**6)
TOKEN = 10**24  # price of 1 loan token (6 decimals) per collateral token (18 decimals), at PRICE_SCALE
ENGINES = {
    "today": EngineParams(),
    "target_init": EngineParams(target="init"),
    "maint2": EngineParams(target="maint_margin", target_margin=2 * PCT),
    "curve": CURVE,
    "curve_dust_writeoff": CURVE.replace(min_debt=1_000 * 10**6, early_write_off=True),
    "aave": EngineParams(target="close_factor", close_factor=WAD // 2, full_close_hf=95 * PCT),
    "shipped": SHIPPED,
    "shipped_dust": SHIPPED_DUST,
}

# A position: collateral raw (18 decimals), price (loan raw per collateral raw x 1e36, 6-decimal loan),
# haircuts with H_init >= H_maint >= h_min, and a debt that makes it unhealthy.
price_s = st.integers(TOKEN, 10**6 * TOKEN)  # 1 .. 1,000,000 loan tokens per collateral token
coll_s = st.integers(10**15, 10**24)  # 0.001 .. 1,000,000 tokens
h_s = st.integers(H_MIN, 80 * PCT)
depth_frac_s = st.integers(1, 10_000)  # health factor below 1, in basis points of the line


@st.composite
def position(draw):
    coll, price = draw(coll_s), draw(price_s)
    h_maint = draw(h_s)
    h_init = draw(st.integers(h_maint, min(h_maint + 20 * PCT, 85 * PCT)))
    value = model.collateral_value(coll, price)
    assume(value >= 10**6)
    line = value * (WAD - h_maint) // WAD
    bps = draw(depth_frac_s)  # debt = line / (1 - bps / 10^4 ...): HF = 1 - bps/2e4 .. down to 0.5
    debt = line * 20_000 // (20_000 - bps) + 1
    return coll, debt, price, h_maint, h_init


def _affordable(value, b):
    return max(model.ceil_div(value * WAD, WAD + b), 1)


def _call(p, pos, offered=None):
    coll, debt, price, h_maint, h_init = pos
    ht = engine.target_haircut(p, h_maint, h_init)
    return engine.liquidate(p, coll, debt, price, h_maint, ht, debt if offered is None else offered)


# --- the bonus curve ----------------------------------------------------------------------------------


@given(hf1=st.integers(0, 2 * WAD), hf2=st.integers(0, 2 * WAD))
@prop
def test_bonus_curve_monotone_and_bounded(hf1, hf2):
    lo, hi = sorted((hf1, hf2))
    for p in (CURVE, CURVE.replace(bonus_max=10 * PCT, bonus_slope=2 * WAD)):
        assert p.bonus_min <= engine.bonus(p, hi) <= engine.bonus(p, lo) <= p.bonus_max


def test_bonus_curve_points():
    assert engine.bonus(CURVE, WAD) == 2 * PCT  # at the line
    assert engine.bonus(CURVE, 99 * PCT) == 3 * PCT  # 1% below: 2% + 1 x 1%
    assert engine.bonus(CURVE, 97 * PCT) == 5 * PCT
    assert engine.bonus(CURVE, 10 * PCT) == 5 * PCT  # capped
    assert engine.bonus(EngineParams(), 50 * PCT) == 5 * PCT  # today's: fixed


def test_check_rejects_a_curve_that_is_not_flat_below_the_deep_line():
    # b_min + slope (1 - (1 + b_max)(1 - h_min)) = 2% + 0.5 x 4.3% < 10%: a deep position pays more split
    bad = CURVE.replace(bonus_max=10 * PCT, bonus_slope=WAD // 2)
    with pytest.raises(EngineError, match="deep line"):
        bad.check(H_MIN)
    CURVE.check(H_MIN)
    CURVE.replace(bonus_max=10 * PCT, bonus_slope=2 * WAD).check(H_MIN)
    with pytest.raises(EngineError, match="unknown target"):
        EngineParams(target="nope").check(H_MIN)


# --- health-targeted liquidation -------------------------------------------------------------------------


@given(pos=position())
@prop
def test_target_health_is_reached(pos):
    coll, debt, price, h_maint, h_init = pos
    for name in ("target_init", "maint2", "curve", "shipped"):
        p = ENGINES[name]
        ht = engine.target_haircut(p, h_maint, h_init)
        value = model.collateral_value(coll, price)
        hf = model.health_factor(debt, value, h_maint)
        b = engine.bonus(p, hf)
        out = _call(p, pos)
        assert out.repaid <= debt and out.seized <= coll
        if engine.is_deep(debt, value, b):
            assert out.repaid == min(debt, _affordable(value, b))
            # closed: no debt left, or none of the collateral (bar a raw unit the floors leave)
            assert out.debt == 0 or model.collateral_value(out.collateral, price) <= 1
            continue
        if out.debt == 0:
            continue  # closed whole (the target needed the whole debt)
        # the position left meets its target haircut, in the contract's integer form
        assert model.is_healthy(out.debt, model.collateral_value(out.collateral, price), ht)
        # and not much less would do: the repay rounds up, and its V - 1 (which absorbs the floor of the
        # value after the seizure) costs a few times WAD^2 / (WAD^2 - (1 + b)(1 - H_t)) units at most
        den = WAD * WAD - (WAD + b) * (WAD - ht)
        r = out.repaid - (3 * model.ceil_div(WAD * WAD, den) + 3)
        if r > 0 and out.repaid < debt:
            s = model.seized_collateral(r, price, b, coll)
            assert not model.is_healthy(debt - r, model.collateral_value(coll - s, price), ht)


def test_target_health_hand_checked():
    # 100 tokens at 100.0 (value 10,000), H_maint 20%: line 8,000; debt 8,500 (HF 0.941)
    coll, price, h = 100 * 10**18, 100 * TOKEN, 20 * PCT
    p = EngineParams(target="maint_margin", target_margin=5 * PCT)  # H_t = 25%, fixed bonus 5%
    out = engine.liquidate(p, coll, 8_500 * 10**6, price, h, 25 * PCT, 10**20)
    # r = (D - (V - 1)(1 - H_t)) / (1 - 1.05 x 0.75), in raw units:
    #   (8,500,000,000 - 9,999,999,999 x 0.75) / 0.2125 = 1,000,000,000.75 / 0.2125 = 4,705,882,356.47 -> up
    assert out.repaid == 4_705_882_357
    # seized: 4,705,882,357 x 1.05 = 4,941,176,474.85 loan raw -> 4,941,176,474, at 100 tokens a token
    assert out.seized == 49_411_764_740_000_000_000
    assert out.bad_debt == 0 and out.debt == 8_500 * 10**6 - out.repaid
    # left: 3,794,117,643 of debt against 50.588... tokens = 5,058,823,526 x 0.75 = 3,794,117,644.5: at H_t
    assert model.is_healthy(out.debt, model.collateral_value(out.collateral, price), 25 * PCT)
    assert not model.is_healthy(out.debt + 2, model.collateral_value(out.collateral, price), 25 * PCT)


def test_today_takes_the_whole_debt_and_aave_half():
    coll, price, h = 100 * 10**18, 100 * TOKEN, 20 * PCT
    today = engine.liquidate(EngineParams(), coll, 8_500 * 10**6, price, h, h, 10**20)
    assert today.repaid == 8_500 * 10**6 and today.debt == 0
    aave = ENGINES["aave"]
    half = engine.liquidate(aave, coll, 8_500 * 10**6, price, h, h, 10**20)  # HF 0.941 < 0.95: all
    assert half.repaid == 8_500 * 10**6
    half = engine.liquidate(aave, coll, 8_100 * 10**6, price, h, h, 10**20)  # HF 0.988: 50%
    assert half.repaid == 4_050 * 10**6


def test_healthy_position_is_refused_and_unhealthy_one_is_not():
    coll, price, h = 100 * 10**18, 100 * TOKEN, 20 * PCT
    for p in (CURVE, SHIPPED):
        with pytest.raises(EngineError, match="position healthy"):
            engine.liquidate(p, coll, 8_000 * 10**6, price, h, h, 10**20)
        assert engine.liquidate(p, coll, 8_000 * 10**6 + 1, price, h, h, 10**20).repaid > 0
        with pytest.raises(EngineError, match="zero amount"):
            engine.liquidate(p, coll, 8_500 * 10**6, price, h, h, 0)


# --- dust ---------------------------------------------------------------------------------------------


@given(pos=position(), frac=st.integers(1, 10_000))
@prop
def test_dust_is_never_left(pos, frac):
    debt = pos[1]
    offered = max(1, debt * frac // 10_000)
    for p in (ENGINES["curve_dust_writeoff"], SHIPPED_DUST):
        try:
            out = _call(p, pos, offered)
        except EngineError as exc:
            assert "would leave dust" in str(exc)
            assert offered < debt  # the whole debt is always accepted
            continue
        assert out.debt == 0 or out.debt >= p.min_debt
        assert out.repaid <= offered


def test_dust_hand_checked():
    p = CURVE.replace(min_debt=1_000 * 10**6)
    coll, price, h = 100 * 10**18, 100 * TOKEN, 20 * PCT
    # a small position (debt 900 <= min_debt) is closed whole
    small = engine.liquidate(p, 10 * 10**18, 900 * 10**6, price, h, 25 * PCT, 10**20)
    assert small.repaid == 900 * 10**6 and small.debt == 0
    # a call that would leave 500 of debt is refused unless the liquidator offers the whole debt
    debt = 8_500 * 10**6
    with pytest.raises(EngineError, match="would leave dust"):
        engine.liquidate(p.replace(target="full"), coll, debt, price, h, h, debt - 500 * 10**6)
    whole = engine.liquidate(p.replace(target="full"), coll, debt, price, h, h, debt)
    assert whole.debt == 0
    # without the floor the same call leaves the 500
    left = engine.liquidate(EngineParams(), coll, debt, price, h, h, debt - 500 * 10**6)
    assert left.debt == 500 * 10**6


# --- early write-off ------------------------------------------------------------------------------------


@given(pos=position(), frac=st.integers(1, 10_000))
@prop
def test_early_write_off_leaves_a_position_the_bonus_can_close(pos, frac):
    p = EngineParams(early_write_off=True)  # a partial call on today's engine can leave a deep rest
    coll, debt, price, h_maint, _ = pos
    out = engine.liquidate(p, coll, debt, price, h_maint, h_maint, max(1, debt * frac // 10_000))
    if out.debt:
        cover = model.collateral_value(out.collateral, price) * WAD // (WAD + out.bonus)
        assert out.debt <= cover  # what is left can be liquidated in full at the bonus
    assert out.repaid + out.bad_debt + out.debt == debt


def test_early_write_off_hand_checked():
    # 100 tokens at 50.0 (value 5,000) against 6,000 of debt: deep. A liquidator repays 1,000.
    coll, price, h, debt = 100 * 10**18, 50 * TOKEN, 20 * PCT, 6_000 * 10**6
    late = engine.liquidate(EngineParams(), coll, debt, price, h, h, 1_000 * 10**6)
    assert late.bad_debt == 0 and late.debt == 5_000 * 10**6  # the loss waits for the collateral to run out
    early = engine.liquidate(EngineParams(early_write_off=True), coll, debt, price, h, h, 1_000 * 10**6)
    # seized 21 tokens (1,050 of value); 79 tokens = 3,950 cover 3,950 / 1.05 = 3,761.90 of debt
    assert early.seized == 21 * 10**18
    assert early.debt == 3_950 * 10**6 * WAD // (WAD + 5 * PCT)
    assert early.bad_debt == 5_000 * 10**6 - early.debt


# --- splitting never pays more ----------------------------------------------------------------------------


def _split(p, pos, parts):
    """Liquidate `pos` in several calls at the same price; (total repaid, total seized, bonus of call 1)."""
    coll, debt, price, h_maint, h_init = pos
    repaid = seized = 0
    first = None
    for offered in parts:
        value = model.collateral_value(coll, price)
        if debt == 0 or model.is_healthy(debt, value, h_maint):
            break
        try:
            out = engine.liquidate(p, coll, debt, price, h_maint, engine.target_haircut(p, h_maint, h_init), offered)
        except EngineError:
            break
        first = out.bonus if first is None else first
        repaid += out.repaid
        seized += out.seized
        coll, debt = out.collateral, out.debt
    return repaid, seized, first


@given(pos=position(), cuts=st.lists(st.integers(1, 10_000), min_size=2, max_size=5))
@prop
def test_splitting_never_pays_more_than_one_call(pos, cuts):
    for name in ("curve", "curve_dust_writeoff", "today", "maint2", "shipped", "shipped_dust"):
        p = ENGINES[name]
        p.check(H_MIN)
        debt = pos[1]
        parts = [max(1, debt * c // 10_000) for c in cuts]
        repaid, seized, b1 = _split(p, pos, parts)
        if repaid == 0:
            continue
        # the split's collateral per unit repaid is never above the first call's bonus: the same repaid
        # in one call at that bonus would get at least as much
        assert seized <= model.seized_collateral(repaid, pos[2], b1, 2**200)


def test_splitting_pays_more_when_the_curve_rises_below_the_deep_line():
    # the care the property needs: a curve that still rises below the deep line (check() rejects it).
    # A deep position (V < (1 + b) D) loses health with every partial call, so its bonus keeps rising.
    bad = EngineParams(bonus_min=2 * PCT, bonus_max=20 * PCT, bonus_slope=WAD // 2)
    with pytest.raises(EngineError):
        bad.check(H_MIN)
    coll, price, h = 100 * 10**18, 100 * TOKEN, H_MIN
    debt = 9_800 * 10**6  # value 10,000: HF = 10,000 x 0.87 / 9,800 = 0.888, below the deep line 0.9135
    pos = (coll, debt, price, h, h)
    one_r, one_s, _ = _split(bad, pos, [2_000 * 10**6])
    many_r, many_s, _ = _split(bad, pos, [500 * 10**6] * 4)
    assert one_r == many_r == 2_000 * 10**6
    assert many_s > one_s  # splitting paid more
    # the shipped curve is flat there, so the same split pays the same
    one_r, one_s, _ = _split(CURVE, pos, [2_000 * 10**6])
    many_r, many_s, _ = _split(CURVE, pos, [500 * 10**6] * 4)
    assert many_s <= one_s
    one_r, one_s, _ = _split(SHIPPED, pos, [2_000 * 10**6])
    many_r, many_s, _ = _split(SHIPPED, pos, [500 * 10**6] * 4)
    assert one_r == many_r == 2_000 * 10**6 and many_s <= one_s


# --- the float twin the simulator uses -------------------------------------------------------------------


def _near_a_boundary(p, coll, debt, price, h_maint, out) -> bool:
    """Inputs within rounding of a decision of the engine (deep line, close-factor threshold, dust floor),
    where integer rounding and exact floats may legitimately decide differently."""
    value = model.collateral_value(coll, price)
    hf = model.health_factor(debt, value, h_maint)
    deep = abs(value * WAD - debt * (WAD + out.bonus)) <= debt * WAD // 10**5
    cf = p.target == "close_factor" and abs(hf - p.full_close_hf) <= WAD // 10**5
    dust = p.min_debt > 0 and abs(debt - out.repaid - p.min_debt) <= p.min_debt // 10**4 + 1
    # without the early write-off, bad debt waits for zero collateral: the integer seizure's floors can
    # leave a raw unit or two (at most ceil(1e36 / price)) that the twin counts as none
    emptied = not p.early_write_off and 0 < out.collateral <= 2 * model.ceil_div(model.PRICE_SCALE, price) + 2
    return deep or cf or dust or emptied


@given(pos=position(), frac=st.integers(1, 10_000))
@prop
def test_float_twin_matches_the_integer_engine(pos, frac):
    coll, debt, price, h_maint, h_init = pos
    assume(debt >= 100 * 10**6)  # the twin has no rounding: compare where a raw unit is small
    offered = max(1, debt * frac // 10_000)
    unit_c, unit_l = 10**18, 10**6
    for p in ENGINES.values():
        ht = engine.target_haircut(p, h_maint, h_init)
        try:
            out = engine.liquidate(p, coll, debt, price, h_maint, ht, offered)
        except EngineError:
            continue
        fp = engine.FloatParams.of(p, unit_l)
        r, s, bad, b = engine.liquidate_vec(
            fp, np.array([coll / unit_c]), np.array([debt / unit_l]), price / TOKEN, np.array([h_maint / WAD]),
            np.array([ht / WAD]), np.array([offered / unit_l]),
        )
        tol_r = (1e-6 * debt + 100) / unit_l  # rounding: the integer repay's ceil and V - 1 (a few units)
        tol_s = tol_r * 1.2 / (price / TOKEN) + 1e-6 * coll / unit_c
        agree = (
            abs(b[0] - out.bonus / WAD) < 1e-7  # the integer HF floors the value: a few 1e-9
            and abs(r[0] - out.repaid / unit_l) <= tol_r
            and abs(s[0] - out.seized / unit_c) <= tol_s
            and abs(bad[0] - out.bad_debt / unit_l) <= tol_r
        )
        assert agree or _near_a_boundary(p, coll, debt, price, h_maint, out), (p, out, r, s, bad, b)


# --- the shipped engine is the contract's (model.engine, the mirror of market_math.engine) -----------------


@st.composite
def market_position(draw):
    """An unhealthy position inside a market of other borrowers: (collateral, shares, total_debt,
    total_shares, price, h_maint, h_init), the shares priced at an arbitrary debt per share."""
    coll, debt, price, h_maint, h_init = draw(position())
    total_shares = draw(st.integers(10**6, 10**30))
    # debt per share between 1e-9 and 1e3 loan raw units per share unit, then the position's shares
    shares = draw(st.integers(1, total_shares))
    total_debt = draw(st.integers(max(shares // 10**6, 1), shares * 1_000))
    assume(model.to_debt(shares, total_debt, total_shares, True) >= 1)
    # scale the collateral so the position is unhealthy with this debt
    d = model.to_debt(shares, total_debt, total_shares, True)
    v = model.collateral_value(coll, price)
    assume(v > 0)
    coll = coll * d // debt
    v = model.collateral_value(coll, price)
    assume(v > 0 and not model.is_healthy(d, v, h_maint))
    return coll, shares, total_debt, total_shares, price, h_maint, h_init


@given(mp=market_position(), frac=st.integers(1, 10_000), room_bps=st.integers(0, 20_000),
       dust=st.sampled_from([0, 10**6, 1_000 * 10**6]))
@prop
def test_shipped_integer_path_is_model_engine(mp, frac, room_bps, dust):
    """engine.liquidate(shipped) on the position alone = model.engine on the position in its market:
    repaid, seized and bonus to the wei; the write-off and the debt left to the rounding of the shares."""
    coll, shares, td, ts, price, h_maint, h_init = mp
    debt = model.to_debt(shares, td, ts, True)
    p = engine.shipped(RISK, min_debt=dust)
    ht = engine.target_haircut(p, h_maint, h_init)
    assert ht == model.target_haircut(RISK, h_maint, h_init)
    offered = max(1, debt * frac // 10_000)
    v = model.collateral_value(coll, price)
    room = model.MAX_VALUE if room_bps == 20_000 else v * room_bps // 10_000
    try:
        want = model.engine(RISK, coll, shares, td, ts, price, h_maint, h_init, offered, room, dust)
    except model.LiquidationRefused as exc:
        with pytest.raises(EngineError, match=str(exc)):
            engine.liquidate(p, coll, debt, price, h_maint, ht, offered, room)
        return
    # the shares' rounding: one share of this market is worth at most ceil((td + 1) / (ts + 1e6)) raw
    share = model.ceil_div(td + 1, ts + model.VIRTUAL_DEBT_SHARES) + 1
    try:
        got = engine.liquidate(p, coll, debt, price, h_maint, ht, offered, room)
    except EngineError as exc:  # only at the dust line, where the debt left differs by the shares' rounding
        assert dust and "dust" in str(exc) and abs(want.debt_left - dust) <= 2 * share
        return
    assert (got.repaid, got.seized, got.bonus) == (want.repaid, want.seized, want.bonus)
    assert got.collateral == coll - want.seized
    assert abs(got.bad_debt - want.bad) <= 2 * share
    assert abs(got.debt - want.debt_left) <= 2 * share
    assert got.repaid + got.bad_debt + got.debt == debt  # one position alone: every raw unit accounted


@given(pos=position(), frac=st.integers(1, 10_000), dust=st.sampled_from([0, 10**6, 1_000 * 10**6]))
@prop
def test_candidate_formulas_with_the_shipped_parameters_are_model_engine(pos, frac, dust):
    """The integer formulas of the other candidates, configured as the shipped engine (no `risk`), give
    model.engine's result to the wei: the candidates and the contract share one arithmetic."""
    coll, debt, price, h_maint, h_init = pos
    p = engine.shipped(RISK, min_debt=dust)
    plain = p.replace(risk=None)
    ht = engine.target_haircut(p, h_maint, h_init)
    offered = max(1, debt * frac // 10_000)
    try:
        want = engine.liquidate(p, coll, debt, price, h_maint, ht, offered)
    except EngineError as exc:
        with pytest.raises(EngineError, match=str(exc)):
            engine.liquidate(plain, coll, debt, price, h_maint, ht, offered)
        return
    assert engine.liquidate(plain, coll, debt, price, h_maint, ht, offered) == want


def test_shipped_is_the_market_parameters():
    p = engine.shipped()
    assert p.risk == RISK and p.target == "init_margin" and p.target_margin == RISK.target_margin == 5 * PCT
    assert (p.bonus_min, p.bonus_max, p.bonus_slope) == (2 * PCT, 5 * PCT, RISK.bonus_slope)
    assert p.early_write_off and p.hourly_cap == RISK.liq_cap == WAD
    p.check(RISK.h_min)
    # the market's slope makes the bonus reach its most exactly at the deep line of h_min
    deep = (WAD + RISK.bonus) * (WAD - RISK.h_min) // WAD
    assert engine.bonus(p, deep) == RISK.bonus == model.bonus_at(RISK, deep)
    assert engine.bonus(p, deep + 10**12) < RISK.bonus
    for hf in (0, deep, 95 * PCT, WAD - 1, WAD, 2 * WAD):
        assert engine.bonus(p, hf) == model.bonus_at(RISK, hf)
    # a field that disagrees with its RiskParams is refused
    with pytest.raises(EngineError, match="shipped"):
        p.replace(bonus_slope=WAD).check(RISK.h_min)
    # the stress candidate is this engine with H_init's floor h_min + init_gap and no buffer
    from oracle import stress

    cfg = stress.candidate_config("shipped")
    assert cfg.engine == p.replace(min_debt=0) and cfg.apc == "none"
    assert cfg.init_floor == (RISK.h_min + RISK.init_gap) / WAD == 0.18
    assert stress.DEFAULT_CANDIDATE == "shipped"


def test_shipped_hand_checked():
    # 100 tokens at 100.0 (value 10,000), H_maint 20%, H_init 22%: line 8,000; debt 8,500 (HF 0.9411...)
    coll, price, h, hi = 100 * 10**18, 100 * TOKEN, 20 * PCT, 22 * PCT
    out = engine.liquidate(SHIPPED, coll, 8_500 * 10**6, price, h, engine.target_haircut(SHIPPED, h, hi), 10**20)
    # bonus = 2% + 0.34682081 x (1 - 0.941176470588235294) = 2% + 2.0401224...% = 4.0401...%
    hf = 10_000 * 10**6 * (WAD - h) // (8_500 * 10**6)
    assert out.bonus == 2 * PCT + RISK.bonus_slope * (WAD - hf) // WAD
    assert 4.04 < out.bonus / PCT < 4.041
    # target max(22%, 20% + 5%) = 25%: r = (8,500 - 9,999.999999 x 0.75) / (1 - 1.0404... x 0.75)
    b = out.bonus / WAD
    assert abs(out.repaid / 1e6 - (8_500 - 9_999.999999 * 0.75) / (1 - (1 + b) * 0.75)) < 1e-3
    assert model.is_healthy(out.debt, model.collateral_value(out.collateral, price), 25 * PCT)
    # the hourly cap: room for 1,000 of collateral value repays 1,000 / (1 + b), and none refuses
    capped = engine.liquidate(SHIPPED, coll, 8_500 * 10**6, price, h, 25 * PCT, 10**20, room=1_000 * 10**6)
    assert capped.repaid == 1_000 * 10**6 * WAD // (WAD + out.bonus)
    with pytest.raises(EngineError, match="liquidation cap reached"):
        engine.liquidate(SHIPPED, coll, 8_500 * 10**6, price, h, 25 * PCT, 10**20, room=0)


@given(pos=position(), frac=st.integers(1, 10_000), dust=st.sampled_from([0, 1_000 * 10**6]))
@prop
def test_shipped_float_twin_matches_model_engine(pos, frac, dust):
    """The simulator's float twin with the shipped parameters against model.engine (via the shipped
    integer path, itself held to model.engine above), outside the rounding of a decision boundary."""
    coll, debt, price, h_maint, h_init = pos
    assume(debt >= 100 * 10**6)
    p = engine.shipped(RISK, min_debt=dust)
    ht = engine.target_haircut(p, h_maint, h_init)
    offered = max(1, debt * frac // 10_000)
    shares = debt * model.VIRTUAL_DEBT_SHARES
    try:
        want = model.engine(RISK, coll, shares, debt, shares, price, h_maint, ht, offered, model.MAX_VALUE, dust)
    except model.LiquidationRefused:
        return  # would leave dust: the simulator's liquidator declines such a cut (oracle.stress._cascade)
    fp = engine.FloatParams.of(p, 10**6)
    assert fp.min_debt == dust / 10**6 and abs(fp.bonus_slope - RISK.bonus_slope / WAD) < 1e-15
    r, s, bad, b = engine.liquidate_vec(
        fp, np.array([coll / 1e18]), np.array([debt / 1e6]), price / TOKEN, np.array([h_maint / WAD]),
        np.array([ht / WAD]), np.array([offered / 1e6]),
    )
    out = engine.Outcome(want.repaid, want.seized, want.bad, want.bonus, want.debt_left, coll - want.seized)
    tol_r = (1e-6 * debt + 100) / 1e6
    agree = (
        abs(b[0] - want.bonus / WAD) < 1e-7
        and abs(r[0] - want.repaid / 1e6) <= tol_r
        and abs(s[0] - want.seized / 1e18) <= tol_r * 1.2 / (price / TOKEN) + 1e-6 * coll / 1e18
        and abs(bad[0] - want.bad / 1e6) <= tol_r
    )
    assert agree or _near_a_boundary(p, coll, debt, price, h_maint, out), (want, r, s, bad, b)


# --- anti-procyclicality -----------------------------------------------------------------------------------


def test_apc_transforms():
    assert engine.apc_buffer(13 * PCT, 13 * PCT) == model.ceil_div(13 * PCT * 125, 100)  # calm: the buffer
    assert engine.apc_buffer(30 * PCT, 13 * PCT) == 30 * PCT  # a rise consumes it first
    s = engine.apc_stress_sigma(WAD // 2, 2 * WAD)  # sqrt(0.75 x 0.25 + 0.25 x 4) = 1.0897
    assert s == model.isqrt(model.ceil_div(75 * PCT * (WAD // 2) ** 2 + 25 * PCT * (2 * WAD) ** 2, WAD)) + 1
    assert abs(s / WAD - (0.75 * 0.25 + 0.25 * 4) ** 0.5) < 1e-12
    assert engine.apc_stress_sigma(WAD, WAD) == WAD
    assert engine.apc_floor_sigma(WAD // 2, WAD) == WAD and engine.apc_floor_sigma(2 * WAD, WAD) == 2 * WAD


def test_hourly_cap_room():
    p = EngineParams(hourly_cap=WAD // 2)
    room, window = engine.cap_room(p, 0, 0, 10 * 3600 + 5, 1_000)
    assert (room, window) == (500, 10)
    assert engine.cap_room(p, 400, 10, 10 * 3600 + 3599, 1_000) == (100, 10)
    assert engine.cap_room(p, 600, 10, 10 * 3600 + 1, 1_000) == (0, 10)
    assert engine.cap_room(p, 600, 10, 11 * 3600, 1_000) == (500, 11)  # a new hour
