"""RiskOracle.challenge: guardian for free, anyone else with exactly the bond, during the window."""

import ape
from oracle_helpers import DEPTH, HOUR, PRICE, SIGMA, WAD

ZERO = "0x0000000000000000000000000000000000000000"
BOND = WAD // 10


def test_guardian_challenges_for_free(oracle, queued, asset, guardian, other, chain):
    tx = oracle.challenge(asset, sender=guardian)
    assert oracle.pending(asset) == (0, 0, 0)
    assert oracle.metrics(asset)[1:3] == (SIGMA, DEPTH)
    logs = tx.decode_logs(oracle.UpdateChallenged)
    assert [(x.asset_id, x.challenger, x.bond) for x in logs] == [(asset, guardian.address, 0)]
    assert oracle.challenge_of(asset) == (ZERO, 0)  # nothing to settle
    chain.pending_timestamp = queued[1]
    with ape.reverts("oracle: nothing pending"):  # a challenged update never applies
        oracle.apply_pending(asset, sender=other)


def test_anyone_challenges_with_the_bond(oracle, queued, asset, lender):
    before = oracle.balance
    tx = oracle.challenge(asset, sender=lender, value=BOND)
    assert oracle.balance == before + BOND
    assert oracle.pending(asset) == (0, 0, 0)
    assert oracle.challenge_of(asset) == (lender.address, BOND)
    logs = tx.decode_logs(oracle.UpdateChallenged)
    assert [(x.asset_id, x.challenger, x.bond) for x in logs] == [(asset, lender.address, BOND)]


def test_challenge_with_wrong_bond_reverts(oracle, queued, asset, lender):
    for amount in (0, BOND - 1, BOND + 1):
        with ape.reverts("oracle: bond required"):
            oracle.challenge(asset, sender=lender, value=amount)
    assert oracle.pending(asset)[0] == queued[2]


def test_guardian_sending_value_pays_the_bond_like_anyone(oracle, queued, asset, guardian):
    with ape.reverts("oracle: bond required"):
        oracle.challenge(asset, sender=guardian, value=1)
    oracle.challenge(asset, sender=guardian, value=BOND)
    assert oracle.challenge_of(asset) == (guardian.address, BOND)


def test_challenge_without_pending_reverts(oracle, posted, asset, guardian):
    with ape.reverts("oracle: nothing pending"):
        oracle.challenge(asset, sender=guardian)


def test_challenge_unknown_id_reverts(oracle, queued, guardian):
    for asset_id in (0, 2, 2**16):
        with ape.reverts("oracle: nothing pending"):
            oracle.challenge(asset_id, sender=guardian)


def test_challenge_one_second_before_eta_passes(oracle, queued, asset, guardian, chain):
    chain.pending_timestamp = queued[1] - 1
    oracle.challenge(asset, sender=guardian)
    assert oracle.pending(asset) == (0, 0, 0)


def test_challenge_at_eta_reverts(oracle, queued, asset, guardian, chain):
    chain.pending_timestamp = queued[1]
    with ape.reverts("oracle: challenge window closed"):
        oracle.challenge(asset, sender=guardian)


def test_challenge_allowed_while_paused(oracle, queued, asset, guardian):
    oracle.pause(sender=guardian)
    oracle.challenge(asset, sender=guardian)
    assert oracle.pending(asset) == (0, 0, 0)


def test_second_bonded_challenge_waits_for_settlement(
    oracle, queued, asset, post, lender, attacker, guardian, admin, chain
):
    oracle.challenge(asset, sender=lender, value=BOND)
    # queue another loosening: 6 hours later a 30% fall from the stored sigma
    at = queued[0] + 6 * HOUR
    chain.pending_timestamp = at
    post([(asset, PRICE, DEPTH, SIGMA * 70 // 100)], observed_at=at)
    with ape.reverts("oracle: challenge unsettled"):
        oracle.challenge(asset, sender=attacker, value=BOND)
    oracle.settle_challenge(asset, True, sender=admin)
    oracle.challenge(asset, sender=attacker, value=BOND)
    assert oracle.challenge_of(asset) == (attacker.address, BOND)


def test_guardian_can_challenge_while_a_bonded_challenge_is_unsettled(
    oracle, queued, asset, post, lender, guardian, chain
):
    oracle.challenge(asset, sender=lender, value=BOND)
    at = queued[0] + 6 * HOUR
    chain.pending_timestamp = at
    post([(asset, PRICE, DEPTH, SIGMA * 70 // 100)], observed_at=at)
    oracle.challenge(asset, sender=guardian)
    assert oracle.pending(asset) == (0, 0, 0)
    assert oracle.challenge_of(asset) == (lender.address, BOND)
