"""RiskOracle.accept_ownership (snekmate ownable_2step): step two; the new owner runs the admin functions."""

import ape


def test_accept_makes_the_new_owner(oracle, admin, other, tokens):
    oracle.transfer_ownership(other, sender=admin)
    tx = oracle.accept_ownership(sender=other)
    assert oracle.owner() == other.address
    logs = tx.decode_logs(oracle.OwnershipTransferred)
    assert [(x.previous_owner, x.new_owner) for x in logs] == [(admin.address, other.address)]
    oracle.add_asset(tokens[0], tokens[2], sender=other)
    with ape.reverts("ownable: caller is not the owner"):
        oracle.add_asset(tokens[1], tokens[2], sender=admin)


def test_accept_by_someone_else_reverts(oracle, admin, other, attacker):
    oracle.transfer_ownership(other, sender=admin)
    with ape.reverts("ownable_2step: caller is not the new owner"):
        oracle.accept_ownership(sender=attacker)
    assert oracle.owner() == admin.address
