"""`ballast bench scan`: how fast the liquidation bot reads every position of a market (the bot's own path
`MarketReader.scan`: raw pages of up to 1,000 from `Market.borrowers`, read four at a time at one block and
judged with oracle.model; and, for comparison, `MarketReader.scan_lens`, the lens's judged pages
`MarketLens.positions`; the two must agree row for row), measured on a
local anvil started through ape with N real positions (each one a real account that supplied collateral
and borrowed: the transactions go to anvil's pool with automine off and are mined in full blocks, so
setting up 10,000 positions takes seconds, not hours).

The number is positions read per second, wall clock, median of a few full scans; issue 9 asks for at
least 10,000 per second."""

from __future__ import annotations

import json
import statistics
import time

import click

from oracle import model
from oracle.errors import BallastError

WAD = model.WAD
PRICE = model.price_from_human(2_000, 6, 18)
DEPTH = 10_000_000 * 10**6
SIGMA = WAD // 2
TARGET_PER_SECOND = 10_000


def _send_all(provider, txs: list[dict], echo) -> None:
    """Put `txs` in anvil's pool with automine off, mine until the pool is empty, automine back on."""
    provider.make_request("evm_setAutomine", [False])
    try:
        for i, tx in enumerate(txs):
            provider.make_request("eth_sendTransaction", [tx])
            if echo and (i + 1) % 2_000 == 0:
                echo(f"  sent {i + 1:,} / {len(txs):,}")
        while int(provider.make_request("txpool_status", [])["pending"], 16):
            provider.make_request("evm_mine", [])
    finally:
        provider.make_request("evm_setAutomine", [True])


def setup_positions(project, accounts, chain, n: int, echo=None):
    """A market with `n` borrowers, each at about half its borrowing limit. Returns (market, lens)."""
    from eth_utils import keccak, to_checksum_address

    from oracle.bench_gas import bench_signers, deploy_market

    admin, relayer, guardian, lender = (accounts[i] for i in range(4))
    loan = admin.deploy(project.MockERC20, "USD Coin", "USDC", 6)
    coll = admin.deploy(project.MockERC20, "Wrapped Ether", "WETH", 18)
    signers = bench_signers(3)
    oracle = admin.deploy(project.RiskOracle, guardian, [k.address for k in signers], 2)
    oracle.add_asset(coll, loan, sender=admin)
    market, lens = deploy_market(project, admin, oracle, loan, coll)
    from oracle import reports

    at = chain.blocks.head.timestamp  # observed now (no timestamp cheats: any node will do)
    words = model.pack_report([(1, PRICE, DEPTH, SIGMA)])
    batch = reports.build_batch([reports.sign(k, chain.chain_id, oracle.address, at, at + 600, words) for k in signers],
                                list(oracle.signers()))  # fmt: skip
    oracle.post(*batch.args, sender=relayer)
    market.poke(sender=relayer)
    lend = 1_000 * 10**6 * n + 10**12
    loan.mint(lender, lend, sender=lender)
    loan.approve(market, 2**256 - 1, sender=lender)
    market.deposit(lend, lender, sender=lender)
    coll_each, borrow_each = 10**18, 1_000 * 10**6  # 1 WETH (2,000 USDC) backs 1,000 USDC: 50%
    funder = admin
    coll.mint(funder, coll_each * n, sender=funder)
    coll.approve(market, 2**256 - 1, sender=funder)
    provider = chain.provider
    borrowers = [to_checksum_address(keccak(text=f"ballast-bench-borrower-{i}")[-20:]) for i in range(n)]
    gas = hex(200_000)
    if echo:
        echo(f"setting up {n:,} positions (supply collateral for each, then each borrows)")
    txs = []
    for b in borrowers:
        data = market.supply_collateral.encode_input(coll_each, b)
        txs.append({"from": funder.address, "to": market.address, "data": _hex(data), "gas": gas,
                    "gasPrice": "0x0"})  # fmt: skip
    _send_all(provider, txs, echo)
    txs = []
    for b in borrowers:
        provider.make_request("anvil_impersonateAccount", [b])
        data = market.borrow.encode_input(borrow_each, b)
        txs.append({"from": b, "to": market.address, "data": _hex(data), "gas": gas, "gasPrice": "0x0"})
    _send_all(provider, txs, echo)
    for b in borrowers:
        provider.make_request("anvil_stopImpersonatingAccount", [b])
    if market.num_borrowers() != n or market.position(borrowers[-1])[1] < borrow_each:
        raise BallastError("bench scan: the positions were not all set up (a transaction failed in the pool)")
    return market, lens


def _hex(data) -> str:
    return data if isinstance(data, str) else "0x" + bytes(data).hex()


def measure_scan(project, accounts, chain, n: int = 10_000, repeats: int = 3, echo=None) -> dict:
    """Set up `n` positions, then time full scans through `MarketReader.scan` (the bot's path)."""
    from oracle.views import MarketReader

    t0 = time.perf_counter()
    market, lens = setup_positions(project, accounts, chain, n, echo)
    setup_s = time.perf_counter() - t0
    reader = MarketReader.of(project, market.address, lens.address)

    def timed(scan, label: str) -> list[float]:
        times = []
        for i in range(repeats):
            t = time.perf_counter()
            rows = scan()
            times.append(time.perf_counter() - t)
            if len(rows) != n:
                raise BallastError(f"bench scan: read {len(rows)} positions of {n}")
            if echo:
                echo(f"  {label} scan {i + 1}/{repeats}: {n:,} positions in {times[-1]:.2f} s")
        return times

    times = timed(reader.scan, "bot's")
    lens_times = timed(reader.scan_lens, "lens")
    if reader.scan() != reader.scan_lens():
        raise BallastError("bench scan: the bot's scan and the lens disagree on a position")
    best, median = min(times), statistics.median(times)
    lens_median = statistics.median(lens_times)
    page = min(n, 1_000)
    page_gas = int(reader.market.functions.borrowers(0, page).estimate_gas({"from": accounts[0].address}))
    lens_page_gas = int(reader.lens.functions.positions(market.address, 0, page).estimate_gas(
        {"from": accounts[0].address}
    ))
    return {
        "positions": n,
        "setup_seconds": round(setup_s, 1),
        "scan_seconds_median": round(median, 3),
        "scan_seconds_best": round(best, 3),
        "scan_seconds_first": round(times[0], 3),  # the first scan also computes the borrowers' EIP-55 forms
        "positions_per_second": int(n / median),
        "target_per_second": TARGET_PER_SECOND,
        "within_target": n / median >= TARGET_PER_SECOND,
        "gas_per_page_of_1000": page_gas,
        "lens_scan_seconds_median": round(lens_median, 3),
        "lens_positions_per_second": int(n / lens_median),
        "lens_gas_per_page_of_1000": lens_page_gas,
    }


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@click.command(name="scan")
@click.option("--positions", "n", type=click.IntRange(1, 100_000), default=10_000, show_default=True,
              help="Borrowers to set up on the local chain.")  # fmt: skip
@click.option("--repeats", type=click.IntRange(1, 20), default=3, show_default=True)
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write the result as JSON.")
@click.option("--tracing-node", is_flag=True,
              help="Use the anvil ape starts for tests (with --steps-tracing, several times slower) instead "
                   "of a plain anvil like the node a bot reads in production.")  # fmt: skip
def scan_command(n, repeats, json_out, tracing_node):
    """Positions per second the liquidation bot reads through the lens (local anvil)."""
    import shutil
    import subprocess

    from ape import accounts, chain, networks, project
    from ape.logging import logger

    from oracle.backtest import writable

    logger.set_level("ERROR")  # progress lines and the result are the output
    if json_out:
        writable(json_out)  # before the work, not after
    node = None
    choice = "ethereum:local:foundry"
    if not tracing_node:
        anvil = shutil.which("anvil")
        if anvil is None:
            raise BallastError("bench scan: anvil is not on PATH (make bootstraps node_modules/.bin/anvil)")
        port = _free_port()
        node = subprocess.Popen(
            [anvil, "--port", str(port), "--silent", "--chain-id", "1337", "--block-base-fee-per-gas", "0", "--gas-price", "0",
             "--gas-limit", "1000000000", "--code-size-limit", "100000"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        choice = f"ethereum:local:http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        import socket

        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or node.poll() is not None:
                    node.kill()
                    raise BallastError("bench scan: the local anvil did not start") from None
                time.sleep(0.2)
    try:
        with networks.parse_network_choice(choice):
            result = measure_scan(project, accounts.test_accounts, chain, n, repeats, echo=click.echo)
    except BallastError:
        raise
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback
        raise BallastError(f"bench scan failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    finally:
        if node is not None:
            node.terminate()
            try:
                node.wait(10)
            except subprocess.TimeoutExpired:
                node.kill()
    result["node"] = "ape's anvil (--steps-tracing)" if tracing_node else "plain anvil"
    click.echo(
        f"{result['positions']:,} positions: {result['positions_per_second']:,} per second (median of "
        f"{repeats} scans, {result['scan_seconds_median']} s, {result['node']}; target {TARGET_PER_SECOND:,}: "
        f"{'met' if result['within_target'] else 'MISSED'}); a raw page of 1,000 costs "
        f"{result['gas_per_page_of_1000']:,} gas in eth_call. Through the lens's judged pages: "
        f"{result['lens_positions_per_second']:,} per second ({result['lens_gas_per_page_of_1000']:,} gas a page)"
    )
    if json_out:
        writable(json_out).write_text(json.dumps(result, indent=2) + "\n")
        click.echo(f"wrote {json_out}")
