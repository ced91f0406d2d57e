"""SECURITY.md row "keeper fat-finger x10": a full quorum signing a price ten times (or a tenth of) the last
one an hour later is refused by the price bound (50% per hour of observation time) and changes nothing."""

import ape
from oracle_helpers import DEPTH, HOUR, PRICE, SIGMA, later


def test_price_x10_or_a_tenth_reverts_and_changes_nothing(oracle, posted, asset, post, chain):
    before = oracle.metrics(asset)
    at = later(chain, posted, HOUR)
    for p in (PRICE * 10, PRICE // 10):
        with ape.reverts("oracle: price moves too fast"):
            post([(asset, p, DEPTH, SIGMA)], observed_at=at)
    assert oracle.metrics(asset) == before
    post([(asset, PRICE, DEPTH, SIGMA)], observed_at=at)  # the right value in the same round passes
    assert oracle.metrics(asset)[3] == at
