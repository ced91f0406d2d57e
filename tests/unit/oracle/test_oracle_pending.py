"""RiskOracle.pending: (sigma WAD, depth, eta); zeros when nothing is pending, 0 for a field not pending."""

from oracle_helpers import DEPTH, PRICE, SIGMA


def test_pending_when_queued(oracle, queued, asset):
    _, eta, sigma, _ = queued
    assert oracle.pending(asset) == (sigma, 0, eta)


def test_pending_none(oracle, posted, asset):
    assert oracle.pending(asset) == (0, 0, 0)
    assert oracle.pending(2**256 - 1) == (0, 0, 0)


def test_dropped_pending_is_hidden(oracle, queued, asset, post, chain):
    # dropping only clears the flag in the asset slot; the view must not show the stale pending slot
    at = queued[0] + 1
    chain.pending_timestamp = at
    post([(asset, PRICE, DEPTH, SIGMA)], observed_at=at)
    assert oracle.pending(asset) == (0, 0, 0)
