"""Market.pause: owner only, event; what it stops is tested in each entry point's file."""

import ape


def test_pause(lens, market, admin):
    tx = market.pause(sender=admin)
    assert tx.decode_logs(market.Paused)[0].by == admin.address
    assert lens.paused(market)


def test_pause_twice_reverts(market, admin):
    market.pause(sender=admin)
    with ape.reverts("market: already paused"):
        market.pause(sender=admin)


def test_pause_not_owner_reverts(market, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        market.pause(sender=attacker)
