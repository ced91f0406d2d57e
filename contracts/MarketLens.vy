# pragma version ~=0.4.3
# pragma optimize gas
"""
@title Ballast market lens (views)
@notice The views no transaction needs, for any Ballast market: health,
        haircuts, required ratios, what an account may still borrow, the
        ramped maintenance base and depth, and pages of positions with their
        health for liquidation bots. It reads the market's raw words
        (`Market.state`, `Market.borrowers`) and the oracle, and computes with
        `modules/market_math.vy`, the module the market itself uses: a view
        says exactly what a transaction in the same block would do (the ramp
        and interest projected to now, as a poke would leave them).
@custom:security Stateless and read-only; nothing here is trusted by the
        contracts. A market that is not a Ballast market (see
        `MarketFactory.is_market`) gives meaningless numbers.
"""

from .interfaces import IMarket
from .interfaces import IRiskOracle
from .modules import risk_model
from .modules import market_math

# @dev Fixed-point one.
WAD: constant(uint256) = 10**18
# @dev Most positions one `positions` call returns.
MAX_PAGE: constant(uint256) = 1_000


struct View:
    t: market_math.Totals
    h: market_math.Hot
    r: market_math.Risk
    rp: market_math.Ramp


struct PositionView:
    account: address
    collateral: uint256     # collateral raw units
    debt: uint256           # loan raw units incl. interest (rounded up)
    health_factor: uint256  # value * (1 - H_maint) / debt, WAD; max uint without debt
    liquidatable: bool


@external
@view
def health_factor(market: address, account: address) -> uint256:
    """
    @notice value * (1 - H_maint) / debt, WAD; max_value(uint256) without debt.
            Below WAD the position can be liquidated.
    """
    v: View = self._view(market)
    collateral: uint256 = 0
    debt: uint256 = 0
    collateral, debt = staticcall IMarket(market).position(account)
    return self._health(collateral, debt, v)


@external
@view
def is_liquidatable(market: address, account: address) -> bool:
    """
    @notice Whether `liquidate` would accept this position now.
    """
    v: View = self._view(market)
    collateral: uint256 = 0
    debt: uint256 = 0
    collateral, debt = staticcall IMarket(market).position(account)
    return not market_math.healthy_maint(collateral, debt, v.rp, v.r, v.h)


@external
@view
def h_init_of(market: address, account: address) -> uint256:
    """
    @notice The account's initial haircut H_init now (WAD), spread margin included.
    """
    v: View = self._view(market)
    collateral: uint256 = 0
    debt: uint256 = 0
    collateral, debt = staticcall IMarket(market).position(account)
    return market_math.h_init(market_math.value(collateral, v.r.price), v.t, v.r, v.h)


@external
@view
def h_maint_of(market: address, account: address) -> uint256:
    """
    @notice The account's effective (ramped) maintenance haircut now (WAD).
    """
    v: View = self._view(market)
    collateral: uint256 = 0
    debt: uint256 = 0
    collateral, debt = staticcall IMarket(market).position(account)
    return market_math.h_maint(market_math.value(collateral, v.r.price), v.rp, v.h)


@external
@view
def required_ratio(market: address, collateral_amount: uint256, initial: bool) -> uint256:
    """
    @notice Collateral ratio 1 / (1 - H) a position of `collateral_amount`
            needs now (WAD, rounds up); `initial` selects H_init, else H_maint.
    """
    v: View = self._view(market)
    value: uint256 = market_math.value(collateral_amount, v.r.price)
    if initial:
        return risk_model.collateral_ratio(market_math.h_init(value, v.t, v.r, v.h))
    return risk_model.collateral_ratio(market_math.h_maint(value, v.rp, v.h))


@external
@view
def max_borrowable(market: address, account: address) -> uint256:
    """
    @notice More loan token the account could borrow now under H_init
            (ignoring the rate rise the borrow itself causes); 0 when the
            market would refuse any borrow (paused, stale data, the signers'
            spread too wide). A configured price feed is not consulted.
    """
    v: View = self._view(market)
    if v.t.paused or v.r.stale or v.r.spread > v.h.max_spread:
        return 0
    collateral: uint256 = 0
    debt: uint256 = 0
    collateral, debt = staticcall IMarket(market).position(account)
    value: uint256 = market_math.value(collateral, v.r.price)
    limit: uint256 = value * (WAD - market_math.h_init(value, v.t, v.r, v.h)) // WAD
    if debt >= limit:
        return 0
    return min(limit - debt, v.t.idle)


@external
@view
def maint_base(market: address) -> uint256:
    """
    @notice The ramped maintenance base as a poke now would leave it (WAD).
    """
    return self._view(market).rp.maint_base


@external
@view
def maint_target(market: address) -> uint256:
    """
    @notice The maintenance base target now (WAD): where the ramp is heading.
    """
    v: View = self._view(market)
    return min(v.rp.maint_base + v.rp.base_gap, v.h.h_max)


@external
@view
def maint_depth(market: address) -> uint256:
    """
    @notice The ramped depth of the maintenance liquidity term as a poke now
            would leave it (loan raw units): a posted rise at once, a posted
            fall at most 20% of itself per hour.
    """
    return self._view(market).rp.maint_depth


@external
@view
def ramping(market: address) -> bool:
    """
    @notice Whether a tightening is under way (a poke now leaves the base
            below its target or the depth above the posted one): the ramp only
            advances when poked, so bots poke while this is True.
    """
    v: View = self._view(market)
    return v.rp.base_gap != 0 or v.rp.depth_gap != 0


@external
@view
def borrow_rate(market: address) -> uint256:
    """
    @notice The annual borrow rate interest accrues at now (WAD).
    """
    v: View = self._view(market)
    return market_math.rate_at(market_math.utilisation(v.t), v.h)


@external
@view
def risk_rate(market: address) -> uint256:
    """
    @notice The rate the haircuts' carry term uses now (WAD): at the higher of
            the utilisation and its one-hour average.
    """
    v: View = self._view(market)
    return market_math.risk_rate(v.t, v.h)


@external
@view
def utilisation(market: address) -> uint256:
    """
    @notice total debt / (idle + total debt), WAD (rounds down).
    """
    return market_math.utilisation(self._view(market).t)


@external
@view
def positions(market: address, start: uint256, count: uint256) -> DynArray[PositionView, MAX_PAGE]:
    """
    @notice Borrowers `start` .. `start + count - 1` (0-based) with their debt
            and health now: one call scans up to MAX_PAGE positions.
    @param market The market.
    @param start First index (0-based).
    @param count How many (at most MAX_PAGE).
    """
    v: View = self._view(market)
    rows: DynArray[IMarket.Borrower, MAX_PAGE] = staticcall IMarket(market).borrowers(start, min(count, MAX_PAGE))
    out: DynArray[PositionView, MAX_PAGE] = []
    for b: IMarket.Borrower in rows:
        debt: uint256 = market_math.to_debt(b.debt_shares, v.t, True)
        out.append(PositionView(
            account=b.account,
            collateral=b.collateral,
            debt=debt,
            health_factor=self._health(b.collateral, debt, v),
            liquidatable=not market_math.healthy_maint(b.collateral, debt, v.rp, v.r, v.h),
        ))
    return out


@internal
@view
def _view(market: address) -> View:
    """
    @dev Everything a view needs, projected to now as a transaction would see it.
    """
    s: IMarket.MarketState = staticcall IMarket(market).state()
    h: market_math.Hot = market_math.unpack_hot(s.hot_a, s.hot_b)
    t: market_math.Totals = market_math.accrued(
        market_math.unpack_totals(s.debt_word, s.state_word), h, block.timestamp
    )
    price: uint256 = 0
    sigma: uint256 = 0
    depth: uint256 = 0
    observed_at: uint256 = 0
    spread: uint256 = 0
    price, sigma, depth, observed_at, spread = staticcall IRiskOracle(staticcall IMarket(market).ORACLE()).metrics(
        staticcall IMarket(market).ASSET_ID()
    )
    r: market_math.Risk = market_math.risk_of(price, sigma, depth, observed_at, spread, h, block.timestamp)
    return View(t=t, h=h, r=r, rp=market_math.poked(market_math.unpack_ramp(s.ramp_word), t, h, r, block.timestamp))


@internal
@pure
def _health(collateral: uint256, debt: uint256, v: View) -> uint256:
    """
    @dev value * (1 - H_maint) / debt, WAD; max uint without debt.
    """
    if debt == 0:
        return max_value(uint256)
    value: uint256 = market_math.value(collateral, v.r.price)
    return value * (WAD - market_math.h_maint(value, v.rp, v.h)) // debt
