"""The calibration targets on the real hourly history (../shared/data), and the speed target."""

import pytest

from oracle.backtest import BENCH_FILES, backtest_file


@pytest.mark.parametrize("name", BENCH_FILES)
def test_calibrated_defaults_meet_the_targets(shared_data, name):
    result, _ = backtest_file(str(shared_data / name), 6.0)
    d, same_capital, same_safety = (
        result["dynamic"],
        result["static_same_capital"],
        result["static_same_safety"],
    )
    assert d["breach_rate"] <= 0.010
    assert d["worst_week_breaches"] <= 0.5 * same_capital["worst_week_breaches"]
    assert d["shortfall"] <= 0.75 * same_capital["shortfall"]
    assert d["median_cr"] < same_safety["cr"]
    assert d["guard_violations"] == 0
    assert result["seconds"] > 0  # measured and reported; its speed is `make bench`'s, not asserted
