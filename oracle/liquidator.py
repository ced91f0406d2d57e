"""The liquidation bot: `ballast bot run [--config FILE] --network NET [--rpc URL] --account ALIAS
[--market ADDR] [--lens ADDR] [--deployments FILE] [--once] [--dry-run] [--metrics-port PORT]`.

Each round it first pokes the market when `MarketLens.ramping(market)` says a tightening of its
maintenance ramp is under way (the ramp advances only when poked), then scans every borrower: raw pages of
up to 1,000 from `Market.borrowers(start, count)`, read four at a time at one block and judged with
oracle.model, the contract's integer mirror, against the lens's view of the market at that block
(`MarketReader.scan`; it equals `MarketLens.positions` row for row). For each position found
liquidatable it offers the whole debt (and a margin for a block's interest), at most what it holds: the
market's engine takes only what restores the position's target health, or all of it when the position
is small or too deep to save. `MarketLens.liquidation_quote` says beforehand what the call would repay
and seize; the bot sends it only when it pays after gas:

    value(seized) - repaid - gas x gas price (in loan tokens) >= --min-profit

The gas is the node's estimate of the call at its gas price; `--native-price` converts it into loan
tokens (loan tokens per native coin). Without it, a market whose collateral is WETH values gas at the
oracle's price; any other market counts gas as free and says so once.

What it reports is what happened on chain: the `Liquidated` event's repaid and seized amounts (the
market caps a repayment at what the collateral pays for), and any `BadDebtRealized` the liquidation
wrote off against lenders. Logs are JSON lines on stderr (`oracle.logs`), like the keeper's; metrics
are served for Prometheus with `--metrics-port`. `--dry-run` simulates each liquidation (eth_call) and
sends nothing, pokes included. Reads go through `oracle.views.MarketReader`; the market and the lens
come from the flags or the deployments file (`oracle.views.market_and_lens`).

Faults: a liquidation that would revert (another liquidator was faster, the price moved) is logged
and skipped; an unreachable node, a missing account, a bot without funds, or `--max-failures` failed
rounds in a row end the bot with one line and a non-zero exit code (`BallastError`). SIGINT / SIGTERM
finish the current round and exit 0.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass

import click

from oracle import model
from oracle.chain import GAS_MARGIN_DEN, GAS_MARGIN_NUM
from oracle.config import config_option
from oracle.errors import BallastError
from oracle.logs import configure, emit

WAD = model.WAD
BATCH = 1_000  # positions per page (Market.borrowers and MarketLens.positions return at most 1,000)
INTEREST_MARGIN = 1_000  # offer debt + debt / 1,000: a block's interest between the read and the call
MAX_UINT = 2**256 - 1


@dataclass(frozen=True)
class Liquidation:
    """One liquidation, as the chain reports it (or as simulated, on a dry run)."""

    borrower: str
    repaid: int  # loan-token raw units, from the Liquidated event (what the market took)
    seized: int  # collateral raw units, from the Liquidated event
    bad_debt: int  # loan-token raw units written off in the same transaction (BadDebtRealized), else 0
    full: bool  # the position has no debt left
    tx: str | None  # None on a dry run


def gas_in_loan(gas: int, gas_price: int, loan_per_native: int) -> int:
    """The cost of `gas` at `gas_price` wei in loan raw units; `loan_per_native` is loan raw units per
    1e18 wei (one native coin) at model.PRICE_SCALE (rounds up: against the bot's profit)."""
    return model.ceil_div(gas * gas_price * loan_per_native, 10**18 * model.PRICE_SCALE)


def profit_after_gas(seized_value: int, repaid: int, gas_cost: int) -> int:
    """What a liquidation earns: value of the collateral seized - repaid - gas (loan raw units); the bot
    sends it when this is at least --min-profit."""
    return seized_value - repaid - gas_cost


class Telemetry:
    """Prometheus metrics of one bot (own registry). Amounts in token units (raw / 10**decimals)."""

    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge

        r = self.registry = CollectorRegistry()
        self.rounds = Counter("ballast_bot_rounds", "Rounds completed", registry=r)
        self.liquidations = Counter("ballast_bot_liquidations", "Liquidations mined", registry=r)
        self.repaid = Counter("ballast_bot_repaid", "Debt repaid (Liquidated events), loan tokens", registry=r)
        self.seized = Counter("ballast_bot_seized", "Collateral seized, collateral tokens", registry=r)
        self.bad_debt = Counter("ballast_bot_bad_debt", "Bad debt written off (BadDebtRealized), loan tokens",
                                registry=r)  # fmt: skip
        self.failures = Counter("ballast_bot_failures", "Failures", ["kind"], registry=r)
        self.positions = Gauge("ballast_bot_positions", "Borrowers scanned in the last round", registry=r)
        self.liquidatable = Gauge("ballast_bot_liquidatable", "Liquidatable positions seen in the last round",
                                  registry=r)  # fmt: skip
        self.last_round = Gauge("ballast_bot_last_round_timestamp", "Wall time of the last round", registry=r)
        self.pokes = Counter("ballast_bot_pokes", "Pokes of a market whose maintenance ramp was moving", registry=r)
        self.scanned = 0  # borrowers in the last round (for the round_done log line)

    def serve(self, port: int, addr: str = "127.0.0.1"):
        from prometheus_client import start_http_server

        try:
            server, _thread = start_http_server(port, addr=addr, registry=self.registry)
        except OSError as exc:
            raise BallastError(f"cannot serve metrics on {addr}:{port}: {exc.strerror or exc}") from None
        return server


def _tokens(raw: int, decimals: int | None) -> float | None:
    return None if decimals is None else raw / 10**decimals


def _decimals_or_none(reader, role: str) -> int | None:
    try:
        return reader.decimals(role)
    except BallastError as exc:
        emit("decimals_unknown", logging.WARNING, token=role, error=exc.format_message())
        return None


def liquidate_round(
    market,
    project,
    liquidator,
    batch: int = BATCH,
    echo=None,
    dry_run: bool = False,
    telemetry: Telemetry | None = None,
    reader=None,
    lens=None,
    min_profit: int = 0,
    native_price: int | None = None,
) -> list[Liquidation]:
    """One pass over all positions; liquidates what the lens reports as liquidatable when it pays after
    gas. `market` is the ape contract (transactions go through ape, signed by `liquidator`); reads go
    through `reader` (`oracle.views.MarketReader`, built here with the MarketLens `lens` when not given).
    A market whose maintenance ramp is moving is poked first. `min_profit` is in loan raw units;
    `native_price` in loan raw units per native coin at model.PRICE_SCALE (None: see the module doc).
    `echo` gets one human line per liquidation besides the JSON log."""
    from oracle.views import MarketReader, first_line

    if reader is None:
        if lens is None:
            raise BallastError("the liquidation bot reads positions through a MarketLens: pass its address")
        reader = MarketReader.of(project, market.address, lens)
    poke_if_ramping(market, reader, liquidator, dry_run, telemetry)
    loan_dec, coll_dec = _decimals_or_none(reader, "loan"), _decimals_or_none(reader, "collateral")
    loan = reader.token(reader.loan)
    rows = reader.scan(batch)
    due = [(account, debt) for account, _coll, debt, _hf, liquidatable in rows if liquidatable and debt > 0]
    if telemetry is not None:
        telemetry.scanned = len(rows)
        telemetry.positions.set(len(rows))
        telemetry.liquidatable.set(len(due))
    done: list[Liquidation] = []
    per_native = _native_price(reader, native_price) if due else 0
    for account, _debt in due:
        _collateral, debt_now = reader.position(account)
        offer = debt_now + debt_now // INTEREST_MARGIN + 1
        balance = int(loan.functions.balanceOf(liquidator.address).call())
        if balance < offer:
            if balance == 0:
                raise BallastError(f"liquidator {liquidator.address} holds no loan token")
            offer = balance  # a partial liquidation is still a step towards health
        try:
            repaid, seized, bonus, bad, _left = reader.quote(account, offer)
        except BallastError as exc:  # "would leave dust": the bot holds less than the whole debt
            emit("liquidation_skipped", logging.WARNING, borrower=account, offer=offer, reason=str(exc))
            continue
        if repaid == 0:
            emit("liquidation_skipped", borrower=account, reason="nothing to liquidate now (hourly cap spent)")
            continue
        if not dry_run and int(loan.functions.allowance(liquidator.address, reader.address).call()) < offer:
            estimate = loan.functions.approve(reader.address, MAX_UINT).estimate_gas({"from": liquidator.address})
            project.MockERC20.at(reader.loan).approve(market, MAX_UINT, sender=liquidator, gas=gas_limit(estimate))
        try:  # the quote said what the call does; the estimate also says whether it would revert now
            gas = int(reader.market.functions.liquidate(account, offer).estimate_gas({"from": liquidator.address}))
        except Exception as exc:  # noqa: BLE001 - a revert: someone was faster, the price moved, ...
            reason = first_line(exc)
            if dry_run and int(loan.functions.allowance(liquidator.address, reader.address).call()) < offer:
                reason += " (the bot approves the market's loan token before its first liquidation)"
            emit("liquidation_skipped", logging.WARNING, borrower=account, repay=offer, reason=reason)
            if telemetry is not None:
                telemetry.failures.labels(kind="skipped").inc()
            continue
        gas_cost = gas_in_loan(gas, int(reader.w3.eth.gas_price), per_native)
        profit = profit_after_gas(reader.value(seized), repaid, gas_cost)
        if profit < min_profit:
            emit("liquidation_unprofitable", borrower=account, repaid=repaid, seized=seized, bonus=bonus,
                 gas=gas, gas_cost=gas_cost, profit=profit, min_profit=min_profit)  # fmt: skip
            if telemetry is not None:
                telemetry.failures.labels(kind="unprofitable").inc()
            continue
        if dry_run:
            liq = Liquidation(account, repaid, seized, bad, repaid >= debt_now, None)
            emit("liquidation_planned", borrower=account, repay=repaid, seized=seized, bonus=bonus,
                 bad_debt=bad, profit=profit, repay_tokens=_tokens(repaid, loan_dec),
                 seized_tokens=_tokens(seized, coll_dec))  # fmt: skip
            done.append(liq)
            continue
        liq = _send(market, liquidator, account, offer, gas_limit(gas))
        emit("liquidated", borrower=account, repaid=liq.repaid, seized=liq.seized, full=liq.full, bonus=bonus,
             repaid_tokens=_tokens(liq.repaid, loan_dec), seized_tokens=_tokens(liq.seized, coll_dec),
             bad_debt=liq.bad_debt, profit=profit, tx=liq.tx)  # fmt: skip
        if liq.bad_debt:
            emit("bad_debt", logging.WARNING, borrower=account, assets=liq.bad_debt,
                 assets_tokens=_tokens(liq.bad_debt, loan_dec), tx=liq.tx)  # fmt: skip
        if telemetry is not None:
            telemetry.liquidations.inc()
            telemetry.repaid.inc(_tokens(liq.repaid, loan_dec) or 0)
            telemetry.seized.inc(_tokens(liq.seized, coll_dec) or 0)
            telemetry.bad_debt.inc(_tokens(liq.bad_debt, loan_dec) or 0)
        if echo is not None:
            echo(_human(liq, reader, loan_dec, coll_dec))
        done.append(liq)
    return done


_WARNED_FREE_GAS: set[str] = set()


def _native_price(reader, native_price: int | None) -> int:
    """Loan raw units per native coin at model.PRICE_SCALE: the flag, else the oracle's price when the
    collateral is wrapped ether (18 decimals), else 0 (gas counted as free; said once per market)."""
    if native_price is not None:
        return native_price
    try:
        wrapped = reader.symbol("collateral").upper() in ("WETH", "ETH") and reader.decimals("collateral") == 18
    except BallastError:
        wrapped = False
    if wrapped:
        return reader.price() * 10**18
    if reader.address not in _WARNED_FREE_GAS:
        _WARNED_FREE_GAS.add(reader.address)
        emit("gas_not_priced", logging.WARNING, market=reader.address,
             reason="set --native-price (loan tokens per native coin) to count gas in the profit")  # fmt: skip
    return 0


def poke_if_ramping(market, reader, sender, dry_run: bool = False, telemetry: Telemetry | None = None) -> bool:
    """Poke the market when its maintenance ramp is moving (`MarketLens.ramping`): the ramp advances only
    when poked, and a liquidation judged by a stale ramp would come late. True when poked (or, on a dry
    run, when a poke was due)."""
    if not reader.ramping():
        return False
    if dry_run:
        emit("poke_planned", market=reader.address)
        return True
    estimate = reader.market.functions.poke().estimate_gas({"from": sender.address})
    tx = market.poke(sender=sender, gas=gas_limit(estimate))
    emit("poked", market=reader.address, tx=str(tx.txn_hash))
    if telemetry is not None:
        telemetry.pokes.inc()
    return True


def gas_limit(estimate: int) -> int:
    """The gas limit of the bot's transactions: the estimate with the keeper's margin (oracle.chain). The
    estimate is made on the latest block; a keeper's batch mined before the call in the next block can
    make it cost more (a poke that moves the ramp further, a liquidation that writes off bad debt), and a
    limit of exactly the estimate then runs out of gas. Seen on the Sepolia stand-in as `round_failed:
    EVM error OutOfGas` before this margin."""
    return int(estimate) * GAS_MARGIN_NUM // GAS_MARGIN_DEN + 10_000


def _send(market, liquidator, account: str, repay: int, gas: int) -> Liquidation:
    """liquidate() through ape with the gas limit `gas`; the amounts come from the receipt's events, not
    from what was offered."""
    tx = market.liquidate(account, repay, sender=liquidator, gas=gas)
    liquidated = [log for log in tx.decode_logs(market.Liquidated) if str(log.borrower) == account]
    bad = [log for log in tx.decode_logs(market.BadDebtRealized) if str(log.borrower) == account]
    if not liquidated:
        raise BallastError(f"liquidation of {account} mined without a Liquidated event: {tx.txn_hash}")
    repaid, seized = int(liquidated[0].repaid), int(liquidated[0].seized)
    debt_left = int(market.position(account)[1])
    return Liquidation(account, repaid, seized, sum(int(b.assets) for b in bad), debt_left == 0, str(tx.txn_hash))


def _human(liq: Liquidation, reader, loan_dec: int | None, coll_dec: int | None) -> str:
    from oracle.views import format_amount

    def amount(raw, dec, role):
        return f"{raw} raw" if dec is None else f"{format_amount(raw, dec)} {reader.symbol(role)}"

    text = (f"liquidated {liq.borrower}: repaid {amount(liq.repaid, loan_dec, 'loan')}, "
            f"seized {amount(liq.seized, coll_dec, 'collateral')}")  # fmt: skip
    if liq.bad_debt:
        text += f", bad debt written off {amount(liq.bad_debt, loan_dec, 'loan')}"
    return text


# --- CLI ---------------------------------------------------------------------------------------


@click.group(name="bot")
def command():
    """The liquidation bot."""


@command.command(name="run")
@config_option("bot")
@click.option("--network", "network_choice", required=True, help="ecosystem:network[:provider]")
@click.option("--rpc", default=None, help='RPC URL instead of ape-config.yaml\'s (env BALLAST_BOT_RPC keeps a key '
              'out of files and command lines)')  # fmt: skip
@click.option("--account", "alias", required=True, help="ape account alias (TEST::n on local chains)")
@click.option("--market", "market_address", default=None, help="Market address (default: the deployments file's)")
@click.option("--lens", "lens_address", default=None, help="MarketLens address (default: the deployments file's)")
@click.option("--deployments", type=click.Path(dir_okay=False), default=None,
              help="deployments JSON (default deployments/<ecosystem>-<network>.json)")  # fmt: skip
@click.option("--once", is_flag=True, help="one round, then exit")
@click.option("--dry-run", is_flag=True, help="simulate each liquidation and log it; send nothing")
@click.option("--interval", default=12.0, show_default=True, type=click.FloatRange(min=0),
              help="seconds between rounds")  # fmt: skip
@click.option("--batch", default=BATCH, show_default=True, type=click.IntRange(1, BATCH),
              help="positions per page read (Market.borrowers, at most 1,000)")  # fmt: skip
@click.option("--min-profit", default=0.0, show_default=True, type=click.FloatRange(min=0),
              help="loan tokens a liquidation must earn after gas")  # fmt: skip
@click.option("--native-price", default=None, type=click.FloatRange(min=0),
              help="loan tokens per native coin, to count gas (default: the oracle's price when the collateral "
                   "is WETH, else gas counts as free)")  # fmt: skip
@click.option("--max-failures", default=3, show_default=True, type=click.IntRange(min=1),
              help="consecutive failed rounds before the bot exits non-zero")  # fmt: skip
@click.option("--metrics-port", type=click.IntRange(1, 65535), default=None, help="serve Prometheus metrics here")
@click.option("--metrics-addr", default="127.0.0.1", show_default=True, help="address the metrics server binds")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))  # fmt: skip
def run(network_choice, rpc, alias, market_address, lens_address, deployments, once, dry_run, interval, batch,
        min_profit, native_price, max_failures, metrics_port, metrics_addr, log_level):  # fmt: skip
    """Scan all positions and liquidate the unhealthy ones, round after round."""
    import warnings

    warnings.filterwarnings("ignore", message=".*import_remapping.*")
    from ape.logging import LogLevel, logger

    from oracle import deploy as d
    from oracle.accounts import load_account
    from oracle.views import MarketReader, market_and_lens

    configure(log_level)
    logger.set_level(LogLevel.ERROR)  # stderr carries our JSON lines only
    with d.connect(network_choice, rpc) as provider:
        from ape import project

        liquidator = load_account(alias, local=d.is_local(provider.network.name), network=network_choice)
        market_address, lens_address = market_and_lens(provider, market_address, lens_address, deployments)
        reader = MarketReader.of(project, market_address, lens_address)
        market = project.Market.at(reader.address)
        loan_unit = 10 ** reader.decimals("loan")
        min_profit_raw = round(min_profit * loan_unit)
        per_native = None if native_price is None else round(native_price * loan_unit) * model.PRICE_SCALE
        telemetry = Telemetry()
        server = telemetry.serve(metrics_port, metrics_addr) if metrics_port else None
        stop = threading.Event()

        def on_signal(signum, _frame):
            emit("signal", signal=signal.Signals(signum).name)
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, on_signal)
        emit("bot_started", network=network_choice, rpc=d.redact(rpc) if rpc else None, market=reader.address,
             lens=reader.lens.address, account=liquidator.address, dry_run=dry_run, interval=interval, batch=batch,
             metrics_port=metrics_port)  # fmt: skip
        rounds = total = failures = 0
        try:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    done = liquidate_round(market, project, liquidator, batch, dry_run=dry_run,
                                           telemetry=telemetry, reader=reader, min_profit=min_profit_raw,
                                           native_price=per_native)  # fmt: skip
                except BallastError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a node hiccup: retried up to --max-failures
                    if not provider.is_connected:
                        raise BallastError(f"lost the node: {d._first_line(exc)}") from None
                    failures += 1
                    telemetry.failures.labels(kind="round").inc()
                    emit("round_failed", logging.ERROR, error=d._first_line(exc), failures=failures)
                    if failures >= max_failures:
                        raise BallastError(f"{failures} rounds failed in a row: {d._first_line(exc)}") from None
                else:
                    failures = 0
                    rounds += 1
                    total += len(done)
                    telemetry.rounds.inc()
                    telemetry.last_round.set(time.time())
                    emit("round_done", positions=telemetry.scanned, liquidations=len(done), dry_run=dry_run,
                         seconds=round(time.monotonic() - started, 3))  # fmt: skip
                if once:
                    break
                stop.wait(interval)
        finally:
            emit("bot_stopped", rounds=rounds, liquidations=total)
            if server is not None:
                server.shutdown()

