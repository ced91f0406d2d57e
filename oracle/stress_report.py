"""The tables of docs/STRESS.md, reproducible from one command:

    python -m oracle.stress_report ../shared/data/Binance_ETHUSDT_1h.csv ../shared/data/Binance_BTCUSDT_1h.csv

For each file (default parameters, 1,000 borrowers, seed 1, population scale M = 1): the anchors once,
then every engine candidate of `oracle.stress.CANDIDATES` (the dynamic ratio and the fixed ratio of the
same mean capital on that engine; `--only` a subset), then, for the main engine (`--engine`, default
`shipped`), the population-size
and recovery sensitivity and two more seeds. Every run goes through `oracle.stress.simulate`, i.e. the
shipped estimators, policy, guardrails, ramp clock and integer model. Results are cached as JSON in
`--cache` (default out/stress-report) so that the tables can be printed again without re-running;
`--fresh` ignores the cache. Two processes by default (`--jobs`).
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import sys
import time
from pathlib import Path

import click

from oracle import stress
from oracle.sources.csv import load_candles

FIELDS = (
    "mean_cr", "peak_hour_liquidated", "p99_hour_liquidated", "worst_hour_positions",
    "max_liquidation_impact", "bad_debt_share",
)
SHORT = {
    "mean_cr": "mean CR",
    "peak_hour_liquidated": "peak hour",
    "p99_hour_liquidated": "p99 hour",
    "worst_hour_positions": "worst-hour pos.",
    "max_liquidation_impact": "max impact",
    "bad_debt_share": "bad debt",
}
SCALES = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
HALF_LIVES = (6.0, 24.0, 72.0)
SEEDS = (1, 2, 3)


def canonical(name: str) -> str:
    """The candidate a name stands for ("recommended" is an alias)."""
    for other, value in stress.CANDIDATES.items():
        if value is stress.CANDIDATES[name] and other != "recommended":
            return other
    return name


def _task(args) -> dict:
    """One unit of work (runs in a worker): models of one config on one file."""
    path, cfg, models, label = args
    t0 = time.perf_counter()
    candles = load_candles(path)
    result, _ = stress.run(candles, cfg, tuple(models), asset=candles.asset or Path(path).stem)
    result["label"] = label
    result["seconds"] = round(time.perf_counter() - t0, 2)
    return result


def _key(path: str, label: str) -> str:
    return f"{Path(path).stem}__{label}"


def candidate_names(only: tuple[str, ...] = ()) -> list[str]:
    """The candidates of the tables, in the order tried (`only`: a subset, in that order)."""
    names = [n for n in stress.CANDIDATES if n != "recommended"]
    return [n for n in names if n in only] if only else names


def tasks_for(path: str, engine_name: str, sensitivity: bool = True, only: tuple[str, ...] = ()) -> list[tuple]:
    base = stress.StressConfig()
    rec = stress.candidate_config(engine_name, base)
    out = [(path, base, stress.MODELS[2:], "anchors")]
    for name in candidate_names(only):
        out.append((path, stress.candidate_config(name, base), stress.MODELS[:2], f"candidate:{name}"))
    if not sensitivity:
        return out
    for m in SCALES:
        if m != 1.0:
            cfg = rec.replace(population=dataclasses.replace(rec.population, scale=m))
            out.append((path, cfg, stress.MODELS, f"scale:{m:g}"))
    for hl in HALF_LIVES:
        if hl != stress.MarketParams().recovery_half_life_hours:
            cfg = rec.replace(market=dataclasses.replace(rec.market, recovery_half_life_hours=hl))
            out.append((path, cfg, stress.MODELS, f"half_life:{hl:g}"))
    for seed in SEEDS:
        if seed != base.seed:
            out.append((path, rec.replace(seed=seed), stress.MODELS, f"seed:{seed}"))
    return out


def run_all(paths, engine_name: str, cache: Path, fresh: bool, jobs: int, sensitivity: bool = True,
            only: tuple[str, ...] = ()) -> dict:
    cache.mkdir(parents=True, exist_ok=True)
    todo, done = [], {}
    for path in paths:
        for t in tasks_for(path, engine_name, sensitivity, only):
            f = cache / (_key(path, t[3]).replace(":", "_") + ".json")
            if f.is_file() and not fresh:
                done[_key(path, t[3])] = json.loads(f.read_text())
            else:
                todo.append((t, f))
    if todo:
        click.echo(f"stress report: {len(todo)} runs ({len(done)} cached), {jobs} processes", err=True)
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(jobs) as pool:
            for (t, f), result in zip(todo, pool.imap(_task, [t for t, _ in todo])):
                f.write_text(json.dumps(result, indent=1) + "\n")
                done[_key(t[0], t[3])] = result
                click.echo(f"  {Path(t[0]).stem} {t[3]}: {result['seconds']} s", err=True)
    return done


def models_of(results: dict, path: str, label: str) -> dict:
    """The models of a candidate run plus the anchors (which do not depend on Ballast's engine)."""
    out = dict(results[_key(path, label)]["models"])
    if label.startswith("candidate:"):
        out.update(results[_key(path, "anchors")]["models"])
    return out


def fmt(field: str, v) -> str:
    if field == "mean_cr":
        return f"{v:.3f}"
    if field in ("peak_hour_liquidated", "p99_hour_liquidated"):
        return f"{v:,.0f}"
    if field == "worst_hour_positions":
        return str(v)
    if field == "max_liquidation_impact":
        return f"{v:.1%}"
    return f"{v:.3%}"


def main_table(results, paths, engine_name: str) -> str:
    lines = []
    for path in paths:
        ms = models_of(results, path, f"candidate:{canonical(engine_name)}")
        asset = results[_key(path, "anchors")]["asset"]
        lines.append(f"\n{asset} (engine `{engine_name}`):\n")
        lines.append("| model | " + " | ".join(FIELDS) + " |")
        lines.append("|---" * (len(FIELDS) + 1) + "|")
        for name in stress.MODELS:
            lines.append(f"| {name} | " + " | ".join(fmt(f, ms[name][f]) for f in FIELDS) + " |")
        d, f = ms["dynamic"], ms["fixed_same_capital"]
        lines.append(
            "| dynamic / fixed_same_capital | "
            + " | ".join(_ratio(d[k], f[k]) for k in FIELDS)
            + " |"
        )
    return "\n".join(lines)


def _ratio(a, b) -> str:
    if b == 0:
        return "-" if a == 0 else "inf"
    return f"{a / b:.2f}"


def _arrow(a, b) -> str:
    """a against b: lower is better for every field except none (mean CR: lower = less capital)."""
    if b == 0 and a == 0:
        return "="
    r = a / b if b else float("inf")
    if abs(r - 1) < 0.005:
        return "="
    return f"{'↓' if r < 1 else '↑'}{r:.2f}"


def candidates_table(results, paths, only: tuple[str, ...] = ()) -> str:
    lines = []
    for path in paths:
        asset = results[_key(path, "anchors")]["asset"]
        lines.append(f"\n{asset}: dynamic on each engine, and its ratio to fixed_same_capital (same engine) / aave_v3_weth / morpho_lltv_86\n")
        lines.append("| engine | " + " | ".join(SHORT[f] for f in FIELDS) + " |")
        lines.append("|---" * (len(FIELDS) + 1) + "|")
        for name in candidate_names(only):
            ms = models_of(results, path, f"candidate:{name}")
            d = ms["dynamic"]
            cells = []
            for f in FIELDS:
                vs = " / ".join(
                    _arrow(d[f], ms[o][f]) for o in ("fixed_same_capital", "aave_v3_weth", "morpho_lltv_86")
                )
                cells.append(f"{fmt(f, d[f])} ({vs})")
            lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
        lines.append("\nfixed_same_capital on the same engines:\n")
        lines.append("| engine | " + " | ".join(SHORT[f] for f in FIELDS) + " |")
        lines.append("|---" * (len(FIELDS) + 1) + "|")
        for name in candidate_names(only):
            f_ = models_of(results, path, f"candidate:{name}")["fixed_same_capital"]
            lines.append(f"| `{name}` | " + " | ".join(fmt(f, f_[f]) for f in FIELDS) + " |")
    return "\n".join(lines)


def sensitivity_table(results, paths, engine_name: str) -> str:
    lines = []
    for path in paths:
        asset = results[_key(path, "anchors")]["asset"]
        lines.append(
            f"\n{asset}, engine `{engine_name}`: peak hour / bad debt share, dynamic against fixed_same_capital, "
            "aave_v3_weth, morpho_lltv_86\n"
        )
        lines.append("| variant | dynamic | fixed_same_capital | aave_v3_weth | morpho_lltv_86 | dyn/fixed peak, bad debt |")
        lines.append("|---|---|---|---|---|---|")
        rows = [
            (f"scale M = {m:g}", f"scale:{m:g}" if m != 1.0 else f"candidate:{canonical(engine_name)}")
            for m in SCALES
        ]
        rows += [
            (f"recovery half-life {hl:g} h", f"half_life:{hl:g}" if hl != 24.0 else None) for hl in HALF_LIVES
        ]
        rows += [(f"seed {s}", f"seed:{s}" if s != 1 else None) for s in SEEDS]
        for label, key in rows:
            if key is None:
                continue
            ms = models_of(results, path, key)
            cells = [
                f"{ms[n]['peak_hour_liquidated']:,.0f} / {ms[n]['bad_debt_share']:.3%}" for n in stress.MODELS
            ]
            d, f = ms["dynamic"], ms["fixed_same_capital"]
            cells.append(
                f"{_ratio(d['peak_hour_liquidated'], f['peak_hour_liquidated'])}, "
                f"{_ratio(d['bad_debt_share'], f['bad_debt_share'])}"
            )
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--engine", "engine_name", default=stress.DEFAULT_CANDIDATE, show_default=True)
@click.option("--cache", default="out/stress-report", show_default=True)
@click.option("--fresh", is_flag=True, help="re-run everything")
@click.option("--jobs", default=2, show_default=True, type=int)
@click.option("--candidates-only", is_flag=True, help="no sensitivity runs")
@click.option("--only", default="", help="comma-separated candidates to run and tabulate (default: all)")
def main(paths, engine_name, cache, fresh, jobs, candidates_only, only):
    """Print the Markdown tables of docs/STRESS.md."""
    names = tuple(n for n in only.split(",") if n)
    for n in names:
        stress.candidate_config(n)  # unknown names fail here
    if names and canonical(engine_name) not in names:
        names += (canonical(engine_name),)
    results = run_all(paths, engine_name, Path(cache), fresh, jobs, not candidates_only, names)
    click.echo("## Main engine, all models\n" + main_table(results, paths, engine_name))
    click.echo("\n## Candidates\n" + candidates_table(results, paths, names))
    if not candidates_only:
        click.echo("\n## Sensitivity\n" + sensitivity_table(results, paths, engine_name))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
