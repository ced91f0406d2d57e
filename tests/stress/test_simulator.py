"""The simulator's accounting on small hand-checked cases, its exactness against the keeper's code, and
its shortcuts against an exhaustive run. No value is created or lost except through the stated price
impact (the pool) and bad debt."""

import math

import numpy as np
import pytest
from stress_helpers import make_candles, one_position

from oracle import backtest as bt
from oracle import engine, metrics, stress
from oracle.engine import EngineParams
from oracle.sources.csv import load_candles

FIXED = {"ratio": "fixed", "h_maint": 0.20, "h_init": 0.25}
TODAY = EngineParams()


def _setup(close, low=None, volume_quote=1e6, engine_params=TODAY, fraction=0.8, manager=False):
    candles = make_candles(close, low=low, volume_quote=volume_quote)
    cfg = stress.StressConfig(population=stress.PopulationParams(borrowers=1, scale=1.0))
    hist = stress.history(candles, cfg)
    hist.scale[:] = 10_000.0  # the position: collateral worth 10,000 at opening (n_active = 1)
    pop = one_position(hist, 200, fraction, manager)
    spec = stress.ModelSpec("t", engine=engine_params, **FIXED)
    return candles, cfg, hist, pop, spec


def _flat_with_crash(low_at_crash: float, n: int = 260, crash: int = 230):
    close = np.full(n, 100.0)
    low = close.copy()
    low[crash] = low_at_crash
    return close, low


def test_liquidation_hand_checked_without_impact():
    # flat prices: sigma decays to 0, the posted depth is enormous, the impact negligible
    close, low = _flat_with_crash(70.0)
    _, cfg, hist, pop, spec = _setup(close, low)
    run = stress.simulate(hist, pop, spec, cfg)
    t = run.totals
    # opened at 100: 100 units of collateral, debt 0.8 x 10,000 x (1 - 0.25) = 6,000; line at 75
    assert t["borrowed"] == pytest.approx(6_000.0) and t["collateral_deposited"] == pytest.approx(100.0)
    # at 70 (< 75): today's engine repays all 6,000 and seizes 6,000 x 1.05 / 70 = 90 units
    assert t["repaid_by_liquidators"] == pytest.approx(6_000.0)
    assert t["collateral_seized"] == pytest.approx(90.0)
    assert run.liquidated[230] == pytest.approx(6_300.0) and run.positions[230] == 1
    assert run.liquidated.sum() == pytest.approx(6_300.0)
    # the 10 units left go back to the borrower; no bad debt; the price did not move
    assert t["collateral_withdrawn"] == pytest.approx(10.0) and t["bad_debt_written_off"] == 0.0
    assert abs(run.displacement).max() < 1e-12 and run.hour_impact.max() < 1e-12
    # the liquidator earned the bonus less gas (0.1% of the 10,000 position)
    profit = t["liquidator_proceeds"] - t["repaid_by_liquidators"] - t["liquidator_gas"]
    assert t["liquidator_gas"] == pytest.approx(10.0) and profit == pytest.approx(300.0 - 10.0, rel=1e-6)
    assert stress.summarise(run, hist)["bad_debt_share"] == 0.0


def test_bad_debt_hand_checked():
    close, low = _flat_with_crash(50.0)
    _, cfg, hist, pop, spec = _setup(close, low)
    run = stress.simulate(hist, pop, spec, cfg)
    t = run.totals
    # at 50 the collateral (5,000) pays 5,000 / 1.05 = 4,761.90 of the 6,000: the rest is bad debt
    assert t["collateral_seized"] == pytest.approx(100.0)
    assert t["repaid_by_liquidators"] == pytest.approx(5_000 / 1.05)
    assert t["bad_debt_written_off"] == pytest.approx(6_000 - 5_000 / 1.05)
    assert stress.summarise(run, hist)["bad_debt_share"] == pytest.approx((6_000 - 5_000 / 1.05) / 6_000)


def test_no_liquidation_above_the_line():
    close, low = _flat_with_crash(75.5)  # the line is at 75
    _, cfg, hist, pop, spec = _setup(close, low)
    run = stress.simulate(hist, pop, spec, cfg)
    assert run.totals["liquidations"] == 0 and run.liquidated.sum() == 0.0


def test_health_target_hand_checked():
    close, low = _flat_with_crash(70.0)
    target = EngineParams(target="maint_margin", target_margin=engine.WAD // 20)  # H_t = 25%
    _, cfg, hist, pop, spec = _setup(close, low, engine_params=target)
    run = stress.simulate(hist, pop, spec, cfg)
    t = run.totals
    # r = (6,000 - 7,000 x 0.75) / (1 - 1.05 x 0.75) = 750 / 0.2125 = 3,529.41; seized r x 1.05 / 70
    r = 750 / 0.2125
    assert t["repaid_by_liquidators"] == pytest.approx(r) and t["liquidations"] == 1
    assert t["collateral_seized"] == pytest.approx(r * 1.05 / 70)
    # the position is left exactly at its target at 70, stays open, and owes nothing more at the end
    coll, debt = 100 - r * 1.05 / 70, 6_000 - r
    assert debt / (coll * 70) == pytest.approx(0.75)
    assert t["open_debt_at_end"] == pytest.approx(debt) and t["uncovered_at_end"] == 0.0


def test_price_impact_and_recovery_hand_checked():
    rng = np.random.default_rng(3)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.004, 260)))
    close[229:] = close[228]
    low = close.copy()
    i = 230
    low[i] = 0.7 * close[i]  # a wick 30% down: the line (75% of the opening price) is crossed
    _, cfg, hist, pop, spec = _setup(close, low, volume_quote=2_000.0)
    run = stress.simulate(hist, pop, spec, cfg)
    t = run.totals
    assert run.totals["liquidations"] == 1 and run.liquidated[:i].sum() == 0
    depth = run.keeper["depth"][i - 1] / bt.LOAN_UNIT  # posted at the previous close
    y = 49 * depth
    p_low = low[i]
    sold = t["collateral_seized"]
    # the constant-product pool of 2%-depth D: spot after = p (y / (y + q))^2, q = value sold at spot
    p_after = p_low * (y / (y + sold * p_low)) ** 2
    assert run.hour_impact[i] == pytest.approx(1 - p_after / p_low, rel=1e-9)
    assert t["liquidator_proceeds"] == pytest.approx(y * sold / (y / p_low + sold), rel=1e-12)
    assert run.displacement[i] == pytest.approx(math.log(p_after / p_low), rel=1e-9)
    assert run.close[i] == pytest.approx(close[i] * p_after / p_low, rel=1e-9)
    # the displacement halves in 24 hours, and the next hours start from the impacted price
    for k in (1, 2, 24):
        assert run.displacement[i + k] == pytest.approx(run.displacement[i] * 2 ** (-k / 24), rel=1e-9)
        assert run.close[i + k] == pytest.approx(close[i + k] * math.exp(run.displacement[i + k]), rel=1e-9)
    # the impact is what the liquidator lost against the price: seized value - proceeds
    assert run.liquidated[i] - t["liquidator_proceeds"] == pytest.approx(sold * (p_low - y / (y / p_low + sold)))


def test_careful_borrower_tops_up_and_is_not_liquidated():
    # debt 0.95 x 10,000 x 0.75 = 7,125 on 100 units; at 92 HF = 92 x 100 x 0.8 / 7,125 = 1.033 < 1.10
    close = np.concatenate((np.full(225, 100.0), np.full(35, 92.0)))
    low = close.copy()
    low[230] = 85.0  # HF 0.954 for a position left alone
    _, cfg, hist, pop, spec = _setup(close, low, fraction=0.95, manager=False)
    careless = stress.simulate(hist, pop, spec, cfg)
    assert careless.totals["topups"] == 0 and careless.totals["liquidations"] == 1
    _, cfg, hist, pop, spec = _setup(close, low, fraction=0.95, manager=True)
    careful = stress.simulate(hist, pop, spec, cfg)
    # at the close of 225 it adds collateral up to HF 1.25: 1.25 x 7,125 / (92 x 0.8) - 100 = 21.01 units
    assert careful.totals["topups"] == 1
    assert careful.totals["collateral_topped_up"] == pytest.approx(1.25 * 7_125 / (92 * 0.8) - 100)
    assert careful.totals["liquidations"] == 0  # at 85: HF 1.155


def _identities(run):
    t = run.totals
    debt_in = t["borrowed"]
    debt_out = t["repaid_by_borrowers"] + t["repaid_by_liquidators"] + t["bad_debt_written_off"] + t["open_debt_at_end"]
    coll_in = t["collateral_deposited"] + t["collateral_topped_up"]
    coll_out = t["collateral_withdrawn"] + t["collateral_seized"] + t["open_collateral_at_end"]
    return debt_in, debt_out, coll_in, coll_out


@pytest.mark.parametrize("candidate", ["today", "curve_dust_writeoff", "cap50", "auction100", "shipped"])
def test_accounting_on_a_population(fixture_csv, candidate):
    candles = load_candles(fixture_csv)
    cfg = stress.candidate_config(candidate).replace(
        population=stress.PopulationParams(borrowers=150, scale=3.0)  # large: liquidations move the price
    )
    result, detail = stress.run(candles, cfg)
    assert result["models"]["fixed_same_capital"]["mean_cr"] == pytest.approx(result["models"]["dynamic"]["mean_cr"])
    for name, run in detail["runs"].items():
        debt_in, debt_out, coll_in, coll_out = _identities(run)
        assert debt_out == pytest.approx(debt_in, rel=1e-9), name
        assert coll_out == pytest.approx(coll_in, rel=1e-9), name
        t = run.totals
        if t["liquidations"] and not stress.CANDIDATES[candidate][0].auction:
            # liquidators never lose, and never get more than the collateral's value at the price
            assert t["liquidator_proceeds"] - t["repaid_by_liquidators"] - t["liquidator_gas"] >= 0, name
            assert t["liquidator_proceeds"] <= run.liquidated.sum() * (1 + 1e-12), name
        assert run.totals["guard_violations"] == 0
    assert any(r.totals["liquidations"] for r in detail["runs"].values())


def test_shortcuts_change_nothing(fixture_csv):
    """The skip bounds and the set-aside of unprofitable positions against the vectors every hour."""
    candles = load_candles(fixture_csv)
    cfg = stress.candidate_config("curve_dust_writeoff").replace(
        population=stress.PopulationParams(borrowers=120, scale=2.0)
    )
    hist = stress.history(candles, cfg)
    pop = stress.population(hist, cfg.population, cfg.seed)
    for spec in (stress.ballast_spec(cfg), stress.anchor_specs()["aave_v3_weth"]):
        fast = stress.simulate(hist, pop, spec, cfg)
        slow = stress.simulate(hist, pop, spec, cfg, exhaustive=True)
        assert slow.totals["vector_hours"] > fast.totals["vector_hours"]
        assert np.array_equal(fast.liquidated, slow.liquidated)
        assert np.array_equal(fast.close, slow.close)
        assert fast.totals["bad_debt_written_off"] == slow.totals["bad_debt_written_off"]
        assert fast.totals["topups"] == slow.totals["topups"]


def test_online_estimator_is_measure_bit_for_bit(fixture_csv):
    candles = load_candles(fixture_csv)
    hist = stress.history(candles, stress.StressConfig())
    est = stress.OnlineEstimator(hist, metrics.EstimatorParams())
    out = [est.step(i, est.sample(i, 0.0, 0.0, 0.0, 0.0) if i else 0.0) for i in range(len(candles))]
    sigma, depth = metrics.measure(candles)
    assert np.array_equal(np.array([s for s, _ in out]), sigma)
    assert np.array_equal(np.array([d for _, d in out]), depth)


def test_keeper_is_the_backtest_replay_when_nothing_is_liquidated(fixture_csv):
    candles = load_candles(fixture_csv)
    cfg = stress.StressConfig()
    hist = stress.history(candles, cfg)
    empty = stress.Population(*(np.zeros(0, dtype=np.int64) for _ in range(5)), np.zeros(1000, bool), 1.0)
    run = stress.simulate(hist, empty, stress.ballast_spec(cfg), cfg)
    rep = bt.replay(candles, bt.BacktestConfig())
    assert run.keeper["sigma"] == rep.sigma_wad
    assert run.keeper["depth"] == rep.depth_raw
    assert run.keeper["maint_base"] == rep.maint_base
    assert run.totals["guard_violations"] == 0
    # the posted price is the close at model.PRICE_SCALE (loan raw per collateral raw x 1e36: a token
    # price of 1 is 1e24 for a 6-decimal loan and an 18-decimal collateral), as the backtest posts it
    assert stress.PRICE_RAW == 10**24
    posted = np.array([float(x) for x in run.keeper["price"]])
    assert np.allclose(posted / 1e24, candles.close, rtol=2e-11, atol=0)
    # a fixed-ratio model posts through policy.clip when the heartbeat is due: the same posts
    fixed = stress.simulate(hist, empty, stress.anchor_specs()["aave_v3_weth"], cfg)
    assert fixed.keeper["depth"] == rep.depth_raw and fixed.keeper["sigma"] == rep.sigma_wad


def test_impacted_prices_reach_the_keeper(fixture_csv):
    candles = load_candles(fixture_csv)
    cfg = stress.StressConfig(population=stress.PopulationParams(borrowers=150, scale=4.0))
    _, detail = stress.run(candles, cfg, models=("dynamic",))
    run = detail["runs"]["dynamic"]
    assert run.displacement.min() < -0.01  # the sales moved the price
    rep = bt.replay(candles, bt.BacktestConfig())
    i = int(np.argmin(run.displacement))
    assert run.keeper["sigma"][i] > rep.sigma_wad[i]  # the keeper saw the extra fall
    assert run.keeper["depth"][i] < rep.depth_raw[i]


def test_population_is_seeded_and_well_formed(fixture_csv):
    candles = load_candles(fixture_csv)
    cfg = stress.StressConfig()
    hist = stress.history(candles, cfg)
    a = stress.population(hist, cfg.population, 7)
    b = stress.population(hist, cfg.population, 7)
    c = stress.population(hist, cfg.population, 8)
    assert all(np.array_equal(getattr(a, f), getattr(b, f)) for f in ("slot", "open_bar", "fraction", "weight"))
    assert not np.array_equal(a.weight[:50], c.weight[:50])
    assert (a.open_bar >= hist.warm_bar).all() and (a.close_bar > a.open_bar).all()
    assert ((a.fraction >= 0.5) & (a.fraction <= 0.99)).all()
    for s in np.unique(a.slot)[:200]:  # a borrower's positions never overlap
        o, e = a.open_bar[a.slot == s], a.close_bar[a.slot == s]
        assert (o[1:] > e[:-1]).all()
    assert a.manager.mean() == pytest.approx(0.5, abs=0.06)
    assert cfg.population.active_share == pytest.approx(0.868, abs=0.001)
