"""Calibration tables of docs/BACKTEST.md, reproducible: one knob at a time around the defaults, and
the breaches by episode of the defaults. Both go through `oracle.backtest.run`, i.e. the shipped
estimators, policy, guardrails, ramp clock and integer model.

    python -m oracle.sensitivity ../shared/data/Binance_ETHUSDT_1h.csv ../shared/data/Binance_BTCUSDT_1h.csv

prints three Markdown tables (a column per file). "!" marks a part of a result that misses its target
of DESIGN.md ("Validation on history"). The third table is a robustness check of the defaults on data
they were not fitted to as a whole: each half of each file, and the file with its volatility scaled
(log prices stretched around the first close by a factor, volumes unchanged), which stands in for
calmer and wilder assets.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from oracle import model
from oracle.backtest import BacktestConfig, breach_line, breaches, run
from oracle.errors import BallastError
from oracle.sources.csv import load_candles

WAD = model.WAD
HOUR = model.HOUR

# Targets (DESIGN.md): breach rate, worst-week ratio, shortfall ratio, median CR below same-safety CR.
MAX_BREACH_RATE = 0.010
MAX_WORST_WEEK_RATIO = 0.5
MAX_SHORTFALL_RATIO = 0.75


def _risk(**kw) -> Callable[[BacktestConfig], BacktestConfig]:
    return lambda c: dataclasses.replace(c, risk=c.risk.replace(**kw))


def _est(**kw) -> Callable[[BacktestConfig], BacktestConfig]:
    return lambda c: dataclasses.replace(c, estimators=dataclasses.replace(c.estimators, **kw))


def _guard(**kw) -> Callable[[BacktestConfig], BacktestConfig]:
    return lambda c: dataclasses.replace(c, guard=dataclasses.replace(c.guard, **kw))


def _ref(position: int) -> Callable[[BacktestConfig], BacktestConfig]:
    return lambda c: dataclasses.replace(c, reference_position=position)


def _both(*fs: Callable[[BacktestConfig], BacktestConfig]) -> Callable[[BacktestConfig], BacktestConfig]:
    def go(c: BacktestConfig) -> BacktestConfig:
        for f in fs:
            c = f(c)
        return c

    return go


VARIANTS: list[tuple[str, Callable[[BacktestConfig], BacktestConfig]]] = [
    ("**calibrated defaults**", lambda c: c),
    (
        "first calibration (h_min 12%, half-life down 72 h)",
        _both(_risk(h_min=12 * WAD // 100), _est(half_life_down=72 * HOUR)),
    ),
    (
        "before calibration (h_min 10%, close-only EWMA, half-life down 72 h)",
        _both(_risk(h_min=10 * WAD // 100), _est(use_range=False, half_life_down=72 * HOUR)),
    ),
    ("close-only EWMA", _est(use_range=False)),
    ("h_min 12%", _risk(h_min=12 * WAD // 100)),
    ("h_min 14%", _risk(h_min=14 * WAD // 100)),
    ("ramp 5%/h", _risk(ramp_per_hour=5 * WAD // 100)),
    ("ramp 10%/h", _risk(ramp_per_hour=10 * WAD // 100)),
    ("z_maint 1.75", _risk(z_maint=175 * WAD // 100)),
    ("z_maint 2.25", _risk(z_maint=225 * WAD // 100)),
    ("half-life up 4 h", _est(half_life_up=4 * HOUR)),
    ("half-life up 8 h", _est(half_life_up=8 * HOUR)),
    ("half-life down 36 h", _est(half_life_down=36 * HOUR)),
    ("half-life down 72 h", _est(half_life_down=72 * HOUR)),
    ("sigma fall guard 2%/h", _guard(sigma_fall_per_hour=2 * WAD // 100)),
    ("reference position 100k", _ref(100_000)),
    ("reference position 1M", _ref(1_000_000)),
]

EPISODES = [
    ("Dec 2017 - mid Feb 2018 (top and first crash)", "2017-12-01", "2018-02-15"),
    ("14-30 Nov 2018 (break of a record-calm range)", "2018-11-14", "2018-12-01"),
    ("8-20 March 2020", "2020-03-08", "2020-03-21"),
    ("10-31 May 2021", "2021-05-10", "2021-06-01"),
]


DATASETS = [
    ("whole file", None, 1.0),
    ("first half of the rows", 0, 1.0),
    ("second half of the rows", 1, 1.0),
    ("volatility x0.5", None, 0.5),
    ("volatility x0.7", None, 0.7),
    ("volatility x1.5", None, 1.5),
    ("volatility x2", None, 2.0),
]


def scaled(candles, k: float):
    """`candles` with every log price stretched by `k` around the first close: returns and ranges
    scale by k (sigma by k), the time structure of the moves stays as it was."""
    base = math.log(float(candles.close[0]))

    def f(x):
        return np.exp(base + k * (np.log(x) - base))

    return dataclasses.replace(
        candles, open=f(candles.open), high=f(candles.high), low=f(candles.low), close=f(candles.close)
    )


def dataset(candles, half: int | None, k: float):
    if half is not None:
        n = len(candles)
        candles = candles[0 : n // 2] if half == 0 else candles[n // 2 : n]
    return candles if k == 1.0 else scaled(candles, k)


def _day(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp())


def cell(result: dict) -> str:
    """`breach rate, worst week dyn/same-capital, shortfall ratio, median CR/same-safety CR`, "!" after
    each part that misses its target."""
    d, cap, safe = result["dynamic"], result["static_same_capital"], result["static_same_safety"]
    rate_ok = d["breach_rate"] <= MAX_BREACH_RATE
    week_ok = d["worst_week_breaches"] <= MAX_WORST_WEEK_RATIO * cap["worst_week_breaches"]
    ratio = d["shortfall"] / cap["shortfall"] if cap["shortfall"] else float("inf")
    short_ok = ratio <= MAX_SHORTFALL_RATIO
    cr_ok = d["median_cr"] < safe["cr"]
    mark = {True: "", False: " !"}
    return (
        f"{100 * d['breach_rate']:.2f}%{mark[rate_ok]}, "
        f"{d['worst_week_breaches']}/{cap['worst_week_breaches']}{mark[week_ok]}, "
        f"{ratio:.2f}{mark[short_ok]}, "
        f"{d['median_cr']:.3f}/{safe['cr']:.3f}{mark[cr_ok]}"
    )


def episode_counts(result: dict, series: dict) -> list[tuple[int, int, int]]:
    """(dynamic, static same capital, static same safety) breaches inside each of EPISODES."""
    mask = series["mask"]
    ts, close, ahead = series["ts"][mask], series["close"][mask], series["low_ahead"][mask]
    bonus = series["bonus"]
    dyn = breaches(close, ahead, breach_line(series["h_maint"][mask], bonus))
    flags = [dyn]
    for key in ("static_same_capital", "static_same_safety"):
        flags.append(breaches(close, ahead, np.full(len(close), (1.0 + bonus) / result[key]["cr"])))
    out = []
    for _, start, end in EPISODES:
        inside = (ts >= _day(start)) & (ts < _day(end))
        out.append(tuple(int((f & inside).sum()) for f in flags))
    return out


def tables(paths: list[str], horizon_hours: float = 6.0, progress=print) -> str:
    names, columns, episodes, robust = [], [], [], []
    for path in paths:
        candles = load_candles(path)
        names.append(candles.asset or Path(path).stem)
        rob = []
        for label, half, k in DATASETS:
            result, _ = run(dataset(candles, half, k), BacktestConfig(horizon_hours=horizon_hours))
            rob.append(cell(result))
            progress(f"{names[-1]}: {label}: {rob[-1]}", file=sys.stderr)
        robust.append(rob)
        col = []
        for label, change in VARIANTS:
            cfg = change(BacktestConfig(horizon_hours=horizon_hours))
            result, series = run(candles, cfg)
            col.append(cell(result))
            if label == VARIANTS[0][0]:
                episodes.append(episode_counts(result, series))
            progress(f"{names[-1]}: {label}: {col[-1]}", file=sys.stderr)
        columns.append(col)
    head = "| variant | " + " | ".join(names) + " |\n|---|" + "---|" * len(names) + "\n"
    rows = "".join(
        f"| {label} | " + " | ".join(c[i] for c in columns) + " |\n" for i, (label, _) in enumerate(VARIANTS)
    )
    ep = "| episode | " + " | ".join(names) + " |\n|---|" + "---|" * len(names) + "\n"
    for i, (label, _, _) in enumerate(EPISODES):
        ep += f"| {label} | " + " | ".join(" / ".join(map(str, e[i])) for e in episodes) + " |\n"
    rb = "| data (defaults) | " + " | ".join(names) + " |\n|---|" + "---|" * len(names) + "\n"
    for i, (label, _, _) in enumerate(DATASETS):
        rb += f"| {label} | " + " | ".join(r[i] for r in robust) + " |\n"
    return (
        "Sensitivity (breach rate, worst week dynamic/same-capital, shortfall ratio, median CR / "
        "same-safety CR):\n\n" + head + rows + "\nBreaches by episode (dynamic / static same capital / "
        "static same safety):\n\n"
        + ep
        + "\nRobustness of the defaults (same columns as the sensitivity table):\n\n"
        + rb
    )


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        print(tables(argv))
    except BallastError as exc:
        print(f"ballast: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
