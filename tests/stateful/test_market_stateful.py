"""Stateful Hypothesis campaign against the real Market, RiskOracle and tokens on anvil.

Random sequences of lender deposits and redemptions, collateral supplies and withdrawals, borrows,
repayments, keeper posts (price moves, volatility spikes and calm-downs, clipped to the oracle
guardrails by the keeper's own `model.clip_update`), time passing (interest, ramp, staleness) and
liquidations. After every step the invariants below must hold.

`make test` runs a short campaign (BALLAST_FUZZ_EXAMPLES, default 4 sequences of up to 20 steps);
`make fuzz` runs a long one.
"""

import os
import typing

import ape
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from market_fixtures import COLL_DECIMALS, DEPTH, LOAN_DECIMALS, PRICE, SIGMA

from oracle import model

WAD = model.WAD
EXAMPLES = int(os.environ.get("BALLAST_FUZZ_EXAMPLES", "4"))
STEPS = int(os.environ.get("BALLAST_FUZZ_STEPS", "20"))
GUARD = model.GuardParams()


class MarketMachine(RuleBasedStateMachine):
    # bound by the test function below before the run
    ctx: typing.ClassVar[dict] = {}

    def __init__(self):
        super().__init__()
        c = self.ctx
        self.chain = c["chain"]
        self.snap = self.chain.snapshot()
        self.market, self.oracle, self.keeper = c["market"], c["oracle"], c["keeper"]
        self.loan, self.coll = c["loan"], c["coll"]
        self.lender, self.borrowers, self.liquidator = c["lender"], c["borrowers"], c["liquidator"]
        self.asset_id = self.market.ASSET_ID()
        self.params = model.RiskParams(*self.market.risk_params())
        self.liquidations = 0

    def teardown(self):
        self.chain.restore(self.snap)

    # -- helpers ---------------------------------------------------------------------------------

    def _post(self, price: int, sigma: int, depth: int):
        _, old_sigma, old_depth, old_at = self.oracle.metrics(self.asset_id)
        at = max(self.chain.pending_timestamp, old_at + 1)
        self.chain.pending_timestamp = at
        sigma, depth = model.clip_update(old_sigma, old_depth, at - old_at, sigma, depth, GUARD)
        word = model.pack_update(self.asset_id, price, depth, sigma)
        self.oracle.post(at, at + 3_600, [word], sender=self.keeper)

    def _init_margin(self, account, extra_debt=0, less_collateral=0) -> float:
        """(limit - debt) / limit under H_init after the change, from the model mirror and on-chain
        inputs: > 0 means the market should accept, < 0 refuse. Near 0 either is fine (the action's own
        interest accrual and rate change move the line by a hair)."""
        coll, debt = self.market.position(account)
        price, sigma, depth, observed_at = self.oracle.metrics(self.asset_id)
        now = self.chain.pending_timestamp
        p = self.params
        eff = model.effective_sigma(sigma, observed_at, now, p.stale_after, p.stale_sigma)
        value = model.collateral_value(max(coll - less_collateral, 0), price)
        h = model.h_init(p, eff, self.market.borrow_rate(), value, depth)
        limit = value * (WAD - h) // WAD
        if limit == 0:
            return -1.0
        return (limit - debt - extra_debt) / limit

    def _stale(self) -> bool:
        observed_at = self.oracle.metrics(self.asset_id)[3]
        return self.chain.pending_timestamp - observed_at > self.params.stale_after

    # -- rules -----------------------------------------------------------------------------------

    @initialize()
    def start(self):
        amount = 2_000_000 * 10**LOAN_DECIMALS
        self.loan.mint(self.lender, amount, sender=self.lender)
        self.loan.approve(self.market, 2**256 - 1, sender=self.lender)
        self.market.deposit(amount // 2, self.lender, sender=self.lender)
        for b in self.borrowers:
            self.coll.mint(b, 1_000 * 10**COLL_DECIMALS, sender=b)
            self.coll.approve(self.market, 2**256 - 1, sender=b)
            self.loan.mint(b, 1_000_000 * 10**LOAN_DECIMALS, sender=b)
            self.loan.approve(self.market, 2**256 - 1, sender=b)
        self.loan.mint(self.liquidator, 10**9 * 10**LOAN_DECIMALS, sender=self.liquidator)
        self.loan.approve(self.market, 2**256 - 1, sender=self.liquidator)
        self._post(PRICE, SIGMA, DEPTH)

    @rule(fraction=st.integers(1, 100))
    def lender_deposit(self, fraction):
        amount = self.loan.balanceOf(self.lender) * fraction // 100
        if amount:
            self.market.deposit(amount, self.lender, sender=self.lender)

    @rule(fraction=st.integers(1, 100))
    def lender_redeem(self, fraction):
        shares = min(self.market.maxRedeem(self.lender), self.market.balanceOf(self.lender) * fraction // 100)
        if shares:
            self.market.redeem(shares, self.lender, self.lender, sender=self.lender)

    @rule(i=st.integers(0, 2), amount=st.integers(1, 50 * 10**COLL_DECIMALS))
    def supply_collateral(self, i, amount):
        b = self.borrowers[i]
        before = self.market.position(b)[0]
        self.market.supply_collateral(amount, b, sender=b)
        assert self.market.position(b)[0] == before + amount

    @rule(i=st.integers(0, 2), fraction=st.integers(1, 130))
    def borrow(self, i, fraction):
        """Borrow up to 130% of max_borrowable: well beyond the H_init limit the market must refuse."""
        b = self.borrowers[i]
        limit = self.market.max_borrowable(b)
        amount = max(1, limit * fraction // 100)
        if self._stale():
            with ape.reverts("market: stale risk data"):
                self.market.borrow(amount, b, sender=b)
            return
        margin = self._init_margin(b, extra_debt=amount)
        if margin < -0.01 or amount > self.market.idle():
            with ape.reverts():
                self.market.borrow(amount, b, sender=b)
        elif margin > 0.01:
            self.market.borrow(amount, b, sender=b)

    @rule(i=st.integers(0, 2), fraction=st.integers(1, 100))
    def repay(self, i, fraction):
        b = self.borrowers[i]
        debt = self.market.position(b)[1]
        if debt:
            self.market.repay(max(1, debt * fraction // 100), b, sender=b)
            assert self.market.position(b)[1] <= debt

    @rule(i=st.integers(0, 2), fraction=st.integers(1, 100))
    def withdraw_collateral(self, i, fraction):
        """Withdrawals that would leave the position beyond its H_init limit are refused; only
        liquidation may take collateral from an unhealthy position."""
        b = self.borrowers[i]
        coll, debt = self.market.position(b)
        amount = coll * fraction // 100
        if amount == 0:
            return
        if debt == 0:
            self.market.withdraw_collateral(amount, b, sender=b)
            return
        if self._stale():
            with ape.reverts("market: stale risk data"):
                self.market.withdraw_collateral(amount, b, sender=b)
            return
        margin = self._init_margin(b, less_collateral=amount)
        if margin < -0.01:
            with ape.reverts("market: unhealthy after action"):
                self.market.withdraw_collateral(amount, b, sender=b)
        elif margin > 0.01:
            self.market.withdraw_collateral(amount, b, sender=b)
            assert self.market.position(b)[0] == coll - amount

    @rule(move=st.integers(-30, 20), sigma_mult=st.sampled_from([25, 50, 100, 100, 200, 400]))
    def keeper_posts(self, move, sigma_mult):
        price, sigma, depth, _ = self.oracle.metrics(self.asset_id)
        new_price = max(1, price * (100 + move) // 100)
        new_sigma = max(model.WAD // 50, sigma * sigma_mult // 100)
        new_depth = depth * (100 + move) // 100 if move < 0 else depth * 105 // 100
        self._post(new_price, new_sigma, max(1, new_depth))

    @rule(hours=st.integers(1, 12))
    def time_passes(self, hours):
        self.chain.pending_timestamp += hours * 3_600
        self.chain.mine()

    @rule(i=st.integers(0, 2), fraction=st.integers(1, 100))
    def liquidate(self, i, fraction):
        b = self.borrowers[i]
        debt = self.market.position(b)[1]
        amount = max(1, debt * fraction // 100)
        if self.market.is_liquidatable(b):
            self.market.liquidate(b, amount, sender=self.liquidator)
            self.liquidations += 1
        elif debt:
            with ape.reverts("market: position healthy"):
                self.market.liquidate(b, amount, sender=self.liquidator)

    # -- invariants ------------------------------------------------------------------------------

    @invariant()
    def tokens_cover_claims(self):
        m = self.market
        assert self.loan.balanceOf(m) == m.idle()
        assert self.coll.balanceOf(m) == sum(m.position(b)[0] for b in self.borrowers)

    @invariant()
    def shares_sum_to_totals(self):
        m = self.market
        assert sum(m.debt_shares(b) for b in self.borrowers) == m.total_debt_shares()
        assert m.balanceOf(self.lender) == m.totalSupply()

    @invariant()
    def total_assets_add_up(self):
        m = self.market
        assert m.totalAssets() == m.idle() + m.total_debt()
        # each position's debt rounds up; together they are never below the accounted total by more
        # than one unit per position
        debts = sum(m.position(b)[1] for b in self.borrowers)
        assert debts + len(self.borrowers) >= m.total_debt()

    @invariant()
    def haircuts_match_the_model(self):
        m = self.market
        price, _, depth, _ = self.oracle.metrics(self.asset_id)
        base = m.maint_base()
        maint_depth = m.maint_depth()
        assert maint_depth >= depth  # the ramped depth never undercuts the posted one
        h_init_floor = m.required_ratio(0, True)
        assert h_init_floor >= m.required_ratio(0, False)  # new risk never cheaper than maintenance
        for b in self.borrowers:
            value = m.position(b)[0] * price // WAD
            assert m.h_maint_of(b) == model.h_maint(self.params, base, value, maint_depth)
            assert m.h_init_of(b) >= m.h_maint_of(b)


@pytest.mark.parametrize("seed", [0])
def test_market_campaign(seed, chain, market, risk_oracle, keeper, loan_token, coll_token, lender, accounts,
                         liquidator):
    MarketMachine.ctx = {
        "chain": chain, "market": market, "oracle": risk_oracle, "keeper": keeper, "loan": loan_token,
        "coll": coll_token, "lender": lender, "borrowers": [accounts[4], accounts[8], accounts[9]],
        "liquidator": liquidator,
    }
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(
        MarketMachine,
        settings=settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
                          suppress_health_check=list(HealthCheck), derandomize=seed == 0),
    )
