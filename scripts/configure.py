"""Change a deployed system: `ape run configure --network NET [--rpc URL] [--account ALIAS] [--deployments FILE]
...`.

The oracle's signer set and quorum, its guardian and its six guardrails; the market's risk parameters
(`max_spread` among them), rate parameters and price feed. Every value is bounded on chain: each call is
simulated first, and a value out of bounds ends in one line with the contract's own message (nothing is
sent). Fields not named keep their current on-chain values. Addresses come from the deployments file
that `ape run deploy` wrote (deployments/<ecosystem>-<network>.json by default), which is brought up to
date with what changed.
"""

from pathlib import Path

import click

from oracle import deploy as d
from oracle import model
from oracle.accounts import address_of, load_account
from oracle.errors import BallastError


@click.command(name="configure")
@click.option("--network", "network_choice", default="ethereum:local:foundry", show_default=True)
@click.option("--rpc", default=None, help='RPC URL instead of ape-config.yaml\'s, e.g. --rpc "$SEPOLIA_RPC_URL"')
@click.option("--account", "alias", default=None, help="the owner's ape account (TEST::n on local chains)")
@click.option("--deployments", "dep_path", type=click.Path(), default=None, help="deployments JSON")
@click.option("--signer", "signers", multiple=True,
              help="the oracle's new signer set, one --signer ADDRESS (or ape alias) each: the whole set")  # fmt: skip
@click.option("--quorum", type=int, default=None, help="signatures a report needs (more than half of the signers)")
@click.option("--guardian", default=None, help="new guardian (address or ape alias)")
@click.option("--risk", multiple=True, help="market risk parameter FIELD=INT (WAD / seconds), repeatable")
@click.option("--rates", multiple=True, help="market rate parameter FIELD=INT (WAD), repeatable")
@click.option("--guard", multiple=True, help="oracle guardrail FIELD=INT (WAD / seconds), repeatable")
@click.option("--price-feed", "feed", default=None,
              help="the market's Chainlink-compatible price feed, or 'none' to remove it")  # fmt: skip
@click.option("--max-deviation", type=int, default=None,
              help="with --price-feed: largest |oracle - feed| / feed, WAD (default 2%)")  # fmt: skip
@click.option("--max-age", type=int, default=None, help="with --price-feed: largest age of its answer, s (default 3600)")
def cli(network_choice, rpc, alias, dep_path, signers, quorum, guardian, risk, rates, guard, feed, max_deviation,
        max_age):  # fmt: skip
    """Apply admin changes to a deployed oracle and market."""
    risk_kw = d.parse_assignments(risk, model.RiskParams, "risk")
    rates_kw = d.parse_assignments(rates, model.RateParams, "rates")
    guard_kw = d.parse_assignments(guard, model.GuardParams, "guard")
    price_feed = None
    if feed is not None:
        spec = {"feed": feed}
        spec.update({k: v for k, v in (("max_deviation", max_deviation), ("max_age", max_age)) if v is not None})
        price_feed = d.PriceFeed.from_dict(spec, "--price-feed")
    elif max_deviation is not None or max_age is not None:
        raise BallastError("--max-deviation and --max-age go with --price-feed FEED")
    if not (signers or quorum is not None or guardian or risk_kw or rates_kw or guard_kw or price_feed):
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
        local = d.is_local(net.name)
        admin = load_account(alias, local=local, network=f"{net.ecosystem.name}:{net.name}")
        signer_addresses = [address_of(s, local=local) for s in signers] or None
        guardian = address_of(guardian, local=local) if guardian else None
        try:
            d.configure_system(
                project, admin, dep, signers=signer_addresses, quorum=quorum, guardian=guardian,
                risk=risk_kw, rates=rates_kw, guard=guard_kw, price_feed=price_feed, log=click.echo,
            )  # fmt: skip
        except ApeException as exc:
            raise BallastError(f"configure failed: {str(exc).strip().splitlines()[0]}") from None
        d.write_deployment(d.refresh_record(project, dep), path)
        click.echo(f"updated {path}")
