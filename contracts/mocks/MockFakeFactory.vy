# pragma version ~=0.4.3
"""
@title A factory impostor (tests only)
@notice Approves any parameters and deploys Market code from the real blueprint: what anyone can do to
        get a contract that looks like a Ballast market with parameters outside the bounds. Integrators
        must check `MarketFactory.is_market`.
"""

from ..modules import market_params


interface IMarketInit:
    def initialize(risk: market_params.RiskParams, rates: market_params.RateParams): nonpayable

# @dev The FeedCheck a market asks its factory for.
FEED_CHECK: public(address)


@deploy
def __init__(feed_check: address):
    """
    @notice Pretend to be a factory with this feed checker.
    """
    self.FEED_CHECK = feed_check


@external
def deploy_market(
    blueprint: address,
    loan_token: address,
    collateral_token: address,
    oracle: address,
    asset_id: uint256,
    risk: market_params.RiskParams,
    rates: market_params.RateParams,
) -> address:
    """
    @notice Deploy Market code with any parameters; the caller owns it.
    """
    market: address = create_from_blueprint(
        blueprint, loan_token, collateral_token, oracle, asset_id, msg.sender, "Fake", "FAKE"
    )
    extcall IMarketInit(market).initialize(risk, rates)
    return market


@external
@pure
def validate_risk(risk: market_params.RiskParams) -> bool:
    """
    @notice Approve anything.
    """
    return True


@external
@pure
def validate_rates(rates: market_params.RateParams) -> bool:
    """
    @notice Approve anything.
    """
    return True
