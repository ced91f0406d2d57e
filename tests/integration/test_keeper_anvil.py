"""The keeper against the real RiskOracle on anvil (quorum 1: this keeper is the only signer; the keeper
network is tests/integration/test_keeper_network.py): units from the chain, the pool's time-weighted price
against one swap, posts, guardrails, nonce recovery, fee bumps, RPC failover, dry run and the CLI's
one-line errors.

The keeper signs reports with an ape test account and relays them through raw JSON-RPC (oracle.chain).
Extra anvil processes are started here and stopped by their own PID.
"""

import csv
import itertools
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import astuple
from pathlib import Path

import pool_fixtures
import pytest
from click.testing import CliRunner
from web3 import Web3

from oracle import metrics, model, reports
from oracle.chain import Fees, Rpc, Sender
from oracle.cli import main
from oracle.errors import BallastError
from oracle.keeper import Asset, Keeper, ReplayClock, Settings
from oracle.policy import PolicyParams
from oracle.sources.csv import CsvReplaySource
from oracle.sources.pool import PoolSource

WETH, USDC = 10**18, 10**6
PRICE_2000 = model.price_from_human(2_000, 6, 18)  # 2,000 USDC per WETH: 2e3 * 1e6 / 1e18 * 1e36 = 2e27
# the shared token and pool fixtures, used by name in this module's tests
weth, usdc, create_pool = pool_fixtures.weth, pool_fixtures.usdc, pool_fixtures.create_pool
ROOT = Path(__file__).resolve().parents[2]
TWAP = 1_800  # the pool source's default window


@pytest.fixture(scope="module", autouse=True)
def _actors_first(admin, keeper, guardian, other, lender, borrower, attacker, rpc_url):
    """Session actors exist before the module's deployments (ape isolates per scope, in order)."""


@pytest.fixture(scope="module", autouse=True)
def _deployments_first(_actors_first, market, pool, lens):
    """The module's deployments (the market pulls in the tokens and the oracle) exist before any test
    snapshots the chain."""


# --- fixtures -------------------------------------------------------------------------------------


def deploy_oracle(project, admin, guardian, signers, quorum, pairs):
    oracle = project.RiskOracle.deploy(guardian, [s.address for s in signers], quorum, sender=admin)
    for collateral, loan in pairs:
        oracle.add_asset(collateral, loan, sender=admin)
    return oracle


@pytest.fixture(scope="module")
def risk_oracle(project, admin, guardian, keeper, weth, usdc):
    """One signer, the keeper (the explicit one-signer setup); asset 1 = WETH against USDC."""
    return deploy_oracle(project, admin, guardian, [keeper], 1, [(weth, usdc)])


@pytest.fixture(scope="module")
def pool(create_pool, weth, usdc, chain):
    pool = create_pool(weth, usdc, 100 * WETH, 200_000 * USDC)
    chain.pending_timestamp += 2 * TWAP  # a price history longer than the source's window
    chain.mine()
    return pool


@pytest.fixture(scope="module")
def rpc_url(chain):
    return chain.provider.uri


@pytest.fixture
def rpc(rpc_url):
    return Rpc([rpc_url])


def make_keeper(rpc, account, oracle, sources, weth, clock=None, pokes=None, **sender_kw):
    asset = Asset(weth.address, 1, sources)
    settings = Settings(interval=0, round_seconds=1)  # every new block is a new round
    return Keeper(Sender(account, rpc, **sender_kw), oracle.address, [asset], settings, clock, pokes=pokes)


def pool_keeper(rpc, account, oracle, pool, weth, **kw):
    return make_keeper(rpc, account, oracle, [PoolSource(rpc, pool.address)], weth, **kw)


def deploy_market(project, admin, blueprint, usdc, weth, oracle):
    """A real Market lending USDC against WETH (asset 1 of `oracle`), from the factory's blueprint."""
    feed_check = project.FeedCheck.deploy(sender=admin)
    factory = project.MarketFactory.deploy(blueprint, oracle, feed_check, sender=admin)
    tx = factory.create_market(usdc, weth, 1, astuple(model.RiskParams()), astuple(model.RateParams()),
                               "Ballast USDC/WETH", "bUSDC-WETH", sender=admin)  # fmt: skip
    return project.Market.at(tx.decode_logs(factory.MarketCreated)[0].market)


@pytest.fixture(scope="module")
def blueprint(project, admin):
    return admin.declare(project.Market, sender=admin).contract_address


@pytest.fixture(scope="module")
def lens(project, admin):
    """The MarketLens: the market views no transaction needs."""
    return project.MarketLens.deploy(sender=admin)


@pytest.fixture(scope="module")
def market(project, admin, blueprint, usdc, weth, risk_oracle):
    return deploy_market(project, admin, blueprint, usdc, weth, risk_oracle)


def signed_post(rpc, oracle, signer, at, price=PRICE_2000, deadline=None) -> bytes:
    """Calldata of a post of asset 1 signed by `signer` (an ape account) at `at`."""
    words = model.pack_update(1, price, 10**12, model.WAD)
    rep = reports.sign(signer, rpc.chain_id(), oracle.address, at, at + 3_600 if deadline is None else deadline,
                       words)  # fmt: skip
    return reports.build_batch([rep], list(oracle.signers())).calldata()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_anvil(*args) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(["anvil", "--port", str(port), "--silent", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    w3 = Web3(Web3.HTTPProvider(url))
    for _ in range(100):
        try:
            if w3.eth.chain_id:
                return proc, url
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.1)
    stop_process(proc)
    raise RuntimeError("anvil did not start")


def stop_process(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def manual_mining(rpc):
    """Automine off for the test (a sent transaction waits in the pool until the test mines)."""
    rpc.raw("evm_setAutomine", [False])
    yield
    rpc.raw("evm_setAutomine", [True])
    rpc.raw("evm_mine", [])


def receipt_or_none(rpc, tx_hash):
    return rpc.raw("eth_getTransactionReceipt", [tx_hash])


# --- units and posting ----------------------------------------------------------------------------


def test_usdc_loan_token_units_come_from_the_chain(chain, rpc, keeper, risk_oracle, pool, weth, usdc):
    """The issue's USDC case: the loan token has 6 decimals. The keeper reads both tokens' decimals from
    the chain (the old default of 18 planned a price 10**12 too high, and the oracle would have taken it)."""
    k = pool_keeper(rpc, keeper, risk_oracle, pool, weth)
    k.check_setup()
    asset = k.assets[0]
    assert (asset.collateral, asset.loan) == (weth.address, usdc.address)  # asset_of(1), from the oracle
    assert (asset.collateral_decimals, asset.loan_decimals) == (18, 6)  # from the tokens
    chain.mine()
    result = k.tick()
    [update] = result.updates
    assert update["price"] == PRICE_2000 == 2_000 * 10**24  # 2,000e6 raw USDC per 1e18 raw WETH, at 1e36
    assert update["price"] != 2_000 * 10**36  # what a loan token of 18 decimals would have given
    assert risk_oracle.metrics(1)[0] == PRICE_2000


def test_keeper_posts_pool_metrics_to_the_oracle(chain, rpc, keeper, risk_oracle, pool, weth):
    k = pool_keeper(rpc, keeper, risk_oracle, pool, weth)
    k.check_setup()
    chain.mine()  # a new block: a new round
    result = k.tick()
    assert result.posted and result.tx_hash and result.outcome == "relayed"
    price, sigma, depth, observed_at, spread = risk_oracle.metrics(1)
    assert price == PRICE_2000 and spread == 0  # one signer: no disagreement
    assert sigma == model.units_to_sigma(model.sigma_to_units(round(0.8 * model.WAD)))  # the prior
    _, r_usdc = pool.get_reserves()
    assert depth == pytest.approx(r_usdc * (0.997 / 0.98 - 1) / 0.997, rel=1e-6)
    mined_in = result_block(rpc, result)
    # the round is the chain's time when the keeper looked (rounds of one second here); mined in the next block
    assert observed_at == result.observed_at == chain.provider.get_block(mined_in - 1).timestamp
    receipt = chain.provider.get_receipt(result.tx_hash)
    [event] = receipt.decode_logs(risk_oracle.MetricsPosted)
    assert event.relayer == keeper and event.observed_at == observed_at and event.assets == 1
    assert event.signers == 1  # bit 0: the oracle's signer 0, the keeper
    assert k.telemetry.posts._value.get() == 1 and k.telemetry.signed._value.get() == 1


def result_block(rpc, result):
    return int(receipt_or_none(rpc, result.tx_hash)["blockNumber"], 16)


def start_of_an_hour(chain) -> int:
    """Move the chain to one second after the next full hour (rounds of an hour start there)."""
    hour = (chain.blocks.head.timestamp // 3_600 + 1) * 3_600
    chain.pending_timestamp = hour + 1
    chain.mine()
    return hour


def test_nothing_more_in_a_round_that_landed(chain, rpc, keeper, risk_oracle, pool, weth):
    k = pool_keeper(rpc, keeper, risk_oracle, pool, weth)
    k.settings.round_seconds = 3_600
    start_of_an_hour(chain)
    assert k.tick().posted
    nonce = keeper.nonce
    again = k.tick()  # the same round (no new block): it landed, nothing is sent
    assert not again.posted and again.outcome == "relayed" and keeper.nonce == nonce


def test_a_new_keeper_sees_the_round_landed_and_sends_nothing(chain, rpc, keeper, risk_oracle, pool, weth):
    first, late = (pool_keeper(rpc, keeper, risk_oracle, pool, weth) for _ in range(2))
    for k in (first, late):
        k.settings.round_seconds = 3_600
    hour = start_of_an_hour(chain)
    assert first.tick().posted
    nonce = keeper.nonce
    result = late.tick()  # e.g. restarted in the same round, seconds later
    assert not result.posted and result.outcome == "landed" and keeper.nonce == nonce
    assert risk_oracle.metrics(1)[3] == result.observed_at == hour


def test_a_post_of_another_relayer_landing_mid_round_supersedes_the_batch(
    chain, rpc, keeper, other, risk_oracle, pool, weth
):
    """Another relayer's post of an earlier round lands after this keeper read the oracle and before it
    relays: the keeper's batch was clipped to the guardrails against the state it read (its base), and
    that post moved the state, so the relay's simulation reverts "price moves too fast". That is a race
    another relayer won, not a fault (seen in the README walk-through under load, logged as a
    `tick_failed` error): the keeper logs `relay_superseded`, sends nothing, and signs again against the
    new state in its next check."""
    import logging

    class Events(logging.Handler):  # the keeper's own logger (the CLI may have stopped its propagation)
        def __init__(self):
            super().__init__(logging.INFO)
            self.records = []

        def emit(self, record):
            self.records.append(record)

    k = pool_keeper(rpc, keeper, risk_oracle, pool, weth)
    k.settings.round_seconds = 3_600
    start_of_an_hour(chain)
    assert k.tick().posted
    price, sigma, depth, base, _ = risk_oracle.metrics(1)
    hour = start_of_an_hour(chain)  # the heartbeat (1 h) makes the next round due
    g = model.GuardParams(*risk_oracle.guard_params())
    # the earlier round's post: a 30% fall ten seconds before this round, within its bound
    earlier = hour - 10
    fallen = model.clip_price(price, price * 7 // 10, earlier - base, g)
    assert fallen == model.price_of(model.encode_price(price * 7 // 10))  # not clipped: the bound allows it
    rep = reports.sign(keeper, rpc.chain_id(), risk_oracle.address, earlier, earlier + 3_600,
                       model.pack_update(1, fallen, depth, sigma))  # fmt: skip
    data = reports.build_batch([rep], list(risk_oracle.signers())).calldata()
    collect, sent = k.collect, []

    def collect_while_another_relayer_lands(rnd):  # between the keeper's read and its relay
        sent.append(rpc.raw("eth_sendTransaction", [{"from": other.address, "to": risk_oracle.address,
                                                     "data": "0x" + data.hex(), "gas": hex(500_000)}]))  # fmt: skip
        k.collect = collect
        return collect(rnd)

    k.collect = collect_while_another_relayer_lands
    nonce = keeper.nonce
    logger, seen = logging.getLogger("ballast"), Events()
    level = logger.level
    logger.addHandler(seen)
    logger.setLevel(logging.INFO)
    try:
        result = k.tick()
        first, nonce_after = list(seen.records), keeper.nonce
        seen.records.clear()
        k.tick()  # the same round, against the new state
    finally:
        logger.removeHandler(seen)
        logger.setLevel(level)
    assert receipt_or_none(rpc, sent[0])["status"] == "0x1"
    assert risk_oracle.metrics(1)[:4:3] == (fallen, earlier)  # the other relayer's post landed
    assert not result.posted and nonce_after == nonce
    assert "relay_superseded" in [r.getMessage() for r in first]
    assert not [r for r in first if r.levelno >= logging.ERROR]
    assert "report_resigned" in [r.getMessage() for r in seen.records]


def test_the_issues_attack_one_swap_does_not_reach_the_market(
    chain, project, rpc, admin, keeper, lender, borrower, attacker, risk_oracle, market, lens, pool, weth, usdc
):
    """One swap takes the pool from 2,000 to ~1,513 right before the keeper reads, with a position at 90%
    of its borrowing limit. Posting spot would have made it liquidatable; the keeper posts the pool's
    time-weighted price and the position stays healthy."""
    k = pool_keeper(rpc, keeper, risk_oracle, pool, weth)
    k.settings.policy = PolicyParams(heartbeat=1)  # post every round
    chain.mine()
    assert k.tick().posted
    usdc.mint(lender, 1_000_000 * USDC, sender=admin)
    usdc.approve(market, 2**256 - 1, sender=lender)
    market.deposit(1_000_000 * USDC, lender, sender=lender)
    weth.mint(borrower, 10 * WETH, sender=admin)
    weth.approve(market, 2**256 - 1, sender=borrower)
    market.supply_collateral(10 * WETH, borrower, sender=borrower)
    market.borrow(lens.max_borrowable(market, borrower) * 90 // 100, borrower, sender=borrower)

    r_weth, r_usdc = (int(x) for x in pool.get_reserves())
    k_pool = (r_weth / WETH) * (r_usdc / USDC)
    sell = int(((k_pool / 1_513) ** 0.5 - r_weth / WETH) / 0.997 * WETH)
    weth.mint(attacker, sell, sender=admin)
    weth.approve(pool, sell, sender=attacker)
    # the swap's block opens the next round (round_seconds=1): on a fast machine anvil may give every block
    # since the first tick the same second, and the keeper would then see the round it already relayed
    chain.pending_timestamp = chain.blocks.head.timestamp + 1
    pool.swap(weth, sell, 0, attacker, sender=attacker)
    result = k.tick()
    assert result.posted
    source = k.assets[0].sources[0]
    assert source.last_spot == pytest.approx(1_513, rel=1e-3)  # what a spot source would have posted
    posted = risk_oracle.metrics(1)[0]
    # the time-weighted price moves by the spot's fall times the seconds it has held over the window:
    # a few seconds of -24% on a loaded machine are a few tenths of a percent, not the 24% of the spot
    assert posted == pytest.approx(PRICE_2000, rel=1e-2)
    assert not lens.is_liquidatable(market, borrower) and lens.health_factor(market, borrower) >= model.WAD
    collateral, debt = (int(x) for x in market.position(borrower))
    h_maint = int(lens.h_maint_of(market, borrower))
    value_at_spot = collateral * model.price_from_human(1_513, 6, 18) // model.PRICE_SCALE
    assert not model.is_healthy(debt, value_at_spot, h_maint)  # at spot it would have been liquidated


def _write_candles(path: Path, closes: list[float], start: int = 1_600_000_000, step: int = 3_600) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["unix", "date", "symbol", "open", "high", "low", "close", "Volume ETH", "Volume USDT"])
        prev = closes[0]
        for i, c in enumerate(closes):
            ts = start + i * step
            w.writerow([ts, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)), "ETH/USDT", prev,
                        max(prev, c) * 1.001, min(prev, c) * 0.999, c, 1_000, 1_000 * c])  # fmt: skip
            prev = c


def test_replay_respects_guardrails_hour_by_hour(tmp_path, rpc, keeper, risk_oracle, weth):
    """A violent day then calm, measured by an estimator that forgets within the hour: the estimate
    collapses, the posts may not. Every post is accepted (never a revert), sigma falls and depth rises
    no faster than the oracle allows, nothing lands in the pending slot, one post per candle hour."""
    closes = [2_000.0 * (1.06 if i % 2 else 0.95) for i in range(24)] + [2_000.0 + (i % 2) for i in range(24)]
    path = tmp_path / "swing.csv"
    _write_candles(path, closes)
    source = CsvReplaySource.from_path(path)
    k = make_keeper(rpc, keeper, risk_oracle, [source], weth, clock=ReplayClock(rpc, speed=0, warp=True))
    k.settings.estimator = metrics.EstimatorParams(half_life_down=1_800)
    g = model.GuardParams(*risk_oracle.guard_params())
    history, sigma_clipped, depth_clipped = [], 0, 0
    while not (result := k.tick()).finished:
        if result.posted:
            history.append(risk_oracle.metrics(1))
            [update] = result.updates
            measured_sigma, measured_depth = k.estimate(k.assets[0], k.assets[0].last)
            sigma_clipped += measured_sigma * model.WAD < update["sigma"] * 0.99
            depth_clipped += measured_depth * USDC > update["depth"] * 1.01
    assert len(history) == 48 - 24 + 1  # from the end of the warm-up, every bar
    for (_, s0, d0, t0, _), (_, s1, d1, t1, _) in itertools.pairwise(history):
        assert t1 - t0 == 3_600  # candle time mapped onto chain time, one bar per hour
        assert s1 >= model.min_sigma_allowed(s0, t1 - t0, g)
        assert d1 <= model.max_depth_allowed(d0, t1 - t0, g)
    assert sigma_clipped > 10 and depth_clipped > 10  # the guardrails, not the estimate, set the pace
    assert risk_oracle.pending(1) == (0, 0, 0)


def test_dry_run_sends_nothing(chain, rpc, keeper, risk_oracle, pool, weth):
    k = pool_keeper(rpc, keeper, risk_oracle, pool, weth, dry_run=True)
    chain.mine()
    nonce, block = keeper.nonce, chain.blocks.head.number
    result = k.tick()
    assert result.posted and result.tx_hash is None and result.updates and result.outcome == "planned"
    assert keeper.nonce == nonce and chain.blocks.head.number == block
    assert risk_oracle.metrics(1) == (0, 0, 0, 0, 0)


def test_dry_run_still_reports_a_revert(rpc, keeper, other, risk_oracle):
    sender = Sender(keeper, rpc, dry_run=True)
    at = rpc.block_timestamp()
    forged = reports.sign(other, rpc.chain_id(), risk_oracle.address, at, at + 60, model.pack_update(1, PRICE_2000,
                          10**12, model.WAD))  # signed by someone not in the set  # fmt: skip
    data = reports.Batch(at, at + 60, list(forged.words), [forged.r, forged.vs], 0, [keeper.address]).calldata()
    with pytest.raises(BallastError, match="^transaction would revert: oracle: bad signature$"):
        sender.submit(risk_oracle.address, data)


def test_reverting_post_is_one_error_line_and_costs_nothing(rpc, keeper, risk_oracle):
    sender = Sender(keeper, rpc)
    now, nonce = rpc.block_timestamp(), keeper.nonce
    with pytest.raises(BallastError, match="^transaction would revert: oracle: deadline passed$"):
        sender.submit(risk_oracle.address, signed_post(rpc, risk_oracle, keeper, now, deadline=now - 1))
    assert keeper.nonce == nonce


def test_account_that_is_not_a_signer_fails_setup(rpc, other, risk_oracle, pool, weth):
    k = pool_keeper(rpc, other, risk_oracle, pool, weth)
    with pytest.raises(BallastError, match=f"^account {other.address} is not a signer of the oracle"):
        k.check_setup()


def test_an_oracle_that_is_not_a_riskoracle_fails_setup(rpc, keeper, pool, weth, usdc):
    k = pool_keeper(rpc, keeper, pool, pool, weth)  # the pool's address given as the oracle
    with pytest.raises(BallastError, match=f"^--oracle {pool.address} is not a RiskOracle$"):
        k.check_setup()
    k = pool_keeper(rpc, keeper, weth, pool, weth)
    with pytest.raises(BallastError, match=f"^--oracle {weth.address} is not a RiskOracle$"):
        k.check_setup()


def test_quorum_out_of_reach_without_peers_fails_setup(project, rpc, admin, guardian, keeper, other, pool, weth,
                                                       usdc):  # fmt: skip
    oracle = deploy_oracle(project, admin, guardian, [keeper, other, admin], 2, [(weth, usdc)])
    k = pool_keeper(rpc, keeper, oracle, pool, weth)
    with pytest.raises(BallastError, match=r"^the oracle needs 2 signatures per batch: give at least 1 --peer"):
        k.check_setup()


# --- nonce recovery and fee bumping ---------------------------------------------------------------


def _post_data(rpc, oracle, signer, price=PRICE_2000):
    return signed_post(rpc, oracle, signer, rpc.block_timestamp(), price)


def mine_when_replaced(rpc, sender, nonce, priority_above, mined_by):
    """A thread that mines one block as soon as a replacement for `nonce` (priority fee above
    `priority_above`) sits in the node's pool: a stuck transaction and its rescue, in order."""

    def run():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            waiting = sender.waiting_tx(nonce)
            if waiting and int(waiting["maxPriorityFeePerGas"], 16) > priority_above:
                mined_by.append(waiting["hash"])
                rpc.raw("evm_mine", [])
                return
            time.sleep(0.05)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_fee_bump_replaces_a_stuck_transaction(rpc, keeper, risk_oracle, manual_mining):
    sender = Sender(keeper, rpc, stuck_after=0.5, poll=0.05)
    first_fees = sender.current_fees()
    nonce, mined_by = keeper.nonce, []
    thread = mine_when_replaced(rpc, sender, nonce, first_fees.priority, mined_by)
    result = sender.submit(risk_oracle.address, _post_data(rpc, risk_oracle, keeper))
    thread.join()
    assert result.nonce == nonce and len(result.replaced) == 1
    assert result.tx_hash == mined_by[0]
    assert receipt_or_none(rpc, result.replaced[0]) is None  # the stuck one never made it
    assert result.fees.priority * 1000 >= first_fees.priority * 1125
    assert result.fees.max_fee * 1000 >= first_fees.max_fee * 1125
    assert keeper.nonce == nonce + 1


def test_restart_replaces_a_transaction_left_in_the_pool(rpc, keeper, risk_oracle, manual_mining):
    before = Sender(keeper, rpc, stuck_after=0.3, max_bumps=0, poll=0.05)
    nonce = keeper.nonce
    with pytest.raises(BallastError, match=f"stuck at nonce {nonce} after 0 fee bumps"):
        before.submit(risk_oracle.address, _post_data(rpc, risk_oracle, keeper, price=PRICE_2000 // 2))
    left = before.waiting_tx(nonce)
    assert left is not None

    after = Sender(keeper, rpc, poll=0.05)  # a new process: knows nothing but what the node says
    assert after.nonces() == (nonce, nonce + 1)
    mined_by: list[str] = []
    thread = mine_when_replaced(rpc, after, nonce, int(left["maxPriorityFeePerGas"], 16), mined_by)
    result = after.submit(risk_oracle.address, _post_data(rpc, risk_oracle, keeper, price=PRICE_2000 * 3 // 2))
    thread.join()
    assert result.nonce == nonce and result.replaced == [left["hash"]] and result.tx_hash == mined_by[0]
    assert result.fees.priority * 1000 >= int(left["maxPriorityFeePerGas"], 16) * 1125
    assert keeper.nonce == nonce + 1 and receipt_or_none(rpc, left["hash"]) is None
    assert risk_oracle.metrics(1)[0] == PRICE_2000 * 3 // 2  # the new post, not the one left behind


def test_restart_after_a_mined_post_uses_the_next_nonce(rpc, keeper, risk_oracle):
    first = Sender(keeper, rpc).submit(risk_oracle.address, _post_data(rpc, risk_oracle, keeper))
    rpc.raw("evm_mine", [rpc.block_timestamp() + 3_600])  # an hour: the price may move 50%
    second = Sender(keeper, rpc).submit(risk_oracle.address, _post_data(rpc, risk_oracle, keeper, PRICE_2000 * 21 // 20))
    assert second.nonce == first.nonce + 1 and not second.replaced
    assert risk_oracle.metrics(1)[0] == PRICE_2000 * 21 // 20


def test_fee_bump_is_at_least_twelve_and_a_half_percent():
    fees = Fees(max_fee=1_000_000_007, priority=8)
    bumped = fees.bumped()
    assert bumped.max_fee == math.ceil(1_000_000_007 * 1.125) and bumped.priority == 9


# --- RPC failover ---------------------------------------------------------------------------------


def test_failover_from_a_dead_url_to_a_live_one(rpc_url, keeper, risk_oracle, pool, weth):
    """Primary: a fork of the node (a second anvil); it dies mid-run; the keeper carries on."""
    proc, fork_url = start_anvil("--fork-url", rpc_url)
    try:
        # a fork answers slowly on a loaded machine (it reads state from the node); the dead fork below
        # refuses connections at once, so a generous timeout costs nothing
        rpc = Rpc([fork_url, rpc_url], timeout=10)
        fork, main = Web3(Web3.HTTPProvider(fork_url)), Web3(Web3.HTTPProvider(rpc_url))
        fork.provider.make_request("evm_mine", [])
        k = pool_keeper(rpc, keeper, risk_oracle, pool, weth)
        first = k.tick()
        assert first.posted and rpc.url == fork_url
        assert fork.eth.get_transaction_receipt(first.tx_hash)["status"] == 1
        assert risk_oracle.metrics(1) == (0, 0, 0, 0, 0)  # it went to the fork only
    finally:
        stop_process(proc)
    assert proc.poll() is not None
    # the next round (one second: round_seconds=1) on the main node: the fork's round was relayed there and
    # a main block in the same second would be the same round (seen on a loaded machine)
    at = max(main.eth.get_block("latest")["timestamp"], first.observed_at) + 1
    main.provider.make_request("evm_setNextBlockTimestamp", [at])
    main.provider.make_request("evm_mine", [])
    second = k.tick()
    assert second.posted and rpc.url == rpc_url and rpc.failovers == 1
    assert main.eth.get_transaction_receipt(second.tx_hash)["status"] == 1
    assert risk_oracle.metrics(1)[3] == second.observed_at


def test_all_urls_dead_is_one_error_line():
    proc, url = start_anvil()
    stop_process(proc)
    rpc = Rpc([url, f"http://127.0.0.1:{free_port()}"], timeout=1)
    with pytest.raises(
        BallastError, match=r"^unreachable RPC: http://127\.0\.0\.1:\d+, http://127\.0\.0\.1:\d+$"
    ):
        rpc.chain_id()


# --- the CLI --------------------------------------------------------------------------------------


def _cli(args):
    result = CliRunner().invoke(main, ["keeper", "run", *args])
    return result.exit_code, result.output.strip().splitlines()


def _base_args(rpc_url, risk_oracle, pool, weth, account="TEST::1"):
    return ["--network", "ethereum:local:foundry", "--rpc", rpc_url, "--account", account, "--oracle",
            risk_oracle.address, "--asset", f"{weth.address}=1", "--source", f"pool:{pool.address}"]  # fmt: skip


def test_cli_once_posts(chain, rpc_url, keeper, risk_oracle, pool, weth):
    chain.mine()
    code, lines = _cli([*_base_args(rpc_url, risk_oracle, pool, weth), "--once"])
    assert code == 0, lines
    events = [json.loads(line)["event"] for line in lines if line.startswith("{")]
    assert "posted" in events and events[-1] == "keeper_stopped"
    assert risk_oracle.metrics(1)[0] == PRICE_2000


def test_cli_dry_run_sends_nothing(chain, rpc_url, keeper, risk_oracle, pool, weth):
    chain.mine()
    nonce = keeper.nonce
    code, lines = _cli([*_base_args(rpc_url, risk_oracle, pool, weth), "--once", "--dry-run"])
    assert code == 0, lines
    assert any(json.loads(line)["event"] == "post_planned" for line in lines if line.startswith("{"))
    assert keeper.nonce == nonce and risk_oracle.metrics(1) == (0, 0, 0, 0, 0)


@pytest.mark.parametrize(
    "change, message",
    [
        (("--network", "ethereum:nowhere"), "ballast: error: unknown network 'ethereum:nowhere'"),
        (
            ("--account", "ghost"),
            "ballast: error: no ape account named 'ghost'",
        ),
        (("--rpc", "http://127.0.0.1:1"), "ballast: error: unreachable RPC: http://127.0.0.1:1"),
        (("--account", "TEST::7"), "ballast: error: account 0x14dC79964da2C08b23698B3D3cc7Ca32193d9955 is not a signer"),
        (("--source", "pool:nonsense"), "ballast: error: bad --source 'pool:nonsense'"),
        (("--poke", "nonsense"), "ballast: error: --poke 'nonsense' is not an address"),
        (("--peer", "localhost"), "ballast: error: bad --peer 'localhost' (expected http://HOST:PORT)"),
        (("--asset", "0xdeadbeef=1"), "ballast: error: bad --asset '0xdeadbeef=1': '0xdeadbeef' is not an address"),
        (("--asset", "WETH=7"), "ballast: error: asset id 7 is not an asset of the oracle"),
        (("--loan-decimals", "18"), "ballast: error: --loan-decimals 18 disagrees with the loan token"),
        (("--min-sources", "2"), "has 1 source(s) but --min-sources is 2"),
        (("--oracle", "POOL"), "is not a RiskOracle"),
    ],
)
def test_cli_errors_are_one_line(rpc_url, risk_oracle, pool, weth, change, message):
    args = _base_args(rpc_url, risk_oracle, pool, weth)
    if change[1] == "POOL":
        change = (change[0], pool.address)
    if change[0] in args:
        args[args.index(change[0]) + 1] = change[1]
    else:
        args += list(change)
    code, lines = _cli([*args, "--once"])
    errors = [line for line in lines if not line.startswith("{")]
    assert code == 1
    assert len(errors) == 1 and errors[0].startswith("ballast: error: ") and message in errors[0]


def test_a_revert_ends_in_one_error_line_with_its_reason(chain, rpc_url, admin, risk_oracle, pool, weth):
    risk_oracle.pause(sender=admin)
    chain.mine()
    code, lines = _cli([*_base_args(rpc_url, risk_oracle, pool, weth), "--once"])
    errors = [line for line in lines if not line.startswith("{")]
    assert code == 1 and errors == ["ballast: error: transaction would revert: oracle: paused"]


def test_sigterm_stops_the_running_keeper_gracefully(chain, rpc_url, risk_oracle, pool, weth):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-c", "from oracle.cli import main; main()", "keeper", "run",
            *_base_args(rpc_url, risk_oracle, pool, weth), "--interval", "0.2"]  # fmt: skip
    chain.mine()
    proc = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        events = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            if line.startswith("{"):
                events.append(json.loads(line)["event"])
                if "posted" in events:
                    break
        assert "posted" in events
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=60)  # it exits in 1-2 s; a busy shared machine has taken > 30
    finally:
        stop_process(proc)
    tail = [json.loads(line)["event"] for line in err.splitlines() if line.startswith("{")]
    assert proc.returncode == 0
    assert "signal" in tail and tail[-1] == "keeper_stopped"


def test_cli_replays_a_csv_hour_by_hour(tmp_path, rpc_url, risk_oracle, weth, pool):
    path = tmp_path / "eth.csv"
    _write_candles(path, [2_000.0 * (1 + 0.01 * ((i * 7) % 5 - 2)) for i in range(30)])
    args = _base_args(rpc_url, risk_oracle, pool, weth)
    args[args.index("--source") + 1] = f"csv:{path}"
    code, lines = _cli([*args, "--speed", "0", "--warmup-bars", "24"])
    assert code == 0, lines
    events = [json.loads(line) for line in lines if line.startswith("{")]
    posts = [e for e in events if e["event"] == "posted"]
    assert len(posts) == 30 - 24 + 1 and events[-2]["event"] == "replay_finished"
    times = [p["observed_at"] for p in posts]
    assert all(b - a == 3_600 for a, b in itertools.pairwise(times))
    assert risk_oracle.metrics(1)[3] == times[-1]
    assert risk_oracle.metrics(1)[0] == round(posts[-1]["updates"][0]["price"])


def test_prometheus_metrics_and_the_signed_report_are_served(chain, rpc, keeper, risk_oracle, pool, weth):
    import urllib.request

    k = pool_keeper(rpc, keeper, risk_oracle, pool, weth)
    k.check_setup()
    port = free_port()
    server = k.telemetry.serve(port, book=k.book)
    try:
        chain.mine()
        result = k.tick()
        assert result.posted
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        served = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/report", timeout=5).read())
    finally:
        server.shutdown()
        server.server_close()
    values = {
        line.split(" ")[0]: float(line.split(" ")[1]) for line in body.splitlines() if line and line[0] != "#"
    }
    assert values["ballast_keeper_posts_total"] == 1
    assert values["ballast_keeper_reports_signed_total"] == 1
    assert values['ballast_keeper_rounds_total{outcome="relayed"}'] == 1
    assert values["ballast_keeper_quorum"] == 1
    assert values["ballast_keeper_last_post_timestamp"] > 1e9
    # every per-asset series is labelled by the oracle's asset id, never by an address
    assert values['ballast_keeper_price{asset="1"}'] == pytest.approx(2_000.0)
    assert values['ballast_keeper_sigma{asset="1"}'] == pytest.approx(0.8)
    assert values['ballast_keeper_source_spread{asset="1"}'] == 0.0  # one source
    assert values['ballast_keeper_asset_updates_total{asset="1"}'] == 1
    assert values[f'ballast_keeper_source_ok{{asset="1",source="pool:{pool.address}"}}'] == 1
    assert not any(weth.address.lower() in name.lower() for name in values)
    report = reports.SignedReport.from_json(served["report"])
    assert served["chain_id"] == chain.chain_id and served["oracle"] == risk_oracle.address
    assert report.signer == keeper.address and report.observed_at == result.observed_at
    assert report.verify(chain.chain_id, risk_oracle.address)
    assert report.meta["base"] == {"1": 0} and report.meta["source_spread"] == {"1": 0.0}


def test_metrics_port_in_use_is_one_line(rpc, keeper, risk_oracle, pool, weth):
    k = pool_keeper(rpc, keeper, risk_oracle, pool, weth)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(BallastError, match="cannot serve metrics on 127.0.0.1:"):
            k.telemetry.serve(busy.getsockname()[1])


def test_cli_repeated_fault_exits_non_zero_with_one_line(
    chain, rpc_url, admin, guardian, risk_oracle, pool, weth
):
    risk_oracle.pause(sender=admin)
    chain.mine()
    code, lines = _cli(
        [*_base_args(rpc_url, risk_oracle, pool, weth), "--interval", "0", "--max-failures", "2"]
    )
    events = [json.loads(line)["event"] for line in lines if line.startswith("{")]
    errors = [line for line in lines if not line.startswith("{")]
    assert code == 1 and events.count("tick_failed") == 2
    assert errors == ["ballast: error: transaction would revert: oracle: paused"]


def test_cli_refuses_when_sources_disagree(chain, project, rpc_url, admin, risk_oracle, pool, weth, usdc):
    other_pool = project.ConstantProductPool.deploy(weth, usdc, sender=admin)
    weth.mint(admin, 100 * WETH, sender=admin)
    usdc.mint(admin, 250_000 * USDC, sender=admin)
    weth.approve(other_pool, 100 * WETH, sender=admin)
    usdc.approve(other_pool, 250_000 * USDC, sender=admin)
    other_pool.add_liquidity(100 * WETH, 250_000 * USDC, sender=admin)  # 2,500: 25% away from 2,000
    chain.pending_timestamp += 2 * TWAP
    chain.mine()
    args = [*_base_args(rpc_url, risk_oracle, pool, weth), "--source", f"pool:{other_pool.address}"]
    code, lines = _cli([*args, "--min-sources", "2", "--once"])
    errors = [line for line in lines if not line.startswith("{")]
    assert code == 1 and len(errors) == 1
    assert errors[0].startswith(f"ballast: error: {weth.address}: 0 of 2 sources agree, 2 required")
    unhealthy = [json.loads(line) for line in lines if '"source_unhealthy"' in line]
    assert {u["status"] for u in unhealthy} == {"outlier"}
    assert risk_oracle.metrics(1) == (0, 0, 0, 0, 0)


def test_all_assets_go_out_in_one_transaction(
    chain, project, rpc, admin, keeper, risk_oracle, pool, weth, usdc
):
    """WBTC (8 decimals) beside WETH (18), both against USDC (6): each price in its own pair's units."""
    wbtc = project.MockPoolToken.deploy("Wrapped Bitcoin", "WBTC", 8, sender=admin)
    risk_oracle.add_asset(wbtc, usdc, sender=admin)
    btc_pool = project.ConstantProductPool.deploy(wbtc, usdc, sender=admin)
    wbtc.mint(admin, 10 * 10**8, sender=admin)
    usdc.mint(admin, 400_000 * USDC, sender=admin)
    wbtc.approve(btc_pool, 10 * 10**8, sender=admin)
    usdc.approve(btc_pool, 400_000 * USDC, sender=admin)
    btc_pool.add_liquidity(10 * 10**8, 400_000 * USDC, sender=admin)  # 40,000 USDC per WBTC
    chain.pending_timestamp += 2 * TWAP
    chain.mine()
    assets = [Asset("WETH", 1, [PoolSource(rpc, pool.address)]), Asset("WBTC", 2, [PoolSource(rpc, btc_pool.address)])]
    k = Keeper(Sender(keeper, rpc), risk_oracle.address, assets, Settings(interval=0, round_seconds=1))
    k.check_setup()
    assert [(a.collateral, a.loan) for a in assets] == [(weth.address, usdc.address), (wbtc.address, usdc.address)]
    assert [(a.collateral_decimals, a.loan_decimals) for a in assets] == [(18, 6), (8, 6)]  # from the tokens
    chain.mine()
    result = k.tick()
    receipt = chain.provider.get_receipt(result.tx_hash)
    [event] = receipt.decode_logs(risk_oracle.MetricsPosted)
    assert event.assets == 2 and [u["asset_id"] for u in result.updates] == [1, 2]
    assert risk_oracle.metrics(1)[0] == PRICE_2000
    assert risk_oracle.metrics(2)[0] == model.price_from_human(40_000, 6, 8) == 40_000 * 10**34
    assert risk_oracle.metrics(1)[3] == risk_oracle.metrics(2)[3] == result.observed_at


def test_asset_id_or_token_mismatch_fails_setup(rpc, keeper, risk_oracle, pool, weth, usdc):
    k = Keeper(Sender(keeper, rpc), risk_oracle.address, [Asset(weth.address, 2, [PoolSource(rpc, pool.address)])],
               Settings(interval=0))  # fmt: skip
    with pytest.raises(BallastError, match="^asset id 2 is not an asset of the oracle"):
        k.check_setup()
    k = Keeper(Sender(keeper, rpc), risk_oracle.address, [Asset(usdc.address, 1, [PoolSource(rpc, pool.address)])],
               Settings(interval=0))  # fmt: skip
    with pytest.raises(BallastError, match=f"the oracle's asset 1 is the collateral {weth.address} .*, not {usdc.address}"):
        k.check_setup()


def test_a_pool_of_another_pair_fails_setup(project, chain, rpc, admin, keeper, risk_oracle, weth):
    dai = project.MockPoolToken.deploy("Dai", "DAI", 18, sender=admin)
    dai_pool = project.ConstantProductPool.deploy(weth, dai, sender=admin)
    k = Keeper(Sender(keeper, rpc), risk_oracle.address, [Asset("WETH", 1, [PoolSource(rpc, dai_pool.address)])],
               Settings(interval=0))  # fmt: skip
    with pytest.raises(BallastError, match="not the asset's pair"):
        k.check_setup()


def test_a_silent_exchange_is_reported_and_the_pool_carries_the_post(
    chain, rpc, keeper, risk_oracle, pool, weth
):
    """The recorded exchange answers are from 2023: against the chain's clock the exchange is silent."""
    from oracle.sources.exchange import ExchangeSource

    fixtures = ROOT / "tests" / "fixtures" / "ccxt"

    class RecordedBinance:  # ccxt's unified methods, answered from the recorded responses
        id = "binance"

        def fetch_ohlcv(self, symbol, timeframe="1h", since=None, limit=None, params=None):
            return json.loads((fixtures / "binance_ETH-USDT_ohlcv_1h.json").read_text())

        def fetch_order_book(self, symbol, limit=None, params=None):
            return json.loads((fixtures / "binance_ETH-USDT_book.json").read_text())

    exchange = ExchangeSource(RecordedBinance(), "ETH/USDT")
    k = make_keeper(rpc, keeper, risk_oracle, [PoolSource(rpc, pool.address), exchange], weth)
    chain.mine()
    result = k.tick()
    assert result.posted
    statuses = {h.source: h.status for h in k.assets[0].last.health}
    assert statuses == {f"pool:{pool.address}": "ok", exchange.name: "silent"}
    assert result.updates[0]["sigma"] == round(0.8 * model.WAD)  # the silent exchange's candles are not used
    assert risk_oracle.metrics(1)[0] == PRICE_2000


def test_fee_cap_stops_the_bumping(rpc, keeper, risk_oracle, manual_mining):
    current = Sender(keeper, rpc).current_fees()
    sender = Sender(keeper, rpc, stuck_after=0.3, poll=0.05, max_fee_cap=current.max_fee + 1)
    nonce = keeper.nonce
    with pytest.raises(BallastError, match=f"stuck at nonce {nonce}: the next fee bump would exceed the cap"):
        sender.submit(risk_oracle.address, _post_data(rpc, risk_oracle, keeper))
    waiting = sender.waiting_tx(nonce)
    assert int(waiting["maxFeePerGas"], 16) <= current.max_fee + 1  # the one sent respected the cap


def test_revert_on_chain_is_one_error_line(rpc, accounts, admin, keeper, risk_oracle, manual_mining):
    """Two relayers send the same batch into one block (anyone may relay): both simulate fine, the second
    to be mined reverts ("report replayed") and its sender says so in one line."""
    second_keeper = accounts[8]
    rpc.raw("evm_mine", [])
    data = _post_data(rpc, risk_oracle, keeper)
    outcomes: dict[str, object] = {}

    def post(name, account):
        try:
            outcomes[name] = Sender(account, rpc, stuck_after=20, poll=0.05).submit(
                risk_oracle.address, data, "post"
            )
        except BallastError as exc:
            outcomes[name] = exc

    threads = [threading.Thread(target=post, args=(n, a)) for n, a in (("a", keeper), ("b", second_keeper))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while (
        time.monotonic() < deadline
        and sum(len(v) for v in rpc.raw("txpool_content", [])["pending"].values()) < 2
    ):
        time.sleep(0.05)
    rpc.raw("evm_mine", [])
    for t in threads:
        t.join()
    errors = [v for v in outcomes.values() if isinstance(v, BallastError)]
    assert len(outcomes) == 2 and len(errors) == 1
    message = errors[0].format_message()
    assert re.fullmatch(r"post reverted on-chain: 0x[0-9a-f]{64} \(oracle: report replayed\)", message)


def test_replay_without_warp_waits_for_chain_time(tmp_path, rpc, keeper, risk_oracle, weth):
    """On a node that makes its own blocks (a testnet; here anvil mining a block every second) the replay
    does not move the clock: each bar is posted once the chain has reached its mapped time."""
    path = tmp_path / "seconds.csv"
    closes = [2_000.0 * (1.03 if i % 2 else 1.0) for i in range(27)]  # 3% moves: every bar is due
    _write_candles(path, closes, step=1)  # one-second bars
    source = CsvReplaySource.from_path(path)
    clock = ReplayClock(rpc, speed=1, warp=False, period=source.candles.period)
    k = make_keeper(rpc, keeper, risk_oracle, [source], weth, clock=clock)
    k.settings.policy = PolicyParams(heartbeat=1)  # every bar is due (the price bound clips one-second moves)
    rpc.raw("evm_setIntervalMining", [1])
    try:
        started = time.monotonic()
        observed = []
        while not (result := k.tick()).finished:
            if result.posted:
                observed.append(result.observed_at)
                block = int(receipt_or_none(rpc, result.tx_hash)["blockNumber"], 16)
                assert int(rpc.raw("eth_getBlockByNumber", [hex(block), False])["timestamp"], 16) >= result.observed_at
    finally:
        rpc.raw("evm_setIntervalMining", [0])
        rpc.raw("evm_setAutomine", [True])
    assert len(observed) == 27 - 24 + 1
    assert all(b - a == 1 for a, b in itertools.pairwise(observed))
    assert time.monotonic() - started >= len(observed) - 1  # real chain seconds passed, none were warped


# --- poking the markets after a post --------------------------------------------------------------


def test_keeper_pokes_the_market_right_after_the_post(chain, rpc, keeper, risk_oracle, market, lens, pool, weth):
    k = pool_keeper(rpc, keeper, risk_oracle, pool, weth, pokes=[market.address])
    k.check_setup()
    ramp_before, h_max = lens.ramp_at(market), model.RiskParams().h_max
    assert lens.maint_base(market) == h_max  # the ramp starts at the cap until a poke sees data
    chain.pending_timestamp += 600
    chain.mine()
    nonce = keeper.nonce
    result = k.tick()
    assert result.posted and list(result.pokes) == [market.address]
    post = chain.provider.get_receipt(result.tx_hash)
    poke = chain.provider.get_receipt(result.pokes[market.address])
    assert poke.status == 1 and poke.receiver == market.address and poke.transaction.nonce == nonce + 1
    assert Web3.to_checksum_address(poke.sender) == keeper.address
    assert poke.block_number > post.block_number  # sent once the post was mined
    poked_at = chain.provider.get_block(poke.block_number).timestamp
    assert lens.ramp_at(market) == poked_at > ramp_before
    assert lens.maint_base(market) < h_max  # it saw the new post and loosened the ramp from the cap at once
    assert not lens.ramping(market)  # to its target: no tightening under way
    assert k.telemetry.pokes.labels(market.address)._value.get() == 1


def test_dry_run_sends_no_poke(lens, chain, rpc, keeper, risk_oracle, market, pool, weth):
    k = pool_keeper(rpc, keeper, risk_oracle, pool, weth, pokes=[market.address], dry_run=True)
    k.check_setup()
    chain.pending_timestamp += 600
    chain.mine()
    nonce, block, ramp_at = keeper.nonce, chain.blocks.head.number, lens.ramp_at(market)
    result = k.tick()
    assert result.posted and result.tx_hash is None and result.pokes == {market.address: None}
    assert keeper.nonce == nonce and chain.blocks.head.number == block
    assert lens.ramp_at(market) == ramp_at and risk_oracle.metrics(1) == (0, 0, 0, 0, 0)
    assert k.telemetry.pokes.labels(market.address)._value.get() == 0


def test_a_failed_poke_is_counted_and_the_post_stands(chain, rpc, keeper, risk_oracle, market, pool, weth):
    k = pool_keeper(rpc, keeper, risk_oracle, pool, weth, pokes=[market.address])
    k.check_setup()
    k.pokes = [pool.address, market.address]  # the first stopped being a market after the setup's check
    chain.mine()
    result = k.tick()
    assert result.posted and risk_oracle.metrics(1)[0] == PRICE_2000
    assert result.pokes[pool.address] is None and result.pokes[market.address] is not None
    assert k.telemetry.failures.labels("poke")._value.get() == 1
    assert k.telemetry.pokes.labels(market.address)._value.get() == 1  # the next market is still poked


def test_poke_targets_are_checked_at_setup(
    project, admin, guardian, blueprint, rpc, keeper, risk_oracle, usdc, pool, weth
):
    with pytest.raises(BallastError, match=f"^--poke {pool.address} is not a Ballast market$"):
        pool_keeper(rpc, keeper, risk_oracle, pool, weth, pokes=[pool.address]).check_setup()
    with pytest.raises(BallastError, match=f"^--poke {keeper.address} is not a Ballast market$"):
        pool_keeper(rpc, keeper, risk_oracle, pool, weth, pokes=[keeper.address]).check_setup()
    another = deploy_oracle(project, admin, guardian, [keeper], 1, [(weth, usdc)])
    elsewhere = deploy_market(project, admin, blueprint, usdc, weth, another)
    with pytest.raises(BallastError, match=f"reads the oracle {another.address}, not {risk_oracle.address}$"):
        pool_keeper(rpc, keeper, risk_oracle, pool, weth, pokes=[elsewhere.address]).check_setup()


def test_cli_pokes_each_listed_market(lens, 
    chain, rpc_url, project, admin, blueprint, risk_oracle, market, pool, usdc, weth
):
    second = deploy_market(project, admin, blueprint, usdc, weth, risk_oracle)
    chain.pending_timestamp += 600
    chain.mine()
    before = lens.ramp_at(market), lens.ramp_at(second)
    args = [*_base_args(rpc_url, risk_oracle, pool, weth), "--poke", market.address, "--poke", second.address]
    code, lines = _cli([*args, "--once"])
    assert code == 0, lines
    events = [json.loads(line) for line in lines if line.startswith("{")]
    names = [e["event"] for e in events]
    assert names.index("posted") < names.index("poked")
    assert [e["market"] for e in events if e["event"] == "poked"] == [market.address, second.address]
    assert lens.ramp_at(market) > before[0] and lens.ramp_at(second) > before[1]
