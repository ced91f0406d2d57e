"""Market.transferFrom (ERC-20 lender shares)."""

import ape


def test_transfer_from_spends_allowance(supplied, lender, other):
    supplied.approve(other, 100, sender=lender)
    supplied.transferFrom(lender, other, 60, sender=other)
    assert supplied.allowance(lender, other) == 40
    assert supplied.balanceOf(other) == 60


def test_transfer_from_unlimited_allowance_stays(supplied, lender, other):
    supplied.approve(other, 2**256 - 1, sender=lender)
    supplied.transferFrom(lender, other, 60, sender=other)
    assert supplied.allowance(lender, other) == 2**256 - 1


def test_transfer_from_without_allowance_reverts(supplied, lender, other):
    with ape.reverts("market: insufficient allowance"):
        supplied.transferFrom(lender, other, 1, sender=other)
