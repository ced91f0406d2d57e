"""RiskOracle.set_challenge_bond."""

import ape
import pytest
from oracle_helpers import WAD

MIN_BOND = 10**16
MAX_BOND = 100 * WAD


def test_set_challenge_bond(oracle, admin):
    tx = oracle.set_challenge_bond(WAD, sender=admin)
    assert oracle.challenge_bond() == WAD
    assert [x.amount for x in tx.decode_logs(oracle.ChallengeBondSet)] == [WAD]


@pytest.mark.parametrize("amount", [MIN_BOND, MAX_BOND])
def test_bounds_are_accepted(oracle, admin, amount):
    oracle.set_challenge_bond(amount, sender=admin)
    assert oracle.challenge_bond() == amount


def test_bond_below_min_reverts(oracle, admin):
    with ape.reverts("oracle: challenge_bond too low"):
        oracle.set_challenge_bond(MIN_BOND - 1, sender=admin)


def test_bond_above_max_reverts(oracle, admin):
    with ape.reverts("oracle: challenge_bond too high"):
        oracle.set_challenge_bond(MAX_BOND + 1, sender=admin)


def test_set_challenge_bond_not_owner_reverts(oracle, guardian):
    with ape.reverts("ownable: caller is not the owner"):
        oracle.set_challenge_bond(WAD, sender=guardian)
