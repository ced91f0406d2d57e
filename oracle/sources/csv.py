"""Load OHLCV candle CSVs as published by CryptoDataDownload, and replay them as a `Source`.

The loader survives every quirk of the real files (see ../shared/data/README.md):

- an optional banner line before the header (`https://www.CryptoDataDownload.com`);
- rows in any order (the files are newest first): output is sorted oldest first;
- `unix` in seconds (older rows, with a ".0"), milliseconds (newer rows), or, in files from other
  tools, microseconds or nanoseconds; each value is read in the unit its size implies (below 1e11:
  seconds; 1e14: ms; 1e17: us; 1e20: ns), so units may even change from row to row. A time outside
  1970..2100 (1e25, a negative number) is not a time; the `date` column is used instead when it
  parses, in either of its formats (`2020-08-01 23:00:00`, `2020-08-01 11-PM`) or a plain day
  (`2017-08-17`), read as UTC;
- the same bar twice: we keep the row exported with a sub-second timestamp (the newer export, with
  full 8-decimal prices and a trade count; the other copy is rounded to 2 decimals and, where they
  differ, its volume is lower, i.e. it was taken before the bar closed). Between two rows of the same
  kind, the one with the larger volume (the more complete bar) wins, then the first in the file.
  The choice is deterministic and independent of row order;
- gaps (missing bars) are kept as gaps; `notes["gaps"]` counts them and consumers use timestamps. A gap
  of more than a year between two bars is not a gap in a candle file but a wrong timestamp: the file
  is refused with the two dates (likewise a file whose bars are so irregular that it would span more
  than MAX_SPAN_BARS of its own period);
- values no market prints: a price outside [MIN_PRICE, MAX_PRICE] (1e303, 1e-300) rejects its row
  (`rows_rejected_out_of_range`); a volume above MAX_VOLUME counts as unknown, i.e. 0
  (`volume_out_of_range`). Everything downstream is then finite, and nothing overflows;
- absurd prints: an `open` or `high` above K = 1.5 times both the previous close and the bar's own
  close, or a `low` below 1/K of both, cannot be a real hourly print (the ETH bar of 2017-08-17 04:00
  opens at 652.74 and closes at 300.79). They are repaired, not rejected, because the close is
  consistent: open := previous close (the bar's close for the first bar), high := max(open, close),
  low := min(open, close). Bars whose high/low do not contain open/close are widened to contain them.
  Every repair is counted in `notes`;
- a close that jumps by more than K against both neighbours while they agree with each other is kept
  and flagged, never dropped: down, it may be a real one-hour flash crash followed by a recovery (a
  risk backtest must see that low: `notes["flash_crash_bars"]`); up, a spike (`notes["spike_bars"]`),
  which only makes a backtest more conservative. (Until issue 10 such a bar was deleted as a "lone bad
  print", judged by the bar after it.);
- `tradecount` (and volumes) may be `NULL` or empty: volumes then count as 0, tradecount is ignored.

A file that cannot be used (missing, no header, missing columns, no valid rows) raises `CsvError`,
whose message is one line.
"""

from __future__ import annotations

import csv
import math
import os
from datetime import datetime, timezone

import numpy as np

from oracle.errors import BallastError
from oracle.sources.base import Candles, Observation, SourceExhausted

ABSURD_FACTOR = 1.5  # K: a print beyond K x both neighbouring closes is not a real hourly move
# unix values below each bound are in that unit: seconds, ms, us, ns (1e11 s is the year 5138)
UNIX_UNITS = ((1e11, 1.0), (1e14, 1e3), (1e17, 1e6), (1e20, 1e9))
MIN_TS = 0  # 1970-01-01
MAX_TS = 4_102_444_800  # 2100-01-01: later times are wrong units or typos, not candles
MIN_PRICE, MAX_PRICE = 1e-15, 1e15  # quote per base: beyond these no market prints (and floats overflow)
MAX_VOLUME = 1e20  # base or quote units per bar (an hour of all the world's markets is ~1e11 dollars)
MAX_GAP_SECONDS = 366 * 86_400  # a bigger hole between two bars is a wrong timestamp
MAX_SPAN_BARS = 2_000_000  # bars of the file's period between its first and last (228 years hourly)
DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %I-%p", "%Y-%m-%d %H:%M", "%Y-%m-%d")
NULLS = {"", "null", "none", "nan", "na", "n/a"}


class CsvError(BallastError, ValueError):
    """A candle file that cannot be used. The message is one line, meant for the user."""


def _num(text: str) -> float:
    """Float of a cell, NaN for NULL-like or unparseable cells."""
    text = text.strip()
    if text.lower() in NULLS:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return math.nan


def _parse_date(text: str) -> float:
    text = text.strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            continue
    return math.nan


def _find_header(rows: list[list[str]]) -> int:
    """Index of the header row: the first row (of the first 5) that names the price columns."""
    for i, row in enumerate(rows[:5]):
        names = {c.strip().lower() for c in row}
        if "close" in names or "open" in names:
            return i
    raise CsvError("no header row with open/high/low/close columns in the first 5 lines")


def _columns(header: list[str]) -> dict[str, int]:
    names = [c.strip().lower() for c in header]
    cols: dict[str, int] = {}
    for key in ("unix", "date", "symbol", "open", "high", "low", "close"):
        if key in names:
            cols[key] = names.index(key)
    if "unix" not in cols:
        for alt in ("timestamp", "time", "unix_timestamp"):
            if alt in names:
                cols["unix"] = names.index(alt)
                break
    missing = [k for k in ("open", "high", "low", "close") if k not in cols]
    if "unix" not in cols and "date" not in cols:
        missing.insert(0, "unix or date")
    volumes = [i for i, n in enumerate(names) if n.startswith("volume")]
    if not volumes:
        missing.append("volume")
    if missing:
        raise CsvError(f"missing columns: {', '.join(missing)}")
    cols["volume"] = volumes[0]
    if len(volumes) > 1:
        cols["volume_quote"] = volumes[1]
    return cols


def load_candles(path: str | os.PathLike) -> Candles:
    """Read a candle CSV into `Candles` (oldest first, one row per bar, repaired as described above)."""
    path = os.fspath(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = [r for r in csv.reader(fh) if r and any(c.strip() for c in r)]
    except FileNotFoundError:
        raise CsvError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CsvError(f"{path}: is a directory, not a CSV file") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CsvError(f"{path}: not a readable CSV ({exc.__class__.__name__})") from None
    except OSError as exc:
        raise CsvError(f"{path}: cannot read ({exc.strerror})") from None
    if not rows:
        raise CsvError(f"{path}: empty file")
    try:
        h = _find_header(rows)
        cols = _columns(rows[h])
    except CsvError as exc:
        raise CsvError(f"{path}: {exc}") from None
    body = rows[h + 1 :]
    width = max(cols.values()) + 1

    n = len(body)
    ts = np.full(n, np.nan)
    ms = np.zeros(n, dtype=bool)
    ohlcv = np.full((n, 6), np.nan)
    symbol = ""
    keys = ("open", "high", "low", "close", "volume", "volume_quote")
    for i, row in enumerate(body):
        if len(row) < width:
            continue
        t, ms[i] = _unix_seconds(_num(row[cols["unix"]])) if "unix" in cols else (math.nan, False)
        if math.isnan(t) and "date" in cols:
            t = _parse_date(row[cols["date"]])
            t = t if MIN_TS <= t <= MAX_TS else math.nan
        ts[i] = t
        for j, key in enumerate(keys):
            if key in cols:
                ohlcv[i, j] = _num(row[cols[key]])
        if not symbol and "symbol" in cols:
            symbol = row[cols["symbol"]].strip()

    with np.errstate(all="ignore"):  # NaN and inf cells are expected here; no warning reaches the user
        candles = _clean(path, ts, ms, ohlcv, "volume_quote" in cols, symbol)
    return candles


def _unix_seconds(t: float) -> tuple[float, bool]:
    """(unix seconds, exported with a sub-second unit) of a `unix` cell; NaN when it is not a time
    between 1970 and 2100 in any of the units."""
    if not (t > 0 and math.isfinite(t)):
        return math.nan, False
    for bound, per_second in UNIX_UNITS:
        if t < bound:
            seconds = t / per_second
            return (seconds, per_second > 1) if MIN_TS <= seconds <= MAX_TS else (math.nan, False)
    return math.nan, False


def _clean(path: str, ts, ms, ohlcv, has_quote: bool, symbol: str) -> Candles:
    n = len(ts)
    notes: dict = {"rows_read": n}
    parsed = np.isfinite(ts) & np.isfinite(ohlcv[:, :4]).all(axis=1) & (ohlcv[:, :4] > 0).all(axis=1)
    in_range = ((ohlcv[:, :4] >= MIN_PRICE) & (ohlcv[:, :4] <= MAX_PRICE)).all(axis=1)
    valid = parsed & in_range
    notes["rows_rejected_unparseable"] = int(n - parsed.sum())
    notes["rows_rejected_out_of_range"] = int((parsed & ~in_range).sum())
    if not valid.any():
        raise CsvError(
            f"{path}: no valid rows (need a time in 1970..2100 and open/high/low/close in "
            f"[{MIN_PRICE:g}, {MAX_PRICE:g}])"
        )
    ts, ms, ohlcv = ts[valid], ms[valid], ohlcv[valid]
    vol = ohlcv[:, 4]
    notes["volume_null"] = int((~np.isfinite(vol)).sum())
    too_big = np.isfinite(vol) & (vol > MAX_VOLUME)
    vol = np.where(np.isfinite(vol) & (vol > 0) & ~too_big, vol, 0.0)
    if has_quote:
        vq = ohlcv[:, 5]
        too_big |= np.isfinite(vq) & (vq > MAX_VOLUME)
        vq = np.where(np.isfinite(vq) & (vq > 0), vq, 0.0)
    else:
        vq = vol * ohlcv[:, 3]
    vol = np.where(too_big, 0.0, vol)  # one absurd volume makes the bar's volume unknown, both sides
    vq = np.where(too_big | (vq > MAX_VOLUME), 0.0, vq)
    notes["volume_out_of_range"] = int(too_big.sum())
    tsi = np.round(ts).astype(np.int64)

    # Duplicates: sort by (ts, ms-row first, larger volume first, file order) and keep the first of each ts.
    order = np.lexsort((np.arange(len(tsi)), -vol, ~ms, tsi))
    tsi, ohlcv, vol, vq = tsi[order], ohlcv[order], vol[order], vq[order]
    first = np.ones(len(tsi), dtype=bool)
    first[1:] = tsi[1:] != tsi[:-1]
    notes["duplicates_dropped"] = int((~first).sum())
    tsi, ohlcv, vol, vq = tsi[first], ohlcv[first], vol[first], vq[first]
    o, hi, lo, c = (ohlcv[:, k].copy() for k in range(4))

    # A lone jump of the close: more than K against both neighbours, which agree with each other. Kept
    # and flagged: down it may be a real flash crash and recovery, whose low a risk backtest must see.
    k = ABSURD_FACTOR
    flash = np.zeros(len(c), dtype=bool)
    spike = np.zeros(len(c), dtype=bool)
    if len(c) >= 3:
        prev, cur, nxt = c[:-2], c[1:-1], c[2:]
        agree = (prev < k * nxt) & (nxt < k * prev)
        spike[1:-1] = (cur > k * prev) & (cur > k * nxt) & agree
        flash[1:-1] = (cur * k < prev) & (cur * k < nxt) & agree
    notes["flash_crash_bars"] = int(flash.sum())
    notes["spike_bars"] = int(spike.sum())

    # Absurd open/high/low against both the previous close and the bar's own close.
    prev_close = np.concatenate(([c[0]], c[:-1]))
    ref_hi = np.maximum(prev_close, c)
    ref_lo = np.minimum(prev_close, c)
    bad_open = (o > k * ref_hi) | (o * k < ref_lo)
    o = np.where(bad_open, prev_close, o)
    bad_high = hi > k * ref_hi
    hi = np.where(bad_high, np.maximum(o, c), hi)
    bad_low = lo * k < ref_lo
    lo = np.where(bad_low, np.minimum(o, c), lo)
    notes["absurd_prints_repaired"] = int((bad_open | bad_high | bad_low).sum())
    widened = (hi < np.maximum(o, c)) | (lo > np.minimum(o, c))
    hi = np.maximum(hi, np.maximum(o, c))
    lo = np.minimum(lo, np.minimum(o, c))
    notes["ranges_widened"] = int(widened.sum())

    candles = Candles(tsi, o, hi, lo, c, vol, vq, symbol, notes)
    steps = np.diff(tsi)
    if len(steps) and int(steps.max()) > MAX_GAP_SECONDS:
        j = int(np.argmax(steps))
        years = int(steps[j]) / (365.25 * 86_400)
        raise CsvError(
            f"{path}: a gap of {years:.0f} years between {_iso(tsi[j])} and {_iso(tsi[j + 1])}: "
            "a timestamp in a wrong unit, or a typo?"
        )
    period = candles.period
    span = (int(tsi[-1]) - int(tsi[0])) // period
    if span > MAX_SPAN_BARS:
        raise CsvError(
            f"{path}: bars too irregular: {len(tsi)} rows span {span:,} bars of their most common spacing "
            f"({period} s)"
        )
    notes["gaps"] = int((steps > period).sum())
    notes["max_gap_bars"] = int(steps.max() // period - 1) if len(steps) else 0
    notes["rows"] = len(tsi)
    return candles


def _iso(t) -> str:
    return datetime.fromtimestamp(int(t), tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


class CsvReplaySource:
    """Replays candles as a `Source`: each `latest()` returns the next bar's close (observed when the bar
    closes, at ts + period) and moves on; `SourceExhausted` at the end. Depth is unknown (None): use
    `oracle.metrics.depth_from_volume` over `history()` for a proxy."""

    def __init__(self, candles: Candles, name: str | None = None):
        if len(candles) == 0:
            raise CsvError("no candles to replay")
        self.candles = candles
        self.name = name or f"csv:{candles.symbol or 'candles'}"
        self.cursor = 0

    @classmethod
    def from_path(cls, path: str | os.PathLike) -> CsvReplaySource:
        return cls(load_candles(path), name=f"csv:{os.path.basename(os.fspath(path))}")

    def latest(self) -> Observation:
        if self.cursor >= len(self.candles):
            raise SourceExhausted(f"{self.name}: replay finished after {len(self.candles)} bars")
        i = self.cursor
        self.cursor += 1
        return Observation(
            ts=int(self.candles.ts[i]) + self.candles.period, price=float(self.candles.close[i])
        )

    def history(self) -> Candles:
        """The bars replayed so far (what a live keeper would have seen)."""
        return self.candles[: self.cursor]

    def __iter__(self):
        while self.cursor < len(self.candles):
            yield self.latest()
