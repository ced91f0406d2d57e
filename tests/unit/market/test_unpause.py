"""Market.unpause: owner only, event."""

import ape


def test_unpause(lens, market, admin):
    market.pause(sender=admin)
    tx = market.unpause(sender=admin)
    assert tx.decode_logs(market.Unpaused)[0].by == admin.address
    assert not lens.paused(market)


def test_unpause_when_not_paused_reverts(market, admin):
    with ape.reverts("market: not paused"):
        market.unpause(sender=admin)


def test_unpause_not_owner_reverts(market, admin, attacker):
    market.pause(sender=admin)
    with ape.reverts("ownable: caller is not the owner"):
        market.unpause(sender=attacker)
