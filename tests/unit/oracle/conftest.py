"""Fixtures for RiskOracle unit tests: a fresh oracle per test (ape reverts the chain between tests),
tokens as plain addresses (the oracle never calls them), helpers that pack update words with `oracle.model`."""

import pytest
from oracle_helpers import DEPTH, HOUR, PRICE, SIGMA

from oracle import model


@pytest.fixture
def oracle(project, admin, guardian):
    return admin.deploy(project.RiskOracle, guardian)


@pytest.fixture
def tokens(accounts):
    """Addresses that stand in for collateral tokens (the oracle only records them)."""
    return [a.address for a in accounts[8:10]]


@pytest.fixture
def asset(oracle, admin, keeper, tokens):
    """An oracle with one asset (id 1) and an allowlisted keeper; returns the asset id."""
    oracle.add_asset(tokens[0], sender=admin)
    oracle.set_keeper(keeper, True, sender=admin)
    return 1


@pytest.fixture
def post(oracle, keeper, chain):
    """post(updates, observed_at=None, deadline=None, sender=keeper): updates are
    (asset_id, price, depth, sigma_wad) tuples; observed_at defaults to the next block's time."""

    def _post(updates, observed_at=None, deadline=None, sender=None):
        ts = chain.pending_timestamp
        at = ts if observed_at is None else observed_at
        dl = ts + 60 if deadline is None else deadline
        words = [model.pack_update(*u) for u in updates]
        return oracle.post(at, dl, words, sender=sender or keeper)

    _post.oracle = oracle
    return _post


@pytest.fixture
def posted(asset, post, chain):
    """Asset 1 with a first post (PRICE, DEPTH, SIGMA) at the current time; returns its observed_at."""
    at = chain.pending_timestamp
    post([(asset, PRICE, DEPTH, SIGMA)], observed_at=at)
    return at


@pytest.fixture
def queued(posted, asset, post, chain):
    """Asset 1 with a pending loosening: 5 hours of observation time after the first post, sigma
    falls 25% (allowed by the 5%/h fall bound, beyond the 20% loosen threshold). Returns
    (observed_at, eta, pending sigma, depth)."""
    at = posted + 5 * HOUR
    chain.pending_timestamp = at
    sigma = SIGMA * 3 // 4
    tx = post([(asset, PRICE, DEPTH, sigma)], observed_at=at)
    eta = tx.decode_logs(post.oracle.UpdateQueued)[0].eta
    return at, eta, sigma, DEPTH
