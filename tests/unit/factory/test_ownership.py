"""MarketFactory ownership (snekmate ownable_2step): the new owner creates markets and owns them."""

import ape
from market_fixtures import rate_tuple, risk_tuple


def test_two_step_transfer_moves_market_creation(
    project, factory, risk_oracle, loan_token, coll_token, admin, other
):
    factory.transfer_ownership(other, sender=admin)
    factory.accept_ownership(sender=other)
    risk_oracle.add_asset(coll_token, loan_token, sender=admin)
    with ape.reverts("ownable: caller is not the owner"):
        factory.create_market(loan_token, coll_token, 1, risk_tuple(), rate_tuple(), "n", "s", sender=admin)
    tx = factory.create_market(loan_token, coll_token, 1, risk_tuple(), rate_tuple(), "n", "s", sender=other)
    market = project.Market.at(tx.decode_logs(factory.MarketCreated)[0].market)
    assert market.owner() == other.address


def test_accept_by_stranger_reverts(factory, admin, other, attacker):
    factory.transfer_ownership(other, sender=admin)
    with ape.reverts("ownable_2step: caller is not the new owner"):
        factory.accept_ownership(sender=attacker)
