"""RiskOracle.challenge: guardian for free, anyone else with exactly the bond, during the window. Every
bonded challenge is its own record: any number may be open at once, on any asset."""

import ape
from oracle_helpers import BOND, DEPTH, HOUR, PRICE, SIGMA, ZERO


def test_guardian_challenges_for_free(oracle, queued, asset, guardian, other, chain):
    tx = oracle.challenge(asset, sender=guardian)
    assert tx.return_value == 0
    assert oracle.pending(asset) == (0, 0, 0)
    assert oracle.metrics(asset)[1:3] == (SIGMA, DEPTH)
    logs = tx.decode_logs(oracle.UpdateChallenged)
    assert [(x.asset_id, x.challenger, x.bond, x.challenge_id) for x in logs] == [(asset, guardian.address, 0, 0)]
    assert oracle.num_challenges() == 0  # nothing to settle
    chain.pending_timestamp = queued[1]
    with ape.reverts("oracle: nothing pending"):  # a challenged update never applies
        oracle.apply_pending(asset, sender=other)


def test_anyone_challenges_with_the_bond(oracle, queued, asset, lender, chain):
    before = oracle.balance
    tx = oracle.challenge(asset, sender=lender, value=BOND)
    assert tx.return_value == 1
    assert oracle.balance == before + BOND
    assert oracle.pending(asset) == (0, 0, 0)
    c = oracle.challenges(1)
    assert (c.asset_id, c.challenger, c.bond, c.at) == (asset, lender.address, BOND, chain.blocks.head.timestamp)
    logs = tx.decode_logs(oracle.UpdateChallenged)
    assert [(x.asset_id, x.challenger, x.bond, x.challenge_id) for x in logs] == [(asset, lender.address, BOND, 1)]


def test_challenge_with_wrong_bond_reverts(oracle, queued, asset, lender):
    for amount in (0, BOND - 1, BOND + 1):
        with ape.reverts("oracle: bond required"):
            oracle.challenge(asset, sender=lender, value=amount)
    assert oracle.pending(asset)[0] == queued[2]


def test_guardian_sending_value_pays_the_bond_like_anyone(oracle, queued, asset, guardian):
    with ape.reverts("oracle: bond required"):
        oracle.challenge(asset, sender=guardian, value=1)
    oracle.challenge(asset, sender=guardian, value=BOND)
    assert oracle.challenges(1).challenger == guardian.address


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


def test_second_bonded_challenge_needs_no_settlement(oracle, queued, asset, post, lender, attacker, chain):
    """Audit finding 3: a recorded bonded challenge made every later bonded challenge of that asset revert
    ("challenge unsettled") until the owner settled it, so after an honest watcher cancelled a malicious
    loosening, a requeued one could be stopped by the guardian alone. Now each challenge is its own record."""
    oracle.challenge(asset, sender=lender, value=BOND)
    # queue another loosening: 6 hours later a 30% fall from the stored sigma
    at = queued[0] + 6 * HOUR
    chain.pending_timestamp = at
    post([(asset, PRICE, DEPTH, SIGMA * 70 // 100)], observed_at=at)
    tx = oracle.challenge(asset, sender=attacker, value=BOND)
    assert tx.return_value == 2
    assert oracle.pending(asset) == (0, 0, 0)
    assert [oracle.challenges(i).challenger for i in (1, 2)] == [lender.address, attacker.address]
    assert oracle.balance == 2 * BOND


def test_a_decoy_self_challenge_does_not_jam_the_asset(oracle, admin, tokens, loan, posted, asset, post, chain,
                                                       attacker, lender):  # fmt: skip
    """The other half of finding 3: an accomplice's self-challenge of a decoy on one asset jammed bonded
    challenges of that asset. Another watcher still challenges the next loosening at once."""
    at = posted + 5 * HOUR
    chain.pending_timestamp = at
    post([(asset, PRICE, DEPTH, SIGMA * 3 // 4)], observed_at=at)  # decoy
    oracle.challenge(asset, sender=attacker, value=BOND)
    at += 6 * HOUR
    chain.pending_timestamp = at
    post([(asset, PRICE, DEPTH, SIGMA * 70 // 100)], observed_at=at)  # the real loosening
    oracle.challenge(asset, sender=lender, value=BOND)
    assert oracle.pending(asset) == (0, 0, 0)
    assert oracle.metrics(asset)[1] == SIGMA


def test_guardian_can_challenge_while_a_bonded_challenge_is_open(oracle, queued, asset, post, lender, guardian, chain):
    oracle.challenge(asset, sender=lender, value=BOND)
    at = queued[0] + 6 * HOUR
    chain.pending_timestamp = at
    post([(asset, PRICE, DEPTH, SIGMA * 70 // 100)], observed_at=at)
    oracle.challenge(asset, sender=guardian)
    assert oracle.pending(asset) == (0, 0, 0)
    assert oracle.challenges(1).challenger == lender.address
    assert oracle.challenges(2).challenger == ZERO
