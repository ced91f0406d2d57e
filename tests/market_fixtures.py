"""Fixtures shared by the market, factory and integration tests: real tokens (mocks), the real
RiskOracle with three test signers (quorum 2), the factory deploying markets from a blueprint, the
MarketLens, and `post`, which has the signers sign risk data (`oracle.model.pack_report`) and relays it.
Imported by the conftest of each of those directories.

Module-scoped: every test module gets its own fresh deployment, so no module depends on what another
module did to the chain (with session scope, a full `make test` run saw markets and assets left by
earlier modules)."""

from dataclasses import astuple

import pytest
from signers import DEFAULT_SIGNERS, QUORUM, SIGNER_ADDRESSES, relay

from oracle import model

WAD = model.WAD
LOAN_DECIMALS = 6
COLL_DECIMALS = 18
# 1 collateral unit (1e18 raw) is worth 2,000 loan units (2,000e6 raw): loan raw per coll raw at 1e36.
PRICE = model.price_from_human(2_000, LOAN_DECIMALS, COLL_DECIMALS)
DEPTH = 10_000_000 * 10**LOAN_DECIMALS  # 10M loan units sellable within 2% impact
SIGMA = WAD // 2  # 50% annualised
RISK = model.RiskParams()
RATES = model.RateParams()


def risk_tuple(p: model.RiskParams = RISK) -> tuple:
    return astuple(p)


def rate_tuple(r: model.RateParams = RATES) -> tuple:
    return astuple(r)


@pytest.fixture(scope="module")
def loan_token(project, admin):
    return admin.deploy(project.MockERC20, "USD Coin", "USDC", LOAN_DECIMALS)


@pytest.fixture(scope="module")
def coll_token(project, admin):
    return admin.deploy(project.MockERC20, "Wrapped Ether", "WETH", COLL_DECIMALS)


@pytest.fixture(scope="module")
def risk_oracle(project, admin, guardian):
    return admin.deploy(project.RiskOracle, guardian, SIGNER_ADDRESSES[:3], QUORUM)


@pytest.fixture(scope="module")
def blueprint(project, admin):
    return admin.declare(project.Market, sender=admin).contract_address


@pytest.fixture(scope="module")
def feed_check(project, admin):
    return admin.deploy(project.FeedCheck)


@pytest.fixture(scope="module")
def factory(project, admin, blueprint, risk_oracle, feed_check):
    return admin.deploy(project.MarketFactory, blueprint, risk_oracle, feed_check)


@pytest.fixture(scope="module")
def lens(project, admin):
    """The MarketLens (views: health, haircuts, required ratios, pages of positions)."""
    return admin.deploy(project.MarketLens)


@pytest.fixture(scope="module")
def post(risk_oracle, keeper, chain):
    """post(asset_id, price=PRICE, sigma=SIGMA, depth=DEPTH, observed_at=None, own=None): one signed
    batch (signers 0, 1, 2 report the same values unless `own[i]` = (price, sigma, depth) for signer i),
    relayed by the keeper account (anyone may relay). A price further from the stored one than the
    oracle's price bound allows is reached the way the keepers would reach it: in posts spaced by the
    observation time the bound needs (so a test can crash a price; the clock moves on)."""

    def _post(asset_id, price=PRICE, sigma=SIGMA, depth=DEPTH, observed_at=None, own=None, signers=DEFAULT_SIGNERS):
        at = chain.pending_timestamp if observed_at is None else observed_at
        stored_price, _, _, last, _ = risk_oracle.metrics(asset_id)
        at = max(at, last + 1)  # observations must be strictly newer: move the clock on
        if stored_price and own is None:
            g = model.GuardParams(*risk_oracle.guard_params())
            full = model.ceil_div(model.HOUR * model.WAD, g.max_price_move_per_hour)  # a 100% move
            while model.clip_price(stored_price, price, at - last, g) != model.round_price(price):
                if model.clip_price(stored_price, price, full, g) != model.round_price(price):
                    step_at = last + full  # more than the bound allows in one post: a full step first
                    stored_price = model.clip_price(stored_price, price, full, g)
                    _sign_and_send(risk_oracle, keeper, chain, asset_id, stored_price, sigma, depth, step_at, None, signers)
                    last = step_at
                    at = max(at, last + 1)
                    continue
                lo, hi = at - last, full  # the smallest observation time that reaches the price
                while lo < hi:
                    mid = (lo + hi) // 2
                    if model.clip_price(stored_price, price, mid, g) == model.round_price(price):
                        hi = mid
                    else:
                        lo = mid + 1
                at = last + lo
        return _sign_and_send(risk_oracle, keeper, chain, asset_id, price, sigma, depth, at, own, signers)

    return _post


def _sign_and_send(risk_oracle, keeper, chain, asset_id, price, sigma, depth, at, own, signers):
    chain.pending_timestamp = max(chain.pending_timestamp, at)
    words = model.pack_report([(asset_id, price, depth, sigma)])
    own_words = {i: model.pack_report([(asset_id, p_, d_, s_)]) for i, (p_, s_, d_) in (own or {}).items()}
    return relay(risk_oracle, keeper, at, at + 3_600, words, signers, own_words)


@pytest.fixture(scope="module")
def create_market(project, admin, factory, risk_oracle):
    """create_market(loan, coll, risk=RISK, rates=RATES) -> Market (adds the pair to the oracle)."""

    def _create(loan, coll, risk=RISK, rates=RATES, name="Ballast USDC/WETH", symbol="bUSDC-WETH"):
        asset_id = risk_oracle.asset_id(coll, loan)
        if asset_id == 0:
            risk_oracle.add_asset(coll, loan, sender=admin)
            asset_id = risk_oracle.asset_id(coll, loan)
        tx = factory.create_market(
            loan, coll, asset_id, risk_tuple(risk), rate_tuple(rates), name, symbol, sender=admin
        )
        address = tx.decode_logs(factory.MarketCreated)[0].market
        return project.Market.at(address)

    return _create


@pytest.fixture(scope="module")
def market(create_market, loan_token, coll_token, post):
    """The default market (USDC loan, WETH collateral) with fresh risk data posted."""
    m = create_market(loan_token, coll_token)
    post(m.ASSET_ID())
    return m


@pytest.fixture(scope="module")
def fund():
    """fund(token, account, amount, spender): mint and approve."""

    def _fund(token, account, amount, spender):
        token.mint(account, amount, sender=account)
        token.approve(spender, 2**256 - 1, sender=account)

    return _fund


LEND = 1_000_000 * 10**LOAN_DECIMALS  # 1M USDC supplied by the lender
COLL = 10 * 10**COLL_DECIMALS  # 10 WETH = 20,000 USDC of collateral


@pytest.fixture
def supplied(market, loan_token, lender, fund):
    """The default market with LEND supplied by the lender."""
    fund(loan_token, lender, LEND, market)
    market.deposit(LEND, lender, sender=lender)
    return market


@pytest.fixture
def with_collateral(supplied, coll_token, borrower, fund):
    """Supplied market where the borrower has COLL collateral and no debt."""
    fund(coll_token, borrower, COLL, supplied)
    supplied.supply_collateral(COLL, borrower, sender=borrower)
    return supplied


@pytest.fixture
def borrowed(with_collateral, borrower, loan_token):
    """The borrower has borrowed 10,000 USDC (50% of the collateral's value) and approved repayments."""
    with_collateral.borrow(10_000 * 10**LOAN_DECIMALS, borrower, sender=borrower)
    loan_token.approve(with_collateral, 2**256 - 1, sender=borrower)
    return with_collateral
