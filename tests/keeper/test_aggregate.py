"""Median aggregation with outlier rejection, per-source health and refusal."""

import pytest

from oracle.aggregate import ERROR, OK, OUTLIER, SILENT, Refused, combine, judge, poll
from oracle.sources.base import Observation
from oracle.sources.exchange import ExchangeSource

NOW = 1_700_000_000


def obs(price, age=0, depth=None):
    return Observation(ts=NOW - age, price=price, depth=depth)


def test_median_of_agreeing_sources():
    agg = combine([("a", obs(100.0, depth=5e6)), ("b", obs(101.0, depth=4e6)), ("c", obs(100.5))], NOW, 600)
    assert agg.price == 100.5
    assert agg.depth == pytest.approx(4.5e6)  # median of the sources that know a depth
    assert agg.used == 3 and [h.status for h in agg.health] == [OK, OK, OK]


def test_outlier_is_reported_and_not_used():
    agg = combine([("a", obs(100.0)), ("b", obs(100.4)), ("bad", obs(130.0))], NOW, 600, max_deviation=0.02)
    assert agg.price == pytest.approx(100.2)
    bad = agg.health[2]
    assert bad.status == OUTLIER and bad.deviation == pytest.approx(130 / 100.4 - 1)
    assert "from median" in bad.detail


def test_deviation_exactly_at_threshold_is_ok_just_beyond_is_outlier():
    at = judge([("a", obs(100.0)), ("b", obs(100.0)), ("c", obs(102.0))], NOW, 600, max_deviation=0.02)
    assert at[2].status == OK
    beyond = judge([("a", obs(100.0)), ("b", obs(100.0)), ("c", obs(102.01))], NOW, 600, max_deviation=0.02)
    assert beyond[2].status == OUTLIER


def test_silent_source_is_too_old():
    health = judge([("a", obs(100.0, age=601)), ("b", obs(100.0, age=600))], NOW, max_age=600)
    assert [h.status for h in health] == [SILENT, OK]
    assert "601 s old" in health[0].detail


def test_future_observation_beyond_skew_is_silent():
    health = judge([("a", obs(100.0, age=-301)), ("b", obs(100.0, age=-300))], NOW, 600, max_skew=300)
    assert [h.status for h in health] == [SILENT, OK]


def test_silent_source_does_not_vote_in_the_reference_median():
    # two stale sources at 50 would drag the median; they are excluded before the outlier test
    agg = combine([("old1", obs(50.0, age=9999)), ("old2", obs(50.0, age=9999)), ("a", obs(100.0))], NOW, 600)
    assert agg.price == 100.0 and [h.status for h in agg.health] == [SILENT, SILENT, OK]


def test_error_and_invalid_price_are_errors():
    health = judge([("a", RuntimeError("rpc down")), ("b", obs(0.0)), ("c", obs(100.0))], NOW, 600)
    assert [h.status for h in health] == [ERROR, ERROR, OK]
    assert health[0].detail == "RuntimeError: rpc down"


def test_refuses_when_fewer_than_min_sources_agree():
    readings = [("a", obs(100.0)), ("b", obs(100.1)), ("c", RuntimeError("x"))]
    assert combine(readings, NOW, 600, min_sources=2).price == pytest.approx(100.05)
    with pytest.raises(Refused, match=r"2 of 3 sources agree, 3 required \(a=ok, b=ok, c=error\)") as info:
        combine(readings, NOW, 600, min_sources=3)
    assert [h.status for h in info.value.health] == [OK, OK, ERROR]


def test_two_sources_that_disagree_are_both_outliers():
    with pytest.raises(Refused) as info:
        combine([("a", obs(100.0)), ("b", obs(120.0))], NOW, 600, min_sources=1)
    assert [h.status for h in info.value.health] == [OUTLIER, OUTLIER]


def test_no_sources_is_refused():
    with pytest.raises(Refused, match="no sources"):
        combine([], NOW, 600)


def test_min_sources_must_be_positive():
    with pytest.raises(ValueError):
        combine([("a", obs(1.0))], NOW, 600, min_sources=0)


def test_poll_turns_failures_into_readings(replay_exchange):
    import ccxt

    good = ExchangeSource(replay_exchange("binance"), "ETH/USDT")
    other = ExchangeSource(replay_exchange("kraken"), "ETH/USDT")
    broken = ExchangeSource(
        replay_exchange("binance", fail={"fetch_order_book": ccxt.ExchangeNotAvailable("x")}), "ETH/USDT"
    )
    readings = poll([good, other, broken])
    assert [name for name, _ in readings] == [good.name, other.name, broken.name]
    assert isinstance(readings[2][1], Exception)
    now = max(r.ts for _, r in readings[:2])
    agg = combine(readings, now, max_age=3 * 3_600, min_sources=2)
    assert [h.status for h in agg.health] == [OK, OK, ERROR]
    assert (
        min(readings[0][1].price, readings[1][1].price)
        <= agg.price
        <= max(readings[0][1].price, readings[1][1].price)
    )
