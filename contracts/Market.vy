# pragma version ~=0.4.3
# pragma nonreentrancy on
# pragma optimize codesize
# pragma experimental-codegen
"""
@title Ballast market: one collateral token, one loan token
@notice Lenders hold ERC-4626 shares of the loan token; borrowers hold
        collateral and debt shares. Interest accrues per second from
        utilisation (kinked model). New risk (borrow, withdraw collateral) is
        gated by the immediate initial haircut H_init, which includes the
        spread of the oracle signers' prices and stops when that spread is too
        wide, when the risk data is stale, or when an optional price feed
        disagrees with the oracle; liquidation is judged by the maintenance
        haircut H_maint, whose position-independent part ramps up at most
        `ramp_per_hour` per hour of time since the rise was first seen (a
        spike tightens in steps, whoever pokes when). Repay, collateral
        deposits and liquidation always work.

        The math lives in `modules/market_math.vy`, shared with
        `MarketLens.vy`, which serves the views no transaction needs.
@custom:security Look first at: `_accrue` (every mutating call that touches
        debt or lender assets goes through it), `market_math.poked` and
        `risk_model.ramp_poke` (the ramp's clock), the balance-delta `_pull`
        (a fee-on-transfer token is credited only what arrived), the rounding
        of share conversions (always towards the market; the caps on lender
        assets and shares keep them from overflowing), `_check_feed` (a feed
        that misbehaves stops new risk, never repay or liquidation), and the bad debt write-off in
        `liquidate`. All external functions are non-reentrant through the
        module pragma (one transient lock).
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed
from ethereum.ercs import IERC4626

from snekmate.auth import ownable
from snekmate.auth import ownable_2step

from .interfaces import IRiskOracle
from .interfaces import IMarketFactory
from .interfaces import IFeedCheck
from .interfaces import IMarket
from .modules import risk_model
from .modules import market_params
from .modules import market_math

implements: IERC20
implements: IERC4626
implements: IMarket

initializes: ownable
initializes: ownable_2step[ownable := ownable]

exports: (
    ownable_2step.owner,
    ownable_2step.pending_owner,
    ownable_2step.transfer_ownership,
    ownable_2step.accept_ownership,
    ownable_2step.renounce_ownership,
)


# @dev Fixed-point one.
WAD: constant(uint256) = 10**18
# @dev Oracle and feed prices: loan raw units per collateral raw unit, times 1e36.
PRICE_SCALE: constant(uint256) = 10**36
# @dev Packed parameters are in units of 1e9 wei of WAD.
PPB: constant(uint256) = 10**9
# @dev ERC-4626 virtual offset: shares carry 6 more decimals than assets and
#      the vault behaves as if it held VIRTUAL_ASSETS more assets and
#      VIRTUAL_SHARES more shares. A first depositor who donates X to inflate
#      the share price loses ~X * VIRTUAL_SHARES / (VIRTUAL_SHARES + 1) to the
#      virtual shares, which makes the inflation attack unprofitable.
DECIMALS_OFFSET: constant(uint8) = 6
VIRTUAL_SHARES: constant(uint256) = 10**6
VIRTUAL_ASSETS: constant(uint256) = 1
# @dev Most borrowers `borrowers()` returns in one call.
MAX_PAGE: constant(uint256) = 1_000
# @dev Largest value a 128-bit packed amount may hold.
MAX_AMOUNT: constant(uint256) = 2**128 - 1
# @dev Caps on lender assets and shares: below them no share conversion can
#      overflow (2**112 * 2**142 < 2**256), so every max* view and every
#      conversion of a real balance is exact and never reverts.
MAX_TOTAL_ASSETS: constant(uint256) = 2**112
MAX_TOTAL_SHARES: constant(uint256) = 2**142
MASK128: constant(uint256) = 2**128 - 1
MASK32: constant(uint256) = 2**32 - 1
# @dev Bounds of the price-feed cross-check.
MIN_FEED_DEVIATION: constant(uint256) = 10**15
MAX_FEED_DEVIATION: constant(uint256) = 5 * 10**17
MIN_FEED_AGE: constant(uint256) = 60
MAX_FEED_AGE: constant(uint256) = 7 * 86_400
# @dev Where has_feed sits in the hot_b word (market_math).
HAS_FEED_BIT: constant(uint256) = 1 << 40

# @dev The loan token (lent, borrowed, repaid).
LOAN: public(immutable(address))
# @dev The collateral token.
COLLATERAL: public(immutable(address))
# @dev The risk oracle.
ORACLE: public(immutable(address))
# @dev The (collateral, loan) asset id in the oracle.
ASSET_ID: public(immutable(uint256))
# @dev The factory that deployed this market; it holds the parameter bounds
#      (`validate_risk` / `validate_rates`). Integrators check
#      `MarketFactory.is_market(market)`: a market deployed by another
#      contract may have any parameters.
FACTORY: public(immutable(address))
# @dev The stateless price-feed checker of the factory (FeedCheck.vy).
FEED_CHECK: public(immutable(address))
# @dev Share token decimals = loan decimals + DECIMALS_OFFSET.
_DECIMALS: immutable(uint8)
# @dev Collateral token decimals (to scale a price feed's answer).
COLL_DECIMALS: public(immutable(uint8))


# @dev ERC-20 share balances (shares, DECIMALS decimals).
balanceOf: public(HashMap[address, uint256])
# @dev ERC-20 share allowances (shares).
allowance: public(HashMap[address, HashMap[address, uint256]])
# @dev Lender shares outstanding.
totalSupply: public(uint256)
# @dev Share token name.
name: public(String[64])
# @dev Share token symbol.
symbol: public(String[32])

# @dev total_debt:128 | total_debt_shares:128 (loan raw units | debt shares).
_debt_word: uint256
# @dev idle:128 | last_update:40 | u_ema:64 | paused:8 (raw units | seconds | WAD | flag).
_state_word: uint256
# @dev maint_base:64 | ramp_at:40 | maint_depth:88 | base_gap:32 | depth_gap:32
#      (WAD | seconds | raw units | 1e9 wei | 1e-9 of maint_depth). Written only
#      by pokes (liquidate, poke, setters), so lender and repay calls never touch it.
_ramp_word: uint256
# @dev The hot parameters, two words (layout in market_math.vy).
_hot_a: uint256
_hot_b: uint256
# @dev feed:160 | max_deviation:32 (1e9 units) | max_age:32 (seconds) | exponent:8
#      (feed answer * 10**exponent = price at PRICE_SCALE); read only when has_feed.
_feed_word: uint256
# @dev The risk parameters as set (for the view).
risk_params: public(market_params.RiskParams)
# @dev The rate parameters as set (for the view).
rate_params: public(market_params.RateParams)
# @dev Borrower position: collateral:128 | debt_shares:128 (collateral raw units | debt shares).
_positions: HashMap[address, uint256]
# @dev 1-based index of an account in the borrower list (0 = not listed).
_borrower_index: HashMap[address, uint256]
# @dev Borrower list by 1-based index (for the liquidation bot).
_borrower_at: HashMap[uint256, address]
# @dev Number of listed borrowers.
num_borrowers: public(uint256)


event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

event Deposit:
    sender: indexed(address)
    owner: indexed(address)
    assets: uint256
    shares: uint256

event Withdraw:
    sender: indexed(address)
    receiver: indexed(address)
    owner: indexed(address)
    assets: uint256
    shares: uint256

event CollateralSupplied:
    caller: indexed(address)
    account: indexed(address)
    amount: uint256

event CollateralWithdrawn:
    account: indexed(address)
    receiver: indexed(address)
    amount: uint256

event Borrowed:
    account: indexed(address)
    receiver: indexed(address)
    assets: uint256
    shares: uint256

event Repaid:
    caller: indexed(address)
    account: indexed(address)
    assets: uint256
    shares: uint256

event Liquidated:
    liquidator: indexed(address)
    borrower: indexed(address)
    repaid: uint256
    seized: uint256
    shares: uint256

event BadDebtRealized:
    borrower: indexed(address)
    assets: uint256
    shares: uint256

event RiskParamsSet:
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

event RateParamsSet:
    base: uint256
    slope1: uint256
    slope2: uint256
    kink: uint256

event PriceFeedSet:
    feed: indexed(address)
    max_deviation: uint256
    max_age: uint256

event Paused:
    by: indexed(address)

event Unpaused:
    by: indexed(address)


@deploy
def __init__(
    loan_token: address,
    collateral_token: address,
    oracle: address,
    asset_id: uint256,
    owner: address,
    name_: String[64],
    symbol_: String[32],
):
    """
    @notice Create a market; the deploying factory then calls `initialize`
            with the parameters in the same transaction (the parameter code
            lives once, in the runtime: a blueprint's code is capped at 24 KB).
    @param loan_token The token lent and borrowed.
    @param collateral_token The collateral token.
    @param oracle The RiskOracle.
    @param asset_id The (collateral, loan) asset id in the oracle.
    @param owner The market's owner (two-step ownership).
    @param name_ Share token name.
    @param symbol_ Share token symbol.
    """
    assert loan_token != empty(address), "market: zero address"
    assert collateral_token != empty(address), "market: zero address"
    assert oracle != empty(address), "market: zero address"
    assert owner != empty(address), "market: zero address"
    assert loan_token != collateral_token, "market: same token"
    assert asset_id != 0, "market: zero asset id"
    ownable.__init__()
    ownable_2step.__init__()
    ownable_2step._transfer_ownership(owner)
    LOAN = loan_token
    COLLATERAL = collateral_token
    ORACLE = oracle
    ASSET_ID = asset_id
    FACTORY = msg.sender
    FEED_CHECK = staticcall IMarketFactory(msg.sender).FEED_CHECK()
    _DECIMALS = staticcall IERC20Detailed(loan_token).decimals() + DECIMALS_OFFSET
    COLL_DECIMALS = staticcall IERC20Detailed(collateral_token).decimals()
    self.name = name_
    self.symbol = symbol_


@external
def initialize(risk: market_params.RiskParams, rates: market_params.RateParams):
    """
    @notice Set the first parameters (the factory, once, right after deploying).
            Every parameter is checked against its bounds.
    @param risk Risk parameters.
    @param rates Rate parameters.
    """
    assert msg.sender == FACTORY, "market: not the factory"
    assert self._state_word == 0, "market: initialized"
    self._store_params(risk, rates)
    self._log_risk(risk)
    log RateParamsSet(base=rates.base, slope1=rates.slope1, slope2=rates.slope2, kink=rates.kink)
    self._state_word = market_math.pack_state(market_math.Totals(
        total_debt=0, total_shares=0, idle=0, last_update=block.timestamp, u_ema=0, paused=False,
    ))
    # The ramp starts at the cap: the first poke loosens it to its target at once.
    self._ramp_word = market_math.pack_ramp(market_math.Ramp(
        maint_base=risk.h_max, ramp_at=block.timestamp, maint_depth=0, base_gap=0, depth_gap=0,
    ))


# ------------------------------------------------------------------ ERC-20 (lender shares)

@external
@view
def decimals() -> uint8:
    """
    @notice Share decimals: the loan token's plus the virtual offset.
    """
    return _DECIMALS


@external
def transfer(to: address, amount: uint256) -> bool:
    """
    @notice Transfer lender shares.
    @param to Receiver.
    @param amount Shares.
    """
    self._transfer(msg.sender, to, amount)
    return True


@external
def transferFrom(owner: address, to: address, amount: uint256) -> bool:
    """
    @notice Transfer lender shares on behalf of `owner`.
    @param owner Share owner.
    @param to Receiver.
    @param amount Shares.
    """
    self._spend_allowance(owner, msg.sender, amount)
    self._transfer(owner, to, amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Allow `spender` to move `amount` of the caller's shares.
    @param spender Spender.
    @param amount Shares.
    """
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


# ------------------------------------------------------------------ ERC-4626 (lenders)

@external
@view
def asset() -> address:
    """
    @notice The loan token.
    """
    return LOAN


@external
@view
def totalAssets() -> uint256:
    """
    @notice idle + total debt including interest accrued up to now.
    """
    t: market_math.Totals = self._view_totals()
    return t.idle + t.total_debt


@external
@view
def convertToShares(assets: uint256) -> uint256:
    """
    @notice Shares for `assets` (rounds down).
    """
    t: market_math.Totals = self._view_totals()
    return self._to_shares(assets, t.idle + t.total_debt, False)


@external
@view
def convertToAssets(shares: uint256) -> uint256:
    """
    @notice Assets for `shares` (rounds down).
    """
    t: market_math.Totals = self._view_totals()
    return self._to_assets(shares, t.idle + t.total_debt, False)


@external
@view
def maxDeposit(receiver: address) -> uint256:
    """
    @notice What `deposit` accepts now: the room below the caps on lender
            assets and shares (0 while paused, or when that room buys no share).
    """
    t: market_math.Totals = self._view_totals()
    if t.paused:
        return 0
    total: uint256 = t.idle + t.total_debt
    if total >= MAX_TOTAL_ASSETS or self.totalSupply >= MAX_TOTAL_SHARES:
        return 0
    room: uint256 = min(MAX_TOTAL_ASSETS - total, self._to_assets(MAX_TOTAL_SHARES - self.totalSupply, total, False))
    if self._to_shares(room, total, False) == 0:
        return 0
    return room


@external
@view
def maxMint(receiver: address) -> uint256:
    """
    @notice What `mint` accepts now: the shares the room below the caps buys (0 while paused).
    """
    t: market_math.Totals = self._view_totals()
    total: uint256 = t.idle + t.total_debt
    if t.paused or total >= MAX_TOTAL_ASSETS or self.totalSupply >= MAX_TOTAL_SHARES:
        return 0
    return min(self._to_shares(MAX_TOTAL_ASSETS - total, total, False), MAX_TOTAL_SHARES - self.totalSupply)


@external
@view
def maxWithdraw(owner: address) -> uint256:
    """
    @notice The owner's assets, limited by idle liquidity (0 while paused).
    """
    t: market_math.Totals = self._view_totals()
    if t.paused:
        return 0
    return min(self._to_assets(self.balanceOf[owner], t.idle + t.total_debt, False), t.idle)


@external
@view
def maxRedeem(owner: address) -> uint256:
    """
    @notice The owner's shares, limited by idle liquidity; 0 while paused or
            when they are worth less than one raw unit (redeem would refuse them).
    """
    t: market_math.Totals = self._view_totals()
    if t.paused:
        return 0
    total: uint256 = t.idle + t.total_debt
    shares: uint256 = min(self.balanceOf[owner], self._to_shares(t.idle, total, False))
    if self._to_assets(shares, total, False) == 0:
        return 0
    return shares


@external
@view
def previewDeposit(assets: uint256) -> uint256:
    """
    @notice Shares `deposit(assets)` mints now (rounds down).
    """
    t: market_math.Totals = self._view_totals()
    return self._to_shares(assets, t.idle + t.total_debt, False)


@external
@view
def previewMint(shares: uint256) -> uint256:
    """
    @notice Assets `mint(shares)` takes now (rounds up).
    """
    t: market_math.Totals = self._view_totals()
    return self._to_assets(shares, t.idle + t.total_debt, True)


@external
@view
def previewWithdraw(assets: uint256) -> uint256:
    """
    @notice Shares `withdraw(assets)` burns now (rounds up).
    """
    t: market_math.Totals = self._view_totals()
    return self._to_shares(assets, t.idle + t.total_debt, True)


@external
@view
def previewRedeem(shares: uint256) -> uint256:
    """
    @notice Assets `redeem(shares)` pays now (rounds down).
    """
    t: market_math.Totals = self._view_totals()
    return self._to_assets(shares, t.idle + t.total_debt, False)


@external
def deposit(assets: uint256, receiver: address) -> uint256:
    """
    @notice Supply `assets` of the loan token; shares are minted for what
            actually arrived (a fee-on-transfer token is credited its net).
            Zero assets is a no-op.
    @param assets Loan-token raw units to send.
    @param receiver Who gets the shares.
    @return The shares minted.
    """
    assert receiver != empty(address), "market: zero address"
    if assets == 0:
        return 0
    t: market_math.Totals = self._accrue()
    assert not t.paused, "market: paused"
    received: uint256 = self._pull(LOAN, assets)
    assert received != 0, "market: zero amount"
    # rounds down: the depositor gets no more than the value brought
    shares: uint256 = self._to_shares(received, t.idle + t.total_debt, False)
    assert shares != 0, "market: zero shares"
    t.idle += received
    assert t.idle + t.total_debt <= MAX_TOTAL_ASSETS, "market: amount too large"
    assert self.totalSupply + shares <= MAX_TOTAL_SHARES, "market: amount too large"
    self._store_totals(t)
    self._mint(receiver, shares)
    log Deposit(sender=msg.sender, owner=receiver, assets=received, shares=shares)
    return shares


@external
def mint(shares: uint256, receiver: address) -> uint256:
    """
    @notice Mint exactly `shares`, pulling the assets they cost. Zero is a no-op.
    @dev Reverts with a fee-on-transfer token (it could not mint exactly).
    @param shares Shares to mint.
    @param receiver Who gets the shares.
    @return The assets taken.
    """
    assert receiver != empty(address), "market: zero address"
    if shares == 0:
        return 0
    t: market_math.Totals = self._accrue()
    assert not t.paused, "market: paused"
    # rounds up: the minter pays at least the shares' value
    assets: uint256 = self._to_assets(shares, t.idle + t.total_debt, True)
    received: uint256 = self._pull(LOAN, assets)
    assert received == assets, "market: received less than sent"
    t.idle += received
    assert t.idle + t.total_debt <= MAX_TOTAL_ASSETS, "market: amount too large"
    assert self.totalSupply + shares <= MAX_TOTAL_SHARES, "market: amount too large"
    self._store_totals(t)
    self._mint(receiver, shares)
    log Deposit(sender=msg.sender, owner=receiver, assets=assets, shares=shares)
    return assets


@external
def withdraw(assets: uint256, receiver: address, owner: address) -> uint256:
    """
    @notice Withdraw `assets` of the loan token, burning the shares they cost.
            Zero is a no-op.
    @param assets Loan-token raw units.
    @param receiver Who gets the tokens.
    @param owner Whose shares are burnt (allowance needed unless the caller).
    @return The shares burnt.
    """
    if assets == 0:
        return 0
    t: market_math.Totals = self._accrue()
    assert not t.paused, "market: paused"
    assert assets <= t.idle, "market: insufficient liquidity"
    # rounds up: the lender burns at least the assets' value
    shares: uint256 = self._to_shares(assets, t.idle + t.total_debt, True)
    self._exit(t, assets, shares, receiver, owner)
    return shares


@external
def redeem(shares: uint256, receiver: address, owner: address) -> uint256:
    """
    @notice Burn `shares` for the loan token they are worth. Zero is a no-op.
    @param shares Shares to burn.
    @param receiver Who gets the tokens.
    @param owner Whose shares are burnt (allowance needed unless the caller).
    @return The assets paid.
    """
    if shares == 0:
        return 0
    t: market_math.Totals = self._accrue()
    assert not t.paused, "market: paused"
    # rounds down: the lender gets no more than the shares' value
    assets: uint256 = self._to_assets(shares, t.idle + t.total_debt, False)
    assert assets != 0, "market: zero amount"
    assert assets <= t.idle, "market: insufficient liquidity"
    self._exit(t, assets, shares, receiver, owner)
    return assets


# ------------------------------------------------------------------ borrowers

@external
def supply_collateral(amount: uint256, on_behalf: address):
    """
    @notice Add collateral to `on_behalf`'s position; credits what arrived.
    @dev Works when paused or stale. It changes no debt and no lender asset,
         so it neither accrues interest nor pokes the ramp (it can only make
         a position healthier); this keeps the cheapest operation cheap.
    @param amount Collateral raw units to send.
    @param on_behalf The position credited.
    """
    assert on_behalf != empty(address), "market: zero address"
    received: uint256 = self._pull(COLLATERAL, amount)
    assert received != 0, "market: zero amount"
    word: uint256 = self._positions[on_behalf]
    collateral: uint256 = (word >> 128) + received
    assert collateral <= MAX_AMOUNT, "market: amount too large"
    if word == 0:
        self._list_borrower(on_behalf)
    self._positions[on_behalf] = (collateral << 128) | (word & MASK128)
    log CollateralSupplied(caller=msg.sender, account=on_behalf, amount=received)


@external
def withdraw_collateral(amount: uint256, receiver: address):
    """
    @notice Take collateral out; a position with debt must stay healthy under
            H_init, with fresh risk data, the oracle signers in agreement and
            the price feed (if any) agreeing.
    @dev The debt is judged with interest accrued up to now, computed in
         memory and not stored: the call changes no debt and no lender
         asset, so (like supply_collateral) it skips the storage writes of an
         accrual. Interest still accrues per second; only how often it
         compounds changes (at the next call that accrues).
    @param amount Collateral raw units.
    @param receiver Who gets the collateral.
    """
    assert amount != 0, "market: zero amount"
    assert receiver != empty(address), "market: zero address"
    h: market_math.Hot = self._hot()
    t: market_math.Totals = market_math.accrued(self._load_totals(), h, block.timestamp)
    assert not t.paused, "market: paused"
    word: uint256 = self._positions[msg.sender]
    collateral: uint256 = word >> 128
    shares: uint256 = word & MASK128
    assert amount <= collateral, "market: insufficient collateral"
    collateral -= amount
    if shares != 0:
        r: market_math.Risk = self._new_risk(h)
        debt: uint256 = market_math.to_debt(shares, t, True)
        assert market_math.healthy_init(collateral, debt, t, r, h), "market: unhealthy after action"
    self._positions[msg.sender] = (collateral << 128) | shares
    self._push(COLLATERAL, receiver, amount)
    log CollateralWithdrawn(account=msg.sender, receiver=receiver, amount=amount)


@external
def borrow(amount: uint256, receiver: address) -> uint256:
    """
    @notice Borrow the loan token against the caller's collateral (H_init,
            fresh risk data, signers in agreement, feed agreeing if any).
    @param amount Loan-token raw units.
    @param receiver Who gets the tokens.
    @return The debt shares added.
    """
    assert amount != 0, "market: zero amount"
    assert receiver != empty(address), "market: zero address"
    h: market_math.Hot = self._hot()
    t: market_math.Totals = self._accrue_with(h)
    assert not t.paused, "market: paused"
    r: market_math.Risk = self._new_risk(h)
    assert amount <= t.idle, "market: insufficient liquidity"
    # rounds up: the borrower owes at least what they took
    added: uint256 = market_math.debt_to_shares(amount, t, True)
    word: uint256 = self._positions[msg.sender]
    shares: uint256 = (word & MASK128) + added
    assert shares <= MAX_AMOUNT, "market: amount too large"
    t.total_shares += added
    t.total_debt += amount
    t.idle -= amount
    debt: uint256 = market_math.to_debt(shares, t, True)
    assert market_math.healthy_init(word >> 128, debt, t, r, h), "market: unhealthy after action"
    self._positions[msg.sender] = (word & ~MASK128) | shares
    self._store_totals(t)
    self._push(LOAN, receiver, amount)
    log Borrowed(account=msg.sender, receiver=receiver, assets=amount, shares=added)
    return added


@external
def repay(amount: uint256, on_behalf: address) -> uint256:
    """
    @notice Repay up to `amount` of `on_behalf`'s debt (capped at the debt).
            Works when paused or stale. Credits what arrived.
    @param amount Loan-token raw units (max_value(uint256) = everything).
    @param on_behalf The position repaid.
    @return The loan-token raw units credited.
    """
    t: market_math.Totals = self._accrue()
    word: uint256 = self._positions[on_behalf]
    shares: uint256 = word & MASK128
    assert shares != 0, "market: no debt"
    debt: uint256 = market_math.to_debt(shares, t, True)
    wanted: uint256 = min(amount, debt)
    assert wanted != 0, "market: zero amount"
    repaid: uint256 = self._pull(LOAN, wanted)
    assert repaid != 0, "market: zero amount"
    burnt: uint256 = shares
    if repaid < debt:
        # rounds down: the borrower is released from no more debt than paid
        burnt = market_math.debt_to_shares(repaid, t, False)
    t.total_shares -= burnt
    # the accounted debt never goes below zero (debt of one position rounds up)
    t.total_debt -= min(repaid, t.total_debt)
    t.idle += repaid
    if t.total_shares == 0:
        # the last debt is repaid: no rounding residue (interest rounds up) may stay behind as lender assets
        t.total_debt = 0
    self._positions[on_behalf] = (word & ~MASK128) | (shares - burnt)
    self._store_totals(t)
    log Repaid(caller=msg.sender, account=on_behalf, assets=repaid, shares=burnt)
    return repaid


@external
def liquidate(borrower: address, repay_amount: uint256) -> uint256:
    """
    @notice Repay part of an unhealthy position's debt and seize collateral
            worth `repaid * (1 + bonus)`; debt left with no collateral is bad
            debt, written off against lenders (event BadDebtRealized).
            Judged by the ramped effective H_maint; works when paused or stale.
    @param borrower The position.
    @param repay_amount Loan-token raw units the liquidator offers.
    @return The collateral seized.
    """
    assert repay_amount != 0, "market: zero amount"
    h: market_math.Hot = self._hot()
    t: market_math.Totals = self._accrue_with(h)
    r: market_math.Risk = self._read_risk(h)
    rp: market_math.Ramp = market_math.poked(self._load_ramp(), t, h, r, block.timestamp)
    self._ramp_word = market_math.pack_ramp(rp)
    assert r.price != 0, "market: no price"
    word: uint256 = self._positions[borrower]
    collateral: uint256 = word >> 128
    shares: uint256 = word & MASK128
    debt: uint256 = market_math.to_debt(shares, t, True)
    assert not market_math.healthy_maint(collateral, debt, rp, r, h), "market: position healthy"
    wanted: uint256 = min(repay_amount, debt)
    # the most the remaining collateral can pay for, rounded up
    affordable: uint256 = self._ceil_div(market_math.value(collateral, r.price) * WAD, WAD + h.bonus)
    wanted = min(wanted, max(affordable, 1))
    repaid: uint256 = self._pull(LOAN, wanted)
    assert repaid != 0, "market: zero amount"
    # rounds down: the liquidator never gets more collateral than paid for
    seized: uint256 = min(repaid * (WAD + h.bonus) // WAD * PRICE_SCALE // r.price, collateral)
    burnt: uint256 = shares
    if repaid < debt:
        burnt = market_math.debt_to_shares(repaid, t, False)
    t.total_shares -= burnt
    t.total_debt -= min(repaid, t.total_debt)
    t.idle += repaid
    shares -= burnt
    collateral -= seized
    if collateral == 0 and shares != 0:
        # nothing left to seize: the rest is bad debt, socialised to lenders
        bad: uint256 = market_math.to_debt(shares, t, False)
        bad = min(bad, t.total_debt)
        t.total_debt -= bad
        t.total_shares -= shares
        log BadDebtRealized(borrower=borrower, assets=bad, shares=shares)
        shares = 0
    if t.total_shares == 0:
        t.total_debt = 0  # as in repay: no residue without debt shares
    self._positions[borrower] = (collateral << 128) | shares
    self._store_totals(t)
    self._push(COLLATERAL, msg.sender, seized)
    log Liquidated(liquidator=msg.sender, borrower=borrower, repaid=repaid, seized=seized, shares=burnt)
    return seized


@external
def poke():
    """
    @notice Accrue interest and move the maintenance ramp now (anyone; the
            keeper calls it after posting, the liquidation bot while a
            tightening is under way: a rise starts its ramp at the first poke
            that sees it).
    """
    self._poke()


# ------------------------------------------------------------------ views (the rest: MarketLens)

@external
@view
def position(account: address) -> (uint256, uint256):
    """
    @notice (collateral raw units, debt in loan raw units incl. interest, rounded up).
    """
    t: market_math.Totals = self._view_totals()
    word: uint256 = self._positions[account]
    return word >> 128, market_math.to_debt(word & MASK128, t, True)


@external
@view
def debt_shares(account: address) -> uint256:
    """
    @notice The account's debt shares.
    """
    return self._positions[account] & MASK128


@external
@view
def total_debt() -> uint256:
    """
    @notice All debt incl. interest accrued up to now (loan raw units).
    """
    return self._view_totals().total_debt


@external
@view
def total_debt_shares() -> uint256:
    """
    @notice All debt shares.
    """
    return self._load_totals().total_shares


@external
@view
def idle() -> uint256:
    """
    @notice Loan-token raw units held for lenders (not lent out).
    """
    return self._load_totals().idle


@external
@view
def paused() -> bool:
    """
    @notice Whether borrow, withdraw and lender deposits/withdrawals are stopped.
    """
    return self._load_totals().paused


@external
@view
def last_update() -> uint256:
    """
    @notice Time of the last interest accrual.
    """
    return self._load_totals().last_update


@external
@view
def ramp_at() -> uint256:
    """
    @notice Time of the last ramp poke.
    """
    return market_math.unpack_ramp(self._ramp_word).ramp_at


@external
@view
def price_feed() -> (address, uint256, uint256):
    """
    @notice The price feed cross-checking new risk (empty when none), its
            largest relative deviation from the oracle (WAD) and largest age (s).
    """
    if self._hot_b & HAS_FEED_BIT == 0:
        return empty(address), 0, 0
    w: uint256 = self._feed_word
    return convert(convert(w >> 96, uint160), address), ((w >> 40) & MASK32) * PPB, (w >> 8) & MASK32


@external
@view
def state() -> IMarket.MarketState:
    """
    @notice The raw storage words (for MarketLens, which decodes them with market_math).
    """
    return IMarket.MarketState(
        debt_word=self._debt_word,
        state_word=self._state_word,
        ramp_word=self._ramp_word,
        hot_a=self._hot_a,
        hot_b=self._hot_b,
        total_supply=self.totalSupply,
    )


@external
@view
def borrowers(start: uint256, count: uint256) -> DynArray[IMarket.Borrower, MAX_PAGE]:
    """
    @notice Borrowers `start` .. `start + count - 1` (0-based) with their raw
            collateral and debt shares (MarketLens adds their health).
    @param start First index (0-based).
    @param count How many (at most MAX_PAGE).
    """
    out: DynArray[IMarket.Borrower, MAX_PAGE] = []
    n: uint256 = self.num_borrowers
    for i: uint256 in range(MAX_PAGE):
        if i >= count or start + i >= n:
            break
        account: address = self._borrower_at[start + i + 1]
        word: uint256 = self._positions[account]
        out.append(IMarket.Borrower(account=account, collateral=word >> 128, debt_shares=word & MASK128))
    return out


# ------------------------------------------------------------------ admin

@external
def set_risk_params(risk: market_params.RiskParams):
    """
    @notice Replace the risk parameters (owner); each is bounded.
            The ramp keeps its value and moves to the new target from there.
    @param risk New risk parameters.
    """
    ownable._check_owner()
    self._poke()
    self._store_params(risk, self.rate_params)
    self._log_risk(risk)


@external
def set_rate_params(rates: market_params.RateParams):
    """
    @notice Replace the rate parameters (owner); interest up to now accrues at the old rate.
    @param rates New rate parameters.
    """
    ownable._check_owner()
    self._poke()
    self._store_params(self.risk_params, rates)
    log RateParamsSet(base=rates.base, slope1=rates.slope1, slope2=rates.slope2, kink=rates.kink)


@external
def set_price_feed(feed: address, max_deviation: uint256, max_age: uint256):
    """
    @notice Cross-check the oracle's price for new risk against a
            Chainlink-compatible feed of the collateral in loan tokens (owner);
            `feed` empty removes it. While the feed is unavailable, answers
            nonsense, is stale, or disagrees with the oracle by more than
            `max_deviation`, borrowing and collateral withdrawal stop; repay,
            deposits and liquidation go on at the oracle's price.
    @param feed The feed (`latestRoundData`, `decimals`), or empty.
    @param max_deviation Largest |oracle - feed| / feed, WAD (multiple of 1e9).
    @param max_age Largest age of the feed's answer, seconds.
    """
    ownable._check_owner()
    b: uint256 = self._hot_b & ~HAS_FEED_BIT
    if feed == empty(address):
        self._hot_b = b
        self._feed_word = 0
        log PriceFeedSet(feed=feed, max_deviation=0, max_age=0)
        return
    assert max_deviation >= MIN_FEED_DEVIATION, "market: max_deviation too low"
    assert max_deviation <= MAX_FEED_DEVIATION, "market: max_deviation too high"
    assert max_deviation % PPB == 0, "market: max_deviation off the 1e9 grid"
    assert max_age >= MIN_FEED_AGE, "market: max_age too short"
    assert max_age <= MAX_FEED_AGE, "market: max_age too long"
    e: uint256 = staticcall IFeedCheck(FEED_CHECK).exponent(
        feed, convert(_DECIMALS - DECIMALS_OFFSET, uint256), convert(COLL_DECIMALS, uint256)
    )
    self._feed_word = (
        (convert(convert(feed, uint160), uint256) << 96) | ((max_deviation // PPB) << 40) | (max_age << 8) | e
    )
    self._hot_b = b | HAS_FEED_BIT
    log PriceFeedSet(feed=feed, max_deviation=max_deviation, max_age=max_age)


@external
def pause():
    """
    @notice Stop borrow, collateral withdrawal and lender deposit/withdraw (owner).
            Repay, collateral deposits and liquidation keep working.
    """
    ownable._check_owner()
    t: market_math.Totals = self._load_totals()
    assert not t.paused, "market: already paused"
    t.paused = True
    self._store_totals(t)
    log Paused(by=msg.sender)


@external
def unpause():
    """
    @notice Resume (owner).
    """
    ownable._check_owner()
    t: market_math.Totals = self._load_totals()
    assert t.paused, "market: not paused"
    t.paused = False
    self._store_totals(t)
    log Unpaused(by=msg.sender)


# ------------------------------------------------------------------ internals: storage

@internal
@view
def _load_totals() -> market_math.Totals:
    """
    @dev Unpack the two market words.
    """
    return market_math.unpack_totals(self._debt_word, self._state_word)


@internal
def _store_totals(t: market_math.Totals):
    """
    @dev Pack and store the two market words.
    """
    self._debt_word = market_math.pack_debt(t)
    self._state_word = market_math.pack_state(t)


@internal
@view
def _load_ramp() -> market_math.Ramp:
    """
    @dev Unpack the ramp word.
    """
    return market_math.unpack_ramp(self._ramp_word)


@internal
@view
def _hot() -> market_math.Hot:
    """
    @dev Unpack the two parameter words.
    """
    return market_math.unpack_hot(self._hot_a, self._hot_b)


@internal
def _store_params(p: market_params.RiskParams, r: market_params.RateParams):
    """
    @dev Validate both parameter sets (through the factory: the bounds and
         their messages live in market_params), precompute the coefficients,
         pack the hot words (keeping the feed flag), store. The callers log.
    """
    # reverts with the bound's own message ("market: ...")
    assert staticcall IMarketFactory(FACTORY).validate_risk(p)  # dev: always True
    assert staticcall IMarketFactory(FACTORY).validate_rates(r)  # dev: always True
    # the coefficients round up to the 1e9 grid (a larger haircut)
    vol_init: uint256 = self._ceil_div(risk_model.vol_coefficient(p.z_init, p.horizon), PPB)
    vol_maint: uint256 = self._ceil_div(risk_model.vol_coefficient(p.z_maint, p.horizon), PPB)
    self._hot_a = (
        (vol_init << 224) | (vol_maint << 192) | ((p.h_min // PPB) << 160) | ((p.h_max // PPB) << 128)
        | ((p.bonus // PPB) << 96) | ((p.ramp_per_hour // PPB) << 64) | ((p.slip_k // (50 * PPB)) << 32)
        | (p.max_spread // PPB)
    )
    self._hot_b = (
        ((p.stale_sigma // market_params.SIGMA_UNIT) << 224) | (p.horizon << 204) | (p.stale_after << 184)
        | ((r.base // PPB) << 152) | ((r.slope1 // PPB) << 120) | ((r.slope2 // PPB) << 80)
        | ((r.kink // PPB) << 48) | (self._hot_b & HAS_FEED_BIT)
    )
    self.risk_params = p
    self.rate_params = r


@internal
def _log_risk(p: market_params.RiskParams):
    """
    @dev The RiskParamsSet event.
    """
    log RiskParamsSet(
        z_init=p.z_init, z_maint=p.z_maint, horizon=p.horizon, bonus=p.bonus, h_min=p.h_min,
        h_max=p.h_max, slip_k=p.slip_k, ramp_per_hour=p.ramp_per_hour, stale_after=p.stale_after,
        stale_sigma=p.stale_sigma, max_spread=p.max_spread,
    )


# ------------------------------------------------------------------ internals: interest, risk, ramp

@internal
def _accrue() -> market_math.Totals:
    """
    @dev Accrue interest and the utilisation average up to now; the caller stores the result.
    """
    return market_math.accrued(self._load_totals(), self._hot(), block.timestamp)


@internal
def _accrue_with(h: market_math.Hot) -> market_math.Totals:
    """
    @dev `_accrue` with the parameters already read.
    """
    return market_math.accrued(self._load_totals(), h, block.timestamp)


@internal
@view
def _view_totals() -> market_math.Totals:
    """
    @dev Totals as an accrual now would leave them (for views).
    """
    return market_math.accrued(self._load_totals(), self._hot(), block.timestamp)


@internal
@view
def _read_risk(h: market_math.Hot) -> market_math.Risk:
    """
    @dev One read of the oracle; sigma is the effective (stressed when stale) one.
    """
    price: uint256 = 0
    sigma: uint256 = 0
    depth: uint256 = 0
    observed_at: uint256 = 0
    spread: uint256 = 0
    price, sigma, depth, observed_at, spread = staticcall IRiskOracle(ORACLE).metrics(ASSET_ID)
    return market_math.risk_of(price, sigma, depth, observed_at, spread, h, block.timestamp)


@internal
@view
def _new_risk(h: market_math.Hot) -> market_math.Risk:
    """
    @dev The oracle's metrics for an action that adds risk: fresh, the
         signers in agreement, and the price feed (when set) agreeing.
    """
    r: market_math.Risk = self._read_risk(h)
    assert not r.stale, "market: stale risk data"
    assert r.spread <= h.max_spread, "market: price spread too wide"
    if h.has_feed:
        self._check_feed(r.price)
    return r


@internal
@view
def _check_feed(price: uint256):
    """
    @dev The price feed cross-check (FeedCheck.check reverts with the market's messages).
    """
    w: uint256 = self._feed_word
    assert staticcall IFeedCheck(FEED_CHECK).check(
        convert(convert(w >> 96, uint160), address), price, ((w >> 40) & MASK32) * PPB, (w >> 8) & MASK32, w & 255
    )  # dev: always True


@internal
def _poke():
    """
    @dev Accrue, move the ramp, store both.
    """
    h: market_math.Hot = self._hot()
    t: market_math.Totals = self._accrue_with(h)
    r: market_math.Risk = self._read_risk(h)
    self._ramp_word = market_math.pack_ramp(market_math.poked(self._load_ramp(), t, h, r, block.timestamp))
    self._store_totals(t)


# ------------------------------------------------------------------ internals: share math

@internal
@pure
def _ceil_div(a: uint256, b: uint256) -> uint256:
    """
    @dev Division rounding up; b is non-zero.
    """
    return (a + b - 1) // b


@internal
@view
def _to_shares(assets: uint256, total_assets: uint256, up: bool) -> uint256:
    """
    @dev Lender shares for assets with the virtual offset.
    """
    num: uint256 = assets * (self.totalSupply + VIRTUAL_SHARES)
    den: uint256 = total_assets + VIRTUAL_ASSETS
    if up:
        return self._ceil_div(num, den)
    return num // den


@internal
@view
def _to_assets(shares: uint256, total_assets: uint256, up: bool) -> uint256:
    """
    @dev Assets for lender shares with the virtual offset.
    """
    num: uint256 = shares * (total_assets + VIRTUAL_ASSETS)
    den: uint256 = self.totalSupply + VIRTUAL_SHARES
    if up:
        return self._ceil_div(num, den)
    return num // den


# ------------------------------------------------------------------ internals: tokens and shares

@internal
def _pull(token: address, amount: uint256) -> uint256:
    """
    @dev transferFrom the caller and return what actually arrived (balance delta).
    """
    if amount == 0:
        return 0
    before: uint256 = staticcall IERC20(token).balanceOf(self)
    assert extcall IERC20(token).transferFrom(msg.sender, self, amount, default_return_value=True), "market: transfer failed"
    return staticcall IERC20(token).balanceOf(self) - before


@internal
def _push(token: address, to: address, amount: uint256):
    """
    @dev Send tokens out (nothing when amount is zero).
    """
    if amount == 0:
        return
    assert extcall IERC20(token).transfer(to, amount, default_return_value=True), "market: transfer failed"


@internal
def _list_borrower(account: address):
    """
    @dev Add an account to the borrower list once.
    """
    if self._borrower_index[account] != 0:
        return
    n: uint256 = self.num_borrowers + 1
    self.num_borrowers = n
    self._borrower_index[account] = n
    self._borrower_at[n] = account


@internal
def _mint(to: address, shares: uint256):
    """
    @dev Mint lender shares.
    """
    self.totalSupply += shares
    self.balanceOf[to] += shares
    log Transfer(sender=empty(address), receiver=to, value=shares)


@internal
def _transfer(owner: address, to: address, amount: uint256):
    """
    @dev Move lender shares.
    """
    assert to != empty(address), "market: zero address"
    bal: uint256 = self.balanceOf[owner]
    assert bal >= amount, "market: insufficient shares"
    self.balanceOf[owner] = bal - amount
    self.balanceOf[to] += amount
    log Transfer(sender=owner, receiver=to, value=amount)


@internal
def _spend_allowance(owner: address, spender: address, amount: uint256):
    """
    @dev Use up allowance (an unlimited allowance stays unlimited).
    """
    allowed: uint256 = self.allowance[owner][spender]
    if allowed != max_value(uint256):
        assert allowed >= amount, "market: insufficient allowance"
        self.allowance[owner][spender] = allowed - amount


@internal
def _exit(t: market_math.Totals, assets: uint256, shares: uint256, receiver: address, owner: address):
    """
    @dev Burn `shares` of `owner` and send `assets` to `receiver` (withdraw / redeem).
    """
    assert receiver != empty(address), "market: zero address"
    if msg.sender != owner:
        self._spend_allowance(owner, msg.sender, shares)
    bal: uint256 = self.balanceOf[owner]
    assert bal >= shares, "market: insufficient shares"
    self.balanceOf[owner] = bal - shares
    self.totalSupply -= shares
    t.idle -= assets
    self._store_totals(t)
    self._push(LOAN, receiver, assets)
    log Transfer(sender=owner, receiver=empty(address), value=shares)
    log Withdraw(sender=msg.sender, receiver=receiver, owner=owner, assets=assets, shares=shares)
