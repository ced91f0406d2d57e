"""The bundled, seeded market scenario that `ballast demo` plays by default.

Three phases, hour by hour: a calm market, a crash, and a partial recovery. The path is a geometric
random walk whose drift and volatility change with the phase; the same seed gives the same path on
every machine (numpy's PCG64).

The demo turns each hour into on-chain events: swaps against the demo constant-product pool move its
price to `close`. Depth is not scripted: it is what the pool's reserves give. Selling collateral into
the pool drains its loan-token side, so the depth the keeper measures thins as the price crashes
(by sqrt(price ratio): a 36% fall costs the pool a fifth of its depth) and comes back with the price.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOUR = 3_600
YEAR_HOURS = 365 * 24

# Phase layout of the default scenario: (name, hours, annualised sigma, total log-return)
DEFAULT_PHASES: tuple[tuple[str, int, float, float], ...] = (
    ("calm", 24, 0.45, 0.02),
    ("crash", 12, 2.50, -0.45),
    ("recovery", 24, 0.90, 0.15),
)
DEFAULT_START = 1_700_000_000 - 1_700_000_000 % HOUR  # 2023-11-14T22:00Z, a whole hour
DEFAULT_PRICE = 2_000.0


@dataclass(frozen=True)
class Scenario:
    """Hourly path. All arrays have one entry per hour; `t` is the candle's open time (unix s)."""

    t: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    phase: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.t)

    def head(self, hours: int) -> Scenario:
        """The first `hours` hours (all of them when `hours` is larger)."""
        n = max(0, min(hours, len(self)))
        return Scenario(
            t=self.t[:n],
            open=self.open[:n],
            high=self.high[:n],
            low=self.low[:n],
            close=self.close[:n],
            volume=self.volume[:n],
            phase=self.phase[:n],
        )


def generate(
    seed: int = 7,
    phases: tuple[tuple[str, int, float, float], ...] = DEFAULT_PHASES,
    start: int = DEFAULT_START,
    price0: float = DEFAULT_PRICE,
) -> Scenario:
    """Build the scenario. Within each phase the log-returns are Gaussian with the phase's volatility,
    then shifted so that the phase ends exactly at its total log-return (the shape is random, the
    story is not)."""
    if any(hours <= 0 for _, hours, _, _ in phases):
        raise ValueError("every phase needs at least one hour")
    rng = np.random.default_rng(seed)
    rets, names, sig = [], [], []
    for name, hours, sigma, total in phases:
        step_sd = sigma / np.sqrt(YEAR_HOURS)
        r = rng.normal(0.0, step_sd, hours)
        r += (total - r.sum()) / hours
        rets.append(r)
        names.extend([name] * hours)
        sig.append(np.full(hours, step_sd))
    r = np.concatenate(rets)
    step_sd = np.concatenate(sig)
    close = price0 * np.exp(np.cumsum(r))
    open_ = np.concatenate(([price0], close[:-1]))
    # Intra-hour excursions: half-normal beyond the open/close envelope, scaled by the hour's vol.
    up = np.abs(rng.normal(0.0, 0.5, len(r))) * step_sd
    down = np.abs(rng.normal(0.0, 0.5, len(r))) * step_sd
    high = np.maximum(open_, close) * np.exp(up)
    low = np.minimum(open_, close) * np.exp(-down)
    volume = 1_000.0 * (1.0 + np.abs(r) / step_sd) * rng.uniform(0.8, 1.2, len(r))
    t = start + HOUR * np.arange(len(r), dtype=np.int64)
    return Scenario(
        t=t,
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=volume,
        phase=tuple(names),
    )
