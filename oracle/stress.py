"""`ballast stress`: liquidation cascades, replayed hour by hour on candle history.

A seeded population of borrowers opens, holds, tops up and closes positions over a candle file;
liquidators act when it pays, and the collateral they sell moves the price through the depth the
keeper posts, so a wave of liquidations deepens the fall it started. The next hours start from the
impacted price and recover towards history. The assumptions (impact curve, recovery, oracle, gas,
population) are fixed in docs/STRESS.md and in `MarketParams` / `PopulationParams`.

Every bar i, for each model:

1. the price's displacement from history d (log) decays: d *= 2^(-dt / recovery half-life);
2. positions scheduled to open do so at the impacted open, borrowing a fraction of their limit;
3. at the impacted low, liquidations run in rounds through a constant-product pool of 2%-depth D
   (the keeper's posted depth): each round every unhealthy position is offered to liquidators, who
   take what the engine allows when it pays after the impact of their own sale and gas; their sales
   lower the price for the next round (`_cascade`);
4. at the impacted close, scheduled positions repay (or are abandoned when unhealthy) and careful
   borrowers top up;
5. the keeper measures sigma and depth from the impacted close, high and low (`OnlineEstimator`: the
   EWMA of `metrics.ewma_vol` and the volume proxy of `metrics.depth_from_volume`, one bar at a time),
   posts through `policy.decide` (clipped to the oracle's guardrails) and pokes the market's ramp
   (`model.RampState.poke_market`), exactly the loop body of `backtest.replay`.

What is exact and what is float:

- EXACT (the on-chain integers, hour by hour, through `oracle.model` and `oracle.policy`): the posted
  sigma, price and depth (WAD / loan raw units, clipped by the guardrails), the effective (staleness-
  aware) sigma, the maintenance base target and its ramp, the ramped maintenance depth, and the
  position-independent part of H_init (`model.base_haircut` with z_init), for the dynamic model; the
  anti-procyclicality transforms (`engine.apc_*`) too, the buffer's 30-day minimum being taken over
  those integers. On a path without liquidations the estimator is bit-for-bit `metrics.measure` and
  these integers equal `backtest.replay`'s (a test checks it). The keeper's estimators are floats, as in
  the keeper (sigma and depth are turned into WAD / raw units exactly as `backtest.replay` does), and so
  are the stressed and long-run volatilities of the "stress" and "floor" candidates before their
  integer transform.
- FLOAT (numpy float64, for speed over 1,000 positions): everything per position: collateral value,
  the position's liquidity term and clamp (H = clip(base + 0.02 k V / depth, h_min, h_max), the
  "init_gap" candidates' floor of H_init included), health,
  and the liquidation itself (`engine.liquidate_vec`, the float twin of the integer `engine.liquidate`,
  held to it by a test), the pool, the price path, and all statistics. Collateral and debt are floats
  in token units (no rounding), so the accounting identities hold to float precision.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path

import click
import numpy as np

from oracle import engine, model, policy
from oracle.backtest import (
    LOAN_UNIT,
    REFERENCE_UTILISATION,
    _parse_day,
    data_dir,
    iso,
    plot_window,
    writable,
)
from oracle.errors import BallastError
from oracle.metrics import YEAR, EstimatorParams, _rolling_mean, measure
from oracle.sources.base import Candles
from oracle.sources.csv import load_candles

WAD = model.WAD
HOUR = model.HOUR
# loan raw units per collateral raw unit at model.PRICE_SCALE, per loan token per collateral token (a
# 6-decimal loan token, an 18-decimal collateral): the price the oracle carries, as `backtest.replay`
PRICE_RAW = model.PRICE_SCALE * LOAN_UNIT // 10**18
LN2x4 = 4.0 * math.log(2.0)  # Parkinson's denominator, as metrics.ewma_vol
POOL_RESERVE = 0.98 / 0.02  # loan reserve of a constant-product pool per unit of 2%-depth (49)
MODELS = ("dynamic", "fixed_same_capital", "aave_v3_weth", "morpho_lltv_86")
DAYS_30 = 720
DAYS_365 = 8_760


# --- the fixed assumptions (docs/STRESS.md) --------------------------------------------------------


@dataclass(frozen=True)
class MarketParams:
    """Market assumptions 1-5 of docs/STRESS.md."""

    recovery_half_life_hours: float = 24.0  # the displacement from history halves in this time
    gas_fraction: float = 1e-3  # gas of one liquidation, as a fraction of the typical position
    max_rounds: int = 200  # liquidation rounds per hour at most


@dataclass(frozen=True)
class PopulationParams:
    """Population assumptions 6-9 of docs/STRESS.md."""

    borrowers: int = 1_000
    scale: float = 1.0  # M: the population's collateral against the market's usual 2%-depth
    fraction_low: float = 0.50  # a position borrows f of its limit, f ~ U[low, high]
    fraction_high: float = 0.99
    hold_min_hours: float = 24.0  # holding time log-uniform in [min, max]
    hold_max_hours: float = 90 * 24.0
    gap_mean_hours: float = 72.0  # exponential gap between two positions of a borrower
    size_sigma: float = 1.5  # lognormal spread of position sizes (mean 1)
    manager_share: float = 0.5  # share of borrowers who top up
    topup_below: float = 1.10  # ... when their health factor is below this at a close
    scale_window_hours: int = DAYS_30  # S_t: trailing median of the historical depth over this window
    warmup_hours: float = 168.0  # no position before the estimators are warm

    @property
    def mean_hold_hours(self) -> float:
        lo, hi = self.hold_min_hours, self.hold_max_hours
        return (hi - lo) / math.log(hi / lo) if hi > lo else lo

    @property
    def active_share(self) -> float:
        return self.mean_hold_hours / (self.mean_hold_hours + self.gap_mean_hours)

    @property
    def n_active(self) -> float:
        return self.borrowers * self.active_share


# --- the models ------------------------------------------------------------------------------------

AAVE_V3_WETH = engine.EngineParams(
    target="close_factor", close_factor=WAD // 2, full_close_hf=95 * WAD // 100
)
MORPHO_LLTV = 86 * WAD // 100
MORPHO_LIF = min(115 * WAD // 100, WAD * WAD // (3 * MORPHO_LLTV // 10 + 7 * WAD // 10))
MORPHO_86 = engine.EngineParams(bonus_min=MORPHO_LIF - WAD, bonus_max=MORPHO_LIF - WAD)


@dataclass(frozen=True)
class ModelSpec:
    """One model: a requirement (the dynamic Ballast ratio, or fixed haircuts) and a liquidation engine."""

    name: str
    ratio: str = "dynamic"  # "dynamic" | "fixed"
    engine: engine.EngineParams = field(default_factory=engine.EngineParams)
    h_maint: float = 0.0  # fixed ratios: maintenance and initial haircuts
    h_init: float = 0.0
    apc: str = "none"  # dynamic only: "none" | "buffer" | "stress" | "floor" (engine.apc_*)
    min_debt_fraction: float = 0.0  # dust floor of the engine, as a fraction of the typical position
    init_floor: float = 0.0  # dynamic only: a floor of H_init above h_min (0: h_min, as the model today)
    cr_maint: float = 0.0  # fixed ratios: the maintenance CR itself when it was given as a CR (same capital)
    cr_init: float = 0.0

    @property
    def fixed_crs(self) -> tuple[float, float]:
        """(maintenance, initial) collateral ratios of a fixed model."""
        return (self.cr_maint or 1.0 / (1.0 - self.h_maint), self.cr_init or 1.0 / (1.0 - self.h_init))


def anchor_specs() -> dict[str, ModelSpec]:
    """The two anchors with their own parameters and rules (docs/STRESS.md)."""
    return {
        "aave_v3_weth": ModelSpec("aave_v3_weth", "fixed", AAVE_V3_WETH, h_maint=0.17, h_init=0.195),
        "morpho_lltv_86": ModelSpec("morpho_lltv_86", "fixed", MORPHO_86, h_maint=0.14, h_init=0.14),
    }


@dataclass(frozen=True)
class StressConfig:
    market: MarketParams = field(default_factory=MarketParams)
    population: PopulationParams = field(default_factory=PopulationParams)
    risk: model.RiskParams = field(default_factory=model.RiskParams)
    guard: model.GuardParams = field(default_factory=model.GuardParams)
    policy: policy.PolicyParams = field(default_factory=policy.PolicyParams)
    estimators: EstimatorParams = field(default_factory=EstimatorParams)
    rates: model.RateParams = field(default_factory=model.RateParams)
    utilisation: int = REFERENCE_UTILISATION
    seed: int = 1
    engine: engine.EngineParams = field(default_factory=engine.EngineParams)  # Ballast's, for both
    apc: str = "none"  # Ballast's anti-procyclicality
    min_debt_fraction: float = 0.0  # Ballast's dust floor (fraction of the typical position)
    init_floor: float = 0.0  # Ballast's floor of H_init (0: h_min, as the model today)

    def replace(self, **kw) -> StressConfig:
        return replace(self, **kw)


# --- history: what every model shares ----------------------------------------------------------------


@dataclass
class History:
    """Per-bar arrays of the file (floats), computed once and shared by every model."""

    candles: Candles
    period: int
    ts: np.ndarray
    hours: np.ndarray  # hours since the first bar (gaps count)
    log_close: np.ndarray
    log_range: np.ndarray  # ln(high / low) per bar (index 0 unused), as metrics.ewma_vol
    dt: np.ndarray  # seconds between bar i-1 and i (index 0: period)
    a_up: np.ndarray
    a_down: np.ndarray
    sigma0: float
    adv: np.ndarray  # trailing average daily quote volume (metrics.depth_from_volume)
    sigma: np.ndarray  # metrics.measure on the historical path
    depth: np.ndarray
    scale: np.ndarray  # S_t: trailing median of the historical depth (loan-token units)
    warm_bar: int  # first bar after the warm-up


def history(candles: Candles, cfg: StressConfig) -> History:
    if len(candles) < 3:
        raise BallastError("stress: need at least 3 candles")
    est = cfg.estimators
    period = candles.period
    ts = np.asarray(candles.ts, dtype=np.int64)
    close = np.asarray(candles.close, dtype=float)
    lc = np.log(close)
    lr = np.zeros(len(close))
    if est.use_range:
        lr[1:] = np.log(np.asarray(candles.high, dtype=float)[1:] / np.asarray(candles.low, dtype=float)[1:])
    dt = np.diff(ts.astype(float))
    a_up = np.concatenate(([0.0], 1.0 - np.exp2(-dt / est.half_life_up)))
    a_down = np.concatenate(([0.0], 1.0 - np.exp2(-dt / est.half_life_down)))
    dt = np.concatenate(([float(period)], dt))
    # sigma0 as metrics.ewma_vol: the mean of the first 24 samples (historical)
    r = np.diff(lc)
    per_bar = r * r
    if est.use_range:
        per_bar = np.maximum(per_bar, lr[1:] * lr[1:] / LN2x4)
    samples = per_bar * (YEAR / dt[1:])
    head = samples[:24]
    sigma0 = float(head.mean()) if len(head) else 0.0
    adv = _rolling_mean(np.asarray(candles.volume_quote, dtype=float), est.depth_window_bars) * (86_400 / period)
    sigma, depth = measure(candles, est)
    w = max(1, round(cfg.population.scale_window_hours * HOUR / period))
    scale = _trailing_median(depth, w)
    hours = (ts - ts[0]) / HOUR
    warm_bar = int(np.searchsorted(hours, cfg.population.warmup_hours))
    if warm_bar >= len(ts) - 1:
        raise BallastError(
            f"stress: {len(ts)} candles leave nothing after a {cfg.population.warmup_hours:g} h warm-up"
        )
    return History(candles, period, ts, hours, lc, lr, dt, a_up, a_down, sigma0, adv, sigma, depth, scale, warm_bar)


def _trailing_median(x: np.ndarray, window: int) -> np.ndarray:
    """Median of the last `window` values (fewer at the start)."""
    x = np.asarray(x, dtype=float)
    out = np.empty(len(x))
    head = min(window, len(x))
    for i in range(head):
        out[i] = np.median(x[: i + 1])
    if len(x) > window:
        out[window:] = np.median(np.lib.stride_tricks.sliding_window_view(x, window)[1:], axis=1)
    return out


# --- the population ------------------------------------------------------------------------------------


@dataclass
class Population:
    """Positions to open, sorted by opening bar (the same for every model)."""

    slot: np.ndarray  # borrower index
    open_bar: np.ndarray
    close_bar: np.ndarray  # scheduled end (len(bars) = never within the file)
    fraction: np.ndarray  # share of the borrowing limit
    weight: np.ndarray  # size, mean 1
    manager: np.ndarray  # per borrower: tops up
    n_active: float
    close_order: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # by close bar
    close_sorted: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self):
        self.close_order = np.argsort(self.close_bar, kind="stable")
        self.close_sorted = self.close_bar[self.close_order]
        top = int(self.close_bar.max()) + 2 if len(self.close_bar) else 1
        self._starts = np.searchsorted(self.close_sorted, np.arange(top)).tolist()
        self._order = self.close_order.tolist()

    def __len__(self) -> int:
        return len(self.slot)

    def closing(self, i: int) -> np.ndarray:
        """Positions whose scheduled end is bar i."""
        if i + 1 >= len(self._starts):
            return []
        return self._order[self._starts[i] : self._starts[i + 1]]


def population(hist: History, pp: PopulationParams, seed: int) -> Population:
    """Draw the population from `seed` (docs/STRESS.md, assumptions 6-9)."""
    rng = np.random.default_rng(seed)
    start = float(hist.hours[hist.warm_bar])
    end = float(hist.hours[-1])
    cycle = pp.mean_hold_hours + pp.gap_mean_hours
    lo, hi = math.log(pp.hold_min_hours), math.log(pp.hold_max_hours)
    k = int((end - start) / max(cycle, 1.0) * 1.5) + 8
    slots, opens, closes = [], [], []
    for b in range(pp.borrowers):
        holds = np.exp(rng.uniform(lo, hi, k))
        gaps = rng.exponential(pp.gap_mean_hours, k)
        first = start + rng.uniform(0.0, cycle)
        t_open = first + np.concatenate(([0.0], np.cumsum(holds + gaps)[:-1]))
        keep = t_open < end
        slots.append(np.full(int(keep.sum()), b))
        opens.append(t_open[keep])
        closes.append(t_open[keep] + holds[keep])
    slot = np.concatenate(slots)
    t_open, t_close = np.concatenate(opens), np.concatenate(closes)
    m = len(slot)
    fraction = rng.uniform(pp.fraction_low, pp.fraction_high, m)
    weight = np.exp(rng.normal(-0.5 * pp.size_sigma**2, pp.size_sigma, m))
    manager = rng.random(pp.borrowers) < pp.manager_share
    n = len(hist.hours)
    open_bar = np.searchsorted(hist.hours, t_open)
    close_bar = np.maximum(np.searchsorted(hist.hours, t_close), open_bar + 1)
    # a borrower's next position opens after the bar where the previous one ends (positions are
    # grouped by borrower here, in time order)
    same = np.concatenate(([False], slot[1:] == slot[:-1]))
    for k in np.flatnonzero(same):
        if open_bar[k] <= close_bar[k - 1]:
            open_bar[k] = close_bar[k - 1] + 1
            close_bar[k] = max(close_bar[k], open_bar[k] + 1)
    close_bar = np.minimum(close_bar, n)
    keep = open_bar < n - 1
    order = np.argsort(open_bar[keep], kind="stable")
    return Population(
        slot[keep][order],
        open_bar[keep][order],
        close_bar[keep][order],
        fraction[keep][order],
        weight[keep][order],
        manager,
        pp.n_active,
    )


# --- the keeper, the oracle and the market's ramp, one bar at a time -----------------------------------


class OnlineEstimator:
    """`metrics.measure` (EWMA with range, volume proxy) one bar at a time, fed with impacted prices.

    With no displacement the samples, the recursion and the depth are computed with the same float
    operations as `metrics.ewma_vol` / `metrics.depth_from_volume`, so the result is bit-for-bit
    `metrics.measure` (tests/stress check it)."""

    def __init__(self, hist: History, est: EstimatorParams):
        self.h = hist
        self.est = est
        self.v = hist.sigma0
        self.day = math.sqrt(86_400 / YEAR)

    def sample(self, i: int, d_prev: float, d_high: float, d_low: float, d_close: float) -> float:
        """Annual variance sample of bar i from its impacted close (and range), as ewma_vol."""
        h = self.h
        r = (h.log_close[i] + d_close) - (h.log_close[i - 1] + d_prev)
        s = r * r
        if self.est.use_range:
            hl = h.log_range[i] + (d_high - d_low)
            s = max(s, hl * hl / LN2x4)
        return s * (YEAR / h.dt[i])

    def step(self, i: int, s: float) -> tuple[float, float]:
        """(sigma, depth) after bar i with variance sample s (bar 0: the initial state)."""
        h = self.h
        if i > 0:
            self.v += (h.a_up[i] if s > self.v else h.a_down[i]) * (s - self.v)
        sigma = math.sqrt(self.v)
        sig_d = max(sigma, 1e-6) * self.day
        t = 0.02 / (self.est.impact_coef * sig_d)
        return sigma, h.adv[i] * (t * t)  # numpy's ** 2 on arrays is a square, not pow: same rounding


class KeeperMarket:
    """The keeper's post (`policy.decide` / `apply`) and the market's poke, as `backtest.replay`."""

    def __init__(self, cfg: StressConfig, first_obs: int, period: int):
        self.p, self.g, self.pp = cfg.risk, cfg.guard, cfg.policy
        self.rate = model.borrow_rate(
            cfg.utilisation, cfg.rates.base, cfg.rates.slope1, cfg.rates.slope2, cfg.rates.kink
        )
        self.posted = policy.Posted()
        self.ramp = model.RampState(value=self.p.h_max, updated_at=first_obs - period)
        self.posts = 0
        self.violations = 0
        self.base = self.p.h_max
        self.init_base = self.p.h_max
        # model.maint_base_target(p, sigma, rate) is base_haircut(sigma, p.vol_coef_maint, ...); the
        # coefficients are properties that take an isqrt each time, so they are taken once here
        self.vc_maint = self.p.vol_coef_maint
        self.vc_init = self.p.vol_coef_init

    def step(self, now: int, price_raw: int, sigma_wad: int, depth_raw: int, buffer_min=None, market=True) -> None:
        """Post (and, with `market`, poke the market's ramp: a fixed-ratio model needs only the posted
        depth)."""
        p = self.p
        measured = policy.Measured(price_raw, sigma_wad, depth_raw)
        if not market and self.posted.observed_at and now - self.posted.observed_at >= self.pp.heartbeat:
            # a fixed-ratio model needs only the posted depth. When the heartbeat is due, `policy.decide`
            # posts exactly `policy.clip` of the measurement (its other branches only add reasons), so
            # take that directly
            c = policy.clip(self.posted, measured, now, self.g)
            self.posted = policy.apply(self.posted, policy.Update(1, c.price, c.sigma, c.depth), now)
            self.posts += 1
            return
        update, _ = policy.decide(1, self.posted, measured, now, self.pp, self.g)
        if update is not None:
            if market and policy.accepted(self.posted, update, now, self.g) is not None:
                self.violations += 1  # (checked for the dynamic model; the fixed ones post the same way)
            self.posted = policy.apply(self.posted, update, now)
            self.posts += 1
        if not market:
            return
        eff = model.effective_sigma(
            self.posted.sigma, self.posted.observed_at, now, p.stale_after, p.stale_sigma
        )
        target = model.base_haircut(eff, self.vc_maint, self.rate, p.horizon, p.bonus)  # maint_base_target
        init = model.base_haircut(eff, self.vc_init, self.rate, p.horizon, p.bonus)
        if buffer_min is not None:  # engine.apc_buffer on the floored bases (market side)
            target, init = buffer_min(target, init)
        self.base = self.ramp.poke_market(target, now, p, self.posted.depth)
        self.init_base = init


class _Apc:
    """Rolling statistics of the anti-procyclicality candidates (engine.apc_*), one bar at a time."""

    def __init__(self, kind: str, p: model.RiskParams, period: int):
        self.kind = kind
        self.p = p
        self.w30 = max(1, round(DAYS_30 * HOUR / period))
        self.w365 = max(1, round(DAYS_365 * HOUR / period))
        self.i = 0
        self.mins: deque = deque()  # (index, value) monotone: 30-day minimum of the maintenance base
        self.mins_init: deque = deque()  # the same for the initial base
        self.sig_hist: deque = deque()
        self.sig_sum = 0.0
        self.maxes: deque = deque()  # (index, 30-day mean sigma) monotone for the 365-day maximum
        self.var_sum = 0.0
        self.var_n = 0

    def sigma(self, sigma: float, sample: float) -> float:
        """The sigma the keeper posts under "stress" / "floor" (float in, float out; exact ints after)."""
        self.i += 1
        if self.kind == "stress":
            self.sig_hist.append(sigma)
            self.sig_sum += sigma
            if len(self.sig_hist) > self.w30:
                self.sig_sum -= self.sig_hist.popleft()
            mean30 = self.sig_sum / len(self.sig_hist)
            while self.maxes and self.maxes[-1][1] <= mean30:
                self.maxes.pop()
            self.maxes.append((self.i, mean30))
            while self.maxes[0][0] <= self.i - self.w365:
                self.maxes.popleft()
            stressed = self.maxes[0][1]
            return engine.apc_stress_sigma(_wad(sigma), _wad(stressed)) / WAD
        if self.kind == "floor":
            self.var_sum += sample
            self.var_n += 1
            return engine.apc_floor_sigma(_wad(sigma), _wad(math.sqrt(self.var_sum / self.var_n))) / WAD
        return sigma

    def buffer(self, target: int, init: int) -> tuple[int, int]:
        """engine.apc_buffer of the maintenance target and the initial base, floored at h_min (exact)."""
        p = self.p
        t = model.clamp(target, p.h_min, p.h_max)
        n = model.clamp(init, p.h_min, p.h_max)
        t_min = _rolling_min(self.mins, self.i, t, self.w30)
        n_min = _rolling_min(self.mins_init, self.i, n, self.w30)
        self.i += 1
        return min(engine.apc_buffer(t, t_min), p.h_max), min(engine.apc_buffer(n, n_min), p.h_max)


def _rolling_min(q: deque, i: int, x: int, window: int) -> int:
    """Push (i, x) on a monotone deque and return the minimum of the last `window` values."""
    while q and q[-1][1] >= x:
        q.pop()
    q.append((i, x))
    while q[0][0] <= i - window:
        q.popleft()
    return q[0][1]


def _wad(x: float) -> int:
    return int(min(x, 1e6) * 1e18)


# --- one model over the file -------------------------------------------------------------------------


@dataclass
class Run:
    """Per-bar series and totals of one model."""

    name: str
    liquidated: np.ndarray  # collateral value liquidated per bar
    positions: np.ndarray  # positions liquidated per bar
    displacement: np.ndarray  # d at each close
    hour_impact: np.ndarray  # fall of the price caused by the bar's liquidations (fraction)
    total_debt: np.ndarray  # open debt after each bar
    bad_debt: np.ndarray  # written off per bar
    cr: np.ndarray  # debt-weighted maintenance CR in force during the bar (nan: no debt)
    cr_init: np.ndarray
    held_cr: np.ndarray  # collateral value / debt of the open positions at the close
    h_maint_ref: np.ndarray  # maintenance haircut of a position of no size (the ratio itself)
    close: np.ndarray  # simulated close
    totals: dict
    keeper: dict = field(default_factory=dict)  # per bar, the exact integers: sigma, depth, base, init base,
    # maintenance depth, price (model.PRICE_SCALE)


def simulate(
    hist: History, pop: Population, spec: ModelSpec, cfg: StressConfig, progress=None, exhaustive: bool = False
) -> Run:
    """Replay the file for one model (see the module docstring).

    Speed: the per-position vectors run only in hours where some position could need them. Two upper
    bounds are kept, R >= max(debt / collateral) and C >= max(collateral) over open positions; since
    the haircut of a position grows with its size, H_cap(p) = clip(base + 0.02 k C p / depth) bounds
    every position's haircut at price p, and no position is unhealthy at p when R <= p (1 - H_cap(p))
    (no top-up is due when 1.10 R <= p (1 - H_cap(p))). The bounds are refreshed whenever the vectors
    run, and raised at once by openings and top-ups, so the skip never hides a liquidation. A position
    that is unhealthy but does not pay to liquidate (gas, impact) is set aside from R until the price
    is 2% lower or 24 hours have passed (liquidators look again). `exhaustive` runs the vectors every
    hour instead (for tests: the result must be the same)."""
    c = hist.candles
    n = len(hist.ts)
    period = hist.period
    p = cfg.risk
    mk = cfg.market
    pp = cfg.population
    dyn = spec.ratio == "dynamic"
    h_min, h_max = p.h_min / WAD, p.h_max / WAD
    slip = p.slip_coef / WAD
    fp0 = engine.FloatParams.of(spec.engine, LOAN_UNIT, min_debt=0.0)
    cap_frac = spec.engine.hourly_cap / WAD
    auction = spec.engine.auction
    op, lo, cl = (np.asarray(a, dtype=float).tolist() for a in (c.open, c.low, c.close))
    dts = hist.dt.tolist()
    scale = (pp.scale * hist.scale / pop.n_active).tolist()  # the typical position at each bar
    half = mk.recovery_half_life_hours * HOUR
    topup_below = pp.topup_below

    est = OnlineEstimator(hist, cfg.estimators)
    obs = (hist.ts + period).tolist()
    km = KeeperMarket(cfg, int(obs[0]), period)
    apc = _Apc(spec.apc, p, period) if dyn and spec.apc != "none" else None
    buffer_min = apc.buffer if apc is not None and spec.apc == "buffer" else None
    sigma_apc = apc.sigma if apc is not None and spec.apc in ("stress", "floor") else None

    nb = pp.borrowers
    st = _Book(nb, pop.manager)
    open_bar = pop.open_bar.tolist()
    slots = pop.slot.tolist()
    lists = (slots, pop.weight.tolist(), pop.fraction.tolist())
    m = len(pop)

    liquidated = np.zeros(n)
    positions = np.zeros(n, dtype=np.int64)
    disp = np.zeros(n)
    hour_impact = np.zeros(n)
    total_debt = np.zeros(n)
    bad_series = np.zeros(n)
    cr = np.full(n, np.nan)
    cr_init = np.full(n, np.nan)
    held = np.full(n, np.nan)
    href = np.zeros(n)
    close_sim = np.zeros(n)
    k_sigma, k_depth, k_base, k_init, k_mdepth, k_price = [], [], [], [], [], []
    tot = st.tot
    auction_inv = [0.0, 0.0]  # [collateral, debt owed] of the market's sale (engine.auction)

    # requirement in force during bar i (set by the keeper at the close of i-1)
    base_f = init_f = h_max
    depth_ramp_f = depth_post_f = 1.0
    d_prev_close = 0.0
    ev = 0
    warm = hist.warm_bar
    fixed_crs = spec.fixed_crs if not dyn else (0.0, 0.0)
    step = max(1, n // 100)
    dust = spec.min_debt_fraction
    for i in range(n):
        d0 = d_prev_close * math.exp2(-dts[i] / half) if d_prev_close else 0.0
        hb = max(h_min, base_f) if dyn else spec.h_maint
        href[i] = hb
        typical = scale[i]
        gas = mk.gas_fraction * typical
        min_debt = dust * typical  # the engine's dust floor this hour (0: none)
        ex = math.exp(d0) if d0 else 1.0

        # -- 2. openings at the impacted open
        if ev < m and open_bar[ev] == i:
            j = ev
            while j < m and open_bar[j] == i:
                j += 1
            _open(st, lists, ev, j, op[i] * ex, typical, dyn, init_f, slip, depth_post_f, h_min, h_max, spec,
                  min_debt, base_f, depth_ramp_f)
            ev = j

        if i >= warm and st.n_open:
            if dyn:
                cr[i] = 1.0 / (1.0 - hb)
                cr_init[i] = 1.0 / (1.0 - min(max(init_f, h_min, spec.init_floor), h_max))
            else:
                cr[i], cr_init[i] = fixed_crs

        # -- 3. liquidations at the impacted low
        p_low = lo[i] * ex
        d1 = d0
        sell_auction = auction and auction_inv[0] > 0
        if st.could_be_unhealthy(p_low, i, dyn, base_f, slip, depth_ramp_f, h_min, h_max, spec.h_maint) \
                or sell_auction or (exhaustive and st.n_open):
            y = POOL_RESERVE * depth_post_f
            pool = _Pool(y / p_low, y)
            room = cap_frac * depth_post_f if cap_frac > 0 else math.inf
            val, npos, bad = _cascade(
                pool, st, i, dyn, base_f, init_f, slip, depth_ramp_f, depth_post_f, h_min, h_max, spec,
                replace(fp0, min_debt=min_debt) if min_debt else fp0, gas, room, mk.max_rounds, auction, auction_inv,
            )
            if auction and auction_inv[0] > 0:
                room2 = cap_frac * depth_post_f if cap_frac > 0 else math.inf
                bad_a, sold_value = _auction_sell(pool, auction_inv, room2, tot)
                bad += bad_a
                val += sold_value
            liquidated[i] = val
            positions[i] = npos
            bad_series[i] = bad
            if pool.x > y / p_low:  # something was sold (an empty hour must not move the price by an ulp)
                p_after = pool.y / pool.x
                hour_impact[i] = 1.0 - p_after / p_low
                d1 = d0 + math.log(p_after / p_low)
            st.refresh()
        p_close = cl[i] * math.exp(d1) if d1 else cl[i]
        close_sim[i] = p_close

        # -- 4. closings and top-ups at the impacted close
        for k in pop.closing(i):
            st.close_scheduled(slots[k], k, p_close, dyn, base_f, slip, depth_ramp_f, h_min, h_max,
                               spec.h_maint)
        if exhaustive or st.could_need_topup(
            p_close, topup_below, dyn, base_f, slip, depth_ramp_f, h_min, h_max, spec.h_maint
        ):
            st.topups(p_close, topup_below, dyn, base_f, slip, depth_ramp_f, h_min, h_max, spec.h_maint)
        td = st.debt_sum
        total_debt[i] = td
        if td > 0:
            held[i] = st.coll_sum * p_close / td
        disp[i] = d1

        # -- 5. the keeper measures the impacted bar, posts, pokes
        s = est.sample(i, d_prev_close, d0, d1, d1) if i > 0 else 0.0
        sigma, depth = est.step(i, s)
        sigma_post = sigma_apc(sigma, s) if sigma_apc is not None else sigma
        km.step(
            obs[i],
            int(p_close * PRICE_RAW),
            int(min(sigma_post, 1e6) * 1e18),
            int(min(depth * LOAN_UNIT, float(model.MAX_DEPTH))),
            buffer_min,
            dyn,
        )
        k_sigma.append(km.posted.sigma)
        k_depth.append(km.posted.depth)
        k_base.append(km.base)
        k_init.append(km.init_base)
        k_mdepth.append(km.ramp.depth)
        k_price.append(km.posted.price)
        base_f = km.base / WAD
        init_f = km.init_base / WAD
        depth_ramp_f = max(km.ramp.depth, 1) / LOAN_UNIT
        depth_post_f = max(km.posted.depth, 1) / LOAN_UNIT
        d_prev_close = d1
        if progress is not None and i % step == 0:
            progress(i, n)

    # end of file: uncovered debt of positions still open and underwater counts as bad debt
    v_end = st.coll * close_sim[-1]
    tot["uncovered_at_end"] = float(np.maximum(st.debt - v_end, 0.0).sum())
    tot["open_debt_at_end"] = float(st.debt.sum())
    tot["open_collateral_at_end"] = float(st.coll.sum())
    tot["auction_collateral_left"] = auction_inv[0]
    tot["auction_debt_left"] = auction_inv[1]
    tot["posts"] = km.posts
    tot["guard_violations"] = km.violations
    tot["vector_hours"] = st.vector_hours
    if progress is not None:
        progress(n, n)
    return Run(
        spec.name, liquidated, positions, disp, hour_impact, total_debt, bad_series, cr, cr_init, held,
        href, close_sim, tot,
        {"sigma": k_sigma, "depth": k_depth, "maint_base": k_base, "init_base": k_init, "maint_depth": k_mdepth,
         "price": k_price},
    )


def _hcap(dyn, base, slip, c_max, price, depth, h_min, h_max, fixed) -> float:
    """An upper bound of every open position's maintenance haircut at `price` (scalar)."""
    if not dyn:
        return fixed
    return min(max(base + slip * c_max * price / depth, h_min), h_max)


class _Book:
    """The positions and the bounds that let most hours skip them. Storage index b < nb is borrower b's
    own position; a position abandoned at its scheduled end (unhealthy) moves to an overflow index >= nb,
    where it waits for the liquidators, so that its borrower can open the next one as scheduled."""

    TOTALS = (
        "borrowed", "repaid_by_borrowers", "repaid_by_liquidators", "bad_debt_written_off",
        "collateral_deposited", "collateral_topped_up", "collateral_withdrawn", "collateral_seized",
        "liquidator_proceeds", "liquidator_gas", "liquidations", "positions_opened", "positions_skipped",
        "topups", "abandoned", "auction_collateral",
    )

    def __init__(self, nb: int, manager: np.ndarray):
        self.nb = nb
        self.free: list[int] = []  # overflow indices not in use
        self.manager = np.asarray(manager, dtype=bool).copy()
        self.is_open = np.zeros(nb, dtype=bool)
        self.coll = np.zeros(nb)
        self.debt = np.zeros(nb)
        self.walked = np.zeros(nb, dtype=bool)
        self.current = [-1] * nb  # the population index of each borrower's open position
        self.n_open = 0
        self.hf_open = np.zeros(nb)  # health factor at opening
        self.stuck_price = np.zeros(nb)  # > 0: unprofitable to liquidate at this price ...
        self.stuck_until = np.zeros(nb, dtype=np.int64)  # ... until this bar
        self.r_hi = 0.0  # >= max(debt / coll) over open positions not set aside
        self.r_top = 0.0  # >= max(debt / coll) over open positions of careful borrowers
        self.c_hi = 0.0  # >= max(coll) over open positions
        self.any_stuck = False
        self.stuck_first = 0
        self.stuck_top = 0.0
        self.vector_hours = 0
        self.debt_sum = 0.0  # running sums, made exact again by refresh()
        self.coll_sum = 0.0
        self.tot = dict.fromkeys(self.TOTALS, 0.0)

    def _stuck_bounds(self, stuck: np.ndarray) -> None:
        self.any_stuck = bool(stuck.any())
        if self.any_stuck:
            self.stuck_first = int(self.stuck_until[stuck].min())  # the next bar a set-aside one returns
            self.stuck_top = float(self.stuck_price[stuck].max())

    def refresh(self) -> None:
        """Exact bounds from the vectors (after any change that may raise debt / coll)."""
        ratio = self.debt / np.where(self.is_open, np.maximum(self.coll, 1e-300), 1.0)
        stuck = self.stuck_price > 0
        self._stuck_bounds(stuck)
        if self.any_stuck:
            self.r_hi = float(np.where(stuck, 0.0, ratio).max())
        else:
            self.r_hi = float(ratio.max())
        self.r_top = float((ratio * self.manager).max())  # (abandoned positions are nobody's to top up)
        self.c_hi = float(self.coll.max())
        self.debt_sum = float(self.debt.sum())
        self.coll_sum = float(self.coll.sum())

    def could_be_unhealthy(self, price, i, dyn, base, slip, depth, h_min, h_max, fixed) -> bool:
        if not self.n_open:
            return False
        if self.any_stuck and (i >= self.stuck_first or price < STUCK_FALL * self.stuck_top):
            stuck = self.stuck_price > 0
            back = stuck & ((price < STUCK_FALL * self.stuck_price) | (i >= self.stuck_until))
            if back.any():
                self.stuck_price[back] = 0.0
                self.r_hi = max(self.r_hi, float((self.debt[back] / self.coll[back]).max()))
                self._stuck_bounds(stuck & ~back)
                return True
        h = _hcap(dyn, base, slip, self.c_hi, price, depth, h_min, h_max, fixed)
        return self.r_hi > price * (1.0 - h)

    def could_need_topup(self, price, below, dyn, base, slip, depth, h_min, h_max, fixed) -> bool:
        if not self.n_open:
            return False
        h = _hcap(dyn, base, slip, self.c_hi, price, depth, h_min, h_max, fixed)
        return below * self.r_top > price * (1.0 - h)

    ARRAYS = ("manager", "is_open", "coll", "debt", "walked", "hf_open", "stuck_price", "stuck_until")

    def _overflow(self) -> int:
        if not self.free:
            old = len(self.coll)
            grow = max(64, old // 4)
            for name in self.ARRAYS:
                a = getattr(self, name)
                setattr(self, name, np.concatenate((a, np.zeros(grow, dtype=a.dtype))))
            self.free = list(range(old + grow - 1, old - 1, -1))
        return self.free.pop()

    def abandon(self, b: int) -> None:
        """Borrower b walks away from an unhealthy position: it stays open for the liquidators."""
        j = self._overflow()
        for name in ("coll", "debt", "hf_open", "stuck_price", "stuck_until"):
            a = getattr(self, name)
            a[j] = a[b]
            a[b] = 0
        self.is_open[j], self.walked[j], self.manager[j] = True, True, False
        self.is_open[b] = False
        self.current[b] = -1
        self.tot["abandoned"] += 1

    def release(self, idx) -> None:
        """Storage indices whose position was closed."""
        for j in idx:
            if j < self.nb:
                self.current[j] = -1
            else:
                self.free.append(j)
                self.walked[j] = False

    def close_scheduled(self, b, k, price, dyn, base, slip, depth, h_min, h_max, fixed) -> None:
        """Position k of borrower b reaches its scheduled end: repay if healthy, else abandon it."""
        if self.current[b] != k:
            return
        coll, debt = float(self.coll[b]), float(self.debt[b])
        h = min(max(base + slip * coll * price / depth, h_min), h_max) if dyn else fixed
        if debt <= coll * price * (1.0 - h):
            self.tot["repaid_by_borrowers"] += debt
            self.tot["collateral_withdrawn"] += coll
            self.debt_sum -= debt
            self.coll_sum -= coll
            self.is_open[b] = False
            self.debt[b] = self.coll[b] = 0.0
            self.current[b] = -1
            self.stuck_price[b] = 0.0
            self.n_open -= 1
        else:
            self.abandon(b)

    def topups(self, price, below, dyn, base, slip, depth, h_min, h_max, fixed) -> None:
        """Careful borrowers below `below` add collateral up to max(opening HF, TOPUP_TO)."""
        self.vector_hours += 1
        v = self.coll * price
        h = _h(dyn, base, v, slip, depth, h_min, h_max, fixed) if dyn else fixed
        lim = v * (1.0 - h)
        careful = self.manager & self.is_open  # (an abandoned position is nobody's: manager False)
        due = careful & (lim < self.debt * below)
        if due.any():
            target = np.maximum(self.hf_open[due], TOPUP_TO)
            hd = h[due] if dyn else fixed
            need = np.maximum(target * self.debt[due] / (1.0 - hd) - v[due], 0.0) / price
            self.coll[due] += need
            added = float(need.sum())
            self.tot["collateral_topped_up"] += added
            self.tot["topups"] += int(due.sum())
            self.coll_sum += added
            self.stuck_price[due] = 0.0
            self.c_hi = max(self.c_hi, float(self.coll[due].max()))
        # the careful ones' bound again (ratios only fell, so the others' bound still holds)
        self.r_top = float(np.divide(self.debt, self.coll, out=np.zeros(len(self.coll)), where=careful).max())


TOPUP_TO = 1.25  # a careful borrower tops up to at least this health factor


def _open(st: _Book, lists, a: int, b: int, price, typical, dyn, init_f, slip, depth_post, h_min, h_max,
          spec, min_debt, base_f, depth_ramp) -> None:
    """Open positions a..b-1 of the population (a few per bar: plain floats; `lists` = the population's
    slot, weight and fraction as lists)."""
    tot = st.tot
    slots, weights, fractions = lists
    for k in range(a, b):
        s = slots[k]
        if st.current[s] >= 0:
            tot["positions_skipped"] += 1
            continue
        value = typical * weights[k]
        if dyn:
            hi_ = min(max(init_f + value * slip / depth_post, h_min, spec.init_floor), h_max)
            hm = min(max(base_f + value * slip / depth_ramp, h_min), h_max)
        else:
            hi_, hm = spec.h_init, spec.h_maint
        dbt = fractions[k] * value * (1.0 - hi_)
        if min_debt > 0 and dbt < min_debt:  # no borrow below the dust floor
            tot["positions_skipped"] += 1
            continue
        coll = value / price
        st.is_open[s] = True
        st.coll[s] = coll
        st.debt[s] = dbt
        st.hf_open[s] = value * (1.0 - hm) / dbt
        st.current[s] = k
        st.stuck_price[s] = 0.0
        st.n_open += 1
        ratio = dbt / coll
        st.r_hi = max(st.r_hi, ratio)
        if st.manager[s] and ratio > st.r_top:
            st.r_top = ratio
        st.c_hi = max(st.c_hi, coll)
        tot["borrowed"] += dbt
        tot["collateral_deposited"] += coll
        tot["positions_opened"] += 1
        st.debt_sum += dbt
        st.coll_sum += coll


def _h(dyn, base, value, slip, depth, h_min, h_max, fixed):
    """Maintenance haircut per position (float): clip(base + 0.02 k V / depth, h_min, h_max)."""
    if dyn:
        h = value * (slip / depth)
        h += base
        np.maximum(h, h_min, out=h)
        np.minimum(h, h_max, out=h)
        return h
    return np.full(np.shape(value), fixed)


@dataclass
class _Pool:
    """The hour's constant-product pool (collateral reserve x, loan reserve y)."""

    x: float
    y: float

    def proceeds(self, sold):
        """Loan tokens received for selling `sold` collateral (cumulative amounts allowed)."""
        return self.y * sold / (self.x + sold)

    def sell(self, amount: float) -> float:
        got = self.y * amount / (self.x + amount)
        self.x += amount
        self.y -= got
        return got


STUCK_HOURS = 24  # a position that does not pay to liquidate is looked at again after this ...
STUCK_FALL = 0.98  # ... or once the price is 2% lower


def _cascade(
    pool, st, i, dyn, base_f, init_f, slip, depth_ramp, depth_post, h_min, h_max, spec, fp, gas, room, max_rounds,
    auction, inv,
):
    """Liquidation rounds at the hour's low. Returns (collateral value liquidated, positions, bad debt)."""
    st.vector_hours += 1
    tot = st.tot
    value_total = 0.0
    bad_total = 0.0
    touched = np.zeros(len(st.coll), dtype=bool)
    coll, debt = st.coll, st.debt
    for _ in range(max_rounds):
        if room <= 0:
            break
        price = pool.y / pool.x
        v = coll * price
        hm = _h(dyn, base_f, v, slip, depth_ramp, h_min, h_max, spec.h_maint) if dyn else spec.h_maint
        cand = np.flatnonzero(st.is_open & (st.stuck_price <= 0) & (debt > v * (1.0 - hm)))
        if len(cand) == 0:
            break
        vc, cc, dc = v[cand], coll[cand], debt[cand]
        hmc = hm[cand] if dyn else np.full(len(cand), spec.h_maint)
        tg = spec.engine.target
        if tg in ("init", "init_margin"):  # engine.target_haircut, over floats
            if dyn:
                ht = np.clip(init_f + vc * slip / depth_post, max(h_min, spec.init_floor), h_max)
            else:
                ht = np.full(len(cand), spec.h_init)
            if tg == "init_margin":  # min(H_maint + margin, 1 - 1 wei), as market_math.target_haircut
                ht = np.maximum(ht, np.minimum(hmc + fp.target_margin, 1.0))
        elif tg == "maint_margin":
            ht = np.minimum(hmc + fp.target_margin, 1.0)
        else:
            ht = hmc
        inf = np.full(len(cand), np.inf)
        repaid, seized, bad, b = engine.liquidate_vec(fp, cc, dc, price, hmc, ht, inf)
        if auction:
            # the market takes the collateral into its sale and the debt off the books at once
            _to_auction(st, cand, repaid, seized, bad, inv)  # its value counts when the sale sells it
            touched[cand] = True
            bad_total += float(bad.sum())
            break
        # a liquidator does not sell past the point where its marginal sale loses: cap each at its
        # own break-even (x + s)^2 = x y (1 + b) / price, then order them and run them through the pool
        s_max = np.maximum(np.sqrt(pool.x * pool.y * (1.0 + b) / price) - pool.x, 0.0)
        cut = seized > s_max
        if cut.any():
            offered = np.where(cut, s_max * price / (1.0 + b), np.inf)
            repaid, seized, bad, b = engine.liquidate_vec(fp, cc, dc, price, hmc, ht, offered)
            if fp.min_debt > 0:  # a cut that would leave dust: the engine wants it all, the liquidator declines
                refused = cut & (repaid > offered * (1.0 + 1e-9))
                repaid = np.where(refused, 0.0, repaid)
                seized = np.where(refused, 0.0, seized)
                bad = np.where(refused, 0.0, bad)
        alone = pool.proceeds(seized) - repaid - gas
        go = (alone > 0) & (repaid > 0)
        if not go.all():  # not worth a liquidator's gas (or its own impact) at this price: set aside
            no = cand[~go]
            st.stuck_price[no] = price
            st.stuck_until[no] = i + STUCK_HOURS
            st.any_stuck = True
        if not go.any():
            break
        idx = np.flatnonzero(go)
        order = idx[np.lexsort((-repaid[idx], -b[idx]))]
        s_cum = np.cumsum(seized[order])
        y_cum = pool.proceeds(s_cum)
        got = np.diff(np.concatenate(([0.0], y_cum)))
        profit = got - repaid[order] - gas
        val_cum = s_cum * price
        stop = np.flatnonzero((profit <= 0) | (val_cum > room))
        k = int(stop[0]) if len(stop) else len(order)
        rows = order[:k]
        r_e, s_e, b_e = repaid[rows], seized[rows], bad[rows]
        if k < len(order):
            # the next one is cut where its marginal sale stops paying, or at the hour's cap
            j = order[k]
            x_eff = pool.x + (s_cum[k - 1] if k else 0.0)
            y_eff = pool.y - (y_cum[k - 1] if k else 0.0)
            s_be = max(math.sqrt(x_eff * y_eff * (1.0 + b[j]) / price) - x_eff, 0.0)
            s_room = (room - (val_cum[k - 1] if k else 0.0)) / price
            s_j = min(seized[j], s_be, s_room)
            if s_j > 0:
                one = slice(j, j + 1)
                offer = np.array([s_j * price / (1.0 + b[j])])
                r1, s1, bad1, _ = engine.liquidate_vec(fp, cc[one], dc[one], price, hmc[one], ht[one], offer)
                left = dc[j] - r1[0]
                dust = fp.min_debt > 0 and 0 < left < fp.min_debt
                got_j = y_eff * s1[0] / (x_eff + s1[0])
                if not dust and s1[0] <= s_j * (1 + 1e-12) and got_j - r1[0] - gas > 0:
                    rows = np.append(rows, j)
                    r_e, s_e, b_e = np.append(r_e, r1[0]), np.append(s_e, s1[0]), np.append(b_e, bad1[0])
        if len(rows) == 0:
            break
        who = cand[rows]
        sold = float(s_e.sum())
        got_total = pool.sell(sold)
        debt[who] -= r_e + b_e
        coll[who] -= s_e
        np.maximum(coll, 0.0, out=coll)
        _close_emptied(st, who, r_e + b_e)
        touched[who] = True
        value_total += sold * price
        room -= sold * price
        bad_total += float(b_e.sum())
        tot["repaid_by_liquidators"] += float(r_e.sum())
        tot["bad_debt_written_off"] += float(b_e.sum())
        tot["collateral_seized"] += sold
        tot["liquidator_proceeds"] += got_total
        tot["liquidator_gas"] += gas * len(who)
        tot["liquidations"] += len(who)
    return value_total, int(touched.sum()), bad_total


def _close_emptied(st, who, moved) -> None:
    """Positions whose debt reached 0 are closed; the borrower withdraws what collateral is left."""
    closed = who[st.debt[who] <= 1e-12 * (moved + 1.0)]
    if len(closed):
        st.debt[closed] = 0.0
        st.tot["collateral_withdrawn"] += float(st.coll[closed].sum())
        st.coll[closed] = 0.0
        st.is_open[closed] = False
        st.release(closed.tolist())
        st.n_open -= len(closed)


def _to_auction(st, cand, repaid, seized, bad, inv) -> None:
    """Dutch-auction variant: the engine's seizure goes to the market's sale; the debt repaid leaves the
    position at once and is owed by the sale (bad debt if the sale falls short)."""
    inv[0] += float(seized.sum())
    inv[1] += float(repaid.sum())
    st.debt[cand] -= repaid + bad
    st.coll[cand] -= seized
    np.maximum(st.coll, 0.0, out=st.coll)
    _close_emptied(st, cand, repaid + bad)
    tot = st.tot
    tot["collateral_seized"] += float(seized.sum())
    tot["auction_collateral"] += float(seized.sum())
    tot["repaid_by_liquidators"] += float(repaid.sum())
    tot["bad_debt_written_off"] += float(bad.sum())
    tot["liquidations"] += len(cand)


def _auction_sell(pool: _Pool, inv, room: float, tot) -> tuple[float, float]:
    """Sell the market's collateral into the pool, at most `room` of value this hour and only while the
    marginal price stays above 1 / 1.05 of the hour's price (the auction's price decays until buyers,
    who arbitrage it against the market, take it). Proceeds pay what the sale owes; once the collateral
    is gone, what is still owed is bad debt. Returns (bad debt realised, value sold at the hour's price)."""
    price = pool.y / pool.x
    s_be = max(math.sqrt(pool.x * pool.y * 1.05 / price) - pool.x, 0.0)
    amount = min(inv[0], s_be, room / price if room < math.inf else inv[0])
    if amount <= 0:
        return 0.0, 0.0
    got = pool.sell(amount)
    tot["liquidator_proceeds"] += got
    inv[0] -= amount
    paid = min(got, inv[1])
    inv[1] -= paid
    tot["auction_surplus"] = tot.get("auction_surplus", 0.0) + got - paid
    bad = 0.0
    if inv[0] <= 1e-12 and inv[1] > 0:
        bad = inv[1]
        inv[1] = 0.0
        tot["bad_debt_written_off"] += bad
    return bad, amount * price


# --- comparison ----------------------------------------------------------------------------------

# Windows of the shared files where the crashes are (start, end: UTC days, inclusive)
EPISODES = {
    "2018-01/02": ("2017-12-15", "2018-02-15"),
    "2018-10-15": ("2018-10-14", "2018-10-17"),
    "2018-11": ("2018-11-14", "2018-11-30"),
    "2020-03": ("2020-03-08", "2020-03-20"),
    "2021-05": ("2021-05-10", "2021-05-31"),
}


def episodes(run: Run, hist: History) -> dict:
    """Peak hourly liquidated value and bad debt written off (/ peak debt) in each crash window."""
    out = {}
    peak_debt = float(run.total_debt.max()) or 1.0
    for name, (a, b) in EPISODES.items():
        lo, hi = _parse_day(a), _parse_day(b) + 86_400
        sel = (hist.ts >= lo) & (hist.ts < hi)
        if not sel.any():
            continue
        out[name] = {
            "peak_hour_liquidated": float(run.liquidated[sel].max()),
            "bad_debt_share": float(run.bad_debt[sel].sum()) / peak_debt,
        }
    return out


def summarise(run: Run, hist: History) -> dict:
    """The stable fields (and more) of one model."""
    w = hist.warm_bar
    liq = run.liquidated[w:]
    peak_debt = float(run.total_debt.max()) if len(run.total_debt) else 0.0
    bad = run.totals["bad_debt_written_off"] + run.totals["uncovered_at_end"]
    cr = run.cr[w:]
    cr_init = run.cr_init[w:]
    worst = int(np.argmax(run.liquidated)) if run.liquidated.any() else 0
    return {
        "mean_cr": float(np.nanmean(cr)) if np.isfinite(cr).any() else float("nan"),
        "peak_hour_liquidated": float(liq.max()) if len(liq) else 0.0,
        "p99_hour_liquidated": float(np.percentile(liq, 99)) if len(liq) else 0.0,
        "worst_hour_positions": int(run.positions[w:].max()) if len(liq) else 0,
        "max_liquidation_impact": float(1.0 - math.exp(min(float(run.displacement.min()), 0.0))),
        "bad_debt_share": bad / peak_debt if peak_debt > 0 else 0.0,
        "mean_init_cr": float(np.nanmean(cr_init)) if np.isfinite(cr_init).any() else float("nan"),
        "mean_held_cr": float(np.nanmean(run.held_cr[w:])) if np.isfinite(run.held_cr[w:]).any() else 0.0,
        "max_hour_impact": float(run.hour_impact.max()),
        "liquidated_total": float(run.liquidated.sum()),
        "liquidation_hours": int((run.liquidated > 0).sum()),
        "bad_debt": bad,
        "bad_debt_written_off": run.totals["bad_debt_written_off"],
        "uncovered_at_end": run.totals["uncovered_at_end"],
        "peak_debt": peak_debt,
        "peak_hour": iso(int(hist.ts[worst])),
        "liquidations": int(run.totals["liquidations"]),
        "positions_opened": int(run.totals["positions_opened"]),
        "topups": int(run.totals["topups"]),
        "abandoned": int(run.totals["abandoned"]),
        "guard_violations": int(run.totals["guard_violations"]),
        "episodes": episodes(run, hist),
    }


def ballast_spec(cfg: StressConfig) -> ModelSpec:
    return ModelSpec(
        "dynamic", "dynamic", cfg.engine, apc=cfg.apc, min_debt_fraction=cfg.min_debt_fraction,
        init_floor=cfg.init_floor,
    )


def fixed_spec(cfg: StressConfig, dynamic: dict) -> ModelSpec:
    """The fixed ratio with the dynamic model's mean capital, on Ballast's engine."""
    return ModelSpec(
        "fixed_same_capital",
        "fixed",
        cfg.engine,
        h_maint=1.0 - 1.0 / dynamic["mean_cr"],
        h_init=1.0 - 1.0 / dynamic["mean_init_cr"],
        min_debt_fraction=cfg.min_debt_fraction,
        cr_maint=dynamic["mean_cr"],
        cr_init=dynamic["mean_init_cr"],
    )


_SHARED: tuple | None = None  # (hist, pop, cfg) handed to a forked worker


def _simulate_shared(specs: list[ModelSpec]) -> list[Run]:
    hist, pop, cfg = _SHARED
    return [simulate(hist, pop, spec, cfg) for spec in specs]


def run(
    candles: Candles,
    cfg: StressConfig | None = None,
    models: tuple[str, ...] = MODELS,
    progress=None,
    asset: str = "",
    hist: History | None = None,
    pop: Population | None = None,
    jobs: int = 1,
) -> tuple[dict, dict]:
    """Every model of `models` on the same population: the JSON document and the runs behind it.

    With jobs >= 2 the anchors run in forked workers (one each from jobs = 3) while this process runs
    Ballast's two models (the fixed ratio needs the dynamic model's mean capital first)."""
    global _SHARED
    cfg = cfg or StressConfig()
    start = time.perf_counter()
    cfg.engine.check(cfg.risk.h_min)
    hist = hist or history(candles, cfg)
    pop = pop or population(hist, cfg.population, cfg.seed)
    n = len(hist.ts)
    specs = anchor_specs()
    for name in models:
        if name not in MODELS:
            raise BallastError(f"stress: unknown model {name!r} (known: {', '.join(MODELS)})")
    ours = [m for m in ("dynamic", "fixed_same_capital") if m in models]
    if "fixed_same_capital" in ours and "dynamic" not in ours:
        ours.insert(0, "dynamic")
    theirs = [m for m in MODELS[2:] if m in models]
    runs: dict[str, Run] = {}
    out: dict[str, dict] = {}
    worker = None
    if jobs >= 2 and ours and theirs:
        import multiprocessing

        _SHARED = (hist, pop, cfg)
        # jobs - 1 workers share the anchors (each anchor alone when jobs >= 3)
        worker = multiprocessing.get_context("fork").Pool(min(jobs - 1, len(theirs)))
        groups = [theirs[k :: min(jobs - 1, len(theirs))] for k in range(min(jobs - 1, len(theirs)))]
        pending = [worker.apply_async(_simulate_shared, ([specs[m] for m in g],)) for g in groups]
        serial = ours
    else:
        serial = ours + theirs
    try:
        for k, name in enumerate(serial):
            if name == "dynamic":
                spec = ballast_spec(cfg)
            elif name == "fixed_same_capital":
                spec = fixed_spec(cfg, out["dynamic"])
            else:
                spec = specs[name]
            prog = None if progress is None else (lambda i, _n, k=k: progress(k * n + i, len(serial) * n))
            runs[name] = simulate(hist, pop, spec, cfg, prog)
            out[name] = _describe(summarise(runs[name], hist), spec)
        if worker is not None:
            for g, job in zip(groups, pending):
                for name, r in zip(g, job.get()):
                    runs[name] = r
                    out[name] = _describe(summarise(r, hist), specs[name])
    finally:
        if worker is not None:
            worker.close()
            worker.join()
            _SHARED = None
    pp, mk = cfg.population, cfg.market
    depth_at_warm = float(np.median(hist.scale[hist.warm_bar :]))
    result = {
        "asset": asset or candles.asset or "unknown",
        "rows": n,
        "borrowers": pp.borrowers,
        "seed": cfg.seed,
        "seconds": 0.0,
        "start": iso(int(hist.ts[0])),
        "end": iso(int(hist.ts[-1])),
        "models": {k: out[k] for k in models if k in out},
        "population": {
            "scale": pp.scale,
            "positions": len(pop),
            "expected_open": round(pp.n_active, 1),
            "typical_position_median": pp.scale * depth_at_warm / pp.n_active,
            "market_depth_median": depth_at_warm,
            "fraction_of_limit": [pp.fraction_low, pp.fraction_high],
            "hold_hours": [pp.hold_min_hours, pp.hold_max_hours],
            "gap_mean_hours": pp.gap_mean_hours,
            "size_sigma": pp.size_sigma,
            "manager_share": pp.manager_share,
            "topup_below": pp.topup_below,
            "topup_to": TOPUP_TO,
        },
        "assumptions": {
            "impact": "constant-product pool, loan reserve 49 x posted 2%-depth, reset each hour",
            "recovery_half_life_hours": mk.recovery_half_life_hours,
            "gas_fraction_of_typical_position": mk.gas_fraction,
            "oracle": "follows the impacted market; liquidations at the hour's impacted low, in rounds",
            "borrow_rate": model.borrow_rate(
                cfg.utilisation, cfg.rates.base, cfg.rates.slope1, cfg.rates.slope2, cfg.rates.kink
            ) / WAD,
        },
        "engine": _engine_doc(cfg),
    }
    result["seconds"] = round(time.perf_counter() - start, 3)
    return result, {"hist": hist, "pop": pop, "runs": runs}


def _describe(summary: dict, spec: ModelSpec) -> dict:
    summary["h_maint"] = None if spec.ratio == "dynamic" else spec.h_maint
    summary["h_init"] = None if spec.ratio == "dynamic" else spec.h_init
    if spec.ratio != "dynamic" and math.isfinite(summary["mean_cr"]):
        summary["mean_cr"], summary["mean_init_cr"] = spec.fixed_crs  # exactly (no mean of a constant)
    return summary


def _engine_doc(cfg: StressConfig) -> dict:
    e = cfg.engine
    return {
        "target": e.target,
        "target_margin": e.target_margin / WAD,
        "bonus_min": e.bonus_min / WAD,
        "bonus_max": e.bonus_max / WAD,
        "bonus_slope": e.bonus_slope / WAD,
        "min_debt_fraction_of_typical_position": cfg.min_debt_fraction,
        "early_write_off": e.early_write_off,
        "hourly_cap_of_depth": e.hourly_cap / WAD,
        "auction": e.auction,
        "apc": cfg.apc,
        "init_floor": cfg.init_floor,
    }


# --- named engine candidates (docs/STRESS.md) ------------------------------------------------------------

TODAY = engine.EngineParams()
PCT = WAD // 100
_TARGET = TODAY.replace(target="init_margin", target_margin=5 * PCT)
_CURVE = _TARGET.replace(bonus_min=2 * PCT, bonus_max=5 * PCT, bonus_slope=WAD)
_FULL = _CURVE.replace(early_write_off=True)
DUST = 0.05  # dust floor: gas (0.1% of the typical position) / the 2% minimum bonus: below it, even taking
# the whole debt pays less than the gas it costs
# name: (engine, anti-procyclicality, dust floor as a fraction of the typical position), in the order tried
CANDIDATES: dict[str, tuple] = {
    "today": (TODAY, "none", 0.0),
    "today_cap100": (TODAY.replace(hourly_cap=WAD), "none", 0.0),
    "target_maint2": (TODAY.replace(target="maint_margin", target_margin=2 * PCT), "none", 0.0),
    "target_init": (TODAY.replace(target="init"), "none", 0.0),
    "target_init_margin5": (_TARGET, "none", 0.0),
    "curve_2_5": (_CURVE, "none", 0.0),
    "curve_2_10": (_TARGET.replace(bonus_min=2 * PCT, bonus_max=10 * PCT, bonus_slope=2 * WAD), "none", 0.0),
    "curve_dust": (_CURVE, "none", DUST),
    "curve_dust_writeoff": (_FULL, "none", DUST),
    "cap50": (_FULL.replace(hourly_cap=WAD // 2), "none", DUST),
    "cap100": (_FULL.replace(hourly_cap=WAD), "none", DUST),
    "auction100": (_FULL.replace(hourly_cap=WAD, auction=True), "none", DUST),
    "apc_buffer": (_FULL, "buffer", DUST),
    "apc_stress": (_FULL, "stress", DUST),
    "apc_floor": (_FULL, "floor", DUST),
    # not an engine: a floor of H_init 5% of haircut above h_min (in calm markets H_init = H_maint = h_min
    # today, so a borrower at the limit is one tick from liquidation); a model change, for the lead
    "init_gap5": (_FULL, "none", DUST, 0.18),
    # combinations, after the single candidates above
    "cap100_margin10": (_FULL.replace(hourly_cap=WAD, target_margin=10 * PCT), "none", DUST),
    "cap100_buffer": (_FULL.replace(hourly_cap=WAD), "buffer", DUST),
    "today_cap100_buffer": (TODAY.replace(hourly_cap=WAD), "buffer", 0.0),
    "cap100_buffer_gap5": (_FULL.replace(hourly_cap=WAD), "buffer", DUST, 0.18),
}
# the design docs/STRESS.md recommended before the contract was written: the engine of `cap100` with the
# ratio changes of `cap100_buffer_gap5`. Its anti-procyclicality buffer is NOT on-chain.
CANDIDATES["recommended"] = CANDIDATES["cap100_buffer_gap5"]


def _shipped(risk: model.RiskParams) -> tuple:
    """What the market does (contracts/modules/market_math.vy, `model.engine`): `engine.shipped(risk)`
    (target max(H_init, H_maint + 5%), bonus 2% .. 5% at the market's slope, dust floor, early write-off,
    hourly cap of liq_cap x posted depth), H_init's floor h_min + init_gap (`model.h_init`), no buffer."""
    return (engine.shipped(risk), "none", DUST, (risk.h_min + risk.init_gap) / WAD)


CANDIDATES["shipped"] = _shipped(model.RiskParams())
DEFAULT_CANDIDATE = "shipped"


def candidate_config(name: str, cfg: StressConfig | None = None) -> StressConfig:
    if name not in CANDIDATES:
        raise BallastError(f"stress: unknown engine {name!r} (known: {', '.join(CANDIDATES)})")
    cfg = cfg or StressConfig()
    # the shipped engine follows the market's parameters of this config
    e, apc, dust, *rest = _shipped(cfg.risk) if name == "shipped" else CANDIDATES[name]
    return cfg.replace(engine=e, apc=apc, min_debt_fraction=dust, init_floor=rest[0] if rest else 0.0)


# --- output ------------------------------------------------------------------------------------------


def print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(
        title=(
            f"{result['asset']} {result['start'][:10]} .. {result['end'][:10]}: {result['borrowers']} borrowers "
            f"(scale {result['population']['scale']:g} x depth), seed {result['seed']}, engine "
            f"{result['engine'].get('name', '')}"
        )
    )
    cols = (
        "model", "mean CR", "peak hour liq.", "p99 hour liq.", "worst-hour positions", "max impact",
        "bad debt / peak debt",
    )
    for col in cols:
        t.add_column(col, justify="right")
    for name, m in result["models"].items():
        t.add_row(
            name,
            f"{m['mean_cr']:.3f}",
            f"{m['peak_hour_liquidated']:,.0f}",
            f"{m['p99_hour_liquidated']:,.0f}",
            str(m["worst_hour_positions"]),
            f"{m['max_liquidation_impact']:.2%}",
            f"{m['bad_debt_share']:.4%}",
        )
    Console(stderr=True).print(t)


def plot(result: dict, detail: dict, out: str, start: int | None, end: int | None) -> None:
    """Price (history and each model's simulated path), liquidated value per hour, and the maintenance
    CR of each model over a window (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    hist = detail["hist"]
    ts = hist.ts
    sel = plot_window(ts, start, end)
    days = ts[sel].astype("datetime64[s]")
    colors = {
        "dynamic": "tab:red", "fixed_same_capital": "tab:blue", "aave_v3_weth": "tab:purple",
        "morpho_lltv_86": "tab:green",
    }
    fig, (ax1, ax2, ax3, ax4) = plt.subplots(
        4, 1, figsize=(11, 10), sharex=True, gridspec_kw={"height_ratios": [3, 2, 2, 1.6]}
    )
    ax1.plot(days, hist.candles.close[sel], lw=1.6, color="0.75", label="history (close)")
    runs = detail["runs"]
    for name, r in runs.items():
        ax1.plot(days, r.close[sel], lw=0.8, color=colors.get(name), label=f"{name} (simulated)")
        ax2.plot(days, r.liquidated[sel], lw=0.8, color=colors.get(name), label=name)
        ax3.plot(days, 1.0 / (1.0 - r.h_maint_ref[sel]), lw=0.8, color=colors.get(name), label=name)
        peak = float(r.total_debt.max()) or 1.0
        ax4.plot(days, np.cumsum(r.bad_debt[sel]) / peak * 100, lw=0.9, color=colors.get(name), label=name)
    ax1.set_yscale("log")
    ax1.set_ylabel("price")
    ax1.legend(fontsize=7, loc="best")
    ax1.set_title(
        f"{result['asset']}: {result['borrowers']} borrowers, scale {result['population']['scale']:g} x depth, "
        f"engine {result['engine'].get('name', '')}"
    )
    ax2.set_ylabel("collateral value\nliquidated per hour")
    ax2.legend(fontsize=7, loc="best")
    ax3.set_ylabel("maintenance CR\n(ratio itself)")
    ax3.legend(fontsize=7, loc="best")
    ax4.set_ylabel("bad debt in window\n(% of peak debt)")
    ax4.legend(fontsize=7, loc="best")
    ax4.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
    fig.tight_layout()
    _write(out, lambda path: fig.savefig(path, dpi=110))
    plt.close(fig)


def _write(out: str, writer) -> None:
    """Create missing folders, then write; a failure is one line for the user."""
    try:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        writer(out)
    except OSError as exc:
        raise BallastError(f"cannot write {out}: {exc.strerror or exc}") from None


def stress_file(
    path: str, cfg: StressConfig, name: str, show_progress: bool = False, models=MODELS, jobs: int = 1
) -> tuple[dict, dict]:
    t0 = time.perf_counter()
    candles = load_candles(path)
    asset = candles.asset or Path(path).stem
    if not show_progress:
        result, detail = run(candles, cfg, models, asset=asset, jobs=jobs)
    else:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(f"stress: {len(candles)} bars x {len(models)} models", total=1.0)
            result, detail = run(
                candles, cfg, models, progress=lambda i, n: bar.update(task, completed=i / n), asset=asset,
                jobs=jobs,
            )
    result["engine"]["name"] = name
    result["seconds"] = round(time.perf_counter() - t0, 3)
    return result, detail


@click.command("stress")
@click.option("--csv", "csv_path", required=True, help="candle CSV (CryptoDataDownload format)")
@click.option("--borrowers", default=1_000, show_default=True, type=int, help="borrowers in the population")
@click.option("--seed", default=1, show_default=True, type=int, help="seed of the population")
@click.option(
    "--scale", default=1.0, show_default=True, type=float,
    help="population collateral against the market's usual 2%-depth (M)",
)
@click.option(
    "--engine", "engine_name", default=None,
    help=f"Ballast's liquidation engine (default {DEFAULT_CANDIDATE}; see docs/STRESS.md)",
)
@click.option("--json", "json_out", default=None, help="write the result as JSON to this file ('-' = stdout)")
@click.option("--plot", "plot_out", default=None, help="write a PNG of the crash window")
@click.option("--start", "--plot-start", "plot_start", default="2020-03-05", show_default=True,
              help="plot window start (YYYY-MM-DD)")
@click.option("--end", "--plot-end", "plot_end", default="2020-03-25", show_default=True,
              help="plot window end (YYYY-MM-DD)")
@click.option("--jobs", default=2, show_default=True, type=int, help="processes (2: the anchors run beside Ballast)")
@click.option("--quiet", is_flag=True, help="no table, no progress bar")
def command(csv_path, borrowers, seed, scale, engine_name, json_out, plot_out, plot_start, plot_end, jobs, quiet):
    """Replay a candle file with a population of borrowers and liquidators whose sales move the price;
    compare Ballast with a fixed ratio of the same capital and with Aave's and Morpho's parameters."""
    if borrowers < 1 or borrowers > 100_000:
        raise BallastError(f"--borrowers must be in [1, 100000], got {borrowers}")
    if not (0 < scale <= 1_000):
        raise BallastError(f"--scale must be in (0, 1000], got {scale:g}")
    name = engine_name or DEFAULT_CANDIDATE
    cfg = candidate_config(name, StressConfig(seed=seed)).replace(
        population=PopulationParams(borrowers=borrowers, scale=scale)
    )
    start, end = _parse_day(plot_start), _parse_day(plot_end)
    for out in (plot_out, None if json_out == "-" else json_out):
        if out:
            writable(out)
    result, detail = stress_file(csv_path, cfg, name, show_progress=not quiet and os.isatty(2), jobs=jobs)
    if plot_out:
        plot(result, detail, plot_out, start, end)
    text = json.dumps(result, indent=2)
    if json_out == "-":
        click.echo(text)
    elif json_out:
        _write(json_out, lambda path: Path(path).write_text(text + "\n"))
    if not quiet:
        print_table(result)


# --- benchmark ---------------------------------------------------------------------------------------

BENCH_FILE = "Binance_ETHUSDT_1h.csv"
BENCH_TARGET_SECONDS = 30.0


@click.command("stress")
@click.option("--data", default=None, help="folder holding the 36k-row candle files (default ../shared/data)")
@click.option("--json", "json_out", default=None, help="write the timing as JSON")
@click.option("--borrowers", default=1_000, show_default=True, type=int)
@click.option("--jobs", default=2, show_default=True, type=int, help="processes (2: the anchors run beside Ballast)")
@click.option("--quiet", is_flag=True, help="no progress bar")
def bench_command(data, json_out, borrowers, jobs, quiet):
    """Time a full-file `ballast stress` run (36,000 hours x 1,000 borrowers, every model; target < 30 s)."""
    folder = Path(data) if data else data_dir()
    if folder is None or not (folder / BENCH_FILE).is_file():
        raise BallastError(f"candle file {BENCH_FILE} not found (pass --data DIR or set BALLAST_DATA)")
    if json_out:
        writable(json_out)
    cfg = candidate_config(DEFAULT_CANDIDATE).replace(population=PopulationParams(borrowers=borrowers))
    # the machine is shared: time the backtest of the same file first, as a yardstick of its load
    # (docs/BACKTEST.md: 0.6-0.9 s on an idle machine)
    from oracle.backtest import backtest_file

    t0 = time.perf_counter()
    backtest_file(str(folder / BENCH_FILE), 6.0)
    reference = time.perf_counter() - t0
    import resource

    def cpu() -> float:
        r = (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
        return sum(x.ru_utime + x.ru_stime for x in r)

    t0, c0 = time.perf_counter(), cpu()
    result, _ = stress_file(
        str(folder / BENCH_FILE), cfg, DEFAULT_CANDIDATE, show_progress=not quiet and os.isatty(2), jobs=jobs
    )
    total, cpu_total = time.perf_counter() - t0, cpu() - c0
    doc = {
        "benchmark": "stress",
        "file": BENCH_FILE,
        "bars": result["rows"],
        "borrowers": borrowers,
        "models": list(result["models"]),
        "jobs": jobs,
        "seconds": round(total, 3),
        "cpu_seconds": round(cpu_total, 3),  # all processes: what the run costs whatever the load
        "reference_backtest_seconds": round(reference, 3),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "target_seconds": BENCH_TARGET_SECONDS,
        "ok": total < BENCH_TARGET_SECONDS,
    }
    click.echo(
        f"{BENCH_FILE}: {total:.2f} s ({result['rows']} bars x {borrowers} borrowers x "
        f"{len(result['models'])} models, {cpu_total:.1f} s of CPU)  target < {BENCH_TARGET_SECONDS:g} s; "
        "backtest of the same file "
        f"{reference:.2f} s, load average {os.getloadavg()[0]:.2f}",
        err=True,
    )
    text = json.dumps(doc, indent=2)
    if json_out:
        _write(json_out, lambda path: Path(path).write_text(text + "\n"))
    else:
        click.echo(text)
