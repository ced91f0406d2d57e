"""RiskOracle.add_asset (and the registry views asset_id, asset_of, num_assets): assets are (collateral,
loan token) pairs, so prices and depth always have a known quote token."""

import ape
from oracle_helpers import ZERO


def test_add_assets_numbers_them_from_one(oracle, admin, tokens, loan):
    tx1 = oracle.add_asset(tokens[0], loan, sender=admin)
    tx2 = oracle.add_asset(tokens[1], loan, sender=admin)
    assert tx1.return_value == 1 and tx2.return_value == 2
    assert oracle.asset_id(tokens[0], loan) == 1 and oracle.asset_id(tokens[1], loan) == 2
    assert tuple(oracle.asset_of(1)) == (tokens[0], loan) and tuple(oracle.asset_of(2)) == (tokens[1], loan)
    assert oracle.num_assets() == 2
    logs = tx2.decode_logs(oracle.AssetAdded)
    assert [(x.collateral, x.loan, x.asset_id) for x in logs] == [(tokens[1], loan, 2)]


def test_same_collateral_against_another_loan_token_is_another_asset(oracle, admin, tokens, loan):
    oracle.add_asset(tokens[0], loan, sender=admin)
    oracle.add_asset(tokens[0], tokens[1], sender=admin)
    assert oracle.asset_id(tokens[0], tokens[1]) == 2


def test_new_asset_has_no_metrics(oracle, admin, tokens, loan):
    oracle.add_asset(tokens[0], loan, sender=admin)
    assert oracle.metrics(1) == (0, 0, 0, 0, 0)
    assert oracle.pending(1) == (0, 0, 0)


def test_unknown_pair_has_id_zero(oracle, tokens, loan):
    assert oracle.asset_id(tokens[0], loan) == 0
    assert tuple(oracle.asset_of(1)) == (ZERO, ZERO)


def test_add_asset_not_owner_reverts(oracle, attacker, tokens, loan):
    with ape.reverts("ownable: caller is not the owner"):
        oracle.add_asset(tokens[0], loan, sender=attacker)


def test_add_zero_address_reverts(oracle, admin, tokens, loan):
    for pair in [(ZERO, loan), (tokens[0], ZERO)]:
        with ape.reverts("oracle: zero address"):
            oracle.add_asset(*pair, sender=admin)


def test_add_same_token_twice_in_a_pair_reverts(oracle, admin, loan):
    with ape.reverts("oracle: same token"):
        oracle.add_asset(loan, loan, sender=admin)


def test_add_existing_asset_reverts(oracle, admin, tokens, loan):
    oracle.add_asset(tokens[0], loan, sender=admin)
    with ape.reverts("oracle: asset exists"):
        oracle.add_asset(tokens[0], loan, sender=admin)
    assert oracle.num_assets() == 1
