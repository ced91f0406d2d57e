"""Market ownership (snekmate ownable_2step): transfer_ownership, accept_ownership, renounce_ownership."""

import ape


def test_two_step_transfer(market, admin, other):
    tx = market.transfer_ownership(other, sender=admin)
    assert tx.decode_logs(market.OwnershipTransferStarted)[0].new_owner == other.address
    assert market.owner() == admin.address and market.pending_owner() == other.address
    market.accept_ownership(sender=other)
    assert market.owner() == other.address and market.pending_owner() == "0x" + "00" * 20
    with ape.reverts("ownable: caller is not the owner"):
        market.pause(sender=admin)
    market.pause(sender=other)


def test_accept_by_stranger_reverts(market, admin, other, attacker):
    market.transfer_ownership(other, sender=admin)
    with ape.reverts("ownable_2step: caller is not the new owner"):
        market.accept_ownership(sender=attacker)


def test_transfer_not_owner_reverts(market, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        market.transfer_ownership(attacker, sender=attacker)


def test_renounce(market, admin):
    market.renounce_ownership(sender=admin)
    assert market.owner() == "0x" + "00" * 20
    with ape.reverts("ownable: caller is not the owner"):
        market.pause(sender=admin)
