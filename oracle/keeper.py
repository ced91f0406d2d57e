"""The running risk keeper: fetch observations, compute metrics, let the policy decide, send one post.

    ballast keeper run --network ethereum:local:foundry --account keeper --oracle 0xOracle \\
        --asset WETH=1 --source WETH=pool:0xPool --source WETH=ccxt:binance:ETH/USDT --interval 60

Every tick, for every asset: poll its sources and combine them (`oracle.aggregate`: median, outlier
rejection, refusal below `--min-sources`); estimate sigma exactly as `ballast backtest` does
(`oracle.metrics.measure` over the candles of a source that has them: CSV replay, exchange) or, with
pool-only sources, the same fast-up/slow-down EWMA over the keeper's own price samples; depth from the
sources (pool reserves, order book) or else the volume proxy. Then read what the oracle holds,
`oracle.policy.plan` picks what is due (deviation / heartbeat) clipped to the guardrails, and all
due assets go out in one `RiskOracle.post` through `oracle.chain.Sender`. Right after each mined post the
keeper sends `poke()` to every market given with `--poke` (same Sender: nonces, fee bumps, dry run), so
that their maintenance ramps move with the new data at once; a failed poke is logged and counted, not fatal.

A CSV replay maps candle time onto chain time: the first replayed bar is observed at the chain's time
when the keeper starts, later bars at that time plus their distance from the first. On a local network
the keeper moves the node's clock forward to each bar (`--warp`, default there) and `--speed` paces
the replay (simulated seconds per wall second); elsewhere it waits until the chain has caught up.
"""

from __future__ import annotations

import logging
import math
import signal
import sys
import threading
import time
from dataclasses import dataclass, field

import click
import numpy as np
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak
from web3 import Web3
from web3.exceptions import ContractLogicError

from oracle import metrics, model, policy
from oracle.aggregate import OK, Aggregate, Refused, combine, poll
from oracle.chain import Rpc, Sender, load_account, resolve_network
from oracle.errors import BallastError
from oracle.logs import configure, emit
from oracle.sources.base import SourceExhausted

WAD = model.WAD
DEFAULT_SIGMA0 = 0.8  # annual sigma assumed before there is any history (conservative for crypto)
DEADLINE_WINDOW = 600  # seconds a post stays valid after it is built


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


POST_SELECTOR = _selector("post(uint256,uint256,uint256[])")
METRICS_SELECTOR = _selector("metrics(uint256)")
GUARD_SELECTOR = _selector("guard_params()")
ASSET_ID_SELECTOR = _selector("asset_id(address)")
IS_KEEPER_SELECTOR = _selector("is_keeper(address)")
DECIMALS_SELECTOR = _selector("decimals()")
POKE_SELECTOR = _selector("poke()")
MARKET_ORACLE_SELECTOR = _selector("ORACLE()")


def encode_post(observed_at: int, deadline: int, words: list[int]) -> bytes:
    """Calldata of `RiskOracle.post(observed_at, deadline, updates)`."""
    return POST_SELECTOR + abi_encode(["uint256", "uint256", "uint256[]"], [observed_at, deadline, words])


# --- per-asset state ------------------------------------------------------------------------------


@dataclass
class Asset:
    """One collateral asset the keeper posts: its oracle id, its sources and what it has seen."""

    label: str  # token address or a name for logs
    asset_id: int
    sources: list = field(default_factory=list)
    collateral_decimals: int = 18
    ts: list[int] = field(default_factory=list)  # history of combined observations (seconds)
    prices: list[float] = field(default_factory=list)
    last: Aggregate | None = None

    def record(self, ts: int, price: float) -> None:
        if self.ts and ts <= self.ts[-1]:
            return  # the same observation again (slow source): keep the series strictly increasing
        self.ts.append(ts)
        self.prices.append(price)


@dataclass
class Settings:
    interval: float = 60.0  # seconds between ticks (simulated seconds in a replay)
    max_age: float = 3 * 3_600  # a source older than this is silent
    min_sources: int = 1
    max_deviation: float = 0.02
    loan_decimals: int = 18
    sigma0: float = DEFAULT_SIGMA0  # prior for sources without candles, before samples accumulate
    estimator: metrics.EstimatorParams = field(default_factory=metrics.EstimatorParams)
    history: int = 24 * 30  # observations / bars the estimator looks at
    warmup_bars: int = 24  # candle sources: bars needed before the first post
    policy: policy.PolicyParams = field(default_factory=policy.PolicyParams)


# --- clocks ---------------------------------------------------------------------------------------


class LiveClock:
    """Observations carry their own time; the keeper sleeps `interval` wall seconds between ticks."""

    replay = False

    def __init__(self, interval: float):
        self.interval = interval

    def wait(self, stop: threading.Event) -> None:
        stop.wait(self.interval)


class ReplayClock:
    """Maps candle time onto chain time: observed_at = anchor + (bar_ts - first_bar_ts).

    `warp` (local networks): mine an empty block at the mapped time so the post lands there; `speed`
    paces the replay in wall time (`period / speed` seconds per bar, 0 = as fast as the node goes).
    Without warp (a public testnet) chain time is real time: the keeper waits until the chain has
    reached each bar's mapped time, so an hourly file posts once an hour whatever `speed` says."""

    replay = True

    def __init__(self, rpc: Rpc, speed: float, warp: bool, period: float = 3_600):
        self.rpc = rpc
        self.speed = speed
        self.warp = warp
        self.period = period
        self.anchor: int | None = None
        self.first_ts: int | None = None

    def map(self, bar_ts: int) -> int:
        if self.anchor is None:
            self.anchor = int(self.rpc.block_timestamp())
            self.first_ts = bar_ts
        return self.anchor + (bar_ts - int(self.first_ts or bar_ts))

    def reach(self, observed_at: int, stop: threading.Event) -> bool:
        """Bring chain time to `observed_at`; False when stopped first."""
        now = int(self.rpc.block_timestamp())
        if now >= observed_at:
            return True
        if self.warp:
            self.rpc.raw("evm_mine", [observed_at])
            return True
        while not stop.is_set():
            now = int(self.rpc.block_timestamp())
            if now >= observed_at:
                return True
            stop.wait(min(5.0, max(0.2, observed_at - now)))
        return False

    def wait(self, stop: threading.Event) -> None:
        """One bar of simulated time: `period / speed` wall seconds (none at speed 0)."""
        stop.wait(self.period / self.speed if self.speed > 0 else 0)


# --- Prometheus -----------------------------------------------------------------------------------


class Telemetry:
    """Prometheus metrics of one keeper (own registry, so several keepers can live in one process)."""

    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge

        self.registry = CollectorRegistry()
        self.posts = Counter("ballast_keeper_posts", "Posts mined", registry=self.registry)
        self.pokes = Counter("ballast_keeper_pokes", "Market pokes mined", ["market"], registry=self.registry)
        self.updates = Counter("ballast_keeper_asset_updates", "Asset updates posted", ["asset"],
                               registry=self.registry)  # fmt: skip
        self.failures = Counter("ballast_keeper_failures", "Failed ticks", ["kind"], registry=self.registry)
        self.last_post = Gauge("ballast_keeper_last_post_timestamp", "Wall time of the last mined post",
                               registry=self.registry)  # fmt: skip
        self.last_observed = Gauge("ballast_keeper_last_observed_at", "observed_at of the last post",
                                   registry=self.registry)  # fmt: skip
        self.sigma = Gauge("ballast_keeper_sigma", "Measured annual sigma", ["asset"], registry=self.registry)
        self.depth = Gauge(
            "ballast_keeper_depth", "Measured depth, loan tokens", ["asset"], registry=self.registry
        )
        self.price = Gauge("ballast_keeper_price", "Combined price", ["asset"], registry=self.registry)
        self.source_ok = Gauge("ballast_keeper_source_ok", "1 when the source was used", ["asset", "source"],
                               registry=self.registry)  # fmt: skip

    def serve(self, port: int, addr: str = "127.0.0.1"):
        """Expose /metrics on addr:port; returns the server (call .shutdown() to stop it)."""
        from prometheus_client import start_http_server

        try:
            server, _thread = start_http_server(port, addr=addr, registry=self.registry)
        except OSError as exc:
            raise BallastError(f"cannot serve metrics on {addr}:{port}: {exc.strerror or exc}") from None
        return server


# --- the keeper -----------------------------------------------------------------------------------


@dataclass
class TickResult:
    posted: bool
    observed_at: int | None = None
    updates: list = field(default_factory=list)
    tx_hash: str | None = None
    refused: dict = field(default_factory=dict)  # asset label -> reason
    finished: bool = False  # a replay ran out of bars
    warming: bool = False  # a candle source has not enough bars yet
    pokes: dict = field(default_factory=dict)  # market -> poke tx hash (None: dry run or failed)


class Keeper:
    def __init__(self, sender: Sender, oracle: str, assets: list[Asset], settings: Settings, clock=None,
                 telemetry: Telemetry | None = None, pokes: list[str] | None = None):  # fmt: skip
        self.sender = sender
        self.rpc = sender.rpc
        self.oracle = Web3.to_checksum_address(oracle)
        self.assets = assets
        self.settings = settings
        self.clock = clock or LiveClock(settings.interval)
        self.telemetry = telemetry or Telemetry()
        self.stop = threading.Event()
        self._warming = False
        self.pokes = [Web3.to_checksum_address(m) for m in pokes or []]  # markets poked after each post

    # --- reads

    def _view(self, data: bytes, types: list[str]) -> tuple:
        raw = self.rpc.eth_call({"to": self.oracle, "data": "0x" + data.hex()})
        if not raw:
            raise BallastError(f"no RiskOracle at {self.oracle}")
        return tuple(abi_decode(types, raw))

    def posted(self, asset_id: int) -> policy.Posted:
        price, sigma, depth, at = self._view(
            METRICS_SELECTOR + abi_encode(["uint256"], [asset_id]), ["uint256"] * 4
        )
        return policy.Posted(price, sigma, depth, at)

    def guard_params(self) -> model.GuardParams:
        return model.GuardParams(*self._view(GUARD_SELECTOR, ["uint256"] * 4))

    def check_setup(self) -> None:
        """Fail early with one line: oracle missing, account not a keeper, asset ids that do not match."""
        (is_keeper,) = self._view(
            IS_KEEPER_SELECTOR + abi_encode(["address"], [self.sender.address]), ["bool"]
        )
        if not is_keeper and not self.sender.dry_run:
            raise BallastError(f"account {self.sender.address} is not a keeper of the oracle {self.oracle}")
        for asset in self.assets:
            if Web3.is_address(asset.label):
                (aid,) = self._view(ASSET_ID_SELECTOR + abi_encode(["address"], [asset.label]), ["uint256"])
                if aid != asset.asset_id:
                    raise BallastError(
                        f"asset {asset.label} has id {aid} in the oracle, not {asset.asset_id}"
                    )
                asset.collateral_decimals = self._decimals(asset.label, asset.collateral_decimals)
        for market in self.pokes:
            try:
                raw = self.rpc.eth_call({"to": market, "data": "0x" + MARKET_ORACLE_SELECTOR.hex()})
            except (ValueError, ContractLogicError):
                raw = b""
            if len(raw) != 32:
                raise BallastError(f"--poke {market} is not a Ballast market")
            reads = Web3.to_checksum_address(abi_decode(["address"], raw)[0])
            if reads != self.oracle:
                raise BallastError(f"--poke {market} reads the oracle {reads}, not {self.oracle}")

    def _decimals(self, token: str, default: int) -> int:
        try:
            raw = self.rpc.eth_call(
                {"to": Web3.to_checksum_address(token), "data": "0x" + DECIMALS_SELECTOR.hex()}
            )
            return int(abi_decode(["uint8"], raw)[0]) if raw else default
        except (ValueError, OverflowError):
            return default

    # --- measurement

    def observe(self, asset: Asset, now: int) -> Aggregate:
        readings = poll(asset.sources)
        if readings and all(isinstance(r, SourceExhausted) for _, r in readings):
            raise SourceExhausted(str(readings[0][1]))
        if self.clock.replay:
            # replayed bars are judged against their own (mapped) time, not against the wall clock
            now = max((r.ts for _, r in readings if not isinstance(r, Exception)), default=now)
        try:
            agg = combine(readings, now, self.settings.max_age, self.settings.min_sources,
                          self.settings.max_deviation)  # fmt: skip
        except Refused as exc:
            self._report(asset, exc.health)
            raise
        self._report(asset, agg.health)
        asset.last = agg
        asset.record(agg.ts, agg.price)
        del asset.ts[: -self.settings.history], asset.prices[: -self.settings.history]
        return agg

    def _report(self, asset: Asset, health) -> None:
        for h in health:
            self.telemetry.source_ok.labels(asset.label, h.source).set(1 if h.status == OK else 0)
            if h.status != OK:
                emit("source_unhealthy", logging.WARNING, asset=asset.label, source=h.source, status=h.status,
                     detail=h.detail)  # fmt: skip

    def _candles(self, asset: Asset):
        """The newest bars of the first source that keeps candles (CSV replay, exchange) and was used in
        this round (a silent or outlying exchange does not get to set sigma either), or None."""
        used = {h.source for h in asset.last.health if h.status == OK} if asset.last else set()
        for source in asset.sources:
            history = getattr(source, "history", None)
            if history is None or source.name not in used:
                continue
            try:
                candles = history()
            except Exception as exc:  # noqa: BLE001 - an exchange hiccup: fall back to our own samples
                emit("history_failed", logging.WARNING, asset=asset.label, source=source.name, error=str(exc))
                continue
            return candles[-self.settings.history :]
        return None

    def estimate(self, asset: Asset, agg: Aggregate) -> tuple[float, float | None] | None:
        """(annual sigma, depth in loan tokens) now; None while a candle source is warming up.

        With candles: `oracle.metrics.measure`, exactly what `ballast backtest` replays (sigma from the
        fast-up/slow-down EWMA with bar ranges, depth proxy from volume). Without: the same EWMA over the
        keeper's own samples of the combined price, starting from the `sigma0` prior. Depth from the
        sources (pool reserves, order book) when they know it, else the volume proxy."""
        est = self.settings.estimator
        candles = self._candles(asset)
        if candles is not None and len(candles) > 0:
            if len(candles) < self.settings.warmup_bars:
                self._warming = True
                emit("warming_up", logging.DEBUG, asset=asset.label, bars=len(candles))
                return None
            sigma_series, depth_series = metrics.measure(candles, est)
            sigma, proxy = float(sigma_series[-1]), float(depth_series[-1])
        else:
            series = metrics.ewma_vol(np.array(asset.prices), np.array(asset.ts), est.half_life_up,
                                      est.half_life_down, sigma0=self.settings.sigma0)  # fmt: skip
            sigma, proxy = float(series[-1]), None
        return sigma, (agg.depth if agg.depth is not None else proxy)

    def measured(self, asset: Asset, agg: Aggregate) -> policy.Measured | None:
        estimate = self.estimate(asset, agg)
        if estimate is None:
            return None
        sigma, depth = estimate
        self.telemetry.sigma.labels(asset.label).set(sigma)
        self.telemetry.price.labels(asset.label).set(agg.price)
        if depth is None or not math.isfinite(depth) or depth <= 0 or not math.isfinite(sigma):
            emit("no_depth", logging.WARNING, asset=asset.label, sigma=sigma, depth=depth)
            return None
        self.telemetry.depth.labels(asset.label).set(depth)
        scale = 10 ** (self.settings.loan_decimals - asset.collateral_decimals)
        return policy.Measured(
            price=max(1, round(agg.price * scale * WAD)),
            sigma=round(sigma * WAD),
            depth=max(1, round(depth * 10**self.settings.loan_decimals)),
        )

    # --- one round

    def tick(self) -> TickResult:
        self._warming = False
        chain_now = int(self.rpc.block_timestamp())
        measured: dict[int, policy.Measured] = {}
        refused: dict[str, str] = {}
        times: list[int] = []
        for asset in self.assets:
            try:
                agg = self.observe(asset, chain_now)
            except Refused as exc:
                refused[asset.label] = exc.reason
                self.telemetry.failures.labels("refused").inc()
                emit("asset_refused", logging.WARNING, asset=asset.label, reason=exc.reason)
                continue
            except SourceExhausted:
                return TickResult(False, refused=refused, finished=True)
            m = self.measured(asset, agg)
            if m is not None:
                measured[asset.asset_id] = m
                times.append(agg.ts)
        if not measured:
            return TickResult(False, refused=refused, warming=self._warming)
        if self.clock.replay:
            observed_at = self.clock.map(min(times))
            if not self.clock.reach(observed_at, self.stop):
                return TickResult(False, refused=refused)
        else:
            observed_at = min(min(times), chain_now)  # the oracle refuses observations from the future
        posted = {aid: self.posted(aid) for aid in measured}
        batch = policy.plan(posted, measured, observed_at, self.settings.policy, self.guard_params())
        if not batch:
            emit("nothing_due", observed_at=observed_at)
            return TickResult(False, observed_at, refused=refused)
        deadline = max(observed_at, int(self.rpc.block_timestamp())) + DEADLINE_WINDOW
        result = self.sender.submit(
            self.oracle, encode_post(observed_at, deadline, batch.words), label="post"
        )
        updates = [{"asset_id": u.asset_id, "price": u.price, "sigma": u.sigma, "depth": u.depth,
                    "reasons": list(u.reasons)} for u in batch.updates]  # fmt: skip
        if not result.dry_run:
            self.telemetry.posts.inc()
            self.telemetry.last_post.set(time.time())
            self.telemetry.last_observed.set(observed_at)
            for u in batch.updates:
                self.telemetry.updates.labels(str(u.asset_id)).inc()
        emit("posted" if not result.dry_run else "post_planned", observed_at=observed_at, tx=result.tx_hash,
             updates=updates, gas_used=result.gas_used)  # fmt: skip
        return TickResult(True, observed_at, updates, result.tx_hash, refused, pokes=self.poke())

    def poke(self) -> dict:
        """`poke()` every `--poke` market (after a post): market -> tx hash (None in a dry run or when
        the poke failed). A failure is logged (`poke_failed`) and counted, never fatal: the post is in."""
        done: dict = {}
        for market in self.pokes:
            try:
                result = self.sender.submit(market, POKE_SELECTOR, label="poke")
            except BallastError as exc:
                self.telemetry.failures.labels("poke").inc()
                emit("poke_failed", logging.WARNING, market=market, error=exc.format_message())
                done[market] = None
                continue
            done[market] = result.tx_hash
            if not result.dry_run:
                self.telemetry.pokes.labels(market).inc()
                emit("poked", market=market, tx=result.tx_hash, gas_used=result.gas_used)
        return done

    def run(self, once: bool = False, max_failures: int = 3) -> int:
        """Tick until stopped; returns the process exit code. Faults that repeat `max_failures` times in
        a row (or once with `once`) are fatal and re-raised as BallastError."""
        self.check_setup()
        emit("keeper_started", oracle=self.oracle, account=self.sender.address, url=self.rpc.url,
             assets=[a.label for a in self.assets], dry_run=self.sender.dry_run)  # fmt: skip
        failures = 0
        while not self.stop.is_set():
            try:
                result = self.tick()
                failures = 0
            except BallastError as exc:
                failures += 1
                self.telemetry.failures.labels("tick").inc()
                emit("tick_failed", logging.ERROR, error=exc.format_message(), consecutive=failures)
                if once or failures >= max_failures:
                    raise
                self.clock.wait(self.stop)
                continue
            if result.finished:
                emit("replay_finished")
                break
            if result.warming and self.clock.replay:
                continue  # a replay skips through its warm-up bars without waiting
            if once:
                if result.refused and not result.posted:
                    raise BallastError("; ".join(f"{k}: {v}" for k, v in result.refused.items()))
                break
            self.clock.wait(self.stop)
        emit("keeper_stopped")
        return 0

    def install_signal_handlers(self) -> None:
        def handler(signum, _frame):
            emit("signal", signal=signal.Signals(signum).name)
            self.stop.set()

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)


# --- CLI ------------------------------------------------------------------------------------------


def parse_assets(specs: tuple[str, ...]) -> list[Asset]:
    assets, seen = [], set()
    for spec in specs:
        label, sep, ident = spec.partition("=")
        if not sep or not label or not ident.isdigit() or int(ident) < 1:
            raise BallastError(f"bad --asset '{spec}' (expected TOKEN=ID with ID >= 1)")
        if int(ident) in seen:
            raise BallastError(f"asset id {ident} given twice")
        seen.add(int(ident))
        assets.append(Asset(label, int(ident)))
    if not assets:
        raise BallastError("no --asset given")
    return assets


def build_source(spec: str, rpc: Rpc, collateral: str | None):
    kind, _, rest = spec.partition(":")
    if kind == "csv" and rest:
        from oracle.sources.csv import CsvReplaySource

        return CsvReplaySource.from_path(rest)
    if kind == "pool" and Web3.is_address(rest):
        from oracle.sources.pool import PoolSource

        return PoolSource(
            rpc, rest, collateral=collateral if collateral and Web3.is_address(collateral) else None
        )
    if kind == "ccxt" and rest.count(":") == 1:
        from oracle.sources.exchange import ExchangeSource

        exchange_id, symbol = rest.split(":")
        try:
            return ExchangeSource.connect(exchange_id, symbol)
        except ValueError as exc:
            raise BallastError(str(exc)) from None
    raise BallastError(f"bad --source '{spec}' (expected csv:FILE, pool:ADDRESS or ccxt:EXCHANGE:SYMBOL)")


def window(source, start: str | None, bars: int | None):
    """Restrict a CSV replay to the bars from `start` (ISO date or unix seconds) on, at most `bars` of them."""
    from datetime import datetime, timezone

    from oracle.sources.csv import CsvReplaySource

    candles = source.candles
    first = 0
    if start:
        try:
            ts = (
                int(start)
                if start.isdigit()
                else int(datetime.fromisoformat(start).replace(tzinfo=timezone.utc).timestamp())
            )
        except ValueError:
            raise BallastError(
                f"bad --replay-start '{start}' (expected YYYY-MM-DD[THH:MM] or unix seconds)"
            ) from None
        first = int(np.searchsorted(candles.ts, ts))
    last = len(candles) if bars is None else min(len(candles), first + bars)
    if last - first < 1:
        raise BallastError(f"{source.name}: no bars in the replay window")
    return CsvReplaySource(candles[first:last], name=source.name)


def attach_sources(assets: list[Asset], specs: tuple[str, ...], rpc: Rpc) -> None:
    by_label = {a.label.lower(): a for a in assets}
    for spec in specs:
        head, sep, tail = spec.partition("=")
        if sep and head.lower() in by_label:
            asset, spec = by_label[head.lower()], tail
        elif len(assets) == 1:
            asset = assets[0]
        else:
            raise BallastError(f"--source '{spec}' must name its asset (TOKEN=SOURCE) when there are several")
        asset.sources.append(build_source(spec, rpc, asset.label))
    for asset in assets:
        if not asset.sources:
            raise BallastError(f"asset {asset.label} has no --source")


@click.group()
def command():
    """The risk keeper: measures volatility and depth and posts them to the RiskOracle."""


@command.command()
@click.option(
    "--network",
    required=True,
    help="Ape network choice, e.g. ethereum:local:foundry or ethereum:sepolia:node.",
)
@click.option(
    "--account",
    "account_alias",
    required=True,
    help="Ape account alias (keystore; passphrase from BALLAST_PASSPHRASE) or TEST::N on local networks.",
)
@click.option("--oracle", "oracle_address", required=True, help="RiskOracle address.")
@click.option(
    "--asset",
    "asset_specs",
    multiple=True,
    required=True,
    metavar="TOKEN=ID",
    help="Collateral token (address or label) and its oracle asset id; repeat per asset.",
)
@click.option(
    "--source",
    "source_specs",
    multiple=True,
    required=True,
    metavar="[TOKEN=]SPEC",
    help="csv:FILE | pool:ADDRESS | ccxt:EXCHANGE:SYMBOL; repeat; prefix TOKEN= with several assets.",
)
@click.option(
    "--rpc",
    "rpc_urls",
    multiple=True,
    metavar="URL",
    help="RPC endpoint; repeat for failover in order (default: the network's configured URI).",
)
@click.option(
    "--interval",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds between ticks (a replay: simulated seconds, see --speed).",
)
@click.option("--once", is_flag=True, help="One tick, then exit (non-zero if nothing could be measured).")
@click.option("--dry-run", is_flag=True, help="Build, simulate and log the post; send nothing.")
@click.option(
    "--metrics-port", type=click.IntRange(1, 65535), default=None, help="Serve Prometheus metrics here."
)
@click.option(
    "--metrics-addr", default="127.0.0.1", show_default=True, help="Address the metrics server binds."
)
@click.option(
    "--min-sources",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Sources that must agree before an asset is posted.",
)
@click.option(
    "--max-deviation",
    default=0.02,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Relative distance from the median beyond which a source is an outlier.",
)
@click.option(
    "--max-age",
    default=3 * 3_600.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="Seconds after which a source's newest observation counts as silent.",
)
@click.option(
    "--loan-decimals",
    default=18,
    show_default=True,
    type=click.IntRange(0, 36),
    help="Decimals of the loan token (prices and depth are posted in its raw units).",
)
@click.option(
    "--replay-start", default=None, help="CSV replay: first bar (YYYY-MM-DD[THH:MM] UTC or unix s)."
)
@click.option(
    "--replay-bars", default=None, type=click.IntRange(min=1), help="CSV replay: at most this many bars."
)
@click.option(
    "--warmup-bars",
    default=24,
    show_default=True,
    type=click.IntRange(min=1),
    help="Candle sources: bars the estimator needs before the first post (a replay skips through them).",
)
@click.option(
    "--speed",
    default=3_600.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Replay: simulated seconds per wall second (3600 = one hourly bar per second; 0 = no wait).",
)
@click.option(
    "--warp/--no-warp",
    default=None,
    help="Replay: move the node's clock to each bar (default: on for local networks).",
)
@click.option(
    "--stuck-after",
    default=60.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds before an unmined post is replaced with bumped fees (+12.5%).",
)
@click.option(
    "--max-fee-gwei",
    default=None,
    type=click.FloatRange(min=0, min_open=True),
    help="Never bid more than this max fee per gas; a post still stuck there is a fault.",
)
@click.option(
    "--poke",
    "poke_markets",
    multiple=True,
    metavar="MARKET",
    help="Market to poke() right after each post (moves its maintenance ramp); repeat per market.",
)
@click.option(
    "--max-failures",
    default=3,
    show_default=True,
    type=click.IntRange(min=1),
    help="Consecutive failed ticks before the keeper exits non-zero.",
)
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
def run(network, account_alias, oracle_address, asset_specs, source_specs, rpc_urls, interval, once, dry_run,
        metrics_port, metrics_addr, min_sources, max_deviation, max_age, loan_decimals, replay_start, replay_bars, warmup_bars, speed, warp,
        stuck_after, max_fee_gwei, poke_markets, max_failures, log_level):  # fmt: skip
    """Run the keeper loop (SIGINT/SIGTERM stop it after the current tick)."""
    configure(log_level)
    choice = resolve_network(network)
    if not Web3.is_address(oracle_address):
        raise BallastError(f"--oracle '{oracle_address}' is not an address")
    for market in poke_markets:
        if not Web3.is_address(market):
            raise BallastError(f"--poke '{market}' is not an address")
    urls = list(rpc_urls) or ([choice.default_uri] if choice.default_uri else [])
    if not urls:
        raise BallastError(f"no RPC URL known for network '{network}': pass --rpc URL")
    rpc = Rpc(urls, chain_id=choice.chain_id)
    rpc.chain_id()  # unreachable RPC / wrong chain: one line now, not in the loop
    account = load_account(account_alias, choice)
    assets = parse_assets(asset_specs)
    attach_sources(assets, source_specs, rpc)
    settings = Settings(interval=interval, max_age=max_age, min_sources=min_sources, max_deviation=max_deviation,
                        loan_decimals=loan_decimals, warmup_bars=warmup_bars)  # fmt: skip
    for asset in assets:
        asset.sources = [
            window(s, replay_start, replay_bars) if type(s).__name__ == "CsvReplaySource" else s
            for s in asset.sources
        ]
    replays = [s for a in assets for s in a.sources if type(s).__name__ == "CsvReplaySource"]
    if replays:
        period = replays[0].candles.period
        clock = ReplayClock(rpc, speed, choice.is_local if warp is None else warp, period)
    else:
        clock = LiveClock(interval)
    fee_cap = None if max_fee_gwei is None else int(max_fee_gwei * 10**9)
    sender = Sender(account, rpc, dry_run=dry_run, stuck_after=stuck_after, max_fee_cap=fee_cap)
    keeper = Keeper(sender, oracle_address, assets, settings, clock, pokes=list(poke_markets))
    if metrics_port:
        keeper.telemetry.serve(metrics_port, metrics_addr)
    keeper.install_signal_handlers()
    sys.exit(keeper.run(once=once, max_failures=max_failures))
