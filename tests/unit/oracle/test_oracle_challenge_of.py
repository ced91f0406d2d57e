"""RiskOracle.challenge_of: the open bonded challenge of an asset."""

from oracle_helpers import WAD

ZERO = "0x0000000000000000000000000000000000000000"


def test_no_challenge_is_empty(oracle, queued, asset):
    assert oracle.challenge_of(asset) == (ZERO, 0)
    assert oracle.challenge_of(2**256 - 1) == (ZERO, 0)


def test_bonded_challenge_is_recorded(oracle, queued, asset, lender):
    oracle.challenge(asset, sender=lender, value=WAD // 10)
    assert oracle.challenge_of(asset) == (lender.address, WAD // 10)
