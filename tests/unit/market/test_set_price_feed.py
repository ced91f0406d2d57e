"""Market.set_price_feed and the cross-check of new risk against a Chainlink-compatible feed: while the
feed disagrees with the oracle beyond its tolerance, is stale, is down or answers nonsense (zero,
negative, an incomplete round, a time in the future), borrowing and collateral withdrawal stop with their
own messages; repay, collateral deposits and liquidation go on at the oracle (quorum) price. Without a feed
the market behaves as before."""

import ape
import pytest
from market_fixtures import COLL, DEPTH, PRICE, SIGMA, WAD

TOL = 2 * WAD // 100  # 2%
AGE = 3_600
ANSWER = 2_000 * 10**8  # 2,000 loan tokens per collateral token, 8 decimals (a Chainlink USD feed)
USDC = 10**6


@pytest.fixture
def feed(project, admin, chain):
    f = admin.deploy(project.MockPriceFeed, 8)
    f.set_answer(ANSWER, chain.pending_timestamp, sender=admin)
    return f


@pytest.fixture
def checked(borrowed, feed, admin):
    """The borrowed market with the feed cross-checking new risk."""
    borrowed.set_price_feed(feed, TOL, AGE, sender=admin)
    return borrowed


def test_set_price_feed_stores_and_logs(lens, borrowed, feed, admin):
    tx = borrowed.set_price_feed(feed, TOL, AGE, sender=admin)
    assert lens.price_feed(borrowed) == (feed.address, TOL, AGE)
    assert [(x.feed, x.max_deviation, x.max_age) for x in tx.decode_logs(borrowed.PriceFeedSet)] == [
        (feed.address, TOL, AGE)
    ]


def test_removing_the_feed(lens, checked, admin, borrower):
    checked.set_price_feed("0x0000000000000000000000000000000000000000", 0, 0, sender=admin)
    assert lens.price_feed(checked) == ("0x0000000000000000000000000000000000000000", 0, 0)
    checked.borrow(USDC, borrower, sender=borrower)


def test_set_price_feed_bounds(borrowed, feed, admin):
    for dev, age, msg in [
        (10**15 - 10**9, AGE, "market: max_deviation too low"),
        (WAD // 2 + 10**9, AGE, "market: max_deviation too high"),
        (TOL + 1, AGE, "market: max_deviation off the 1e9 grid"),
        (TOL, 59, "market: max_age too short"),
        (TOL, 7 * 86_400 + 1, "market: max_age too long"),
    ]:
        with ape.reverts(msg):
            borrowed.set_price_feed(feed, dev, age, sender=admin)


def test_set_price_feed_rejects_a_non_feed_and_impossible_decimals(project, borrowed, admin, loan_token):
    with ape.reverts("market: not a price feed"):
        borrowed.set_price_feed(borrowed, TOL, AGE, sender=admin)  # a contract without decimals()
    weird = admin.deploy(project.MockPriceFeed, 60)
    with ape.reverts("market: price feed decimals out of range"):
        borrowed.set_price_feed(weird, TOL, AGE, sender=admin)


def test_set_price_feed_not_owner_reverts(borrowed, feed, borrower):
    with ape.reverts("ownable: caller is not the owner"):
        borrowed.set_price_feed(feed, TOL, AGE, sender=borrower)


def test_agreeing_feed_lets_new_risk_through(checked, borrower, feed, admin, chain):
    feed.set_answer(ANSWER * (WAD + TOL) // WAD, chain.pending_timestamp, sender=admin)  # exactly at 2%
    checked.borrow(USDC, borrower, sender=borrower)
    checked.withdraw_collateral(10**15, borrower, sender=borrower)


def test_disagreeing_feed_stops_borrow_and_withdraw_but_not_repay_or_liquidation(
    checked, lens, borrower, liquidator, feed, admin, chain, post, loan_token, coll_token, fund
):
    """Done-when 2 of issue 7: a price that disagrees with the feed beyond the tolerance cannot be
    borrowed against; liquidation still works at the quorum price."""
    m = checked
    feed.set_answer(ANSWER * 100 // 103, chain.pending_timestamp, sender=admin)  # 3% below the oracle
    with ape.reverts("market: price disagrees with feed"):
        m.borrow(USDC, borrower, sender=borrower)
    with ape.reverts("market: price disagrees with feed"):
        m.withdraw_collateral(10**15, borrower, sender=borrower)
    m.repay(USDC, borrower, sender=borrower)
    fund(coll_token, borrower, 10**18, m)
    m.supply_collateral(10**18, borrower, sender=borrower)
    # a crash on the quorum's price: liquidation works while the feed (stale-ish, still 3% off) disagrees
    post(m.ASSET_ID(), price=PRICE * 80 // 100, sigma=SIGMA, depth=DEPTH)
    feed.set_answer(ANSWER * 100 // 103, chain.pending_timestamp, sender=admin)
    for _ in range(12):
        chain.pending_timestamp += 3_600
        post(m.ASSET_ID(), price=PRICE * 55 // 100, sigma=3 * WAD, depth=DEPTH)
        m.poke(sender=borrower)
        if lens.is_liquidatable(m, borrower):
            break
    assert lens.is_liquidatable(m, borrower)
    fund(loan_token, liquidator, 10**12, m)
    tx = m.liquidate(borrower, 10**12, sender=liquidator)
    assert tx.decode_logs(m.Liquidated)[0].repaid > 0


@pytest.mark.parametrize(
    ("round_", "msg"),
    [
        ((5, 0, 1, 1, 5), "market: price feed invalid"),  # zero answer
        ((5, -ANSWER, 1, 1, 5), "market: price feed invalid"),  # negative answer
        ((5, ANSWER, 1, 0, 5), "market: price feed invalid"),  # never updated
        ((5, ANSWER, 1, 1, 4), "market: price feed round incomplete"),  # answered in an older round
    ],
    ids=["zero", "negative", "never_updated", "old_round"],
)
def test_nonsense_answers_stop_new_risk(checked, borrower, feed, admin, chain, round_, msg):
    rid, answer, started, updated, answered = round_
    now = chain.pending_timestamp
    feed.set_round(rid, answer, now if started else 0, now if updated else 0, answered, sender=admin)
    with ape.reverts(msg):
        checked.borrow(USDC, borrower, sender=borrower)


def test_answer_from_the_future_stops_new_risk(checked, borrower, feed, admin, chain):
    feed.set_answer(ANSWER, chain.pending_timestamp + 3_600, sender=admin)
    with ape.reverts("market: price feed invalid"):
        checked.borrow(USDC, borrower, sender=borrower)


def test_stale_feed_stops_new_risk(checked, borrower, feed, admin, chain, post):
    at = chain.pending_timestamp
    feed.set_answer(ANSWER, at, sender=admin)
    chain.pending_timestamp = at + AGE + 1
    post(checked.ASSET_ID())  # fresh oracle data: only the feed is stale
    with ape.reverts("market: price feed stale"):
        checked.borrow(USDC, borrower, sender=borrower)


def test_feed_that_reverts_stops_new_risk_only(checked, borrower, feed, admin):
    feed.set_broken(True, sender=admin)
    with ape.reverts("market: price feed unavailable"):
        checked.borrow(USDC, borrower, sender=borrower)
    checked.repay(USDC, borrower, sender=borrower)


def test_without_debt_collateral_withdrawal_ignores_the_feed(checked, borrower, feed, admin, loan_token, fund):
    fund(loan_token, borrower, 10**6, checked)  # the interest of the seconds since the borrow
    checked.repay(2**256 - 1, borrower, sender=borrower)
    feed.set_broken(True, sender=admin)
    checked.withdraw_collateral(COLL, borrower, sender=borrower)
