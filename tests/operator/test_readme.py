"""The README's walk-through runs as written (`make fork-test`): from `ape accounts generate` to a market on
an anvil that plays Sepolia (chain id 11155111, `--network ethereum:sepolia:node`), unattended with the
passphrases in the environment; the second identical deploy sends no transaction; three keepers and the
liquidation bot then run from their config files. Then the world moves: a lender and a borrower use the
market, the pool's price crashes, the keepers carry the crash to the oracle within its guardrails, and
the bot liquidates the borrower.

The README's ```bash blocks are the commands (tests/operator/docrun.py); the other README blocks are shown,
not run. The stand-in's clock is moved forward in small steps (as an hour of Sepolia would pass) so that
the pool's time-weighted price and the oracle's hourly price bound follow the crash in minutes."""

from __future__ import annotations

import json
import math
import time

import pytest
from web3 import Web3
from world import warp

DEPLOY = "ape run deploy --network ethereum:sepolia:node"
CRASH = 0.70  # the pool's price falls 30%


def _abi(name: str) -> list[dict]:
    from ape import project

    from oracle.views import abi_of

    return abi_of(project, name)


def _address(world, alias: str) -> str:
    return Web3.to_checksum_address(json.loads((world.ape_home / "accounts" / f"{alias}.json").read_text())["address"])


@pytest.fixture(scope="module")
def walked(world):
    """The README run as written; the deployer's nonce after each command (to see what a command sent)."""
    nonces: list[tuple[str, int]] = []

    def after_command(runner):
        world.faucet()
        accounts = world.ape_home / "accounts" / "deployer.json"
        if accounts.exists():
            nonces.append((runner.ran[-1], world.w3.eth.get_transaction_count(_address(world, "deployer"))))

    runner = world.doc(world.project / "README.md", after_command=after_command)
    runner.run()
    return runner, nonces, world.record()


def test_the_walk_through_deploys_unattended_and_a_second_deploy_sends_nothing(world, walked):
    runner, nonces, dep = walked
    deploys = [cmd for cmd in runner.ran if cmd.startswith(DEPLOY)]
    assert len(deploys) == 2  # the deploy, then the same command again (the transcript)
    first = next(i for i, (cmd, _) in enumerate(nonces) if cmd.startswith(DEPLOY))
    sent = nonces[first][1]
    assert sent > 5  # the first deploy sent the system's transactions
    assert nonces[first + 1][1] == sent  # the command after the transcript: the second deploy sent nothing
    keepers = [_address(world, f"keeper{i}") for i in (1, 2, 3)]
    assert dep["chain_id"] == 11_155_111 and dep["signers"] == keepers and dep["quorum"] == 2
    services = [cmd for cmd in runner.ran if cmd.startswith(("ballast keeper run", "ballast bot run"))]
    assert len(services) == 4 and all("--config" in cmd for cmd in services)


def test_the_keepers_post_and_the_bot_liquidates_a_crash(world, walked):
    _runner, _nonces, dep = walked
    w3 = world.w3
    oracle = w3.eth.contract(address=dep["oracle"], abi=_abi("RiskOracle"))
    market = w3.eth.contract(address=dep["market"], abi=_abi("Market"))
    lens = w3.eth.contract(address=dep["lens"], abi=_abi("MarketLens"))
    pool = w3.eth.contract(address=dep["pool"], abi=_abi("ConstantProductPool"))
    usdc = w3.eth.contract(address=dep["loan_token"], abi=_abi("MockERC20"))
    weth = w3.eth.contract(address=dep["collateral_token"], abi=_abi("MockERC20"))
    asset = dep["asset_id"]
    lender, borrower, trader = w3.eth.accounts[1:4]  # the stand-in's unlocked accounts play the users

    def send(fn, sender):
        tx = fn.transact({"from": sender})
        receipt = w3.eth.wait_for_transaction_receipt(tx, timeout=60)
        assert receipt["status"] == 1, fn
        return receipt

    def until(what, check, seconds, step=None):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if check():
                return
            if step:
                step()
            time.sleep(2)
        raise AssertionError(f"{what}: not within {seconds} s; services' logs in {world.logs}")

    # the keepers' first round lands once the new pool has 30 minutes of history (the market refuses new
    # risk until then): half an hour of chain time in steps of a minute
    until("the keepers' first post", lambda: oracle.functions.metrics(asset).call()[3] > 0, 300,
          step=lambda: warp(w3, 60))  # fmt: skip

    # a lender and a borrower who borrows all it may
    usdc_unit, weth_unit = 10 ** usdc.functions.decimals().call(), 10 ** weth.functions.decimals().call()
    send(usdc.functions.mint(lender, 1_000_000 * usdc_unit), lender)
    send(usdc.functions.approve(market.address, 2**256 - 1), lender)
    send(market.functions.deposit(1_000_000 * usdc_unit, lender), lender)
    send(weth.functions.mint(borrower, 50 * weth_unit), borrower)
    send(weth.functions.approve(market.address, 2**256 - 1), borrower)
    send(market.functions.supply_collateral(50 * weth_unit, borrower), borrower)
    limit = lens.functions.max_borrowable(market.address, borrower).call()
    send(market.functions.borrow(limit * 99 // 100, borrower), borrower)
    assert not lens.functions.is_liquidatable(market.address, borrower).call()
    posted_before = oracle.functions.metrics(asset).call()[0]

    # the crash: a trader sells collateral into the pool until its price is CRASH of what it was
    r0, r1 = pool.functions.get_reserves().call()  # collateral, loan
    amount = int((math.sqrt(r0 * r1 / (r1 / r0 * CRASH)) - r0) / 0.997)
    send(weth.functions.mint(trader, amount), trader)
    send(weth.functions.approve(pool.address, amount), trader)
    send(pool.functions.swap(weth.address, amount, 0, trader), trader)
    liquidated = market.events.Liquidated()

    def liquidations():
        return liquidated.get_logs(from_block=0)

    # an hour and a half of chain time in steps of a minute (the pool's 30-minute average, the oracle's
    # 50%-per-hour bound); the keepers and the bot run on their own all along
    until("a liquidation by the bot", lambda: bool(liquidations()), 600, step=lambda: warp(w3, 60))
    logs = liquidations()
    assert {ev["args"]["liquidator"] for ev in logs} == {_address(world, "liquidator")}
    assert all(ev["args"]["borrower"] == borrower and ev["args"]["repaid"] > 0 for ev in logs)
    assert oracle.functions.metrics(asset).call()[0] < posted_before  # the crash reached the oracle
    for _pid, cmd, log in world.shell.services:
        events = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        # no round failed: the bot's transactions once went out with a gas limit of exactly the estimate
        # and ran out of gas when a keeper's batch landed first (round_failed: EVM error OutOfGas)
        assert not [e for e in events if e["level"] == "error"], f"{cmd}\n{log.read_text()[-3000:]}"
        if cmd.startswith("ballast bot run"):
            assert any(e["event"] == "liquidated" for e in events), log.read_text()[-3000:]
