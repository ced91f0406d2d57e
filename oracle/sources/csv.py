"""Load OHLCV candle CSVs as published by CryptoDataDownload, and replay them as a `Source`.

The loader survives every quirk of the real files (see ../shared/data/README.md):

- an optional banner line before the header (`https://www.CryptoDataDownload.com`);
- rows in any order (the files are newest first): output is sorted oldest first;
- `unix` in milliseconds (newer rows) or seconds with a ".0" (older rows): values above 1e11 are
  milliseconds; when `unix` is missing or unparseable the `date` column is used, in either of its
  formats (`2020-08-01 23:00:00`, `2020-08-01 11-PM`) or a plain day (`2017-08-17`), read as UTC;
- the same bar twice: we keep the row exported with a millisecond timestamp (the newer export, with
  full 8-decimal prices and a trade count; the other copy is rounded to 2 decimals and, where they
  differ, its volume is lower, i.e. it was taken before the bar closed). Between two rows of the same
  kind, the one with the larger volume (the more complete bar) wins, then the first in the file.
  The choice is deterministic and independent of row order;
- gaps (missing bars) are kept as gaps; `notes["gaps"]` counts them and consumers use timestamps;
- absurd prints: an `open` or `high` above K = 1.5 times both the previous close and the bar's own
  close, or a `low` below 1/K of both, cannot be a real hourly print (the ETH bar of 2017-08-17 04:00
  opens at 652.74 and closes at 300.79). They are repaired, not rejected, because the close is
  consistent: open := previous close (the bar's close for the first bar), high := max(open, close),
  low := min(open, close). A close that jumps by more than K against both neighbours while they agree
  with each other is a lone bad print: the whole row is dropped. Bars whose high/low do not contain
  open/close are widened to contain them. Every repair is counted in `notes`;
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
MS_THRESHOLD = 1e11  # unix values above this are milliseconds (1e11 s is the year 5138)
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
        t = _num(row[cols["unix"]]) if "unix" in cols else math.nan
        if not math.isnan(t) and t > 0:
            if t > MS_THRESHOLD:
                t, ms[i] = t / 1000.0, True
        elif "date" in cols:
            t = _parse_date(row[cols["date"]])
        ts[i] = t
        for j, key in enumerate(keys):
            if key in cols:
                ohlcv[i, j] = _num(row[cols[key]])
        if not symbol and "symbol" in cols:
            symbol = row[cols["symbol"]].strip()

    notes: dict = {"rows_read": n}
    o, hi, lo, c = ohlcv[:, 0], ohlcv[:, 1], ohlcv[:, 2], ohlcv[:, 3]
    prices_ok = np.isfinite(ohlcv[:, :4]).all(axis=1) & (ohlcv[:, :4] > 0).all(axis=1)
    valid = np.isfinite(ts) & prices_ok
    notes["rows_rejected_unparseable"] = int(n - valid.sum())
    if not valid.any():
        raise CsvError(f"{path}: no valid rows (need a timestamp and positive open/high/low/close)")
    ts, ms, ohlcv = ts[valid], ms[valid], ohlcv[valid]
    vol = ohlcv[:, 4]
    notes["volume_null"] = int((~np.isfinite(vol)).sum())
    vol = np.where(np.isfinite(vol) & (vol > 0), vol, 0.0)
    if "volume_quote" in cols:
        vq = ohlcv[:, 5]
        vq = np.where(np.isfinite(vq) & (vq > 0), vq, 0.0)
    else:
        vq = vol * ohlcv[:, 3]
    tsi = np.round(ts).astype(np.int64)

    # Duplicates: sort by (ts, ms-row first, larger volume first, file order) and keep the first of each ts.
    order = np.lexsort((np.arange(len(tsi)), -vol, ~ms, tsi))
    tsi, ohlcv, vol, vq = tsi[order], ohlcv[order], vol[order], vq[order]
    first = np.ones(len(tsi), dtype=bool)
    first[1:] = tsi[1:] != tsi[:-1]
    notes["duplicates_dropped"] = int((~first).sum())
    tsi, ohlcv, vol, vq = tsi[first], ohlcv[first], vol[first], vq[first]
    o, hi, lo, c = (ohlcv[:, k].copy() for k in range(4))

    # A lone bad close: jumps by more than K against both neighbours, which agree with each other.
    k = ABSURD_FACTOR
    lone = np.zeros(len(c), dtype=bool)
    if len(c) >= 3:
        prev, cur, nxt = c[:-2], c[1:-1], c[2:]
        up = (cur > k * prev) & (cur > k * nxt)
        down = (cur * k < prev) & (cur * k < nxt)
        agree = (prev < k * nxt) & (nxt < k * prev)
        lone[1:-1] = (up | down) & agree
    notes["rows_rejected_bad_close"] = int(lone.sum())
    keep = ~lone
    tsi, o, hi, lo, c, vol, vq = tsi[keep], o[keep], hi[keep], lo[keep], c[keep], vol[keep], vq[keep]

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
    period = candles.period
    notes["gaps"] = int((steps > period).sum())
    notes["max_gap_bars"] = int(steps.max() // period - 1) if len(steps) else 0
    notes["rows"] = len(tsi)
    return candles


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
