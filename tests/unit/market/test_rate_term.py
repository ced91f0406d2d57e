"""The carry term of the haircuts follows the utilisation through max(utilisation now, its one-hour
average): a utilisation that one caller can move for a moment (supply, poke, withdraw) cannot lower
H_maint's base or H_init (audit finding 5), while a lasting rise applies at once."""

import pytest
from market_fixtures import LOAN_DECIMALS, RATES, RISK

from oracle import model

USDC = 10**LOAN_DECIMALS
WEEK_RISK = RISK.replace(horizon=7 * 86_400)  # factory-accepted: the longest horizon
STEEP = model.RateParams(base=0, slope1=RATES.slope1, slope2=10 * model.WAD, kink=RATES.kink)  # slope2 at its cap
LEND = 100_000 * USDC
COLL = 200 * 10**18  # 400k USDC of collateral
HOUR = 3_600


@pytest.fixture
def steep(create_market, loan_token, project, admin, post, lender, borrower, attacker, fund, keeper, chain):
    """A market with a 7-day horizon and slope2 10 at 95% utilisation, long enough for the average to
    follow it."""
    coll = admin.deploy(project.MockERC20, "Wrapped Ether", "WETH", 18)
    m = create_market(loan_token, coll, risk=WEEK_RISK, rates=STEEP, name="steep", symbol="STEEP")
    post(m.ASSET_ID())
    fund(loan_token, lender, LEND, m)
    m.deposit(LEND, lender, sender=lender)
    fund(coll, borrower, COLL, m)
    m.supply_collateral(COLL, borrower, sender=borrower)
    m.borrow(LEND * 95 // 100, borrower, sender=borrower)
    for _ in range(2):  # two hours at 95%: the average is there
        chain.pending_timestamp += HOUR
        post(m.ASSET_ID())
        m.poke(sender=keeper)
    fund(loan_token, attacker, 10_000_000 * USDC, m)
    return m


def test_flash_supply_does_not_lower_the_maintenance_base(steep, lens, attacker, keeper, chain):
    """Audit finding 5: deposit, poke, withdraw dropped the base by the whole rate term (0.097 with these
    parameters) and let a liquidatable borrower stay safe for hours."""
    m = steep
    base0 = lens.maint_base(m)
    rate_term0 = model.ceil_div(lens.risk_rate(m) * WEEK_RISK.horizon, model.YEAR)
    assert rate_term0 > 5 * 10**16  # the carry term is large here
    ts = chain.pending_timestamp
    m.deposit(10_000_000 * USDC, attacker, sender=attacker)
    chain.pending_timestamp = ts + 1
    m.poke(sender=keeper)
    chain.pending_timestamp = ts + 2
    m.redeem(m.balanceOf(attacker), attacker, attacker, sender=attacker)
    assert lens.utilisation(m) > 94 * 10**16
    # the average moved by 2 s / 1 h of the gap: the base fell by less than 0.001 (it fell by 0.097 before)
    assert base0 - lens.maint_base(m) < 10**15


def test_flash_supply_does_not_lower_h_init(steep, lens, borrower, attacker, chain):
    """The same trick on H_init: the supply lowers the utilisation, not the rate term of new risk."""
    m = steep
    h0 = lens.h_init_of(m, borrower)
    m.deposit(10_000_000 * USDC, attacker, sender=attacker)
    assert lens.utilisation(m) < 10**16
    assert h0 - lens.h_init_of(m, borrower) < 10**15


def test_a_lasting_rise_of_the_utilisation_applies_at_once(steep, lens, lender, keeper, chain):
    m = steep
    r0 = lens.risk_rate(m)
    m.withdraw(m.maxWithdraw(lender) // 2, lender, lender, sender=lender)
    assert lens.risk_rate(m) > r0  # the utilisation now is above its average: used at once


def test_a_lasting_fall_of_the_utilisation_reaches_the_rate_term_within_the_hour(steep, lens, attacker, keeper, chain):
    m = steep
    r0 = lens.risk_rate(m)
    m.deposit(10_000_000 * USDC, attacker, sender=attacker)
    chain.pending_timestamp += HOUR
    m.poke(sender=keeper)
    assert lens.risk_rate(m) < r0 // 10


@pytest.fixture
def fresh_rise(create_market, loan_token, project, admin, post, lender, borrower, other, attacker, fund, keeper,
               chain):  # fmt: skip
    """The steep market at 50% utilisation for two hours (the average is there), then a borrow takes it
    to 95%: a rise the one-hour average has not followed yet."""
    coll = admin.deploy(project.MockERC20, "Wrapped Ether", "WETH", 18)
    m = create_market(loan_token, coll, risk=WEEK_RISK, rates=STEEP, name="fresh", symbol="FRESH")
    post(m.ASSET_ID())
    fund(loan_token, lender, LEND, m)
    m.deposit(LEND, lender, sender=lender)
    for who in (borrower, other):
        fund(coll, who, COLL, m)
        m.supply_collateral(COLL, who, sender=who)
    m.borrow(LEND * 50 // 100, borrower, sender=borrower)
    for _ in range(2):
        chain.pending_timestamp += HOUR
        post(m.ASSET_ID())
        m.poke(sender=keeper)
    m.borrow(LEND * 45 // 100, other, sender=other)  # 95% now
    fund(loan_token, attacker, 10_000_000 * USDC, m)
    return m


def test_flash_supply_after_a_fresh_rise_does_not_lower_h_init(fresh_rise, lens, borrower, attacker):
    """Found by the stateful campaign: the average used to lag a fresh rise, so within the hour after the
    utilisation rose a supply for one block took the carry term of H_init back to the average's (0.09
    of haircut here). Now a rise counts in the average at once (`market_math.pack_state`)."""
    m = fresh_rise
    h0 = lens.h_init_of(m, borrower)
    m.deposit(10_000_000 * USDC, attacker, sender=attacker)
    assert h0 - lens.h_init_of(m, borrower) < 10**15  # it fell by ~0.09 before the fix


def test_flash_supply_after_a_fresh_rise_does_not_lower_the_carry_term(fresh_rise, lens, attacker):
    m = fresh_rise
    r0 = lens.risk_rate(m)
    m.deposit(10_000_000 * USDC, attacker, sender=attacker)
    # the one-hour average decays by the seconds between the two reads (more on a loaded machine); before
    # the fix the rate fell to the average's, far below
    assert r0 - lens.risk_rate(m) < r0 // 1_000


def test_a_supply_a_day_after_the_last_update_does_not_lower_the_carry_term(steep, lens, attacker, chain):
    """Found by make fuzz (its 603rd sequence): a day without a poke, interest raises the utilisation the
    carry term sees; a supply then stored the average at the utilisation of the last update (before that
    interest) and the carry term's rate fell (5.110 -> 5.045 here, 1.3%). Now the average moves towards
    the utilisation the interest leaves (market_math.accrued). The supply lands in the same second as the
    read, so no decay of the average is involved."""
    m = steep
    chain.pending_timestamp += 86_400
    chain.mine()
    now = chain.blocks.head.timestamp
    r0 = lens.risk_rate(m)
    chain.pending_timestamp = now  # the same second: the average cannot decay between the reads
    m.deposit(10_000_000 * USDC, attacker, sender=attacker)
    assert chain.blocks.head.timestamp == now
    assert lens.risk_rate(m) >= r0
