"""End to end on anvil, real contracts and accounts: a lender supplies, a borrower borrows near H_init,
the keeper posts a volatility spike, the position's required ratio rises at the ramp's pace hour by
hour, a liquidator liquidates once it is unhealthy, and the books balance to the wei against an
independent replay of the accrual with oracle.model."""

import itertools

from market_fixtures import COLL, DEPTH, PRICE, RATES, RISK, WAD

from oracle import model

CALM = 3 * WAD // 2  # 150%: H_init above its floor
SPIKE = 4 * WAD  # 400%
DEPOSIT = 100_000 * 10**6


class Books:
    """Replay of the market totals from the receipts alone (oracle.model), independent of the contract."""

    def __init__(self):
        self.debt = self.idle = self.last = self.interest = self.bad = 0

    def accrue(self, ts):
        if self.last and self.debt:
            after = model.accrue(self.debt, model.market_rate(self.debt, self.idle, RATES), ts - self.last)
            self.interest += after - self.debt
            self.debt = after
        self.last = ts


def test_spike_ramp_liquidation_and_books(
    market, lens, loan_token, coll_token, lender, borrower, liquidator, keeper, risk_oracle, fund, post, chain
):
    m = market
    books = Books()

    def ts(tx):
        return chain.blocks[tx.block_number].timestamp

    # the keeper posts calm data and pokes the market; the lender supplies
    post(m.ASSET_ID(), sigma=CALM)
    m.poke(sender=keeper)
    fund(loan_token, lender, DEPOSIT, m)
    tx = m.deposit(DEPOSIT, lender, sender=lender)
    books.accrue(ts(tx))
    books.idle += DEPOSIT

    # the borrower supplies collateral and borrows near H_init
    fund(coll_token, borrower, COLL, m)
    m.supply_collateral(COLL, borrower, sender=borrower)
    limit = lens.max_borrowable(m, borrower)
    amount = limit * 999 // 1_000  # just under (the borrow itself raises the rate a little)
    tx = m.borrow(amount, borrower, sender=borrower)
    books.accrue(ts(tx))
    books.debt += amount
    books.idle -= amount
    assert m.total_debt() == books.debt
    value = model.collateral_value(COLL, PRICE)
    h_init_calm = lens.h_init_of(m, borrower)
    assert h_init_calm == model.h_init(RISK, CALM, lens.risk_rate(m), value, DEPTH) > RISK.h_min
    assert not lens.is_liquidatable(m, borrower)

    # the keeper posts a volatility spike: H_init jumps at once, H_maint ramps
    base0 = lens.maint_base(m)
    tx = post(m.ASSET_ID(), sigma=SPIKE)
    assert tx.sender == keeper.address
    tx = m.poke(sender=keeper)  # the keeper pokes the market right after posting: the ramp starts now
    books.accrue(ts(tx))
    base1 = lens.maint_base(m)
    # no tightening in the spike's block: at most the seconds between the observation and the poke
    # (0 when they share a block, a second or two on a loaded machine)
    spike_at = risk_oracle.metrics(m.ASSET_ID())[3]
    assert base1 <= base0 + RISK.ramp_per_hour * (lens.ramp_at(m) - spike_at) // 3_600
    assert lens.h_init_of(m, borrower) == model.h_init(RISK, SPIKE, lens.risk_rate(m), value, DEPTH) > h_init_calm
    assert lens.max_borrowable(m, borrower) == 0
    target = model.maint_base_target(RISK, SPIKE, lens.risk_rate(m))
    assert target - base1 > 4 * RISK.ramp_per_hour
    # what the poke saw: the rise above the base (the ramp word's gap); a rise ramps from the poke that
    # first sees it, and no further than what the last poke saw
    gap = ((int(m.state().ramp_word) >> 32) & (2**32 - 1)) * 10**9
    assert gap == (target - base1) // 10**9 * 10**9
    ramp = model.RampState(value=base1, updated_at=lens.ramp_at(m), depth=lens.maint_depth(m), base_gap=gap)
    assert ramp.ramping and lens.ramping(m)

    def ramped_base(at: int, target: int) -> int:
        """The maintenance base a poke at `at` would leave (nothing pokes the market after the spike)."""
        return model.ramp_poke(ramp.value, ramp.base_gap, ramp.depth, ramp.depth_gap, at - ramp.updated_at, target,
                               DEPTH, RISK.ramp_per_hour, RISK.h_max)[0]  # fmt: skip

    ratios, hours_to_unhealthy = [lens.required_ratio(m, COLL, False)], None
    for hour in range(1, 7):
        chain.pending_timestamp += 3_600
        post(m.ASSET_ID(), sigma=SPIKE)  # the keeper keeps the data fresh each hour
        chain.mine()
        now = chain.blocks.head.timestamp
        expected_base = ramped_base(now, model.maint_base_target(RISK, SPIKE, lens.risk_rate(m)))
        assert lens.maint_base(m) == expected_base
        assert lens.h_maint_of(m, borrower) == model.h_maint(RISK, expected_base, value, DEPTH)
        ratios.append(lens.required_ratio(m, COLL, False))
        assert ratios[-1] == model.collateral_ratio(model.h_maint(RISK, expected_base, value, DEPTH))
        # at most ramp_per_hour more haircut per hour since the spike
        assert expected_base - base1 <= RISK.ramp_per_hour * (now - ramp.updated_at) // 3_600
        if lens.is_liquidatable(m, borrower):
            hours_to_unhealthy = hour
            break
    assert all(b >= a for a, b in itertools.pairwise(ratios)) and ratios[-1] > ratios[0]
    assert hours_to_unhealthy is not None and hours_to_unhealthy >= 2, "a spike must not liquidate at once"
    assert lens.health_factor(m, borrower) < WAD

    # the liquidator repays a fifth of the debt
    debt = m.position(borrower)[1]
    fund(loan_token, liquidator, debt, m)
    hf_before = lens.health_factor(m, borrower)
    shares_before, total_shares = m.debt_shares(borrower), lens.total_debt_shares(m)
    target_now = model.maint_base_target(RISK, SPIKE, lens.risk_rate(m))
    chain.pending_timestamp = chain.blocks.head.timestamp + 1  # the call lands one second after the read
    tx = m.liquidate(borrower, debt // 5, sender=liquidator)
    books.accrue(ts(tx))
    ev = tx.decode_logs(m.Liquidated)[0]
    # just below the line the engine pays the bonus of the curve (bonus_min up to bonus as health falls),
    # at the health of the call's block: the ramp as a poke then would leave it (it moves every second:
    # a second later the bonus is 2.4e12 wei higher) and the debt with the interest to then
    base_at = ramped_base(ts(tx), target_now)
    debt_at = model.to_debt(shares_before, books.debt, total_shares, True)
    hf_at = model.health_factor(debt_at, value, model.h_maint(RISK, base_at, value, DEPTH))
    assert hf_at < hf_before < WAD
    assert ev.bonus == model.bonus_at(RISK, hf_at) and RISK.bonus_min <= ev.bonus < RISK.bonus
    assert ev.seized == model.seized_collateral(ev.repaid, PRICE, ev.bonus, COLL)
    assert coll_token.balanceOf(liquidator) == ev.seized
    books.debt -= ev.repaid
    books.idle += ev.repaid
    for bad in tx.decode_logs(m.BadDebtRealized):
        books.debt -= bad.assets
        books.bad += bad.assets
    assert lens.health_factor(m, borrower) > hf_before

    # the books balance to the wei
    assert m.total_debt() == books.debt
    assert lens.idle(m) == books.idle
    assert loan_token.balanceOf(m) == lens.idle(m)
    coll_left = m.position(borrower)[0]
    assert coll_token.balanceOf(m) == coll_left == COLL - ev.seized
    assert m.totalAssets() == lens.idle(m) + m.total_debt() == DEPOSIT + books.interest - books.bad
    assert books.interest > 0
    # the lender's claim is the whole of totalAssets, less the virtual share's sliver
    claim = m.convertToAssets(m.balanceOf(lender))
    assert m.totalAssets() - 1 <= claim <= m.totalAssets()
