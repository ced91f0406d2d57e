"""MarketFactory.__init__ and the Market constructor's own checks."""

import ape
from market_fixtures import rate_tuple, risk_tuple

ZERO = "0x0000000000000000000000000000000000000000"


def test_factory_constructor(factory, blueprint, risk_oracle, admin):
    assert factory.MARKET_BLUEPRINT() == blueprint
    assert factory.ORACLE() == risk_oracle.address
    assert factory.owner() == admin.address
    assert factory.num_markets() == 0


def test_factory_constructor_zero_address_reverts(project, admin, blueprint):
    with ape.reverts("factory: zero address"):
        admin.deploy(project.MarketFactory, blueprint, ZERO)
    with ape.reverts("factory: zero address"):
        admin.deploy(project.MarketFactory, ZERO, blueprint)


def test_market_constructor_checks(project, admin, factory, loan_token, coll_token, risk_oracle):
    # deployed directly by an account (not the factory) the market cannot validate its parameters
    with ape.reverts():
        admin.deploy(
            project.Market,
            loan_token,
            coll_token,
            risk_oracle,
            1,
            admin,
            risk_tuple(),
            rate_tuple(),
            "n",
            "s",
        )
    with ape.reverts("market: same token"):
        admin.deploy(
            project.Market,
            loan_token,
            loan_token,
            risk_oracle,
            1,
            admin,
            risk_tuple(),
            rate_tuple(),
            "n",
            "s",
        )
    with ape.reverts("market: zero asset id"):
        admin.deploy(
            project.Market,
            loan_token,
            coll_token,
            risk_oracle,
            0,
            admin,
            risk_tuple(),
            rate_tuple(),
            "n",
            "s",
        )
