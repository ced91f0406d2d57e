"""Market.transfer (ERC-20 lender shares)."""

import ape

ZERO = "0x0000000000000000000000000000000000000000"


def test_transfer(supplied, lender, other):
    bal = supplied.balanceOf(lender)
    tx = supplied.transfer(other, bal // 3, sender=lender)
    ev = tx.decode_logs(supplied.Transfer)[0]
    assert (ev.sender, ev.receiver, ev.value) == (lender.address, other.address, bal // 3)
    assert supplied.balanceOf(other) == bal // 3 and supplied.balanceOf(lender) == bal - bal // 3


def test_transfer_too_much_reverts(supplied, lender, other):
    with ape.reverts("market: insufficient shares"):
        supplied.transfer(other, supplied.balanceOf(lender) + 1, sender=lender)


def test_transfer_to_zero_reverts(supplied, lender):
    with ape.reverts("market: zero address"):
        supplied.transfer(ZERO, 1, sender=lender)
