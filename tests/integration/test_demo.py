"""`ballast demo`: the bundled scenario (pure), and the whole demo end to end on its own anvil (short
runs), in scenario and CSV mode: three keepers (quorum 2), one stopped half-way, the demo goes on; errors
in one line; the demo's anvil is gone afterwards."""

import itertools
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import BIN, ROOT, run_cli

from oracle import model, scenario


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


# --- the bundled scenario -----------------------------------------------------------------------


def test_scenario_is_deterministic_per_seed():
    a, b, c = scenario.generate(seed=3), scenario.generate(seed=3), scenario.generate(seed=4)
    assert np.array_equal(a.close, b.close)
    assert not np.array_equal(a.close, c.close)


def test_scenario_phases_tell_calm_crash_recovery():
    sc = scenario.generate(seed=7)
    hours = {name: n for name, n, *_ in scenario.DEFAULT_PHASES}
    assert len(sc) == sum(hours.values())
    calm_end = hours["calm"] - 1
    crash_end = calm_end + hours["crash"]
    # Each phase ends at exactly its total log-return.
    assert np.isclose(np.log(sc.close[calm_end] / scenario.DEFAULT_PRICE), 0.02)
    assert np.isclose(np.log(sc.close[crash_end] / sc.close[calm_end]), -0.45)
    assert sc.close[-1] > sc.close[crash_end]
    assert np.all(sc.high >= np.maximum(sc.open, sc.close)) and np.all(
        sc.low <= np.minimum(sc.open, sc.close)
    )
    assert np.all(np.diff(sc.t) == scenario.HOUR)
    assert sc.phase[0] == "calm" and sc.phase[crash_end] == "crash" and sc.phase[-1] == "recovery"


def test_scenario_head_and_bad_phase():
    sc = scenario.generate().head(5)
    assert len(sc) == 5 and len(sc.phase) == 5
    with pytest.raises(ValueError, match="at least one hour"):
        scenario.generate(phases=(("calm", 0, 0.4, 0.0),))


# --- end to end ---------------------------------------------------------------------------------


def test_demo_plays_the_crash_and_liquidates(tmp_path):
    """Calm day then the crash: sigma and the required ratios rise, maintenance tightens at the ramp's
    pace, the bot liquidates. Three keepers sign every round; one is stopped half-way, and its turns
    fall back to the next keeper: every hour still lands."""
    out, png = tmp_path / "r.json", tmp_path / "p.png"
    proc = ballast(["demo", "--hours", "36", "--no-progress", "--json", str(out), "--plot", str(png)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(out.read_text())
    rows, s, k = report["rows"], report["summary"], report["keepers"]
    assert len(rows) == 35 and s["hours"] == 35
    assert ": 35 hours" in proc.stdout.splitlines()[0]  # the header counts what the summary counts
    assert s["posts"] == s["pokes"] == 36  # the first post, then one post and one market poke every hour
    assert png.stat().st_size > 10_000
    # the keeper network: 3 signers, quorum 2; the third stopped at hour 18; nothing missed
    assert len(k["signers"]) == 3 and k["quorum"] == 2 and k["stopped_at_hour"] == 18
    assert k["missed_rounds"] == 0 and sum(k["relayed"]) == 35 and all(n > 0 for n in k["relayed"])
    assert all(r["relayer"] != 2 for r in rows if r["hour"] >= 18)  # the stopped keeper relays no more
    assert k["fallback_rounds"] >= 4  # its turns (every third hour) went to the next in turn
    assert "keeper 3 of 3 stopped" in proc.stdout and "rounds relayed by the next in turn" in proc.stdout
    sc = scenario.generate(seed=7)
    # The oracle holds the pool's price after the swaps (the close), up to the keeper's 1% deviation rule.
    for r in rows:
        assert r["price"] == pytest.approx(sc.close[r["hour"]], rel=0.011)  # policy: 1% deviation
    calm, crash = rows[:20], rows[24:]
    assert max(r["sigma"] for r in crash) > 2 * max(r["sigma"] for r in calm)
    assert max(r["cr_init"] for r in crash) > max(r["cr_init"] for r in calm)
    assert_ramp_pace(rows)
    # Selling into the pool drains its loan side: the depth the oracle holds thins with the crash.
    assert rows[-1]["depth"] < 0.97 * min(r["depth"] for r in calm)
    # Maintenance tightens at a bounded pace (ramp 2%/h of the base), never in one block.
    steps = np.diff([r["maint_base"] for r in rows])
    hours = np.diff([r["time"] for r in rows]) / 3600
    assert np.all(steps <= 0.02 * (hours + 5 / 3600))  # views run a few seconds after the row's block
    assert not pid_alive(s["anvil_pid"])
    assert s["liquidations"] == sum(r["liquidations"] for r in rows)
    assert s["liquidations"] > 0
    # the summary's liquidated value and bad debt come from the market's events
    assert s["liquidation_events"] == s["liquidations"] and s["liquidated_repaid"] > 0
    assert s["liquidated_seized"] > 0 and s["bad_debt"] >= 0
    assert "liquidations" in proc.stdout and "bad debt written off" in proc.stdout


def assert_ramp_pace(rows):
    """With a post and a poke every hour, the reference position's effective H_maint climbs towards its
    target (its H_maint with the ramp caught up) by ramp_per_hour every hour, from the first hour the
    crash lifts the target until it gets there, and never by more than ramp_per_hour per hour; a rise
    first seen at an hour's poke ramps from that poke on (so a step reaches at most the previous target)."""
    p = model.RiskParams()
    ramp, floor = p.ramp_per_hour / model.WAD, p.h_min / model.WAD
    first = next(i for i, r in enumerate(rows) if r["phase"] == "crash")
    crash = rows[first - 1 :]  # with the last calm hour, where the climb starts from
    started = reached = False
    full_steps = 0
    for a, b in itertools.pairwise(crash):
        step, hours = b["h_maint"] - a["h_maint"], (b["time"] - a["time"]) / 3600
        assert step <= ramp * (hours + 5 / 3600), (b["hour"], step)  # views run seconds after the block
        if reached:
            continue
        started = started or b["h_maint_target"] > a["h_maint"] + 1e-9
        if not started:
            continue
        if b["h_maint"] >= b["h_maint_target"] - 1e-9:
            reached = True  # the last step of the climb is what was left to go
        elif a["h_maint"] > floor + 1e-9:  # (a step that leaves the h_min floor is partly under it)
            # A rise starts its ramp at the poke that first sees it: a step climbs by ramp_per_hour per hour
            # up to the target seen at the previous row's poke, not further.
            full = ramp * hours
            expected = min(full, a["h_maint_target"] - a["h_maint"])
            assert step == pytest.approx(expected, abs=2e-4), (b["hour"], step)  # a fallback round pokes later
            full_steps += expected == full
    assert started and reached and full_steps >= 4, (started, reached, full_steps)


def test_demo_csv_mode_on_a_small_fixture(tmp_path):
    """A CryptoDataDownload-style file (banner, newest first): the demo plays its closes."""
    t0 = 1_583_020_800  # 2020-03-01T00:00Z
    closes = [220.0, 221.5, 219.0, 210.0, 195.0, 190.0, 200.0, 204.0]
    lines = [
        "https://www.CryptoDataDownload.com",
        "unix,date,symbol,open,high,low,close,Volume ETH,Volume USDT",
    ]
    for i in reversed(range(len(closes))):
        o = closes[i - 1] if i else closes[0]
        c = closes[i]
        lines.append(
            f"{t0 + 3600 * i},x,ETH/USDT,{o},{max(o, c) * 1.01},{min(o, c) * 0.99},{c},100,{100 * c}"
        )
    csv = tmp_path / "mini.csv"
    csv.write_text("\n".join(lines) + "\n")
    out = tmp_path / "r.json"
    proc = ballast(
        [
            "demo",
            "--csv",
            str(csv),
            "--start",
            "2020-03-01T00:00",
            "--hours",
            "8",
            "--no-progress",
            "--json",
            str(out),
            "--plot",
            str(tmp_path / "p.png"),
        ]
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = json.loads(out.read_text())["rows"]
    assert [r["price"] for r in rows] == pytest.approx(closes[1:], rel=0.011)
    assert rows[0]["time"] >= t0 + 2 * 3600  # the chain's clock follows the candles


def test_demo_missing_csv_fails_in_one_line(tmp_path):
    proc = ballast(["demo", "--csv", str(tmp_path / "nope.csv")])
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith("ballast: error:") and "no such file" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_demo_start_without_csv_fails_in_one_line():
    proc = ballast(["demo", "--start", "2020-03-01"])
    assert proc.returncode == 1
    assert proc.stderr.strip() == "ballast: error: --start only applies with --csv"


def test_demo_window_outside_the_file_fails_in_one_line(tmp_path):
    csv = tmp_path / "one.csv"
    csv.write_text("unix,open,high,low,close,volume\n1583020800,1,1,1,1,1\n1583024400,1,1,1,1,1\n")
    proc = ballast(["demo", "--csv", str(csv), "--start", "2021-01-01"])
    assert proc.returncode == 1
    assert "fewer than 2 candles in the window" in proc.stderr and "Traceback" not in proc.stderr


def _children(pid: int) -> list[tuple[int, str]]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split()
        except OSError:
            continue
        if int(fields[3]) == pid:
            out.append((int(fields[0]), fields[1].strip("()")))
    return out


def test_demo_interrupted_stops_its_anvil():
    """Ctrl-C in the middle of the run: one error line, non-zero exit, and the demo's anvil is gone."""
    import signal
    import time

    env = dict(os.environ, PATH=f"{BIN}:{ROOT / 'node_modules' / '.bin'}:{os.environ.get('PATH', '')}",
               PYTHONPATH=str(ROOT))  # fmt: skip
    env.pop("APE_FOUNDRY_HOST", None)
    proc = subprocess.Popen([str(BIN / "ballast"), "demo", "--no-progress", "--plot", "/dev/null"], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        anvil = None
        deadline = time.monotonic() + 120
        while anvil is None and time.monotonic() < deadline and proc.poll() is None:
            anvil = next((p for p, name in _children(proc.pid) if name == "anvil"), None)
            time.sleep(0.2)
        assert anvil is not None, "the demo did not start its anvil"
        time.sleep(3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1
    assert "ballast: error: interrupted; anvil stopped" in err
    assert not pid_alive(anvil)


def ballast(args, timeout=240):
    return run_cli(["ballast", *args], timeout=timeout)
