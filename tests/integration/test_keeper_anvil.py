"""The keeper against the real RiskOracle on anvil: posts, guardrails, nonce recovery, fee bumps,
RPC failover, dry run and the CLI's one-line errors.

Signing is done by ape test accounts; transactions go through raw JSON-RPC (oracle.chain). Extra anvil
processes are started here and stopped by their own PID.
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

from oracle import metrics, model
from oracle.chain import Fees, Rpc, Sender
from oracle.cli import main
from oracle.errors import BallastError
from oracle.keeper import Asset, Keeper, ReplayClock, Settings, encode_post
from oracle.sources.csv import CsvReplaySource
from oracle.sources.pool import PoolSource

WETH, USDC = 10**18, 10**6
# the shared token and pool fixtures, used by name in this module's tests
weth, usdc, create_pool = pool_fixtures.weth, pool_fixtures.usdc, pool_fixtures.create_pool
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def _actors_first(admin, keeper, guardian, other, rpc_url):
    """Session actors exist before the module's deployments (ape isolates per scope, in order)."""


@pytest.fixture(scope="module", autouse=True)
def _deployments_first(_actors_first, market):
    """The module's deployments (the market pulls in the tokens and the oracle) exist before any test
    snapshots the chain."""


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def risk_oracle(project, admin, guardian, keeper, weth):
    oracle = project.RiskOracle.deploy(guardian, sender=admin)
    oracle.add_asset(weth, sender=admin)
    oracle.set_keeper(keeper, True, sender=admin)
    return oracle


@pytest.fixture(scope="module")
def pool(create_pool, weth, usdc):
    return create_pool(weth, usdc, 100 * WETH, 200_000 * USDC)


@pytest.fixture(scope="module")
def rpc_url(chain):
    return chain.provider.uri


@pytest.fixture
def rpc(rpc_url):
    return Rpc([rpc_url])


def make_keeper(rpc, account, oracle, sources, weth, clock=None, pokes=None, **sender_kw):
    asset = Asset(weth.address, 1, sources, collateral_decimals=18)
    settings = Settings(interval=0, loan_decimals=6)
    return Keeper(Sender(account, rpc, **sender_kw), oracle.address, [asset], settings, clock, pokes=pokes)


def deploy_market(project, admin, blueprint, usdc, weth, oracle):
    """A real Market lending USDC against WETH (asset 1 of `oracle`), from the factory's blueprint."""
    factory = project.MarketFactory.deploy(blueprint, oracle, sender=admin)
    tx = factory.create_market(usdc, weth, 1, astuple(model.RiskParams()), astuple(model.RateParams()),
                               "Ballast USDC/WETH", "bUSDC-WETH", sender=admin)  # fmt: skip
    return project.Market.at(tx.decode_logs(factory.MarketCreated)[0].market)


@pytest.fixture(scope="module")
def blueprint(project, admin):
    return admin.declare(project.Market).contract_address


@pytest.fixture(scope="module")
def market(project, admin, blueprint, usdc, weth, risk_oracle):
    return deploy_market(project, admin, blueprint, usdc, weth, risk_oracle)


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


# --- posting --------------------------------------------------------------------------------------


def test_keeper_posts_pool_metrics_to_the_oracle(chain, rpc, keeper, risk_oracle, pool, weth):
    k = make_keeper(rpc, keeper, risk_oracle, [PoolSource(rpc, pool.address, weth.address)], weth)
    k.check_setup()
    chain.mine()  # a new block: the pool observation is newer than nothing
    result = k.tick()
    assert result.posted and result.tx_hash
    price, sigma, depth, observed_at = risk_oracle.metrics(1)
    assert price == 2_000 * USDC  # WAD price of 1 raw WETH in raw USDC: 2000e6 / 1e18 * 1e18
    assert sigma == model.units_to_sigma(model.sigma_to_units(round(0.8 * model.WAD)))  # the prior
    _, r_usdc = pool.get_reserves()
    assert depth == pytest.approx(r_usdc * (0.997 / 0.98 - 1) / 0.997, rel=1e-9)
    mined_in = result_block(rpc, result)
    # observed at the block the pool was read in; mined in the next one
    assert observed_at == result.observed_at == chain.provider.get_block(mined_in - 1).timestamp
    receipt = chain.provider.get_receipt(result.tx_hash)
    [event] = receipt.decode_logs(risk_oracle.MetricsPosted)
    assert event.keeper == keeper and event.observed_at == observed_at
    assert k.telemetry.posts._value.get() == 1


def result_block(rpc, result):
    return int(receipt_or_none(rpc, result.tx_hash)["blockNumber"], 16)


def test_nothing_due_without_a_newer_observation(chain, rpc, keeper, risk_oracle, pool, weth):
    k = make_keeper(rpc, keeper, risk_oracle, [PoolSource(rpc, pool.address, weth.address)], weth)
    chain.mine()
    assert k.tick().posted
    nonce = keeper.nonce
    assert not k.tick().posted  # same block: the observation is not newer, the oracle would revert
    assert keeper.nonce == nonce


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
    for (_, s0, d0, t0), (_, s1, d1, t1) in itertools.pairwise(history):
        assert t1 - t0 == 3_600  # candle time mapped onto chain time, one bar per hour
        assert s1 >= model.min_sigma_allowed(s0, t1 - t0, g)
        assert d1 <= model.max_depth_allowed(d0, t1 - t0, g)
    assert sigma_clipped > 10 and depth_clipped > 10  # the guardrails, not the estimate, set the pace
    assert risk_oracle.pending(1) == (0, 0, 0)


def test_dry_run_sends_nothing(chain, rpc, keeper, risk_oracle, pool, weth):
    k = make_keeper(
        rpc, keeper, risk_oracle, [PoolSource(rpc, pool.address, weth.address)], weth, dry_run=True
    )
    chain.mine()
    nonce, block = keeper.nonce, chain.blocks.head.number
    result = k.tick()
    assert result.posted and result.tx_hash is None and result.updates
    assert keeper.nonce == nonce and chain.blocks.head.number == block
    assert risk_oracle.metrics(1) == (0, 0, 0, 0)


def test_dry_run_still_reports_a_revert(rpc, other, risk_oracle):
    sender = Sender(other, rpc, dry_run=True)
    now = rpc.block_timestamp()
    word = model.pack_update(1, 2_000 * USDC, 10**12, model.WAD)
    with pytest.raises(BallastError, match="^transaction would revert: oracle: not keeper$"):
        sender.submit(risk_oracle.address, encode_post(now, now + 60, [word]))


def test_reverting_post_is_one_error_line_and_costs_nothing(rpc, keeper, risk_oracle):
    sender = Sender(keeper, rpc)
    now, nonce = rpc.block_timestamp(), keeper.nonce
    word = model.pack_update(1, 2_000 * USDC, 10**12, model.WAD)
    with pytest.raises(BallastError, match="^transaction would revert: oracle: deadline passed$"):
        sender.submit(risk_oracle.address, encode_post(now, now - 1, [word]))
    assert keeper.nonce == nonce


def test_account_that_is_not_keeper_fails_setup(rpc, other, risk_oracle, pool, weth):
    k = make_keeper(rpc, other, risk_oracle, [PoolSource(rpc, pool.address, weth.address)], weth)
    with pytest.raises(BallastError, match="is not a keeper of the oracle"):
        k.check_setup()


# --- nonce recovery and fee bumping ---------------------------------------------------------------


def _post_data(rpc, price=2_000 * USDC):
    now = rpc.block_timestamp()
    return encode_post(now, now + 3_600, [model.pack_update(1, price, 10**12, model.WAD)])


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
    result = sender.submit(risk_oracle.address, _post_data(rpc))
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
        before.submit(risk_oracle.address, _post_data(rpc, price=1_000 * USDC))
    left = before.waiting_tx(nonce)
    assert left is not None

    after = Sender(keeper, rpc, poll=0.05)  # a new process: knows nothing but what the node says
    assert after.nonces() == (nonce, nonce + 1)
    mined_by: list[str] = []
    thread = mine_when_replaced(rpc, after, nonce, int(left["maxPriorityFeePerGas"], 16), mined_by)
    result = after.submit(risk_oracle.address, _post_data(rpc, price=3_000 * USDC))
    thread.join()
    assert result.nonce == nonce and result.replaced == [left["hash"]] and result.tx_hash == mined_by[0]
    assert result.fees.priority * 1000 >= int(left["maxPriorityFeePerGas"], 16) * 1125
    assert keeper.nonce == nonce + 1 and receipt_or_none(rpc, left["hash"]) is None
    assert risk_oracle.metrics(1)[0] == 3_000 * USDC  # the new post, not the one left behind


def test_restart_after_a_mined_post_uses_the_next_nonce(rpc, keeper, risk_oracle):
    first = Sender(keeper, rpc).submit(risk_oracle.address, _post_data(rpc))
    rpc.raw("evm_mine", [rpc.block_timestamp() + 60])
    second = Sender(keeper, rpc).submit(risk_oracle.address, _post_data(rpc, price=2_100 * USDC))
    assert second.nonce == first.nonce + 1 and not second.replaced
    assert risk_oracle.metrics(1)[0] == 2_100 * USDC


def test_fee_bump_is_at_least_twelve_and_a_half_percent():
    fees = Fees(max_fee=1_000_000_007, priority=8)
    bumped = fees.bumped()
    assert bumped.max_fee == math.ceil(1_000_000_007 * 1.125) and bumped.priority == 9


# --- RPC failover ---------------------------------------------------------------------------------


def test_failover_from_a_dead_url_to_a_live_one(rpc_url, keeper, risk_oracle, pool, weth):
    """Primary: a fork of the node (a second anvil); it dies mid-run; the keeper carries on."""
    proc, fork_url = start_anvil("--fork-url", rpc_url)
    try:
        rpc = Rpc([fork_url, rpc_url], timeout=2)
        fork, main = Web3(Web3.HTTPProvider(fork_url)), Web3(Web3.HTTPProvider(rpc_url))
        fork.provider.make_request("evm_mine", [])
        k = make_keeper(rpc, keeper, risk_oracle, [PoolSource(rpc, pool.address, weth.address)], weth)
        first = k.tick()
        assert first.posted and rpc.url == fork_url
        assert fork.eth.get_transaction_receipt(first.tx_hash)["status"] == 1
        assert risk_oracle.metrics(1) == (0, 0, 0, 0)  # it went to the fork only
    finally:
        stop_process(proc)
    assert proc.poll() is not None
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
            risk_oracle.address, "--asset", f"{weth.address}=1", "--source", f"pool:{pool.address}",
            "--loan-decimals", "6"]  # fmt: skip


def test_cli_once_posts(chain, rpc_url, keeper, risk_oracle, pool, weth):
    chain.mine()
    code, lines = _cli([*_base_args(rpc_url, risk_oracle, pool, weth), "--once"])
    assert code == 0, lines
    events = [json.loads(line)["event"] for line in lines if line.startswith("{")]
    assert "posted" in events and events[-1] == "keeper_stopped"
    assert risk_oracle.metrics(1)[0] == 2_000 * USDC


def test_cli_dry_run_sends_nothing(chain, rpc_url, keeper, risk_oracle, pool, weth):
    chain.mine()
    nonce = keeper.nonce
    code, lines = _cli([*_base_args(rpc_url, risk_oracle, pool, weth), "--once", "--dry-run"])
    assert code == 0, lines
    assert any(json.loads(line)["event"] == "post_planned" for line in lines if line.startswith("{"))
    assert keeper.nonce == nonce and risk_oracle.metrics(1) == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "change, message",
    [
        (("--network", "ethereum:nowhere"), "ballast: error: unknown network 'ethereum:nowhere'"),
        (
            ("--account", "ghost"),
            "ballast: error: no ape account named 'ghost' (create one with `ape accounts import`)",
        ),
        (("--rpc", "http://127.0.0.1:1"), "ballast: error: unreachable RPC: http://127.0.0.1:1"),
        (("--account", "TEST::7"), "is not a keeper of the oracle"),
        (("--source", "pool:nonsense"), "ballast: error: bad --source 'pool:nonsense'"),
        (("--poke", "nonsense"), "ballast: error: --poke 'nonsense' is not an address"),
    ],
)
def test_cli_errors_are_one_line(rpc_url, risk_oracle, pool, weth, change, message):
    args = _base_args(rpc_url, risk_oracle, pool, weth)
    if change[0] in args:
        args[args.index(change[0]) + 1] = change[1]
    else:
        args += list(change)
    code, lines = _cli([*args, "--once"])
    errors = [line for line in lines if not line.startswith("{")]
    assert code == 1
    assert len(errors) == 1 and errors[0].startswith("ballast: error: ") and message in errors[0]


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
        _, err = proc.communicate(timeout=30)
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


def test_prometheus_metrics_are_served(chain, rpc, keeper, risk_oracle, pool, weth):
    import urllib.request

    k = make_keeper(rpc, keeper, risk_oracle, [PoolSource(rpc, pool.address, weth.address)], weth)
    port = free_port()
    server = k.telemetry.serve(port)
    try:
        chain.mine()
        assert k.tick().posted
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    finally:
        server.shutdown()
    values = {
        line.split(" ")[0]: float(line.split(" ")[1]) for line in body.splitlines() if line and line[0] != "#"
    }
    assert values["ballast_keeper_posts_total"] == 1
    assert values["ballast_keeper_last_post_timestamp"] > 1e9
    assert values[f'ballast_keeper_price{{asset="{weth.address}"}}'] == pytest.approx(2_000.0)
    assert values[f'ballast_keeper_sigma{{asset="{weth.address}"}}'] == pytest.approx(0.8)
    assert values[f'ballast_keeper_source_ok{{asset="{weth.address}",source="pool:{pool.address}"}}'] == 1


def test_metrics_port_in_use_is_one_line(rpc, keeper, risk_oracle, pool, weth):
    k = make_keeper(rpc, keeper, risk_oracle, [PoolSource(rpc, pool.address, weth.address)], weth)
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
    chain.mine()
    args = [*_base_args(rpc_url, risk_oracle, pool, weth), "--source", f"pool:{other_pool.address}"]
    code, lines = _cli([*args, "--min-sources", "2", "--once"])
    errors = [line for line in lines if not line.startswith("{")]
    assert code == 1 and len(errors) == 1
    assert errors[0].startswith(f"ballast: error: {weth.address}: 0 of 2 sources agree, 2 required")
    unhealthy = [json.loads(line) for line in lines if '"source_unhealthy"' in line]
    assert {u["status"] for u in unhealthy} == {"outlier"}
    assert risk_oracle.metrics(1) == (0, 0, 0, 0)


def test_all_assets_go_out_in_one_transaction(
    chain, project, rpc, admin, keeper, risk_oracle, pool, weth, usdc
):
    wbtc = project.MockPoolToken.deploy("Wrapped Bitcoin", "WBTC", 8, sender=admin)
    risk_oracle.add_asset(wbtc, sender=admin)
    btc_pool = project.ConstantProductPool.deploy(wbtc, usdc, sender=admin)
    wbtc.mint(admin, 10 * 10**8, sender=admin)
    usdc.mint(admin, 400_000 * USDC, sender=admin)
    wbtc.approve(btc_pool, 10 * 10**8, sender=admin)
    usdc.approve(btc_pool, 400_000 * USDC, sender=admin)
    btc_pool.add_liquidity(10 * 10**8, 400_000 * USDC, sender=admin)  # 40,000 USDC per WBTC
    assets = [
        Asset(weth.address, 1, [PoolSource(rpc, pool.address, weth.address)]),
        Asset(wbtc.address, 2, [PoolSource(rpc, btc_pool.address, wbtc.address)]),
    ]
    k = Keeper(Sender(keeper, rpc), risk_oracle.address, assets, Settings(interval=0, loan_decimals=6))
    k.check_setup()
    assert [a.collateral_decimals for a in assets] == [18, 8]  # read from the tokens
    chain.mine()
    result = k.tick()
    receipt = chain.provider.get_receipt(result.tx_hash)
    [event] = receipt.decode_logs(risk_oracle.MetricsPosted)
    assert event.updates == 2 and [u["asset_id"] for u in result.updates] == [1, 2]
    assert risk_oracle.metrics(1)[0] == 2_000 * USDC
    assert risk_oracle.metrics(2)[0] == 40_000 * USDC * 10**18 // 10**8  # WAD price per raw satoshi
    assert risk_oracle.metrics(1)[3] == risk_oracle.metrics(2)[3] == result.observed_at


def test_asset_id_mismatch_fails_setup(rpc, keeper, risk_oracle, pool, weth):
    asset = Asset(weth.address, 2, [PoolSource(rpc, pool.address, weth.address)])
    k = Keeper(Sender(keeper, rpc), risk_oracle.address, [asset], Settings(interval=0, loan_decimals=6))
    with pytest.raises(BallastError, match=f"asset {weth.address} has id 1 in the oracle, not 2"):
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
    k = make_keeper(rpc, keeper, risk_oracle, [PoolSource(rpc, pool.address, weth.address), exchange], weth)
    chain.mine()
    result = k.tick()
    assert result.posted
    statuses = {h.source: h.status for h in k.assets[0].last.health}
    assert statuses == {f"pool:{pool.address}": "ok", exchange.name: "silent"}
    assert result.updates[0]["sigma"] == round(0.8 * model.WAD)  # the silent exchange's candles are not used
    assert risk_oracle.metrics(1)[0] == 2_000 * USDC


def test_fee_cap_stops_the_bumping(rpc, keeper, risk_oracle, manual_mining):
    current = Sender(keeper, rpc).current_fees()
    sender = Sender(keeper, rpc, stuck_after=0.3, poll=0.05, max_fee_cap=current.max_fee + 1)
    nonce = keeper.nonce
    with pytest.raises(BallastError, match=f"stuck at nonce {nonce}: the next fee bump would exceed the cap"):
        sender.submit(risk_oracle.address, _post_data(rpc))
    waiting = sender.waiting_tx(nonce)
    assert int(waiting["maxFeePerGas"], 16) <= current.max_fee + 1  # the one sent respected the cap


def test_revert_on_chain_is_one_error_line(rpc, accounts, admin, keeper, risk_oracle, manual_mining):
    """Two keepers post the same observation time into one block: both simulate fine, the second to be
    mined reverts ("observation not newer") and its sender says so in one line."""
    second_keeper = accounts[8]
    risk_oracle.set_keeper(second_keeper, True, sender=admin)
    rpc.raw("evm_mine", [])
    data = _post_data(rpc)
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
    assert re.fullmatch(r"post reverted on-chain: 0x[0-9a-f]{64} \(oracle: observation not newer\)", message)


def test_replay_without_warp_waits_for_chain_time(tmp_path, project, keeper, admin):
    """On a node that makes its own blocks (a testnet; here anvil --block-time 1) the replay does not move
    the clock: each bar is posted once the chain has reached its mapped time."""
    proc, url = start_anvil("--block-time", "1")
    try:
        rpc = Rpc([url])
        w3 = Web3(Web3.HTTPProvider(url))
        ct = project.RiskOracle.contract_type
        abi = [item.model_dump(by_alias=True, mode="json") for item in ct.abi]
        deploy = w3.eth.contract(abi=abi, bytecode=ct.deployment_bytecode.bytecode)
        owner = Sender(admin, rpc)
        raw = _signed_deploy(admin, w3, deploy.constructor(admin.address).data_in_transaction)
        receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(raw), timeout=10)
        oracle = w3.eth.contract(address=receipt["contractAddress"], abi=abi)
        owner.submit(oracle.address, bytes.fromhex(oracle.encode_abi("add_asset", [admin.address])[2:]))
        owner.submit(
            oracle.address, bytes.fromhex(oracle.encode_abi("set_keeper", [keeper.address, True])[2:])
        )

        path = tmp_path / "seconds.csv"
        closes = [2_000.0 * (1.03 if i % 2 else 1.0) for i in range(27)]  # 3% moves: every bar is due
        _write_candles(path, closes, step=1)  # one-second bars
        source = CsvReplaySource.from_path(path)
        clock = ReplayClock(rpc, speed=1, warp=False, period=source.candles.period)
        k = Keeper(Sender(keeper, rpc), oracle.address, [Asset(admin.address, 1, [source])],
                   Settings(interval=0, loan_decimals=6), clock)  # fmt: skip
        started = time.monotonic()
        observed = []
        while not (result := k.tick()).finished:
            if result.posted:
                observed.append(result.observed_at)
                block = w3.eth.get_transaction_receipt(result.tx_hash)["blockNumber"]
                assert w3.eth.get_block(block)["timestamp"] >= result.observed_at
        assert len(observed) == 27 - 24 + 1
        assert all(b - a == 1 for a, b in itertools.pairwise(observed))
        assert time.monotonic() - started >= len(observed) - 1  # real chain seconds passed, none were warped
    finally:
        stop_process(proc)


def _signed_deploy(account, w3, data: str) -> bytes:
    from ape import networks

    fees = Fees(10 * 10**9, 10**9)
    txn = networks.ethereum.create_transaction(
        chainId=w3.eth.chain_id, nonce=w3.eth.get_transaction_count(account.address), data=data,
        gas=3_000_000, maxFeePerGas=fees.max_fee, maxPriorityFeePerGas=fees.priority, value=0, type=2,
    )  # fmt: skip
    return account.sign_transaction(txn).serialize_transaction()


# --- poking the markets after a post --------------------------------------------------------------


def test_keeper_pokes_the_market_right_after_the_post(chain, rpc, keeper, risk_oracle, market, pool, weth):
    k = make_keeper(rpc, keeper, risk_oracle, [PoolSource(rpc, pool.address, weth.address)], weth,
                    pokes=[market.address])  # fmt: skip
    k.check_setup()
    ramp_before, h_max = market.ramp_at(), model.RiskParams().h_max
    assert market.maint_base() == h_max  # the ramp starts at the cap until a poke sees data
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
    assert market.ramp_at() == poked_at > ramp_before
    assert market.maint_base() < h_max  # it saw the new post and loosened the ramp from the cap at once
    assert not market.ramping()  # to its target: no tightening under way
    assert k.telemetry.pokes.labels(market.address)._value.get() == 1


def test_dry_run_sends_no_poke(chain, rpc, keeper, risk_oracle, market, pool, weth):
    k = make_keeper(rpc, keeper, risk_oracle, [PoolSource(rpc, pool.address, weth.address)], weth,
                    pokes=[market.address], dry_run=True)  # fmt: skip
    k.check_setup()
    chain.pending_timestamp += 600
    chain.mine()
    nonce, block, ramp_at = keeper.nonce, chain.blocks.head.number, market.ramp_at()
    result = k.tick()
    assert result.posted and result.tx_hash is None and result.pokes == {market.address: None}
    assert keeper.nonce == nonce and chain.blocks.head.number == block
    assert market.ramp_at() == ramp_at and risk_oracle.metrics(1) == (0, 0, 0, 0)
    assert k.telemetry.pokes.labels(market.address)._value.get() == 0


def test_a_failed_poke_is_counted_and_the_post_stands(chain, rpc, keeper, risk_oracle, market, pool, weth):
    source = [PoolSource(rpc, pool.address, weth.address)]
    k = make_keeper(rpc, keeper, risk_oracle, source, weth, pokes=[pool.address, market.address])  # no poke()
    chain.mine()
    result = k.tick()
    assert result.posted and risk_oracle.metrics(1)[0] == 2_000 * USDC
    assert result.pokes[pool.address] is None and result.pokes[market.address] is not None
    assert k.telemetry.failures.labels("poke")._value.get() == 1
    assert k.telemetry.pokes.labels(market.address)._value.get() == 1  # the next market is still poked


def test_poke_targets_are_checked_at_setup(
    project, admin, guardian, blueprint, rpc, keeper, risk_oracle, usdc, pool, weth
):
    source = [PoolSource(rpc, pool.address, weth.address)]
    with pytest.raises(BallastError, match=f"^--poke {pool.address} is not a Ballast market$"):
        make_keeper(rpc, keeper, risk_oracle, source, weth, pokes=[pool.address]).check_setup()
    another = project.RiskOracle.deploy(guardian, sender=admin)
    another.add_asset(weth, sender=admin)
    elsewhere = deploy_market(project, admin, blueprint, usdc, weth, another)
    with pytest.raises(BallastError, match=f"reads the oracle {another.address}, not {risk_oracle.address}$"):
        make_keeper(rpc, keeper, risk_oracle, source, weth, pokes=[elsewhere.address]).check_setup()


def test_cli_pokes_each_listed_market(
    chain, rpc_url, project, admin, blueprint, risk_oracle, market, pool, usdc, weth
):
    second = deploy_market(project, admin, blueprint, usdc, weth, risk_oracle)
    chain.pending_timestamp += 600
    chain.mine()
    before = market.ramp_at(), second.ramp_at()
    args = [*_base_args(rpc_url, risk_oracle, pool, weth), "--poke", market.address, "--poke", second.address]
    code, lines = _cli([*args, "--once"])
    assert code == 0, lines
    events = [json.loads(line) for line in lines if line.startswith("{")]
    names = [e["event"] for e in events]
    assert names.index("posted") < names.index("poked")
    assert [e["market"] for e in events if e["event"] == "poked"] == [market.address, second.address]
    assert market.ramp_at() > before[0] and second.ramp_at() > before[1]
