"""`ballast position --network NET --market ADDR ACCOUNT`: a borrower's position as the market sees it.

Every number is read from the market's views (nothing is recomputed here): collateral, debt, health
factor, the initial and maintenance haircuts and the collateral ratios they imply for this position,
what more it may borrow, and whether it can be liquidated now.
"""

from __future__ import annotations

import json

import click

from oracle import model

WAD = model.WAD


def read_position(market, account: str) -> dict:
    """The position of `account` from the market's views (raw integers, WAD where a ratio)."""
    collateral, debt = (int(x) for x in market.position(account))
    return {
        "account": str(account),
        "collateral": collateral,
        "debt": debt,
        "health_factor": int(market.health_factor(account)),
        "h_init": int(market.h_init_of(account)),
        "h_maint": int(market.h_maint_of(account)),
        "cr_init": int(market.required_ratio(collateral, True)),
        "cr_maint": int(market.required_ratio(collateral, False)),
        "max_borrowable": int(market.max_borrowable(account)),
        "liquidatable": bool(market.is_liquidatable(account)),
    }


def _wad(x: int) -> str:
    return f"{x / WAD:.4f}"


def render(pos: dict, loan_decimals: int, coll_decimals: int) -> object:
    from rich.table import Table

    t = Table(title="Ballast position", show_header=False)
    t.add_row("account", pos["account"])
    t.add_row("collateral", f"{pos['collateral'] / 10**coll_decimals:,.6f}")
    t.add_row("debt", f"{pos['debt'] / 10**loan_decimals:,.6f}")
    hf = pos["health_factor"]
    t.add_row("health factor", "no debt" if hf >= 2**255 else _wad(hf))
    t.add_row("H_init / CR_init", f"{_wad(pos['h_init'])} / {_wad(pos['cr_init'])}")
    t.add_row("H_maint / CR_maint", f"{_wad(pos['h_maint'])} / {_wad(pos['cr_maint'])}")
    t.add_row("max borrowable", f"{pos['max_borrowable'] / 10**loan_decimals:,.6f}")
    t.add_row("liquidatable", "YES" if pos["liquidatable"] else "no")
    return t


@click.command(name="position")
@click.option("--network", "network_choice", required=True, help="ecosystem:network[:provider]")
@click.option("--market", "market_address", required=True, help="Market address")
@click.option("--json", "as_json", is_flag=True, help="print JSON instead of a table")
@click.argument("account")
def command(network_choice, market_address, as_json, account):
    """Show a borrower's collateral, debt, health and required ratios."""
    import warnings

    warnings.filterwarnings("ignore", message=".*import_remapping.*")
    from rich.console import Console

    from oracle import deploy as d
    from oracle.errors import BallastError
    from oracle.liquidator import open_market

    with d.connect(network_choice):
        from ape import Contract, project
        from ape.exceptions import ApeException

        market = open_market(project, market_address)
        try:
            pos = read_position(market, account)
        except (ApeException, ValueError) as exc:
            raise BallastError(f"cannot read position of {account}: {str(exc).splitlines()[0]}") from None
        if as_json:
            click.echo(json.dumps(pos))
            return
        try:
            loan_dec = int(Contract(market.LOAN()).decimals())
            coll_dec = int(Contract(market.COLLATERAL()).decimals())
        except Exception:  # noqa: BLE001 - tokens without metadata: show raw units
            loan_dec = coll_dec = 0
        Console().print(render(pos, loan_dec, coll_dec))
