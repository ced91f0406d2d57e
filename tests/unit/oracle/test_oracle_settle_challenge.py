"""RiskOracle.settle_challenge: owner returns the bond (upheld) or keeps it."""

import ape
from oracle_helpers import WAD

ZERO = "0x0000000000000000000000000000000000000000"
BOND = WAD // 10


def _fee(tx):
    return tx.gas_used * tx.gas_price


def test_upheld_returns_the_bond_to_the_challenger(oracle, queued, asset, lender, admin):
    oracle.challenge(asset, sender=lender, value=BOND)
    before = lender.balance
    tx = oracle.settle_challenge(asset, True, sender=admin)
    assert lender.balance == before + BOND
    assert oracle.balance == 0
    assert oracle.challenge_of(asset) == (ZERO, 0)
    logs = tx.decode_logs(oracle.ChallengeSettled)
    assert [(x.asset_id, x.challenger, x.upheld, x.bond) for x in logs] == [
        (asset, lender.address, True, BOND)
    ]


def test_rejected_sends_the_bond_to_the_owner(oracle, queued, asset, attacker, admin):
    oracle.challenge(asset, sender=attacker, value=BOND)
    before_owner, before_attacker = admin.balance, attacker.balance
    tx = oracle.settle_challenge(asset, False, sender=admin)
    assert admin.balance == before_owner + BOND - _fee(tx)
    assert attacker.balance == before_attacker
    assert oracle.balance == 0
    logs = tx.decode_logs(oracle.ChallengeSettled)
    assert [(x.challenger, x.upheld, x.bond) for x in logs] == [(attacker.address, False, BOND)]


def test_settle_without_challenge_reverts(oracle, queued, asset, admin):
    with ape.reverts("oracle: no challenge"):
        oracle.settle_challenge(asset, True, sender=admin)


def test_free_guardian_challenge_has_nothing_to_settle(oracle, queued, asset, guardian, admin):
    oracle.challenge(asset, sender=guardian)
    with ape.reverts("oracle: no challenge"):
        oracle.settle_challenge(asset, True, sender=admin)


def test_settle_twice_reverts(oracle, queued, asset, lender, admin):
    oracle.challenge(asset, sender=lender, value=BOND)
    oracle.settle_challenge(asset, True, sender=admin)
    with ape.reverts("oracle: no challenge"):
        oracle.settle_challenge(asset, True, sender=admin)


def test_settle_not_owner_reverts(oracle, queued, asset, lender, guardian):
    oracle.challenge(asset, sender=lender, value=BOND)
    with ape.reverts("ownable: caller is not the owner"):
        oracle.settle_challenge(asset, True, sender=guardian)
    assert oracle.challenge_of(asset) == (lender.address, BOND)


def test_settled_bond_keeps_the_amount_paid_when_the_bond_changes(oracle, queued, asset, lender, admin):
    oracle.challenge(asset, sender=lender, value=BOND)
    oracle.set_challenge_bond(WAD, sender=admin)
    before = lender.balance
    oracle.settle_challenge(asset, True, sender=admin)
    assert lender.balance == before + BOND
