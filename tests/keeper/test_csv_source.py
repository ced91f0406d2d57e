"""CSV loader: every quirk of the real candle files, on tiny generated fixtures."""

import numpy as np
import pytest

from oracle.errors import BallastError
from oracle.sources import Observation, Source, SourceExhausted
from oracle.sources.csv import CsvError, CsvReplaySource, load_candles

HEADER = "unix,date,symbol,open,high,low,close,Volume ETH,Volume USDT,tradecount"
T0 = 1_596_322_800  # 2020-08-01 23:00:00 UTC


def write(tmp_path, lines, banner=True, name="c.csv"):
    path = tmp_path / name
    text = (
        ("https://www.CryptoDataDownload.com\n" if banner else "") + HEADER + "\n" + "\n".join(lines) + "\n"
    )
    path.write_text(text)
    return path


def row_ms(t, o, h, lo, c, v=10.0, vq=1000.0, date="2020-08-01 23:00:00"):
    return f"{t * 1000},{date},ETH/USDT,{o:.8f},{h:.8f},{lo:.8f},{c:.8f},{v:.8f},{vq:.8f},123"


def row_s(t, o, h, lo, c, v=10.0, vq=1000.0, date="2020-08-01 11-PM"):
    return f"{t}.0,{date},ETH/USDT,{o},{h},{lo},{c},{v},{vq},NULL"


def test_banner_newest_first_and_mixed_units(tmp_path):
    lines = [row_ms(T0 + 7200, 3, 4, 2, 3.5), row_ms(T0 + 3600, 2, 3, 1.5, 2.5), row_s(T0, 1, 2, 0.9, 1.5)]
    c = load_candles(write(tmp_path, lines))
    assert c.ts.tolist() == [T0, T0 + 3600, T0 + 7200]
    assert c.close.tolist() == [1.5, 2.5, 3.5]
    assert c.ts.dtype == np.int64 and c.period == 3600 and c.symbol == "ETH/USDT" and c.asset == "ETH"


def test_header_without_banner(tmp_path):
    c = load_candles(write(tmp_path, [row_ms(T0, 1, 2, 0.5, 1.5)], banner=False))
    assert len(c) == 1 and c.high[0] == 2.0


def test_date_column_used_when_unix_missing_both_formats(tmp_path):
    lines = [
        ",2020-08-01 23:00:00,ETH/USDT,1,2,0.5,1.5,1,1,NULL",
        "NULL,2020-08-02 12-AM,ETH/USDT,1,2,0.5,1.6,1,1,NULL",
        ",2020-08-02 01-PM,ETH/USDT,1,2,0.5,1.7,1,1,NULL",
    ]
    c = load_candles(write(tmp_path, lines))
    assert c.ts.tolist() == [T0, T0 + 3600, T0 + 14 * 3600]
    assert c.notes["gaps"] == 1 and c.notes["max_gap_bars"] == 12


def test_duplicate_hour_keeps_millisecond_row_regardless_of_order(tmp_path):
    ms = row_ms(T0, 484.33, 493.98, 483.52, 491.47, v=140034.26)
    s = row_s(T0, 484.36, 493.98, 483.52, 488.78, v=110208.6)
    for lines in ([ms, s], [s, ms]):
        c = load_candles(write(tmp_path, lines))
        assert len(c) == 1 and c.close[0] == 491.47 and c.volume[0] == 140034.26
        assert c.notes["duplicates_dropped"] == 1


def test_duplicate_same_kind_keeps_larger_volume(tmp_path):
    lines = [row_s(T0, 1, 2, 0.5, 1.2, v=5), row_s(T0, 1, 2, 0.5, 1.3, v=9)]
    c = load_candles(write(tmp_path, lines))
    assert c.close.tolist() == [1.3]


def test_absurd_open_and_high_repaired(tmp_path):
    # ETH 2017-08-17 04:00: open 652.74 beside a close of 300.79
    lines = [row_s(T0 + 3600, 301.61, 303.28, 300, 303.1), row_s(T0, 652.74, 652.74, 298, 300.79)]
    c = load_candles(write(tmp_path, lines))
    assert c.open[0] == 300.79 and c.high[0] == 300.79 and c.low[0] == 298.0
    assert c.open[1] == 301.61 and c.notes["absurd_prints_repaired"] == 1


def test_absurd_low_repaired_to_body(tmp_path):
    lines = [row_s(T0, 279, 281, 278, 280), row_s(T0 + 3600, 280, 309.03, 144.21, 287)]
    c = load_candles(write(tmp_path, lines))
    assert c.low[1] == 280.0 and c.high[1] == 309.03


def test_real_crash_is_not_repaired(tmp_path):
    # -40% in an hour against the previous close, but the close confirms it: kept as printed
    lines = [
        row_s(T0, 100, 101, 99, 100),
        row_s(T0 + 3600, 100, 100, 55, 60),
        row_s(T0 + 7200, 60, 62, 58, 61),
    ]
    c = load_candles(write(tmp_path, lines))
    assert c.low.tolist() == [99.0, 55.0, 58.0] and c.notes["absurd_prints_repaired"] == 0


def test_lone_jump_of_the_close_is_kept_and_flagged(tmp_path):
    """Never dropped (issue 10): a lone low close may be a real flash crash; see test_csv_malformed.py."""
    lines = [
        row_s(T0, 100, 101, 99, 100),
        row_s(T0 + 3600, 100, 900, 99, 900),
        row_s(T0 + 7200, 100, 101, 99, 101),
    ]
    c = load_candles(write(tmp_path, lines))
    assert c.close.tolist() == [100.0, 900.0, 101.0] and c.notes["spike_bars"] == 1


def test_inconsistent_range_widened(tmp_path):
    c = load_candles(write(tmp_path, [row_s(T0, 10, 10.5, 10.2, 10.1)]))
    assert c.high[0] == 10.5 and c.low[0] == 10.0 and c.notes["ranges_widened"] == 1


def test_null_volume_and_tradecount(tmp_path):
    c = load_candles(write(tmp_path, [f"{T0}.0,2020-08-01 11-PM,ETH/USDT,1,2,0.5,1.5,NULL,,NULL"]))
    assert c.volume[0] == 0.0 and c.volume_quote[0] == 0.0 and c.notes["volume_null"] == 1


def test_unparseable_rows_skipped(tmp_path):
    lines = [row_s(T0, 1, 2, 0.5, 1.5), f"{T0 + 3600}.0,x,ETH/USDT,abc,2,0.5,1.5,1,1,NULL", "garbage"]
    c = load_candles(write(tmp_path, lines))
    assert len(c) == 1 and c.notes["rows_rejected_unparseable"] == 2


def test_daily_file_period(tmp_path):
    lines = [f"{T0 + 86400 * i}.0,2020-08-0{i + 1},BTC/USDT,1,2,0.5,1.5,1,1,NULL" for i in range(3)]
    c = load_candles(write(tmp_path, lines))
    assert c.period == 86_400


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        ("", "empty file"),
        ("a,b,c\n1,2,3\n", "no header row"),
        ("unix,open,high,low\n1,2,3,4\n", "missing columns: close, volume"),
        ("date,open,high,low,close,volume\nnot-a-date,1,2,0.5,1.5,1\n", "no valid rows"),
        ("unix,open,high,low,close,volume\n1596322800,-1,2,0.5,1.5,1\n", "no valid rows"),
    ],
)
def test_bad_csv_raises_one_line(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CsvError) as info:
        load_candles(path)
    text = str(info.value.format_message())
    assert message in text and "\n" not in text
    assert isinstance(info.value, BallastError)


def test_binary_file_raises(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"\xff\xfe\x00\x81" * 50)
    with pytest.raises(CsvError):
        load_candles(path)


def test_replay_source(tmp_path):
    lines = [row_ms(T0 + 3600, 2, 3, 1.5, 2.5), row_s(T0, 1, 2, 0.9, 1.5)]
    src = CsvReplaySource.from_path(write(tmp_path, lines))
    assert isinstance(src, Source) and src.name == "csv:c.csv"
    assert src.latest() == Observation(ts=T0 + 3600, price=1.5, depth=None)
    assert len(src.history()) == 1
    assert src.latest().price == 2.5
    with pytest.raises(SourceExhausted):
        src.latest()
