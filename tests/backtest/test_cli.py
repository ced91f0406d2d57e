"""`ballast backtest` and `ballast bench backtest` end to end through click's CliRunner."""

import json
import shutil

import pytest
from cli_helpers import BAD_CSVS
from click.testing import CliRunner

from oracle.backtest import BENCH_FILES
from oracle.cli import main

FIELDS = {
    "asset": str,
    "rows": int,
    "start": str,
    "end": str,
    "horizon_hours": float,
    "dynamic": dict,
    "static_same_capital": dict,
    "static_same_safety": dict,
    "seconds": float,
}
DYNAMIC = {"breach_rate", "worst_week_breaches", "shortfall", "mean_cr", "median_cr", "p95_cr", "max_cr"}
STATIC = {"cr", "breach_rate", "worst_week_breaches", "shortfall"}


def run(*args):
    return CliRunner(mix_stderr=False).invoke(main, list(args))


def test_backtest_json_schema(fixture_csv, tmp_path):
    out = tmp_path / "r.json"
    res = run("backtest", "--csv", str(fixture_csv), "--json", str(out))
    assert res.exit_code == 0, res.stderr
    doc = json.loads(out.read_text())
    for key, kind in FIELDS.items():
        assert isinstance(doc[key], kind), key
    assert DYNAMIC <= set(doc["dynamic"]) and STATIC <= set(doc["static_same_capital"])
    assert STATIC <= set(doc["static_same_safety"])
    assert isinstance(doc["dynamic"]["worst_week_breaches"], int)
    assert doc["asset"] == "ETH" and doc["rows"] == 717 and doc["horizon_hours"] == 6.0
    assert doc["start"] == "2020-01-01T00:00:00Z" and doc["end"] == "2020-01-30T23:00:00Z"
    assert doc["static_same_capital"]["cr"] == doc["dynamic"]["mean_cr"]
    assert doc["static_same_safety"]["breach_rate"] <= doc["dynamic"]["breach_rate"]
    assert doc["dynamic"]["guard_violations"] == 0
    assert doc["loader"]["duplicates_dropped"] > 0 and doc["loader"]["absurd_prints_repaired"] == 1
    assert "dynamic" in res.stderr  # the rich table


def test_backtest_json_to_stdout_and_horizon(fixture_csv):
    res = run("backtest", "--csv", str(fixture_csv), "--horizon-hours", "12", "--json", "-", "--quiet")
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert doc["horizon_hours"] == 12.0 and res.stderr == ""


def test_backtest_plot(fixture_csv, tmp_path):
    png = tmp_path / "p.png"
    res = run(
        "backtest", "--csv", str(fixture_csv), "--plot", str(png), "--plot-start", "2020-01-10", "--quiet"
    )
    assert res.exit_code == 0, res.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("content, message", BAD_CSVS)
def test_bad_csv_exits_with_one_line(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content)
    res = run("backtest", "--csv", str(path))
    assert res.exit_code == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ballast: error: ") and message in lines[0]
    assert "Traceback" not in res.stderr


def test_bad_horizon_and_plot_window(fixture_csv, tmp_path):
    res = run("backtest", "--csv", str(fixture_csv), "--horizon-hours", "0")
    assert res.exit_code == 1 and res.stderr.startswith("ballast: error: --horizon-hours")
    res = run(
        "backtest", "--csv", str(fixture_csv), "--plot", str(tmp_path / "x.png"), "--plot-start", "soon"
    )
    assert res.exit_code == 1 and "not a date" in res.stderr
    res = run(
        "backtest", "--csv", str(fixture_csv), "--plot", str(tmp_path / "x.png"), "--plot-start", "2030-01-01"
    )
    assert res.exit_code == 1 and "no candles in the chosen window" in res.stderr


def test_bench_backtest_writes_json(fixture_csv, tmp_path):
    for name in BENCH_FILES:
        shutil.copy(fixture_csv, tmp_path / name)
    out = tmp_path / "bench.json"
    res = run("bench", "backtest", "--data", str(tmp_path), "--json", str(out))
    assert res.exit_code == 0, res.stderr
    doc = json.loads(out.read_text())
    assert [r["file"] for r in doc["runs"]] == list(BENCH_FILES)
    assert all(r["bars"] == 717 and r["seconds"] > 0 and r["ok"] for r in doc["runs"]) and doc["ok"]


def test_bench_backtest_missing_data(tmp_path):
    res = run("bench", "backtest", "--data", str(tmp_path))
    assert res.exit_code == 1 and res.stderr.startswith("ballast: error: candle files")


def test_progress_bar_path_gives_the_same_result(fixture_csv):
    from oracle.backtest import backtest_file

    quiet, _ = backtest_file(str(fixture_csv), 6.0)
    shown, _ = backtest_file(str(fixture_csv), 6.0, show_progress=True)
    assert quiet["dynamic"] == shown["dynamic"] and shown["seconds"] > 0


def test_backtest_creates_missing_folders_for_json_and_plot(fixture_csv, tmp_path):
    out, png = tmp_path / "new" / "deeper" / "r.json", tmp_path / "other" / "p.png"
    res = run("backtest", "--csv", str(fixture_csv), "--json", str(out), "--plot", str(png), "--quiet")
    assert res.exit_code == 0, res.stderr
    assert json.loads(out.read_text())["rows"] == 717 and png.read_bytes()[:4] == b"\x89PNG"


def test_backtest_output_path_that_cannot_be_written_is_one_line(fixture_csv, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    res = run("backtest", "--csv", str(fixture_csv), "--json", str(blocker / "r.json"), "--quiet")
    assert res.exit_code == 1 and "Traceback" not in res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ballast: error: cannot write") and str(blocker) in lines[0]
