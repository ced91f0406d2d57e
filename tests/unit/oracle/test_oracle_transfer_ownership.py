"""RiskOracle.transfer_ownership (snekmate ownable_2step): step one of two."""

import ape


def test_transfer_starts_but_does_not_change_owner(oracle, admin, other):
    tx = oracle.transfer_ownership(other, sender=admin)
    assert oracle.pending_owner() == other.address
    assert oracle.owner() == admin.address
    logs = tx.decode_logs(oracle.OwnershipTransferStarted)
    assert [(x.previous_owner, x.new_owner) for x in logs] == [(admin.address, other.address)]


def test_transfer_not_owner_reverts(oracle, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        oracle.transfer_ownership(attacker, sender=attacker)
