"""The replay runs the real model, policy, guardrails and ramp: checked against model functions."""

import numpy as np
import pytest

from oracle import backtest as bt
from oracle import model

W = model.WAD


def test_calm_flat_market_sits_on_the_floor(candles_of):
    c = candles_of(np.full(400, 100.0))
    result, _series = bt.run(c)
    p = model.RiskParams()
    floor = 1 / (1 - p.h_min / W)
    assert result["dynamic"]["median_cr"] == pytest.approx(floor)
    assert result["dynamic"]["breach_rate"] == 0.0 and result["dynamic"]["guard_violations"] == 0
    assert result["static_same_capital"]["cr"] == pytest.approx(result["dynamic"]["mean_cr"])


def test_haircut_matches_the_model_at_every_bar(candles_of):
    rng = np.random.default_rng(5)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 300)))
    c = candles_of(close, volume_quote=50_000.0)  # thin: the liquidity term matters
    cfg = bt.BacktestConfig()
    rep = bt.replay(c, cfg)
    p = cfg.risk
    rate = bt.rate_of(cfg)
    value = cfg.reference_position * bt.LOAN_UNIT
    state = model.RampState(p.h_max, int(c.ts[0]))
    for i in range(len(c)):
        now = int(c.ts[i]) + c.period
        sigma, depth = rep.sigma_wad[i], rep.depth_raw[i]
        # every bar is posted (observed at `now`) and the market poked right after
        base = state.poke_market(model.maint_base_target(p, sigma, rate), now, p, depth)
        assert rep.maint_base[i] == base
        assert state.depth >= depth  # the maintenance depth follows a fall at a bounded pace
        assert rep.h_maint_wad[i] == model.h_maint(p, base, value, state.depth)
    assert rep.guard_violations == 0 and rep.posts == len(c)


def test_ramp_bounds_how_fast_existing_positions_tighten(candles_of):
    close = np.concatenate((np.full(200, 100.0), 100 * np.exp(-0.08 * np.arange(1, 13)), np.full(50, 38.0)))
    c = candles_of(close)
    rep = bt.replay(c, bt.BacktestConfig())
    ramp = model.RiskParams().ramp_per_hour / W
    rises = [b - a for a, b in zip(rep.maint_base, rep.maint_base[1:])]
    assert max(rises) == model.RiskParams().ramp_per_hour  # the crash uses the full ramp, never more
    assert ramp == 0.02
    assert rep.h_maint.max() > 2 * rep.h_maint[199]


def test_posted_sigma_falls_no_faster_than_the_guardrail(candles_of):
    close = np.concatenate((100 * np.exp(0.1 * (np.arange(60) % 2)), np.full(100, 100.0)))
    rep = bt.replay(candles_of(close), bt.BacktestConfig())
    fall = model.GuardParams().sigma_fall_per_hour / W
    ratio = rep.sigma_posted[1:] / rep.sigma_posted[:-1]
    assert ratio.min() >= 1 - fall - 1e-9


def test_too_short_to_evaluate_is_a_user_error(candles_of):
    from oracle.errors import BallastError

    with pytest.raises(BallastError, match="nothing to evaluate"):
        bt.run(candles_of(np.full(50, 100.0)))
