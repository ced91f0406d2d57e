"""Several sources, one answer: the median of the fresh readings after rejecting outliers.

Each source gets a health verdict every round:

- ``ok``       fresh, within `max_deviation` of the median, used;
- ``outlier``  fresh but its price is further than `max_deviation` (relative) from the median of the
               fresh readings: reported, not trusted;
- ``silent``   its newest observation is older than `max_age` seconds (or from the future beyond
               `max_skew`): a feed that stopped moving must not vote;
- ``error``    it raised (RPC down, exchange error, replay finished).

When fewer than `min_sources` are ``ok`` the round is refused (`Refused`, with the reason and the
verdicts): the keeper then posts nothing rather than something few sources vouch for. The price is
the median of the ok readings; the depth the median of the ok readings that know a depth (None if
none does). The reference median for the outlier test is over all fresh readings, so one wild source
cannot drag it (with two sources that disagree there is no majority and both are outliers).

`Aggregate.spread` is the disagreement of the sources that were used: (max - min) / median of their
prices (0 with one source). The keeper reports it (log, metric, and the `meta` of its signed report),
as the oracle stores the spread of the signers' prices.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from oracle.sources.base import Observation

OK, OUTLIER, SILENT, ERROR = "ok", "outlier", "silent", "error"


@dataclass(frozen=True)
class Health:
    source: str
    status: str  # ok | outlier | silent | error
    observation: Observation | None = None
    deviation: float | None = None  # relative distance of its price from the reference median
    detail: str = ""


@dataclass(frozen=True)
class Aggregate:
    ts: int  # newest ts among the ok readings
    price: float
    depth: float | None
    health: list[Health] = field(default_factory=list)

    @property
    def used(self) -> int:
        return sum(1 for h in self.health if h.status == OK)

    @property
    def spread(self) -> float:
        """(max - min) / median of the prices of the sources used (0.0 with fewer than two)."""
        return spread([h.observation.price for h in self.health if h.status == OK and h.observation])


def spread(prices: Sequence[float]) -> float:
    """(max - min) / median of `prices` (0.0 for fewer than two)."""
    if len(prices) < 2:
        return 0.0
    return (max(prices) - min(prices)) / statistics.median(prices)


class Refused(Exception):
    """Too few sources agree; carries the verdicts so the caller can log them."""

    def __init__(self, reason: str, health: list[Health]):
        super().__init__(reason)
        self.reason = reason
        self.health = health


def judge(
    readings: Sequence[tuple[str, Observation | Exception]],
    now: int,
    max_age: float,
    max_deviation: float = 0.02,
    max_skew: float = 300,
) -> list[Health]:
    """Verdict per source for (name, observation or the exception it raised)."""
    verdicts: dict[int, Health] = {}
    fresh: list[tuple[int, str, Observation]] = []
    for i, (name, reading) in enumerate(readings):
        if isinstance(reading, BaseException):
            verdicts[i] = Health(name, ERROR, detail=f"{type(reading).__name__}: {reading}")
            continue
        if not (reading.price > 0):
            verdicts[i] = Health(name, ERROR, reading, detail=f"invalid price {reading.price!r}")
            continue
        age = now - reading.ts
        if age > max_age:
            verdicts[i] = Health(name, SILENT, reading, detail=f"{int(age)} s old (limit {int(max_age)})")
            continue
        if -age > max_skew:
            verdicts[i] = Health(name, SILENT, reading, detail=f"{int(-age)} s in the future")
            continue
        fresh.append((i, name, reading))
    if fresh:
        reference = statistics.median(obs.price for _, _, obs in fresh)
        for i, name, obs in fresh:
            dev = abs(obs.price - reference) / reference
            status = OK if dev <= max_deviation else OUTLIER
            detail = "" if status == OK else f"{dev:.2%} from median {reference:.6g}"
            verdicts[i] = Health(name, status, obs, dev, detail)
    return [verdicts[i] for i in range(len(readings))]


def combine(
    readings: Sequence[tuple[str, Observation | Exception]],
    now: int,
    max_age: float,
    min_sources: int = 1,
    max_deviation: float = 0.02,
    max_skew: float = 300,
) -> Aggregate:
    """Median of the agreeing fresh readings; raises `Refused` when fewer than `min_sources` agree."""
    if min_sources < 1:
        raise ValueError("min_sources must be at least 1")
    health = judge(readings, now, max_age, max_deviation, max_skew)
    ok = [h.observation for h in health if h.status == OK and h.observation is not None]
    if len(ok) < min_sources:
        summary = ", ".join(f"{h.source}={h.status}" for h in health) or "no sources"
        raise Refused(f"{len(ok)} of {len(health)} sources agree, {min_sources} required ({summary})", health)
    depths = [o.depth for o in ok if o.depth is not None and o.depth > 0]
    return Aggregate(
        ts=max(o.ts for o in ok),
        price=float(statistics.median(o.price for o in ok)),
        depth=float(statistics.median(depths)) if depths else None,
        health=health,
    )


def poll(sources: Sequence, fetch: Callable | None = None) -> list[tuple[str, Observation | Exception]]:
    """Ask every source for `latest()`; an exception becomes that source's reading (never propagates)."""
    out: list[tuple[str, Observation | Exception]] = []
    for source in sources:
        try:
            out.append((source.name, fetch(source) if fetch else source.latest()))
        except Exception as exc:  # noqa: BLE001 - any failure of one source is that source's verdict
            out.append((source.name, exc))
    return out
