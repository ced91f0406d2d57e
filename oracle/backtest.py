"""`ballast backtest`: replay candle history through the keeper and the exact on-chain model.

Hour by hour (bar by bar), at the close of bar i (observation time T_i = ts_i + period):

1. the keeper measures sigma (fast-up/slow-down EWMA) and depth (volume proxy) from bars <= i
   (`oracle.metrics.measure`), and the price (close_i);
2. the posting policy decides whether to post and clips to the oracle guardrails (`oracle.policy`);
   every post is checked against the oracle's acceptance rules (it must apply, neither revert nor
   queue): the count of violations is reported and must be 0;
3. the market pokes its ramp (`model.RampState.poke_market`, as Market.vy) towards `model.maint_base_target` of the
   effective (staleness-aware) posted sigma and the borrow rate;
4. the effective maintenance haircut of a reference position is `model.h_maint` of the ramped base
   and the ramped depth (a fall of the posted depth reaches existing positions at most 20%/h).

Definitions (DESIGN.md, "Validation on history"), with h the horizon in bars and b the bonus:

- low_ahead_i = min(low_j) over the bars j with ts_i < ts_j <= ts_i + h * period;
- breach at i  <=>  low_ahead_i < close_i * (1 - H_i) * (1 + b); breach_rate = breaches / evaluated;
- shortfall = mean over evaluated bars of max(0, (1 - H_i)(1 + b) - low_ahead_i / close_i);
- worst_week_breaches = max number of breaches among bars whose ts lie in any 168 consecutive hours;
- evaluated bars: after a warm-up of 168 hours (the estimators start cold) and with a full horizon
  ahead (bars within h of the end are dropped);
- static_same_capital: fixed CR equal to the dynamic mean_cr; static_same_safety: the smallest fixed
  CR whose breach rate is <= the dynamic one. A fixed CR c breaches at i iff c < u_i with
  u_i = (1 + b) close_i / low_ahead_i, so the answer is the (k+1)-th largest u_i (k = dynamic
  breaches), then verified with the same evaluator and nudged up (never down) if rounding disagrees.

Assumptions (documented in docs/BACKTEST.md): the borrow rate is constant, the model's rate at 80%
utilisation with the default `model.RateParams`; the liquidity term is that of a reference position of
10,000 loan-token units (a loan token with 6 decimals, like USDT); depth comes from the volume proxy.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import click
import numpy as np

from oracle import model, policy
from oracle.errors import BallastError
from oracle.metrics import EstimatorParams, measure
from oracle.sources.base import Candles
from oracle.sources.csv import load_candles

LOAN_DECIMALS = 6  # the backtest's loan token (USDT-like)
LOAN_UNIT = 10**LOAN_DECIMALS
REFERENCE_POSITION = 10_000  # collateral value of the reference position, loan-token units
REFERENCE_UTILISATION = 80 * model.WAD // 100  # constant utilisation for the borrow rate
WARMUP_HOURS = 168
WEEK_HOURS = 168


@dataclass(frozen=True)
class BacktestConfig:
    horizon_hours: float = 6.0
    risk: model.RiskParams = field(default_factory=model.RiskParams)
    guard: model.GuardParams = field(default_factory=model.GuardParams)
    policy: policy.PolicyParams = field(default_factory=policy.PolicyParams)
    estimators: EstimatorParams = field(default_factory=EstimatorParams)
    rates: model.RateParams = field(default_factory=model.RateParams)
    reference_position: int = REFERENCE_POSITION
    utilisation: int = REFERENCE_UTILISATION
    warmup_hours: float = WARMUP_HOURS


@dataclass
class Replay:
    """Per-bar series of one replay (floats, one per bar)."""

    h_maint: np.ndarray  # effective maintenance haircut of the reference position
    maint_base: list  # ramped maintenance base (WAD int) after each bar's poke
    h_maint_wad: list  # h_maint as the exact WAD integers
    sigma_wad: list  # posted sigma (WAD int)
    depth_raw: list  # posted depth (loan-token raw units)
    sigma_posted: np.ndarray
    depth_posted: np.ndarray  # loan-token units
    posts: int
    guard_violations: int


# --- pure pieces ----------------------------------------------------------------------------------


def horizon_bars(horizon_hours: float, period: int) -> int:
    return max(1, math.ceil(horizon_hours * 3_600 / period - 1e-9))


def grid_index(ts: np.ndarray, period: int) -> np.ndarray:
    """Position of each bar on a regular grid starting at ts[0] (gaps leave holes)."""
    return ((np.asarray(ts, dtype=np.int64) - int(ts[0])) // period).astype(np.int64)


def low_ahead(ts: np.ndarray, low: np.ndarray, period: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """(lowest low of the bars in (ts_i, ts_i + h*period], complete) for every bar; `complete` is False
    for bars whose horizon runs past the last bar (their value is then meaningless)."""
    g = grid_index(ts, period)
    size = int(g[-1]) + 1
    grid = np.full(size + h, np.inf)
    grid[g] = low
    windows = np.lib.stride_tricks.sliding_window_view(grid[1:], h)  # window k covers grid k+1 .. k+h
    ahead = windows[g]
    out = ahead.min(axis=1)
    complete = g + h <= g[-1]
    return out, complete


def breach_line(h: np.ndarray | float, bonus: float) -> np.ndarray:
    """Breach line as a fraction of close: (1 - H)(1 + b)."""
    return (1.0 - np.asarray(h, dtype=float)) * (1.0 + bonus)


def breaches(close: np.ndarray, ahead: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Boolean per bar: the lowest price ahead fell below close * line."""
    return np.asarray(ahead) < np.asarray(close) * np.asarray(line)


def shortfall(close: np.ndarray, ahead: np.ndarray, line: np.ndarray) -> float:
    """Mean over bars of max(0, line - ahead/close): how far below the breach line the price went,
    as a fraction of the collateral's value at the bar."""
    if len(close) == 0:
        return 0.0
    close, ahead, line = np.asarray(close), np.asarray(ahead), np.asarray(line)
    gap = line - ahead / close
    return float(np.where(breaches(close, ahead, line), np.maximum(gap, 0.0), 0.0).mean())


def worst_window(flags: np.ndarray, ts: np.ndarray, period: int, hours: float = WEEK_HOURS) -> int:
    """Most flagged bars among those whose timestamps lie in any `hours` consecutive hours."""
    flags = np.asarray(flags, dtype=bool)
    if len(flags) == 0 or not flags.any():
        return 0
    g = grid_index(ts, period)
    grid = np.zeros(int(g[-1]) + 1, dtype=np.int64)
    grid[g] = flags
    w = max(1, round(hours * 3_600 / period))
    c = np.concatenate(([0], np.cumsum(grid)))
    if len(grid) <= w:
        return int(c[-1])
    return int((c[w:] - c[:-w]).max())


def evaluate(close, ahead, ts, period, h, bonus) -> dict:
    """breach_rate, worst_week_breaches, shortfall of haircuts `h` (array or one number)."""
    line = breach_line(h, bonus) if np.ndim(h) else np.full(len(close), breach_line(h, bonus))
    flags = breaches(close, ahead, line)
    return {
        "breach_rate": float(flags.mean()) if len(flags) else 0.0,
        "worst_week_breaches": worst_window(flags, ts, period),
        "shortfall": shortfall(close, ahead, line),
        "breaches": int(flags.sum()),
    }


def static_eval(close, ahead, ts, period, cr: float, bonus: float) -> dict:
    """`evaluate` for a fixed collateral ratio: line = (1 + b) / cr (no round trip through H)."""
    line = np.full(len(close), (1.0 + bonus) / cr)
    flags = breaches(close, ahead, line)
    return {
        "cr": float(cr),
        "breach_rate": float(flags.mean()) if len(flags) else 0.0,
        "worst_week_breaches": worst_window(flags, ts, period),
        "shortfall": shortfall(close, ahead, line),
        "breaches": int(flags.sum()),
    }


def smallest_safe_cr(close, ahead, ts, period, bonus: float, max_breaches: int) -> dict:
    """The smallest fixed CR with at most `max_breaches` breaches (static_same_safety)."""
    u = np.sort((1.0 + bonus) * np.asarray(close) / np.asarray(ahead))[::-1]
    cr = 1.0 if max_breaches >= len(u) else max(float(u[max_breaches]), 1.0)
    result = static_eval(close, ahead, ts, period, cr, bonus)
    while result["breaches"] > max_breaches:  # floating rounding at the boundary: move up, never down
        cr = float(np.nextafter(cr, np.inf))
        result = static_eval(close, ahead, ts, period, cr, bonus)
    return result


# --- the replay -----------------------------------------------------------------------------------


def replay(candles: Candles, cfg: BacktestConfig, progress=None) -> Replay:
    """Run keeper + policy + oracle guardrails + market ramp over every bar (sequential, integers)."""
    p, g, pp = cfg.risk, cfg.guard, cfg.policy
    period = candles.period
    sigma_f, depth_f = measure(candles, cfg.estimators)
    n = len(candles)
    sig_w = np.minimum(sigma_f, 1e6) * 1e18
    depth_raw = np.minimum(depth_f * LOAN_UNIT, float(model.MAX_DEPTH))
    # the price as the oracle carries it: loan raw units per collateral raw unit at PRICE_SCALE, for a
    # 6-decimal loan token and an 18-decimal collateral (1e-18 loan tokens per WAD of a WAD price)
    price_raw = candles.close * (model.PRICE_SCALE * LOAN_UNIT // 10**18)
    obs = (candles.ts + period).tolist()
    rate = model.borrow_rate(
        cfg.utilisation, cfg.rates.base, cfg.rates.slope1, cfg.rates.slope2, cfg.rates.kink
    )
    value = cfg.reference_position * LOAN_UNIT

    h_out = np.empty(n)
    sig_out = np.empty(n)
    dep_out = np.empty(n)
    posted = policy.Posted()
    ramp_state = model.RampState(value=p.h_max, updated_at=obs[0] - period)  # as Market.__init__ leaves it
    bases: list[int] = []
    h_ints: list[int] = []
    sigmas: list[int] = []
    depths: list[int] = []
    posts = violations = 0
    step = max(1, n // 100)
    for i in range(n):
        now = obs[i]
        measured = policy.Measured(int(price_raw[i]), int(sig_w[i]), int(depth_raw[i]))
        update, _ = policy.decide(1, posted, measured, now, pp, g)
        if update is not None:
            if policy.accepted(posted, update, now, g) is not None:
                violations += 1
            posted = policy.apply(posted, update, now)
            posts += 1
        eff = model.effective_sigma(posted.sigma, posted.observed_at, now, p.stale_after, p.stale_sigma)
        # the keeper pokes the market right after its post (Market.vy `_poked`, mirrored exactly)
        base = ramp_state.poke_market(model.maint_base_target(p, eff, rate), now, p, posted.depth)
        hm = model.h_maint(p, base, value, ramp_state.depth)
        h_out[i] = hm / model.WAD
        bases.append(base)
        h_ints.append(hm)
        sigmas.append(posted.sigma)
        depths.append(posted.depth)
        sig_out[i] = posted.sigma / model.WAD
        dep_out[i] = posted.depth / LOAN_UNIT
        if progress is not None and i % step == 0:
            progress(i, n)
    if progress is not None:
        progress(n, n)
    return Replay(h_out, bases, h_ints, sigmas, depths, sig_out, dep_out, posts, violations)


def iso(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), tz=timezone.utc).isoformat().replace("+00:00", "Z")


def run(
    candles: Candles, cfg: BacktestConfig | None = None, progress=None, asset: str = ""
) -> tuple[dict, dict]:
    """The backtest result (the JSON document) and the series behind it (for plots and tests)."""
    cfg = cfg or BacktestConfig()
    start = time.perf_counter()
    if len(candles) < 2:
        raise BallastError("backtest: need at least 2 candles")
    period = candles.period
    h = horizon_bars(cfg.horizon_hours, period)
    # The breach window cannot be shorter than one bar: on coarse bars (daily) the model's horizon is
    # the window actually tested, so that the haircut and the test measure the same thing.
    effective_hours = (
        max(cfg.horizon_hours, h * period / 3_600)
        if period > cfg.horizon_hours * 3_600
        else cfg.horizon_hours
    )
    risk = cfg.risk.replace(horizon=round(effective_hours * model.HOUR))
    cfg = BacktestConfig(**{**cfg.__dict__, "risk": risk})
    rep = replay(candles, cfg, progress)
    ahead, complete = low_ahead(candles.ts, candles.low, period, h)
    warm = candles.ts >= candles.ts[0] + cfg.warmup_hours * 3_600
    mask = complete & warm
    if not mask.any():
        raise BallastError(
            f"backtest: {len(candles)} candles leave nothing to evaluate after a {cfg.warmup_hours:g} h "
            f"warm-up and a {cfg.horizon_hours:g} h horizon"
        )
    close, lows, ts, hm = candles.close[mask], ahead[mask], candles.ts[mask], rep.h_maint[mask]
    bonus = cfg.risk.bonus / model.WAD
    cr = 1.0 / (1.0 - hm)
    dyn = evaluate(close, lows, ts, period, hm, bonus)
    dynamic = {
        "breach_rate": dyn["breach_rate"],
        "worst_week_breaches": dyn["worst_week_breaches"],
        "shortfall": dyn["shortfall"],
        "mean_cr": float(cr.mean()),
        "median_cr": float(np.median(cr)),
        "p95_cr": float(np.percentile(cr, 95)),
        "max_cr": float(cr.max()),
        "breaches": dyn["breaches"],
        "posts": rep.posts,
        "guard_violations": rep.guard_violations,
    }
    same_capital = static_eval(close, lows, ts, period, dynamic["mean_cr"], bonus)
    same_safety = smallest_safe_cr(close, lows, ts, period, bonus, dyn["breaches"])
    result = {
        "asset": asset or candles.asset or "unknown",
        "rows": len(candles),
        "start": iso(candles.ts[0]),
        "end": iso(candles.ts[-1]),
        "horizon_hours": float(cfg.horizon_hours),
        "effective_horizon_hours": float(effective_hours),
        "dynamic": dynamic,
        "static_same_capital": same_capital,
        "static_same_safety": same_safety,
        "evaluated": int(mask.sum()),
        "period_seconds": int(period),
        "loader": dict(candles.notes),
        "assumptions": {
            "borrow_rate": rate_of(cfg) / model.WAD,
            "utilisation": cfg.utilisation / model.WAD,
            "reference_position": cfg.reference_position,
            "warmup_hours": cfg.warmup_hours,
            "depth": "volume proxy (square-root impact law)",
        },
        "seconds": 0.0,
    }
    result["seconds"] = round(time.perf_counter() - start, 4)
    series = {
        "ts": candles.ts,
        "close": candles.close,
        "h_maint": rep.h_maint,
        "cr": 1.0 / (1.0 - rep.h_maint),
        "sigma": rep.sigma_posted,
        "depth": rep.depth_posted,
        "mask": mask,
        "low_ahead": ahead,
        "bonus": bonus,
    }
    return result, series


def rate_of(cfg: BacktestConfig) -> int:
    r = cfg.rates
    return model.borrow_rate(cfg.utilisation, r.base, r.slope1, r.slope2, r.kink)


# --- output ---------------------------------------------------------------------------------------


def _parse_day(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())
    except ValueError:
        raise BallastError(f"not a date (YYYY-MM-DD): {text}") from None


def plot(result: dict, series: dict, out: str, start: int | None = None, end: int | None = None) -> None:
    """Price and collateral ratios over time (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    ts = series["ts"]
    sel = plot_window(ts, start, end)
    days = np.array([np.datetime64(int(t), "s") for t in ts[sel]])
    line = (1.0 - series["h_maint"]) * (1.0 + series["bonus"])
    flags = sel & series["mask"] & (series["low_ahead"] < series["close"] * line)
    fig, (ax1, ax2) = plt.subplots(
        2, 1, figsize=(11, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    sc = result["static_same_capital"]["cr"]
    ax1.plot(days, series["close"][sel], lw=0.8, color="black", label="close")
    ax1.plot(
        days, (series["close"] * line)[sel], lw=0.6, color="tab:red", alpha=0.8, label="dynamic breach line"
    )
    ax1.plot(
        days,
        (series["close"] * (1 + series["bonus"]) / sc)[sel],
        lw=0.6,
        color="tab:blue",
        alpha=0.6,
        label=f"static breach line (CR {sc:.3f})",
    )
    static_flags = sel & series["mask"] & (series["low_ahead"] < series["close"] * (1 + series["bonus"]) / sc)
    if static_flags.any():
        fd = np.array([np.datetime64(int(t), "s") for t in ts[static_flags]])
        ax1.scatter(
            fd,
            series["close"][static_flags],
            s=22,
            marker="x",
            color="tab:blue",
            zorder=3,
            label="static breach",
        )
    if flags.any():
        fd = np.array([np.datetime64(int(t), "s") for t in ts[flags]])
        ax1.scatter(fd, series["close"][flags], s=10, color="tab:red", zorder=4, label="dynamic breach")
    ax1.set_yscale("log")
    ax1.set_ylabel("price (quote)")
    ax1.legend(loc="best", fontsize=8)
    ax1.set_title(
        f"{result['asset']}: dynamic maintenance CR vs static (horizon {result['horizon_hours']:g} h)"
    )
    ax2.plot(days, series["cr"][sel], lw=0.8, color="tab:red", label="dynamic CR (maintenance)")
    ax2.axhline(sc, color="tab:blue", lw=0.8, ls="--", label=f"static same capital {sc:.3f}")
    ss = result["static_same_safety"]["cr"]
    ax2.axhline(ss, color="tab:green", lw=0.8, ls=":", label=f"static same safety {ss:.3f}")
    ax2.set_ylabel("collateral ratio")
    ax2.legend(loc="best", fontsize=8)
    ax2.xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(
        title=f"{result['asset']} {result['start'][:10]} .. {result['end'][:10]}, h = {result['horizon_hours']:g} h"
    )
    for col in ("", "CR", "breach rate", "worst week", "shortfall"):
        t.add_column(col, justify="right")
    d = result["dynamic"]
    t.add_row(
        "dynamic",
        f"mean {d['mean_cr']:.3f} / median {d['median_cr']:.3f} / p95 {d['p95_cr']:.3f}",
        f"{d['breach_rate']:.4%}",
        str(d["worst_week_breaches"]),
        f"{d['shortfall']:.6f}",
    )
    for key in ("static_same_capital", "static_same_safety"):
        s = result[key]
        t.add_row(
            key,
            f"{s['cr']:.3f}",
            f"{s['breach_rate']:.4%}",
            str(s["worst_week_breaches"]),
            f"{s['shortfall']:.6f}",
        )
    Console(stderr=True).print(t)


def backtest_file(path: str, horizon_hours: float, show_progress: bool = False) -> tuple[dict, dict]:
    """Load, replay and evaluate one file; `seconds` in the result covers all three."""
    start = time.perf_counter()
    candles = load_candles(path)
    name = candles.asset or Path(path).stem
    cfg = BacktestConfig(horizon_hours=horizon_hours)
    if not show_progress:
        result, series = run(candles, cfg, asset=name)
    else:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(f"replaying {len(candles)} bars", total=len(candles))
            result, series = run(
                candles, cfg, progress=lambda i, n: bar.update(task, completed=i), asset=name
            )
    result["seconds"] = round(time.perf_counter() - start, 4)
    return result, series


@click.command("backtest")
@click.option("--csv", "csv_path", required=True, help="candle CSV (CryptoDataDownload format)")
@click.option("--horizon-hours", default=6.0, show_default=True, type=float, help="liquidation horizon h")
@click.option("--json", "json_out", default=None, help="write the result as JSON to this file ('-' = stdout)")
@click.option("--plot", "plot_out", default=None, help="write a PNG of price and CR over time")
@click.option("--plot-start", default=None, help="plot window start (YYYY-MM-DD)")
@click.option("--plot-end", default=None, help="plot window end (YYYY-MM-DD)")
@click.option("--quiet", is_flag=True, help="no table, no progress bar")
def command(csv_path, horizon_hours, json_out, plot_out, plot_start, plot_end, quiet):
    """Replay a candle file through the exact model, posting policy and guardrails; compare with static ratios."""
    if not (0 < horizon_hours <= 24 * 30):
        raise BallastError(f"--horizon-hours must be in (0, 720], got {horizon_hours:g}")
    json_path = writable(json_out) if json_out and json_out != "-" else None  # before the work, not after
    plot_path = writable(plot_out) if plot_out else None
    result, series = backtest_file(csv_path, horizon_hours, show_progress=not quiet and os.isatty(2))
    if plot_path is not None:
        plot(result, series, str(plot_path), _parse_day(plot_start), _parse_day(plot_end))
    text = json.dumps(result, indent=2)
    if json_out == "-":
        click.echo(text)
    elif json_path is not None:
        write_text(json_path, text + "\n")
    if not quiet:
        print_table(result)


def plot_window(ts: np.ndarray, start: int | None, end: int | None) -> np.ndarray:
    """The candles a plot draws: a mask of `ts` within [start, end] (either may be open); one line when
    the window holds none."""
    sel = np.ones(len(ts), dtype=bool)
    if start is not None:
        sel &= ts >= start
    if end is not None:
        sel &= ts <= end
    if not sel.any():
        raise BallastError("plot: no candles in the chosen window")
    return sel


def writable(out: str | os.PathLike) -> Path:
    """An output file's path with its folder created (`--json out/run1/eth.json` into a fresh clone);
    one line when that is impossible (a file in the way, no permission)."""
    path = Path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BallastError(f"cannot write {path}: {exc.strerror or exc} ({exc.filename or path.parent})") from None
    if path.is_dir():
        raise BallastError(f"cannot write {path}: it is a folder")
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise BallastError(f"cannot write {path}: permission denied")
    return path


def write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError as exc:
        raise BallastError(f"cannot write {path}: {exc.strerror or exc}") from None


# --- benchmark ------------------------------------------------------------------------------------

BENCH_FILES = ("Binance_ETHUSDT_1h.csv", "Binance_BTCUSDT_1h.csv")
TARGET_SECONDS = 5.0


def data_dir() -> Path | None:
    """../shared/data next to the repository (or $BALLAST_DATA)."""
    env = os.environ.get("BALLAST_DATA")
    candidates = [Path(env)] if env else []
    repo = Path(__file__).resolve().parents[1]
    candidates += [
        repo.parent / "shared" / "data",
        repo.parent.parent / "shared" / "data",
        Path.cwd().parent / "shared" / "data",
    ]
    for c in candidates:
        if all((c / f).is_file() for f in BENCH_FILES):
            return c
    return None


@click.command("backtest")
@click.option(
    "--data", "data", default=None, help="folder holding the 36k-row candle files (default ../shared/data)"
)
@click.option("--json", "json_out", default=None, help="write the timings as JSON")
@click.option("--horizon-hours", default=6.0, show_default=True, type=float)
def bench_command(data, json_out, horizon_hours):
    """Time `ballast backtest` (load + replay + evaluation) on the 36k-row hourly files (target < 5 s each)."""
    json_path = writable(json_out) if json_out else None
    folder = Path(data) if data else data_dir()
    if folder is None or not all((folder / f).is_file() for f in BENCH_FILES):
        raise BallastError(
            f"candle files {', '.join(BENCH_FILES)} not found (pass --data DIR or set BALLAST_DATA)"
        )
    runs = []
    for name in BENCH_FILES:
        t0 = time.perf_counter()
        result, _ = backtest_file(str(folder / name), horizon_hours)
        total = time.perf_counter() - t0
        runs.append(
            {
                "file": name,
                "rows_read": result["loader"]["rows_read"],
                "bars": result["rows"],
                "seconds": round(total, 3),
                "target_seconds": TARGET_SECONDS,
                "ok": total < TARGET_SECONDS,
            }
        )
        click.echo(f"{name}: {total:.2f} s ({result['rows']} bars)  target < {TARGET_SECONDS:g} s", err=True)
    doc = {
        "benchmark": "backtest",
        "horizon_hours": horizon_hours,
        "runs": runs,
        "ok": all(r["ok"] for r in runs),
    }
    if json_path is not None:
        write_text(json_path, json.dumps(doc, indent=2) + "\n")
    else:
        click.echo(json.dumps(doc, indent=2))
