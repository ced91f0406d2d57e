"""RiskOracle.pause (and the paused view): owner or guardian."""

import ape


def test_guardian_pauses(oracle, guardian):
    tx = oracle.pause(sender=guardian)
    assert oracle.paused()
    assert [x.by for x in tx.decode_logs(oracle.Paused)] == [guardian.address]


def test_owner_pauses(oracle, admin):
    tx = oracle.pause(sender=admin)
    assert oracle.paused()
    assert [x.by for x in tx.decode_logs(oracle.Paused)] == [admin.address]


def test_pause_by_other_reverts(oracle, attacker, keeper, admin):
    for account in (attacker, keeper):
        with ape.reverts("oracle: not owner or guardian"):
            oracle.pause(sender=account)
    assert not oracle.paused()


def test_pause_twice_reverts(oracle, guardian, admin):
    oracle.pause(sender=guardian)
    with ape.reverts("oracle: paused"):
        oracle.pause(sender=admin)
