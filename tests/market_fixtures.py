"""Fixtures shared by the market, factory and integration tests: real tokens (mocks), the real
RiskOracle, the factory deploying markets from a blueprint, and helpers that post risk data through
`oracle.model.pack_update`. Imported by the conftest of each of those directories.

Module-scoped: every test module gets its own fresh deployment, so no module depends on what another
module did to the chain (with session scope, a full `make test` run saw markets and assets left by
earlier modules)."""

from dataclasses import astuple

import pytest

from oracle import model

WAD = model.WAD
LOAN_DECIMALS = 6
COLL_DECIMALS = 18
# 1 collateral unit (1e18 raw) is worth 2,000 loan units (2,000e6 raw): price = loan raw per coll raw, WAD.
PRICE = 2_000 * 10**LOAN_DECIMALS * WAD // 10**COLL_DECIMALS
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
def risk_oracle(project, admin, guardian, keeper):
    oracle = admin.deploy(project.RiskOracle, guardian)
    oracle.set_keeper(keeper, True, sender=admin)
    return oracle


@pytest.fixture(scope="module")
def blueprint(project, admin):
    return admin.declare(project.Market).contract_address


@pytest.fixture(scope="module")
def factory(project, admin, blueprint, risk_oracle):
    return admin.deploy(project.MarketFactory, blueprint, risk_oracle)


@pytest.fixture(scope="module")
def post(risk_oracle, keeper, chain):
    """post(asset_id, price=PRICE, sigma=SIGMA, depth=DEPTH, observed_at=None): one keeper post."""

    def _post(asset_id, price=PRICE, sigma=SIGMA, depth=DEPTH, observed_at=None):
        at = chain.pending_timestamp if observed_at is None else observed_at
        last = risk_oracle.metrics(asset_id)[3]
        if at <= last:  # observations must be strictly newer: move the clock on
            at = last + 1
        chain.pending_timestamp = max(chain.pending_timestamp, at)
        word = model.pack_update(asset_id, price, depth, sigma)
        return risk_oracle.post(at, at + 3_600, [word], sender=keeper)

    return _post


@pytest.fixture(scope="module")
def create_market(project, admin, factory, risk_oracle):
    """create_market(loan, coll, risk=RISK, rates=RATES) -> Market (adds the collateral to the oracle)."""

    def _create(loan, coll, risk=RISK, rates=RATES, name="Ballast USDC/WETH", symbol="bUSDC-WETH"):
        asset_id = risk_oracle.asset_id(coll)
        if asset_id == 0:
            risk_oracle.add_asset(coll, sender=admin)
            asset_id = risk_oracle.asset_id(coll)
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
