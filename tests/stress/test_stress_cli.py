"""`ballast stress` and `ballast bench stress` end to end through click's CliRunner."""

import json
import os
import shutil

import pytest
from cli_helpers import BAD_CSVS
from click.testing import CliRunner

from oracle import stress
from oracle.cli import main

MODEL_FIELDS = {
    "mean_cr": float,
    "peak_hour_liquidated": float,
    "p99_hour_liquidated": float,
    "worst_hour_positions": int,
    "max_liquidation_impact": float,
    "bad_debt_share": float,
}


def run(*args):
    return CliRunner(mix_stderr=False).invoke(main, list(args))


def _one_line_error(res, message):
    assert res.exit_code == 1, res.stdout
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ballast: error: ") and message in lines[0], res.stderr
    assert "Traceback" not in res.stderr


def test_stress_json_schema_table_and_missing_folders(fixture_csv, tmp_path):
    out = tmp_path / "new" / "deeper" / "r.json"  # folders that do not exist yet
    res = run("stress", "--csv", str(fixture_csv), "--borrowers", "60", "--seed", "3", "--json", str(out), "--jobs", "1")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(out.read_text())
    assert doc["asset"] == "ETH" and doc["rows"] == 717 and doc["borrowers"] == 60 and doc["seed"] == 3
    assert isinstance(doc["seconds"], float) and doc["seconds"] > 0
    assert list(doc["models"]) == list(stress.MODELS)
    for name, m in doc["models"].items():
        for key, kind in MODEL_FIELDS.items():
            assert isinstance(m[key], kind), (name, key)
    assert doc["models"]["fixed_same_capital"]["mean_cr"] == doc["models"]["dynamic"]["mean_cr"]
    assert doc["models"]["aave_v3_weth"]["mean_cr"] == pytest.approx(1 / 0.83)
    assert doc["models"]["morpho_lltv_86"]["mean_cr"] == pytest.approx(1 / 0.86)
    assert doc["population"]["scale"] == 1.0 and doc["engine"]["name"] == stress.DEFAULT_CANDIDATE
    assert "dynamic" in res.stderr  # the rich table


def test_stress_is_reproducible_and_jobs_do_not_change_it(fixture_csv):
    a = run("stress", "--csv", str(fixture_csv), "--borrowers", "40", "--json", "-", "--quiet", "--jobs", "1")
    b = run("stress", "--csv", str(fixture_csv), "--borrowers", "40", "--json", "-", "--quiet", "--jobs", "2")
    assert a.exit_code == 0 and b.exit_code == 0 and a.stderr == ""
    da, db = json.loads(a.stdout), json.loads(b.stdout)
    assert da["models"] == db["models"]


def test_stress_plot_and_engine(fixture_csv, tmp_path):
    png = tmp_path / "plots" / "p.png"
    res = run(
        "stress", "--csv", str(fixture_csv), "--borrowers", "40", "--plot", str(png), "--start", "2020-01-10",
        "--end", "2020-01-25", "--engine", "curve_dust_writeoff", "--quiet", "--jobs", "1",
    )
    assert res.exit_code == 0, res.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("content, message", BAD_CSVS)
def test_bad_csv_exits_with_one_line(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content)
    _one_line_error(run("stress", "--csv", str(path)), message)


def test_unwritable_outputs_exit_with_one_line(fixture_csv, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")  # a file where a folder should be
    res = run("stress", "--csv", str(fixture_csv), "--borrowers", "20", "--json", str(blocker / "r.json"), "--jobs", "1")
    _one_line_error(res, "cannot write")
    res = run("stress", "--csv", str(fixture_csv), "--borrowers", "20", "--plot", str(blocker / "p.png"), "--jobs", "1")
    _one_line_error(res, "cannot write")
    if os.geteuid() != 0:  # root ignores permissions
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        _one_line_error(run("stress", "--csv", str(fixture_csv), "--borrowers", "20", "--json", str(ro / "r.json")),
                        "cannot write")


def test_bad_options_exit_with_one_line(fixture_csv, tmp_path):
    _one_line_error(run("stress", "--csv", str(fixture_csv), "--borrowers", "0"), "--borrowers")
    _one_line_error(run("stress", "--csv", str(fixture_csv), "--scale", "-1"), "--scale")
    _one_line_error(run("stress", "--csv", str(fixture_csv), "--engine", "nope"), "unknown engine")
    _one_line_error(run("stress", "--csv", str(fixture_csv), "--start", "soon"), "not a date")
    res = run("stress", "--csv", str(fixture_csv), "--borrowers", "20", "--plot", str(tmp_path / "x.png"),
              "--start", "2030-01-01", "--end", "2030-02-01", "--jobs", "1")
    _one_line_error(res, "no candles in the chosen window")


def test_bench_stress_writes_json(fixture_csv, tmp_path):
    shutil.copy(fixture_csv, tmp_path / stress.BENCH_FILE)
    out = tmp_path / "b" / "bench.json"
    res = run("bench", "stress", "--data", str(tmp_path), "--json", str(out), "--borrowers", "30", "--quiet")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(out.read_text())
    assert doc["benchmark"] == "stress" and doc["bars"] == 717 and doc["borrowers"] == 30
    assert doc["seconds"] > 0 and doc["models"] == list(stress.MODELS)  # timed, not asserted against 30 s


def test_bench_stress_missing_data(tmp_path):
    _one_line_error(run("bench", "stress", "--data", str(tmp_path)), "not found")
