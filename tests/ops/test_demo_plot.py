"""`make demo`'s plot and summary (issue 10, finding 9), on made-up reports: no chain needed."""

import math

import pytest

from oracle import demo

T0 = 1_583_712_000  # 2020-03-09T00:00Z


def report(hours=30, dust_at=12, label="bundled scenario (seed 7)"):
    """Three borrowers; borrower 2 is liquidated down to dust at `dust_at` (value/debt ~1e7), borrower
    3 repays in full at hour 20 (no debt: NaN)."""
    rows = []
    for h in range(1, hours + 1):
        crs = [1.25 - 0.004 * h, 1.3 if h < dust_at else 1.2e7, 1.5 if h < 20 else math.nan]
        rows.append({"hour": h, "time": T0 + 3600 * (h + 1), "phase": "", "price": 2000 - h, "sigma": 0.8,
                     "depth": 1e6, "cr_init": 1.2, "cr_maint": 1.15 + 0.001 * h, "liquidations": int(h == dust_at),
                     "borrower_cr": crs})  # fmt: skip
    summary = {"hours": hours, "posts": hours + 1, "pokes": hours + 1, "liquidations": 1, "max_at_risk": 1,
               "price_first": 1999.0, "price_last": 1970.0, "price_min": 1970.0, "sigma_max": 0.8,
               "cr_init_max": 1.2, "cr_maint_max": 1.18, "open_debt": 1.0, "total_assets": 2.0, "seconds": 1.0,
               "liquidated_repaid": 3.0, "liquidated_seized": 0.002, "bad_debt": 0.0, "liquidation_events": 1}  # fmt: skip
    return {"label": label, "rows": rows, "summary": summary}


def test_a_borrower_liquidated_to_dust_does_not_flatten_the_other_lines(tmp_path):
    info = demo.plot(report(), tmp_path / "p.png")
    assert info.path.read_bytes()[:4] == b"\x89PNG"
    assert info.cr_top < 3  # the CR panel is scaled to the lines that matter, not to 1.2e7
    assert info.hidden == {"borrower 2": 12}  # said: from which hour its line is not drawn


def test_the_csv_demo_has_dates_on_its_x_axis(tmp_path):
    assert demo.plot(report(label="Binance_ETHUSDT_1h.csv from 2020-03-09T00:00Z"), tmp_path / "a.png",
                     dates=True).x_axis == "date"  # fmt: skip
    assert demo.plot(report(), tmp_path / "b.png").x_axis == "hour"


def test_header_and_summary_agree_on_the_hours(capsys):
    path = demo.scenario_path(seed=7, hours=36)
    header = demo.header_line(path)
    demo.print_summary(report(hours=len(path) - 1))
    table = capsys.readouterr().out
    played = next(line for line in table.splitlines() if "hours played" in line)
    assert "35 hours" in header and "35" in played and "36" not in header.split("hours")[0]


@pytest.mark.parametrize("hours", [2, 60])
def test_header_counts_the_hours_the_summary_counts(hours):
    path = demo.scenario_path(seed=7, hours=hours)
    assert f": {hours - 1} hours" in demo.header_line(path)
