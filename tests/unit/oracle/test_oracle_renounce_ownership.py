"""RiskOracle.renounce_ownership (snekmate ownable_2step)."""

import ape


def test_renounce_leaves_no_owner(oracle, admin, tokens):
    oracle.renounce_ownership(sender=admin)
    assert oracle.owner() == "0x0000000000000000000000000000000000000000"
    with ape.reverts("ownable: caller is not the owner"):
        oracle.add_asset(tokens[0], tokens[1], sender=admin)


def test_renounce_not_owner_reverts(oracle, guardian):
    with ape.reverts("ownable: caller is not the owner"):
        oracle.renounce_ownership(sender=guardian)
