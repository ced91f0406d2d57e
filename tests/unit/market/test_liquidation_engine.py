"""The liquidation engine (issue 9): a call repays at most what restores the target health, the bonus grows
as health falls, splitting never pays more, no dust is left, certain bad debt is written off at once, and
the collateral value liquidated per hour is capped by the posted depth. Each on-chain result is checked
against the mirror (`oracle/model.py`: `engine`, `settle`, `bonus_at`, `cap_room`) and against the lens's
quote, with the adjacent case that must not happen beside it."""

import ape
import pytest
from ape.exceptions import ContractLogicError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from market_fixtures import COLL, DEPTH, LOAN_DECIMALS, PRICE, RATES, RISK, WAD, rate_tuple, risk_tuple

from oracle import model

DEBT = 10_000 * 10**LOAN_DECIMALS
UNIT = 10**LOAN_DECIMALS
NO_INTEREST = model.RateParams(base=0, slope1=0, slope2=0, kink=RATES.kink)


@pytest.fixture
def frozen(borrowed, admin, borrower, loan_token, liquidator, fund):
    """The borrowed market without interest (rates 0): every view equals what a transaction in a later
    block sees, so expectations are exact. The liquidator holds and approved plenty; the borrower holds
    what it borrowed plus 1 USDC for the interest of the seconds before the freeze (more of them pass on
    a loaded machine)."""
    borrowed.set_rate_params(rate_tuple(NO_INTEREST), sender=admin)
    fund(loan_token, liquidator, 10 * DEBT, borrowed)
    fund(loan_token, borrower, UNIT, borrowed)
    return borrowed


def posted(m):
    """(price, depth) the oracle holds for the market's asset: what the market judges with."""
    price, _sigma, depth, _at, _spread = ape.project.RiskOracle.at(m.ORACLE()).metrics(m.ASSET_ID())
    return price, depth


def expect(lens, m, account, offered, now):
    """The mirror's liquidation of `account` now."""
    p = model.RiskParams(*m.risk_params())
    coll, shares = m.position(account)[0], m.debt_shares(account)
    state = m.state()
    total_debt, total_shares = state.debt_word >> 128, state.debt_word & (2**128 - 1)
    cap_hour, cap_used = (state.state_word >> 20) & 0xFFFF, (state.state_word >> 1) & (2**19 - 1)
    price, depth = posted(m)
    room = model.cap_room(p, cap_hour, cap_used, depth, now)
    return model.engine(
        p, coll, shares, total_debt, total_shares, price, lens.h_maint_of(m, account), lens.h_init_of(m, account),
        offered, room, p.min_debt * UNIT,
    )


def crash(m, post, price, depth=DEPTH):
    post(m.ASSET_ID(), price=price, depth=depth)
    assert posted(m) == (model.round_price(price), model.round_depth(depth))


def check_tx(lens, m, borrower, liquidator, offered, chain):
    """Liquidate and check the event, the position and the lens's quote against the mirror."""
    now = chain.pending_timestamp
    want = expect(lens, m, borrower, offered, now)
    quote = lens.liquidation_quote(m, borrower, offered)
    assert (quote.repaid, quote.seized, quote.bonus, quote.bad_debt, quote.debt_left) == (
        want.repaid, want.seized, want.bonus, want.bad, want.debt_left
    )
    coll_before = m.position(borrower)[0]
    tx = m.liquidate(borrower, offered, sender=liquidator)
    ev = tx.decode_logs(m.Liquidated)[0]
    assert (ev.repaid, ev.seized, ev.shares, ev.bonus) == (want.repaid, want.seized, want.burnt, want.bonus)
    bad = tx.decode_logs(m.BadDebtRealized)
    assert (bad[0].assets, bad[0].shares) == (want.bad, want.bad_shares) if want.bad_shares else not bad
    assert m.position(borrower) == (coll_before - want.seized, want.debt_left)
    return want, tx


def test_a_call_restores_the_target_and_no_more(lens, frozen, borrower, liquidator, post, chain):
    m = frozen
    crash(m, post, PRICE * 56 // 100)  # value 11,200 against 10,000: below the line, not deep
    assert lens.is_liquidatable(m, borrower)
    h_m, h_i = lens.h_maint_of(m, borrower), lens.h_init_of(m, borrower)
    want, _ = check_tx(lens, m, borrower, liquidator, 10 * DEBT, chain)
    assert 0 < want.repaid < DEBT  # partial: a liquidator offering everything gets only what restores health
    coll, debt = m.position(borrower)
    value = model.collateral_value(coll, posted(m)[0])
    h_t = model.target_haircut(model.RiskParams(*m.risk_params()), h_m, h_i)
    assert model.is_healthy(debt, value, h_t)  # the target health is reached
    assert not lens.is_liquidatable(m, borrower)
    # ... and no more: the position ends within 0.1% of the target health
    assert value * (WAD - h_t) // debt <= WAD * 1001 // 1000
    p = model.RiskParams(*m.risk_params())
    with ape.reverts("market: position healthy"):
        m.liquidate(borrower, DEBT, sender=liquidator)
    assert p.bonus_min <= want.bonus < p.bonus


def test_the_bonus_grows_as_health_falls(lens, frozen, borrower, post):
    m = frozen
    p = model.RiskParams(*m.risk_params())
    bonuses = []
    for pct in (57, 55, 52, 48):  # ever deeper below the line
        crash(m, post, PRICE * pct // 100)
        hf = lens.health_factor(m, borrower)
        q = lens.liquidation_quote(m, borrower, UNIT)
        assert q.bonus == model.bonus_at(p, hf)
        bonuses.append(q.bonus)
    assert bonuses == sorted(bonuses) and bonuses[0] < bonuses[-1]
    assert p.bonus_min <= bonuses[0] and bonuses[-1] <= p.bonus
    crash(m, post, PRICE * 40 // 100)  # below the deep line: the most
    assert lens.liquidation_quote(m, borrower, UNIT).bonus == p.bonus


def test_splitting_a_liquidation_never_pays_more(lens, frozen, borrower, liquidator, post, chain):
    m = frozen
    crash(m, post, PRICE * 54 // 100)
    snap = chain.snapshot()
    whole = m.liquidate(borrower, 10 * DEBT, sender=liquidator).decode_logs(m.Liquidated)[0]
    chain.restore(snap)
    parts = []
    left = whole.repaid
    for _ in range(4):
        if left == 0 or not lens.is_liquidatable(m, borrower):
            break
        ev = m.liquidate(borrower, -(-whole.repaid // 4) if left > whole.repaid // 4 else left,
                         sender=liquidator).decode_logs(m.Liquidated)[0]
        parts.append(ev)
        left -= ev.repaid
    assert len(parts) >= 2  # a real split: the first quarter does not restore the target on its own
    repaid = sum(e.repaid for e in parts)
    assert repaid <= whole.repaid
    # per unit repaid the parts pay no more collateral than the one call
    assert sum(e.seized for e in parts) * whole.repaid <= whole.seized * repaid
    assert [e.bonus for e in parts] == sorted([e.bonus for e in parts], reverse=True)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    debt=st.integers(1, 10**15),
    v_over_d=st.integers(WAD // 2, 2 * WAD),
    h_m=st.integers(13 * WAD // 100, 90 * WAD // 100),
    h_gap=st.integers(0, 20 * WAD // 100),
    split=st.integers(1, 99),
)
def test_split_property_on_the_mirror(debt, v_over_d, h_m, h_gap, split):
    """Two calls (the first repaying `split`% of what one call repays) seize no more per unit repaid than
    the one call, for any unhealthy position (the mirror is exact to the contract: tests above)."""
    p = RISK
    value = debt * v_over_d // WAD
    price = model.PRICE_SCALE  # 1 raw collateral unit = 1 raw loan unit
    coll, shares, total_debt, total_shares = value, debt * 10**6, debt, debt * 10**6
    if model.is_healthy(debt, model.collateral_value(coll, price), h_m):
        return
    h_i = min(h_m + h_gap, WAD - 1)
    one = model.engine(p, coll, shares, total_debt, total_shares, price, h_m, h_i, 2**200, model.MAX_VALUE, 0)
    first = model.engine(p, coll, shares, total_debt, total_shares, price, h_m, h_i,
                         max(1, one.repaid * split // 100), model.MAX_VALUE, 0)
    coll2, shares2 = coll - first.seized, shares - first.burnt - first.bad_shares
    td2, ts2 = total_debt - first.repaid - first.bad, total_shares - first.burnt - first.bad_shares
    seized, repaid = first.seized, first.repaid
    if shares2 and not model.is_healthy(model.to_debt(shares2, td2, ts2, True),
                                        model.collateral_value(coll2, price), h_m):
        second = model.engine(p, coll2, shares2, td2, ts2, price, h_m, h_i, one.repaid - first.repaid,
                              model.MAX_VALUE, 0)
        seized, repaid = seized + second.seized, repaid + second.repaid
    assert seized * one.repaid <= one.seized * repaid + one.repaid  # (one wei of rounding per call)


def test_a_deep_position_is_closed_whole_and_its_bad_debt_written_off(
    lens, frozen, borrower, liquidator, lender, post, chain
):
    m = frozen
    crash(m, post, PRICE * 30 // 100)  # value 6,000 against 10,000: nothing partial can save it
    assets = m.totalAssets()
    want, _ = check_tx(lens, m, borrower, liquidator, 10 * DEBT, chain)
    assert want.seized == COLL and want.bad > 0 and m.position(borrower) == (0, 0)
    # the lenders lose what was written off: the event's assets round the written-off shares down, so the
    # loss exceeds them by one raw unit when the debt carries a unit of interest from before the freeze
    assert assets - m.totalAssets() - want.bad in (0, 1)
    assert want.bonus == model.RiskParams(*m.risk_params()).bonus


def test_bad_debt_is_written_off_before_the_collateral_runs_out(lens, frozen, borrower, liquidator, post, chain):
    """A liquidator that repays a part of a deep position: what the rest of the collateral cannot cover
    at the bonus is written off in the same call, not when the collateral reaches zero."""
    m = frozen
    crash(m, post, PRICE * 45 // 100)  # value 9,000 against 10,000
    want, _ = check_tx(lens, m, borrower, liquidator, 2_000 * UNIT, chain)
    assert want.repaid == 2_000 * UNIT and want.bad > 0
    coll, debt = m.position(borrower)
    assert coll > 0 and debt > 0
    # what is left is covered at the bonus: the next liquidator can take it all
    cover = model.collateral_value(coll, posted(m)[0]) * WAD // (WAD + want.bonus)
    assert debt <= cover + 1
    want2, _ = check_tx(lens, m, borrower, liquidator, 10 * DEBT, chain)
    assert want2.bad == 0 and m.position(borrower)[1] == 0


def test_no_bad_debt_while_the_collateral_covers_the_debt(lens, frozen, borrower, liquidator, post, chain):
    m = frozen
    crash(m, post, PRICE * 54 // 100)
    want, tx = check_tx(lens, m, borrower, liquidator, 1_000 * UNIT, chain)
    assert want.bad == 0 and not tx.decode_logs(m.BadDebtRealized)


@pytest.fixture
def dusty(frozen, admin):
    """A market whose positions keep at least 100 loan tokens of debt."""
    frozen.set_risk_params(risk_tuple(RISK.replace(min_debt=100)), sender=admin)
    return frozen


def test_no_borrow_opens_a_dust_debt(dusty, other, coll_token, fund, chain):
    m = dusty
    fund(coll_token, other, COLL, m)
    m.supply_collateral(COLL, other, sender=other)
    # The minimum binds the debt the market reports (rounded up, with the other borrowers' interest in
    # the share price): borrowing 100 UNIT - 1 may already report 100 UNIT, one raw unit less never can.
    with ape.reverts("market: debt below minimum"):
        m.borrow(100 * UNIT - 2, other, sender=other)
    snap = chain.snapshot()
    try:  # 100 UNIT - 1: refused, or taken only when the position then reports the minimum
        m.borrow(100 * UNIT - 1, other, sender=other)
    except ContractLogicError as exc:
        assert "market: debt below minimum" in str(exc)
    else:
        assert m.position(other)[1] >= 100 * UNIT
    chain.restore(snap)
    m.borrow(100 * UNIT, other, sender=other)
    assert m.position(other)[1] >= 100 * UNIT


def test_no_repay_leaves_dust(dusty, borrower):
    m = dusty
    debt = m.position(borrower)[1]
    with ape.reverts("market: would leave dust"):
        m.repay(debt - 100 * UNIT + 1, borrower, sender=borrower)
    m.repay(debt - 100 * UNIT, borrower, sender=borrower)  # exactly the minimum stays
    m.repay(2**256 - 1, borrower, sender=borrower)  # and the whole debt may go
    assert m.position(borrower)[1] == 0


def test_a_liquidation_that_would_leave_dust_takes_it_all(lens, dusty, admin, borrower, liquidator, post, chain):
    m = dusty
    debt = m.position(borrower)[1]
    # a minimum just below the debt: any partial call would leave dust
    m.set_risk_params(risk_tuple(RISK.replace(min_debt=debt // UNIT - 1)), sender=admin)
    crash(m, post, PRICE * 56 // 100)
    with ape.reverts("market: would leave dust"):
        m.liquidate(borrower, 500 * UNIT, sender=liquidator)
    with ape.reverts("market: would leave dust"):
        lens.liquidation_quote(m, borrower, 500 * UNIT)
    want, _ = check_tx(lens, m, borrower, liquidator, debt, chain)
    assert want.repaid == debt and m.position(borrower)[1] == 0


def test_the_hourly_cap_spreads_liquidations(lens, frozen, admin, borrower, other, liquidator, coll_token, fund,
                                            post, chain):
    m = frozen
    # at most 0.02% of the posted depth (10M loan tokens) of collateral value liquidated per hour: 2,000
    p = RISK.replace(liq_cap=2 * 10**14)
    m.set_risk_params(risk_tuple(p), sender=admin)
    fund(coll_token, other, COLL, m)
    m.supply_collateral(COLL, other, sender=other)
    m.borrow(DEBT, other, sender=other)
    chain.pending_timestamp = (chain.pending_timestamp // 3600 + 1) * 3600 + 60  # early in an hour
    crash(m, post, PRICE * 56 // 100)
    room = lens.liquidation_room(m)
    assert room == model.cap_room(p, 0, 0, model.round_depth(DEPTH), chain.pending_timestamp) == 2_000 * UNIT
    uncapped = lens.liquidation_quote(m, borrower, 10 * DEBT).repaid  # (the quote sees the same room)
    want, _ = check_tx(lens, m, borrower, liquidator, 10 * DEBT, chain)
    value = model.collateral_value(want.seized, posted(m)[0])
    assert value <= room and want.repaid == uncapped
    assert lens.liquidation_room(m) <= room - value
    assert lens.is_liquidatable(m, borrower)  # the cap, not the target, ended the call
    # the second position gets what is left of this hour's room, then the cap stops it
    while lens.liquidation_room(m) * WAD // (WAD + p.bonus) > 0 and lens.is_liquidatable(m, other):
        check_tx(lens, m, other, liquidator, 10 * DEBT, chain)
    assert lens.is_liquidatable(m, other)
    with ape.reverts("market: liquidation cap reached"):
        m.liquidate(other, 10 * DEBT, sender=liquidator)
    assert lens.liquidation_quote(m, other, 10 * DEBT).repaid == 0
    # the next hour the room is back
    chain.pending_timestamp = (chain.pending_timestamp // 3600 + 1) * 3600
    chain.mine()
    assert lens.liquidation_room(m) == room
    check_tx(lens, m, other, liquidator, 10 * DEBT, chain)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(pct=st.integers(25, 64), offered_frac=st.integers(1, 150))
def test_lens_quote_is_the_mirror_on_random_crashes(lens, frozen, borrower, post, pct, offered_frac):
    m = frozen
    crash(m, post, PRICE * pct // 100)
    offered = DEBT * offered_frac // 100
    if not lens.is_liquidatable(m, borrower):
        assert lens.liquidation_quote(m, borrower, offered).repaid == 0
        return
    want = expect(lens, m, borrower, offered, ape.chain.blocks.head.timestamp)
    q = lens.liquidation_quote(m, borrower, offered)
    assert (q.repaid, q.seized, q.bonus, q.bad_debt, q.debt_left) == (
        want.repaid, want.seized, want.bonus, want.bad, want.debt_left
    )
