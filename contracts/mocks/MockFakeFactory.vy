# pragma version ~=0.4.3
"""
@title A factory impostor (tests only)
@notice Approves any parameters and deploys Market code from the real blueprint: what anyone can do to
        get a contract that looks like a Ballast market with parameters outside the bounds. Integrators
        must check `MarketFactory.is_market`.
"""

from ..modules import market_params


interface IMarketInit:
    def initialize(words: uint256[3]): nonpayable

# @dev The FeedCheck a market asks its factory for.
FEED_CHECK: public(address)
# @dev Whatever parameters the impostor claims for its markets.
risk_params: public(HashMap[address, market_params.RiskParams])
rate_params: public(HashMap[address, market_params.RateParams])


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
    words: uint256[3],
    risk: market_params.RiskParams,
    rates: market_params.RateParams,
) -> address:
    """
    @notice Deploy Market code with any packed parameter words (no bound checked)
            and claim any parameters for it; the caller owns it.
    """
    market: address = create_from_blueprint(
        blueprint, loan_token, collateral_token, oracle, asset_id, msg.sender, "Fake", "FAKE"
    )
    extcall IMarketInit(market).initialize(words)
    self.risk_params[market] = risk
    self.rate_params[market] = rates
    return market
