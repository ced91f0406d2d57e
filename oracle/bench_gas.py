"""`ballast bench gas`: whole-transaction gas of every user operation and of oracle posts, measured as
real transactions on a local anvil started through ape. The scenario lives in `measure_gas` so the test
suite (tests/integration/test_gas.py) pins the same numbers the benchmark prints."""

from __future__ import annotations

import json
from pathlib import Path

import click

from oracle import model

# DESIGN.md targets (whole transaction, steady state) and the ceilings the tests pin today.
TARGETS = {
    "supply_collateral": 55_000,
    "borrow": 80_000,
    "repay": 65_000,
    "withdraw_collateral": 65_000,
    "liquidate": 100_000,
    "deposit": 75_000,
    "withdraw": 75_000,
    "post_1_asset": 30_000,
    "post_10_assets": 80_000,
    # issue 7: a batch relayed with 3 signatures (5 signatures are reported, without a target)
    "post_quorum3_1_asset": 55_000,
    "post_quorum3_10_assets": 120_000,
}
CEILING = 150_000

WAD = model.WAD
PRICE = 2_000 * 10**6 * WAD // 10**18
DEPTH = 10_000_000 * 10**6
SIGMA = WAD // 2


def measure_gas(project, accounts, chain) -> dict[str, int]:
    """Deploy tokens, oracle, factory and a market; run each operation once to warm it up (so slots
    are non-zero as in steady state), then once more and record `gas_used` of that second run."""
    from dataclasses import astuple

    admin, keeper, guardian, lender, borrower, liquidator = (accounts[i] for i in range(6))
    loan = admin.deploy(project.MockERC20, "USD Coin", "USDC", 6)
    tokens = [admin.deploy(project.MockERC20, f"Coll{i}", f"C{i}", 18) for i in range(10)]
    coll = tokens[0]
    oracle = admin.deploy(project.RiskOracle, guardian)
    oracle.set_keeper(keeper, True, sender=admin)
    for t in tokens:
        oracle.add_asset(t, sender=admin)
    blueprint = admin.declare(project.Market).contract_address
    factory = admin.deploy(project.MarketFactory, blueprint, oracle)
    tx = factory.create_market(
        loan,
        coll,
        1,
        astuple(model.RiskParams()),
        astuple(model.RateParams()),
        "Ballast USDC/C0",
        "bUSDC-C0",
        sender=admin,
    )
    market = project.Market.at(tx.decode_logs(factory.MarketCreated)[0].market)

    def post(n, sigma=SIGMA, price=PRICE):
        at = max(chain.pending_timestamp, oracle.metrics(1)[3] + 1)
        chain.pending_timestamp = at
        words = [model.pack_update(i + 1, price, DEPTH, sigma) for i in range(n)]
        return oracle.post(at, at + 600, words, sender=keeper)

    post(10)
    for acct, token, amount in (
        (lender, loan, 10**15),
        (borrower, coll, 10**24),
        (liquidator, loan, 10**15),
        (borrower, loan, 10**15),
    ):
        token.mint(acct, amount, sender=acct)
        token.approve(market, 2**256 - 1, sender=acct)
    gas: dict[str, int] = {}

    def run(name, fn):
        # Steady state, deterministic: every transaction lands one 12-second block after the previous
        # one, so interest accrues (and the accrual's storage write is paid) in every measured call
        # (without a fixed step, two calls in the same second skip the accrual and the gas depends on
        # the wall clock).
        chain.pending_timestamp += 12
        fn()  # warm-up: first touch of each slot
        chain.pending_timestamp += 12
        gas[name] = fn().gas_used

    run("deposit", lambda: market.deposit(100_000 * 10**6, lender, sender=lender))
    run("withdraw", lambda: market.withdraw(10_000 * 10**6, lender, lender, sender=lender))
    run("supply_collateral", lambda: market.supply_collateral(10 * 10**18, borrower, sender=borrower))
    run("borrow", lambda: market.borrow(1_000 * 10**6, borrower, sender=borrower))
    run("repay", lambda: market.repay(100 * 10**6, borrower, sender=borrower))
    run("withdraw_collateral", lambda: market.withdraw_collateral(10**18, borrower, sender=borrower))
    chain.pending_timestamp += 60
    gas["post_1_asset"] = post(1).gas_used
    chain.pending_timestamp += 60
    gas["post_10_assets"] = post(10).gas_used
    # make the position liquidatable: borrow near the limit, then the price drops
    market.borrow(market.max_borrowable(borrower) * 99 // 100, borrower, sender=borrower)
    post(1, price=PRICE * 80 // 100)
    run("liquidate", lambda: market.liquidate(borrower, 100 * 10**6, sender=liquidator))
    return gas


# Honest keepers' reports differ a little: price by up to 0.1%, sigma and depth by up to 2% (signer k)
PRICE_OFFSETS, SIGMA_OFFSETS, DEPTH_OFFSETS = (0, 1, -1, 2, -2), (0, 10, -10, 20, -20), (0, -10, 10, -20, 20)


def relay_post(chain, oracle, keys: list, signers: list[str], relayer, assets: int, step: int):
    """One `RiskOracle.post` of `assets` assets signed by every key (values differing slightly per
    signer), a minute after the last, the price 0.01% higher per `step`; sent by `relayer`."""
    from oracle import reports

    at = max(chain.pending_timestamp, int(oracle.metrics(1)[3]) + 60)
    chain.pending_timestamp = at
    price = model.price_from_human(2_000, 6, 18) * (10_000 + step) // 10_000
    reps = []
    for k, key in enumerate(keys):
        updates = [
            (a + 1, price * (2_000 + PRICE_OFFSETS[k]) // 2_000, DEPTH * (1_000 + DEPTH_OFFSETS[k]) // 1_000,
             SIGMA * (1_000 + SIGMA_OFFSETS[k]) // 1_000)
            for a in range(assets)
        ]  # fmt: skip
        reps.append(reports.sign(key, chain.chain_id, oracle.address, at, at + 600, model.pack_report(updates)))
    return oracle.post(*reports.build_batch(reps, signers).args, sender=relayer)


def measure_post_gas(project, accounts, chain) -> dict[str, int]:
    """Whole-transaction gas of `RiskOracle.post` relaying a batch of 3 signed reports (an oracle of 3
    signers, quorum 2, every report relayed) and of 5 (5 signers, quorum 3), for 1 and 10 assets, in
    steady state: the oracle has held the assets for a while, each post comes a minute after the last
    and moves the price a little, and the signers' values differ slightly from each other as honest
    keepers' do (price within 0.1%, sigma and depth within 2%). Signers are plain keys; the relayer is
    an ordinary account (anyone relays)."""
    from eth_account import Account
    from eth_utils import keccak

    admin, relayer, guardian = accounts[0], accounts[1], accounts[2]
    keys = [keccak(text=f"ballast-bench-signer-{i}") for i in range(5)]
    signers = [Account.from_key(k).address for k in keys]
    loan = "0x" + "10" * 20
    collaterals = ["0x" + f"{i + 1:040x}" for i in range(10)]  # the oracle only records the pairs
    gas: dict[str, int] = {}
    for n, quorum in ((3, 2), (5, 3)):
        oracle = admin.deploy(project.RiskOracle, guardian, signers[:n], quorum)
        for c in collaterals:
            oracle.add_asset(c, loan, sender=admin)
        relay_post(chain, oracle, keys[:n], signers[:n], relayer, 10, 0)  # first posts: not steady state
        relay_post(chain, oracle, keys[:n], signers[:n], relayer, 10, 1)
        gas[f"post_quorum{n}_1_asset"] = relay_post(chain, oracle, keys[:n], signers[:n], relayer, 1, 2).gas_used
        gas[f"post_quorum{n}_10_assets"] = relay_post(chain, oracle, keys[:n], signers[:n], relayer, 10, 3).gas_used
    return gas


def table(gas: dict[str, int]):
    from rich.table import Table

    t = Table(title="Ballast gas (whole transaction, steady state, anvil)")
    for col in ("operation", "gas used", "target", "within target"):
        t.add_column(col, justify="right" if col != "operation" else "left")
    for name, used in gas.items():
        target = TARGETS.get(name)
        t.add_row(
            name, f"{used:,}", f"{target:,}" if target else "-", "yes" if target and used <= target else "no"
        )
    return t


@click.command()
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the measurements as JSON here.",
)
@click.option(
    "--network",
    default="ethereum:local:foundry",
    show_default=True,
    help="Ape network choice (a local node is started for local networks).",
)
def command(json_out: Path | None, network: str):
    """Measure the gas of every user operation and of oracle posts (1 and 10 assets; relayed batches of
    3 and 5 signed reports)."""
    from rich.console import Console

    from oracle.errors import BallastError

    try:
        from ape import accounts, chain, networks, project
    except ImportError as exc:  # pragma: no cover - ape is a dependency
        raise BallastError(f"ape is not importable: {exc}") from exc
    from ape.logging import logger

    logger.set_level("ERROR")  # the table is the output, not one line per transaction
    try:
        ctx = networks.parse_network_choice(network)
    except Exception as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BallastError(f"unknown network {network!r}: {first_line}") from exc
    with ctx:
        gas = measure_gas(project, accounts.test_accounts, chain)
        gas.update(measure_post_gas(project, accounts.test_accounts, chain))
    Console().print(table(gas))
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        payload = {"gas": gas, "targets": TARGETS, "ceiling": CEILING}
        json_out.write_text(json.dumps(payload, indent=2) + "\n")
        Console().print(f"wrote {json_out}")
