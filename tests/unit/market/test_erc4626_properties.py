"""ERC-4626 conformance of the lender side, property by property (the properties of the a16z ERC-4626
property suite, written here for this market): asset and totalAssets, the conversions and their
rounding, every preview against the action it previews, the eight round trips, and allowances. The
max* views are in test_erc4626_max.py (audit finding 6).

The vault is in a realistic state for every example: lenders in, a borrower's debt accruing interest
for a day (so a share is worth more than its first price and conversions round), and a donation
sitting in the market (which must change nothing). Each example runs on a snapshot of that state."""

import ape
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from market_fixtures import COLL, LEND, LOAN_DECIMALS

USDC = 10**LOAN_DECIMALS
MAX = 2**256 - 1
EXAMPLES = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))

assets_st = st.one_of(st.integers(1, 1_000), st.integers(1, 200_000 * USDC))
shares_st = st.one_of(st.integers(1, 10**9), st.integers(1, 200_000 * USDC * 10**6))


@pytest.fixture(scope="module")
def vault(market, loan_token, coll_token, lender, borrower, attacker, other, chain, lens):
    """The default market with 1M lent, 40% of it borrowed for a day, and a donation."""
    m = market
    for who in (lender, attacker, other):
        loan_token.mint(who, 10 * LEND, sender=who)
        loan_token.approve(m, MAX, sender=who)
    m.deposit(LEND, lender, sender=lender)
    m.deposit(LEND // 3, attacker, sender=attacker)
    coll_token.mint(borrower, 100 * COLL, sender=borrower)
    coll_token.approve(m, MAX, sender=borrower)
    m.supply_collateral(100 * COLL, borrower, sender=borrower)
    m.borrow(LEND * 4 // 10, borrower, sender=borrower)
    chain.pending_timestamp += 86_400
    m.poke(sender=other)
    loan_token.transfer(m, 12_345, sender=other)  # a donation is nobody's asset
    assert m.convertToAssets(10**12) > 10**6  # a share is worth more than its first price
    return m


def _isolated(chain, body):
    """Run `body` on a snapshot, every block at the head's time (views and actions see the same
    interest), and restore it (assertions run in `body`, not inside `chain.isolate`)."""
    snap = chain.snapshot()
    chain.provider.make_request("anvil_setBlockTimestampInterval", [0])
    chain.provider.make_request("evm_setNextBlockTimestamp", [chain.blocks.head.timestamp])
    chain.mine()
    try:
        body()
    finally:
        chain.provider.make_request("anvil_removeBlockTimestampInterval", [])
        chain.restore(snap)


def test_asset_and_total_assets(lens, vault, loan_token):
    assert vault.asset() == loan_token.address
    assert vault.totalAssets() == lens.idle(vault) + vault.total_debt()
    assert vault.decimals() == loan_token.decimals() + 6


@EXAMPLES
@given(assets=assets_st, shares=shares_st)
def test_conversions_round_down_and_round_trip_down(vault, assets, shares, lender, other):
    s = vault.convertToShares(assets)
    a = vault.convertToAssets(shares)
    assert vault.convertToAssets(s) <= assets  # the vault never gives back more than it took
    assert vault.convertToShares(a) <= shares
    # the caller does not matter
    assert vault.convertToShares(assets, sender=other) == s
    # conversions equal the previews that round down
    assert vault.previewDeposit(assets) == s and vault.previewRedeem(shares) == a


@EXAMPLES
@given(assets=assets_st)
def test_preview_deposit_is_what_deposit_mints(vault, assets, other, chain):
    def body():
        preview = vault.previewDeposit(assets)
        before = vault.balanceOf(other)
        tx = vault.deposit(assets, other, sender=other)
        minted = vault.balanceOf(other) - before
        assert minted == preview == tx.decode_logs(vault.Deposit)[0].shares

    _isolated(chain, body)


@EXAMPLES
@given(shares=shares_st)
def test_preview_mint_is_what_mint_takes(vault, shares, other, loan_token, chain):
    def body():
        preview = vault.previewMint(shares)
        before = loan_token.balanceOf(other)
        vault.mint(shares, other, sender=other)
        assert before - loan_token.balanceOf(other) == preview
        assert preview >= vault.convertToAssets(shares)  # rounds up

    _isolated(chain, body)


@EXAMPLES
@given(assets=st.integers(1, 300_000 * USDC))
def test_preview_withdraw_is_what_withdraw_burns(vault, assets, lender, chain):
    def body():
        preview = vault.previewWithdraw(assets)
        before = vault.balanceOf(lender)
        vault.withdraw(assets, lender, lender, sender=lender)
        assert before - vault.balanceOf(lender) == preview
        assert preview >= vault.convertToShares(assets)  # rounds up

    _isolated(chain, body)


@EXAMPLES
@given(fraction=st.integers(1, 10**6))
def test_preview_redeem_is_what_redeem_pays(vault, fraction, attacker, loan_token, chain):
    def body():
        shares = vault.balanceOf(attacker) * fraction // 10**6
        preview = vault.previewRedeem(shares)
        before = loan_token.balanceOf(attacker)
        if preview == 0:
            return
        vault.redeem(shares, attacker, attacker, sender=attacker)
        assert loan_token.balanceOf(attacker) - before == preview

    _isolated(chain, body)


ROUND_TRIPS = ["deposit_redeem", "deposit_withdraw", "redeem_deposit", "redeem_mint", "mint_withdraw",
               "mint_redeem", "withdraw_mint", "withdraw_deposit"]  # fmt: skip


def redeem_or_refused(vault, shares, owner):
    """Redeem `shares` for `owner` and return the assets paid; None when they are worth nothing and the
    market refuses ("market: zero amount")."""
    if vault.previewRedeem(shares) == 0:
        with ape.reverts("market: zero amount"):
            vault.redeem(shares, owner, owner, sender=owner)
        return None
    return vault.redeem(shares, owner, owner, sender=owner).decode_logs(vault.Withdraw)[0].assets


@settings(max_examples=24, deadline=None, suppress_health_check=list(HealthCheck))
@given(trip=st.sampled_from(ROUND_TRIPS), amount=st.integers(1, 100_000 * USDC))
def test_round_trips_never_favour_the_caller(vault, trip, amount, attacker, loan_token, chain):
    """Each of the eight round trips in one block leaves the caller no richer in assets or shares (a
    redeem that would pay nothing reverts)."""
    a = attacker

    def shares_of():
        return vault.balanceOf(a)

    def body():
        first, second = trip.split("_")
        if first == "deposit":
            got = vault.deposit(amount, a, sender=a).decode_logs(vault.Deposit)[0].shares
            if second == "redeem":
                paid = redeem_or_refused(vault, got, a)  # a dust deposit: the market refuses to pay out nothing
                if paid is None:
                    return
                assert paid <= amount
            else:
                burnt = vault.withdraw(amount, a, a, sender=a).decode_logs(vault.Withdraw)[0].shares
                assert burnt >= got
        elif first == "mint":
            shares = vault.convertToShares(amount) or 1
            paid = vault.mint(shares, a, sender=a).decode_logs(vault.Deposit)[0].assets
            if second == "redeem":
                back = redeem_or_refused(vault, shares, a)
                if back is None:
                    return
                assert back <= paid
            else:
                burnt = vault.withdraw(paid, a, a, sender=a).decode_logs(vault.Withdraw)[0].shares
                assert burnt >= shares
        elif first == "redeem":
            shares = min(vault.convertToShares(amount), shares_of())
            if vault.previewRedeem(shares) == 0:
                return
            got = vault.redeem(shares, a, a, sender=a).decode_logs(vault.Withdraw)[0].assets
            if second == "deposit":
                minted = vault.deposit(got, a, sender=a).decode_logs(vault.Deposit)[0].shares
                assert minted <= shares
            else:
                cost = vault.mint(shares, a, sender=a).decode_logs(vault.Deposit)[0].assets
                assert cost >= got
        else:  # withdraw
            assets = min(amount, vault.maxWithdraw(a))
            burnt = vault.withdraw(assets, a, a, sender=a).decode_logs(vault.Withdraw)[0].shares
            if second == "mint":
                cost = vault.mint(burnt, a, sender=a).decode_logs(vault.Deposit)[0].assets
                assert cost >= assets
            else:
                minted = vault.deposit(assets, a, sender=a).decode_logs(vault.Deposit)[0].shares
                assert minted <= burnt

    _isolated(chain, body)


@EXAMPLES
@given(allowance=st.integers(0, 10**14), fraction=st.integers(1, 100))
def test_withdraw_and_redeem_by_a_spender_use_the_allowance(vault, allowance, fraction, lender, other, chain):
    import ape

    def body():
        vault.approve(other, allowance, sender=lender)
        shares = vault.balanceOf(lender) * fraction // 10_000
        if vault.previewRedeem(shares) == 0:
            return
        if shares > allowance:
            with ape.reverts("market: insufficient allowance"):
                vault.redeem(shares, other, lender, sender=other)
            return
        vault.redeem(shares, other, lender, sender=other)
        assert vault.allowance(lender, other) == allowance - shares
        burnt = vault.previewWithdraw(1)
        if burnt > allowance - shares:
            with ape.reverts("market: insufficient allowance"):
                vault.withdraw(1, other, lender, sender=other)

    _isolated(chain, body)


def test_unlimited_allowance_is_not_spent(vault, lender, other, chain):
    def body():
        vault.approve(other, MAX, sender=lender)
        vault.redeem(10**12, other, lender, sender=other)
        assert vault.allowance(lender, other) == MAX

    _isolated(chain, body)


def test_max_views_do_not_revert_for_anyone(lens, vault, lender, attacker, other, borrower):
    for who in (lender, attacker, other, borrower, vault):
        assert vault.maxDeposit(who) > 0 and vault.maxMint(who) > 0
        assert vault.maxWithdraw(who) <= lens.idle(vault)
        assert vault.maxRedeem(who) <= vault.balanceOf(who)
