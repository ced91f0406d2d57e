# pragma version ~=0.4.3
# pragma nonreentrancy on
# pragma optimize gas
# pragma experimental-codegen
"""
@title Ballast market: one collateral token, one loan token
@notice Lenders hold ERC-4626 shares of the loan token; borrowers hold
        collateral and debt shares. Interest accrues per second from
        utilisation (kinked model). New risk (borrow, withdraw collateral) is
        gated by the immediate initial haircut H_init; liquidation is judged by
        the maintenance haircut H_maint whose position-independent part ramps
        up at most `ramp_per_hour` per hour (a spike tightens in steps).
        Stale risk data degrades: borrow and withdraw stop, repay, collateral
        deposits and liquidation keep working.
@custom:security Look first at: `_accrue` (every mutating call that touches
        debt or lender assets goes through it), `_poked` (the ramp's clock), the balance-delta
        `_pull` (a fee-on-transfer token is credited only what arrived), the
        rounding of share conversions (always towards the market), and the bad
        debt write-off in `liquidate`. All external functions are
        non-reentrant through the module pragma (one transient lock).
"""

from ethereum.ercs import IERC20
from ethereum.ercs import IERC20Detailed
from ethereum.ercs import IERC4626

from snekmate.auth import ownable
from snekmate.auth import ownable_2step

from .interfaces import IRiskOracle
from .interfaces import IMarketFactory
from .interfaces import IMarket
from .modules import risk_model
from .modules import market_params

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
# @dev Oracle prices: loan raw units per collateral raw unit, times 1e36.
PRICE_SCALE: constant(uint256) = 10**36
# @dev Largest collateral value the market computes (loan raw units).
MAX_VALUE: constant(uint256) = 2**160
# @dev ERC-4626 virtual offset: shares carry 6 more decimals than assets and
#      the vault behaves as if it held VIRTUAL_ASSETS more assets and
#      VIRTUAL_SHARES more shares. A first depositor who donates X to inflate
#      the share price loses ~X * VIRTUAL_SHARES / (VIRTUAL_SHARES + 1) to the
#      virtual shares, which makes the inflation attack unprofitable.
DECIMALS_OFFSET: constant(uint8) = 6
VIRTUAL_SHARES: constant(uint256) = 10**6
VIRTUAL_ASSETS: constant(uint256) = 1
# @dev Same offset for debt shares (a first borrower cannot inflate them).
VIRTUAL_DEBT_SHARES: constant(uint256) = 10**6
VIRTUAL_DEBT: constant(uint256) = 1
# @dev Seconds per year (interest is a per-second rate).
YEAR: constant(uint256) = 365 * 86_400
# @dev Most positions `positions()` returns in one call.
MAX_PAGE: constant(uint256) = 100
# @dev Bit masks.
MASK128: constant(uint256) = 2**128 - 1
MASK88: constant(uint256) = 2**88 - 1
MASK40: constant(uint256) = 2**40 - 1
# The depth that judges existing positions falls at most 20% of itself per hour
# (the liquidity term grows at most 25% of itself per hour); a rise applies at once.
MAINT_DEPTH_FALL_PER_HOUR: constant(uint256) = 20 * 10**16
HOUR: constant(uint256) = 3600
MASK64: constant(uint256) = 2**64 - 1
MASK60: constant(uint256) = 2**60 - 1
MASK32: constant(uint256) = 2**32 - 1
MASK20: constant(uint256) = 2**20 - 1
# @dev Largest value a 128-bit packed amount may hold.
MAX_AMOUNT: constant(uint256) = 2**128 - 1

# @dev The loan token (lent, borrowed, repaid).
LOAN: public(immutable(address))
# @dev The collateral token.
COLLATERAL: public(immutable(address))
# @dev The risk oracle.
ORACLE: public(immutable(address))
# @dev The collateral's asset id in the oracle.
ASSET_ID: public(immutable(uint256))
# @dev The factory that deployed this market; it holds the parameter bounds
#      (`validate_risk` / `validate_rates`), which keeps this contract under the size limit.
FACTORY: public(immutable(address))
# @dev Share token decimals = loan decimals + DECIMALS_OFFSET.
_DECIMALS: immutable(uint8)


struct Totals:
    total_debt: uint256    # loan-token raw units owed by all borrowers, incl. accrued interest
    total_shares: uint256  # debt shares outstanding
    idle: uint256          # loan-token raw units held for lenders (not lent out)
    last_update: uint256   # unix seconds of the last accrual
    paused: bool


struct Ramp:
    maint_base: uint256    # ramped maintenance base, WAD
    ramp_at: uint256       # unix seconds of the last poke
    maint_depth: uint256   # ramped depth of the maintenance liquidity term, loan raw units
    ramping: bool          # the last poke left the base below its target or the depth above the
                           # posted one (a tightening is under way)


struct Hot:
    vol_init: uint256      # z_init * sqrt(h / YEAR), WAD
    vol_maint: uint256     # z_maint * sqrt(h / YEAR), WAD
    h_min: uint256         # WAD
    h_max: uint256         # WAD
    bonus: uint256         # WAD
    ramp_per_hour: uint256 # WAD per hour
    slip_coef: uint256     # 0.02 * k, WAD
    stale_sigma: uint256   # WAD
    horizon: uint256       # seconds
    stale_after: uint256   # seconds


struct Risk:
    price: uint256         # collateral price in loan-token raw units per collateral unit, WAD
    sigma: uint256         # effective sigma (stressed when stale), WAD
    depth: uint256         # loan-token raw units
    observed_at: uint256   # unix seconds of the observation
    stale: bool


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
# @dev idle:128 | last_update:64 | paused:64 (loan raw units | seconds | flag).
_state_word: uint256
# @dev maint_base:64 | ramp_at:64 | maint_depth:88 | ramping:40 (WAD | seconds | raw units | flag 0/1).
#      Written only by pokes (liquidate, poke, setters), so lender and repay calls never touch it.
_ramp_word: uint256
# @dev vol_coef_init:64 | vol_coef_maint:64 | h_min:64 | h_max:64 (all WAD).
_risk_word_a: uint256
# @dev bonus:60 | ramp_per_hour:60 | slip_coef:64 | stale_sigma:32 (1e-8 units) | horizon:20 | stale_after:20.
_risk_word_b: uint256
# @dev base:64 | slope1:64 | slope2:64 | kink:64 (all WAD).
_rate_word: uint256
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

event RateParamsSet:
    base: uint256
    slope1: uint256
    slope2: uint256
    kink: uint256

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
    risk: market_params.RiskParams,
    rates: market_params.RateParams,
    name_: String[64],
    symbol_: String[32],
):
    """
    @notice Create a market. Every parameter is checked against its bounds.
    @param loan_token The token lent and borrowed.
    @param collateral_token The collateral token.
    @param oracle The RiskOracle.
    @param asset_id The collateral's id in the oracle.
    @param owner The market's owner (two-step ownership).
    @param risk Risk parameters.
    @param rates Rate parameters.
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
    _DECIMALS = staticcall IERC20Detailed(loan_token).decimals() + DECIMALS_OFFSET
    self.name = name_
    self.symbol = symbol_
    self._set_risk(risk)
    self._set_rates(rates)
    # The ramp starts at the cap: the first poke loosens it to its target at once.
    self._store_totals(Totals(
        total_debt=0, total_shares=0, idle=0, last_update=block.timestamp, paused=False,
    ))
    self._store_ramp(Ramp(maint_base=risk.h_max, ramp_at=block.timestamp, maint_depth=0, ramping=False))


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
    t: Totals = self._accrued_totals()
    return t.idle + t.total_debt


@external
@view
def convertToShares(assets: uint256) -> uint256:
    """
    @notice Shares for `assets` (rounds down).
    """
    t: Totals = self._accrued_totals()
    return self._to_shares(assets, t.idle + t.total_debt, False)


@external
@view
def convertToAssets(shares: uint256) -> uint256:
    """
    @notice Assets for `shares` (rounds down).
    """
    t: Totals = self._accrued_totals()
    return self._to_assets(shares, t.idle + t.total_debt, False)


@external
@view
def maxDeposit(receiver: address) -> uint256:
    """
    @notice 0 while paused, unlimited otherwise.
    """
    if self._load_totals().paused:
        return 0
    return MAX_AMOUNT


@external
@view
def maxMint(receiver: address) -> uint256:
    """
    @notice 0 while paused, unlimited otherwise.
    """
    if self._load_totals().paused:
        return 0
    return MAX_AMOUNT


@external
@view
def maxWithdraw(owner: address) -> uint256:
    """
    @notice The owner's assets, limited by idle liquidity (0 while paused).
    """
    t: Totals = self._accrued_totals()
    if t.paused:
        return 0
    return min(self._to_assets(self.balanceOf[owner], t.idle + t.total_debt, False), t.idle)


@external
@view
def maxRedeem(owner: address) -> uint256:
    """
    @notice The owner's shares, limited by idle liquidity (0 while paused).
    """
    t: Totals = self._accrued_totals()
    if t.paused:
        return 0
    return min(self.balanceOf[owner], self._to_shares(t.idle, t.idle + t.total_debt, False))


@external
@view
def previewDeposit(assets: uint256) -> uint256:
    """
    @notice Shares `deposit(assets)` mints now (rounds down).
    """
    t: Totals = self._accrued_totals()
    return self._to_shares(assets, t.idle + t.total_debt, False)


@external
@view
def previewMint(shares: uint256) -> uint256:
    """
    @notice Assets `mint(shares)` takes now (rounds up).
    """
    t: Totals = self._accrued_totals()
    return self._to_assets(shares, t.idle + t.total_debt, True)


@external
@view
def previewWithdraw(assets: uint256) -> uint256:
    """
    @notice Shares `withdraw(assets)` burns now (rounds up).
    """
    t: Totals = self._accrued_totals()
    return self._to_shares(assets, t.idle + t.total_debt, True)


@external
@view
def previewRedeem(shares: uint256) -> uint256:
    """
    @notice Assets `redeem(shares)` pays now (rounds down).
    """
    t: Totals = self._accrued_totals()
    return self._to_assets(shares, t.idle + t.total_debt, False)


@external
def deposit(assets: uint256, receiver: address) -> uint256:
    """
    @notice Supply `assets` of the loan token; shares are minted for what
            actually arrived (a fee-on-transfer token is credited its net).
    @param assets Loan-token raw units to send.
    @param receiver Who gets the shares.
    @return The shares minted.
    """
    assert receiver != empty(address), "market: zero address"
    t: Totals = self._accrue()
    assert not t.paused, "market: paused"
    received: uint256 = self._pull(LOAN, assets)
    assert received != 0, "market: zero amount"
    # rounds down: the depositor gets no more than the value brought
    shares: uint256 = self._to_shares(received, t.idle + t.total_debt, False)
    assert shares != 0, "market: zero shares"
    t.idle += received
    assert t.idle <= MAX_AMOUNT, "market: amount too large"
    self._store_totals(t)
    self._mint(receiver, shares)
    log Deposit(sender=msg.sender, owner=receiver, assets=received, shares=shares)
    return shares


@external
def mint(shares: uint256, receiver: address) -> uint256:
    """
    @notice Mint exactly `shares`, pulling the assets they cost.
    @dev Reverts with a fee-on-transfer token (it could not mint exactly).
    @param shares Shares to mint.
    @param receiver Who gets the shares.
    @return The assets taken.
    """
    assert receiver != empty(address), "market: zero address"
    assert shares != 0, "market: zero shares"
    t: Totals = self._accrue()
    assert not t.paused, "market: paused"
    # rounds up: the minter pays at least the shares' value
    assets: uint256 = self._to_assets(shares, t.idle + t.total_debt, True)
    received: uint256 = self._pull(LOAN, assets)
    assert received == assets, "market: received less than sent"
    t.idle += received
    assert t.idle <= MAX_AMOUNT, "market: amount too large"
    self._store_totals(t)
    self._mint(receiver, shares)
    log Deposit(sender=msg.sender, owner=receiver, assets=assets, shares=shares)
    return assets


@external
def withdraw(assets: uint256, receiver: address, owner: address) -> uint256:
    """
    @notice Withdraw `assets` of the loan token, burning the shares they cost.
    @param assets Loan-token raw units.
    @param receiver Who gets the tokens.
    @param owner Whose shares are burnt (allowance needed unless the caller).
    @return The shares burnt.
    """
    assert assets != 0, "market: zero amount"
    t: Totals = self._accrue()
    assert not t.paused, "market: paused"
    assert assets <= t.idle, "market: insufficient liquidity"
    # rounds up: the lender burns at least the assets' value
    shares: uint256 = self._to_shares(assets, t.idle + t.total_debt, True)
    self._exit(t, assets, shares, receiver, owner)
    return shares


@external
def redeem(shares: uint256, receiver: address, owner: address) -> uint256:
    """
    @notice Burn `shares` for the loan token they are worth.
    @param shares Shares to burn.
    @param receiver Who gets the tokens.
    @param owner Whose shares are burnt (allowance needed unless the caller).
    @return The assets paid.
    """
    assert shares != 0, "market: zero shares"
    t: Totals = self._accrue()
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
    @notice Take collateral out; the position must stay healthy under H_init.
    @dev The debt is judged with interest accrued up to now, computed in
         memory and not stored: the call changes no debt and no lender
         asset, so (like supply_collateral) it skips the two storage writes
         of an accrual. Interest still accrues per second; only how often it
         compounds changes (at the next call that accrues).
    @param amount Collateral raw units.
    @param receiver Who gets the collateral.
    """
    assert amount != 0, "market: zero amount"
    assert receiver != empty(address), "market: zero address"
    t: Totals = self._accrued_totals()
    h: Hot = self._hot()
    r: Risk = self._read_risk(h)
    assert not t.paused, "market: paused"
    word: uint256 = self._positions[msg.sender]
    collateral: uint256 = word >> 128
    shares: uint256 = word & MASK128
    assert amount <= collateral, "market: insufficient collateral"
    collateral -= amount
    if shares != 0:
        assert not r.stale, "market: stale risk data"
        debt: uint256 = self._to_debt(shares, t, True)
        assert self._healthy_init(collateral, debt, t, r, h), "market: unhealthy after action"
    self._positions[msg.sender] = (collateral << 128) | shares
    self._push(COLLATERAL, receiver, amount)
    log CollateralWithdrawn(account=msg.sender, receiver=receiver, amount=amount)


@external
def borrow(amount: uint256, receiver: address) -> uint256:
    """
    @notice Borrow the loan token against the caller's collateral (H_init).
    @param amount Loan-token raw units.
    @param receiver Who gets the tokens.
    @return The debt shares added.
    """
    assert amount != 0, "market: zero amount"
    assert receiver != empty(address), "market: zero address"
    t: Totals = self._accrue()
    h: Hot = self._hot()
    r: Risk = self._read_risk(h)
    assert not t.paused, "market: paused"
    assert not r.stale, "market: stale risk data"
    assert amount <= t.idle, "market: insufficient liquidity"
    # rounds up: the borrower owes at least what they took
    added: uint256 = self._debt_to_shares(amount, t, True)
    word: uint256 = self._positions[msg.sender]
    shares: uint256 = (word & MASK128) + added
    assert shares <= MAX_AMOUNT, "market: amount too large"
    t.total_shares += added
    t.total_debt += amount
    t.idle -= amount
    debt: uint256 = self._to_debt(shares, t, True)
    assert self._healthy_init(word >> 128, debt, t, r, h), "market: unhealthy after action"
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
    t: Totals = self._accrue()
    word: uint256 = self._positions[on_behalf]
    shares: uint256 = word & MASK128
    assert shares != 0, "market: no debt"
    debt: uint256 = self._to_debt(shares, t, True)
    wanted: uint256 = min(amount, debt)
    assert wanted != 0, "market: zero amount"
    repaid: uint256 = self._pull(LOAN, wanted)
    assert repaid != 0, "market: zero amount"
    burnt: uint256 = shares
    if repaid < debt:
        # rounds down: the borrower is released from no more debt than paid
        burnt = self._debt_to_shares(repaid, t, False)
    t.total_shares -= burnt
    # the accounted debt never goes below zero (debt of one position rounds up)
    t.total_debt -= min(repaid, t.total_debt)
    t.idle += repaid
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
    t: Totals = self._accrue()
    h: Hot = self._hot()
    r: Risk = self._read_risk(h)
    rp: Ramp = self._poked(self._load_ramp(), t, h, r)
    self._store_ramp(rp)
    assert r.price != 0, "market: no price"
    word: uint256 = self._positions[borrower]
    collateral: uint256 = word >> 128
    shares: uint256 = word & MASK128
    debt: uint256 = self._to_debt(shares, t, True)
    assert not self._healthy_maint(collateral, debt, rp, r), "market: position healthy"
    wanted: uint256 = min(repay_amount, debt)
    # the most the remaining collateral can pay for, rounded up
    affordable: uint256 = self._ceil_div(self._value(collateral, r) * WAD, WAD + h.bonus)
    wanted = min(wanted, max(affordable, 1))
    repaid: uint256 = self._pull(LOAN, wanted)
    assert repaid != 0, "market: zero amount"
    # rounds down: the liquidator never gets more collateral than paid for
    seized: uint256 = min(repaid * (WAD + h.bonus) // WAD * PRICE_SCALE // r.price, collateral)
    burnt: uint256 = shares
    if repaid < debt:
        burnt = self._debt_to_shares(repaid, t, False)
    t.total_shares -= burnt
    t.total_debt -= min(repaid, t.total_debt)
    t.idle += repaid
    shares -= burnt
    collateral -= seized
    if collateral == 0 and shares != 0:
        # nothing left to seize: the rest is bad debt, socialised to lenders
        bad: uint256 = self._to_debt(shares, t, False)
        bad = min(bad, t.total_debt)
        t.total_debt -= bad
        t.total_shares -= shares
        log BadDebtRealized(borrower=borrower, assets=bad, shares=shares)
        shares = 0
    self._positions[borrower] = (collateral << 128) | shares
    self._store_totals(t)
    self._push(COLLATERAL, msg.sender, seized)
    log Liquidated(liquidator=msg.sender, borrower=borrower, repaid=repaid, seized=seized, shares=burnt)
    return seized


@external
def poke():
    """
    @notice Accrue interest and move the maintenance ramp now (anyone; the
            keeper calls it after posting so that a spike starts the ramp
            at once rather than at the next user call).
    """
    t: Totals = self._accrue()
    h: Hot = self._hot()
    r: Risk = self._read_risk(h)
    rp: Ramp = self._poked(self._load_ramp(), t, h, r)
    self._store_ramp(rp)
    self._store_totals(t)


# ------------------------------------------------------------------ views

@external
@view
def position(account: address) -> (uint256, uint256):
    """
    @notice (collateral raw units, debt in loan raw units incl. interest, rounded up).
    """
    t: Totals = self._accrued_totals()
    word: uint256 = self._positions[account]
    return word >> 128, self._to_debt(word & MASK128, t, True)


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
    return self._accrued_totals().total_debt


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
    return self._load_ramp().ramp_at


@external
@view
def ramping() -> bool:
    """
    @notice Whether the last ramp poke left the maintenance base below its target.
    """
    return self._load_ramp().ramping


@external
@view
def borrow_rate() -> uint256:
    """
    @notice Annual borrow rate now (WAD).
    """
    t: Totals = self._accrued_totals()
    return self._rate(t)


@external
@view
def utilisation() -> uint256:
    """
    @notice total debt / (idle + total debt), WAD (rounds down).
    """
    t: Totals = self._accrued_totals()
    return self._utilisation(t)


@external
@view
def maint_base() -> uint256:
    """
    @notice The ramped maintenance base as it would be after a poke now (WAD).
    """
    t: Totals = empty(Totals)
    r: Risk = empty(Risk)
    rp: Ramp = empty(Ramp)
    t, r, rp = self._view_state()
    return rp.maint_base


@external
@view
def maint_depth() -> uint256:
    """
    @notice The ramped depth of the maintenance liquidity term as it would be
            after a poke now (loan raw units): follows a posted rise at once
            and a posted fall by at most 20% of itself per hour.
    """
    t: Totals = empty(Totals)
    r: Risk = empty(Risk)
    rp: Ramp = empty(Ramp)
    t, r, rp = self._view_state()
    return rp.maint_depth


@external
@view
def h_init_of(account: address) -> uint256:
    """
    @notice The account's initial haircut H_init now (WAD).
    """
    t: Totals = empty(Totals)
    r: Risk = empty(Risk)
    rp: Ramp = empty(Ramp)
    t, r, rp = self._view_state()
    return self._h_init(self._value(self._positions[account] >> 128, r), t, r, self._hot())


@external
@view
def h_maint_of(account: address) -> uint256:
    """
    @notice The account's effective (ramped) maintenance haircut now (WAD).
    """
    t: Totals = empty(Totals)
    r: Risk = empty(Risk)
    rp: Ramp = empty(Ramp)
    t, r, rp = self._view_state()
    return self._h_maint(self._value(self._positions[account] >> 128, r), rp)


@external
@view
def required_ratio(collateral_amount: uint256, initial: bool) -> uint256:
    """
    @notice Collateral ratio 1 / (1 - H) a position of `collateral_amount`
            needs now (WAD, rounds up); `initial` selects H_init, else H_maint.
    """
    t: Totals = empty(Totals)
    r: Risk = empty(Risk)
    rp: Ramp = empty(Ramp)
    t, r, rp = self._view_state()
    v: uint256 = self._value(collateral_amount, r)
    if initial:
        return risk_model.collateral_ratio(self._h_init(v, t, r, self._hot()))
    return risk_model.collateral_ratio(self._h_maint(v, rp))


@external
@view
def health_factor(account: address) -> uint256:
    """
    @notice value * (1 - H_maint) / debt, WAD; max_value(uint256) without debt.
            Below WAD the position can be liquidated.
    """
    t: Totals = empty(Totals)
    r: Risk = empty(Risk)
    rp: Ramp = empty(Ramp)
    t, r, rp = self._view_state()
    word: uint256 = self._positions[account]
    debt: uint256 = self._to_debt(word & MASK128, t, True)
    if debt == 0:
        return max_value(uint256)
    v: uint256 = self._value(word >> 128, r)
    return v * (WAD - self._h_maint(v, rp)) // debt


@external
@view
def is_liquidatable(account: address) -> bool:
    """
    @notice Whether `liquidate` would accept this position now.
    """
    t: Totals = empty(Totals)
    r: Risk = empty(Risk)
    rp: Ramp = empty(Ramp)
    t, r, rp = self._view_state()
    word: uint256 = self._positions[account]
    return not self._healthy_maint(word >> 128, self._to_debt(word & MASK128, t, True), rp, r)


@external
@view
def max_borrowable(account: address) -> uint256:
    """
    @notice More loan token the account could borrow now under H_init
            (ignoring the rate rise the borrow itself causes); 0 when stale.
    """
    t: Totals = empty(Totals)
    r: Risk = empty(Risk)
    rp: Ramp = empty(Ramp)
    t, r, rp = self._view_state()
    if r.stale or t.paused:
        return 0
    word: uint256 = self._positions[account]
    v: uint256 = self._value(word >> 128, r)
    limit: uint256 = v * (WAD - self._h_init(v, t, r, self._hot())) // WAD
    debt: uint256 = self._to_debt(word & MASK128, t, True)
    if debt >= limit:
        return 0
    return min(limit - debt, t.idle)


@external
@view
def positions(start: uint256, count: uint256) -> DynArray[IMarket.PositionView, MAX_PAGE]:
    """
    @notice Borrowers `start` .. `start + count - 1` (0-based) with their
            collateral, debt and whether they can be liquidated now.
    @param start First index (0-based).
    @param count How many (at most 100).
    """
    t: Totals = empty(Totals)
    r: Risk = empty(Risk)
    rp: Ramp = empty(Ramp)
    t, r, rp = self._view_state()
    out: DynArray[IMarket.PositionView, MAX_PAGE] = []
    n: uint256 = self.num_borrowers
    for i: uint256 in range(MAX_PAGE):
        if i >= count or start + i >= n:
            break
        account: address = self._borrower_at[start + i + 1]
        word: uint256 = self._positions[account]
        debt: uint256 = self._to_debt(word & MASK128, t, True)
        out.append(IMarket.PositionView(
            account=account, collateral=word >> 128, debt=debt,
            liquidatable=not self._healthy_maint(word >> 128, debt, rp, r),
        ))
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
    t: Totals = self._accrue()
    h: Hot = self._hot()
    r: Risk = self._read_risk(h)
    rp: Ramp = self._poked(self._load_ramp(), t, h, r)
    self._store_ramp(rp)
    self._store_totals(t)
    self._set_risk(risk)


@external
def set_rate_params(rates: market_params.RateParams):
    """
    @notice Replace the rate parameters (owner); interest up to now accrues at the old rate.
    @param rates New rate parameters.
    """
    ownable._check_owner()
    t: Totals = self._accrue()
    h: Hot = self._hot()
    r: Risk = self._read_risk(h)
    rp: Ramp = self._poked(self._load_ramp(), t, h, r)
    self._store_ramp(rp)
    self._store_totals(t)
    self._set_rates(rates)


@external
def pause():
    """
    @notice Stop borrow, collateral withdrawal and lender deposit/withdraw (owner).
            Repay, collateral deposits and liquidation keep working.
    """
    ownable._check_owner()
    t: Totals = self._load_totals()
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
    t: Totals = self._load_totals()
    assert t.paused, "market: not paused"
    t.paused = False
    self._store_totals(t)
    log Unpaused(by=msg.sender)


# ------------------------------------------------------------------ internals: storage

@internal
@view
def _load_totals() -> Totals:
    """
    @dev Unpack the two market words.
    """
    d: uint256 = self._debt_word
    s: uint256 = self._state_word
    return Totals(
        total_debt=d >> 128, total_shares=d & MASK128, idle=s >> 128,
        last_update=(s >> 64) & MASK64, paused=(s & 1) == 1,
    )


@internal
def _store_totals(t: Totals):
    """
    @dev Pack and store the two market words. Amounts are checked to fit 128 bits where they grow.
    """
    self._debt_word = (t.total_debt << 128) | t.total_shares
    p: uint256 = 0
    if t.paused:
        p = 1
    self._state_word = (t.idle << 128) | (t.last_update << 64) | p


@internal
@view
def _load_ramp() -> Ramp:
    """
    @dev Unpack the ramp word.
    """
    w: uint256 = self._ramp_word
    return Ramp(
        maint_base=w >> 192,
        ramp_at=(w >> 128) & MASK64,
        maint_depth=(w >> 40) & MASK88,
        ramping=(w & MASK40) != 0,
    )


@internal
def _store_ramp(rp: Ramp):
    """
    @dev Pack and store the ramp word.
    """
    self._ramp_word = (
        (rp.maint_base << 192) | (rp.ramp_at << 128) | (rp.maint_depth << 40) | convert(rp.ramping, uint256)
    )


@internal
@view
def _hot() -> Hot:
    """
    @dev Unpack the two risk words.
    """
    a: uint256 = self._risk_word_a
    b: uint256 = self._risk_word_b
    return Hot(
        vol_init=a >> 192, vol_maint=(a >> 128) & MASK64, h_min=(a >> 64) & MASK64, h_max=a & MASK64,
        bonus=b >> 196, ramp_per_hour=(b >> 136) & MASK60, slip_coef=(b >> 72) & MASK64,
        stale_sigma=((b >> 40) & MASK32) * market_params.SIGMA_UNIT,
        horizon=(b >> 20) & MASK20, stale_after=b & MASK20,
    )


@internal
def _set_risk(p: market_params.RiskParams):
    """
    @dev Validate, precompute the coefficients, pack, store, log.
    """
    # reverts with the bound's own message ("market: ...")
    assert staticcall IMarketFactory(FACTORY).validate_risk(p)  # dev: always True
    vol_init: uint256 = risk_model.vol_coefficient(p.z_init, p.horizon)
    vol_maint: uint256 = risk_model.vol_coefficient(p.z_maint, p.horizon)
    slip: uint256 = p.slip_k * 2 // 100
    self._risk_word_a = (vol_init << 192) | (vol_maint << 128) | (p.h_min << 64) | p.h_max
    self._risk_word_b = (
        (p.bonus << 196) | (p.ramp_per_hour << 136) | (slip << 72)
        | ((p.stale_sigma // market_params.SIGMA_UNIT) << 40) | (p.horizon << 20) | p.stale_after
    )
    self.risk_params = p
    log RiskParamsSet(
        z_init=p.z_init, z_maint=p.z_maint, horizon=p.horizon, bonus=p.bonus, h_min=p.h_min,
        h_max=p.h_max, slip_k=p.slip_k, ramp_per_hour=p.ramp_per_hour, stale_after=p.stale_after,
        stale_sigma=p.stale_sigma,
    )


@internal
def _set_rates(r: market_params.RateParams):
    """
    @dev Validate, pack, store, log.
    """
    assert staticcall IMarketFactory(FACTORY).validate_rates(r)  # dev: always True
    self._rate_word = (r.base << 192) | (r.slope1 << 128) | (r.slope2 << 64) | r.kink
    self.rate_params = r
    log RateParamsSet(base=r.base, slope1=r.slope1, slope2=r.slope2, kink=r.kink)


# ------------------------------------------------------------------ internals: interest and ramp

@internal
@view
def _utilisation(t: Totals) -> uint256:
    """
    @dev total_debt / (idle + total_debt), WAD, rounds down; 0 when empty.
    """
    total: uint256 = t.idle + t.total_debt
    if total == 0:
        return 0
    return t.total_debt * WAD // total


@internal
@view
def _rate(t: Totals) -> uint256:
    """
    @dev The kinked annual borrow rate at the current utilisation (WAD).
    """
    w: uint256 = self._rate_word
    return risk_model.borrow_rate(self._utilisation(t), w >> 192, (w >> 128) & MASK64, (w >> 64) & MASK64, w & MASK64)


@internal
@view
def _accrued_totals() -> Totals:
    """
    @dev Totals with interest accrued up to now (linear over the elapsed
         seconds at the rate of the stored utilisation; rounds down, so
         lenders never earn more than borrowers owe). No ramp poke.
    """
    t: Totals = self._load_totals()
    if block.timestamp > t.last_update and t.total_debt != 0:
        interest: uint256 = t.total_debt * self._rate(t) * (block.timestamp - t.last_update) // (YEAR * WAD)
        t.total_debt += interest
    return t


@internal
@view
def _read_risk(h: Hot) -> Risk:
    """
    @dev One read of the oracle; sigma is the effective (stressed when stale) one.
    """
    price: uint256 = 0
    sigma: uint256 = 0
    depth: uint256 = 0
    observed_at: uint256 = 0
    spread: uint256 = 0
    price, sigma, depth, observed_at, spread = staticcall IRiskOracle(ORACLE).metrics(ASSET_ID)
    age: uint256 = 0
    if block.timestamp > observed_at:
        age = block.timestamp - observed_at
    return Risk(
        price=price,
        sigma=risk_model.effective_sigma(sigma, observed_at, block.timestamp, h.stale_after, h.stale_sigma),
        depth=depth,
        observed_at=observed_at,
        stale=age > h.stale_after,
    )


@internal
@view
def _poked(rp: Ramp, t: Totals, h: Hot, r: Risk) -> Ramp:
    """
    @dev Move the maintenance base towards its target (risk_model.ramp) and
         stamp the time. While a tightening is under way (the last poke left
         the base below its target) the clock runs from the last poke. When
         the base had caught up, a new rise can be no older than the
         observation that brought it, so the clock starts there: a spike
         after a quiet spell never tightens by the quiet spell's allowance in
         one block, and a crash whose sigma rises at every post still
         tightens at the full ramp pace from the second poke on. The stored
         value is capped at h_max: any base at or above the cap yields the
         same clamped H_maint. The depth of the maintenance liquidity term
         follows the posted depth on the same clock: a rise at once, a fall
         by at most MAINT_DEPTH_FALL_PER_HOUR of itself per hour.
    """
    target: uint256 = risk_model.base_haircut(r.sigma, h.vol_maint, self._rate(t), h.horizon, h.bonus)
    since: uint256 = rp.ramp_at
    if not rp.ramping and r.observed_at > since:
        since = r.observed_at
    elapsed: uint256 = 0
    if block.timestamp > since:
        elapsed = block.timestamp - since
    base: uint256 = min(risk_model.ramp(rp.maint_base, target, elapsed, h.ramp_per_hour), h.h_max)
    depth: uint256 = r.depth
    if depth < rp.maint_depth:
        # maint_depth < 2**88, frac <= WAD < 2**60: no overflow.
        frac: uint256 = min(WAD, MAINT_DEPTH_FALL_PER_HOUR * elapsed // HOUR)
        depth = max(depth, rp.maint_depth - rp.maint_depth * frac // WAD)
    return Ramp(
        maint_base=base,
        ramp_at=block.timestamp,
        maint_depth=depth,
        ramping=base < min(target, h.h_max) or depth > r.depth,
    )


@internal
def _accrue() -> Totals:
    """
    @dev Accrue interest up to now and stamp the time; the caller stores the result.
    """
    t: Totals = self._accrued_totals()
    t.last_update = block.timestamp
    return t


@internal
@view
def _view_state() -> (Totals, Risk, Ramp):
    """
    @dev Totals, risk and the maintenance ramp as a poke now would leave them (for views).
    """
    h: Hot = self._hot()
    r: Risk = self._read_risk(h)
    t: Totals = self._accrued_totals()
    return t, r, self._poked(self._load_ramp(), t, h, r)


# ------------------------------------------------------------------ internals: health

@internal
@pure
def _value(collateral: uint256, r: Risk) -> uint256:
    """
    @dev Collateral value in loan raw units; rounds down (against the borrower).
    """
    # A collateral value above 2**160 raw loan units cannot back any debt (debt < 2**128): saturate
    # there instead of overflowing, so that views and liquidation never revert on a huge position.
    if r.price != 0 and collateral > max_value(uint256) // r.price:
        return MAX_VALUE
    return min(collateral * r.price // PRICE_SCALE, MAX_VALUE)


@internal
@view
def _h_init(v: uint256, t: Totals, r: Risk, h: Hot) -> uint256:
    """
    @dev H_init of a position of value v: immediate sigma, the current rate.
    """
    base: uint256 = risk_model.base_haircut(r.sigma, h.vol_init, self._rate(t), h.horizon, h.bonus)
    return risk_model.clamp(base + risk_model.liquidity_term(v, r.depth, h.slip_coef, h.h_max), h.h_min, h.h_max)


@internal
@view
def _h_maint(v: uint256, rp: Ramp) -> uint256:
    """
    @dev Effective H_maint of a position of value v: the ramped base plus its
         liquidity term at the ramped depth.
    """
    h: Hot = self._hot()
    return risk_model.clamp(
        rp.maint_base + risk_model.liquidity_term(v, rp.maint_depth, h.slip_coef, h.h_max), h.h_min, h.h_max
    )


@internal
@view
def _healthy_init(collateral: uint256, debt: uint256, t: Totals, r: Risk, h: Hot) -> bool:
    """
    @dev debt <= value * (1 - H_init).
    """
    if debt == 0:
        return True
    v: uint256 = self._value(collateral, r)
    return debt * WAD <= v * (WAD - self._h_init(v, t, r, h))


@internal
@view
def _healthy_maint(collateral: uint256, debt: uint256, rp: Ramp, r: Risk) -> bool:
    """
    @dev debt <= value * (1 - H_maint) with the ramped base and depth.
    """
    if debt == 0:
        return True
    v: uint256 = self._value(collateral, r)
    return debt * WAD <= v * (WAD - self._h_maint(v, rp))


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


@internal
@pure
def _to_debt(shares: uint256, t: Totals, up: bool) -> uint256:
    """
    @dev Debt for debt shares with the virtual offset.
    """
    num: uint256 = shares * (t.total_debt + VIRTUAL_DEBT)
    den: uint256 = t.total_shares + VIRTUAL_DEBT_SHARES
    if up:
        return self._ceil_div(num, den)
    return num // den


@internal
@pure
def _debt_to_shares(assets: uint256, t: Totals, up: bool) -> uint256:
    """
    @dev Debt shares for a debt amount with the virtual offset.
    """
    num: uint256 = assets * (t.total_shares + VIRTUAL_DEBT_SHARES)
    den: uint256 = t.total_debt + VIRTUAL_DEBT
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
def _exit(t: Totals, assets: uint256, shares: uint256, receiver: address, owner: address):
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
