"""RiskOracle.set_guardian."""

import ape

ZERO = "0x0000000000000000000000000000000000000000"


def test_set_guardian(oracle, admin, other, guardian):
    tx = oracle.set_guardian(other, sender=admin)
    assert oracle.guardian() == other.address
    assert [x.guardian for x in tx.decode_logs(oracle.GuardianSet)] == [other.address]
    with ape.reverts("oracle: not owner or guardian"):  # the old guardian lost its powers
        oracle.pause(sender=guardian)
    oracle.pause(sender=other)


def test_set_guardian_not_owner_reverts(oracle, guardian, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        oracle.set_guardian(attacker, sender=guardian)


def test_set_guardian_zero_reverts(oracle, admin):
    with ape.reverts("oracle: zero address"):
        oracle.set_guardian(ZERO, sender=admin)
