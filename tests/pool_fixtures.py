"""On-chain fixtures shared by the keeper tests (tests/keeper, tests/integration/test_keeper_anvil.py):
real snekmate ERC-20 tokens and seeded ConstantProductPools. Import the fixtures by name."""

import pytest


@pytest.fixture(scope="module")
def weth(project, admin):
    return project.MockPoolToken.deploy("Wrapped Ether", "WETH", 18, sender=admin)


@pytest.fixture(scope="module")
def usdc(project, admin):
    return project.MockPoolToken.deploy("USD Coin", "USDC", 6, sender=admin)


@pytest.fixture(scope="module")
def create_pool(project, admin):
    """Deploys a ConstantProductPool(token0, token1) seeded by `admin` with the given raw reserves
    (`oracle.deploy.create_pool`, as the deploy scripts and the demo do)."""
    from oracle.deploy import create_pool as create

    return lambda token0, token1, amount0, amount1: create(project, admin, token0, token1, amount0, amount1)
