"""RiskOracle.apply_pending: after the challenge window, by anyone; not while paused; not after the signer
set changed (a pending update of a removed signer set never applies)."""

import ape
from oracle_helpers import DEPTH, PRICE, SIGMA
from signers import SIGNER_ADDRESSES


def test_apply_at_eta(oracle, queued, asset, other, chain):
    at, eta, sigma, depth = queued
    chain.pending_timestamp = eta
    tx = oracle.apply_pending(asset, sender=other)
    assert oracle.metrics(asset) == (PRICE, sigma, depth, at, 0)
    assert oracle.pending(asset) == (0, 0, 0)
    logs = tx.decode_logs(oracle.PendingApplied)
    assert [(x.asset_id, x.sigma, x.depth) for x in logs] == [(asset, sigma, depth)]


def test_apply_one_second_before_eta_reverts(oracle, queued, asset, other, chain):
    chain.pending_timestamp = queued[1] - 1
    with ape.reverts("oracle: challenge window open"):
        oracle.apply_pending(asset, sender=other)
    assert oracle.metrics(asset)[1] == SIGMA


def test_apply_without_pending_reverts(oracle, posted, asset, other):
    with ape.reverts("oracle: nothing pending"):
        oracle.apply_pending(asset, sender=other)


def test_apply_twice_reverts(oracle, queued, asset, other, chain):
    chain.pending_timestamp = queued[1]
    oracle.apply_pending(asset, sender=other)
    with ape.reverts("oracle: nothing pending"):
        oracle.apply_pending(asset, sender=other)


def test_apply_unknown_id_reverts(oracle, queued, other):
    for asset_id in (0, 2, 2**16, 2**256 - 1):
        with ape.reverts("oracle: nothing pending"):
            oracle.apply_pending(asset_id, sender=other)


def test_apply_while_paused_reverts(oracle, queued, asset, other, guardian, admin, chain):
    chain.pending_timestamp = queued[1]
    oracle.pause(sender=guardian)
    with ape.reverts("oracle: paused"):
        oracle.apply_pending(asset, sender=other)
    oracle.unpause(sender=admin)
    oracle.apply_pending(asset, sender=other)
    assert oracle.metrics(asset)[1] == queued[2]


def test_apply_after_the_signer_set_changed_reverts(oracle, queued, asset, admin, other, chain):
    """Audit finding 7: a removed keeper's pending update could still be applied after its window. A
    pending update belongs to the signer set (epoch) that queued it."""
    oracle.configure_signers(SIGNER_ADDRESSES[1:4], 2, sender=admin)
    chain.pending_timestamp = queued[1]
    with ape.reverts("oracle: signer set changed"):
        oracle.apply_pending(asset, sender=other)
    assert oracle.metrics(asset)[1] == SIGMA


def test_applied_values_bound_the_next_post(oracle, queued, asset, post, other, chain):
    at, eta, sigma, _ = queued
    chain.pending_timestamp = eta
    oracle.apply_pending(asset, sender=other)
    # the next post one second later cannot fall from the applied sigma
    with ape.reverts("oracle: sigma falls too fast"):
        post([(asset, PRICE, DEPTH, sigma // 2)], observed_at=at + 1)
