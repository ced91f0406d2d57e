"""Candle files a user might hand over (issue 10, finding 7): every malformed file either loads into a
valid, sorted, finite candle set or ends in one clean `CsvError` line; `ballast backtest` on it prints
no traceback and no numpy warning; a real one-hour flash crash is kept (flagged), never deleted."""

import math
import os
import warnings

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oracle.sources import csv as loader
from oracle.sources.csv import CsvError, load_candles

HEADER = "unix,date,symbol,open,high,low,close,Volume ETH,Volume USDT,tradecount"
T0 = 1_577_836_800  # 2020-01-01 00:00 UTC
HOURS = 72
EXAMPLES = int(os.environ.get("BALLAST_CSV_FUZZ_EXAMPLES", "150"))


def base_rows(hours=HOURS, seed=3):
    """(unix seconds, open, high, low, close, volume) of a calm hourly random walk around 100."""
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, hours)))
    open_ = np.concatenate(([100.0], close[:-1]))
    high, low = np.maximum(open_, close) * 1.004, np.minimum(open_, close) * 0.996
    vol = rng.uniform(500, 1500, hours)
    return [[T0 + 3600 * i, open_[i], high[i], low[i], close[i], vol[i]] for i in range(hours)]


def render(rows, units=None):
    """CSV text (banner, header, newest first); units[i] scales row i's unix column (1, 1e3, 1e6, 1e9)."""
    lines = ["https://www.CryptoDataDownload.com", HEADER]
    for i, (t, o, h, lo, c, v) in reversed(list(enumerate(rows))):
        unit = units[i] if units else 1
        unix = f"{t * unit:.0f}" if unit != 1 else f"{t}.0"
        lines.append(f"{unix},x,ETH/USDT,{o!r},{h!r},{lo!r},{c!r},{v!r},{v * c!r},NULL")
    return "\n".join(lines) + "\n"


def write(tmp_path, text, name="c.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def backtest(path):
    from oracle.cli import main

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # numpy's default errstate: overflow, invalid, divide warn
        res = CliRunner(mix_stderr=False).invoke(main, ["backtest", "--csv", str(path), "--json", "-", "--quiet"])
    return res, [str(w.message) for w in caught]


def case(name):
    rows = base_rows()
    units = None
    if name == "microseconds":
        units = [1e6] * HOURS
    elif name == "nanoseconds":
        units = [1e9] * HOURS
    elif name == "one_row_in_nanoseconds":
        units = [1] * HOURS
        units[40] = 1e9
    elif name == "close_near_1e303":
        rows[-1][4] = rows[-1][2] = 1.7e303  # the newest bar: no neighbour after it to judge it by
    elif name == "volume_near_1e308":
        rows[30][5] = 1.7e306  # and its quote volume (x close ~100) near 1.7e308
    elif name == "unix_1e25":
        rows[30][0] = 10**25
    elif name == "gap_of_centuries":
        rows[-1][0] = rows[-2][0] + 3600 * 24 * 365 * 200  # year ~2220: past any candle file
    elif name == "gap_of_decades":
        rows[-1][0] = rows[-2][0] + 3600 * 24 * 365 * 60  # 2080: a valid date, an absurd gap
    return render(rows, units)


ISSUE_CASES = ["microseconds", "nanoseconds", "one_row_in_nanoseconds", "close_near_1e303", "volume_near_1e308",
               "unix_1e25", "gap_of_centuries", "gap_of_decades"]  # fmt: skip


@pytest.mark.parametrize("name", ISSUE_CASES)
def test_backtest_on_the_issues_files_is_clean(tmp_path, name):
    res, caught = backtest(write(tmp_path, case(name)))
    assert "Traceback" not in res.stderr and not isinstance(res.exception, Exception) or res.exit_code == 1, (
        res.exception
    )
    assert not caught, caught  # no numpy RuntimeWarning printed before a result or an error line
    if res.exit_code == 0:
        import json

        doc = json.loads(res.stdout)
        assert doc["start"].startswith("2020-01-01") and doc["end"].startswith("2020-01-0")
        assert doc["rows"] >= HOURS - 2
    else:
        lines = res.stderr.strip().splitlines()
        assert res.exit_code == 1 and len(lines) == 1 and lines[0].startswith("ballast: error: "), res.stderr


@pytest.mark.parametrize("unit", [1e3, 1e6, 1e9])
def test_every_unix_unit_reads_the_same_bars(tmp_path, unit):
    plain = load_candles(write(tmp_path, render(base_rows()), "s.csv"))
    scaled = load_candles(write(tmp_path, render(base_rows(), [unit] * HOURS), "u.csv"))
    assert scaled.ts.tolist() == plain.ts.tolist() and scaled.close.tolist() == plain.close.tolist()


def test_mixed_units_in_one_file(tmp_path):
    units = [(1, 1e3, 1e6, 1e9)[i % 4] for i in range(HOURS)]
    c = load_candles(write(tmp_path, render(base_rows(), units)))
    assert len(c) == HOURS and c.period == 3600 and c.ts[0] == T0


def test_a_gap_of_decades_is_one_line(tmp_path):
    with pytest.raises(CsvError) as info:
        load_candles(write(tmp_path, case("gap_of_decades")))
    text = info.value.format_message()
    assert "gap of 60 years" in text and "\n" not in text


def test_absurd_values_reject_their_row(tmp_path):
    c = load_candles(write(tmp_path, case("close_near_1e303")))
    assert len(c) == HOURS - 1 and c.notes["rows_rejected_out_of_range"] == 1 and c.ts[-1] == T0 + 3600 * 70
    assert np.isfinite(c.close).all() and c.close.max() < 1e4


def test_absurd_volume_counts_as_unknown(tmp_path):
    c = load_candles(write(tmp_path, case("volume_near_1e308")))
    assert len(c) == HOURS and c.volume[30] == 0 and c.volume_quote[30] == 0
    assert c.notes["volume_out_of_range"] == 1


def test_one_hour_flash_crash_and_recovery_is_kept_and_flagged(tmp_path):
    """Close -45% for one hour, then back: a real low a risk backtest must see (it was deleted as a
    'lone bad close' judged by the next bar)."""
    rows = base_rows()
    before = rows[39][4]
    rows[40][1], rows[40][3], rows[40][4] = before, before * 0.5, before * 0.55
    rows[40][2] = before
    rows[41][1], rows[41][3] = before * 0.55, before * 0.55
    c = load_candles(write(tmp_path, render(rows)))
    assert len(c) == HOURS and c.ts[40] == T0 + 40 * 3600
    assert c.close[40] == pytest.approx(before * 0.55) and c.low[40] == pytest.approx(before * 0.5)
    assert c.notes["flash_crash_bars"] == 1


def test_lone_spike_is_kept_and_flagged(tmp_path):
    rows = base_rows()
    rows[40][4] = rows[40][2] = rows[39][4] * 9
    c = load_candles(write(tmp_path, render(rows)))
    assert len(c) == HOURS and c.notes["spike_bars"] == 1


# --- the property: a clean CsvError or a valid candle set -----------------------------------------

GARBAGE = st.sampled_from(["", "NULL", "nan", "inf", "-inf", "-1", "0", "1e25", "1e303", "1.7e308", "abc",
                           "1e-300", "9" * 40, "0x10", " 12 ", "1,5"])  # fmt: skip


@st.composite
def malformed_files(draw):
    rows = base_rows(hours=draw(st.integers(1, 40)), seed=draw(st.integers(0, 5)))
    units = [draw(st.sampled_from([1, 1, 1, 1e3, 1e6, 1e9])) for _ in rows]
    lines = render(rows, units).splitlines()
    banner, header, body = lines[0], lines[1], lines[2:]
    for _ in range(draw(st.integers(0, 8))):
        if not body:
            break
        i = draw(st.integers(0, len(body) - 1))
        cells = body[i].split(",")
        kind = draw(st.sampled_from(["cell", "cell", "unix", "drop_cells", "duplicate", "shift", "blank"]))
        if kind == "cell":
            cells[draw(st.integers(0, len(cells) - 1))] = draw(GARBAGE)
        elif kind == "unix":
            cells[0] = draw(st.sampled_from([
                "1e25", "-5", "0", "253402300800", "4102444800.0", "9e18", "1.5e17", "nan", "10000000000000000000000",
                str(T0 + 3600 * draw(st.integers(-10**6, 10**6))),
            ]))  # fmt: skip
        elif kind == "drop_cells":
            cells = cells[: draw(st.integers(0, len(cells) - 1))]
        elif kind == "duplicate":
            body.insert(i, body[i])
        elif kind == "shift" and cells and cells[0].replace(".", "").isdigit():
            cells[0] = str(float(cells[0]) * draw(st.sampled_from([1e3, 1e6, 1e9, 1e-3])))
        body[i] = ",".join(cells) if kind != "blank" else ""
    if draw(st.booleans()):
        body = draw(st.permutations(body))
    head = [header] if draw(st.integers(0, 9)) else [header.replace("close", "closing")]
    return "\n".join(([banner] if draw(st.booleans()) else []) + head + list(body)) + "\n"


def assert_valid(c):
    n = len(c)
    assert n >= 1 and c.ts.dtype == np.int64
    assert (np.diff(c.ts) > 0).all()
    assert loader.MIN_TS <= c.ts[0] and c.ts[-1] <= loader.MAX_TS
    for name in ("open", "high", "low", "close"):
        x = getattr(c, name)
        assert np.isfinite(x).all() and (x >= loader.MIN_PRICE).all() and (x <= loader.MAX_PRICE).all(), name
    assert (c.low <= np.minimum(c.open, c.close)).all() and (c.high >= np.maximum(c.open, c.close)).all()
    for name in ("volume", "volume_quote"):
        x = getattr(c, name)
        assert np.isfinite(x).all() and (x >= 0).all() and (x <= loader.MAX_VOLUME).all(), name
    if n > 1:
        assert int(np.diff(c.ts).max()) <= loader.MAX_GAP_SECONDS
        assert (int(c.ts[-1]) - int(c.ts[0])) // c.period <= loader.MAX_SPAN_BARS


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])  # fmt: skip
@given(text=malformed_files())
def test_malformed_files_load_cleanly_or_fail_in_one_line(tmp_path, text):
    path = tmp_path / "fuzz.csv"
    path.write_text(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy warning is a failure
        with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
            try:
                c = load_candles(path)
            except CsvError as exc:
                message = exc.format_message()
                assert message and "\n" not in message
                return
    assert_valid(c)
    from oracle.backtest import iso

    assert iso(int(c.ts[0])) <= iso(int(c.ts[-1]))  # dates a backtest can print
    assert math.isfinite(float(c.close.sum()))
    from oracle.backtest import BacktestConfig, run
    from oracle.errors import BallastError

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            result, _ = run(c, BacktestConfig())  # and the backtest runs on what the loader returns
        except BallastError as exc:
            assert "\n" not in exc.format_message()
        else:
            assert result["rows"] == len(c)
