"""The running risk keeper: one operator of a keeper network.

    ballast keeper run --network ethereum:sepolia:node --account keeper1 --oracle 0xOracle \\
        --asset WETH=1 --source WETH=pool:0xPool --source WETH=ccxt:binance:ETH/USDT \\
        --metrics-port 9464 --peer http://keeper2.example:9464 --peer http://keeper3.example:9464

RiskOracle applies a batch only with the signatures of `quorum` of its signers (it takes the median of
each field), so no single key moves a market. Every keeper runs the same ROUND CLOCK: a round is
observed at `observed_at = chain time floored to --round-seconds`, and its reports are valid until
`deadline = observed_at + max(2 * --round-seconds, 60 s)`, so every honest keeper signs the same (observed_at,
deadline) without talking to the others. Each round, each keeper:

1. measures every asset once (its sources combined by median with outlier rejection, sigma and depth
   estimated as `ballast backtest` does) and reads what the oracle holds for each (the BASE of the
   round: the stored observation times), clips its values to the guardrails against that state
   (`oracle.policy.clip`), signs one report for all its assets (EIP-712, `oracle.reports.sign`) with
   the base, the round and the spread of its own sources in the report's `meta`, and serves it at
   `GET /report` beside `/metrics` (`oracle.peers`);
2. fetches its peers' reports of the round (`--peer URL`, repeatable) and checks each
   (`oracle.reports.check_report`: signature valid for this chain and oracle, signer in the oracle's
   set, same round, same assets, same base, accepted by the guardrails alone), then rejects outliers
   (`oracle.reports.select_agreeing`: a price further than half the oracle's `max_disagreement` from
   the median, a sigma or depth beyond a factor of it). A peer that is down, slow, behind or serves a
   report that does not verify or agree is left out, logged once per round (`peer_fault`) and counted
   (`ballast_keeper_peer_faults_total{peer,kind}`);
3. relays ONE batch when a quorum of reports agree and the posting policy finds something due on
   their medians (deviation, heartbeat) — but only in its TURN: the signers sorted by address take
   turns by round number (round mod n); the k-th after the turn's owner waits k * --turn-seconds of
   chain time before it relays (fallback), and the turn's owner waits until every peer answered or a
   third of a turn passed. Before relaying, and on every check, a keeper reads the oracle: a round
   that landed (the stored observation time reached it) is closed and nothing is sent; a relay that
   loses a race in the mempool ("report replayed") is logged, not fatal. Right after a mined post the
   relayer pokes every `--poke` market.

A CSV replay (`--source csv:FILE`) maps candle time onto chain time instead (one round per bar; only
for an oracle with quorum 1 and no peers: each keeper would map bars onto its own clock).

Units come from the chain: each asset id names a (collateral, loan token) pair in the oracle
(`asset_of`), and both tokens' decimals are read from them; prices go on-chain as
`model.price_from_human` (loan raw units per collateral raw unit at 1e36). A `--loan-decimals` that
disagrees with the loan token is refused.
"""

from __future__ import annotations

import logging
import math
import re
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import click
import numpy as np
from web3 import Web3
from web3.exceptions import BadFunctionCallOutput, ContractLogicError

from oracle import metrics, model, policy, reports
from oracle import peers as peerlib
from oracle.aggregate import OK, Aggregate, Refused, combine, poll
from oracle.chain import Rpc, Sender, contract_at, load_account, resolve_network, token_decimals
from oracle.config import config_option
from oracle.errors import BallastError
from oracle.logs import configure, emit
from oracle.sources.base import SourceExhausted

WAD = model.WAD
DEFAULT_SIGMA0 = 0.8  # annual sigma assumed before there is any history (conservative for crypto)
DEFAULT_ROUND_SECONDS = 60
DEFAULT_TURN_SECONDS = 15.0
DEADLINE_ROUNDS = 2  # a round's reports are valid for two round lengths after its observation time
MIN_DEADLINE = 60  # and for at least a minute (short test rounds still leave time to mine)
REPLAY_DEADLINE = 600  # seconds a replayed bar's report stays valid after chain time reached it
LANDED_REVERTS = ("oracle: report replayed", "oracle: observation not newer")
READ_ERRORS = (ContractLogicError, BadFunctionCallOutput, ValueError, OverflowError)
ZERO = "0x0000000000000000000000000000000000000000"
OFFLINE = Web3()  # encodes calldata; never connects
LABEL_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")

# Round outcomes (ballast_keeper_rounds_total{outcome})
RELAYED, LANDED, NOTHING_DUE, MISSED, PLANNED = "relayed", "landed", "nothing_due", "missed", "planned"


# --- the chain, behind small helpers (one place to adapt when the contracts move) --------------------


class OracleView:
    """Every read of the RiskOracle the keeper makes, through its compiled ABI."""

    def __init__(self, rpc: Rpc, address: str):
        self.rpc = rpc
        self.address = Web3.to_checksum_address(address)

    def _contract(self, w3: Web3):
        return contract_at(w3, "RiskOracle", self.address)

    def call(self, name: str, *args, block: str = "latest"):
        return self.rpc.call(
            lambda w3: getattr(self._contract(w3).functions, name)(*args).call(block_identifier=block)
        )

    def check(self, chain_id: int) -> None:
        """One line when the address is not a RiskOracle, or one for another chain or address."""
        code = self.rpc.call(lambda w3: w3.eth.get_code(self.address))
        if not code:
            raise BallastError(f"--oracle {self.address} is not a RiskOracle (no contract at that address)")
        try:
            domain = bytes(self.call("domain_separator"))
            self.call("quorum")
            self.call("signers")
        except READ_ERRORS:
            raise BallastError(f"--oracle {self.address} is not a RiskOracle") from None
        if domain != reports.domain_separator(chain_id, self.address):
            raise BallastError(
                f"--oracle {self.address} is not a RiskOracle of this version: its EIP-712 domain is not "
                f"('{reports.DOMAIN_NAME}', '{reports.DOMAIN_VERSION}', chain {chain_id}, itself)"
            )

    def signers(self) -> list[str]:
        return [Web3.to_checksum_address(a) for a in self.call("signers")]

    def quorum(self) -> int:
        return int(self.call("quorum"))

    def guard_params(self) -> model.GuardParams:
        return model.GuardParams(*(int(x) for x in self.call("guard_params")))

    def posted(self, asset_id: int, block: str = "latest") -> policy.Posted:
        price, sigma, depth, at, spread = (int(x) for x in self.call("metrics", asset_id, block=block))
        return policy.Posted(price, sigma, depth, at, spread)

    def asset_of(self, asset_id: int) -> tuple[str, str]:
        """(collateral, loan token) of an asset id; zero addresses for an unknown id."""
        collateral, loan = self.call("asset_of", asset_id)
        return Web3.to_checksum_address(collateral), Web3.to_checksum_address(loan)

    def post_data(self, batch: reports.Batch) -> bytes:
        """Calldata of `post(observed_at, deadline, signer_ids, signatures, words)`."""
        encoded = self._contract(OFFLINE).encode_abi("post", list(batch.args))
        return bytes.fromhex(encoded[2:])


class MarketView:
    """Every read of and call to a Market the keeper makes (its views may move to a lens contract)."""

    def __init__(self, rpc: Rpc):
        self.rpc = rpc

    def _contract(self, w3: Web3, market: str):
        return contract_at(w3, "Market", Web3.to_checksum_address(market))

    def oracle_of(self, market: str) -> str | None:
        """The RiskOracle a market reads, or None when the address is not a Ballast market."""
        if not self.rpc.call(lambda w3: w3.eth.get_code(Web3.to_checksum_address(market))):
            return None
        try:
            return Web3.to_checksum_address(
                self.rpc.call(lambda w3: self._contract(w3, market).functions.ORACLE().call())
            )
        except READ_ERRORS:
            return None

    def poke_data(self, market: str) -> bytes:
        return bytes.fromhex(self._contract(OFFLINE, market).encode_abi("poke", [])[2:])


# --- per-asset state ------------------------------------------------------------------------------


@dataclass
class Asset:
    """One asset (an oracle id: a collateral / loan token pair) the keeper reports, its sources and
    what it has seen. Token addresses and decimals are read from the chain (`Keeper.check_setup`)."""

    label: str  # what --asset called it: the collateral's address or a name (logs, --source prefixes)
    asset_id: int
    sources: list = field(default_factory=list)
    collateral: str | None = None
    loan: str | None = None
    collateral_decimals: int | None = None
    loan_decimals: int | None = None
    ts: list[int] = field(default_factory=list)  # history of combined observations (seconds)
    prices: list[float] = field(default_factory=list)
    last: Aggregate | None = None

    @property
    def key(self) -> str:
        """The asset's label in metrics: its oracle id, always."""
        return str(self.asset_id)

    def record(self, ts: int, price: float) -> None:
        if self.ts and ts <= self.ts[-1]:
            return  # the same observation again (slow source): keep the series strictly increasing
        self.ts.append(ts)
        self.prices.append(price)


@dataclass
class Settings:
    interval: float = 2.0  # seconds between the keeper's checks (a round has several)
    round_seconds: int = DEFAULT_ROUND_SECONDS  # the round clock every keeper of a network shares
    turn_seconds: float = DEFAULT_TURN_SECONDS  # chain seconds each fallback relayer waits after the last
    max_age: float = 3 * 3_600  # a source older than this is silent
    min_sources: int = 1
    max_deviation: float = 0.02
    loan_decimals: int | None = None  # the operator's expectation, checked against the loan tokens
    sigma0: float = DEFAULT_SIGMA0  # prior for sources without candles, before samples accumulate
    estimator: metrics.EstimatorParams = field(default_factory=metrics.EstimatorParams)
    history: int = 24 * 30  # observations / bars the estimator looks at
    warmup_bars: int = 24  # candle sources: bars needed before the first post
    policy: policy.PolicyParams = field(default_factory=policy.PolicyParams)
    peer_timeout: float = 2.0  # seconds a peer has to answer
    max_peer_ratio: float = 2.0  # a peer's sigma or depth beyond this factor of the median is an outlier


# --- clocks ---------------------------------------------------------------------------------------


class LiveClock:
    """Rounds follow chain time; the keeper checks every `interval` wall seconds."""

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
    """Prometheus metrics of one keeper (own registry, so several keepers can live in one process).
    Per-asset series are labelled by the oracle's asset id (`asset="1"`), per-peer ones by its URL."""

    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge

        r = self.registry = CollectorRegistry()
        self.posts = Counter("ballast_keeper_posts", "Batches this keeper relayed and saw mined", registry=r)
        self.pokes = Counter("ballast_keeper_pokes", "Market pokes mined", ["market"], registry=r)
        self.updates = Counter("ballast_keeper_asset_updates", "Asset updates relayed", ["asset"], registry=r)
        self.failures = Counter("ballast_keeper_failures", "Failures by kind", ["kind"], registry=r)
        self.rounds = Counter("ballast_keeper_rounds", "Rounds by outcome", ["outcome"], registry=r)
        self.signed = Counter("ballast_keeper_reports_signed", "Reports this keeper signed", registry=r)
        self.peer_faults = Counter(
            "ballast_keeper_peer_faults", "Rounds a peer's report was left out, by why", ["peer", "kind"],
            registry=r,
        )  # fmt: skip
        self.peer_up = Gauge("ballast_keeper_peer_up", "1 when the peer's last report was usable", ["peer"],
                             registry=r)  # fmt: skip
        self.agreeing = Gauge("ballast_keeper_agreeing_reports", "Agreeing reports of the current round",
                              registry=r)  # fmt: skip
        self.quorum = Gauge("ballast_keeper_quorum", "Signatures the oracle requires", registry=r)
        self.last_post = Gauge("ballast_keeper_last_post_timestamp", "Wall time of the last relayed post",
                               registry=r)  # fmt: skip
        self.last_observed = Gauge("ballast_keeper_last_observed_at", "observed_at of the last landed round",
                                   registry=r)  # fmt: skip
        self.sigma = Gauge("ballast_keeper_sigma", "Measured annual sigma", ["asset"], registry=r)
        self.depth = Gauge("ballast_keeper_depth", "Measured depth, loan tokens", ["asset"], registry=r)
        self.price = Gauge("ballast_keeper_price", "Combined price, loan tokens per collateral token",
                           ["asset"], registry=r)  # fmt: skip
        self.source_spread = Gauge("ballast_keeper_source_spread",
                                   "(max - min) / median of the prices of the sources used", ["asset"],
                                   registry=r)  # fmt: skip
        self.source_ok = Gauge("ballast_keeper_source_ok", "1 when the source was used", ["asset", "source"],
                               registry=r)  # fmt: skip

    def serve(self, port: int, addr: str = "127.0.0.1", book: peerlib.ReportBook | None = None):
        """Expose /metrics (and /report with a `book`) on addr:port; returns the server (.shutdown())."""
        return peerlib.serve(port, addr, self.registry, book)


# --- one round --------------------------------------------------------------------------------------


@dataclass
class Round:
    """What a keeper knows about one round."""

    observed_at: int
    deadline: int
    number: int
    opened_at: int = 0  # chain time when this keeper opened the round
    guard: model.GuardParams | None = None  # the oracle's guardrails, read when the round opened
    measured: dict[int, policy.Measured] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # asset label -> reason
    spreads: dict[int, float] = field(default_factory=dict)
    used: dict[int, int] = field(default_factory=dict)  # sources used per asset
    base: dict[int, int] = field(default_factory=dict)  # stored observed_at per asset, signed against
    own: reports.SignedReport | None = None
    peer_reports: dict[str, reports.SignedReport] = field(default_factory=dict)  # url -> report
    peer_status: dict[str, tuple[str, str]] = field(default_factory=dict)  # url -> (status, detail)
    outcome: str | None = None
    agreeing: int = 0
    tx_hash: str | None = None
    updates: list = field(default_factory=list)
    pokes: dict = field(default_factory=dict)


@dataclass
class TickResult:
    posted: bool  # this keeper relayed a batch (a dry run: planned one)
    observed_at: int | None = None
    updates: list = field(default_factory=list)
    tx_hash: str | None = None
    refused: dict = field(default_factory=dict)  # asset label -> reason
    finished: bool = False  # a replay ran out of bars
    warming: bool = False  # a candle source has not enough bars yet
    pokes: dict = field(default_factory=dict)  # market -> poke tx hash (None: dry run or failed)
    outcome: str | None = None  # the round's outcome once it is over (relayed, landed, nothing_due, missed)


class Keeper:
    def __init__(self, sender: Sender, oracle: str, assets: list[Asset], settings: Settings, clock=None,
                 telemetry: Telemetry | None = None, pokes: list[str] | None = None,
                 peers: list[str] | None = None):  # fmt: skip
        self.sender = sender
        self.rpc = sender.rpc
        self.oracle = Web3.to_checksum_address(oracle)
        self.view = OracleView(self.rpc, self.oracle)
        self.markets = MarketView(self.rpc)
        self.assets = assets
        self.settings = settings
        self.clock = clock or LiveClock(settings.interval)
        self.telemetry = telemetry or Telemetry()
        self.stop = threading.Event()
        self._warming = False
        self.pokes = [Web3.to_checksum_address(m) for m in pokes or []]  # markets poked after each post
        self.peers = [peerlib.report_url(p) for p in peers or []]
        self.book: peerlib.ReportBook | None = None
        self.signers: list[str] = []
        self.quorum = 0
        self.round: Round | None = None
        self._ready = False
        self._pool = ThreadPoolExecutor(max_workers=max(1, len(self.peers)), thread_name_prefix="peer")

    @property
    def address(self) -> str:
        return self.sender.address

    # --- setup

    def check_setup(self) -> None:
        """Fail early with one line: not a RiskOracle, account not a signer, quorum out of reach, asset
        ids unknown or not the named token, a --loan-decimals that disagrees, --poke not a market."""
        chain_id = self.sender.chain_id()
        self.view.check(chain_id)
        if self.book is None:
            self.book = peerlib.ReportBook(chain_id, self.oracle)
        self.refresh_signers()
        if self.address not in self.signers:
            raise BallastError(
                f"account {self.address} is not a signer of the oracle {self.oracle} "
                f"(signers: {', '.join(self.signers) or 'none'})"
            )
        if self.clock.replay and self.peers:
            raise BallastError(
                "--peer does not combine with a CSV replay (each keeper maps bars onto its own clock)"
            )
        if self.quorum > 1 + len(self.peers):
            raise BallastError(
                f"the oracle needs {self.quorum} signatures per batch: give at least {self.quorum - 1} --peer "
                f"(given {len(self.peers)})"
            )
        for asset in self.assets:
            self._check_asset(asset)
        for market in self.pokes:
            reads = self.markets.oracle_of(market)
            if reads is None:
                raise BallastError(f"--poke {market} is not a Ballast market")
            if reads != self.oracle:
                raise BallastError(f"--poke {market} reads the oracle {reads}, not {self.oracle}")
        self._ready = True

    def _check_asset(self, asset: Asset) -> None:
        collateral, loan = self.view.asset_of(asset.asset_id)
        if collateral == ZERO:
            raise BallastError(f"asset id {asset.asset_id} is not an asset of the oracle {self.oracle}")
        if Web3.is_address(asset.label) and Web3.to_checksum_address(asset.label) != collateral:
            raise BallastError(
                f"--asset {asset.label}={asset.asset_id}: the oracle's asset {asset.asset_id} is the collateral "
                f"{collateral} (against {loan}), not {asset.label}"
            )
        asset.collateral, asset.loan = collateral, loan
        asset.collateral_decimals = token_decimals(self.rpc, collateral)
        asset.loan_decimals = token_decimals(self.rpc, loan)
        expected = self.settings.loan_decimals
        if expected is not None and expected != asset.loan_decimals:
            raise BallastError(
                f"--loan-decimals {expected} disagrees with the loan token {loan} of asset {asset.asset_id} "
                f"({asset.loan_decimals} decimals, read from the chain; drop the flag)"
            )
        for source in asset.sources:
            bind = getattr(source, "bind", None)
            if bind is not None:
                try:
                    bind(collateral, loan)
                except Exception as exc:  # noqa: BLE001 - a pool that does not fit: one line
                    raise BallastError(f"asset {asset.label}: {exc}") from None
        if len(asset.sources) < self.settings.min_sources:
            raise BallastError(
                f"asset {asset.label} has {len(asset.sources)} source(s) but --min-sources is "
                f"{self.settings.min_sources}"
            )

    def refresh_signers(self) -> None:
        self.signers = self.view.signers()
        self.quorum = self.view.quorum()
        self.telemetry.quorum.set(self.quorum)

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
            self._report_health(asset, exc.health)
            raise
        self._report_health(asset, agg.health)
        asset.last = agg
        asset.record(agg.ts, agg.price)
        del asset.ts[: -self.settings.history], asset.prices[: -self.settings.history]
        self.telemetry.source_spread.labels(asset.key).set(agg.spread)
        return agg

    def _report_health(self, asset: Asset, health) -> None:
        for h in health:
            self.telemetry.source_ok.labels(asset.key, h.source).set(1 if h.status == OK else 0)
            if h.status != OK:
                emit("source_unhealthy", logging.WARNING, asset_id=asset.asset_id, asset=asset.label,
                     source=h.source, status=h.status, detail=h.detail)  # fmt: skip

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
                emit("history_failed", logging.WARNING, asset_id=asset.asset_id, source=source.name,
                     error=str(exc))  # fmt: skip
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
                emit("warming_up", logging.DEBUG, asset_id=asset.asset_id, bars=len(candles))
                return None
            sigma_series, depth_series = metrics.measure(candles, est)
            sigma, proxy = float(sigma_series[-1]), float(depth_series[-1])
        else:
            series = metrics.ewma_vol(np.array(asset.prices), np.array(asset.ts), est.half_life_up,
                                      est.half_life_down, sigma0=self.settings.sigma0)  # fmt: skip
            sigma, proxy = float(series[-1]), None
        return sigma, (agg.depth if agg.depth is not None else proxy)

    def measured(self, asset: Asset, agg: Aggregate) -> policy.Measured | None:
        """The on-chain integers of an asset's measurement: the price through `model.price_from_human`
        with both tokens' decimals from the chain, depth in loan raw units, sigma in WAD."""
        estimate = self.estimate(asset, agg)
        if estimate is None:
            return None
        sigma, depth = estimate
        self.telemetry.sigma.labels(asset.key).set(sigma)
        self.telemetry.price.labels(asset.key).set(agg.price)
        if depth is None or not math.isfinite(depth) or depth <= 0 or not math.isfinite(sigma):
            emit("no_depth", logging.WARNING, asset_id=asset.asset_id, sigma=sigma, depth=depth)
            return None
        self.telemetry.depth.labels(asset.key).set(depth)
        if asset.loan_decimals is None or asset.collateral_decimals is None:
            raise BallastError(f"asset {asset.label}: token decimals unknown (check_setup was not run)")
        return policy.Measured(
            price=max(1, model.price_from_human(agg.price, asset.loan_decimals, asset.collateral_decimals)),
            sigma=round(sigma * WAD),
            depth=max(1, round(depth * 10**asset.loan_decimals)),
        )

    def _measure(self, rnd: Round, chain_now: int) -> list[int]:
        """Observe every asset once for the round; returns the observation times of those measured."""
        times: list[int] = []
        for asset in self.assets:
            try:
                agg = self.observe(asset, chain_now)
            except Refused as exc:
                rnd.refused[asset.label] = exc.reason
                self.telemetry.failures.labels("refused").inc()
                emit("asset_refused", logging.WARNING, asset_id=asset.asset_id, asset=asset.label,
                     reason=exc.reason)  # fmt: skip
                continue
            m = self.measured(asset, agg)
            if m is not None:
                rnd.measured[asset.asset_id] = m
                rnd.spreads[asset.asset_id] = agg.spread
                rnd.used[asset.asset_id] = agg.used
                times.append(agg.ts)
        return times

    # --- signing

    def _guard(self, rnd: Round) -> model.GuardParams:
        if rnd.guard is None:
            rnd.guard = self.view.guard_params()
        return rnd.guard

    def _posted(self, asset_ids) -> dict[int, policy.Posted]:
        return {aid: self.view.posted(aid) for aid in asset_ids}

    def sign(self, rnd: Round, posted: dict[int, policy.Posted] | None = None) -> reports.SignedReport | None:
        """Sign this keeper's report of the round: every measured asset, clipped to the guardrails against
        what the oracle holds now (the base), and publish it on /report. None when the round landed."""
        if not rnd.measured:
            return None
        posted = posted if posted is not None else self._posted(rnd.measured)
        if any(p.observed_at >= rnd.observed_at for p in posted.values()):
            return None  # landed already: nothing to clip against
        guard = self._guard(rnd)
        updates = []
        for aid in sorted(rnd.measured):
            c = policy.clip(posted[aid], rnd.measured[aid], rnd.observed_at, guard)
            updates.append(policy.Update(aid, c.price, c.sigma, c.depth))
        updates = updates[: policy.MAX_UPDATES]
        words = model.pack_words([u.half for u in updates])
        rnd.base = {u.asset_id: posted[u.asset_id].observed_at for u in updates}
        meta = {
            "round": rnd.number,
            "base": {str(aid): at for aid, at in rnd.base.items()},
            "source_spread": {str(aid): round(rnd.spreads.get(aid, 0.0), 8) for aid in rnd.base},
            "sources": {str(aid): rnd.used.get(aid, 0) for aid in rnd.base},
        }
        report = reports.sign(self.sender.account, self.sender.chain_id(), self.oracle, rnd.observed_at,
                              rnd.deadline, words, meta)  # fmt: skip
        rnd.own = report
        if self.book is not None:
            self.book.publish(report)
        self.telemetry.signed.inc()
        emit("report_signed", observed_at=rnd.observed_at, round=rnd.number, deadline=rnd.deadline,
             assets=[u.asset_id for u in updates], base=meta["base"], source_spread=meta["source_spread"])  # fmt: skip
        return report

    # --- peers

    def collect(self, rnd: Round) -> None:
        """Fetch the round's report from every peer that has not given a usable one (in parallel)."""
        todo = [url for url in self.peers if url not in rnd.peer_reports]
        if not todo:
            return
        chain_id = self.sender.chain_id()
        fetched = self._pool.map(
            lambda url: peerlib.fetch_report(
                url, rnd.observed_at, self.settings.peer_timeout, chain_id, self.oracle
            ),
            todo,
        )
        for got in fetched:
            if got.report is None:
                rnd.peer_status[got.peer] = (got.fault or peerlib.INVALID, got.detail)
                continue
            rnd.peer_reports[got.peer] = got.report
            rnd.peer_status[got.peer] = (OK, "")

    def candidates(self, rnd: Round, posted: dict[int, policy.Posted]) -> list[reports.SignedReport]:
        """This keeper's report and the peers' that pass `check_report` and the guardrails alone, one per
        signer. A peer's report that fails is dropped (its status says why) and fetched again next time."""
        assets = reports.report_assets(rnd.own.words) if rnd.own else sorted(posted)
        base = {aid: posted[aid].observed_at for aid in assets if aid in posted}
        guard = self._guard(rnd)
        out: dict[str, reports.SignedReport] = {}
        if rnd.own is not None:
            out[rnd.own.signer.lower()] = rnd.own
        for url, rep in list(rnd.peer_reports.items()):
            why = reports.check_report(rep, self.sender.chain_id(), self.oracle, self.signers, rnd.observed_at,
                                       rnd.deadline, assets, base)  # fmt: skip
            if why is None:
                why = self._rejected_by_guards(rep, posted, rnd.observed_at, guard)
            if why is None and rep.signer.lower() in out:
                why = (peerlib.INVALID, f"a second report of {rep.signer}")
            if why is not None:
                rnd.peer_status[url] = why
                del rnd.peer_reports[url]
                continue
            out[rep.signer.lower()] = rep
        return list(out.values())

    @staticmethod
    def _rejected_by_guards(rep, posted, observed_at, guard) -> tuple[str, str] | None:
        for aid, (price, depth, sigma) in reports.report_values(rep).items():
            if aid not in posted:
                return peerlib.MISMATCH, f"asset {aid} is not one of ours"
            verdict = policy.accepted(
                posted[aid], policy.Update(aid, price, sigma, depth), observed_at, guard
            )
            if verdict is not None:
                return peerlib.MISMATCH, f"asset {aid} alone would not apply ({verdict})"
        return None

    def deadline_after(self) -> int:
        """Seconds a round's reports stay valid after its observation time (the same on every keeper)."""
        return max(DEADLINE_ROUNDS * self.settings.round_seconds, MIN_DEADLINE)

    def turn_position(self, number: int) -> int:
        """0 for the keeper whose turn round `number` is; k for the k-th fallback after it."""
        order = sorted(s.lower() for s in self.signers)
        return (order.index(self.address.lower()) - number) % len(order)

    # --- the round, step by step

    def tick(self) -> TickResult:
        """One check: open the round when the clock moved on (measure, sign, publish), then collect,
        and relay if this keeper's turn came and a quorum agrees."""
        self._warming = False
        if not self._ready:
            self.check_setup()
        if self.clock.replay:
            return self._replay_tick()
        now = int(self.rpc.block_timestamp())
        at = now - now % self.settings.round_seconds
        if self.round is None or at > self.round.observed_at:
            posted = self._posted([a.asset_id for a in self.assets])
            last = self.round
            if last is not None and last.outcome is None:  # it ended while this keeper looked away
                landed = any(p.observed_at >= last.observed_at for p in posted.values())
                self._close(last, LANDED if landed else MISSED)
            self.round = Round(
                at, at + self.deadline_after(), at // self.settings.round_seconds, opened_at=now
            )
            self.refresh_signers()
            self._measure(self.round, now)
            self.sign(self.round, {aid: p for aid, p in posted.items() if aid in self.round.measured})
        return self._advance(self.round, now)

    def _replay_tick(self) -> TickResult:
        now = int(self.rpc.block_timestamp())
        rnd = Round(0, 0, 0)
        try:
            times = self._measure(rnd, now)
        except SourceExhausted:
            return TickResult(False, finished=True)
        if not rnd.measured:
            return TickResult(False, refused=rnd.refused, warming=self._warming)
        rnd.observed_at = self.clock.map(min(times))
        if not self.clock.reach(rnd.observed_at, self.stop):
            return TickResult(False, refused=rnd.refused)
        rnd.deadline = max(rnd.observed_at, int(self.rpc.block_timestamp())) + REPLAY_DEADLINE
        self.round = rnd
        self.sign(rnd)
        return self._advance(rnd, max(now, rnd.observed_at), replay=True)

    def _result(self, rnd: Round, relayed: bool = False) -> TickResult:
        """What this check did: `posted` only when this call relayed (or planned, in a dry run) the batch."""
        return TickResult(relayed, rnd.observed_at, rnd.updates if relayed else [], rnd.tx_hash if relayed else None,
                          dict(rnd.refused), pokes=rnd.pokes if relayed else {}, outcome=rnd.outcome,
                          warming=self._warming)  # fmt: skip

    def _advance(self, rnd: Round, now: int, replay: bool = False) -> TickResult:
        if rnd.outcome is not None:
            return self._result(rnd)
        assets = reports.report_assets(rnd.own.words) if rnd.own else [a.asset_id for a in self.assets]
        posted = self._posted(assets)
        if any(p.observed_at >= rnd.observed_at for p in posted.values()):
            self._close(rnd, LANDED, posted)
            return self._result(rnd)
        if rnd.own is not None and {aid: posted[aid].observed_at for aid in rnd.base} != rnd.base:
            emit("report_resigned", observed_at=rnd.observed_at, reason="the oracle's state changed")
            self.sign(rnd, posted)
        self.collect(rnd)
        candidates = self.candidates(rnd, posted)
        guard = self._guard(rnd)
        kept, left_out = reports.select_agreeing(
            candidates, guard.max_disagreement, self.settings.max_peer_ratio,
            prefer=rnd.own.signer if rnd.own else None,
        )  # fmt: skip
        by_signer = {rep.signer.lower(): url for url, rep in rnd.peer_reports.items()}
        for signer, why in left_out.items():
            url = by_signer.get(signer.lower())
            if url is not None:
                rnd.peer_status[url] = (peerlib.OUTLIER, why)
            elif rnd.own is not None and signer.lower() == rnd.own.signer.lower():
                emit("own_report_outlier", logging.WARNING, observed_at=rnd.observed_at, reason=why)
        rnd.agreeing = len(kept)
        self.telemetry.agreeing.set(len(kept))
        if len(kept) < max(1, self.quorum):
            return self._result(rnd)
        if not replay and not self._my_turn(rnd, now):
            return self._result(rnd)
        due = self._due(kept, posted, rnd.observed_at, guard)
        if not due:
            emit("nothing_due", observed_at=rnd.observed_at, reports=len(kept))
            self._close(rnd, NOTHING_DUE)
            return self._result(rnd)
        return self._relay(rnd, kept, due, posted)

    def _superseded(self, posted: dict) -> bool:
        """Whether the oracle's state of any of these assets moved on (on the pending block: with what
        waits in the node's pool) since `posted` was read."""
        return any(
            self.view.posted(aid, block="pending").observed_at != p.observed_at for aid, p in posted.items()
        )

    def _my_turn(self, rnd: Round, now: int) -> bool:
        """The turn's owner relays from the round's start, the k-th fallback from k turns after it; a
        fallback also waits one turn from when it opened the round itself (a keeper that starts, or
        catches up, late in a round must not relay at once beside the one whose turn it is)."""
        position = self.turn_position(rnd.number)
        start = position * self.settings.turn_seconds
        elapsed = now - rnd.observed_at
        if elapsed < start:
            return False
        if position > 0 and now - rnd.opened_at < self.settings.turn_seconds:
            return False
        answered = all(
            rnd.peer_status.get(url, (peerlib.BEHIND, ""))[0] != peerlib.BEHIND for url in self.peers
        )
        return answered or elapsed >= start + self.settings.turn_seconds / 3

    def _due(self, kept, posted, observed_at, guard) -> dict[int, list[str]]:
        """asset_id -> reasons, for the assets the policy finds due on the medians of the kept reports
        (RiskOracle's own medians, `model.aggregate`); empty when nothing is due."""
        halves = [model.unpack_words(list(r.words)) for r in kept]
        due = {}
        for i in range(len(halves[0])):
            agg = model.aggregate([h[i] for h in halves])
            m = policy.Measured(agg.price, agg.sigma, agg.depth)
            must, _ = policy.decide(
                agg.asset_id, posted[agg.asset_id], m, observed_at, self.settings.policy, guard
            )
            if must is not None:
                due[agg.asset_id] = list(must.reasons)
        return due

    def _relay(self, rnd: Round, kept: list[reports.SignedReport], due: dict, posted: dict) -> TickResult:
        batch = reports.build_batch(kept, self.signers)
        try:
            # simulated on the pending block: a post of this round already waiting in the node's pool
            # (another relayer's) makes ours revert "report replayed" before it costs anything
            result = self.sender.submit(
                self.oracle, self.view.post_data(batch), label="post", simulate_on="pending"
            )
        except BallastError as exc:
            message = exc.format_message()
            if any(reason in message for reason in LANDED_REVERTS):
                self.telemetry.failures.labels("relay_lost").inc()
                emit("relay_lost", observed_at=rnd.observed_at, reason=message)
                self._close(rnd, LANDED)
                return self._result(rnd)
            if self._superseded(posted):
                # Another relayer's post of an earlier round landed (or waits in the pool) since this
                # keeper read the oracle: the reports were clipped against a state that is gone, so the
                # guardrails may refuse them. A race lost, not a fault: sign again against the new state.
                self.telemetry.failures.labels("relay_superseded").inc()
                emit("relay_superseded", observed_at=rnd.observed_at, reason=message)
                return self._result(rnd)
            raise
        halves = [model.unpack_words(list(r.words)) for r in kept]
        updates = []
        for i in range(len(halves[0])):
            agg = model.aggregate([h[i] for h in halves])
            updates.append({"asset_id": agg.asset_id, "price": agg.price, "sigma": agg.sigma, "depth": agg.depth,
                            "spread": agg.spread, "reasons": due.get(agg.asset_id, [])})  # fmt: skip
        rnd.updates, rnd.tx_hash = updates, result.tx_hash
        if not result.dry_run:
            self.telemetry.posts.inc()
            self.telemetry.last_post.set(time.time())
            self.telemetry.last_observed.set(rnd.observed_at)
            for u in updates:
                self.telemetry.updates.labels(str(u["asset_id"])).inc()
        emit("posted" if not result.dry_run else "post_planned", observed_at=rnd.observed_at, tx=result.tx_hash,
             signers=batch.signers, updates=updates, gas_used=result.gas_used)  # fmt: skip
        rnd.pokes = self.poke()
        self._close(rnd, RELAYED if not result.dry_run else PLANNED)
        return self._result(rnd, relayed=True)

    def _close(self, rnd: Round, outcome: str, posted: dict | None = None) -> None:
        """The round is over for this keeper: count it, and each peer's part in it (once)."""
        rnd.outcome = outcome
        self.telemetry.rounds.labels(outcome).inc()
        if outcome == LANDED:
            self.telemetry.last_observed.set(rnd.observed_at)
            emit("round_landed", observed_at=rnd.observed_at)
        if outcome == MISSED:
            emit("round_missed", logging.WARNING, observed_at=rnd.observed_at, agreeing=rnd.agreeing,
                 quorum=self.quorum, refused=rnd.refused)  # fmt: skip
        for url in self.peers:
            status, detail = rnd.peer_status.get(url, (peerlib.BEHIND, "no answer this round"))
            self.telemetry.peer_up.labels(url).set(1 if status == OK else 0)
            if status == OK:
                continue
            if status == peerlib.BEHIND and outcome in (LANDED, NOTHING_DUE, RELAYED, PLANNED):
                continue  # the round ended before that peer signed: not a fault of the peer
            self.telemetry.peer_faults.labels(url, status).inc()
            emit(
                "peer_fault",
                logging.WARNING,
                peer=url,
                kind=status,
                detail=detail,
                observed_at=rnd.observed_at,
            )

    def poke(self) -> dict:
        """`poke()` every `--poke` market (after a post): market -> tx hash (None in a dry run or when
        the poke failed). A failure is logged (`poke_failed`) and counted, never fatal: the post is in."""
        done: dict = {}
        for market in self.pokes:
            try:
                result = self.sender.submit(market, self.markets.poke_data(market), label="poke")
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
        """Check until stopped; returns the process exit code. Faults that repeat `max_failures` times in
        a row (or once with `once`) are fatal and re-raised as BallastError. With `once`, one round:
        until it is relayed, landed, found not due, or over."""
        if not self._ready:
            self.check_setup()
        emit("keeper_started", oracle=self.oracle, account=self.address, url=self.rpc.url,
             assets=[a.asset_id for a in self.assets], peers=self.peers, signers=self.signers, quorum=self.quorum,
             round_seconds=self.settings.round_seconds, dry_run=self.sender.dry_run)  # fmt: skip
        failures = 0
        first_round: int | None = None
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
                unmeasured = self.round is None or self.round.own is None
                if result.refused and not result.posted and unmeasured:
                    raise BallastError("; ".join(f"{k}: {v}" for k, v in result.refused.items()))
                if first_round is None:
                    first_round = result.observed_at
                if result.outcome is not None or self.clock.replay or result.observed_at != first_round:
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


def default_min_sources(is_local: bool) -> int:
    """Sources that must agree unless --min-sources says otherwise: 2 on live networks (one source,
    one point of failure), 1 on local ones (a local chain usually has a single demo pool)."""
    return 1 if is_local else 2


def parse_assets(specs: tuple[str, ...]) -> list[Asset]:
    """`--asset TOKEN=ID`: TOKEN is the collateral's address (checked against the oracle's asset) or a
    name (letters first: `WETH`); anything that starts with 0x must be a full address."""
    assets, seen = [], set()
    for spec in specs:
        label, sep, ident = spec.partition("=")
        if not sep or not label or not ident.isdigit() or int(ident) < 1:
            raise BallastError(f"bad --asset '{spec}' (expected TOKEN=ID with ID >= 1)")
        if label.lower().startswith("0x"):
            if not Web3.is_address(label):
                raise BallastError(
                    f"bad --asset '{spec}': '{label}' is not an address (expected 0x and 40 hex digits)"
                )
        elif not LABEL_RE.fullmatch(label):
            raise BallastError(f"bad --asset '{spec}': '{label}' is neither an address nor a name like WETH")
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
    if kind == "pool":
        from oracle.sources.pool import DEFAULT_WINDOW, PoolSource

        address, _, window = rest.partition(":")
        if Web3.is_address(address) and (not window or (window.isdigit() and int(window) >= 1)):
            return PoolSource(rpc, address, collateral=collateral if collateral and Web3.is_address(collateral)
                              else None, window=int(window) if window else DEFAULT_WINDOW)  # fmt: skip
    if kind == "ccxt" and rest.count(":") == 1:
        from oracle.sources.exchange import ExchangeSource

        exchange_id, symbol = rest.split(":")
        try:
            return ExchangeSource.connect(exchange_id, symbol)
        except ValueError as exc:
            raise BallastError(str(exc)) from None
    raise BallastError(
        f"bad --source '{spec}' (expected csv:FILE, pool:ADDRESS[:WINDOW_SECONDS] or ccxt:EXCHANGE:SYMBOL)"
    )


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
    """The risk keeper: one operator of the oracle's keeper network."""


@command.command()
@config_option("keeper")
@click.option(
    "--network",
    required=True,
    help="Ape network choice, e.g. ethereum:local:foundry or ethereum:sepolia:node.",
)
@click.option(
    "--account",
    "account_alias",
    required=True,
    help="Ape account alias of this keeper's signer key (keystore; passphrase from BALLAST_PASSPHRASE), "
    "or TEST::N on local networks. It signs the reports and pays for the batches it relays.",
)
@click.option("--oracle", "oracle_address", required=True, help="RiskOracle address.")
@click.option(
    "--asset",
    "asset_specs",
    multiple=True,
    required=True,
    metavar="TOKEN=ID",
    help="Oracle asset id and its collateral (address, checked against the oracle, or a name); repeat.",
)
@click.option(
    "--source",
    "source_specs",
    multiple=True,
    required=True,
    metavar="[TOKEN=]SPEC",
    help="csv:FILE | pool:ADDRESS[:WINDOW_S] | ccxt:EXCHANGE:SYMBOL; repeat; prefix TOKEN= with several assets.",
)
@click.option(
    "--rpc",
    "rpc_urls",
    multiple=True,
    metavar="URL",
    help="RPC endpoint; repeat for failover in order (default: the network's configured URI).",
)
@click.option(
    "--peer",
    "peer_urls",
    multiple=True,
    metavar="URL",
    help="Another keeper's HTTP endpoint (http://HOST:PORT, its --metrics-port); repeat per peer.",
)
@click.option(
    "--round-seconds",
    default=DEFAULT_ROUND_SECONDS,
    show_default=True,
    type=click.IntRange(min=1),
    help="The round clock (observed_at = chain time floored to it); the same on every keeper.",
)
@click.option(
    "--turn-seconds",
    default=DEFAULT_TURN_SECONDS,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Chain seconds each fallback relayer waits after the previous one in the turn order.",
)
@click.option(
    "--peer-timeout",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0.05),
    help="Seconds a peer has to answer before it counts as slow.",
)
@click.option(
    "--heartbeat",
    default=None,
    type=click.IntRange(min=1),
    help="Post at least this often (seconds of observation time) [3600].",
)
@click.option(
    "--interval",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Wall seconds between the keeper's checks (rounds are several checks long).",
)
@click.option("--once", is_flag=True, help="One round, then exit (non-zero if nothing could be measured).")
@click.option("--dry-run", is_flag=True, help="Sign, collect, build and simulate the batch; send nothing.")
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Serve /metrics (Prometheus) and /report (the signed reports) here.",
)
@click.option("--metrics-addr", default="127.0.0.1", show_default=True, help="Address the HTTP server binds.")
@click.option(
    "--min-sources",
    default=None,
    type=click.IntRange(min=1),
    help="Sources that must agree before an asset is reported [2 on live networks, 1 on local ones].",
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
    default=None,
    type=click.IntRange(0, 36),
    help="Optional check: refuse to start unless every asset's loan token has these decimals "
    "(decimals are always read from the tokens).",
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
    help="Seconds before an unmined transaction is replaced with bumped fees (+12.5%).",
)
@click.option(
    "--max-fee-gwei",
    default=None,
    type=click.FloatRange(min=0, min_open=True),
    help="Never bid more than this max fee per gas; a transaction still stuck there is a fault.",
)
@click.option(
    "--poke",
    "poke_markets",
    multiple=True,
    metavar="MARKET",
    help="Market to poke() right after each batch this keeper relays; repeat per market.",
)
@click.option(
    "--max-failures",
    default=3,
    show_default=True,
    type=click.IntRange(min=1),
    help="Consecutive failed checks before the keeper exits non-zero.",
)
@click.option(
    "--log-level",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
def run(network, account_alias, oracle_address, asset_specs, source_specs, rpc_urls, peer_urls, round_seconds,
        turn_seconds, peer_timeout, heartbeat, interval, once, dry_run, metrics_port, metrics_addr, min_sources,
        max_deviation, max_age, loan_decimals, replay_start, replay_bars, warmup_bars, speed, warp, stuck_after,
        max_fee_gwei, poke_markets, max_failures, log_level):  # fmt: skip
    """Run the keeper loop (SIGINT/SIGTERM stop it after the current check)."""
    configure(log_level)
    choice = resolve_network(network)
    if not Web3.is_address(oracle_address):
        raise BallastError(f"--oracle '{oracle_address}' is not an address")
    for market in poke_markets:
        if not Web3.is_address(market):
            raise BallastError(f"--poke '{market}' is not an address")
    peers = [peerlib.report_url(p) for p in peer_urls]  # a bad URL: one line now
    assets = parse_assets(asset_specs)
    urls = list(rpc_urls) or ([choice.default_uri] if choice.default_uri else [])
    if not urls:
        raise BallastError(f"no RPC URL known for network '{network}': pass --rpc URL")
    rpc = Rpc(urls, chain_id=choice.chain_id)
    rpc.chain_id()  # unreachable RPC / wrong chain: one line now, not in the loop
    account = load_account(account_alias, choice)
    attach_sources(assets, source_specs, rpc)
    pp = policy.PolicyParams() if heartbeat is None else policy.PolicyParams(heartbeat=heartbeat)
    settings = Settings(interval=interval, round_seconds=round_seconds, turn_seconds=turn_seconds,
                        max_age=max_age, min_sources=min_sources or default_min_sources(choice.is_local),
                        max_deviation=max_deviation, loan_decimals=loan_decimals, warmup_bars=warmup_bars,
                        policy=pp, peer_timeout=peer_timeout)  # fmt: skip
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
    keeper = Keeper(sender, oracle_address, assets, settings, clock, pokes=list(poke_markets), peers=peers)
    keeper.check_setup()
    if metrics_port:
        keeper.telemetry.serve(metrics_port, metrics_addr, keeper.book)
    keeper.install_signal_handlers()
    sys.exit(keeper.run(once=once, max_failures=max_failures))
