"""Integration fixtures: the market fixtures (market_fixtures) and the system as the deploy script
leaves it."""

import pytest
from market_fixtures import *


@pytest.fixture(scope="module")
def deployed(project, admin, keeper, guardian, chain):
    """`oracle.deploy.deploy_system` on the test chain (mock tokens, demo pool, oracle, factory, market),
    as `ape run deploy` does it on a local network."""
    from oracle import deploy as d

    return d.deploy_system(
        project,
        admin,
        "ethereum:local",
        chain.chain_id,
        d.DeployConfig(keeper=keeper.address, guardian=guardian.address),
        local=True,
    )
