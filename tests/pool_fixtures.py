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
    """Deploys a ConstantProductPool(token0, token1) seeded by `admin` with the given raw reserves."""

    def create(token0, token1, amount0: int, amount1: int):
        pool = project.ConstantProductPool.deploy(token0, token1, sender=admin)
        token0.mint(admin, amount0, sender=admin)
        token1.mint(admin, amount1, sender=admin)
        token0.approve(pool, amount0, sender=admin)
        token1.approve(pool, amount1, sender=admin)
        pool.add_liquidity(amount0, amount1, sender=admin)
        return pool

    return create
