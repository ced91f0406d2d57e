"""RiskOracle.metrics: (price at 1e36, sigma WAD, depth, observed_at, spread WAD); zeros when never posted."""

from oracle_helpers import DEPTH, PRICE, SIGMA


def test_metrics_after_post(oracle, posted, asset):
    assert oracle.metrics(asset) == (PRICE, SIGMA, DEPTH, posted, 0)


def test_metrics_of_unknown_ids_are_zero(oracle, posted):
    for asset_id in (0, 2, 2**16 - 1, 2**16, 2**256 - 1):
        assert oracle.metrics(asset_id) == (0, 0, 0, 0, 0)


def test_metrics_keep_the_stored_risk_while_an_update_is_queued(oracle, queued, asset):
    assert oracle.metrics(asset) == (PRICE, SIGMA, DEPTH, queued[0], 0)
