"""Deploy Ballast: `ape run deploy --network NET [--account ALIAS] [--config FILE] [--out FILE]`.

Deploys RiskOracle, the Market blueprint, MarketFactory (plus mock tokens and a demo pool on local
chains and forks), registers the collateral, sets keeper and guardian, creates a market with the
default parameters of `oracle.model` (or those of `--config`), and writes the addresses to
deployments/<ecosystem>-<network>.json. See docs/DEPLOY.md.
"""

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
    help="JSON or YAML overrides: keeper, guardian, tokens, risk, rates (see docs/DEPLOY.md)",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(),
    default=None,
    help="deployments JSON to write (default deployments/<ecosystem>-<network>.json)",
)
def cli(network_choice, alias, config_path, out_path):
    """Deploy the oracle, the factory and one market, and record their addresses."""
    cfg = d.DeployConfig.load(config_path)
    with d.connect(network_choice) as provider:
        from ape import project
        from ape.exceptions import ApeException

        net = provider.network
        local = d.is_local(net.name)
        deployer = load_account(alias, local=local, network=f"{net.ecosystem.name}:{net.name}")
        click.echo(
            f"deploying on {net.ecosystem.name}:{net.name} (chain {provider.chain_id}) "
            f"from {deployer.address}"
        )
        try:
            dep = d.deploy_system(
                project,
                deployer,
                f"{net.ecosystem.name}:{net.name}",
                provider.chain_id,
                cfg,
                local=local,
                log=click.echo,
            )
        except ApeException as exc:
            raise BallastError(f"deployment failed: {str(exc).strip().splitlines()[0]}") from None
        path = Path(out_path) if out_path else d.deployments_path(net.ecosystem.name, net.name)
        d.write_deployment(dep, path)
        click.echo(f"wrote {path}")
