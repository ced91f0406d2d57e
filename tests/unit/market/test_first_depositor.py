"""First-depositor inflation attack: the attacker deposits 1 wei and donates a large amount so that the
victim's deposit rounds to zero shares. The virtual offset (and totalAssets that ignores donations)
leaves the victim whole and the attacker poorer."""

from market_fixtures import LEND


def test_inflation_attack_fails(market, loan_token, attacker, lender, fund):
    donation = LEND
    fund(loan_token, attacker, donation + 1, market)
    market.deposit(1, attacker, sender=attacker)
    loan_token.transfer(market, donation, sender=attacker)  # direct donation
    assert market.totalAssets() == 1  # a donation is not lenders' assets
    fund(loan_token, lender, LEND, market)
    shares = market.deposit(LEND, lender, sender=lender).return_value
    assert shares > 0
    # the victim can take out what they put in (rounding down by at most 1 wei)
    assert market.previewRedeem(shares) >= LEND - 1
    attacker_out = market.previewRedeem(market.balanceOf(attacker))
    assert attacker_out <= 1  # the attacker's donation is lost to them


def test_virtual_offset_caps_share_inflation_by_deposits(market, loan_token, attacker, lender, fund):
    # even if the attacker's 1 wei share were worth a lot, the virtual shares take the profit
    fund(loan_token, attacker, 1, market)
    market.deposit(1, attacker, sender=attacker)
    assert market.balanceOf(attacker) == 10**6  # 1 wei of assets = 1e6 shares (6 decimals offset)
    fund(loan_token, lender, 999, market)
    shares = market.deposit(999, lender, sender=lender).return_value
    assert shares == 999 * (10**6 + 10**6) // 2
