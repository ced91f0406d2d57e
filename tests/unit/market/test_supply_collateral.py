"""Market.supply_collateral: credits what arrived, works when paused and stale."""

import ape
from market_fixtures import COLL


def test_supply_collateral_credits_and_lists(supplied, coll_token, borrower, other, fund):
    fund(coll_token, other, COLL, supplied)
    tx = supplied.supply_collateral(COLL, borrower, sender=other)
    ev = tx.decode_logs(supplied.CollateralSupplied)[0]
    assert (ev.caller, ev.account, ev.amount) == (other.address, borrower.address, COLL)
    assert supplied.position(borrower) == (COLL, 0)
    assert supplied.num_borrowers() == 1
    # a second supply does not list the borrower twice
    fund(coll_token, borrower, COLL, supplied)
    supplied.supply_collateral(COLL, borrower, sender=borrower)
    assert supplied.num_borrowers() == 1
    assert supplied.position(borrower)[0] == 2 * COLL
    assert coll_token.balanceOf(supplied) == 2 * COLL


def test_supply_collateral_zero_reverts(supplied, borrower):
    with ape.reverts("market: zero amount"):
        supplied.supply_collateral(0, borrower, sender=borrower)


def test_supply_collateral_zero_address_reverts(supplied, borrower):
    with ape.reverts("market: zero address"):
        supplied.supply_collateral(1, "0x0000000000000000000000000000000000000000", sender=borrower)


def test_supply_collateral_works_when_paused_and_stale(supplied, coll_token, borrower, admin, fund, chain):
    supplied.pause(sender=admin)
    chain.pending_timestamp += 3 * 86_400  # far beyond stale_after
    fund(coll_token, borrower, COLL, supplied)
    supplied.supply_collateral(COLL, borrower, sender=borrower)
    assert supplied.position(borrower)[0] == COLL
