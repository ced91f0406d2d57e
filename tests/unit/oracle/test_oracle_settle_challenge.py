"""RiskOracle.settle_challenge / expire_challenge / claim: the owner credits the bond back (upheld) or to
itself; after SETTLE_TIMEOUT anyone expires an unsettled challenge as upheld; bonds are pulled with claim,
never pushed, so an owner that renounced or cannot receive ether strands nothing."""

import ape
from oracle_helpers import BOND, ZERO

TIMEOUT = 14 * 86_400


def _fee(tx):
    return tx.gas_used * tx.gas_price


def test_upheld_credits_the_bond_to_the_challenger(oracle, queued, asset, lender, admin):
    oracle.challenge(asset, sender=lender, value=BOND)
    tx = oracle.settle_challenge(1, True, sender=admin)
    assert oracle.claimable(lender) == BOND and oracle.claimable(admin) == 0
    assert oracle.challenges(1).challenger == ZERO
    logs = tx.decode_logs(oracle.ChallengeSettled)
    assert [(x.challenge_id, x.challenger, x.upheld, x.bond) for x in logs] == [(1, lender.address, True, BOND)]
    before = lender.balance
    claim = oracle.claim(sender=lender)
    assert lender.balance == before + BOND - _fee(claim)
    assert oracle.balance == 0 and oracle.claimable(lender) == 0
    assert [(x.account, x.amount) for x in claim.decode_logs(oracle.BondClaimed)] == [(lender.address, BOND)]


def test_rejected_credits_the_bond_to_the_owner(oracle, queued, asset, attacker, admin):
    oracle.challenge(asset, sender=attacker, value=BOND)
    oracle.settle_challenge(1, False, sender=admin)
    assert oracle.claimable(admin) == BOND and oracle.claimable(attacker) == 0
    with ape.reverts("oracle: nothing to claim"):
        oracle.claim(sender=attacker)
    before = admin.balance
    tx = oracle.claim(sender=admin)
    assert admin.balance == before + BOND - _fee(tx)


def test_settle_without_challenge_reverts(oracle, queued, asset, admin, guardian):
    with ape.reverts("oracle: no challenge"):
        oracle.settle_challenge(1, True, sender=admin)
    oracle.challenge(asset, sender=guardian)  # a free challenge records nothing
    with ape.reverts("oracle: no challenge"):
        oracle.settle_challenge(0, True, sender=admin)


def test_settle_twice_reverts(oracle, queued, asset, lender, admin):
    oracle.challenge(asset, sender=lender, value=BOND)
    oracle.settle_challenge(1, True, sender=admin)
    with ape.reverts("oracle: no challenge"):
        oracle.settle_challenge(1, True, sender=admin)


def test_settle_not_owner_reverts(oracle, queued, asset, lender):
    oracle.challenge(asset, sender=lender, value=BOND)
    with ape.reverts("ownable: caller is not the owner"):
        oracle.settle_challenge(1, True, sender=lender)


def test_expire_after_the_timeout_returns_the_bond(oracle, queued, asset, lender, other, chain):
    """Finding 3: a bond got stuck for good if the owner renounced; now anyone expires it after 14 days."""
    oracle.challenge(asset, sender=lender, value=BOND)
    at = chain.blocks.head.timestamp
    oracle.renounce_ownership(sender=oracle.owner())
    chain.pending_timestamp = at + TIMEOUT - 1
    with ape.reverts("oracle: challenge not expired"):
        oracle.expire_challenge(1, sender=other)
    chain.pending_timestamp = at + TIMEOUT
    tx = oracle.expire_challenge(1, sender=other)
    assert oracle.claimable(lender) == BOND
    assert [x.upheld for x in tx.decode_logs(oracle.ChallengeSettled)] == [True]
    with ape.reverts("oracle: no challenge"):
        oracle.expire_challenge(1, sender=other)


def test_settling_moves_no_ether(oracle, queued, asset, lender, admin):
    """Finding 3: settling pushed the bond, so a recipient that rejects ether (an owner contract, a
    challenger contract) made settlement revert and stranded the bond. Settlement now only credits; each
    party pulls its own with `claim`."""
    oracle.challenge(asset, sender=lender, value=BOND)
    held, lender_before = oracle.balance, lender.balance
    oracle.settle_challenge(1, True, sender=admin)
    assert oracle.balance == held and lender.balance == lender_before
