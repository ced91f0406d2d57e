"""Integration fixtures: the market fixtures (market_fixtures) and the system as the deploy script
leaves it (`deployed`), with the test signers (tests/signers.py) as the oracle's signer set."""

import pytest
from market_fixtures import *
from signers import QUORUM, SIGNER_ADDRESSES, relay

from oracle import model


@pytest.fixture(scope="module")
def deployed(project, admin, guardian, chain):
    """`oracle.deploy.deploy_system` on the test chain (mock tokens, demo pool, oracle with three test
    signers and quorum 2, FeedCheck, factory, market, lens), as `ape run deploy` does it on a local
    network."""
    from oracle import deploy as d

    return d.deploy_system(
        project,
        admin,
        "ethereum:local",
        chain.chain_id,
        d.DeployConfig(signers=SIGNER_ADDRESSES[:3], quorum=QUORUM, guardian=guardian.address),
        local=True,
    )


@pytest.fixture(scope="module")
def lens_of(project, deployed):
    """The deployed MarketLens (health, haircuts, positions)."""
    return project.MarketLens.at(deployed.lens)


@pytest.fixture(scope="module")
def post_metrics(project, deployed, chain):
    """post_metrics(price, sigma, depth, advance=600, sender=relayer): move the clock on by `advance`
    seconds and relay one batch signed by the deployment's three test signers (anyone may relay). Prices
    at model.PRICE_SCALE; a move needs enough observation time for the oracle's price bound (50%/h)."""
    oracle = project.RiskOracle.at(deployed.oracle)

    def _post(price, sigma, depth, advance=600, sender=None):
        from ape import accounts

        chain.pending_timestamp += advance
        chain.mine()
        now = chain.blocks.head.timestamp
        words = model.pack_update(deployed.asset_id, price, depth, sigma)
        return relay(oracle, sender or accounts.test_accounts[1], now, now + 3_600, words)

    return _post
