"""Deploy Ballast: `ape run deploy --network NET [--rpc URL] [--account ALIAS] [--config FILE] [--out FILE]
[--yes]`.

Deploys RiskOracle (with the config's signer set and quorum, and guardian), the Market blueprint, FeedCheck,
MarketFactory and MarketLens (plus mock tokens and a demo pool on local chains and forks), registers the
(collateral, loan) pair, creates a market with the default parameters of `oracle.model` (or those of
`--config`), sets its price feed when the config names one, and records the addresses in
deployments/<ecosystem>-<network>.json.

Idempotent: it first compares the config with the record and the chain, prints the plan, and asks
before sending (`--yes` to run unattended). A second identical run finds everything on chain and sends
nothing; a changed guardian, signer set, parameter or price feed sends only that call. A record whose contracts are not on this
chain (a node that was reset) is kept beside the new one, never overwritten. See docs/DEPLOY.md.
"""

import sys
from pathlib import Path

import click

from oracle import deploy as d
from oracle.accounts import load_account
from oracle.errors import BallastError


@click.command(name="deploy")
@click.option(
    "--network",
    "network_choice",
    default="ethereum:local:foundry",
    show_default=True,
    help="ecosystem:network[:provider], e.g. ethereum:sepolia:node or ethereum:sepolia-fork:foundry",
)
@click.option(
    "--rpc",
    default=None,
    help='RPC URL of the network instead of ape-config.yaml\'s, e.g. --rpc "$SEPOLIA_RPC_URL"',
)
@click.option(
    "--account",
    "alias",
    default=None,
    help="ape account alias (default on local chains: test account 0; TEST::n for others)",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(),
    default=None,
    help="JSON or YAML: signers, quorum, guardian, tokens, risk, rates, price_feed (docs/DEPLOY.md)",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(),
    default=None,
    help="deployments JSON to read and write (default deployments/<ecosystem>-<network>.json)",
)
@click.option("--yes", is_flag=True, help="send the plan without asking (unattended runs)")
def cli(network_choice, rpc, alias, config_path, out_path, yes):
    """Deploy (or complete, or update) the oracle, the factory, one market and the lens; record the addresses."""
    cfg = d.DeployConfig.load(config_path)
    with d.connect(network_choice, rpc) as provider:
        from ape import project
        from ape.exceptions import ApeException

        net = provider.network
        name = f"{net.ecosystem.name}:{net.name}"
        local = d.is_local(net.name)
        deployer = load_account(alias, local=local, network=name)
        path = Path(out_path) if out_path else d.deployments_path(net.ecosystem.name, net.name)
        record = d.read_deployment(path) if path.exists() else None
        click.echo(f"deploying on {name} (chain {provider.chain_id}) from {deployer.address}; record {path}")
        try:
            plan = d.plan_system(project, deployer, name, provider.chain_id, cfg, local=local, record=record)
        except ApeException as exc:
            raise BallastError(f"cannot read the deployment on chain: {d._first_line(exc)}") from None
        plan.dep.ephemeral = d.started_by_ape(provider)
        for line in plan.describe():
            click.echo(line)
        if not plan.steps:
            if record is not None and record.to_json() == plan.dep.to_json():
                click.echo(f"nothing to send: {path} matches the chain and the config")
            else:
                d.write_deployment(plan.dep, path)
                click.echo(f"nothing to send; record {path} brought up to date")
            _say_if_gone(provider, path)
            return
        _confirm(yes, len(plan.steps))
        if plan.stale is not None:
            click.echo(f"kept the old record as {d.keep_aside(path, plan.stale)}")
        try:
            dep = plan.run(save=lambda dep: d.write_deployment(dep, path), say=click.echo)
        except ApeException as exc:
            raise BallastError(
                f"deployment failed: {d._first_line(exc)} (what was done is in {path}; run again to resume)"
            ) from None
        click.echo(f"oracle {dep.oracle}, factory {dep.factory}, market {dep.market}, lens {dep.lens}")
        click.echo(f"wrote {path}")
        _say_if_gone(provider, path)


def _confirm(yes: bool, steps: int) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise BallastError(f"{steps} step(s) to send and nobody to ask: pass --yes to deploy unattended")
    if not click.confirm(f"send these {steps} step(s)?", default=False):
        raise BallastError("nothing sent")


def _say_if_gone(provider, path: Path) -> None:
    if d.started_by_ape(provider):
        click.echo(
            f"note: ape started this node ({d.redact(provider.uri)}) for this run and stops it now: the chain "
            f"is gone, and {path} describes contracts that no longer exist. To keep a chain, start "
            "`anvil --port 8545` yourself and deploy with APE_FOUNDRY_HOST=http://127.0.0.1:8545."
        )
