"""The liquidation bot: the repay size (pure), one round on real contracts, the CLI against the same node."""

import json

import pytest
from cli_helpers import run_cli

from oracle import liquidator as bot
from oracle import model

WAD = model.WAD


def test_gas_is_priced_in_loan_tokens_and_rounds_against_the_bot():
    # 100,000 gas at 10 gwei = 0.001 ETH; at 2,000 USDC (6 decimals) per ETH: 2 USDC
    per_native = 2_000 * 10**6 * model.PRICE_SCALE
    assert bot.gas_in_loan(100_000, 10 * 10**9, per_native) == 2 * 10**6
    assert bot.gas_in_loan(1, 1, per_native) == 1  # a wei of gas still costs a raw unit
    assert bot.gas_in_loan(100_000, 10 * 10**9, 0) == 0


def test_a_liquidation_pays_only_after_gas_and_the_minimum():
    assert bot.profit_after_gas(seized_value=1_050, repaid=1_000, gas_cost=30) >= 20
    assert not bot.profit_after_gas(seized_value=1_050, repaid=1_000, gas_cost=31) >= 20
    assert not bot.profit_after_gas(seized_value=1_000, repaid=1_000, gas_cost=0) >= 1


@pytest.fixture
def system(project, deployed, lens_of, post_metrics):
    dep = deployed
    oracle, market = project.RiskOracle.at(dep.oracle), project.Market.at(dep.market)
    loan, coll = project.MockERC20.at(dep.loan_token), project.MockERC20.at(dep.collateral_token)
    return dep, oracle, market, loan, coll, lens_of, post_metrics


PRICE = model.price_from_human(2_000, 6, 18)  # 2,000 loan tokens (6 decimals) per collateral token (18)


def open_positions(system, admin, lender, borrower, other):
    _, _, market, loan, coll, lens, post = system
    post(PRICE, WAD // 2, 10**12)
    loan.mint(lender, 10**12, sender=admin)
    loan.approve(market, 10**12, sender=lender)
    market.deposit(10**12, lender, sender=lender)
    for acct, frac in ((borrower, 0.99), (other, 0.5)):
        coll.mint(acct, 10 * WAD, sender=admin)
        coll.approve(market, 10 * WAD, sender=acct)
        market.supply_collateral(10 * WAD, acct, sender=acct)
        market.borrow(int(lens.max_borrowable(market, acct) * frac), acct, sender=acct)
    # An 8% drop makes the 99% borrower unhealthy (H_init's floor h_min + init_gap = 0.18 sits 5 points
    # above H_maint's h_min = 0.13 here), not the 50% one.
    post(PRICE * 92 // 100, WAD // 2, 10**12)


def test_round_liquidates_only_the_unhealthy_and_restores_health(
    system, project, admin, lender, borrower, other, liquidator, chain
):
    dep, _, market, loan, _, lens, _ = system
    snap = chain.snapshot()
    try:
        open_positions(system, admin, lender, borrower, other)
        assert lens.is_liquidatable(market, borrower) and not lens.is_liquidatable(market, other)
        loan.mint(liquidator, 10**12, sender=admin)
        shares_other = market.debt_shares(other)
        done = bot.liquidate_round(market, project, liquidator, lens=dep.lens)
        assert [x.borrower for x in done] == [borrower.address]
        assert not done[0].full and done[0].seized > 0
        assert not lens.is_liquidatable(market, borrower)
        assert market.position(borrower)[1] > 0  # partial: health restored, not wiped out
        assert market.debt_shares(other) == shares_other  # untouched (its debt still accrues interest)
        assert bot.liquidate_round(market, project, liquidator, lens=dep.lens) == []  # nothing left to do
    finally:
        chain.restore(snap)


def test_round_takes_what_the_quote_says_and_skips_what_does_not_pay(
    system, project, admin, lender, borrower, other, liquidator, chain
):
    """The bot offers the whole debt; the engine takes what the lens quoted. A minimum profit above what
    the bonus pays makes the bot send nothing."""
    from oracle.views import MarketReader

    dep, _, market, loan, _, lens, _ = system
    snap = chain.snapshot()
    try:
        open_positions(system, admin, lender, borrower, other)
        loan.mint(liquidator, 10**12, sender=admin)
        reader = MarketReader.of(project, market, dep.lens)
        debt = market.position(borrower)[1]
        repaid, seized, bonus, bad, _left = reader.quote(borrower.address, debt * 2)
        assert 0 < repaid < debt and seized > 0 and bad == 0  # partial: what restores the target
        p = model.RiskParams()
        assert p.bonus_min <= bonus <= p.bonus
        assert seized == model.seized_collateral(repaid, reader.price(), bonus, market.position(borrower)[0])
        profit = reader.value(seized) - repaid
        assert profit > 0
        nonce = liquidator.nonce
        assert bot.liquidate_round(market, project, liquidator, reader=reader, min_profit=10 * profit,
                                   native_price=0) == []  # fmt: skip
        assert lens.is_liquidatable(market, borrower)
        sent = liquidator.nonce - nonce  # a poke of the moving ramp at most, no liquidation
        assert sent <= 1
        done = bot.liquidate_round(market, project, liquidator, reader=reader, native_price=0)
        assert [(x.borrower, x.bad_debt, x.full) for x in done] == [(borrower.address, 0, False)]
        assert 0 < done[0].repaid < debt and not lens.is_liquidatable(market, borrower)
    finally:
        chain.restore(snap)


def test_round_scans_pages_of_the_lens(system, project, admin, lender, borrower, other, liquidator, chain):
    """Two borrowers read one per page: the second page is read too."""
    from oracle.views import MarketReader

    dep, _, market, loan, _, _, _ = system
    snap = chain.snapshot()
    try:
        open_positions(system, admin, lender, borrower, other)
        loan.mint(liquidator, 10**12, sender=admin)
        reader = MarketReader.of(project, market, dep.lens)
        rows = reader.scan(batch=1)
        assert [r[0] for r in rows] == [borrower.address, other.address]
        assert [r[4] for r in rows] == [True, False] and rows[0][3] < WAD < rows[1][3]
        done = bot.liquidate_round(market, project, liquidator, batch=1, reader=reader)
        assert [x.borrower for x in done] == [borrower.address]
    finally:
        chain.restore(snap)


def test_round_pokes_a_market_whose_ramp_is_moving(system, project, admin, lender, borrower, other, liquidator,
                                                   chain):  # fmt: skip
    """A spike of sigma tightens the maintenance base at a bounded pace, and only when the market is poked:
    the bot pokes while `MarketLens.ramping`; a dry run only says it would."""
    dep, _, market, loan, _, lens, post = system
    snap = chain.snapshot()
    try:
        open_positions(system, admin, lender, borrower, other)
        market.poke(sender=liquidator)
        assert not lens.ramping(market)
        post(PRICE * 97 // 100, 3 * WAD, 10**12)  # sigma 50% -> 300%: the target rises
        assert lens.ramping(market)
        market.poke(sender=other)  # the keeper's poke after its post: the rise's ramp starts here
        chain.pending_timestamp += 1_800
        chain.mine()
        loan.mint(liquidator, 10**12, sender=admin)
        base, start = lens.maint_base(market), chain.blocks.head.number
        bot.liquidate_round(market, project, liquidator, lens=dep.lens, dry_run=True)
        assert calls(chain, liquidator, start) == []  # a dry run sends nothing, not even a poke
        chain.pending_timestamp += 60  # the poke lands a minute after the read (not in the same second)
        bot.liquidate_round(market, project, liquidator, lens=dep.lens)
        assert calls(chain, liquidator, start)[0] == "poke"  # first the poke, then any liquidation
        assert lens.maint_base(market) > base  # the ramp moved
    finally:
        chain.restore(snap)


def calls(chain, account, start: int) -> list[str]:
    """Names of the Market / token methods `account` called in the blocks after `start`."""
    from eth_utils import keccak

    names = {keccak(text=sig)[:4]: sig.split("(")[0] for sig in ("poke()", "liquidate(address,uint256)",
                                                                  "approve(address,uint256)")}  # fmt: skip
    out = []
    for number in range(start + 1, chain.blocks.head.number + 1):
        for tx in chain.provider.web3.eth.get_block(number, full_transactions=True).transactions:
            if tx["from"] == account.address:
                out.append(names.get(bytes(tx["input"][:4]), "other"))
    return out


def test_cli_bot_once_and_position_view_on_the_same_node(
    system, project, admin, lender, borrower, other, liquidator, chain
):
    dep, _, market, loan, _, lens, _ = system
    snap = chain.snapshot()
    try:
        open_positions(system, admin, lender, borrower, other)
        loan.mint(liquidator, 10**12, sender=admin)
        view = _cli(["position", "--network", "ethereum:local:foundry", "--market", dep.market, "--lens", dep.lens,
                     "--json", borrower.address], chain.provider)  # fmt: skip
        assert view.returncode == 0, view.stderr
        assert '"liquidatable": true' in view.stdout
        proc = _bot_once(dep.market, dep.lens, chain.provider)
        assert proc.returncode == 0, proc.stderr
        done = [json.loads(ln) for ln in proc.stderr.splitlines() if '"round_done"' in ln]
        assert len(done) == 1 and done[0]["liquidations"] == 1, proc.stderr
        assert not lens.is_liquidatable(market, borrower)
        bad = _bot_once(dep.oracle, dep.lens, chain.provider)  # not a market
        assert bad.returncode == 1 and "ballast: error: no Ballast market at" in bad.stderr
    finally:
        chain.restore(snap)


def test_round_without_loan_tokens_is_fatal_in_one_line(
    system, project, admin, lender, borrower, other, attacker, chain
):
    from oracle.errors import BallastError

    dep, _, market, _, _, lens, _ = system
    snap = chain.snapshot()
    try:
        open_positions(system, admin, lender, borrower, other)
        with pytest.raises(BallastError, match="holds no loan token"):
            bot.liquidate_round(market, project, attacker, lens=dep.lens)
        assert lens.is_liquidatable(market, borrower)
    finally:
        chain.restore(snap)


def _cli(args, provider):
    return run_cli(["ballast", *args], env_extra={"APE_FOUNDRY_HOST": provider.uri}, timeout=120)


def _bot_once(market, lens, provider):
    """One round of `ballast bot run` as the liquidator (test account 5) on this node."""
    args = ["bot", "run", "--network", "ethereum:local:foundry", "--account", "TEST::5"]
    return _cli([*args, "--market", market, "--lens", lens, "--once"], provider)


def test_the_fast_scan_equals_the_lens_row_for_row(system, project, accounts, admin, lender, borrower, other,
                                                   chain):  # fmt: skip
    """`MarketReader.scan` reads raw pages and judges each position with oracle.model; `scan_lens` asks the
    lens. They agree exactly: positions of every size (the largest past the posted depth, so that the
    liquidity term counts), one with collateral and no debt, while the ramp moves after a spike, and once
    the data is stale (the stressed sigma)."""
    from oracle.views import MarketReader

    dep, _, market, _, coll, lens, post = system
    snap = chain.snapshot()
    try:
        open_positions(system, admin, lender, borrower, other)
        post(PRICE * 92 // 100, WAD // 2, 10**10)  # depth 10,000 USDC
        for i, (weth, frac) in enumerate(((1, 0.97), (37, 0.6), (500, 0.9), (3, 0.0), (2, 0.999))):
            acct = accounts.generate_test_account()
            admin.transfer(acct, 10**18)
            coll.mint(acct, weth * WAD, sender=admin)
            coll.approve(market, weth * WAD, sender=acct)
            market.supply_collateral(weth * WAD, acct, sender=acct)
            if frac:
                market.borrow(int(lens.max_borrowable(market, acct) * frac), acct, sender=acct)
        reader = MarketReader.of(project, market, dep.lens)
        states = []
        for step in ("opened", "spike", "stale", "ramp moving"):
            if step == "spike":
                post(PRICE * 91 // 100, 2 * WAD, 10**10)
            elif step == "stale":  # the stressed sigma raises the target; the next poke starts the ramp
                chain.pending_timestamp = chain.blocks.head.timestamp + 5 * 3_600
                market.poke(sender=admin)
            elif step == "ramp moving":
                chain.pending_timestamp = chain.blocks.head.timestamp + 3 * 3_600
                chain.mine()
            fast, slow = reader.scan(), reader.scan_lens()
            assert fast == slow, step
            assert reader.scan(batch=2, workers=3) == slow, step
            states.append(sum(r[4] for r in fast))
        assert len(slow) == 7 and states[0] < states[-1]  # the run did move positions over the line
        assert any(r[2] == 0 and not r[4] for r in slow)
    finally:
        chain.restore(snap)
