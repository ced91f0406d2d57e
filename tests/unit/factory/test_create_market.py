"""MarketFactory.create_market: owner only, validated, registry, event; the market is a real blueprint copy."""

import ape
from market_fixtures import RATES, RISK, WAD, rate_tuple, risk_tuple

ZERO = "0x0000000000000000000000000000000000000000"


def test_create_market_registers(lens, project, factory, risk_oracle, loan_token, coll_token, admin):
    risk_oracle.add_asset(coll_token, loan_token, sender=admin)
    aid = risk_oracle.asset_id(coll_token, loan_token)
    tx = factory.create_market(
        loan_token, coll_token, aid, risk_tuple(), rate_tuple(), "n", "s", sender=admin
    )
    ev = tx.decode_logs(factory.MarketCreated)[0]
    assert (ev.loan_token, ev.collateral_token, ev.asset_id, ev.index) == (
        loan_token.address,
        coll_token.address,
        aid,
        0,
    )
    assert factory.num_markets() == 1
    assert factory.markets(0) == ev.market
    assert factory.market_for(loan_token, coll_token) == ev.market
    m = project.Market.at(ev.market)
    assert m.owner() == admin.address
    assert (m.LOAN(), m.COLLATERAL(), m.ORACLE(), m.ASSET_ID(), m.FACTORY()) == (
        loan_token.address,
        coll_token.address,
        risk_oracle.address,
        aid,
        factory.address,
    )
    assert tuple(m.risk_params()) == risk_tuple() and tuple(m.rate_params()) == rate_tuple()
    assert m.name() == "n" and m.symbol() == "s"
    assert lens.maint_base(m) <= RISK.h_max


def test_create_market_not_owner_reverts(factory, loan_token, coll_token, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        factory.create_market(
            loan_token, coll_token, 1, risk_tuple(), rate_tuple(), "n", "s", sender=attacker
        )


def test_create_market_twice_reverts(create_market, factory, loan_token, coll_token, admin):
    create_market(loan_token, coll_token)
    with ape.reverts("factory: market exists"):
        factory.create_market(loan_token, coll_token, 1, risk_tuple(), rate_tuple(), "n", "s", sender=admin)


def test_create_market_asset_mismatch_reverts(factory, risk_oracle, loan_token, coll_token, admin, other):
    risk_oracle.add_asset(other, loan_token, sender=admin)  # id 1 is another pair
    with ape.reverts("factory: asset mismatch"):
        factory.create_market(loan_token, coll_token, 1, risk_tuple(), rate_tuple(), "n", "s", sender=admin)


def test_create_market_same_token_reverts(factory, loan_token, admin):
    with ape.reverts("factory: same token"):
        factory.create_market(loan_token, loan_token, 1, risk_tuple(), rate_tuple(), "n", "s", sender=admin)


def test_create_market_zero_address_reverts(factory, loan_token, admin):
    with ape.reverts("factory: zero address"):
        factory.create_market(ZERO, loan_token, 1, risk_tuple(), rate_tuple(), "n", "s", sender=admin)
    with ape.reverts("factory: zero address"):
        factory.create_market(loan_token, ZERO, 1, risk_tuple(), rate_tuple(), "n", "s", sender=admin)


def test_create_market_invalid_params_revert(factory, risk_oracle, loan_token, coll_token, admin):
    from dataclasses import replace

    risk_oracle.add_asset(coll_token, loan_token, sender=admin)
    with ape.reverts("market: z_init too high"):
        factory.create_market(
            loan_token,
            coll_token,
            1,
            risk_tuple(RISK.replace(z_init=11 * WAD)),
            rate_tuple(),
            "n",
            "s",
            sender=admin,
        )
    with ape.reverts("market: kink too high"):
        factory.create_market(
            loan_token,
            coll_token,
            1,
            risk_tuple(),
            rate_tuple(replace(RATES, kink=WAD)),
            "n",
            "s",
            sender=admin,
        )
