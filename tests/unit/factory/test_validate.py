"""MarketFactory.validate_risk / validate_rates: the bounds every market checks through its factory."""

import ape
from market_fixtures import RATES, RISK, WAD, rate_tuple, risk_tuple


def test_validate_risk(factory):
    assert factory.validate_risk(risk_tuple()) is True
    with ape.reverts("market: horizon too long"):
        factory.validate_risk(risk_tuple(RISK.replace(horizon=8 * 86_400)))


def test_validate_rates(factory):
    from dataclasses import replace

    assert factory.validate_rates(rate_tuple()) is True
    with ape.reverts("market: slope2 too high"):
        factory.validate_rates(rate_tuple(replace(RATES, slope2=11 * WAD)))
