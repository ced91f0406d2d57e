# pragma version ~=0.4.3
# pragma nonreentrancy off
# pragma optimize gas
# pragma experimental-codegen
"""
@title Ballast risk oracle: signed k-of-n reports
@notice Per-asset price, volatility (sigma), market depth, spread of the
        signers' prices and observation time. NO SINGLE KEY MOVES A MARKET:
        each keeper operator signs its own report (EIP-712 typed data bound
        to the chain id and this contract's address); anyone may relay a
        batch, which applies only when it carries valid signatures of at
        least `quorum` distinct signers of the configured set. For each
        asset the oracle takes the median of each field across the signers
        (for an even count the conservative middle: the lower price, the
        higher sigma, the lower depth), stores the spread of their prices
        (a confidence the markets add to new risk) and applies its
        guardrails to the medians. A batch whose signers' prices disagree
        by more than `max_disagreement` reverts: the relayer must leave the
        outlier out.

        The guardrails are deliberately asymmetric: RISK GOES UP FAST AND
        COMES DOWN SLOWLY. A median sigma may rise by any amount in one
        update (tightening protects lenders, so it is never delayed) but
        may fall by at most `sigma_fall_per_hour` of itself per hour of
        observation time; depth is the mirror image. This is curve's
        ERC4626EMAOracle shape turned around: there `min(spot, ema)` lets
        price drops through at once and smooths rises; here anything that
        raises haircuts passes at once and anything that lowers them is
        rate limited. A loosening beyond `loosen_threshold` of sigma or of
        depth does not apply at all: THAT FIELD ALONE waits in a pending
        slot for `challenge_window` seconds (a tightening of the other
        field in the same update applies at once), during which the
        guardian (free) or anyone posting the challenge bond can cancel it.
        The price may move at most `max_price_move_per_hour` of itself per
        hour of observation time (a quorum of stolen keys cannot post x100).

        Asset slot, high to low bits:
            price:48 | depth:88 | sigma:32 | spread:32 | observed_at:32 | flags:8
        price = the canonical decimal float `exponent:8 | mantissa:40` of
        loan raw units per collateral raw unit at PRICE_SCALE = 1e36
        (modules/report_math.vy); depth in loan raw units; sigma and spread in
        units of 1e10 wei of WAD; flags bit 0 = an update is pending, bit 1 =
        the asset exists. A report carries two assets per word, 128 bits each:
            asset_id:16 | price:48 | depth:32 | sigma:32
        (depth a decimal float `exponent:8 | mantissa:24`); the asset 2i is the
        high half of word i, 2i + 1 its low half (zero after an odd last one).

        Gas: a post reads one config word (pause, quorum, signer count,
        epoch, the address of the set's code blob), the blob's code (every
        guard parameter and the signers: one cold account, no slot per
        signer) and one slot per asset.
@custom:security Look first at: the signature loop in `post` (each signer
        index once, recovered address equal to the configured signer at that
        index, read from the set's code blob, digest over this chain and this
        contract), `_write_blob` (its init code returns exactly BLOB_SIZE
        bytes after it; the config names the blob last written),
        `_apply3` / `_medians` (every word of an asset must name the same
        asset; canonical floats), the per-field
        pending logic (a tightening never waits), and the bond accounting
        (`claimable`: bonds are pulled, never pushed; an unsettled challenge
        can be expired by anyone after SETTLE_TIMEOUT, so no bond is stuck).
        `post` makes no external call and takes no lock: it must stay cheap.
"""

from snekmate.auth import ownable
from snekmate.auth import ownable_2step

from .interfaces import IRiskOracle
from .modules import report_math

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
# @dev Asset ids are 16 bits in a report word; id 0 is never used.
MAX_ASSETS: constant(uint256) = 65_536
# @dev Most signers in the set (a signer index is 8 bits of `signer_ids`).
MAX_SIGNERS: constant(uint256) = 16
# @dev Most assets in one batch (two per report word).
MAX_UPDATES: constant(uint256) = 64
# @dev Most report words in one batch (signers x words per report).
MAX_WORDS: constant(uint256) = 160
# @dev Guard parameters are stored in units of 1e9 wei of WAD (parts per billion).
PPB: constant(uint256) = 10**9

# @dev Bounds of the guard parameters (WAD per hour, WAD, seconds).
MIN_SIGMA_FALL_PER_HOUR: constant(uint256) = 10**15
MAX_SIGMA_FALL_PER_HOUR: constant(uint256) = WAD // 2
MIN_DEPTH_RISE_PER_HOUR: constant(uint256) = 10**15
MAX_DEPTH_RISE_PER_HOUR: constant(uint256) = WAD
MIN_LOOSEN_THRESHOLD: constant(uint256) = 10**16
MAX_LOOSEN_THRESHOLD: constant(uint256) = WAD // 2
MIN_CHALLENGE_WINDOW: constant(uint256) = 300
MAX_CHALLENGE_WINDOW: constant(uint256) = 7 * 86_400
MIN_PRICE_MOVE_PER_HOUR: constant(uint256) = 10**16
MAX_PRICE_MOVE_PER_HOUR: constant(uint256) = 10 * WAD
MIN_DISAGREEMENT: constant(uint256) = 10**15
MAX_DISAGREEMENT: constant(uint256) = WAD // 2
# @dev Bounds of the challenge bond, wei.
MIN_CHALLENGE_BOND: constant(uint256) = 10**16
MAX_CHALLENGE_BOND: constant(uint256) = 100 * 10**18
# @dev After this many seconds anyone may expire an unsettled bonded
#      challenge, which returns the bond to its challenger.
SETTLE_TIMEOUT: constant(uint256) = 14 * 86_400

# @dev Defaults (equal to `oracle.model.GuardParams()`), and bond default (wei).
#      The price bound: the largest hourly close-to-close moves in the shared
#      ETH and BTC files are -20.9% / +18.1%, the largest moves of an hour's
#      low / high from the previous close -28.0% / +27.8%; 50% per hour passes
#      all of them. A real crash that moves further is followed at 50% per hour.
DEFAULT_SIGMA_FALL_PER_HOUR: constant(uint256) = 5 * WAD // 100
DEFAULT_DEPTH_RISE_PER_HOUR: constant(uint256) = 5 * WAD // 100
DEFAULT_LOOSEN_THRESHOLD: constant(uint256) = 20 * WAD // 100
DEFAULT_CHALLENGE_WINDOW: constant(uint256) = HOUR
DEFAULT_PRICE_MOVE_PER_HOUR: constant(uint256) = 50 * WAD // 100
DEFAULT_DISAGREEMENT: constant(uint256) = 5 * WAD // 100
DEFAULT_CHALLENGE_BOND: constant(uint256) = 10**17

# @dev Bit masks.
MASK8: constant(uint256) = 2**8 - 1
MASK16: constant(uint256) = 2**16 - 1
MASK32: constant(uint256) = 2**32 - 1
MASK40: constant(uint256) = 2**40 - 1
MASK48: constant(uint256) = 2**48 - 1
MASK64: constant(uint256) = 2**64 - 1
MASK88: constant(uint256) = 2**88 - 1
MASK128: constant(uint256) = 2**128 - 1
MASK255: constant(uint256) = 2**255 - 1

# @dev Asset slot layout (shift of each field, low to high).
AT_SHIFT: constant(uint256) = 8
SPREAD_SHIFT: constant(uint256) = 40
SIGMA_SHIFT: constant(uint256) = 72
DEPTH_SHIFT: constant(uint256) = 104
PRICE_SHIFT: constant(uint256) = 192
# @dev Asset slot flags.
FLAG_PENDING: constant(uint256) = 1
FLAG_EXISTS: constant(uint256) = 2

# @dev Report half-word layout: asset_id:16 | price:48 | depth:32 | sigma:32.
HALF_DEPTH_SHIFT: constant(uint256) = 32
HALF_PRICE_SHIFT: constant(uint256) = 64
HALF_ID_SHIFT: constant(uint256) = 112

# @dev Guard word layout (what `post` works with: the config's low 56 bits with the blob's guard
#      word above them), low to high: flags:8 | quorum:8 | signers:8 | epoch:32 |
#      challenge_window:32 | sigma_fall_per_hour:32 | depth_rise_per_hour:32 | loosen_threshold:32 |
#      max_price_move_per_hour:40 | max_disagreement:32 (rates in PPB units).
QUORUM_SHIFT: constant(uint256) = 8
COUNT_SHIFT: constant(uint256) = 16
EPOCH_SHIFT: constant(uint256) = 24
WINDOW_SHIFT: constant(uint256) = 56
FALL_SHIFT: constant(uint256) = 88
RISE_SHIFT: constant(uint256) = 120
LOOSEN_SHIFT: constant(uint256) = 152
MOVE_SHIFT: constant(uint256) = 184
DISAGREE_SHIFT: constant(uint256) = 224
# @dev Config flags.
FLAG_PAUSED: constant(uint256) = 1
# @dev The config word holds flags, quorum, count and epoch in its low 56 bits and the address of the
#      code blob above BLOB_SHIFT. The blob's code is a STOP byte, then the guard word (the layout
#      above from WINDOW_SHIFT up, its low 56 bits zero), then the signers as 16 words (zero past the
#      count): reading code costs no storage slot, and a change of either writes a new blob.
LOW_MASK: constant(uint256) = 2**56 - 1
BLOB_SHIFT: constant(uint256) = 96
BLOB_GUARD_AT: constant(uint256) = 1
BLOB_SIGNERS_AT: constant(uint256) = 33
BLOB_SIZE: constant(uint256) = 1 + 32 + 32 * MAX_SIGNERS
# @dev Init code that returns the BLOB_SIZE (545 = 0x0221) bytes after it as the blob's code:
#      PUSH2 545, DUP1, PUSH1 10, RETURNDATASIZE, CODECOPY, RETURNDATASIZE, RETURN.
BLOB_INIT: constant(Bytes[10]) = b"\x61\x02\x21\x80\x60\x0a\x3d\x39\x3d\xf3"

# @dev Pending slot layout, low to high: what:8 (bit 0 sigma, bit 1 depth) |
#      eta:40 | epoch:32 | sigma units:32 | depth:88.
PENDING_SIGMA: constant(uint256) = 1
PENDING_DEPTH: constant(uint256) = 2
P_ETA_SHIFT: constant(uint256) = 8
P_EPOCH_SHIFT: constant(uint256) = 48
P_SIGMA_SHIFT: constant(uint256) = 80
P_DEPTH_SHIFT: constant(uint256) = 112

# @dev EIP-712: the report type and the domain.
REPORT_TYPEHASH: public(constant(bytes32)) = keccak256(
    "Report(uint256 observedAt,uint256 deadline,uint256[] updates)"
)
DOMAIN_TYPEHASH: constant(bytes32) = keccak256(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
DOMAIN_NAME: constant(String[32]) = "Ballast RiskOracle"
DOMAIN_VERSION: constant(String[8]) = "1"


struct Challenge:
    asset_id: uint256    # the asset whose pending update was cancelled
    challenger: address  # who sent the bond
    bond: uint256        # wei held until settled or expired
    at: uint256          # unix seconds of the challenge


# @dev The domain separator at deploy time, and the chain it was made for.
_CACHED_DOMAIN: immutable(bytes32)
_CACHED_CHAIN_ID: immutable(uint256)

# @dev Asset id (1, 2, ...) of a (collateral, loan) pair; 0 when not added.
asset_id: public(HashMap[address, HashMap[address, uint256]])
# @dev The pair of an asset id (collateral: the priced token, loan: the quote token; empty for unknown ids).
asset_of: public(HashMap[uint256, IRiskOracle.Pair])
# @dev Number of assets added (the highest id).
num_assets: public(uint256)
# @dev The guardian: may pause and challenge pending updates for free.
guardian: public(address)
# @dev Bond (wei) a non-guardian challenger must send with `challenge`.
challenge_bond: public(uint256)
# @dev Bonded challenges by id (1, 2, ...), until settled or expired.
challenges: public(HashMap[uint256, Challenge])
# @dev Number of bonded challenges ever recorded (the highest id).
num_challenges: public(uint256)
# @dev Wei each account may withdraw with `claim` (settled bonds).
claimable: public(HashMap[address, uint256])

# @dev Packed asset slots indexed by asset id (layout in the module docstring).
_slots: uint256[MAX_ASSETS]
# @dev Pending loosening per asset id; meaningful only while FLAG_PENDING is set.
_pending: HashMap[uint256, uint256]
# @dev The config word (layout above): pause, quorum, signer count, epoch and the address of the
#      set's code blob (the guard parameters and the signers, `_write_blob`).
_config: uint256


event AssetAdded:
    collateral: indexed(address)
    loan: indexed(address)
    asset_id: uint256


event SignersConfigured:
    signers: DynArray[address, MAX_SIGNERS]
    quorum: uint256
    epoch: uint256


event GuardianSet:
    guardian: indexed(address)


event GuardParamsSet:
    sigma_fall_per_hour: uint256
    depth_rise_per_hour: uint256
    loosen_threshold: uint256
    challenge_window: uint256
    max_price_move_per_hour: uint256
    max_disagreement: uint256


event ChallengeBondSet:
    amount: uint256


event Paused:
    by: indexed(address)


event Unpaused:
    by: indexed(address)


event MetricsPosted:
    relayer: address
    observed_at: uint256
    assets: uint256
    signers: uint256


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
    challenge_id: uint256


event ChallengeSettled:
    challenge_id: indexed(uint256)
    challenger: indexed(address)
    upheld: bool
    bond: uint256


event BondClaimed:
    account: indexed(address)
    amount: uint256


@deploy
def __init__(guardian: address, signers: DynArray[address, MAX_SIGNERS], quorum: uint256):
    """
    @notice Owner = deployer (two-step transfers), guard parameters at
            their defaults (`oracle.model.GuardParams()`), bond 0.1 ether.
    @param guardian The guardian account.
    @param signers The initial signer set.
    @param quorum Signatures a batch needs (more than half of the signers).
    """
    ownable.__init__()
    ownable_2step.__init__()
    assert guardian != empty(address), "oracle: zero address"
    self.guardian = guardian
    self.challenge_bond = DEFAULT_CHALLENGE_BOND
    _CACHED_CHAIN_ID = chain.id
    _CACHED_DOMAIN = self._make_domain()
    guard: uint256 = self._pack_guard(
        DEFAULT_SIGMA_FALL_PER_HOUR,
        DEFAULT_DEPTH_RISE_PER_HOUR,
        DEFAULT_LOOSEN_THRESHOLD,
        DEFAULT_CHALLENGE_WINDOW,
        DEFAULT_PRICE_MOVE_PER_HOUR,
        DEFAULT_DISAGREEMENT,
    )
    self._configure(signers, quorum, guard)
    log GuardianSet(guardian=guardian)


# ------------------------------------------------------------------ admin

@external
def add_asset(collateral: address, loan: address) -> uint256:
    """
    @notice Register a (collateral, loan token) pair; ids are 1, 2, 3, ...
            Its prices and depth are quoted in raw units of `loan`.
    @param collateral The priced token.
    @param loan The quote token.
    @return The new asset id.
    """
    ownable._check_owner()
    assert collateral != empty(address), "oracle: zero address"
    assert loan != empty(address), "oracle: zero address"
    assert collateral != loan, "oracle: same token"
    assert self.asset_id[collateral][loan] == 0, "oracle: asset exists"
    aid: uint256 = self.num_assets + 1
    assert aid < MAX_ASSETS, "oracle: too many assets"
    self.asset_id[collateral][loan] = aid
    self.asset_of[aid] = IRiskOracle.Pair(collateral=collateral, loan=loan)
    self.num_assets = aid
    # The exists flag makes the first post a nonzero -> nonzero write.
    self._slots[aid] = FLAG_EXISTS
    log AssetAdded(collateral=collateral, loan=loan, asset_id=aid)
    return aid


@external
def configure_signers(signers: DynArray[address, MAX_SIGNERS], quorum: uint256):
    """
    @notice Replace the signer set and the quorum at once. Starts a new
            epoch: pending updates signed by the old set can no longer apply.
            One signer with quorum 1 is the explicit single-key test setup.
    @param signers The signers (distinct, non-zero, at most MAX_SIGNERS).
    @param quorum Signatures a batch needs: more than half of the signers.
    """
    ownable._check_owner()
    self._configure(signers, quorum, self._guard_of(self._config))


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
    max_price_move_per_hour: uint256,
    max_disagreement: uint256,
):
    """
    @notice Set the guardrails (rates and fractions in WAD, multiples of
            1e9). Pending updates keep the eta they got.
    @param sigma_fall_per_hour Largest fall of sigma per hour, fraction of itself.
    @param depth_rise_per_hour Largest rise of depth per hour, fraction of itself.
    @param loosen_threshold Relative loosening beyond which a field waits.
    @param challenge_window Seconds a pending update waits.
    @param max_price_move_per_hour Largest move of the price per hour, fraction of itself.
    @param max_disagreement Largest spread (max - min) / median of the signers' prices in a batch.
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
    assert max_price_move_per_hour >= MIN_PRICE_MOVE_PER_HOUR, "oracle: max_price_move_per_hour too low"
    assert max_price_move_per_hour <= MAX_PRICE_MOVE_PER_HOUR, "oracle: max_price_move_per_hour too high"
    assert max_disagreement >= MIN_DISAGREEMENT, "oracle: max_disagreement too low"
    assert max_disagreement <= MAX_DISAGREEMENT, "oracle: max_disagreement too high"
    assert (
        sigma_fall_per_hour % PPB == 0
        and depth_rise_per_hour % PPB == 0
        and loosen_threshold % PPB == 0
        and max_price_move_per_hour % PPB == 0
        and max_disagreement % PPB == 0
    ), "oracle: guard params are multiples of 1e9"
    c: uint256 = self._config
    guard: uint256 = self._pack_guard(
        sigma_fall_per_hour,
        depth_rise_per_hour,
        loosen_threshold,
        challenge_window,
        max_price_move_per_hour,
        max_disagreement,
    )
    blob: address = self._write_blob(guard, self._signer_list(c))
    self._config = (c & LOW_MASK) | (convert(blob, uint256) << BLOB_SHIFT)
    log GuardParamsSet(
        sigma_fall_per_hour=sigma_fall_per_hour,
        depth_rise_per_hour=depth_rise_per_hour,
        loosen_threshold=loosen_threshold,
        challenge_window=challenge_window,
        max_price_move_per_hour=max_price_move_per_hour,
        max_disagreement=max_disagreement,
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
    c: uint256 = self._config
    assert c & FLAG_PAUSED == 0, "oracle: paused"
    self._config = c | FLAG_PAUSED
    log Paused(by=msg.sender)


@external
def unpause():
    """
    @notice Resume posts (owner only: the guardian can stop, not restart).
    """
    ownable._check_owner()
    c: uint256 = self._config
    assert c & FLAG_PAUSED != 0, "oracle: not paused"
    self._config = c & ~FLAG_PAUSED
    log Unpaused(by=msg.sender)


# ------------------------------------------------------------------ posting

@external
def post(
    observed_at: uint256,
    deadline: uint256,
    signer_ids: uint256,
    signatures: DynArray[uint256, 2 * MAX_SIGNERS],
    words: DynArray[uint256, MAX_WORDS],
):
    """
    @notice Relay a batch of signed reports (anyone may). Every signer signed
            `Report(observedAt, deadline, updates)` over its own words, for
            the same assets in the same order.
    @dev Signer k (0-based within the batch) has signature
         `signatures[2k]` (r) and `signatures[2k + 1]` (EIP-2098 vs: s with
         the parity of y in the top bit), its index in the signer set in
         bits 8k .. 8k + 7 of `signer_ids`, and the words
         `words[k * w .. k * w + w - 1]` (w = words per report, two assets
         per word). Gas: one config slot, the code blob of the set (one
         cold account, a word per signer), one slot per asset (read and
         written); the rest is kept lean (the
         quorum of three has its own branch without buffers). Memory costs
         grow with the highest address touched, and the compiler lays out
         this function's memory as: the frames of the internal functions,
         then the arguments in their order, then the locals. So the short
         `signatures` come before the long `words`, and nothing past the
         words is touched on the way of one-word reports: the medians'
         tuples and the event are made in internal frames (`_apply3`,
         `_posted`), and no local array lives across the assets. The copy
         of the batch that reports of several words need for their hashes
         is made last: one-word reports (one or two assets) are verified in
         the first loop and never touch it; longer ones are verified after
         their assets are applied (a failure still reverts everything).
    @param observed_at Observation time of every report, unix seconds.
    @param deadline The batch is void after this time.
    @param signer_ids The signers' indexes, 8 bits each.
    @param signatures Two words per signer.
    @param words The signers' report words, report after report.
    """
    cfg: uint256 = self._config
    assert cfg & FLAG_PAUSED == 0, "oracle: paused"
    blob: uint256 = cfg >> BLOB_SHIFT
    # the guard word: the config's low bits, the blob's guard parameters above them
    cfg = self._guard_of(cfg) | (cfg & LOW_MASK)
    assert block.timestamp <= deadline, "oracle: deadline passed"
    # observed_at <= block.timestamp < 2**32 (until 2106): fits its 32 bits.
    assert observed_at <= block.timestamp, "oracle: observation in future"
    n: uint256 = len(signatures) // 2
    assert n * 2 == len(signatures), "oracle: malformed batch"
    assert n >= (cfg >> QUORUM_SHIFT) & MASK8, "oracle: too few signatures"
    assert n != 0 and len(words) % n == 0 and signer_ids >> (8 * n) == 0, "oracle: malformed batch"
    wps: uint256 = unsafe_div(len(words), n)  # words per report
    m: uint256 = 0  # assets, counted as they are applied
    assert wps != 0 and wps <= MAX_UPDATES // 2, "oracle: malformed batch"
    # an odd number of assets leaves the low half of each report's last word zero
    odd: bool = words[unsafe_sub(wps, 1)] & MASK128 == 0

    count: uint256 = (cfg >> COUNT_SHIFT) & MASK8
    # EIP-712 hashes a uint256[] as keccak256 of its packed 32-byte words: signer k's are
    # words[k * wps .. k * wps + wps - 1]. With one word per report (one or two assets) the word is
    # hashed as it is and the signatures are checked here; longer reports are checked after the
    # assets (below), where the copy of the batch they need sits last in memory: the one-word path
    # never pays for that buffer's memory. Either way every check runs before the transaction ends,
    # and any failure reverts the whole batch.
    seen: uint256 = 0
    for k: uint256 in range(MAX_SIGNERS):
        if k == n:
            break
        idx: uint256 = (signer_ids >> unsafe_mul(8, k)) & MASK8
        assert idx < count, "oracle: not a signer"
        bit: uint256 = 1 << idx
        assert seen & bit == 0, "oracle: duplicate signer"
        seen = seen | bit
        if wps == 1:
            w: uint256 = words[k]
            assert not odd or w & MASK128 == 0, "oracle: reports differ in assets"
            self._check_signer(
                observed_at, deadline, keccak256(convert(w, bytes32)), idx,
                signatures[unsafe_mul(2, k)], signatures[unsafe_add(unsafe_mul(2, k), 1)], blob,
            )
        elif odd:
            assert words[unsafe_add(unsafe_mul(wps, k), unsafe_sub(wps, 1))] & MASK128 == 0, (
                "oracle: reports differ in assets"
            )

    # The assets, two per word: the high half of each word first.
    last: uint256 = unsafe_sub(wps, 1)
    for i: uint256 in range(MAX_UPDATES // 2):
        if i == wps:
            break
        w0: uint256 = words[i]
        w1: uint256 = 0
        w2: uint256 = 0
        if n == 3:
            w1 = words[unsafe_add(wps, i)]
            w2 = words[unsafe_add(unsafe_add(wps, wps), i)]
        for half: uint256 in range(2):
            if half == 1 and odd and i == last:
                break
            sh: uint256 = unsafe_mul(128, unsafe_sub(1, half))
            h0: uint256 = (w0 >> sh) & MASK128
            if n == 3:
                self._apply3(cfg, h0, (w1 >> sh) & MASK128, (w2 >> sh) & MASK128, observed_at)
            elif n == 1:
                p1: uint256 = (h0 >> HALF_PRICE_SHIFT) & MASK48
                self._store(cfg, h0 >> HALF_ID_SHIFT, p1, p1, p1, h0 & MASK32, (h0 >> HALF_DEPTH_SHIFT) & MASK32, observed_at)
            else:
                column: DynArray[uint256, MAX_SIGNERS] = [h0]
                for k: uint256 in range(1, MAX_SIGNERS):
                    if k == n:
                        break
                    column.append((words[unsafe_add(unsafe_mul(k, wps), i)] >> sh) & MASK128)
                pn: uint256 = 0
                lon: uint256 = 0
                hin: uint256 = 0
                unitsn: uint256 = 0
                dn: uint256 = 0
                pn, lon, hin, unitsn, dn = self._medians(column)
                self._store(cfg, h0 >> HALF_ID_SHIFT, pn, lon, hin, unitsn, dn, observed_at)
        m = unsafe_add(m, 2)
    if odd:
        m = unsafe_sub(m, 1)

    self._posted(observed_at, m, seen)

    # n and wps again, from the arrays' lengths (nothing is kept live across the assets)
    wps = unsafe_div(len(words), unsafe_div(len(signatures), 2))
    if wps == 1:
        return
    # Reports of several words: their signatures (signer ids were checked above).
    packed: Bytes[32 * MAX_WORDS + 64] = abi_encode(words)
    for k: uint256 in range(MAX_SIGNERS):
        if unsafe_mul(2, k) == len(signatures):
            break
        # signer k's words: bytes 32 * wps * k .. 32 * wps * (k + 1) after the offset and length words
        h: bytes32 = keccak256(slice(packed, unsafe_add(64, unsafe_mul(32, unsafe_mul(wps, k))), unsafe_mul(32, wps)))
        self._check_signer(
            observed_at, deadline, h, (signer_ids >> unsafe_mul(8, k)) & MASK8,
            signatures[unsafe_mul(2, k)], signatures[unsafe_add(unsafe_mul(2, k), 1)],
            self._config >> BLOB_SHIFT,
        )


@external
def apply_pending(asset_id: uint256):
    """
    @notice Apply an asset's pending loosening once its challenge window ended,
            unless the signer set changed since it was queued.
    @param asset_id The asset.
    """
    cfg: uint256 = self._config
    assert cfg & FLAG_PAUSED == 0, "oracle: paused"
    s: uint256 = self._slot_of(asset_id)
    assert s & FLAG_PENDING != 0, "oracle: nothing pending"
    p: uint256 = self._pending[asset_id]
    assert block.timestamp >= (p >> P_ETA_SHIFT) & MASK40, "oracle: challenge window open"
    assert (p >> P_EPOCH_SHIFT) & MASK32 == (cfg >> EPOCH_SHIFT) & MASK32, "oracle: signer set changed"
    units: uint256 = (s >> SIGMA_SHIFT) & MASK32
    depth: uint256 = (s >> DEPTH_SHIFT) & MASK88
    if p & PENDING_SIGMA != 0:
        units = (p >> P_SIGMA_SHIFT) & MASK32
    if p & PENDING_DEPTH != 0:
        depth = p >> P_DEPTH_SHIFT
    keep: uint256 = s & ~(FLAG_PENDING | (MASK32 << SIGMA_SHIFT) | (MASK88 << DEPTH_SHIFT))
    self._slots[asset_id] = keep | (depth << DEPTH_SHIFT) | (units << SIGMA_SHIFT)
    log PendingApplied(asset_id=asset_id, sigma=units * SIGMA_UNIT, depth=depth)


# ------------------------------------------------------------------ challenges

@external
@payable
@nonreentrant
def challenge(asset_id: uint256) -> uint256:
    """
    @notice Cancel an asset's pending update during its challenge window.
            The guardian challenges for free (send no value); anyone else
            sends exactly `challenge_bond`, recorded as a new challenge that
            the owner settles (bond back, or to the owner) or that anyone
            expires after SETTLE_TIMEOUT (bond back). Any number of bonded
            challenges may be open at once, on any asset.
    @param asset_id The asset.
    @return The challenge id (0 for the guardian's free challenge).
    """
    s: uint256 = self._slot_of(asset_id)
    assert s & FLAG_PENDING != 0, "oracle: nothing pending"
    assert block.timestamp < (self._pending[asset_id] >> P_ETA_SHIFT) & MASK40, "oracle: challenge window closed"
    cid: uint256 = 0
    if msg.sender != self.guardian or msg.value != 0:
        assert msg.value == self.challenge_bond, "oracle: bond required"
        cid = self.num_challenges + 1
        self.num_challenges = cid
        self.challenges[cid] = Challenge(
            asset_id=asset_id, challenger=msg.sender, bond=msg.value, at=block.timestamp
        )
    self._slots[asset_id] = s & ~FLAG_PENDING
    log UpdateChallenged(asset_id=asset_id, challenger=msg.sender, bond=msg.value, challenge_id=cid)
    return cid


@external
def settle_challenge(challenge_id: uint256, upheld: bool):
    """
    @notice Close a bonded challenge: upheld credits the bond back to the
            challenger, otherwise to the owner (both withdraw with `claim`).
    @param challenge_id The challenge.
    @param upheld Whether the challenge was right.
    """
    ownable._check_owner()
    to: address = ownable.owner
    if upheld:
        to = self.challenges[challenge_id].challenger
    self._close(challenge_id, upheld, to)


@external
def expire_challenge(challenge_id: uint256):
    """
    @notice Anyone: a bonded challenge left unsettled for SETTLE_TIMEOUT is
            closed as upheld, its bond credited back to its challenger.
    @param challenge_id The challenge.
    """
    c: Challenge = self.challenges[challenge_id]
    assert c.challenger != empty(address), "oracle: no challenge"
    assert block.timestamp >= c.at + SETTLE_TIMEOUT, "oracle: challenge not expired"
    self._close(challenge_id, True, c.challenger)


@external
@nonreentrant
def claim() -> uint256:
    """
    @notice Withdraw the settled bonds credited to the caller.
    @return The wei sent.
    """
    amount: uint256 = self.claimable[msg.sender]
    assert amount != 0, "oracle: nothing to claim"
    self.claimable[msg.sender] = 0
    raw_call(msg.sender, b"", value=amount)
    log BondClaimed(account=msg.sender, amount=amount)
    return amount


# ------------------------------------------------------------------ views

@external
@view
def metrics(asset_id: uint256) -> (uint256, uint256, uint256, uint256, uint256):
    """
    @notice Current metrics of an asset (zeros if never posted or unknown).
    @param asset_id The asset.
    @return price (loan raw per collateral raw, 1e36), sigma (WAD), depth
            (loan raw units), observed_at (unix seconds), spread of the
            signers' prices (WAD).
    """
    s: uint256 = self._slot_of(asset_id)
    price: uint256 = report_math.price_of(s >> PRICE_SHIFT)
    return (
        price,
        ((s >> SIGMA_SHIFT) & MASK32) * SIGMA_UNIT,
        (s >> DEPTH_SHIFT) & MASK88,
        (s >> AT_SHIFT) & MASK32,
        ((s >> SPREAD_SHIFT) & MASK32) * report_math.SPREAD_UNIT,
    )


@external
@view
def risk_word(asset_id: uint256) -> uint256:
    """
    @notice The raw asset slot (layout in the module docstring: price float,
            depth, sigma units, spread units, observed_at, flags): markets
            read it and decode it themselves (one word instead of five).
    @param asset_id The asset.
    @return The slot; 0 for an unknown id.
    """
    return self._slot_of(asset_id)


@external
@view
def pending(asset_id: uint256) -> (uint256, uint256, uint256):
    """
    @notice An asset's pending loosening (zeros when none; a field not
            pending is reported as 0).
    @param asset_id The asset.
    @return sigma (WAD), depth (raw units), eta (unix seconds).
    """
    if self._slot_of(asset_id) & FLAG_PENDING == 0:
        return (0, 0, 0)
    p: uint256 = self._pending[asset_id]
    sigma: uint256 = 0
    depth: uint256 = 0
    if p & PENDING_SIGMA != 0:
        sigma = ((p >> P_SIGMA_SHIFT) & MASK32) * SIGMA_UNIT
    if p & PENDING_DEPTH != 0:
        depth = p >> P_DEPTH_SHIFT
    return (sigma, depth, (p >> P_ETA_SHIFT) & MASK40)


@external
@view
def signers() -> DynArray[address, MAX_SIGNERS]:
    """
    @notice The signer set, by index.
    @return The signers.
    """
    return self._signer_list(self._config)


@external
@view
def signer_index(account: address) -> uint256:
    """
    @notice The index of a signer in the set (what a batch names it by).
    @param account The account.
    @return Its index; reverts "oracle: not a signer" for others.
    """
    c: uint256 = self._config
    count: uint256 = (c >> COUNT_SHIFT) & MASK8
    for i: uint256 in range(MAX_SIGNERS):
        if i == count:
            break
        if self._signer_word(c >> BLOB_SHIFT, i) == convert(account, uint256):
            return i
    raise "oracle: not a signer"


@external
@view
def quorum() -> uint256:
    """
    @notice Signatures a batch needs.
    """
    return (self._config >> QUORUM_SHIFT) & MASK8


@external
@view
def epoch() -> uint256:
    """
    @notice Number of signer-set configurations so far (pending updates are bound to one).
    """
    return (self._config >> EPOCH_SHIFT) & MASK32


@external
@view
def paused() -> bool:
    """
    @notice Whether posts and pending applications are stopped.
    """
    return self._config & FLAG_PAUSED != 0


@external
@view
def guard_params() -> (uint256, uint256, uint256, uint256, uint256, uint256):
    """
    @notice The guardrails.
    @return sigma_fall_per_hour (WAD), depth_rise_per_hour (WAD), loosen_threshold (WAD),
            challenge_window (s), max_price_move_per_hour (WAD), max_disagreement (WAD).
    """
    c: uint256 = self._guard_of(self._config)
    return (
        ((c >> FALL_SHIFT) & MASK32) * PPB,
        ((c >> RISE_SHIFT) & MASK32) * PPB,
        ((c >> LOOSEN_SHIFT) & MASK32) * PPB,
        (c >> WINDOW_SHIFT) & MASK32,
        ((c >> MOVE_SHIFT) & MASK40) * PPB,
        ((c >> DISAGREE_SHIFT) & MASK32) * PPB,
    )


@external
@view
def domain_separator() -> bytes32:
    """
    @notice The EIP-712 domain separator reports are signed under (this chain, this oracle).
    """
    return self._domain()


# ------------------------------------------------------------------ internals

@internal
@view
def _check_signer(
    observed_at: uint256,
    deadline: uint256,
    updates_hash: bytes32,
    idx: uint256,
    r: uint256,
    vs: uint256,
    blob: uint256,
):
    """
    @dev The EIP-712 digest of `Report(observedAt, deadline, updates)` must
         recover (r, vs: EIP-2098) to signer `idx`, read from the set's code
         blob (`idx` < count was checked: the word is a configured, non-zero
         signer, so a failed recovery, address 0, never matches).
    """
    digest: bytes32 = keccak256(
        concat(b"\x19\x01", self._domain(), keccak256(abi_encode(REPORT_TYPEHASH, observed_at, deadline, updates_hash)))
    )
    recovered: uint256 = convert(ecrecover(digest, unsafe_add(27, vs >> 255), r, vs & MASK255), uint256)
    assert recovered == self._signer_word(blob, idx), "oracle: bad signature"


@internal
@view
def _signer_word(blob: uint256, idx: uint256) -> uint256:
    """
    @dev Signer `idx` of a blob (as a word; 0 past the count).
    """
    return extract32(
        slice(convert(convert(blob, uint160), address).code, unsafe_add(BLOB_SIGNERS_AT, unsafe_mul(32, idx)), 32),
        0,
        output_type=uint256,
    )


@internal
@view
def _guard_of(cfg: uint256) -> uint256:
    """
    @dev The guard word in the blob named by a config word.
    """
    return extract32(
        slice(convert(convert(cfg >> BLOB_SHIFT, uint160), address).code, BLOB_GUARD_AT, 32), 0, output_type=uint256
    )


@internal
@view
def _signer_list(cfg: uint256) -> DynArray[address, MAX_SIGNERS]:
    """
    @dev The signers of the blob named by a config word, by index.
    """
    out: DynArray[address, MAX_SIGNERS] = []
    count: uint256 = (cfg >> COUNT_SHIFT) & MASK8
    for i: uint256 in range(MAX_SIGNERS):
        if i == count:
            break
        out.append(convert(convert(self._signer_word(cfg >> BLOB_SHIFT, i), uint160), address))
    return out


@internal
def _write_blob(guard: uint256, signers: DynArray[address, MAX_SIGNERS]) -> address:
    """
    @dev Deploy a code blob: a STOP byte (calling it does nothing), the
         guard word, then the signers as 16 words, zero past the count. It is
         never changed: a new set or new guard parameters write a new blob.
    """
    padded: address[MAX_SIGNERS] = empty(address[MAX_SIGNERS])
    for i: uint256 in range(MAX_SIGNERS):
        if i == len(signers):
            break
        padded[i] = signers[i]
    return raw_create(concat(BLOB_INIT, b"\x00", abi_encode(guard, padded)))


@internal
def _apply3(cfg: uint256, h0: uint256, h1: uint256, h2: uint256, observed_at: uint256):
    """
    @dev Three signers' halves of one asset: their medians (`_med3`)
         checked and stored (`_store`), in this function's own frame, low in
         memory, rather than in `post`'s above the copied batch.
    """
    p: uint256 = 0
    lo: uint256 = 0
    hi: uint256 = 0
    units: uint256 = 0
    d: uint256 = 0
    p, lo, hi, units, d = self._med3(h0, h1, h2)
    self._store(cfg, h0 >> HALF_ID_SHIFT, p, lo, hi, units, d, observed_at)


@internal
def _posted(observed_at: uint256, assets: uint256, signers: uint256):
    """
    @dev The batch's event, emitted from this frame (its data buffer sits
         low in memory, below `post`'s copy of the batch).
    """
    log MetricsPosted(relayer=msg.sender, observed_at=observed_at, assets=assets, signers=signers)


@internal
@pure
def _med3(h0: uint256, h1: uint256, h2: uint256) -> (uint256, uint256, uint256, uint256, uint256):
    """
    @dev Three signers' halves of one asset: (median, lowest, highest) price
         float, median sigma units, median depth float (canonical floats sort
         as integers: report_math.price_canonical / depth_canonical, inlined).
    """
    p: uint256 = (h0 >> HALF_PRICE_SHIFT) & MASK48
    units: uint256 = h0 & MASK32
    d: uint256 = (h0 >> HALF_DEPTH_SHIFT) & MASK32
    assert (h0 ^ h1) >> HALF_ID_SHIFT == 0 and (h0 ^ h2) >> HALF_ID_SHIFT == 0, "oracle: reports differ in assets"
    b: uint256 = (h1 >> HALF_PRICE_SHIFT) & MASK48
    c: uint256 = (h2 >> HALF_PRICE_SHIFT) & MASK48
    # report_math.price_canonical of each (canonical floats sort as integers), without branches: a
    # mantissa must reach PRICE_MIN_NORMAL when the exponent is not 0 (the float is above PRICE_MASK)
    assert p & report_math.PRICE_MASK >= unsafe_mul(report_math.PRICE_MIN_NORMAL, convert(p > report_math.PRICE_MASK, uint256)), "oracle: price not canonical"
    assert b & report_math.PRICE_MASK >= unsafe_mul(report_math.PRICE_MIN_NORMAL, convert(b > report_math.PRICE_MASK, uint256)), "oracle: price not canonical"
    assert c & report_math.PRICE_MASK >= unsafe_mul(report_math.PRICE_MIN_NORMAL, convert(c > report_math.PRICE_MASK, uint256)), "oracle: price not canonical"
    lo: uint256 = min(p, b)
    hi: uint256 = max(p, b)
    p = max(lo, min(hi, c))
    lo = min(lo, c)
    hi = max(hi, c)
    b = (h1 >> HALF_DEPTH_SHIFT) & MASK32
    c = (h2 >> HALF_DEPTH_SHIFT) & MASK32
    # report_math.depth_canonical of each, the same way
    assert d & report_math.DEPTH_MASK >= unsafe_mul(report_math.DEPTH_MIN_NORMAL, convert(d > report_math.DEPTH_MASK, uint256)), "oracle: depth not canonical"
    assert b & report_math.DEPTH_MASK >= unsafe_mul(report_math.DEPTH_MIN_NORMAL, convert(b > report_math.DEPTH_MASK, uint256)), "oracle: depth not canonical"
    assert c & report_math.DEPTH_MASK >= unsafe_mul(report_math.DEPTH_MIN_NORMAL, convert(c > report_math.DEPTH_MASK, uint256)), "oracle: depth not canonical"
    d = max(min(d, b), min(max(d, b), c))
    b = h1 & MASK32
    c = h2 & MASK32
    units = max(min(units, b), min(max(units, b), c))
    return p, lo, hi, units, d


@internal
def _store(
    cfg: uint256, aid: uint256, p: uint256, lo: uint256, hi: uint256, units: uint256, d: uint256, observed_at: uint256
):
    """
    @dev Check one asset's medians (price float p, its lowest and highest
         float lo / hi, sigma units, depth float d) against its slot and the
         guardrails, then store them (a loosening field beyond the threshold
         waits instead). The formulas are report_math's, partly inlined.
    """
    old: uint256 = self._slots[aid]  # ids are 16 bits: always in range
    assert old & FLAG_EXISTS != 0, "oracle: unknown asset"
    old_at: uint256 = (old >> AT_SHIFT) & MASK32
    assert observed_at != old_at, "oracle: report replayed"
    assert observed_at > old_at, "oracle: observation not newer"
    assert p & report_math.PRICE_MASK != 0, "oracle: price zero"
    assert p >> 40 <= report_math.MAX_PRICE_EXP, "oracle: price out of range"
    assert d >> 24 <= report_math.MAX_DEPTH_EXP, "oracle: depth out of range"
    depth: uint256 = unsafe_mul(d & report_math.DEPTH_MASK, pow_mod256(10, d >> 24))
    assert depth != 0, "oracle: depth zero"
    assert units >= MIN_SIGMA_UNITS, "oracle: sigma too low"
    assert units <= MAX_SIGMA_UNITS, "oracle: sigma too high"
    fresh: uint256 = (
        (p << PRICE_SHIFT) | (depth << DEPTH_SHIFT) | (units << SIGMA_SHIFT) | (observed_at << AT_SHIFT) | FLAG_EXISTS
    )
    if lo != hi:
        # canonical floats: equal prices have equal bits
        spread: uint256 = report_math.spread_of(lo, hi, p)
        assert spread <= unsafe_mul((cfg >> DISAGREE_SHIFT) & MASK32, PPB), "oracle: signers disagree"
        # spread <= MAX_DISAGREEMENT: its units fit 32 bits; they round up.
        fresh = fresh | (
            unsafe_div(unsafe_add(spread, report_math.SPREAD_UNIT - 1), report_math.SPREAD_UNIT) << SPREAD_SHIFT
        )
    if old_at == 0:
        # First post of the asset: nothing to compare with.
        self._slots[aid] = fresh
        return

    dt: uint256 = unsafe_sub(observed_at, old_at)
    # report_math.price_too_far, its same-exponent case inlined
    lo = old >> PRICE_SHIFT
    if lo != p:
        if lo >> 40 == p >> 40:
            hi = min(WAD, unsafe_div(unsafe_mul(unsafe_mul((cfg >> MOVE_SHIFT) & MASK40, PPB), dt), HOUR))
            b: uint256 = lo & report_math.PRICE_MASK
            c: uint256 = p & report_math.PRICE_MASK
            if c > b:
                c = unsafe_sub(c, b)
            else:
                c = unsafe_sub(b, c)
            assert unsafe_mul(c, WAD) <= unsafe_mul(b, hi), "oracle: price moves too fast"
        else:
            assert not report_math.price_too_far(lo, p, unsafe_mul((cfg >> MOVE_SHIFT) & MASK40, PPB), dt), (
                "oracle: price moves too fast"
            )

    # All products below are < 2**200 (sigma < 2**32 * 1e10 < 2**66, WAD
    # < 2**60, depth < 2**88, rates < 2**64, dt < 2**32): no overflow.
    hi = (old >> SIGMA_SHIFT) & MASK32  # the stored sigma units
    lo = (old >> DEPTH_SHIFT) & MASK88  # the stored depth
    queue: uint256 = 0
    if units < hi:
        new_sigma: uint256 = unsafe_mul(units, SIGMA_UNIT)
        old_sigma: uint256 = unsafe_mul(hi, SIGMA_UNIT)
        # model.min_sigma_allowed: the allowed fall rounds down, so the floor rounds up.
        frac: uint256 = min(WAD, unsafe_div(unsafe_mul(unsafe_mul((cfg >> FALL_SHIFT) & MASK32, PPB), dt), HOUR))
        assert new_sigma >= unsafe_sub(old_sigma, unsafe_div(unsafe_mul(old_sigma, frac), WAD)), (
            "oracle: sigma falls too fast"
        )
        if unsafe_mul(new_sigma, WAD) < unsafe_mul(
            old_sigma, unsafe_sub(WAD, unsafe_mul((cfg >> LOOSEN_SHIFT) & MASK32, PPB))
        ):
            queue = PENDING_SIGMA
    if depth > lo:
        # model.max_depth_allowed: the allowed rise rounds down.
        growth: uint256 = unsafe_div(unsafe_mul(unsafe_mul((cfg >> RISE_SHIFT) & MASK32, PPB), dt), HOUR)
        assert depth <= unsafe_add(lo, unsafe_div(unsafe_mul(lo, growth), WAD)), "oracle: depth rises too fast"
        if unsafe_mul(depth, WAD) > unsafe_mul(lo, unsafe_add(WAD, unsafe_mul((cfg >> LOOSEN_SHIFT) & MASK32, PPB))):
            queue = queue | PENDING_DEPTH

    if queue == 0:
        self._slots[aid] = fresh
        if old & FLAG_PENDING != 0:
            log PendingDropped(asset_id=aid)
    else:
        # Only the loosening field(s) wait; the rest of the update applies now.
        self._queue(
            aid, fresh, old, queue, units, depth, block.timestamp + ((cfg >> WINDOW_SHIFT) & MASK32),
            (cfg >> EPOCH_SHIFT) & MASK32,
        )


@internal
@pure
def _medians(column: DynArray[uint256, MAX_SIGNERS]) -> (uint256, uint256, uint256, uint256, uint256):
    """
    @dev Any number of signers: insertion sort of each field of the
         half-words. Returns the conservative middle for an even count (lower
         price, higher sigma, lower depth), and the lowest and highest price.
    """
    n: uint256 = len(column)
    aid: uint256 = column[0] >> HALF_ID_SHIFT
    keys: uint256[MAX_SIGNERS] = empty(uint256[MAX_SIGNERS])
    sigmas: uint256[MAX_SIGNERS] = empty(uint256[MAX_SIGNERS])
    depths: uint256[MAX_SIGNERS] = empty(uint256[MAX_SIGNERS])
    for k: uint256 in range(MAX_SIGNERS):
        if k == n:
            break
        h: uint256 = column[k]
        assert h >> HALF_ID_SHIFT == aid, "oracle: reports differ in assets"
        key: uint256 = (h >> HALF_PRICE_SHIFT) & MASK48
        assert report_math.price_canonical(key), "oracle: price not canonical"
        sigma: uint256 = h & MASK32
        dep: uint256 = (h >> HALF_DEPTH_SHIFT) & MASK32
        assert report_math.depth_canonical(dep), "oracle: depth not canonical"
        # insertion: each buffer stays sorted ascending over 0 .. k
        i: uint256 = k
        for _: uint256 in range(MAX_SIGNERS):
            if i == 0:
                break
            if keys[unsafe_sub(i, 1)] <= key:
                break
            keys[i] = keys[unsafe_sub(i, 1)]
            i = unsafe_sub(i, 1)
        keys[i] = key
        i = k
        for _: uint256 in range(MAX_SIGNERS):
            if i == 0:
                break
            if sigmas[unsafe_sub(i, 1)] <= sigma:
                break
            sigmas[i] = sigmas[unsafe_sub(i, 1)]
            i = unsafe_sub(i, 1)
        sigmas[i] = sigma
        i = k
        for _: uint256 in range(MAX_SIGNERS):
            if i == 0:
                break
            if depths[unsafe_sub(i, 1)] <= dep:
                break
            depths[i] = depths[unsafe_sub(i, 1)]
            i = unsafe_sub(i, 1)
        depths[i] = dep
    lo_mid: uint256 = unsafe_div(unsafe_sub(n, 1), 2)
    return keys[lo_mid], keys[0], keys[unsafe_sub(n, 1)], sigmas[unsafe_div(n, 2)], depths[lo_mid]


@internal
def _queue(aid: uint256, fresh: uint256, old: uint256, queue: uint256, units: uint256, depth: uint256, eta: uint256, epoch: uint256):
    """
    @dev Store an update whose loosening field(s) wait in the pending slot:
         those keep their old values in the asset slot until applied.
    """
    self._pending[aid] = (
        (depth << P_DEPTH_SHIFT) | (units << P_SIGMA_SHIFT) | (epoch << P_EPOCH_SHIFT) | (eta << P_ETA_SHIFT) | queue
    )
    slot: uint256 = fresh
    queued_sigma: uint256 = 0
    queued_depth: uint256 = 0
    if queue & PENDING_SIGMA != 0:
        slot = (slot & ~(MASK32 << SIGMA_SHIFT)) | (old & (MASK32 << SIGMA_SHIFT))
        queued_sigma = units * SIGMA_UNIT
    if queue & PENDING_DEPTH != 0:
        slot = (slot & ~(MASK88 << DEPTH_SHIFT)) | (old & (MASK88 << DEPTH_SHIFT))
        queued_depth = depth
    self._slots[aid] = slot | FLAG_PENDING
    log UpdateQueued(asset_id=aid, sigma=queued_sigma, depth=queued_depth, eta=eta)


@internal
def _configure(signers: DynArray[address, MAX_SIGNERS], quorum: uint256, guard: uint256):
    """
    @dev Validate a signer set and quorum, write a blob with them and the
         guard word, point the config at it; bump the epoch.
    """
    n: uint256 = len(signers)
    assert n != 0, "oracle: no signers"
    assert quorum <= n, "oracle: quorum above signers"
    assert quorum * 2 > n, "oracle: quorum too low"
    for i: uint256 in range(MAX_SIGNERS):
        if i == n:
            break
        a: address = signers[i]
        assert a != empty(address), "oracle: zero address"
        for prev: uint256 in range(MAX_SIGNERS):
            if prev == i:
                break
            assert signers[prev] != a, "oracle: duplicate signer"
    blob: address = self._write_blob(guard, signers)
    c: uint256 = self._config
    epoch: uint256 = ((c >> EPOCH_SHIFT) & MASK32) + 1
    self._config = (
        (convert(blob, uint256) << BLOB_SHIFT)
        | (epoch << EPOCH_SHIFT)
        | (n << COUNT_SHIFT)
        | (quorum << QUORUM_SHIFT)
        | (c & FLAG_PAUSED)
    )
    log SignersConfigured(signers=signers, quorum=quorum, epoch=epoch)


@internal
def _close(challenge_id: uint256, upheld: bool, to: address):
    """
    @dev Delete a bonded challenge and credit its bond to `to`.
    """
    c: Challenge = self.challenges[challenge_id]
    assert c.challenger != empty(address), "oracle: no challenge"
    self.challenges[challenge_id] = empty(Challenge)
    self.claimable[to] += c.bond
    log ChallengeSettled(challenge_id=challenge_id, challenger=c.challenger, upheld=upheld, bond=c.bond)


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
@view
def _domain() -> bytes32:
    """
    @dev The domain separator, recomputed if the chain id changed (a fork).
    """
    if chain.id == _CACHED_CHAIN_ID:
        return _CACHED_DOMAIN
    return self._make_domain()


@internal
@view
def _make_domain() -> bytes32:
    """
    @dev keccak256 of the EIP-712 domain (name, version, chain id, this contract).
    """
    return keccak256(
        abi_encode(
            DOMAIN_TYPEHASH,
            keccak256(DOMAIN_NAME),
            keccak256(DOMAIN_VERSION),
            chain.id,
            self,
        )
    )


@internal
@pure
def _pack_guard(
    fall: uint256, rise: uint256, loosen: uint256, window: uint256, move: uint256, disagree: uint256
) -> uint256:
    """
    @dev The guard fields of the config word (rates in PPB units; every
         field is within its bit width by its bounds).
    """
    return (
        ((disagree // PPB) << DISAGREE_SHIFT)
        | ((move // PPB) << MOVE_SHIFT)
        | ((loosen // PPB) << LOOSEN_SHIFT)
        | ((rise // PPB) << RISE_SHIFT)
        | ((fall // PPB) << FALL_SHIFT)
        | (window << WINDOW_SHIFT)
    )
