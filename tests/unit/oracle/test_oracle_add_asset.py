"""RiskOracle.add_asset (and the registry views asset_id, asset_of, num_assets)."""

import ape

ZERO = "0x0000000000000000000000000000000000000000"


def test_add_assets_numbers_them_from_one(oracle, admin, tokens):
    tx1 = oracle.add_asset(tokens[0], sender=admin)
    tx2 = oracle.add_asset(tokens[1], sender=admin)
    assert tx1.return_value == 1 and tx2.return_value == 2
    assert oracle.asset_id(tokens[0]) == 1 and oracle.asset_id(tokens[1]) == 2
    assert oracle.asset_of(1) == tokens[0] and oracle.asset_of(2) == tokens[1]
    assert oracle.num_assets() == 2
    logs = tx2.decode_logs(oracle.AssetAdded)
    assert [(x.token, x.asset_id) for x in logs] == [(tokens[1], 2)]


def test_new_asset_has_no_metrics(oracle, admin, tokens):
    oracle.add_asset(tokens[0], sender=admin)
    assert oracle.metrics(1) == (0, 0, 0, 0)
    assert oracle.pending(1) == (0, 0, 0)


def test_unknown_token_has_id_zero(oracle, tokens):
    assert oracle.asset_id(tokens[0]) == 0
    assert oracle.asset_of(1) == ZERO


def test_add_asset_not_owner_reverts(oracle, attacker, tokens):
    with ape.reverts("ownable: caller is not the owner"):
        oracle.add_asset(tokens[0], sender=attacker)


def test_add_zero_address_reverts(oracle, admin):
    with ape.reverts("oracle: zero address"):
        oracle.add_asset(ZERO, sender=admin)


def test_add_existing_asset_reverts(oracle, admin, tokens):
    oracle.add_asset(tokens[0], sender=admin)
    with ape.reverts("oracle: asset exists"):
        oracle.add_asset(tokens[0], sender=admin)
    assert oracle.num_assets() == 1
