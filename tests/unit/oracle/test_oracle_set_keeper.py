"""RiskOracle.set_keeper (and the views is_keeper, keepers)."""

import ape

ZERO = "0x0000000000000000000000000000000000000000"
MAX_KEEPERS = 16


def test_enable_keeper(oracle, admin, keeper):
    tx = oracle.set_keeper(keeper, True, sender=admin)
    assert oracle.is_keeper(keeper)
    assert oracle.keepers() == [keeper.address]
    assert [(x.account, x.enabled) for x in tx.decode_logs(oracle.KeeperSet)] == [(keeper.address, True)]


def test_enable_twice_lists_once(oracle, admin, keeper):
    oracle.set_keeper(keeper, True, sender=admin)
    oracle.set_keeper(keeper, True, sender=admin)
    assert oracle.keepers() == [keeper.address]


def test_disable_keeper_removes_it_from_the_list(oracle, admin, keeper, other, guardian):
    for account in (keeper, other, guardian):
        oracle.set_keeper(account, True, sender=admin)
    tx = oracle.set_keeper(keeper, False, sender=admin)
    assert not oracle.is_keeper(keeper)
    assert sorted(oracle.keepers()) == sorted([other.address, guardian.address])
    assert [(x.account, x.enabled) for x in tx.decode_logs(oracle.KeeperSet)] == [(keeper.address, False)]


def test_disable_unknown_account_changes_nothing(oracle, admin, keeper, other):
    oracle.set_keeper(keeper, True, sender=admin)
    oracle.set_keeper(other, False, sender=admin)
    assert oracle.keepers() == [keeper.address]
    assert not oracle.is_keeper(other)


def test_set_keeper_not_owner_reverts(oracle, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        oracle.set_keeper(attacker, True, sender=attacker)


def test_set_keeper_zero_address_reverts(oracle, admin):
    with ape.reverts("oracle: zero address"):
        oracle.set_keeper(ZERO, True, sender=admin)


def test_allowlist_holds_max_keepers_and_no_more(oracle, admin):
    addresses = [f"0x{i + 1:040x}" for i in range(MAX_KEEPERS + 1)]
    for a in addresses[:MAX_KEEPERS]:
        oracle.set_keeper(a, True, sender=admin)
    assert len(oracle.keepers()) == MAX_KEEPERS
    with ape.reverts("oracle: too many keepers"):
        oracle.set_keeper(addresses[MAX_KEEPERS], True, sender=admin)
    oracle.set_keeper(addresses[0], False, sender=admin)  # a freed place can be reused
    oracle.set_keeper(addresses[MAX_KEEPERS], True, sender=admin)
    assert oracle.is_keeper(addresses[MAX_KEEPERS])
