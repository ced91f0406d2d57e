"""ERC-4626 conformance of the max* views (audit finding 6): each never reverts and is accepted by its
action, at the extremes the market accepts (lender assets and shares at their caps) and for dust;
`deposit(maxDeposit)`, `mint(maxMint)`, `withdraw(maxWithdraw)` and `redeem(maxRedeem)` all succeed.
(The rest of the a16z ERC-4626 properties: tests/unit/market/test_erc4626_properties.py.)"""

import pytest
from market_fixtures import LOAN_DECIMALS

MAX_TOTAL_ASSETS = 2**112
MAX_TOTAL_SHARES = 2**142
USDC = 10**LOAN_DECIMALS


def _fund(token, account, amount, spender):
    token.mint(account, amount, sender=account)
    token.approve(spender, 2**256 - 1, sender=account)


def test_deposit_of_max_deposit_succeeds_at_the_cap(market, loan_token, lender, other):
    m = market
    room = m.maxDeposit(lender)
    assert room == MAX_TOTAL_ASSETS - (m.totalAssets())
    _fund(loan_token, lender, room, m)
    m.deposit(room, lender, sender=lender)
    assert m.maxDeposit(lender) == 0 and m.maxMint(lender) == 0
    # the holder of 2**112 raw units: the views do not overflow and the actions take them
    assert m.maxWithdraw(lender) == m.idle() == room
    shares = m.maxRedeem(lender)
    assert shares == m.balanceOf(lender)
    assert m.previewRedeem(shares) == room
    m.redeem(shares, lender, lender, sender=lender)
    assert m.balanceOf(lender) == 0


def test_mint_of_max_mint_succeeds(market, loan_token, lender):
    m = market
    shares = m.maxMint(lender)
    assert 0 < shares <= MAX_TOTAL_SHARES
    cost = m.previewMint(shares)
    _fund(loan_token, lender, cost, m)
    m.mint(shares, lender, sender=lender)
    assert m.maxMint(lender) == 0
    assets = m.maxWithdraw(lender)
    m.withdraw(assets, lender, lender, sender=lender)


def test_max_redeem_never_promises_dust(supplied, lender, other):
    m = supplied
    m.transfer(other, 1, sender=lender)  # one share: worth less than one raw unit
    assert m.convertToAssets(1) == 0
    assert m.maxRedeem(other) == 0  # it used to say 1, which redeem refused
    assert m.redeem(m.maxRedeem(other), other, other, sender=other).return_value == 0


@pytest.mark.parametrize("view", ["maxDeposit", "maxMint", "maxWithdraw", "maxRedeem"])
def test_max_views_are_zero_while_paused_and_the_action_accepts_zero(supplied, admin, lender, view):
    m = supplied
    m.pause(sender=admin)
    assert getattr(m, view)(lender) == 0
    action = {"maxDeposit": lambda: m.deposit(0, lender, sender=lender),
              "maxMint": lambda: m.mint(0, lender, sender=lender),
              "maxWithdraw": lambda: m.withdraw(0, lender, lender, sender=lender),
              "maxRedeem": lambda: m.redeem(0, lender, lender, sender=lender)}[view]  # fmt: skip
    assert action().return_value == 0


def test_max_withdraw_is_limited_by_idle_liquidity(borrowed, lender):
    m = borrowed
    assert m.maxWithdraw(lender) == m.idle() < m.convertToAssets(m.balanceOf(lender))
    m.withdraw(m.maxWithdraw(lender), lender, lender, sender=lender)
    assert m.idle() == 0
    assert m.maxRedeem(lender) == 0
