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
    def initialize(words: uint256[3]): nonpayable

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
# @dev Each market's risk parameters as set.
risk_params: public(HashMap[address, market_params.RiskParams])
# @dev Each market's rate parameters as set.
rate_params: public(HashMap[address, market_params.RateParams])


event MarketCreated:
    market: indexed(address)
    loan_token: indexed(address)
    collateral_token: indexed(address)
    asset_id: uint256
    index: uint256

event RiskParamsSet:
    market: indexed(address)
    z_init: uint256
    z_maint: uint256
    horizon: uint256
    bonus: uint256
    h_min: uint256
    h_max: uint256
    slip_k: uint256
    ramp_per_hour: uint256
    stale_after: uint256
    stale_sigma: uint256
    max_spread: uint256
    bonus_min: uint256
    target_margin: uint256
    init_gap: uint256
    min_debt: uint256
    liq_cap: uint256

event RateParamsSet:
    market: indexed(address)
    base: uint256
    slope1: uint256
    slope2: uint256
    kink: uint256


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
    words: uint256[3] = market_params.pack(risk, rates)
    self.risk_params[market] = risk
    self.rate_params[market] = rates
    self._log_risk(market, risk)
    self._log_rates(market, rates)
    extcall IMarketInit(market).initialize(words)
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


@external
@pure
def pack_params(risk: market_params.RiskParams, rates: market_params.RateParams) -> uint256[3]:
    """
    @notice Revert with the bound's own message unless every parameter is
            inside its hard bounds; else the market's three packed parameter
            words (markets call this on every change; layouts in market_math.vy).
    @param risk The risk parameters.
    @param rates The rate parameters.
    """
    return market_params.pack(risk, rates)


@external
def set_risk_params(risk: market_params.RiskParams) -> uint256[3]:
    """
    @notice Record a market's new risk parameters (the market calls this from
            its owner-only `set_risk_params`); reverts with the bound's own
            message unless every parameter is inside its hard bounds.
    @param risk The risk parameters.
    @return The market's three packed parameter words.
    """
    assert self.is_market[msg.sender], "factory: not a market"
    words: uint256[3] = market_params.pack(risk, self.rate_params[msg.sender])
    self.risk_params[msg.sender] = risk
    self._log_risk(msg.sender, risk)
    return words


@external
def set_rate_params(rates: market_params.RateParams) -> uint256[3]:
    """
    @notice Record a market's new rate parameters (the market calls this from
            its owner-only `set_rate_params`); bounded like `set_risk_params`.
    @param rates The rate parameters.
    @return The market's three packed parameter words.
    """
    assert self.is_market[msg.sender], "factory: not a market"
    words: uint256[3] = market_params.pack(self.risk_params[msg.sender], rates)
    self.rate_params[msg.sender] = rates
    self._log_rates(msg.sender, rates)
    return words


@internal
def _log_risk(market: address, p: market_params.RiskParams):
    log RiskParamsSet(
        market=market, z_init=p.z_init, z_maint=p.z_maint, horizon=p.horizon, bonus=p.bonus, h_min=p.h_min,
        h_max=p.h_max, slip_k=p.slip_k, ramp_per_hour=p.ramp_per_hour, stale_after=p.stale_after,
        stale_sigma=p.stale_sigma, max_spread=p.max_spread, bonus_min=p.bonus_min,
        target_margin=p.target_margin, init_gap=p.init_gap, min_debt=p.min_debt, liq_cap=p.liq_cap,
    )


@internal
def _log_rates(market: address, r: market_params.RateParams):
    log RateParamsSet(market=market, base=r.base, slope1=r.slope1, slope2=r.slope2, kink=r.kink)
