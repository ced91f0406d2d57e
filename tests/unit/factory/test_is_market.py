"""MarketFactory.is_market: integrators can tell a market of this factory (parameters within the bounds)
from Market code deployed by anything else, which may carry any parameters (audit finding 7)."""

import ape
from market_fixtures import RATES, RISK, rate_tuple, risk_tuple


def test_factory_markets_are_markets(factory, market):
    assert factory.is_market(market)


def test_market_code_from_an_impostor_is_not(project, admin, attacker, factory, blueprint, feed_check, risk_oracle,
                                             market, loan_token, coll_token):  # fmt: skip
    fake = attacker.deploy(project.MockFakeFactory, feed_check)
    wild = RISK.replace(h_min=0, bonus=0)  # below every bound: a real factory refuses it
    with ape.reverts("market: bonus too low"):
        factory.validate_risk(risk_tuple(wild))
    tx = fake.deploy_market(blueprint, loan_token, coll_token, risk_oracle, market.ASSET_ID(), risk_tuple(wild),
                            rate_tuple(RATES), sender=attacker)  # fmt: skip
    impostor = project.Market.at(tx.return_value)
    assert impostor.risk_params().h_min == 0
    assert not factory.is_market(impostor)
