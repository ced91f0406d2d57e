# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title Ballast risk oracle
@notice Per-asset price, volatility (sigma), market depth and observation
        time, posted in batches by allowlisted keepers and read by markets.

        The oracle is deliberately asymmetric: RISK GOES UP FAST AND COMES
        DOWN SLOWLY. A posted sigma may rise by any amount in one update
        (tightening protects lenders, so it must never be delayed), but it
        may fall by at most `sigma_fall_per_hour` of itself per hour of
        observation time. Depth is the mirror image: it may fall at once
        and rise by at most `depth_rise_per_hour` of itself per hour. This
        is curve's ERC4626EMAOracle shape turned around: there `min(spot,
        ema)` lets price drops through at once and smooths rises; here
        anything that raises haircuts passes at once and anything that
        lowers them is rate limited, so a compromised or buggy keeper
        cannot loosen a market in one block. A single loosening beyond
        `loosen_threshold` does not apply at all: its sigma and depth wait
        in a pending slot for `challenge_window` seconds, during which the
        guardian (free) or anyone posting the challenge bond can cancel it.

        Storage: one slot per asset, high to low bits
            price:96 | depth:88 | sigma:32 | observed_at:32 | flags:8
        (sigma in units of SIGMA_UNIT = 1e10 wei of WAD; flags bit 0 = an
        update is pending, bit 1 = the asset exists). Update words in
        calldata: asset_id:16 | price:96 | depth:88 | sigma:32, so the low
        216 bits of a word are exactly the high 216 bits of the slot.

        Gas: a post reads exactly one slot for authorisation AND every
        guard parameter (each keeper's allowlist entry carries a copy of the
        guard word, rewritten by every setter), then one slot per asset;
        the pending slot is only touched when an update is queued. The
        guardrail arithmetic equals `oracle/model.py` (`min_sigma_allowed`,
        `max_depth_allowed`, `is_loosening_beyond_threshold`) to the wei.
@custom:security Look first at: the guard word copies in `_keeper_word`
        (every setter of the guard word must go through `_store_guard`);
        the fast paths in `post` that skip the fall / rise bounds when sigma
        does not fall / depth does not rise (equivalent because
        min_sigma_allowed <= old sigma and max_depth_allowed >= old depth);
        the bond transfer in `settle_challenge` (nonreentrant, state cleared
        before the call; a challenger that rejects ether cannot be repaid,
        so such a challenge can only be settled as not upheld). Setters of
        the guard word (including `pause`) write one slot per keeper (at
        most MAX_KEEPERS). Only ether-moving functions take the reentrancy
        lock: `post` makes no external call and must stay cheap.
"""

from snekmate.auth import ownable
from snekmate.auth import ownable_2step

from .interfaces import IRiskOracle

implements: IRiskOracle

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
# @dev Seconds in an hour (guard rates are per hour of observation time).
HOUR: constant(uint256) = 3_600
# @dev Wei of WAD per stored sigma unit (sigma_wad = units * SIGMA_UNIT).
SIGMA_UNIT: constant(uint256) = 10**10
# @dev Lowest accepted sigma, WAD (1%), and the same in storage units.
MIN_SIGMA: constant(uint256) = 10**16
MIN_SIGMA_UNITS: constant(uint256) = MIN_SIGMA // SIGMA_UNIT
# @dev Highest accepted sigma, WAD (2000%), and the same in storage units.
MAX_SIGMA: constant(uint256) = 20 * WAD
MAX_SIGMA_UNITS: constant(uint256) = MAX_SIGMA // SIGMA_UNIT
# @dev Asset ids are 16 bits in an update word; id 0 is never used.
MAX_ASSETS: constant(uint256) = 65_536
# @dev Length of the keeper allowlist (each entry carries a guard word copy).
MAX_KEEPERS: constant(uint256) = 16
# @dev Updates per post.
MAX_UPDATES: constant(uint256) = 64

# @dev Bounds of the guard parameters (WAD per hour, WAD, seconds).
MIN_SIGMA_FALL_PER_HOUR: constant(uint256) = 10**15
MAX_SIGMA_FALL_PER_HOUR: constant(uint256) = WAD // 2
MIN_DEPTH_RISE_PER_HOUR: constant(uint256) = 10**15
MAX_DEPTH_RISE_PER_HOUR: constant(uint256) = WAD
MIN_LOOSEN_THRESHOLD: constant(uint256) = 10**16
MAX_LOOSEN_THRESHOLD: constant(uint256) = WAD // 2
MIN_CHALLENGE_WINDOW: constant(uint256) = 300
MAX_CHALLENGE_WINDOW: constant(uint256) = 7 * 86_400
# @dev Bounds of the challenge bond, wei.
MIN_CHALLENGE_BOND: constant(uint256) = 10**16
MAX_CHALLENGE_BOND: constant(uint256) = 100 * 10**18

# @dev Defaults (equal to `oracle.model.GuardParams()`), and bond default (wei).
DEFAULT_SIGMA_FALL_PER_HOUR: constant(uint256) = 5 * WAD // 100
DEFAULT_DEPTH_RISE_PER_HOUR: constant(uint256) = 5 * WAD // 100
DEFAULT_LOOSEN_THRESHOLD: constant(uint256) = 20 * WAD // 100
DEFAULT_CHALLENGE_WINDOW: constant(uint256) = HOUR
DEFAULT_CHALLENGE_BOND: constant(uint256) = 10**17

# @dev Bit masks.
MASK8: constant(uint256) = 2**8 - 1
MASK32: constant(uint256) = 2**32 - 1
MASK64: constant(uint256) = 2**64 - 1
MASK88: constant(uint256) = 2**88 - 1
MASK96: constant(uint256) = 2**96 - 1
MASK160: constant(uint256) = 2**160 - 1
MASK216: constant(uint256) = 2**216 - 1

# @dev Asset slot layout (shift of each field, low to high).
AT_SHIFT: constant(uint256) = 8
SIGMA_SHIFT: constant(uint256) = 40
DEPTH_SHIFT: constant(uint256) = 72
PRICE_SHIFT: constant(uint256) = 160
# @dev Bits 40..159 of an asset slot: depth and sigma.
RISK_MASK: constant(uint256) = (2**120 - 1) << 40
# @dev Asset slot flags.
FLAG_PENDING: constant(uint256) = 1
FLAG_EXISTS: constant(uint256) = 2

# @dev Update word layout: asset_id:16 | price:96 | depth:88 | sigma:32.
WORD_DEPTH_SHIFT: constant(uint256) = 32
WORD_PRICE_SHIFT: constant(uint256) = 120
WORD_ID_SHIFT: constant(uint256) = 216

# @dev Guard word layout, low to high: flags:8 | challenge_window:32 |
#      loosen_threshold:64 | depth_rise_per_hour:64 | sigma_fall_per_hour:64.
WINDOW_SHIFT: constant(uint256) = 8
LOOSEN_SHIFT: constant(uint256) = 40
RISE_SHIFT: constant(uint256) = 104
FALL_SHIFT: constant(uint256) = 168
# @dev Guard word flags.
FLAG_KEEPER: constant(uint256) = 1
FLAG_PAUSED: constant(uint256) = 2

# @dev Pending slot layout, low to high: eta:64 | sigma units:32 | depth:88.
PENDING_SIGMA_SHIFT: constant(uint256) = 64
PENDING_DEPTH_SHIFT: constant(uint256) = 96

# @dev Challenge record layout: bond:96 | challenger:160 (wei, address).
BOND_SHIFT: constant(uint256) = 160


# @dev Asset id (1, 2, ...) of a token; 0 when not added.
asset_id: public(HashMap[address, uint256])
# @dev Token of an asset id; empty for unknown ids.
asset_of: public(HashMap[uint256, address])
# @dev Number of assets added (the highest id).
num_assets: public(uint256)
# @dev The guardian: may pause and challenge pending updates for free.
guardian: public(address)
# @dev Bond (wei) a non-guardian challenger must send with `challenge`.
challenge_bond: public(uint256)

# @dev Packed asset slots indexed by asset id (layout in the module
#      docstring; price WAD, depth loan-token raw units, sigma SIGMA_UNIT,
#      observed_at unix seconds). A plain array: no hashing per asset.
_slots: uint256[MAX_ASSETS]
# @dev Pending loosening per asset id (eta unix seconds, sigma units,
#      depth raw units); meaningful only while FLAG_PENDING is set.
_pending: HashMap[uint256, uint256]
# @dev Open challenge per asset id (bond wei, challenger); 0 when none.
_challenges: HashMap[uint256, uint256]
# @dev Canonical guard word (parameters + FLAG_PAUSED; never FLAG_KEEPER).
_guard: uint256
# @dev Per account: 0, or the guard word with FLAG_KEEPER (the allowlist).
_keeper_word: HashMap[address, uint256]
# @dev Accounts with FLAG_KEEPER, so that guard changes reach every copy.
_keepers: DynArray[address, MAX_KEEPERS]


event AssetAdded:
    token: indexed(address)
    asset_id: uint256


event KeeperSet:
    account: indexed(address)
    enabled: bool


event GuardianSet:
    guardian: indexed(address)


event GuardParamsSet:
    sigma_fall_per_hour: uint256
    depth_rise_per_hour: uint256
    loosen_threshold: uint256
    challenge_window: uint256


event ChallengeBondSet:
    amount: uint256


event Paused:
    by: indexed(address)


event Unpaused:
    by: indexed(address)


event MetricsPosted:
    keeper: indexed(address)
    observed_at: uint256
    updates: uint256


event UpdateQueued:
    asset_id: indexed(uint256)
    sigma: uint256
    depth: uint256
    eta: uint256


event PendingDropped:
    asset_id: indexed(uint256)


event PendingApplied:
    asset_id: indexed(uint256)
    sigma: uint256
    depth: uint256


event UpdateChallenged:
    asset_id: indexed(uint256)
    challenger: indexed(address)
    bond: uint256


event ChallengeSettled:
    asset_id: indexed(uint256)
    challenger: indexed(address)
    upheld: bool
    bond: uint256


@deploy
def __init__(guardian: address):
    """
    @notice Owner = deployer (two-step transfers), guard parameters at
            their defaults (`oracle.model.GuardParams()`), bond 0.1 ether.
    @param guardian The guardian account.
    """
    ownable.__init__()
    ownable_2step.__init__()
    assert guardian != empty(address), "oracle: zero address"
    self.guardian = guardian
    self.challenge_bond = DEFAULT_CHALLENGE_BOND
    self._store_guard(
        self._pack_guard(
            DEFAULT_SIGMA_FALL_PER_HOUR,
            DEFAULT_DEPTH_RISE_PER_HOUR,
            DEFAULT_LOOSEN_THRESHOLD,
            DEFAULT_CHALLENGE_WINDOW,
        )
    )
    log GuardianSet(guardian=guardian)


@external
def add_asset(token: address) -> uint256:
    """
    @notice Register a token; ids are 1, 2, 3, ...
    @param token The asset's token.
    @return The new asset id.
    """
    ownable._check_owner()
    assert token != empty(address), "oracle: zero address"
    assert self.asset_id[token] == 0, "oracle: asset exists"
    aid: uint256 = self.num_assets + 1
    assert aid < MAX_ASSETS, "oracle: too many assets"
    self.asset_id[token] = aid
    self.asset_of[aid] = token
    self.num_assets = aid
    # The exists flag makes the first post a nonzero -> nonzero write.
    self._slots[aid] = FLAG_EXISTS
    log AssetAdded(token=token, asset_id=aid)
    return aid


@external
def set_keeper(account: address, enabled: bool):
    """
    @notice Add an account to or remove it from the keeper allowlist.
    @param account The keeper.
    @param enabled True to allow, False to remove.
    """
    ownable._check_owner()
    assert account != empty(address), "oracle: zero address"
    listed: bool = self._keeper_word[account] != 0
    if enabled and not listed:
        assert len(self._keepers) < MAX_KEEPERS, "oracle: too many keepers"
        self._keepers.append(account)
        self._keeper_word[account] = self._guard | FLAG_KEEPER
    elif not enabled and listed:
        n: uint256 = len(self._keepers)
        for i: uint256 in range(MAX_KEEPERS):
            if i == n:
                break
            if self._keepers[i] == account:
                self._keepers[i] = self._keepers[n - 1]
                self._keepers.pop()
                break
        self._keeper_word[account] = 0
    log KeeperSet(account=account, enabled=enabled)


@external
def set_guardian(account: address):
    """
    @notice Replace the guardian.
    @param account The new guardian.
    """
    ownable._check_owner()
    assert account != empty(address), "oracle: zero address"
    self.guardian = account
    log GuardianSet(guardian=account)


@external
def set_guard_params(
    sigma_fall_per_hour: uint256,
    depth_rise_per_hour: uint256,
    loosen_threshold: uint256,
    challenge_window: uint256,
):
    """
    @notice Set the guardrails. Pending updates keep the eta they got.
    @param sigma_fall_per_hour Largest fall of sigma per hour, fraction of itself, WAD.
    @param depth_rise_per_hour Largest rise of depth per hour, fraction of itself, WAD.
    @param loosen_threshold Relative loosening (WAD) beyond which an update waits.
    @param challenge_window Seconds a pending update waits.
    """
    ownable._check_owner()
    assert sigma_fall_per_hour >= MIN_SIGMA_FALL_PER_HOUR, "oracle: sigma_fall_per_hour too low"
    assert sigma_fall_per_hour <= MAX_SIGMA_FALL_PER_HOUR, "oracle: sigma_fall_per_hour too high"
    assert depth_rise_per_hour >= MIN_DEPTH_RISE_PER_HOUR, "oracle: depth_rise_per_hour too low"
    assert depth_rise_per_hour <= MAX_DEPTH_RISE_PER_HOUR, "oracle: depth_rise_per_hour too high"
    assert loosen_threshold >= MIN_LOOSEN_THRESHOLD, "oracle: loosen_threshold too low"
    assert loosen_threshold <= MAX_LOOSEN_THRESHOLD, "oracle: loosen_threshold too high"
    assert challenge_window >= MIN_CHALLENGE_WINDOW, "oracle: challenge_window too low"
    assert challenge_window <= MAX_CHALLENGE_WINDOW, "oracle: challenge_window too high"
    g: uint256 = self._pack_guard(sigma_fall_per_hour, depth_rise_per_hour, loosen_threshold, challenge_window)
    self._store_guard(g | (self._guard & FLAG_PAUSED))
    log GuardParamsSet(
        sigma_fall_per_hour=sigma_fall_per_hour,
        depth_rise_per_hour=depth_rise_per_hour,
        loosen_threshold=loosen_threshold,
        challenge_window=challenge_window,
    )


@external
def set_challenge_bond(amount: uint256):
    """
    @notice Set the bond a non-guardian challenger sends.
    @param amount Bond, wei.
    """
    ownable._check_owner()
    assert amount >= MIN_CHALLENGE_BOND, "oracle: challenge_bond too low"
    assert amount <= MAX_CHALLENGE_BOND, "oracle: challenge_bond too high"
    self.challenge_bond = amount
    log ChallengeBondSet(amount=amount)


@external
def pause():
    """
    @notice Stop posts and the application of pending updates.
    """
    assert msg.sender == ownable.owner or msg.sender == self.guardian, "oracle: not owner or guardian"
    g: uint256 = self._guard
    assert g & FLAG_PAUSED == 0, "oracle: paused"
    self._store_guard(g | FLAG_PAUSED)
    log Paused(by=msg.sender)


@external
def unpause():
    """
    @notice Resume posts (owner only: the guardian can stop, not restart).
    """
    ownable._check_owner()
    g: uint256 = self._guard
    assert g & FLAG_PAUSED != 0, "oracle: not paused"
    self._store_guard(g & ~FLAG_PAUSED)
    log Unpaused(by=msg.sender)


@external
def post(observed_at: uint256, deadline: uint256, updates: DynArray[uint256, MAX_UPDATES]):
    """
    @notice Post metrics for several assets observed at one time.
    @dev Risk up fast, down slow: a rising sigma or falling depth applies at
         once; a falling sigma / rising depth is bounded per hour of
         observation time; a loosening beyond `loosen_threshold` waits in
         the pending slot (price and observed_at still apply). Any update
         that is not queued drops the asset's pending update.
    @param observed_at Observation time of every update, unix seconds.
    @param deadline The transaction is void after this time.
    @param updates Words asset_id:16 | price:96 | depth:88 | sigma_units:32.
    """
    kw: uint256 = self._keeper_word[msg.sender]
    assert kw & FLAG_KEEPER != 0, "oracle: not keeper"
    assert kw & FLAG_PAUSED == 0, "oracle: paused"
    assert block.timestamp <= deadline, "oracle: deadline passed"
    # observed_at <= block.timestamp < 2**32 (until 2106): fits its 32 bits.
    assert observed_at <= block.timestamp, "oracle: observation in future"
    at_bits: uint256 = observed_at << AT_SHIFT

    for w: uint256 in updates:
        aid: uint256 = w >> WORD_ID_SHIFT
        # Ids are 16 bits; a word with bits set above them names no asset.
        assert aid < MAX_ASSETS, "oracle: unknown asset"
        old: uint256 = self._slots[aid]
        assert old & FLAG_EXISTS != 0, "oracle: unknown asset"
        old_at: uint256 = (old >> AT_SHIFT) & MASK32
        assert observed_at > old_at, "oracle: observation not newer"
        assert w & (MASK96 << WORD_PRICE_SHIFT) != 0, "oracle: price zero"
        depth: uint256 = (w >> WORD_DEPTH_SHIFT) & MASK88
        assert depth != 0, "oracle: depth zero"
        units: uint256 = w & MASK32
        assert units >= MIN_SIGMA_UNITS, "oracle: sigma too low"
        assert units <= MAX_SIGMA_UNITS, "oracle: sigma too high"

        # price | depth | sigma of the word, observed_at, exists; pending cleared.
        fresh: uint256 = ((w & MASK216) << SIGMA_SHIFT) | at_bits | FLAG_EXISTS
        if old_at == 0:
            # First post of the asset: nothing to compare with.
            self._slots[aid] = fresh
            continue

        # All products below are < 2**200 (sigma < 2**32 * 1e10 < 2**66, WAD
        # < 2**60, depth < 2**88, rates < 2**64, dt < 2**32): no overflow.
        dt: uint256 = unsafe_sub(observed_at, old_at)
        new_sigma: uint256 = unsafe_mul(units, SIGMA_UNIT)
        old_sigma: uint256 = unsafe_mul((old >> SIGMA_SHIFT) & MASK32, SIGMA_UNIT)
        old_depth: uint256 = (old >> DEPTH_SHIFT) & MASK88
        loosening: bool = False
        if new_sigma < old_sigma:
            # model.min_sigma_allowed: the allowed fall rounds down, so the
            # floor rounds up (conservative).
            frac: uint256 = min(WAD, unsafe_div(unsafe_mul((kw >> FALL_SHIFT) & MASK64, dt), HOUR))
            floor_sigma: uint256 = unsafe_sub(old_sigma, unsafe_div(unsafe_mul(old_sigma, frac), WAD))
            assert new_sigma >= floor_sigma, "oracle: sigma falls too fast"
            # model.is_loosening_beyond_threshold, sigma part (exact products).
            loosening = unsafe_mul(new_sigma, WAD) < unsafe_mul(
                old_sigma, unsafe_sub(WAD, (kw >> LOOSEN_SHIFT) & MASK64)
            )
        if depth > old_depth:
            # model.max_depth_allowed: the allowed rise rounds down (conservative).
            growth: uint256 = unsafe_div(unsafe_mul((kw >> RISE_SHIFT) & MASK64, dt), HOUR)
            assert depth <= unsafe_add(old_depth, unsafe_div(unsafe_mul(old_depth, growth), WAD)), (
                "oracle: depth rises too fast"
            )
            if not loosening:
                loosening = unsafe_mul(depth, WAD) > unsafe_mul(
                    old_depth, unsafe_add(WAD, (kw >> LOOSEN_SHIFT) & MASK64)
                )

        if loosening:
            eta: uint256 = block.timestamp + ((kw >> WINDOW_SHIFT) & MASK32)
            self._pending[aid] = (depth << PENDING_DEPTH_SHIFT) | (units << PENDING_SIGMA_SHIFT) | eta
            # New price and time, old depth and sigma, pending flag set.
            self._slots[aid] = (fresh & ~RISK_MASK) | (old & RISK_MASK) | FLAG_PENDING
            log UpdateQueued(asset_id=aid, sigma=new_sigma, depth=depth, eta=eta)
        else:
            self._slots[aid] = fresh
            if old & FLAG_PENDING != 0:
                log PendingDropped(asset_id=aid)

    log MetricsPosted(keeper=msg.sender, observed_at=observed_at, updates=len(updates))


@external
def apply_pending(asset_id: uint256):
    """
    @notice Apply an asset's pending update once its challenge window ended.
    @param asset_id The asset.
    """
    assert self._guard & FLAG_PAUSED == 0, "oracle: paused"
    s: uint256 = self._slot_of(asset_id)
    assert s & FLAG_PENDING != 0, "oracle: nothing pending"
    p: uint256 = self._pending[asset_id]
    assert block.timestamp >= p & MASK64, "oracle: challenge window open"
    units: uint256 = (p >> PENDING_SIGMA_SHIFT) & MASK32
    depth: uint256 = p >> PENDING_DEPTH_SHIFT
    self._slots[asset_id] = (
        (s & ~(RISK_MASK | FLAG_PENDING)) | (depth << DEPTH_SHIFT) | (units << SIGMA_SHIFT)
    )
    log PendingApplied(asset_id=asset_id, sigma=units * SIGMA_UNIT, depth=depth)


@external
@payable
@nonreentrant
def challenge(asset_id: uint256):
    """
    @notice Cancel an asset's pending update during its challenge window.
            The guardian challenges for free (send no value); anyone else
            sends exactly `challenge_bond`, which the owner later returns
            (upheld) or keeps (`settle_challenge`).
    @param asset_id The asset.
    """
    s: uint256 = self._slot_of(asset_id)
    assert s & FLAG_PENDING != 0, "oracle: nothing pending"
    assert block.timestamp < self._pending[asset_id] & MASK64, "oracle: challenge window closed"
    if msg.sender != self.guardian or msg.value != 0:
        assert msg.value == self.challenge_bond, "oracle: bond required"
        assert self._challenges[asset_id] == 0, "oracle: challenge unsettled"
        # bond <= MAX_CHALLENGE_BOND < 2**96.
        self._challenges[asset_id] = (msg.value << BOND_SHIFT) | convert(msg.sender, uint256)
    self._slots[asset_id] = s & ~FLAG_PENDING
    log UpdateChallenged(asset_id=asset_id, challenger=msg.sender, bond=msg.value)


@external
@nonreentrant
def settle_challenge(asset_id: uint256, upheld: bool):
    """
    @notice Close a bonded challenge: upheld returns the bond to the
            challenger, otherwise it goes to the owner.
    @param asset_id The asset.
    @param upheld Whether the challenge was right.
    """
    ownable._check_owner()
    c: uint256 = self._challenges[asset_id]
    assert c != 0, "oracle: no challenge"
    self._challenges[asset_id] = 0
    challenger: address = convert(convert(c & MASK160, uint160), address)
    bond: uint256 = c >> BOND_SHIFT
    to: address = ownable.owner
    if upheld:
        to = challenger
    if bond != 0:
        raw_call(to, b"", value=bond)
    log ChallengeSettled(asset_id=asset_id, challenger=challenger, upheld=upheld, bond=bond)


@external
@view
def metrics(asset_id: uint256) -> (uint256, uint256, uint256, uint256):
    """
    @notice Current metrics of an asset (zeros if never posted or unknown).
    @param asset_id The asset.
    @return price (WAD), sigma (WAD), depth (loan-token raw units), observed_at (unix seconds).
    """
    s: uint256 = self._slot_of(asset_id)
    return (
        s >> PRICE_SHIFT,
        ((s >> SIGMA_SHIFT) & MASK32) * SIGMA_UNIT,
        (s >> DEPTH_SHIFT) & MASK88,
        (s >> AT_SHIFT) & MASK32,
    )


@external
@view
def pending(asset_id: uint256) -> (uint256, uint256, uint256):
    """
    @notice An asset's pending update (zeros when none).
    @param asset_id The asset.
    @return sigma (WAD), depth (raw units), eta (unix seconds).
    """
    if self._slot_of(asset_id) & FLAG_PENDING == 0:
        return (0, 0, 0)
    p: uint256 = self._pending[asset_id]
    return (((p >> PENDING_SIGMA_SHIFT) & MASK32) * SIGMA_UNIT, p >> PENDING_DEPTH_SHIFT, p & MASK64)


@external
@view
def challenge_of(asset_id: uint256) -> (address, uint256):
    """
    @notice The open bonded challenge of an asset.
    @param asset_id The asset.
    @return challenger (empty when none), bond (wei).
    """
    c: uint256 = self._challenges[asset_id]
    return convert(convert(c & MASK160, uint160), address), c >> BOND_SHIFT


@external
@view
def is_keeper(account: address) -> bool:
    """
    @notice Whether an account may post.
    @param account The account.
    @return True if allowlisted.
    """
    return self._keeper_word[account] != 0


@external
@view
def keepers() -> DynArray[address, MAX_KEEPERS]:
    """
    @notice The keeper allowlist.
    @return The keepers, in no particular order.
    """
    return self._keepers


@external
@view
def paused() -> bool:
    """
    @notice Whether posts and pending applications are stopped.
    @return True when paused.
    """
    return self._guard & FLAG_PAUSED != 0


@external
@view
def guard_params() -> (uint256, uint256, uint256, uint256):
    """
    @notice The guardrails.
    @return sigma_fall_per_hour (WAD), depth_rise_per_hour (WAD), loosen_threshold (WAD), challenge_window (s).
    """
    g: uint256 = self._guard
    return (
        (g >> FALL_SHIFT) & MASK64,
        (g >> RISE_SHIFT) & MASK64,
        (g >> LOOSEN_SHIFT) & MASK64,
        (g >> WINDOW_SHIFT) & MASK32,
    )


@internal
@view
def _slot_of(asset_id: uint256) -> uint256:
    """
    @dev The packed slot of an id; 0 for ids out of range.
    """
    if asset_id >= MAX_ASSETS:
        return 0
    return self._slots[asset_id]


@internal
@pure
def _pack_guard(fall: uint256, rise: uint256, loosen: uint256, window: uint256) -> uint256:
    """
    @dev Guard word without flags; every field is within its bit width by its bounds.
    """
    return (fall << FALL_SHIFT) | (rise << RISE_SHIFT) | (loosen << LOOSEN_SHIFT) | (window << WINDOW_SHIFT)


@internal
def _store_guard(g: uint256):
    """
    @dev Store the canonical guard word and its copy in every keeper entry.
    """
    self._guard = g
    for k: address in self._keepers:
        self._keeper_word[k] = g | FLAG_KEEPER
