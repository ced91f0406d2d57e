"""Volatility and depth estimators (pure functions over numpy arrays).

Conventions: prices are floats in loan-token units per collateral unit; time in seconds; volatilities
are annualised (365-day year, as `oracle.model.YEAR`); depth is the loan-token value that can be sold
into the market with at most `impact` (2%) average price impact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

YEAR = 365 * 86_400
HOUR = 3_600
IMPACT = 0.02  # the depth definition: at most 2% average price impact


def log_returns(close: np.ndarray) -> np.ndarray:
    """r_i = ln(close_i / close_{i-1}); one shorter than `close`."""
    close = np.asarray(close, dtype=float)
    return np.diff(np.log(close))


def ewma_vol(
    close: np.ndarray,
    ts: np.ndarray | None = None,
    half_life_up: float = 6 * HOUR,
    half_life_down: float = 48 * HOUR,
    sigma0: float | None = None,
    period: float = HOUR,
    high: np.ndarray | None = None,
    low: np.ndarray | None = None,
) -> np.ndarray:
    """Annualised EWMA volatility after each bar, with fast-up / slow-down memory.

    Each squared log return is turned into an annual variance sample  s_i = r_i^2 * YEAR / dt_i
    (dt_i from `ts`, so a gap of several bars counts as one longer return). The variance follows
        v_i = v_{i-1} + a_i * (s_i - v_{i-1}),   a_i = 1 - 2^(-dt_i / half_life)
    with `half_life_up` when s_i > v_{i-1} (risk is recognised fast) and `half_life_down` otherwise
    (calm returns only slowly argue risk away). Returns sigma_i = sqrt(v_i) for every bar (len(close));
    bar 0 gets `sigma0` (default: the root mean square of the first 24 returns, annualised).

    With `high`/`low`, each bar's sample is the larger of its squared close-to-close return and its
    Parkinson range variance ln(H/L)^2 / (4 ln 2): a bar that swung widely but closed flat still
    counts, so the estimate reacts inside the hour in which a crash starts.
    """
    close = np.asarray(close, dtype=float)
    n = len(close)
    if n == 0:
        return np.zeros(0)
    if ts is None:
        dt = np.full(max(n - 1, 0), float(period))
    else:
        dt = np.diff(np.asarray(ts, dtype=float))
        if np.any(dt <= 0):
            raise ValueError("ewma_vol: timestamps must increase")
    r = log_returns(close)
    per_bar = r * r
    if high is not None and low is not None and n > 1:
        hl = np.log(np.asarray(high, dtype=float)[1:] / np.asarray(low, dtype=float)[1:])
        per_bar = np.maximum(per_bar, hl * hl / (4.0 * math.log(2.0)))
    samples = per_bar * (YEAR / dt) if n > 1 else np.zeros(0)
    if sigma0 is None:
        head = samples[:24]
        v = float(head.mean()) if len(head) else 0.0
    else:
        v = float(sigma0) ** 2
    a_up = 1.0 - np.exp2(-dt / half_life_up)
    a_down = 1.0 - np.exp2(-dt / half_life_down)
    out = np.empty(n)
    out[0] = v
    # Sequential by nature (the branch depends on the state); plain floats keep it ~20 ms per 36k bars.
    s_list, up_list, down_list = samples.tolist(), a_up.tolist(), a_down.tolist()
    for i in range(n - 1):
        s = s_list[i]
        v += (up_list[i] if s > v else down_list[i]) * (s - v)
        out[i + 1] = v
    return np.sqrt(out)


def _rolling_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over up to `window` samples (shorter at the start)."""
    x = np.asarray(x, dtype=float)
    c = np.concatenate(([0.0], np.cumsum(x)))
    idx = np.arange(1, len(x) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def parkinson_vol(high: np.ndarray, low: np.ndarray, period: float = HOUR, window: int | None = None):
    """Parkinson (1980) range estimator, annualised: var per bar = ln(H/L)^2 / (4 ln 2).

    window=None: one number over all bars; otherwise an array of trailing-window estimates."""
    hl = np.log(np.asarray(high, dtype=float) / np.asarray(low, dtype=float))
    per_bar = hl * hl / (4.0 * math.log(2.0))
    scale = YEAR / period
    if window is None:
        return float(np.sqrt(per_bar.mean() * scale))
    return np.sqrt(_rolling_mean(per_bar, window) * scale)


def garman_klass_vol(open_, high, low, close, period: float = HOUR, window: int | None = None):
    """Garman-Klass (1980) estimator, annualised:
    var per bar = 0.5 ln(H/L)^2 - (2 ln 2 - 1) ln(C/O)^2.  window as in `parkinson_vol`."""
    hl = np.log(np.asarray(high, dtype=float) / np.asarray(low, dtype=float))
    co = np.log(np.asarray(close, dtype=float) / np.asarray(open_, dtype=float))
    per_bar = 0.5 * hl * hl - (2.0 * math.log(2.0) - 1.0) * co * co
    scale = YEAR / period
    if window is None:
        return float(np.sqrt(max(per_bar.mean(), 0.0) * scale))
    return np.sqrt(np.maximum(_rolling_mean(per_bar, window), 0.0) * scale)


# --- depth --------------------------------------------------------------------------------------


def depth_from_pool(reserve_collateral: float, reserve_loan: float, fee: float = 0.0, impact: float = IMPACT):
    """Loan-token value (at the pool's spot price) of the collateral that can be sold into a
    constant-product pool x*y=k with an average execution price at most `impact` below spot.

    Selling dx (fee f taken from the input): received dy = y*dx(1-f) / (x + dx(1-f)); average price
    dy/dx = spot * (1-f) * x / (x + dx(1-f)). Setting it to spot*(1-impact):
        dx = x * ((1-f)/(1-impact) - 1) / (1-f),   depth = dx * y / x.
    Zero when the fee alone exceeds the impact. Without fee: depth = y * impact / (1 - impact).
    """
    x, y = float(reserve_collateral), float(reserve_loan)
    if x <= 0 or y <= 0:
        return 0.0
    keep = 1.0 - fee
    ratio = keep / (1.0 - impact) - 1.0
    if ratio <= 0:
        return 0.0
    return x * ratio / keep * (y / x)


def depth_from_book(
    bids: Sequence[tuple[float, float]], reference: float | None = None, impact: float = IMPACT
):
    """Loan-token value (at the reference price, default the best bid) of the collateral that can be
    sold into the bids [(price, size), ...] with an average execution price >= reference*(1-impact).

    Walks the levels best first; the last level is taken partially, in closed form: with Q sold for C so
    far and a level at p below the limit P, at most q = (C - P*Q) / (P - p) more keeps the average >= P.
    """
    levels = sorted(((float(p), float(s)) for p, s in bids if p > 0 and s > 0), key=lambda lv: -lv[0])
    if not levels:
        return 0.0
    ref = float(reference) if reference is not None else levels[0][0]
    limit = ref * (1.0 - impact)
    qty = cost = 0.0
    for price, size in levels:
        if price >= limit:
            qty, cost = qty + size, cost + price * size
            continue
        room = (cost - limit * qty) / (limit - price)
        qty += max(0.0, min(size, room))
        break
    return qty * ref


def depth_from_volume(
    volume_quote: np.ndarray,
    sigma: np.ndarray,
    period: float = HOUR,
    window_bars: int = 168,
    impact_coef: float = 1.0,
    impact: float = IMPACT,
) -> np.ndarray:
    """Volume proxy when only candles exist: the square-root impact law
        impact = Y * sigma_daily * sqrt(Q / ADV)   =>   Q = ADV * (impact / (Y * sigma_daily))^2
    with ADV the trailing average daily quote volume (over `window_bars`), sigma_daily the annual
    sigma scaled to a day and Y = `impact_coef` (order 1 in the empirical literature). Higher volatility
    and thinner trading both shrink the depth. Returns one value per bar (loan-token units)."""
    vq = np.asarray(volume_quote, dtype=float)
    adv = _rolling_mean(vq, window_bars) * (86_400 / period)
    sig_d = np.maximum(np.asarray(sigma, dtype=float), 1e-6) * math.sqrt(86_400 / YEAR)
    return adv * (impact / (impact_coef * sig_d)) ** 2


# --- the keeper's estimator set -----------------------------------------------------------------


@dataclass(frozen=True)
class EstimatorParams:
    """Defaults shared by the keeper and `ballast backtest` (calibrated: docs/BACKTEST.md)."""

    half_life_up: float = 6 * HOUR  # EWMA memory when returns are larger than the estimate
    half_life_down: float = 48 * HOUR  # EWMA memory when they are smaller (calibrated)
    depth_window_bars: int = 168  # trailing window of the volume proxy (a week of hours)
    impact_coef: float = 1.0  # Y of the square-root impact law
    use_range: bool = True  # EWMA samples include each bar's high-low range (Parkinson)


def measure(candles, est: EstimatorParams | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(sigma, depth) after each bar of `candles` (`oracle.sources.Candles`), in floats: annualised
    sigma from the fast-up/slow-down EWMA of close-to-close returns, depth (quote units) from the
    volume proxy. Only data up to each bar is used."""
    est = est or EstimatorParams()
    period = candles.period
    hl = (candles.high, candles.low) if est.use_range else (None, None)
    sigma = ewma_vol(candles.close, candles.ts, est.half_life_up, est.half_life_down, None, period, *hl)
    depth = depth_from_volume(
        candles.volume_quote,
        sigma,
        period=period,
        window_bars=est.depth_window_bars,
        impact_coef=est.impact_coef,
    )
    return sigma, depth
