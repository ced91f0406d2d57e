"""Market.approve (ERC-20 lender shares)."""


def test_approve_sets_and_logs(market, lender, other):
    tx = market.approve(other, 123, sender=lender)
    ev = tx.decode_logs(market.Approval)[0]
    assert (ev.owner, ev.spender, ev.value) == (lender.address, other.address, 123)
    assert market.allowance(lender, other) == 123
    market.approve(other, 0, sender=lender)
    assert market.allowance(lender, other) == 0
