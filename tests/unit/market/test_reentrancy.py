"""Re-entrancy: a token that calls back into the market during a transfer is refused by the lock
(`# pragma nonreentrancy on`); the same callbacks succeed outside a market call, so these tests fail
if the lock is removed."""

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector as selector
from market_fixtures import COLL, LEND, PRICE


@pytest.fixture
def hostile(project, admin):
    return admin.deploy(project.MockReentrantERC20, "Hostile", "HOST", 18)


@pytest.fixture
def hostile_market(create_market, loan_token, hostile, post, lender, fund):
    m = create_market(loan_token, hostile, name="hostile", symbol="h")
    post(m.ASSET_ID())
    fund(loan_token, lender, LEND, m)
    m.deposit(LEND, lender, sender=lender)
    return m


def payloads(attacker):
    return {
        # read-only re-entrancy: totals are mid-update during the transfer
        "totalAssets": selector("totalAssets()"),
        # a zero-share transfer from the token contract: harmless, but it must not run mid-call
        "transfer": selector("transfer(address,uint256)")
        + encode(["address", "uint256"], [attacker.address, 0]),
    }


@pytest.mark.parametrize("call", ["totalAssets", "transfer"])
def test_callback_during_supply_collateral_is_refused(hostile_market, hostile, attacker, fund, call):
    m = hostile_market
    fund(hostile, attacker, 2 * COLL, m)
    hostile.arm(m, payloads(attacker)[call], sender=attacker)
    hostile.transfer(attacker, 0, sender=attacker)  # outside a market call the callback succeeds
    assert hostile.successes() == 1
    m.supply_collateral(COLL, attacker, sender=attacker)
    assert hostile.attempts() == 2
    assert hostile.successes() == 1  # inside the market call it failed on the lock
    assert m.position(attacker)[0] == COLL


def test_callback_during_liquidation_is_refused(
    hostile_market, hostile, borrower, liquidator, attacker, loan_token, fund, post
):
    m = hostile_market
    fund(hostile, borrower, COLL, m)
    m.supply_collateral(COLL, borrower, sender=borrower)
    m.borrow(10_000 * 10**6, borrower, sender=borrower)
    post(m.ASSET_ID(), price=PRICE // 2)
    hostile.arm(m, payloads(attacker)["totalAssets"], sender=liquidator)
    fund(loan_token, liquidator, 10_000 * 10**6, m)
    m.liquidate(borrower, 1_000 * 10**6, sender=liquidator)  # the seized collateral goes out by transfer
    assert hostile.attempts() == 1 and hostile.successes() == 0
