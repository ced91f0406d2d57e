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
    # A 3% drop makes the 99% borrower unhealthy (H_maint = H_init = h_min here), not the 50% one.
    post(PRICE * 97 // 100, WAD // 2, 10**12)


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
