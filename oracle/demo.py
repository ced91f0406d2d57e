"""`ballast demo` (what `make demo` runs): the whole system on a local anvil, hour by hour.

1. Starts its own anvil (stopped by PID at the end, also on errors and Ctrl-C), with the chain's clock
   set to the first hour of the path.
2. Deploys tokens, a constant-product pool, the oracle, the factory and a market (`oracle.deploy`).
3. Funds a lender, several borrowers and a liquidator (ape test accounts); the borrowers borrow close
   to the initial requirement H_init, at different distances from it.
4. Plays a price path hour by hour: the bundled seeded scenario (calm, crash, recovery) or the candles
   of a CSV file. Each hour the clock moves one hour, swaps against the pool move its price to the
   hour's close, the pool's time-weighted window passes, and THREE KEEPERS (the oracle's signers,
   quorum 2) play one round: each measures the pool and signs its report, serves it on its own HTTP
   server, fetches the other two's, and the one whose turn it is relays the batch and pokes the
   market (so that its maintenance ramp moves with each post); the liquidation bot runs. Half-way
   through, one keeper is stopped (its server goes down with it): its turns fall back to the next one
   after a turn of waiting, and the two left still make the quorum.
5. Shows, per hour, only numbers read from the chain: price, sigma and depth from the oracle, the
   market's required collateral ratios (initial, and the ramped maintenance one) for a reference
   position, positions at risk, liquidations; then a summary, a PNG plot and optionally a JSON report.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import click
import numpy as np

from oracle import model
from oracle.errors import BallastError

WAD = model.WAD
HOUR = 3_600
REPO_ROOT = Path(__file__).resolve().parent.parent
POOL_FEE = 0.003  # ConstantProductPool's fee on the input amount (the trader's swap sizing)

# Test account roles (ape test accounts = anvil's default mnemonic)
ADMIN, KEEPER, GUARDIAN, LENDER = 0, 1, 2, 3
KEEPERS = 3  # signers of the oracle: the KEEPER account and two more test accounts (mnemonic indexes 10, 11)
QUORUM = 2
TURN_SECONDS = 60  # a fallback keeper relays a turn (of chain time) after the one before it
TWAP_SECONDS = 300  # the pool source's time-weighted window; the demo lets it pass after each hour's swaps
BORROWERS = (4, 5, 6, 7)
WATCHER = 8  # holds a reference position (collateral, never debt) whose H_init / H_maint are shown
LIQUIDATOR = 9
# Each borrower borrows this fraction of what the market lets it borrow (its distance from H_init)
BORROW_FRACTIONS = (0.99, 0.96, 0.90, 0.75)
# Collateral of each borrower, in units of "pool value / 1000" (so positions matter next to depth)
BORROWER_SIZES = (3.0, 1.5, 2.5, 1.0)
WATCHER_SIZE = 2.0
POOL_VALUE = 10_000_000  # loan tokens on the loan side of the pool
LENDER_DEPOSIT = 2_000_000  # loan tokens supplied by the lender
AT_RISK_HF = 105 * WAD // 100  # health factor below which a position counts as at risk
DEFAULT_CSV_START = "2020-03-09T00:00:00"
DEFAULT_CSV_HOURS = 120
HEARTBEAT_SLACK = 5 * 60  # seconds under the hour at which the demo's keepers post anyway


# --- the price path ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PricePath:
    """What the demo plays: one close per hour (loan tokens per collateral token), t = the hour's open."""

    t: np.ndarray
    close: np.ndarray
    label: str
    phase: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.t)


def parse_iso(text: str) -> int:
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BallastError(f"--start: not an ISO date/time: {text!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


def scenario_path(seed: int, hours: int | None) -> PricePath:
    from oracle import scenario

    sc = scenario.generate(seed=seed)
    if hours is not None:
        sc = sc.head(hours)
    return PricePath(
        t=sc.t,
        close=sc.close,
        label=f"bundled scenario (seed {seed})",
        phase=sc.phase,
    )


def csv_path(path: str, start: str | None, hours: int | None) -> PricePath:
    from oracle.sources.csv import load_candles

    candles = load_candles(path)
    ts = np.asarray(candles.ts, dtype=np.int64)
    if start is None:
        t0 = parse_iso(DEFAULT_CSV_START)
        if not (ts[0] <= t0 <= ts[-1]):
            t0 = int(ts[max(0, len(ts) - (hours or DEFAULT_CSV_HOURS))])
    else:
        t0 = parse_iso(start)
    n = hours if hours is not None else DEFAULT_CSV_HOURS
    sel = (ts >= t0) & (ts < t0 + n * HOUR)
    if sel.sum() < 2:
        span = f"{_iso(int(ts[0]))} .. {_iso(int(ts[-1]))}"
        raise BallastError(
            f"{path}: fewer than 2 candles in the window from {_iso(t0)} ({n} h); file spans {span}"
        )
    return PricePath(
        t=ts[sel],
        close=np.asarray(candles.close, dtype=float)[sel],
        label=f"{Path(path).name} from {_iso(int(ts[sel][0]))}",
    )


def _iso(t: int) -> str:
    return datetime.fromtimestamp(int(t), tz=timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


# --- anvil -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def anvil_binary() -> str:
    """The anvil executable: the platform binary that npm installed (so that the PID we stop is anvil
    itself, not the node wrapper in node_modules/.bin), else whatever `anvil` is on PATH."""
    for candidate in sorted((REPO_ROOT / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")):
        if os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("anvil")
    if not found:
        raise BallastError("anvil not found: run `make bootstrap` (it comes from npm @foundry-rs/anvil)")
    return found


class Anvil:
    """An anvil process owned by the demo: started on a free port, stopped by its PID on exit."""

    def __init__(self, timestamp: int | None = None, port: int | None = None):
        self.port = port or free_port()
        self.timestamp = timestamp
        self.proc: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Anvil:  # noqa: PYI034
        cmd = [
            anvil_binary(),
            "--port",
            str(self.port),
            "--silent",
            "--accounts",
            "12",  # ape's 10 test accounts and the two extra keepers
            "--balance",
            "100000",
            "--gas-limit",
            "30000000",
        ]
        if self.timestamp is not None:
            cmd += ["--timestamp", str(self.timestamp)]
        cmd += os.environ.get("BALLAST_ANVIL_ARGS", "").split()  # extra flags for experiments
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = (self.proc.stderr.read() or b"").decode(errors="replace").strip().splitlines()
                raise BallastError(f"anvil exited at start: {err[-1] if err else self.proc.returncode}")
            if self._ready():
                return self
            time.sleep(0.1)
        self.stop()
        raise BallastError("anvil did not answer within 30 s")

    def _ready(self) -> bool:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
        req = urllib.request.Request(self.uri, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=1) as resp:
                return resp.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM to our anvil (its own session, so also to anything it started), SIGKILL after 10 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)  # the group id is our child's PID
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def __exit__(self, *exc) -> None:
        self.stop()
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def own_interrupts() -> dict:
    """SIGINT and SIGTERM raise KeyboardInterrupt, so that every `with` unwinds and anvil is stopped.
    (Importing ape installs a SIGINT handler that exits with 130 and no message; this one replaces
    it.) Returns the previous handlers; a no-op outside the main thread."""
    old = {}
    with contextlib.suppress(ValueError):
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, _interrupt)
    return old


# --- the demo world ----------------------------------------------------------------------------


@dataclass
class DemoDeployment:
    """The addresses of the demo's system."""

    oracle: str
    market: str
    factory: str
    pool: str
    loan_token: str
    collateral_token: str
    asset_id: int
    signers: list[str]
    quorum: int
    lens: str


@dataclass
class World:
    """Handles on everything deployed, plus the actors."""

    project: object
    dep: DemoDeployment
    oracle: object
    market: object
    loan: object
    collateral: object
    pool: object
    admin: object
    keepers: list  # the signers' accounts (each signs its reports and pays for what it relays)
    lender: object
    borrowers: list
    liquidator: object
    loan_unit: int
    coll_unit: int
    watcher: object  # the reference position's owner
    ref_collateral: int  # collateral amount of the reference position
    views: MarketViews | None = None  # the market's state, read through one helper

    def price_raw(self, human_price: float) -> float:
        """Loan raw units per collateral raw unit for a price in loan tokens per collateral token."""
        return human_price * self.loan_unit / self.coll_unit


class MarketViews:
    """Every read of market state the demo makes, in one place: the market's own views and the
    MarketLens (the views no transaction needs)."""

    def __init__(self, market, lens):
        self.market = market
        self.lens = lens

    def position(self, account) -> tuple[int, int]:
        """(collateral, debt) in raw units."""
        collateral, debt = self.market.position(account)
        return int(collateral), int(debt)

    def max_borrowable(self, account) -> int:
        return int(self.lens.max_borrowable(self.market, account))

    def health_factor(self, account) -> int:
        return int(self.lens.health_factor(self.market, account))

    def h_init_of(self, account) -> int:
        return int(self.lens.h_init_of(self.market, account))

    def h_maint_of(self, account) -> int:
        return int(self.lens.h_maint_of(self.market, account))

    def required_ratio(self, collateral: int, initial: bool) -> int:
        return int(self.lens.required_ratio(self.market, collateral, initial))

    def maint_base(self) -> int:
        return int(self.lens.maint_base(self.market))

    def risk_params(self) -> model.RiskParams:
        return model.RiskParams(*(int(x) for x in self.market.risk_params()))

    def borrow_rate(self) -> int:
        return int(self.lens.borrow_rate(self.market))


def deploy_world(project, admin, guardian, signers: list, price: int, pool_collateral: int, log) -> DemoDeployment:
    """Mock tokens and a seeded pool (`oracle.deploy`'s helpers), the oracle with the keepers as its
    signers and QUORUM, the factory and one market with the default parameters. (The oracle is wired
    here rather than through `deploy.deploy_system`, whose oracle wiring names one keeper.)"""
    from oracle import deploy as d

    loan = d.deploy_mock_token(project, admin, "Mock USD Coin", "mUSDC", d.LOAN_DECIMALS)
    coll = d.deploy_mock_token(project, admin, "Mock Wrapped Ether", "mWETH", d.COLLATERAL_DECIMALS)
    pool = d.deploy_pool(project, admin, loan, coll, price, pool_collateral)
    oracle = admin.deploy(project.RiskOracle, guardian.address, [s.address for s in signers], QUORUM)
    oracle.add_asset(coll.address, loan.address, sender=admin)
    asset_id = int(oracle.asset_id(coll.address, loan.address))
    blueprint = admin.declare(project.Market, sender=admin).contract_address
    feed_check = admin.deploy(project.FeedCheck)
    factory = admin.deploy(project.MarketFactory, blueprint, oracle.address, feed_check.address)
    lens = admin.deploy(project.MarketLens)
    factory.create_market(loan.address, coll.address, asset_id, d.risk_tuple(model.RiskParams()),
                          d.rates_tuple(model.RateParams()), "Ballast WETH/USDC", "bWETH-USDC", sender=admin)  # fmt: skip
    market = factory.market_for(loan.address, coll.address)
    log(f"RiskOracle {oracle.address}: {len(signers)} signers, quorum {QUORUM}; market {market}")
    return DemoDeployment(oracle.address, market, factory.address, pool.address, loan.address, coll.address,
                          asset_id, [s.address for s in signers], QUORUM, lens.address)  # fmt: skip


def setup_world(project, path: PricePath, log) -> World:
    from ape import accounts

    acc = accounts.test_accounts
    admin = acc[ADMIN]
    keepers = [acc[KEEPER], *(acc.generate_test_account() for _ in range(KEEPERS - 1))]
    price0 = float(path.close[0])
    pool_coll = max(1, round(POOL_VALUE / price0))
    dep = deploy_world(project, admin, acc[GUARDIAN], keepers, max(1, round(price0)), pool_coll, log)
    loan = project.MockERC20.at(dep.loan_token)
    coll = project.MockERC20.at(dep.collateral_token)
    pool = project.ConstantProductPool.at(dep.pool)
    w = World(
        project=project,
        dep=dep,
        oracle=project.RiskOracle.at(dep.oracle),
        market=project.Market.at(dep.market),
        loan=loan,
        collateral=coll,
        pool=pool,
        admin=admin,
        keepers=keepers,
        lender=acc[LENDER],
        borrowers=[acc[i] for i in BORROWERS],
        watcher=acc[WATCHER],
        liquidator=acc[LIQUIDATOR],
        loan_unit=10 ** int(loan.decimals()),
        coll_unit=10 ** int(coll.decimals()),
        ref_collateral=0,
    )
    w.views = MarketViews(w.market, project.MarketLens.at(dep.lens))
    # Move the pool to the exact first close (deploy seeds it at a rounded price).
    move_pool_to(w, price0)
    return w


def fund_and_borrow(w: World, log) -> None:
    """Lender deposits; borrowers post collateral and borrow close to H_init (after the first post)."""
    market = w.market
    amount = LENDER_DEPOSIT * w.loan_unit
    w.loan.mint(w.lender, amount, sender=w.admin)
    w.loan.approve(market, amount, sender=w.lender)
    market.deposit(amount, w.lender, sender=w.lender)
    price = int(w.oracle.metrics(w.dep.asset_id)[0])  # loan raw per collateral raw, at PRICE_SCALE
    for b, size in zip([*w.borrowers, w.watcher], [*BORROWER_SIZES, WATCHER_SIZE]):
        coll_value = POOL_VALUE * size / 1000 * w.loan_unit  # loan raw units
        coll_amount = int(coll_value * model.PRICE_SCALE // price)
        w.collateral.mint(b, coll_amount, sender=w.admin)
        w.collateral.approve(market, coll_amount, sender=b)
        market.supply_collateral(coll_amount, b, sender=b)
    for b, frac in zip(w.borrowers, BORROW_FRACTIONS):
        amount = int(w.views.max_borrowable(b) * frac)
        market.borrow(amount, b, sender=b)
    w.ref_collateral = w.views.position(w.watcher)[0]
    # The liquidator holds loan tokens to repay debt with.
    stash = LENDER_DEPOSIT * w.loan_unit
    w.loan.mint(w.liquidator, stash, sender=w.admin)
    w.loan.approve(market, 2**256 - 1, sender=w.liquidator)
    log(
        f"lender deposited {LENDER_DEPOSIT:,}; {len(w.borrowers)} borrowers borrowed "
        f"{', '.join(f'{f:.0%}' for f in BORROW_FRACTIONS)} of their limit under H_init; "
        f"a watcher holds a reference position of {WATCHER_SIZE * POOL_VALUE / 1000:,.0f} (value) without debt"
    )


def move_pool_to(w: World, human_price: float) -> None:
    """Swap against the pool (as the admin, a trader with a mint) until its price is `human_price`."""
    r0, r1 = (int(x) for x in w.pool.get_reserves())  # collateral, loan (raw)
    target = w.price_raw(human_price)
    k = r0 * r1
    keep = 1.0 - POOL_FEE
    if target < r1 / r0 * (1 - 1e-6):  # sell collateral
        amount = int((math.sqrt(k / target) - r0) / keep)
        if amount <= 0:
            return
        w.collateral.mint(w.admin, amount, sender=w.admin)
        w.collateral.approve(w.pool, amount, sender=w.admin)
        w.pool.swap(w.collateral, amount, 0, w.admin, sender=w.admin)
    elif target > r1 / r0 * (1 + 1e-6):  # buy collateral with loan tokens
        amount = int((math.sqrt(k * target) - r1) / keep)
        if amount <= 0:
            return
        w.loan.mint(w.admin, amount, sender=w.admin)
        w.loan.approve(w.pool, amount, sender=w.admin)
        w.pool.swap(w.loan, amount, 0, w.admin, sender=w.admin)


# --- keeper ------------------------------------------------------------------------------------


class DemoKeepers:
    """Three real keepers (`oracle.keeper.Keeper`: time-weighted pool source, EWMA sigma, posting policy,
    guardrail clipping, signed reports, peers over HTTP, turns, transactions through `oracle.chain`),
    in this process, each with its own HTTP server (/report, /metrics) on a free port and the other two
    as its peers. The demo drives the chain's clock, so it plays each round itself: every live keeper
    checks in turn order until the round landed, the clock moving one turn whenever nobody relayed. The
    one that relays pokes the market."""

    def __init__(self, w: World, uri: str):
        from oracle.chain import Rpc, Sender
        from oracle.keeper import Asset, Keeper, Settings
        from oracle.policy import PolicyParams
        from oracle.sources.pool import PoolSource

        rpc = Rpc([uri])
        ports = [free_port() for _ in w.keepers]
        self.urls = [f"http://127.0.0.1:{p}/report" for p in ports]
        # Rounds of an hour, as the demo's clock moves; the heartbeat a little under the hour, so every
        # round is due (the chain's clock moves by the hour give or take the seconds of the swaps).
        settings = {"interval": 0, "round_seconds": HOUR, "turn_seconds": TURN_SECONDS, "peer_timeout": 2.0,
                    "policy": PolicyParams(heartbeat=HOUR - HEARTBEAT_SLACK)}  # fmt: skip
        self.keepers, self.servers = [], []
        for i, account in enumerate(w.keepers):
            source = PoolSource(rpc, w.dep.pool, window=TWAP_SECONDS)
            asset = Asset(label="mWETH", asset_id=w.dep.asset_id, sources=[source])
            peers = [u for j, u in enumerate(self.urls) if j != i]
            keeper = Keeper(Sender(account, rpc, poll=0.02), w.dep.oracle, [asset], Settings(**settings),
                            pokes=[w.dep.market], peers=peers)  # fmt: skip
            keeper.check_setup()
            self.keepers.append(keeper)
            self.servers.append(keeper.telemetry.serve(ports[i], book=keeper.book))
        self.alive = list(range(len(self.keepers)))
        self.oracle, self.asset_id = w.oracle, w.dep.asset_id
        self.posts = 0
        self.pokes = 0
        self.relayed_by: list[int] = []  # per round: the index of the keeper that relayed (-1: none)
        self.fallbacks = 0  # rounds relayed by a keeper other than the turn's owner

    def stop(self, i: int) -> None:
        """Keeper i is gone: it checks no more and its HTTP server goes down (its peers see it down)."""
        self.alive.remove(i)
        self.servers[i].shutdown()
        self.servers[i].server_close()

    def close(self) -> None:
        for i in list(self.alive):
            self.stop(i)

    def tick(self, max_turns: int = KEEPERS) -> bool:
        """Play the round of the chain's current time; True when it landed (relayed by a live keeper).
        The keepers check in reverse turn order, so that the turn's owner, last, finds the others'
        reports published and relays at once; when nobody relayed (the owner is stopped), the clock
        moves one turn and they check again."""
        from ape import chain

        relayer = -1
        number = chain.blocks.head.timestamp // HOUR
        order = sorted(self.alive, key=lambda i: -self.keepers[i].turn_position(number))
        for turn in range(max_turns + 1):
            for i in order:
                result = self.keepers[i].tick()
                if result.posted:
                    relayer = i
                    self.posts += 1
                    self.pokes += sum(1 for tx in result.pokes.values() if tx)
            rounds = [self.keepers[i].round for i in self.alive]
            if relayer >= 0 or any(r is not None and r.outcome for r in rounds):
                break
            if turn < max_turns:  # nobody's turn yet: the next in turn may relay a turn later
                chain.pending_timestamp = chain.blocks.head.timestamp + TURN_SECONDS
                chain.mine()
        self.relayed_by.append(relayer)
        if relayer >= 0:
            rnd = self.keepers[relayer].round
            self.fallbacks += int(rnd is not None and self.keepers[relayer].turn_position(rnd.number) > 0)
        return relayer >= 0


# --- one hour ----------------------------------------------------------------------------------


@dataclass
class Row:
    hour: int
    time: int
    phase: str
    price: float  # loan tokens per collateral token (oracle)
    sigma: float
    depth: float  # loan tokens (oracle)
    h_init: float  # h_init_of(watcher): initial haircut of the reference position
    h_maint: float  # h_maint_of(watcher): effective (ramped) maintenance haircut of the reference position
    h_maint_target: float  # where h_maint ramps to: the same position's H_maint with the ramp caught up
    cr_init: float  # required_ratio(reference collateral, initial=True)
    cr_maint: float  # required_ratio(reference collateral, initial=False): ramped maintenance
    maint_base: float
    at_risk: int
    liquidations: int  # this hour
    liquidations_total: int
    borrower_cr: list[float] = field(default_factory=list)  # value / debt per borrower (nan: no debt)
    relayer: int = -1  # the keeper (0, 1, 2) that relayed this hour's batch; -1: none landed
    keepers: int = KEEPERS  # keepers running this hour


def read_row(w: World, hour: int, phase: str, liq_hour: int, liq_total: int) -> Row:
    from ape import chain

    o = w.oracle.metrics(w.dep.asset_id)
    price, sigma, depth = int(o[0]), int(o[1]), int(o[2])  # price: loan raw per collateral raw at 1e36
    m = w.views
    at_risk = 0
    crs = []
    for b in w.borrowers:
        coll, debt = m.position(b)
        if debt > 0:
            if m.health_factor(b) < AT_RISK_HF:
                at_risk += 1
            crs.append(coll * price / model.PRICE_SCALE / debt)
        else:
            crs.append(float("nan"))
    return Row(
        hour=hour,
        time=chain.blocks.head.timestamp,
        phase=phase,
        price=price / model.PRICE_SCALE * w.coll_unit / w.loan_unit,
        sigma=sigma / WAD,
        depth=depth / w.loan_unit,
        h_init=m.h_init_of(w.watcher) / WAD,
        h_maint=m.h_maint_of(w.watcher) / WAD,
        h_maint_target=maint_target(w, price, sigma, depth) / WAD,
        cr_init=m.required_ratio(w.ref_collateral, True) / WAD,
        cr_maint=m.required_ratio(w.ref_collateral, False) / WAD,
        maint_base=m.maint_base() / WAD,
        at_risk=at_risk,
        liquidations=liq_hour,
        liquidations_total=liq_total,
        borrower_cr=crs,
    )


def maint_target(w: World, price: int, sigma: int, depth: int) -> int:
    """The reference position's H_maint once the ramp has caught up (WAD): `oracle.model`'s exact mirror
    of the market's math, fed with the market's risk parameters and borrow rate and the oracle's data
    (the collateral's value as Market.vy takes it: amount * price // PRICE_SCALE)."""
    m = w.views
    p = m.risk_params()
    value = m.position(w.watcher)[0] * price // model.PRICE_SCALE
    base = model.maint_base_target(p, sigma, m.borrow_rate())
    return model.h_maint(p, base, value, depth)


def run(path: PricePath, progress: bool = True, echo=click.echo) -> dict:
    """Play `path` on a fresh anvil; returns the report (rows + summary). Leaves nothing running."""
    t_start = time.monotonic()
    warnings.filterwarnings("ignore", message=".*import_remapping.*")
    import ape  # noqa: F401 - installs ape's own SIGINT handler, which own_interrupts then replaces

    previous = own_interrupts()
    try:
        with Anvil(timestamp=int(path.t[0])) as node:
            report = play_on(node, path, progress, echo)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    report["summary"]["seconds"] = round(time.monotonic() - t_start, 1)
    return report


def play_on(node: Anvil, path: PricePath, progress: bool, echo) -> dict:
    """Everything that happens on the demo's anvil: deploy, fund, play, summarise."""
    from ape import Project, chain, networks
    from ape.logging import LogLevel, logger

    os.environ["APE_FOUNDRY_HOST"] = node.uri
    logger.set_level(LogLevel.ERROR)
    logging.getLogger("ballast").setLevel(logging.ERROR)  # a stopped keeper is announced by the demo itself
    project = Project(REPO_ROOT)
    # disconnect_after=False: the demo stops its own anvil; ape's disconnect walks its provider registry
    # (tens of seconds on a busy machine) for a node that is about to be gone anyway
    with networks.parse_network_choice("ethereum:local:foundry", disconnect_after=False):
        own_interrupts()  # connecting may install ape's handlers again
        w = setup_world(project, path, echo)
        keepers = DemoKeepers(w, node.uri)
        try:
            chain.pending_timestamp = int(path.t[0]) + HOUR
            chain.mine()
            keepers.tick()
            fund_and_borrow(w, echo)
            rows = play(w, keepers, path, progress, echo)
        finally:
            keepers.close()
        summary = summarise(w, keepers, rows)
        summary["anvil_pid"] = node.proc.pid if node.proc else None
    return {"label": path.label, "rows": [r.__dict__ for r in rows], "summary": summary,
            "keepers": keepers_report(w, keepers, rows)}  # fmt: skip


def keepers_report(w: World, keepers: DemoKeepers, rows: list[Row]) -> dict:
    """Who relayed what: batches per keeper, rounds relayed by a fallback (the turn's owner was stopped),
    rounds that landed nothing."""
    return {
        "signers": w.dep.signers,
        "quorum": w.dep.quorum,
        "relayed": [sum(1 for r in rows if r.relayer == i) for i in range(len(w.keepers))],
        "stopped_at_hour": next((r.hour for r in rows if r.keepers < len(w.keepers)), None),
        "fallback_rounds": keepers.fallbacks,
        "missed_rounds": sum(1 for r in rows if r.relayer < 0),
    }


def keepers_line(k: dict) -> str:
    """One line on the keeper network: who relayed, the fallbacks after the stop, missed rounds."""
    relayed = ", ".join(f"keeper {i + 1}: {n}" for i, n in enumerate(k["relayed"]))
    stopped = f"keeper {len(k['relayed'])} stopped at hour {k['stopped_at_hour']}; " if k["stopped_at_hour"] else ""
    return (f"keepers ({len(k['signers'])} signers, quorum {k['quorum']}): batches relayed by {relayed}; "
            f"{stopped}{k['fallback_rounds']} rounds relayed by the next in turn, {k['missed_rounds']} missed")  # fmt: skip


def play(w: World, keepers: DemoKeepers, path: PricePath, progress: bool, echo) -> list[Row]:
    from ape import chain
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from oracle.liquidator import liquidate_round

    rows: list[Row] = []
    total_liq = 0
    cols = (
        TextColumn("[bold]hours"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    )
    stop_at = max(1, len(path) // 2)  # one keeper is stopped half-way through
    with Progress(*cols, disable=not progress, transient=False) as bar:
        say = bar.console.print if progress else echo
        say(ROW_HEADER)
        task = bar.add_task("", total=len(path) - 1)
        for i in range(1, len(path)):
            if i == stop_at:
                keepers.stop(KEEPERS - 1)
                say(f"---- hour {i}: keeper {KEEPERS} of {KEEPERS} stopped; its turns fall back to the next, "
                    f"the {len(keepers.alive)} left make the quorum of {QUORUM}")  # fmt: skip
            end_of_hour = int(path.t[i]) + HOUR
            chain.pending_timestamp = max(end_of_hour, chain.blocks.head.timestamp + 1)
            move_pool_to(w, float(path.close[i]))
            # the pool's time-weighted window passes at the new price, then the keepers' round
            chain.pending_timestamp = chain.blocks.head.timestamp + TWAP_SECONDS
            chain.mine()
            keepers.tick()
            done = liquidate_round(w.market, w.project, w.liquidator, echo=lambda msg: None, lens=w.dep.lens)
            total_liq += len(done)
            row = read_row(w, i, path.phase[i] if path.phase else "", len(done), total_liq)
            row.relayer, row.keepers = keepers.relayed_by[-1], len(keepers.alive)
            rows.append(row)
            say(format_row(row))
            bar.update(task, advance=1, description=row.phase)
    return rows


ROW_HEADER = "hour phase        price  sigma     depth  H_init H_maint  at risk  liquidated"


def format_row(r: Row) -> str:
    """One line (< 80 columns) per simulated hour; every number was read from the chain: the oracle's
    metrics and the market's views for the reference position (H_maint is the ramped effective one)."""
    return (
        f"{r.hour:4d} {r.phase[:8]:8s} {r.price:9,.2f} {r.sigma:6.3f} {r.depth:9,.0f}  {r.h_init:6.4f}"
        f"  {r.h_maint:6.4f}  {r.at_risk:7d}  {r.liquidations:3d} ({r.liquidations_total})"
    )


def chain_liquidations(market) -> dict:
    """What the market's events say liquidations did: debt repaid and collateral seized (`Liquidated`)
    and bad debt written off against lenders (`BadDebtRealized`), raw units."""
    from ape import chain

    head = chain.blocks.head.number
    liq = list(market.Liquidated.range(0, head + 1))
    bad = list(market.BadDebtRealized.range(0, head + 1))
    return {
        "events": len(liq),
        "repaid": sum(int(x.repaid) for x in liq),
        "seized": sum(int(x.seized) for x in liq),
        "bad_debt": sum(int(x.assets) for x in bad),
    }


def summarise(w: World, keeper: DemoKeepers, rows: list[Row]) -> dict:
    m = w.market
    open_debt = sum(int(m.position(b)[1]) for b in w.borrowers) / w.loan_unit
    events = chain_liquidations(m)
    return {
        "liquidated_repaid": events["repaid"] / w.loan_unit,
        "liquidated_seized": events["seized"] / w.coll_unit,
        "bad_debt": events["bad_debt"] / w.loan_unit,
        "liquidation_events": events["events"],
        "hours": len(rows),
        "posts": keeper.posts,
        "pokes": keeper.pokes,
        "liquidations": rows[-1].liquidations_total if rows else 0,
        "max_at_risk": max((r.at_risk for r in rows), default=0),
        "price_first": rows[0].price if rows else None,
        "price_last": rows[-1].price if rows else None,
        "price_min": min((r.price for r in rows), default=None),
        "sigma_max": max((r.sigma for r in rows), default=None),
        "cr_init_max": max((r.cr_init for r in rows), default=None),
        "cr_maint_max": max((r.cr_maint for r in rows), default=None),
        "open_debt": open_debt,
        "total_assets": int(m.totalAssets()) / w.loan_unit,
        "market": w.dep.market,
        "oracle": w.dep.oracle,
    }


# --- output ------------------------------------------------------------------------------------


@dataclass
class PlotInfo:
    """What `plot` drew: where, on which x axis, how high the CR panel goes, and which borrowers' CR
    lines end early because a liquidation left them with dust (label -> first hour not drawn)."""

    path: Path
    x_axis: str  # "hour" (the bundled scenario) or "date" (a CSV replay)
    cr_top: float
    hidden: dict[str, int]


DUST_FACTOR = 5.0  # a borrower whose value/debt exceeds this many times the highest required CR holds dust


def borrower_lines(rows: list[dict]) -> tuple[list[tuple[str, list[float]]], dict[str, int], float]:
    """Each borrower's CR series for the plot, with the points of a position liquidated down to dust
    (value/debt of ~1e7 after a liquidation leaves a few raw units of debt) dropped, so they cannot
    flatten every other line; positions without debt are gaps already (NaN). Returns the lines, the
    hidden ones (label -> first hour dropped) and the top of the CR panel."""
    required = max(max(r["cr_init"], r["cr_maint"]) for r in rows)
    dust = DUST_FACTOR * required
    n = len(rows[0]["borrower_cr"]) if rows else 0
    lines, hidden, shown = [], {}, [required]
    for j in range(n):
        label = f"borrower {j + 1}"
        values = []
        for r in rows:
            v = r["borrower_cr"][j]
            if v is not None and math.isfinite(v) and v > dust:
                hidden.setdefault(label, r["hour"])
                v = float("nan")
            elif v is not None and math.isfinite(v):
                shown.append(v)
            values.append(float("nan") if v is None else v)
        if label in hidden:
            label += f" (liquidated to dust at hour {hidden[label]}: not drawn after)"
        lines.append((label, values))
    top = max(1.5, 1.1 * max(shown))
    return lines, {k.split(" (")[0]: v for k, v in hidden.items()}, top


def plot(report: dict, out: Path, dates: bool = False) -> PlotInfo:
    """Price, sigma and depth, and the collateral ratios, hour by hour. `dates`: the x axis shows the
    candles' dates (a CSV replay) instead of the hour number."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    rows = report["rows"]
    if dates:
        x = [datetime.fromtimestamp(int(r["time"]), tz=timezone.utc) for r in rows]
    else:
        x = [r["hour"] for r in rows]
    fig, ax = plt.subplots(3, 1, figsize=(11, 9), sharex=True)
    ax[0].plot(x, [r["price"] for r in rows], color="black")
    ax[0].set_ylabel("price (oracle)")
    for xi, r in zip(x, rows):
        if r["liquidations"]:
            ax[0].axvline(xi, color="red", alpha=0.25)
    ax[0].set_title(f"Ballast demo: {report['label']} (red: hours with liquidations)")
    ax[1].plot(x, [r["sigma"] for r in rows], color="tab:orange")
    ax[1].set_ylabel("sigma (annualised)", color="tab:orange")
    depth_ax = ax[1].twinx()
    depth_ax.plot(x, [r["depth"] for r in rows], color="tab:green", lw=1)
    depth_ax.set_ylabel("depth (oracle, loan tokens)", color="tab:green")
    ax[2].plot(x, [r["cr_init"] for r in rows], label="required CR, initial", color="tab:blue")
    ax[2].plot(x, [r["cr_maint"] for r in rows], label="required CR, maintenance (ramped)", color="tab:red")
    lines, hidden, top = borrower_lines(rows) if rows else ([], {}, 2.0)
    for label, values in lines:
        ax[2].plot(x, values, lw=0.8, alpha=0.6, label=f"{label} CR")
    ax[2].set_ylim(1.0, top)
    ax[2].set_ylabel("collateral ratio")
    if dates:
        ax[2].set_xlabel("date (UTC, end of the hour)")
        ax[2].xaxis.set_major_formatter(mdates.ConciseDateFormatter(mdates.AutoDateLocator()))
    else:
        ax[2].set_xlabel("hour")
    ax[2].legend(fontsize=7, ncol=2)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return PlotInfo(out, "date" if dates else "hour", top, hidden)


def header_line(path: PricePath) -> str:
    """What `ballast demo` announces: the hours it will play, as the summary counts them (the first
    close opens the market: deploy, fund, first post; every later close is one hour played)."""
    return f"playing {path.label}: {len(path) - 1} hours after an opening hour"


def print_summary(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    s = report["summary"]
    t = Table(title=f"Ballast demo: {report['label']}", show_header=False)
    t.add_row("hours played (after the opening hour)", str(s["hours"]))
    t.add_row("oracle posts", str(s["posts"]))
    t.add_row("market pokes", str(s["pokes"]))
    t.add_row(
        "price first / min / last",
        f"{s['price_first']:,.2f} / {s['price_min']:,.2f} / {s['price_last']:,.2f}",
    )
    t.add_row("max sigma", f"{s['sigma_max']:.3f}")
    t.add_row("max required CR init / maint", f"{s['cr_init_max']:.3f} / {s['cr_maint_max']:.3f}")
    t.add_row("most positions at risk in one hour", str(s["max_at_risk"]))
    t.add_row("liquidations", str(s["liquidations"]))
    t.add_row("liquidated (Liquidated events): debt repaid / collateral seized",
              f"{s['liquidated_repaid']:,.2f} / {s['liquidated_seized']:,.4f}")  # fmt: skip
    t.add_row("bad debt written off (BadDebtRealized)", f"{s['bad_debt']:,.2f}")
    t.add_row("open debt at the end", f"{s['open_debt']:,.2f}")
    t.add_row("lenders' total assets", f"{s['total_assets']:,.2f}")
    t.add_row("seconds", f"{s['seconds']}")
    Console().print(t)


@click.command(name="demo")
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="play the closes of a candle CSV instead of the bundled scenario",
)
@click.option("--start", default=None, help=f"first hour (ISO, UTC) of the CSV window [{DEFAULT_CSV_START}]")
@click.option("--hours", type=click.IntRange(2, 2_000), default=None, help="hours to play")
@click.option("--seed", default=7, show_default=True, help="seed of the bundled scenario")
@click.option(
    "--plot", "plot_out", type=click.Path(dir_okay=False), default="out/demo.png", show_default=True
)
@click.option(
    "--json", "json_out", type=click.Path(dir_okay=False), default=None, help="write the report as JSON"
)
@click.option("--no-progress", is_flag=True, help="no progress bar (for logs and CI)")
def command(csv_file, start, hours, seed, plot_out, json_out, no_progress):
    """Deploy on a fresh anvil and play a market scenario through the keeper, the market and the bot."""
    if start is not None and csv_file is None:
        raise BallastError("--start only applies with --csv")
    path = csv_path(csv_file, start, hours) if csv_file else scenario_path(seed, hours)
    click.echo(header_line(path))
    try:
        report = run(path, progress=not no_progress)
    except KeyboardInterrupt:
        raise BallastError("interrupted; anvil stopped") from None
    print_summary(report)
    click.echo(keepers_line(report["keepers"]))
    info = plot(report, Path(plot_out), dates=csv_file is not None)
    click.echo(f"plot: {info.path}")
    for label, hour in info.hidden.items():
        click.echo(f"plot: {label} was liquidated down to dust at hour {hour}; its CR line stops there")
    if json_out:
        Path(json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(json_out).write_text(json.dumps(report, indent=1, default=float) + "\n")
        click.echo(f"json: {json_out}")
