"""Fixtures for RiskOracle unit tests: a fresh oracle per test (ape reverts the chain between tests) with
three test signers and quorum 2, tokens as plain addresses (the oracle never calls them), and `post`, which
has the signers sign report words built with `oracle.model` and relays them from any account."""

import pytest
from oracle_helpers import DEPTH, HOUR, PRICE, SIGMA
from signers import DEFAULT_SIGNERS, QUORUM, SIGNER_ADDRESSES, relay

from oracle import model


@pytest.fixture
def oracle(project, admin, guardian):
    return admin.deploy(project.RiskOracle, guardian, SIGNER_ADDRESSES[:3], QUORUM)


@pytest.fixture
def tokens():
    """Addresses that stand in for collateral tokens (the oracle only records them)."""
    from eth_utils import to_checksum_address

    return [to_checksum_address(f"0x{0xC0 + i:040x}") for i in range(3)]


@pytest.fixture
def loan():
    """The address that stands in for the loan (quote) token."""
    from eth_utils import to_checksum_address

    return to_checksum_address(f"0x{0x10A:040x}")


@pytest.fixture
def asset(oracle, admin, tokens, loan):
    """An oracle with one asset (id 1: tokens[0] quoted in `loan`); returns the asset id."""
    oracle.add_asset(tokens[0], loan, sender=admin)
    return 1


@pytest.fixture
def post(oracle, other, chain):
    """post(updates, observed_at=None, deadline=None, sender=other, signers=(0, 1, 2), own=None): updates
    are (asset_id, price, depth, sigma_wad) tuples that every listed signer signs, unless `own[i]` gives
    signer i its own tuples; observed_at defaults to the next block's time. Any account relays."""

    def _post(updates, observed_at=None, deadline=None, sender=None, signers=DEFAULT_SIGNERS, own=None):
        ts = chain.pending_timestamp
        at = ts if observed_at is None else observed_at
        dl = ts + 60 if deadline is None else deadline
        own_words = {i: model.pack_report(u) for i, u in (own or {}).items()}
        return relay(oracle, sender or other, at, dl, model.pack_report(updates), signers, own_words)

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
