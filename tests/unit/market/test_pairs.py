"""Prices for every real pair (issue 7): the oracle's price (loan raw units per collateral raw unit at
1e36, carried as a decimal float) represents any price from 1e-12 to 1e12 loan tokens per collateral token
for every decimals combination from 0 to 18 on either side, and markets value collateral right at the
extremes: WBTC (8 decimals) against DAI (18), and a memecoin at 1e-6 USDC (18 decimals against 6)."""

from decimal import Decimal

import pytest
from market_fixtures import RATES, RISK, SIGMA

from oracle import model

DECIMALS = [0, 6, 8, 18]
HUMAN = ["1e-12", "1e-6", "0.5", "2000", "60000", "1e12"]


@pytest.mark.parametrize("loan_dec", DECIMALS)
@pytest.mark.parametrize("coll_dec", DECIMALS)
@pytest.mark.parametrize("human", HUMAN)
def test_every_price_and_decimals_fits_the_float(human, loan_dec, coll_dec):
    """Pure: the float keeps 12 significant digits of every such price (it rounds down)."""
    price = model.price_from_human(human, loan_dec, coll_dec)
    assert 0 < price <= model.MAX_PRICE
    carried = model.round_price(price)
    assert carried <= price and (price - carried) * 10**12 <= price  # within 1e-12, relative
    # one whole collateral token is worth the human price in loan raw units (below the loan unit: 0)
    value = model.collateral_value(10**coll_dec, carried)
    assert abs(value - float(human) * 10**loan_dec) <= max(1, float(human) * 10**loan_dec * 1e-11)


def test_the_full_grid_round_trips_through_the_oracle(project, admin, guardian, other, chain):
    """On chain: 0..18 decimals on both sides at 1e-12 and 1e12 (the corners) and 1 (the middle)."""
    from signers import SIGNER_ADDRESSES, relay

    oracle = admin.deploy(project.RiskOracle, guardian, SIGNER_ADDRESSES[:3], 2)
    updates = []
    for i, (ld, cd, human) in enumerate((ld, cd, h) for ld in (0, 9, 18) for cd in (0, 9, 18)
                                         for h in ("1e-12", "1", "1e12")):  # fmt: skip
        oracle.add_asset(f"0x{0x1000 + i:040x}", f"0x{0x2000:040x}", sender=admin)
        updates.append((i + 1, model.price_from_human(human, ld, cd), 10**9, SIGMA))
    at = chain.pending_timestamp
    for k in range(0, len(updates), 16):
        batch = updates[k : k + 16]
        relay(oracle, other, at, at + 60, model.pack_report(batch))
        for aid, price, _, _ in batch:
            assert oracle.metrics(aid)[0] == model.round_price(price)


@pytest.mark.parametrize(
    ("coll", "loan", "human"),
    [(("WBTC", 8), ("DAI", 18), "60000"), (("MEME", 18), ("USDC", 6), "0.000001")],
    ids=["wbtc_dai", "meme_usdc"],
)
def test_markets_value_and_lend_at_the_extremes(project, admin, create_market, post, lender, borrower, lens, chain,
                                                coll, loan, human):  # fmt: skip
    loan_token = admin.deploy(project.MockERC20, loan[0], loan[0], loan[1])
    coll_token = admin.deploy(project.MockERC20, coll[0], coll[0], coll[1])
    m = create_market(loan_token, coll_token, RISK, RATES, f"b{loan[0]}-{coll[0]}", "bX")
    price = model.price_from_human(human, loan[1], coll[1])
    post(m.ASSET_ID(), price=price, depth=10**9 * 10 ** loan[1])
    # a lender supplies 1M loan tokens, a borrower brings collateral worth 100k loan tokens
    lend = 10**6 * 10 ** loan[1]
    loan_token.mint(lender, lend, sender=lender)
    loan_token.approve(m, lend, sender=lender)
    m.deposit(lend, lender, sender=lender)
    amount = int(Decimal(100_000) / Decimal(human) * 10 ** coll[1])
    coll_token.mint(borrower, amount, sender=borrower)
    coll_token.approve(m, amount, sender=borrower)
    m.supply_collateral(amount, borrower, sender=borrower)
    value = model.collateral_value(amount, model.round_price(price))
    assert value == amount * model.round_price(price) // model.PRICE_SCALE
    # 100k loan tokens, within one raw unit of collateral and the float's 12 digits
    per_unit = model.round_price(price) // model.PRICE_SCALE + 1
    assert abs(value - 100_000 * 10 ** loan[1]) <= per_unit + 100_000 * 10 ** loan[1] // 10**11
    can = lens.max_borrowable(m, borrower)
    assert can == value * (model.WAD - lens.h_init_of(m, borrower)) // model.WAD > 0
    m.borrow(can, borrower, sender=borrower)
    assert m.position(borrower)[1] == can
    assert lens.health_factor(m, borrower) >= model.WAD
