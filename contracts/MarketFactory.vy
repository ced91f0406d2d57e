# pragma version ~=0.4.3
# pragma nonreentrancy on
"""
@title Ballast market factory
@notice Deploys isolated markets from one blueprint of `Market.vy` with
        validated parameters and keeps the registry of markets.
@custom:security Parameters are checked here (`modules/market_params.vy`):
        markets call `validate_risk` / `validate_rates` on every change. A
        contract that deploys Market code itself can pass any parameters, so
        integrators trust a market only if `is_market(market)` is True. The
        oracle's asset `asset_id` must be the (collateral, loan) pair. One
        market per (loan, collateral) pair.
"""

from snekmate.auth import ownable
from snekmate.auth import ownable_2step

from .interfaces import IRiskOracle
from .modules import market_params


interface IMarketInit:
    def initialize(risk: market_params.RiskParams, rates: market_params.RateParams): nonpayable

initializes: ownable
initializes: ownable_2step[ownable := ownable]

exports: (
    ownable_2step.owner,
    ownable_2step.pending_owner,
    ownable_2step.transfer_ownership,
    ownable_2step.accept_ownership,
    ownable_2step.renounce_ownership,
)


# @dev Blueprint of Market.vy (ERC-5202).
MARKET_BLUEPRINT: public(immutable(address))
# @dev The risk oracle every market reads.
ORACLE: public(immutable(address))
# @dev The stateless price-feed checker every market calls (FeedCheck.vy).
FEED_CHECK: public(immutable(address))

# @dev Markets by 0-based index.
markets: public(HashMap[uint256, address])
# @dev Number of markets.
num_markets: public(uint256)
# @dev Market of a (loan, collateral) pair (zero when none).
market_for: public(HashMap[address, HashMap[address, address]])
# @dev Whether this factory deployed the market (its parameters obey the bounds).
is_market: public(HashMap[address, bool])


event MarketCreated:
    market: indexed(address)
    loan_token: indexed(address)
    collateral_token: indexed(address)
    asset_id: uint256
    index: uint256


@deploy
def __init__(market_blueprint: address, oracle: address, feed_check: address):
    """
    @notice Set the blueprint, the oracle and the feed checker; the deployer owns the factory.
    @param market_blueprint Address of the Market blueprint.
    @param oracle The RiskOracle.
    @param feed_check The FeedCheck contract.
    """
    assert market_blueprint != empty(address), "factory: zero address"
    assert oracle != empty(address), "factory: zero address"
    assert feed_check != empty(address), "factory: zero address"
    ownable.__init__()
    ownable_2step.__init__()
    MARKET_BLUEPRINT = market_blueprint
    ORACLE = oracle
    FEED_CHECK = feed_check


@external
def create_market(
    loan_token: address,
    collateral_token: address,
    asset_id: uint256,
    risk: market_params.RiskParams,
    rates: market_params.RateParams,
    name: String[64],
    symbol: String[32],
) -> address:
    """
    @notice Deploy a market (owner). The factory's owner owns the market.
    @param loan_token The token lent and borrowed.
    @param collateral_token The collateral; must be the oracle's asset `asset_id`.
    @param asset_id The collateral's id in the oracle.
    @param risk Risk parameters (bounded).
    @param rates Rate parameters (bounded).
    @param name Share token name.
    @param symbol Share token symbol.
    @return The new market.
    """
    ownable._check_owner()
    assert loan_token != empty(address), "factory: zero address"
    assert collateral_token != empty(address), "factory: zero address"
    assert loan_token != collateral_token, "factory: same token"
    assert self.market_for[loan_token][collateral_token] == empty(address), "factory: market exists"
    pair: IRiskOracle.Pair = staticcall IRiskOracle(ORACLE).asset_of(asset_id)
    assert pair.collateral == collateral_token and pair.loan == loan_token, "factory: asset mismatch"
    market: address = create_from_blueprint(
        MARKET_BLUEPRINT, loan_token, collateral_token, ORACLE, asset_id, ownable.owner, name, symbol,
    )
    extcall IMarketInit(market).initialize(risk, rates)
    index: uint256 = self.num_markets
    self.markets[index] = market
    self.num_markets = index + 1
    self.market_for[loan_token][collateral_token] = market
    self.is_market[market] = True
    log MarketCreated(
        market=market, loan_token=loan_token, collateral_token=collateral_token, asset_id=asset_id, index=index,
    )
    return market


@external
@pure
def validate_risk(risk: market_params.RiskParams) -> bool:
    """
    @notice Revert with the bound's own message unless every risk parameter
            is inside its hard bounds (markets call this on every change).
    @param risk The risk parameters.
    """
    market_params.validate_risk(risk)
    return True


@external
@pure
def validate_rates(rates: market_params.RateParams) -> bool:
    """
    @notice Revert with the bound's own message unless every rate parameter
            is inside its hard bounds (markets call this on every change).
    @param rates The rate parameters.
    """
    market_params.validate_rates(rates)
    return True
