"""RiskOracle.unpause: owner only (the guardian can stop, not restart)."""

import ape


def test_owner_unpauses(oracle, admin, guardian):
    oracle.pause(sender=guardian)
    tx = oracle.unpause(sender=admin)
    assert not oracle.paused()
    assert [x.by for x in tx.decode_logs(oracle.Unpaused)] == [admin.address]


def test_guardian_cannot_unpause(oracle, guardian):
    oracle.pause(sender=guardian)
    with ape.reverts("ownable: caller is not the owner"):
        oracle.unpause(sender=guardian)
    assert oracle.paused()


def test_unpause_when_not_paused_reverts(oracle, admin):
    with ape.reverts("oracle: not paused"):
        oracle.unpause(sender=admin)
