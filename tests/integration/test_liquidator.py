"""The liquidation bot: the repay size (pure), one round on real contracts, the CLI against the same node."""

import json

import pytest
from cli_helpers import run_cli

from oracle import liquidator as bot
from oracle import model

WAD = model.WAD


def test_repay_to_restore_restores_health_exactly_enough():
    value, debt, h, bonus = 100_000 * 10**6, 95_000 * 10**6, WAD // 10, WAD // 20

    def healthy_after(repay):
        return (debt - repay) * WAD <= (value * WAD - repay * (WAD + bonus)) * (WAD - h) // WAD

    repay = bot.repay_to_restore(value, debt, h, bonus, margin_bps=0)
    assert healthy_after(repay)
    assert not healthy_after(repay * 999 // 1000)  # and not much more than needed
    assert bot.repay_to_restore(value, debt, h, bonus) == repay + repay * bot.MARGIN_BPS // 10_000


def test_repay_to_restore_healthy_and_underwater():
    assert bot.repay_to_restore(100_000, 80_000, WAD // 10, WAD // 20) == 0
    assert bot.repay_to_restore(100_000, 0, WAD // 10, WAD // 20) == 0
    assert bot.repay_to_restore(100_000, 120_000, WAD // 10, WAD // 20) == 120_000  # cannot be saved
    assert bot.repay_to_restore(100_000, 99_500, WAD // 100, WAD // 20) == 99_500  # H too small for the bonus


@pytest.fixture(scope="module")
def system(project, deployed):
    dep = deployed
    oracle, market = project.RiskOracle.at(dep.oracle), project.Market.at(dep.market)
    loan, coll = project.MockERC20.at(dep.loan_token), project.MockERC20.at(dep.collateral_token)
    return dep, oracle, market, loan, coll


def post(oracle, keeper, chain, asset_id, price, sigma, depth):
    now = chain.blocks.head.timestamp
    oracle.post(now, now + 3600, [model.pack_update(asset_id, price, depth, sigma)], sender=keeper)


def open_positions(system, admin, keeper, lender, borrower, other, chain):
    dep, oracle, market, loan, coll = system
    price = 2_000 * 10**6  # 2000 loan raw units (6 dec) per 1e18 collateral raw units, WAD-scaled
    post(oracle, keeper, chain, dep.asset_id, price, WAD // 2, 10**12)
    loan.mint(lender, 10**12, sender=admin)
    loan.approve(market, 10**12, sender=lender)
    market.deposit(10**12, lender, sender=lender)
    for acct, frac in ((borrower, 0.99), (other, 0.5)):
        coll.mint(acct, 10 * WAD, sender=admin)
        coll.approve(market, 10 * WAD, sender=acct)
        market.supply_collateral(10 * WAD, acct, sender=acct)
        market.borrow(int(market.max_borrowable(acct) * frac), acct, sender=acct)
    # A 3% drop makes the 99% borrower unhealthy (H_maint = H_init = h_min here), not the 50% one.
    chain.pending_timestamp += 600
    chain.mine()
    post(oracle, keeper, chain, dep.asset_id, price * 97 // 100, WAD // 2, 10**12)


def test_round_liquidates_only_the_unhealthy_and_restores_health(
    system, project, admin, keeper, lender, borrower, other, liquidator, chain
):
    _, _, market, loan, _ = system
    snap = chain.snapshot()
    try:
        open_positions(system, admin, keeper, lender, borrower, other, chain)
        assert market.is_liquidatable(borrower) and not market.is_liquidatable(other)
        loan.mint(liquidator, 10**12, sender=admin)
        shares_other = market.debt_shares(other)
        done = bot.liquidate_round(market, project, liquidator)
        assert [x.borrower for x in done] == [borrower.address]
        assert not done[0].full and done[0].seized > 0
        assert not market.is_liquidatable(borrower)
        assert market.position(borrower)[1] > 0  # partial: health restored, not wiped out
        assert market.debt_shares(other) == shares_other  # untouched (its debt still accrues interest)
        assert bot.liquidate_round(market, project, liquidator) == []  # nothing left to do
    finally:
        chain.restore(snap)


def test_cli_bot_once_and_position_view_on_the_same_node(
    system, project, admin, keeper, lender, borrower, other, liquidator, chain
):
    dep, _, market, loan, _ = system
    snap = chain.snapshot()
    try:
        open_positions(system, admin, keeper, lender, borrower, other, chain)
        loan.mint(liquidator, 10**12, sender=admin)
        view = _cli(
            [
                "position",
                "--network",
                "ethereum:local:foundry",
                "--market",
                dep.market,
                "--json",
                borrower.address,
            ],
            chain.provider,
        )
        assert view.returncode == 0, view.stderr
        assert '"liquidatable": true' in view.stdout
        proc = _bot_once(dep.market, chain.provider)
        assert proc.returncode == 0, proc.stderr
        done = [json.loads(ln) for ln in proc.stderr.splitlines() if '"round_done"' in ln]
        assert len(done) == 1 and done[0]["liquidations"] == 1, proc.stderr
        assert not market.is_liquidatable(borrower)
        bad = _bot_once(dep.oracle, chain.provider)  # not a market
        assert bad.returncode == 1 and "ballast: error: no Ballast market at" in bad.stderr
    finally:
        chain.restore(snap)


def test_round_without_loan_tokens_is_fatal_in_one_line(
    system, project, admin, keeper, lender, borrower, other, attacker, chain
):
    from oracle.errors import BallastError

    _, _, market, _, _ = system
    snap = chain.snapshot()
    try:
        open_positions(system, admin, keeper, lender, borrower, other, chain)
        with pytest.raises(BallastError, match="holds no loan token"):
            bot.liquidate_round(market, project, attacker)
        assert market.is_liquidatable(borrower)
    finally:
        chain.restore(snap)


def _cli(args, provider):
    return run_cli(["ballast", *args], env_extra={"APE_FOUNDRY_HOST": provider.uri}, timeout=120)


def _bot_once(market, provider):
    """One round of `ballast bot run` as the liquidator (test account 5) on this node."""
    args = ["bot", "run", "--network", "ethereum:local:foundry", "--account", "TEST::5"]
    return _cli([*args, "--market", market, "--once"], provider)
