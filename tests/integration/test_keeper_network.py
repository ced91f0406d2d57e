"""The keeper network on anvil: three keepers, three signer keys, quorum 2.

First in one process, round by round with the chain's clock in the test's hands (each keeper a real
`Keeper` with its own HTTP server; peers fetched over real HTTP): the turn's owner relays and the others
send nothing, a compromised signer is left out, a down, slow or lying peer is counted and left out, the
next in turn takes over when the owner is gone, and one keeper alone lands nothing.

Then as an operator runs it: three `ballast keeper run` processes on one anvil mining a block every
second, real HTTP between them. All land updates; with one killed, updates still land (its turns fall
back to the next); with two killed, nothing lands and the market goes stale and degrades as designed
(borrow reverts "market: stale risk data", repay and liquidation work). Every round lands once.

Processes started here are stopped here, by their own PID.
"""

import collections
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import astuple
from pathlib import Path

import pool_fixtures
import pytest

from oracle import model, reports
from oracle.chain import Rpc, Sender
from oracle.errors import BallastError
from oracle.keeper import Asset, Keeper, Settings
from oracle.policy import PolicyParams
from oracle.sources.pool import PoolSource

WETH, USDC = 10**18, 10**6
ROOT = Path(__file__).resolve().parents[2]
PRICE = model.price_from_human(2_000, 6, 18)
ROUND, TURN = 60, 10  # in-process rounds (the chain's clock is the test's)
SIGNER_INDEXES = (7, 8, 9)  # ape test accounts that sign (and relay): used by nothing else here
weth, usdc, create_pool = pool_fixtures.weth, pool_fixtures.usdc, pool_fixtures.create_pool


@pytest.fixture(scope="module", autouse=True)
def _actors_first(admin, guardian, lender, borrower, liquidator, rpc_url):
    """Session actors exist before the module's deployments (ape isolates per scope, in order)."""


@pytest.fixture(scope="module", autouse=True)
def _deployments_first(_actors_first, market, pool, lens):
    """The module's deployments exist before any test snapshots the chain."""


@pytest.fixture(scope="module")
def signers(accounts):
    return [accounts[i] for i in SIGNER_INDEXES]


@pytest.fixture(scope="module")
def risk_oracle(project, admin, guardian, signers, weth, usdc):
    """Three signers, quorum 2; asset 1 = WETH against USDC."""
    oracle = project.RiskOracle.deploy(guardian, [s.address for s in signers], 2, sender=admin)
    oracle.add_asset(weth, usdc, sender=admin)
    return oracle


@pytest.fixture(scope="module")
def pool(create_pool, weth, usdc, chain):
    pool = create_pool(weth, usdc, 1_000 * WETH, 2_000_000 * USDC)
    chain.pending_timestamp += 3_600  # an hour of price history
    chain.mine()
    return pool


@pytest.fixture(scope="module")
def market(project, admin, usdc, weth, risk_oracle):
    blueprint = admin.declare(project.Market, sender=admin).contract_address
    feed_check = project.FeedCheck.deploy(sender=admin)
    factory = project.MarketFactory.deploy(blueprint, risk_oracle, feed_check, sender=admin)
    tx = factory.create_market(usdc, weth, 1, astuple(model.RiskParams()), astuple(model.RateParams()),
                               "Ballast USDC/WETH", "bUSDC-WETH", sender=admin)  # fmt: skip
    return project.Market.at(tx.decode_logs(factory.MarketCreated)[0].market)


@pytest.fixture(scope="module")
def lens(project, admin):
    return project.MarketLens.deploy(sender=admin)


@pytest.fixture(scope="module")
def rpc_url(chain):
    return chain.provider.uri


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _hex(tx_hash) -> str:
    return (tx_hash.hex() if isinstance(tx_hash, bytes) else str(tx_hash)).lower().removeprefix("0x")


def posts(oracle, start_block=0):
    """The MetricsPosted events of the oracle since `start_block`."""
    from ape import chain

    return list(oracle.MetricsPosted.range(start_block, chain.blocks.head.number + 1))


# --- in one process ---------------------------------------------------------------------------------


class Network:
    """Three in-process keepers, each with its own HTTP server (/report, /metrics) and the other two as
    peers (`peer_urls` overrides the peers of every keeper)."""

    def __init__(self, rpc, oracle, pool, signers, peer_urls=None):
        self.ports = [free_port() for _ in signers]
        self.urls = [f"http://127.0.0.1:{p}/report" for p in self.ports]  # as the keepers label them
        self.keepers, self.servers = [], []
        for i, account in enumerate(signers):
            peers = peer_urls if peer_urls is not None else [u for j, u in enumerate(self.urls) if j != i]
            settings = Settings(interval=0, round_seconds=ROUND, turn_seconds=TURN, peer_timeout=0.5,
                                policy=PolicyParams(heartbeat=ROUND))  # fmt: skip
            asset = Asset("WETH", 1, [PoolSource(rpc, pool.address, window=600)])
            k = Keeper(Sender(account, rpc, poll=0.02), oracle.address, [asset], settings, peers=peers)
            k.check_setup()
            self.keepers.append(k)
            self.servers.append(k.telemetry.serve(self.ports[i], book=k.book))

    def by_turn(self, number):
        """The keepers in the turn order of round `number` (owner first)."""
        return sorted(self.keepers, key=lambda k: k.turn_position(number))

    def shutdown(self, i=None):
        for j, server in enumerate(self.servers):
            if i is None or i == j:
                server.shutdown()
                server.server_close()


@pytest.fixture
def network(rpc_url, risk_oracle, pool, signers):
    net = Network(Rpc([rpc_url]), risk_oracle, pool, signers)
    yield net
    net.shutdown()


def next_round(chain) -> int:
    """Move the chain one second into the next round; returns its observation time."""
    at = (chain.blocks.head.timestamp // ROUND + 1) * ROUND
    chain.pending_timestamp = at + 1
    chain.mine()
    return at


def play_round(chain, oracle, keepers, at, step=3, limit=3 * TURN + 5):
    """Tick the live keepers (in the given order) until the round observed at `at` landed, moving the
    chain's clock `step` seconds between passes, for at most `limit` chain seconds. Returns the results
    of the last pass by keeper."""
    results = {}
    while True:
        for k in keepers:
            results[k] = k.tick()
        if oracle.metrics(1)[3] >= at or chain.blocks.head.timestamp - at > limit:
            for k in keepers:  # one more look each: the round closes for everybody
                results[k] = k.tick()
            return results
        chain.pending_timestamp = chain.blocks.head.timestamp + step
        chain.mine()


def nonces(keepers):
    return [k.sender.nonces()[0] for k in keepers]


def test_the_owner_of_the_turn_relays_and_the_others_send_nothing(chain, network, risk_oracle):
    at = next_round(chain)
    owner, *others = network.by_turn(at // ROUND)
    before = nonces(others)
    start = chain.blocks.head.number
    results = play_round(chain, risk_oracle, network.keepers, at)
    [event] = posts(risk_oracle, start)
    assert event.relayer == owner.address and event.observed_at == at
    assert event.signers.bit_count() == 3  # every keeper's report: they all agreed
    assert nonces(others) == before  # the others paid nothing
    assert [results[k].outcome for k in others] == ["landed", "landed"]
    price, _sigma, _depth, observed_at, spread = risk_oracle.metrics(1)
    assert price == pytest.approx(PRICE, rel=1e-9) and observed_at == at and spread == 0
    assert owner.telemetry.peer_up.labels(network.urls[network.keepers.index(others[0])])._value.get() == 1


def test_the_next_in_turn_relays_when_the_owner_is_gone(chain, network, risk_oracle):
    at = next_round(chain)
    owner, second, third = network.by_turn(at // ROUND)
    network.shutdown(network.keepers.index(owner))  # the owner's process is gone: no report, no relay
    start = chain.blocks.head.number
    results = play_round(chain, risk_oracle, [third, second], at)
    [event] = posts(risk_oracle, start)
    relayed_at = chain.provider.get_block(event.block_number).timestamp
    assert event.relayer == second.address and relayed_at >= at + TURN  # after one turn of waiting
    assert event.signers.bit_count() == 2
    assert results[third].outcome == "landed" and not results[third].posted
    gone = network.urls[network.keepers.index(owner)]
    assert second.telemetry.peer_faults.labels(gone, "down")._value.get() == 1
    assert second.telemetry.peer_up.labels(gone)._value.get() == 0


def test_one_keeper_alone_lands_nothing(chain, network, risk_oracle):
    at = next_round(chain)
    alone = network.keepers[0]
    for i in (1, 2):
        network.shutdown(i)
    start = chain.blocks.head.number
    play_round(chain, risk_oracle, [alone], at)
    next_round(chain)
    result = alone.tick()  # the next round starts: the last one is over, missed
    assert posts(risk_oracle, start) == [] and risk_oracle.metrics(1)[3] == 0
    assert result.outcome is None and alone.telemetry.rounds.labels("missed")._value.get() == 1
    assert alone.telemetry.agreeing._value.get() == 1  # its own report, below the quorum of 2


@pytest.mark.parametrize(
    "attack",
    [
        {"price": PRICE * 100},  # the collateral at x100: borrow every lender's funds
        {"price": PRICE // 100},  # x0.01: liquidate everyone
        {"sigma": model.MIN_SIGMA},  # sigma at its minimum: the lowest haircuts
        {"depth": 10**30},  # depth x1000 and more: no liquidity term
    ],
)
def test_a_compromised_signer_is_left_out(chain, rpc_url, risk_oracle, pool, signers, attack):
    """The third signer's key is stolen: its 'keeper' serves whatever it likes, signed with the key. The
    honest two leave it out (an outlier) and land the honest values."""
    honest = Network(Rpc([rpc_url]), risk_oracle, pool, signers[:2])
    attacker_port = free_port()
    attacker_url = f"http://127.0.0.1:{attacker_port}/report"
    from oracle import peers

    book = peers.ReportBook(chain.chain_id, risk_oracle.address)
    server = peers.serve(attacker_port, "127.0.0.1", None, book)
    try:
        for k in honest.keepers:
            k.peers.append(attacker_url)
        at = next_round(chain)
        values = {"price": PRICE, "depth": 10**13, "sigma": model.WAD // 2, **attack}
        words = model.pack_update(1, values["price"], values["depth"], values["sigma"])
        deadline = at + honest.keepers[0].deadline_after()
        book.publish(reports.sign(signers[2], chain.chain_id, risk_oracle.address, at, deadline, words,
                                  {"round": at // ROUND, "base": {"1": 0}}))  # fmt: skip
        start = chain.blocks.head.number
        play_round(chain, risk_oracle, honest.keepers, at, limit=4 * TURN)
        [event] = posts(risk_oracle, start)
        assert event.signers.bit_count() == 2 and event.signers & 0b100 == 0  # signer 2 left out
        price, sigma, depth, _, spread = risk_oracle.metrics(1)
        assert price == pytest.approx(PRICE, rel=1e-9) and spread == 0
        assert sigma > model.MIN_SIGMA and depth < 10**15
        relayer = next(k for k in honest.keepers if k.address == event.relayer)
        assert relayer.telemetry.peer_faults.labels(attacker_url, "outlier")._value.get() == 1
    finally:
        server.shutdown()
        server.server_close()
        honest.shutdown()


def test_slow_and_lying_peers_are_counted_and_left_out(chain, rpc_url, risk_oracle, pool, signers):
    """Two honest keepers with two more peers: one accepts connections and never answers (slow), one
    serves a report signed for another chain (invalid). The honest two land the round."""
    from oracle import peers

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        slow_url = f"http://127.0.0.1:{silent.getsockname()[1]}/report"
        liar_port = free_port()
        liar_url = f"http://127.0.0.1:{liar_port}/report"
        book = peers.ReportBook(chain.chain_id, risk_oracle.address)
        server = peers.serve(liar_port, "127.0.0.1", None, book)
        honest = Network(Rpc([rpc_url]), risk_oracle, pool, signers[:2])
        try:
            for k in honest.keepers:
                k.peers += [slow_url, liar_url]
            at = next_round(chain)
            words = model.pack_update(1, PRICE, 10**13, model.WAD // 2)
            deadline = at + honest.keepers[0].deadline_after()
            book.publish(reports.sign(signers[2], 1, risk_oracle.address, at, deadline, words))  # chain 1
            start = chain.blocks.head.number
            play_round(chain, risk_oracle, honest.keepers, at, limit=4 * TURN)
        finally:
            server.shutdown()
            server.server_close()
            honest.shutdown()
    [event] = posts(risk_oracle, start)
    relayer = next(k for k in honest.keepers if k.address == event.relayer)
    assert relayer.telemetry.peer_faults.labels(slow_url, "slow")._value.get() == 1
    assert relayer.telemetry.peer_faults.labels(liar_url, "invalid")._value.get() == 1


# --- three processes ------------------------------------------------------------------------------


class KeeperProcess:
    """`ballast keeper run` in its own process; its JSON log lines go to a file."""

    def __init__(self, args, log_path: Path):
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{ROOT / 'node_modules' / '.bin'}:"
                   f"{os.environ.get('PATH', '')}", PYTHONPATH=str(ROOT))  # fmt: skip
        env.pop("APE_FOUNDRY_HOST", None)
        self.log_path = log_path
        self.log = log_path.open("w")
        self.proc = subprocess.Popen([str(Path(sys.executable).parent / "ballast"), "keeper", "run", *args],
                                     cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)  # fmt: skip

    def events(self) -> list[dict]:
        out = []
        for line in self.log_path.read_text().splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass  # a line being written
        return out

    def started(self) -> bool:
        return any(e["event"] == "keeper_started" for e in self.events())

    def kill(self) -> None:
        """Gone at once, as a crashed machine (SIGKILL to its PID)."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


PROC_ROUND, PROC_TURN = 8, 4  # seconds: three keepers take turns every round; a fallback waits 4 s


def test_three_keeper_processes_quorum_two(
    tmp_path, chain, accounts, rpc_url, admin, lender, borrower, liquidator, risk_oracle, market, lens, pool, weth, usdc
):
    rpc = Rpc([rpc_url])
    ports = [free_port() for _ in SIGNER_INDEXES]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    keepers = []
    # a lender and a borrower's collateral (their transactions while the node mines on its own go
    # through oracle.chain.Sender, which takes nonces from the node's pending count)
    for account, token, amount in ((lender, usdc, 1_000_000 * USDC), (borrower, weth, 10 * WETH),
                                   (borrower, usdc, 1_000 * USDC), (liquidator, usdc, 1_000_000 * USDC)):  # fmt: skip
        token.mint(account, amount, sender=admin)
        token.approve(market, 2**256 - 1, sender=account)
    market.deposit(1_000_000 * USDC, lender, sender=lender)
    market.supply_collateral(10 * WETH, borrower, sender=borrower)

    def send(account, fn, *args):
        return Sender(account, rpc, poll=0.1).submit(market.address, bytes(fn.encode_input(*args)), label="market")

    rpc.raw("evm_setIntervalMining", [1])  # a node that makes its own blocks, like a testnet
    start_block = chain.blocks.head.number
    try:
        for i, (index, port) in enumerate(zip(SIGNER_INDEXES, ports)):
            args = ["--network", "ethereum:local:foundry", "--rpc", rpc_url, "--account", f"TEST::{index}",
                    "--oracle", risk_oracle.address, "--asset", f"{weth.address}=1",
                    "--source", f"pool:{pool.address}:60", "--round-seconds", str(PROC_ROUND),
                    "--turn-seconds", str(PROC_TURN), "--interval", "0.3", "--heartbeat", "1",
                    "--peer-timeout", "1", "--metrics-port", str(port)]  # fmt: skip
            for j, url in enumerate(urls):
                if j != i:
                    args += ["--peer", url]
            keepers.append(KeeperProcess(args, tmp_path / f"keeper{i}.log"))
        wait_for(lambda: all(k.started() for k in keepers), 120, "three keepers to start")

        # all three: updates land, with the three reports in them
        wait_for(lambda: len(posts(risk_oracle, start_block)) >= 3, 60, "three rounds to land")
        assert max(e.signers.bit_count() for e in posts(risk_oracle, start_block)) == 3
        send(borrower, market.borrow, lens.max_borrowable(market, borrower) * 95 // 100, borrower)  # 95% of its limit

        # one killed: its turns fall back to the next, updates still land
        keepers[0].kill()
        killed_at = chain.blocks.head.timestamp
        wait_for(lambda: len([e for e in posts(risk_oracle, start_block) if e.observed_at > killed_at]) >= 3, 60,
                 "three rounds to land without keeper 0")  # fmt: skip
        after = [e for e in posts(risk_oracle, start_block) if e.observed_at > killed_at]
        assert all(e.signers.bit_count() == 2 for e in after)
        turns = {(e.observed_at // PROC_ROUND) % 3 for e in after}
        assert len(turns) == 3  # including the rounds that were keeper 0's turn

        # two killed: nothing lands any more
        keepers[1].kill()
        time.sleep(PROC_ROUND)  # a round relayed as the second died may still land
        last = max(e.observed_at for e in posts(risk_oracle, start_block))
        time.sleep(2 * PROC_ROUND + 2)
        assert max(e.observed_at for e in posts(risk_oracle, start_block)) == last
        survivor = keepers[2].events()
        assert any(e["event"] == "round_missed" and e["agreeing"] == 1 for e in survivor)
        assert any(e["event"] == "peer_fault" and e["kind"] == "down" for e in survivor)

        # the market goes stale and degrades: no new risk, repay and liquidation go on
        chain.pending_timestamp = chain.blocks.head.timestamp + 4 * 3_600
        chain.mine()
        with pytest.raises(BallastError, match="^transaction would revert: market: stale risk data$"):
            send(borrower, market.borrow, USDC, borrower)
        debt = market.position(borrower)[1]
        send(borrower, market.repay, 100 * USDC, borrower)
        assert market.position(borrower)[1] < debt
        assert lens.is_liquidatable(market, borrower)  # the stressed sigma of stale data
        debt = market.position(borrower)[1]
        result = send(liquidator, market.liquidate, borrower, 1_000 * USDC)
        [liquidated] = chain.provider.get_receipt(result.tx_hash).decode_logs(market.Liquidated)
        assert liquidated.borrower == borrower and market.position(borrower)[1] < debt

        # every round landed once, and nobody paid for a post that reverted. The keepers stop first: they
        # are still posting (the clock moved 4 h), and a batch that landed may not be logged yet
        for k in keepers:
            k.stop()
        landed_events = posts(risk_oracle, start_block)
        landed = collections.Counter(e.observed_at for e in landed_events)
        assert landed and max(landed.values()) == 1
        events = [e for k in keepers for e in k.events()]
        assert not any(e["event"] == "tx_reverted" for e in events)
        # every post a keeper logged landed; one that landed but was never logged was sent by a keeper
        # killed (SIGKILL) between its send and its log line - at most one each
        landed_txs = {_hex(e.transaction_hash) for e in landed_events}
        logged_txs = [_hex(e["tx"]) for e in events if e["event"] == "posted"]
        assert len(logged_txs) == len(set(logged_txs)) and set(logged_txs) <= landed_txs
        killed = {accounts[SIGNER_INDEXES[i]].address for i in (0, 1)}
        unlogged = collections.Counter(chain.provider.get_receipt(h).sender for h in landed_txs - set(logged_txs))
        assert set(unlogged) <= killed and max(unlogged.values(), default=0) <= 1, unlogged
    finally:
        for k in keepers:
            k.stop()
        rpc.raw("evm_setIntervalMining", [0])
        rpc.raw("evm_setAutomine", [True])
    assert all(k.proc.poll() is not None for k in keepers)
