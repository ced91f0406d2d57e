"""Change a deployed system: `ape run configure --network NET [--account ALIAS] [--deployments FILE] ...`.

Keepers on/off, the guardian, the oracle's guardrails and the market's risk and rate parameters, each
bounded on chain: every call is simulated first, and a value out of bounds ends in one line with the
contract's own message (nothing is sent). Fields not named
keep their current on-chain values. Addresses come from the deployments file that `ape run deploy`
wrote (deployments/<ecosystem>-<network>.json by default).
"""

from pathlib import Path

import click

from oracle import deploy as d
from oracle import model
from oracle.accounts import load_account
from oracle.errors import BallastError


@click.command(name="configure")
@click.option("--network", "network_choice", default="ethereum:local:foundry", show_default=True)
@click.option("--rpc", default=None, help='RPC URL instead of ape-config.yaml\'s, e.g. --rpc "$SEPOLIA_RPC_URL"')
@click.option("--account", "alias", default=None, help="the owner's ape account (TEST::n on local chains)")
@click.option("--deployments", "dep_path", type=click.Path(), default=None, help="deployments JSON")
@click.option("--keeper", "keepers_on", multiple=True, help="enable a keeper (repeatable)")
@click.option("--revoke-keeper", "keepers_off", multiple=True, help="disable a keeper (repeatable)")
@click.option("--guardian", default=None, help="new guardian address")
@click.option("--risk", multiple=True, help="market risk parameter FIELD=INT (WAD / seconds), repeatable")
@click.option("--rates", multiple=True, help="market rate parameter FIELD=INT (WAD), repeatable")
@click.option("--guard", multiple=True, help="oracle guardrail FIELD=INT (WAD / seconds), repeatable")
def cli(network_choice, rpc, alias, dep_path, keepers_on, keepers_off, guardian, risk, rates, guard):
    """Apply admin changes to a deployed oracle and market."""
    risk_kw = d.parse_assignments(risk, model.RiskParams, "risk")
    rates_kw = d.parse_assignments(rates, model.RateParams, "rates")
    guard_kw = d.parse_assignments(guard, model.GuardParams, "guard")
    if not (keepers_on or keepers_off or guardian or risk_kw or rates_kw or guard_kw):
        raise BallastError("nothing to change (see --help)")
    with d.connect(network_choice, rpc) as provider:
        from ape import project
        from ape.exceptions import ApeException

        net = provider.network
        path = Path(dep_path) if dep_path else d.deployments_path(net.ecosystem.name, net.name)
        dep = d.read_deployment(path)
        if dep.chain_id != provider.chain_id:
            raise BallastError(f"{path} is for chain {dep.chain_id}, connected to chain {provider.chain_id}")
        if not dep.complete:
            raise BallastError(f"{path} records a deployment that stopped halfway: run `ape run deploy` again")
        if not d.has_code(dep.market):
            raise BallastError(f"{path}: no contract at its market {dep.market} on this chain (a node reset?)")
        admin = load_account(alias, local=d.is_local(net.name), network=f"{net.ecosystem.name}:{net.name}")
        try:
            d.configure_system(
                project, admin, dep, keepers_on=keepers_on, keepers_off=keepers_off, guardian=guardian,
                risk=risk_kw, rates=rates_kw, guard=guard_kw, log=click.echo,
            )  # fmt: skip
        except ApeException as exc:
            raise BallastError(f"configure failed: {str(exc).strip().splitlines()[0]}") from None
