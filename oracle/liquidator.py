"""The liquidation bot: `ballast bot run --network NET --account ALIAS --market ADDR [--once]`.

Each round it scans every borrower in batches through `Market.positions(start, count)`, and for each
position the market reports liquidatable it repays just enough debt to bring the position back to
health (or all of it when that is not possible), receiving the collateral plus the bonus.

The size: repaying R seizes R * (1 + b) / p collateral, so the position is healthy again when
    D - R <= (V - R * (1 + b)) * (1 - H)    i.e.    R >= (D - V * (1 - H)) / (1 - (1 + b) * (1 - H))
with V the collateral value, D the debt, H the maintenance haircut the market reports for the
position, b the bonus. The liquidity term of H shrinks as the position shrinks, so this R errs on the
safe side; a small margin covers interest accrued between the read and the transaction.

Faults: a liquidation that reverts (another liquidator was faster, the price moved) is logged and
skipped; an unreachable node, a missing account or a bot without funds ends the bot with one line and
a non-zero exit code (`BallastError`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import click

from oracle import model
from oracle.errors import BallastError

WAD = model.WAD
BATCH = 100  # positions per view call (the view returns at most 100)
MARGIN_BPS = 100  # repay 1% more than the exact restore amount

log = logging.getLogger("ballast.bot")


@dataclass(frozen=True)
class Liquidation:
    """One liquidation the bot sent."""

    borrower: str
    repaid: int  # loan-token raw units
    seized: int  # collateral raw units
    full: bool  # the whole debt was repaid
    tx: str


def repay_to_restore(
    collateral_value: int, debt: int, h: int, bonus: int, margin_bps: int = MARGIN_BPS
) -> int:
    """Debt to repay (loan raw units) so that the position is healthy again; the whole debt when no
    partial repayment can restore it (deep underwater, or a haircut too small for the bonus)."""
    if debt == 0:
        return 0
    keep = WAD - h  # fraction of the value that may be borrowed
    shortfall = debt * WAD - collateral_value * keep  # WAD-scaled loan units
    if shortfall <= 0:
        return 0
    denom = WAD * WAD - (WAD + bonus) * keep  # WAD^2-scaled
    if denom <= 0:
        return debt
    repay = model.ceil_div(shortfall * WAD, denom)
    repay += repay * margin_bps // 10_000
    # Seizing more collateral than is left means the position cannot be saved: repay in full.
    if repay * (WAD + bonus) >= collateral_value * WAD:
        return debt
    return min(repay, debt)


def scan(market, batch: int = BATCH) -> list[tuple[str, int, int, bool]]:
    """Every borrower as (account, collateral, debt, liquidatable), read in batches."""
    total = int(market.num_borrowers())
    out: list[tuple[str, int, int, bool]] = []
    start = 0
    while start < total:
        rows = market.positions(start, min(batch, total - start))
        if not rows:
            break
        for row in rows:
            account, collateral, debt, liquidatable = row
            out.append((str(account), int(collateral), int(debt), bool(liquidatable)))
        start += len(rows)
    return out


def market_context(market, project):
    """(oracle contract, asset id, bonus, loan token) of a market, read from its views."""
    oracle = project.RiskOracle.at(market.ORACLE())
    asset_id = int(market.ASSET_ID())
    try:
        bonus = int(market.risk_params().bonus)
    except Exception:  # noqa: BLE001 - a market without the view: the default parameters
        bonus = model.RiskParams().bonus
    # Any ERC-20 ABI does for balanceOf / allowance / approve; the project's mock token carries one.
    loan = project.MockERC20.at(market.LOAN())
    return oracle, asset_id, bonus, loan


def liquidate_round(market, project, liquidator, batch: int = BATCH, echo=None) -> list[Liquidation]:
    """One pass over all positions; liquidates what the market reports as liquidatable."""
    from ape.exceptions import ContractLogicError

    say = echo or log.info
    oracle, asset_id, bonus, loan = market_context(market, project)
    done: list[Liquidation] = []
    for account, collateral, debt, liquidatable in scan(market, batch):
        if not liquidatable or debt == 0:
            continue
        price = int(oracle.metrics(asset_id)[0])
        value = collateral * price // WAD
        h = int(market.h_maint_of(account))
        debt_now = int(market.position(account)[1])
        repay = repay_to_restore(value, debt_now, h, bonus)
        if repay == 0:
            continue
        balance = int(loan.balanceOf(liquidator))
        if balance < repay:
            if balance == 0:
                raise BallastError(f"liquidator {liquidator.address} holds no loan token")
            repay = balance  # a partial liquidation is still a step towards health
        if int(loan.allowance(liquidator, market)) < repay:
            loan.approve(market, 2**256 - 1, sender=liquidator)
        try:
            tx = market.liquidate(account, repay, sender=liquidator)
        except ContractLogicError as exc:
            say(f"skip {account}: {exc.message}")
            continue
        seized = int(tx.return_value) if tx.return_value is not None else 0
        liq = Liquidation(account, repay, seized, repay >= debt_now, tx.txn_hash)
        say(f"liquidated {account}: repaid {repay} seized {seized}{' (full)' if liq.full else ''}")
        done.append(liq)
    return done


# --- CLI ---------------------------------------------------------------------------------------


@click.group(name="bot")
def command():
    """The liquidation bot."""


@command.command(name="run")
@click.option("--network", "network_choice", required=True, help="ecosystem:network[:provider]")
@click.option("--account", "alias", required=True, help="ape account alias (TEST::n on local chains)")
@click.option("--market", "market_address", required=True, help="Market address")
@click.option("--once", is_flag=True, help="one round, then exit")
@click.option("--interval", default=12.0, show_default=True, help="seconds between rounds")
@click.option("--batch", default=BATCH, show_default=True, type=click.IntRange(1, BATCH))
def run(network_choice, alias, market_address, once, interval, batch):
    """Scan all positions and liquidate the unhealthy ones, round after round."""
    import warnings

    warnings.filterwarnings("ignore", message=".*import_remapping.*")
    from oracle import deploy as d
    from oracle.accounts import load_account

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with d.connect(network_choice) as provider:
        from ape import project

        liquidator = load_account(alias, local=d.is_local(provider.network.name), network=network_choice)
        market = open_market(project, market_address)
        while True:
            try:
                done = liquidate_round(market, project, liquidator, batch, echo=click.echo)
            except BallastError:
                raise
            except Exception as exc:  # noqa: BLE001 - node gone mid-round is fatal for the bot
                if not provider.is_connected:
                    raise BallastError(f"lost the node: {exc}") from None
                raise BallastError(
                    f"round failed: {str(exc).splitlines()[0] if str(exc) else exc!r}"
                ) from None
            click.echo(f"round done: {len(done)} liquidation(s)")
            if once:
                return
            time.sleep(interval)


def open_market(project, address: str):
    """The Market at `address`, or a clear error when there is none."""
    from ape.exceptions import ApeException

    try:
        market = project.Market.at(address)
        market.num_borrowers()
    except (ApeException, ValueError) as exc:
        raise BallastError(f"no Ballast market at {address}: {str(exc).splitlines()[0]}") from None
    return market
