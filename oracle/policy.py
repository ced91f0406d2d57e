"""When and what the keeper reports (pure).

Report an asset when a metric moved beyond its deviation threshold or when its heartbeat expires; clip
every value to what RiskOracle's guardrails accept right now (`oracle.model.clip_update` for sigma and
depth, `oracle.model.clip_price` for the price bound), so a batch never reverts and never lands in the
pending slot (loosening comes down in steps instead); put every asset that needs a report into one
batch (one signed report per keeper, one transaction, one `observed_at`). Since the oracle takes the
median of the signers' values and every signer clips against the same stored state, the medians pass
the same guards (each guard is monotone in the value it bounds).

All values are the on-chain integers: price at `model.PRICE_SCALE` (loan raw units per collateral raw
unit, times 1e36), sigma in WAD, depth in loan-token raw units, times in unix seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from oracle import model

MIN_SIGMA = model.MIN_SIGMA  # RiskOracle: "oracle: sigma too low"
MAX_SIGMA = model.MAX_SIGMA  # RiskOracle: "oracle: sigma too high"
MAX_UPDATES = 64  # RiskOracle.post takes DynArray[uint256, 64]


@dataclass(frozen=True)
class PolicyParams:
    """Deviation thresholds are relative changes (WAD); the heartbeat is in seconds and must stay
    below the market's `stale_after` so that data never goes stale while the keeper runs."""

    sigma_deviation: int = 5 * model.WAD // 100
    depth_deviation: int = 10 * model.WAD // 100
    price_deviation: int = 1 * model.WAD // 100
    heartbeat: int = model.HOUR
    piggyback: bool = True  # when a batch is sent anyway, include every asset whose values changed


@dataclass(frozen=True)
class Posted:
    """What the oracle holds for an asset (`RiskOracle.metrics`); observed_at 0 = never posted."""

    price: int = 0
    sigma: int = 0
    depth: int = 0
    observed_at: int = 0
    spread: int = 0


@dataclass(frozen=True)
class Measured:
    """What the keeper measured for an asset now (before clipping)."""

    price: int
    sigma: int
    depth: int


@dataclass(frozen=True)
class Update:
    asset_id: int
    price: int
    sigma: int
    depth: int
    reasons: tuple[str, ...] = ()

    @property
    def half(self) -> int:
        """The 128 bits of this asset in a report (`model.pack_half`)."""
        return model.pack_half(self.asset_id, self.price, self.depth, self.sigma)


@dataclass(frozen=True)
class Batch:
    observed_at: int
    updates: list[Update] = field(default_factory=list)

    @property
    def words(self) -> list[int]:
        """The report words (two assets per word)."""
        return model.pack_words([u.half for u in self.updates])

    def __bool__(self) -> bool:
        return bool(self.updates)


def to_wad(x: float) -> int:
    """A float as a WAD integer (rounded to nearest)."""
    return round(x * model.WAD)


def moved(old: int, new: int, threshold: int) -> bool:
    """|new - old| > threshold * old (relative, WAD); any change from zero counts."""
    if old == 0:
        return new != 0
    return abs(new - old) * model.WAD > threshold * old


def clip(posted: Posted, measured: Measured, observed_at: int, g: model.GuardParams) -> Measured:
    """The measured values brought within what the oracle accepts at `observed_at` and to what a report
    can carry: sigma within [MIN_SIGMA, MAX_SIGMA] and not falling faster than allowed (nor beyond the
    loosening threshold), depth at least MIN_POSTED_DEPTH (where the rise guard allows) and not rising
    faster than allowed (nor beyond the threshold), the price within the move bound; price and depth
    rounded down to their report floats. Bounds are `model.clip_update`'s and `model.clip_price`'s."""
    first = posted.observed_at == 0
    dt = max(0, observed_at - posted.observed_at)
    sigma, depth = model.clip_update(
        posted.sigma, posted.depth, dt, measured.sigma, measured.depth, g, first=first
    )
    price = model.clip_price(0 if first else posted.price, measured.price, dt, g)
    return Measured(price=price, sigma=sigma, depth=model.round_depth(depth))


def decide(
    asset_id: int,
    posted: Posted,
    measured: Measured,
    observed_at: int,
    pp: PolicyParams,
    g: model.GuardParams,
) -> tuple[Update | None, Update | None]:
    """(update if this asset must be posted, update if it may ride along in a batch)."""
    if observed_at <= posted.observed_at:
        return None, None  # the oracle would revert "observation not newer"
    c = clip(posted, measured, observed_at, g)
    reasons = []
    if posted.observed_at == 0:
        reasons.append("first")
    else:
        if observed_at - posted.observed_at >= pp.heartbeat:
            reasons.append("heartbeat")
        if moved(posted.sigma, c.sigma, pp.sigma_deviation):
            reasons.append("sigma")
        if moved(posted.depth, c.depth, pp.depth_deviation):
            reasons.append("depth")
        if moved(posted.price, c.price, pp.price_deviation):
            reasons.append("price")
    update = Update(asset_id, c.price, c.sigma, c.depth, tuple(reasons))
    if reasons:
        return update, update
    changed = (c.price, c.sigma, c.depth) != (posted.price, posted.sigma, posted.depth)
    return None, (update if changed else None)


def plan(
    posted: dict[int, Posted],
    measured: dict[int, Measured],
    observed_at: int,
    pp: PolicyParams | None = None,
    g: model.GuardParams | None = None,
) -> Batch:
    """The batch to send now for every asset measured (empty when nothing is due). Assets are in id
    order; at most MAX_UPDATES per batch (the rest follows on the next tick, most urgent first)."""
    pp = pp or PolicyParams()
    g = g or model.GuardParams()
    due: list[Update] = []
    riders: list[Update] = []
    for asset_id in sorted(measured):
        must, may = decide(asset_id, posted.get(asset_id, Posted()), measured[asset_id], observed_at, pp, g)
        if must is not None:
            due.append(must)
        elif may is not None:
            riders.append(may)
    if not due:
        return Batch(observed_at)
    updates = due + (riders if pp.piggyback else [])
    updates = sorted(updates[:MAX_UPDATES], key=lambda u: u.asset_id)
    return Batch(observed_at, updates)


def apply(posted: Posted, update: Update, observed_at: int) -> Posted:
    """What the oracle stores after accepting `update` (no pending slot: the policy never loosens
    beyond the threshold)."""
    return Posted(
        model.round_price(update.price), model.units_to_sigma(model.sigma_to_units(update.sigma)),
        model.round_depth(update.depth), observed_at,
    )


def accepted(posted: Posted, update: Update, observed_at: int, g: model.GuardParams) -> str | None:
    """The revert message RiskOracle.post would give for this asset's median values (those of `update`,
    as a report carries them), "pending" if a field would wait in the pending slot, or None if all of it
    applies at once. Mirrors the per-asset checks of docs/INTERFACES.md."""
    sigma = model.units_to_sigma(model.sigma_to_units(update.sigma))
    bits = model.encode_price(update.price) if update.price > 0 else 0
    price = model.price_of(bits)
    depth = model.round_depth(update.depth) if update.depth > 0 else 0
    if observed_at == posted.observed_at:
        return "oracle: report replayed"
    if observed_at < posted.observed_at:
        return "oracle: observation not newer"
    if price == 0:
        return "oracle: price zero"
    if depth == 0:
        return "oracle: depth zero"
    if sigma < MIN_SIGMA:
        return "oracle: sigma too low"
    if sigma > MAX_SIGMA:
        return "oracle: sigma too high"
    if posted.observed_at == 0:
        return None
    dt = observed_at - posted.observed_at
    if price != posted.price and model.price_too_far(
        model.encode_price(posted.price), bits, g.max_price_move_per_hour, dt
    ):
        return "oracle: price moves too fast"
    if sigma < posted.sigma and sigma < model.min_sigma_allowed(posted.sigma, dt, g):
        return "oracle: sigma falls too fast"
    if depth > posted.depth and depth > model.max_depth_allowed(posted.depth, dt, g):
        return "oracle: depth rises too fast"
    if model.is_loosening_beyond_threshold(posted.sigma, sigma, posted.depth, depth, g):
        return "pending"
    return None
