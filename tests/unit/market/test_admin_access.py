"""SECURITY.md row "unauthorised admin calls": every admin entry point of the Market, the RiskOracle and
the MarketFactory, called by a stranger, reverts with its access message (one sweep on anvil)."""

import ape
from market_fixtures import RATES, RISK, WAD, rate_tuple, risk_tuple

NOT_OWNER = "ownable: caller is not the owner"
HOUR = 3_600
GUARD = (5 * WAD // 100, 5 * WAD // 100, 20 * WAD // 100, HOUR, 50 * WAD // 100, 5 * WAD // 100)


def test_every_admin_call_by_a_stranger_reverts(market, risk_oracle, factory, loan_token, coll_token, attacker):
    m, o, f, x = market, risk_oracle, factory, attacker
    owner_only = [
        (m.set_risk_params, (risk_tuple(RISK),)),
        (m.set_rate_params, (rate_tuple(RATES),)),
        (m.set_price_feed, (x, 2 * WAD // 100, HOUR)),
        (m.pause, ()),
        (m.unpause, ()),
        (m.transfer_ownership, (x,)),
        (m.renounce_ownership, ()),
        (o.add_asset, (loan_token, coll_token)),
        (o.configure_signers, ([x], 1)),
        (o.set_guardian, (x,)),
        (o.set_guard_params, GUARD),
        (o.set_challenge_bond, (WAD // 10,)),
        (o.unpause, ()),
        (o.settle_challenge, (1, True)),
        (o.transfer_ownership, (x,)),
        (o.renounce_ownership, ()),
        (f.create_market, (coll_token, loan_token, 1, risk_tuple(RISK), rate_tuple(RATES), "x", "X")),
        (f.transfer_ownership, (x,)),
        (f.renounce_ownership, ()),
    ]
    for fn, args in owner_only:
        with ape.reverts(NOT_OWNER):
            fn(*args, sender=x)
    with ape.reverts("oracle: not owner or guardian"):
        o.pause(sender=x)
    with ape.reverts("market: not the factory"):
        m.initialize([1, 2, 3], sender=x)
    with ape.reverts("factory: not a market"):
        f.set_risk_params(risk_tuple(RISK), sender=x)
    with ape.reverts("factory: not a market"):
        f.set_rate_params(rate_tuple(RATES), sender=x)
