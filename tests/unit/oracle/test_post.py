"""RiskOracle.post: authorisation, order checks, bounds, guardrails, queueing, events."""

import ape

from oracle import model

from oracle_helpers import DEPTH, HOUR, PRICE, SIGMA, WAD, advance


def test_first_post_stores_metrics(oracle, asset, post, keeper, chain):
    at = chain.pending_timestamp
    tx = post([(asset, PRICE, DEPTH, SIGMA)], observed_at=at)
    assert oracle.metrics(asset) == (PRICE, SIGMA, DEPTH, at)
    logs = tx.decode_logs(oracle.MetricsPosted)
    assert len(logs) == 1
    assert logs[0].keeper == keeper.address and logs[0].observed_at == at and logs[0].updates == 1
    print("gas", tx.gas_used)
