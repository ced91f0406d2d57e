"""MarketFactory.validate_risk / validate_rates / pack_params: the bounds every market checks through its
factory, and the parameters the factory keeps for its markets."""

from dataclasses import replace

import ape
from market_fixtures import RATES, RISK, WAD, rate_tuple, risk_tuple


def test_validate_risk(factory):
    assert factory.validate_risk(risk_tuple()) is True
    with ape.reverts("market: horizon too long"):
        factory.validate_risk(risk_tuple(RISK.replace(horizon=8 * 86_400)))


def test_validate_rates(factory):
    assert factory.validate_rates(rate_tuple()) is True
    with ape.reverts("market: slope2 too high"):
        factory.validate_rates(rate_tuple(replace(RATES, slope2=11 * WAD)))


def test_pack_params_checks_the_bounds_and_packs_the_liquidation_word(factory):
    words = factory.pack_params(risk_tuple(), rate_tuple())
    c = words[2]
    assert (c >> 224) * 10**9 == RISK.bonus_min
    assert ((c >> 192) & (2**32 - 1)) * 10**9 == RISK.target_margin
    assert ((c >> 128) & (2**64 - 1)) * 10**9 == RISK.bonus_slope
    assert ((c >> 88) & (2**40 - 1)) * 10**9 == RISK.liq_cap
    assert ((words[1] >> 25) & (2**29 - 1)) * 10**9 == RISK.init_gap
    assert (words[1] >> 1) & (2**24 - 1) == RISK.min_debt and words[1] & 1 == 0
    with ape.reverts("market: bonus_min above bonus"):
        factory.pack_params(risk_tuple(RISK.replace(bonus_min=RISK.bonus + 10**9)), rate_tuple())
    with ape.reverts("market: kink too low"):
        factory.pack_params(risk_tuple(), rate_tuple(replace(RATES, kink=10**16)))


def test_only_its_markets_record_parameters(factory, attacker):
    with ape.reverts("factory: not a market"):
        factory.set_risk_params(risk_tuple(), sender=attacker)
    with ape.reverts("factory: not a market"):
        factory.set_rate_params(rate_tuple(), sender=attacker)


def test_the_factory_keeps_each_markets_parameters(factory, market):
    assert tuple(factory.risk_params(market)) == risk_tuple() == tuple(market.risk_params())
    assert tuple(factory.rate_params(market)) == rate_tuple() == tuple(market.rate_params())
