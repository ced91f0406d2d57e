"""Liquidation engine candidates for Ballast (pure functions, integer math).

Every formula is integer, short, and says which way it rounds. Units as in `oracle.model`: WAD = 1e18 =
1.0; debt, values and depth in loan-token raw units; collateral in collateral raw units; `price` = loan
raw units per collateral raw unit times model.PRICE_SCALE = 1e36, as the oracle posts it and the market
reads it (`model.collateral_value(amount, price) = amount * price // 1e36`, and the seizure is
`model.seized_collateral`).

The engine the market ships (contracts/modules/market_math.vy, mirrored in `model.engine`) is the
candidate `shipped` (`shipped(risk)`): `liquidate` then calls `model.engine` itself, so its integer
path is the contract's arithmetic (shares included); the other candidates use the integer formulas
below.

The engine is one function, `liquidate`, configured by `EngineParams`:

(a) today's engine (`target="full"`, fixed bonus): a liquidator repays up to the whole debt and up to
    what the collateral pays for, seizes repaid * (1 + bonus) / price, and bad debt is recorded only
    when the collateral reaches 0 (Market.vy as of this writing).
(b) health-targeted (`target="init"`, `"maint_margin"` or `"init_margin"`): one call repays at most what
    brings the position back to a target haircut H_t (`target_haircut`: the position's H_init, H_maint + a
    margin, or the larger of the two; in calm markets H_init and H_maint both sit on the floor h_min, so
    H_init alone restores a position to its very line):
        after:  D - r <= (V - r (1 + b)) (1 - H_t)   <=>   r >= (D - V (1 - H_t)) / (1 - (1 + b)(1 - H_t)).
    A position too small (debt <= min_debt) or too deep to save (V <= (1 + b) D: any liquidation lowers
    its health) may be closed whole.
(c) a bonus that grows with how far below its line the position is:
        b(HF) = min(b_max, b_min + slope * (1 - HF)),    HF = V (1 - H_maint) / D  (WAD, rounds down).
    Splitting one liquidation into several never pays more than one call when HF does not fall between
    the calls (then b does not rise). A partial liquidation raises HF iff V > (1 + b) D, i.e. HF above
    the "deep line" (1 + b)(1 - H_maint). Below it HF falls with every call, so the curve must already be
    flat there: `EngineParams.check(h_min)` requires b_min + slope * (1 - (1 + b_max)(1 - h_min)) >= b_max,
    i.e. the bonus reaches b_max before any position (H_maint >= h_min) reaches its deep line.
(d) dust (`min_debt`): a liquidation that would leave 0 < debt < min_debt takes the whole debt (the
    liquidator must offer it, else "would leave dust"); a position with debt <= min_debt is closed whole.
(e) early write-off (`early_write_off`): after a liquidation, the debt the remaining collateral cannot
    pay for at the bonus, D' - V' / (1 + b), is written off at once instead of when the collateral
    reaches 0; what is left can always be liquidated in full at the bonus.
(f) a cap on the collateral value liquidated per hour, `hourly_cap` * posted depth (`cap_room`), and the
    simulator's Dutch-auction variant (`auction`: seized collateral is sold by the market over hours).
(g) anti-procyclicality (EU EMIR RTS 153/2013 Art. 28) on the requirement: `apc_buffer`,
    `apc_stress_sigma`, `apc_floor_sigma`.

`liquidate_vec` is the same engine over numpy float arrays, used by `oracle.stress` for speed; a test
holds it to the integer one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from oracle import model

WAD = model.WAD
TARGETS = ("full", "close_factor", "init", "maint_margin", "init_margin")


class EngineError(ValueError):
    """A liquidation the engine refuses (the contract would revert with the same words)."""


@dataclass(frozen=True)
class EngineParams:
    """One liquidation engine. Defaults: today's Ballast engine (fixed 5% bonus, repay up to the debt)."""

    target: str = "full"  # "full" | "close_factor" | "init" | "maint_margin" | "init_margin"
    target_margin: int = 2 * WAD // 100  # "maint_margin": H_t = H_maint + margin; "init_margin": max(H_init, that)
    close_factor: int = WAD  # "close_factor": one call repays at most this share of the debt
    full_close_hf: int = 0  # "close_factor": below this health factor the whole debt may be repaid
    bonus_min: int = 5 * WAD // 100  # bonus just below the line (HF -> 1)
    bonus_max: int = 5 * WAD // 100  # the most a liquidation ever pays
    bonus_slope: int = WAD  # bonus growth per unit of health factor below 1
    min_debt: int = 0  # dust floor, loan raw units (0: off)
    early_write_off: bool = False
    hourly_cap: int = 0  # collateral value per hour <= hourly_cap * posted depth (WAD; 0: off)
    auction: bool = False  # simulator only: seized collateral goes to a market-run sale (see oracle.stress)
    # the market's parameters when this is the engine the contract ships (`shipped`): `liquidate` is then
    # `model.engine` (market_math.engine) and the fields above must say the same (`check`)
    risk: model.RiskParams | None = None

    def replace(self, **kw) -> EngineParams:
        return replace(self, **kw)

    def check(self, h_min: int) -> None:
        """Raise EngineError when the parameters break an engine property for positions with
        H_maint >= h_min (the splitting property of (c), bounds, a known target)."""
        if self.target not in TARGETS:
            raise EngineError(f"engine: unknown target {self.target!r}")
        if not 0 <= self.bonus_min <= self.bonus_max < WAD:
            raise EngineError("engine: need 0 <= bonus_min <= bonus_max < 1")
        if not 0 < self.close_factor <= WAD:
            raise EngineError("engine: close_factor must be in (0, 1]")
        if self.risk is not None:
            r = self.risk
            same = (
                self.target == "init_margin" and self.target_margin == r.target_margin
                and self.bonus_min == r.bonus_min and self.bonus_max == r.bonus
                and self.bonus_slope == r.bonus_slope and self.early_write_off
                and self.hourly_cap == r.liq_cap and not self.auction
            )
            if not same:
                raise EngineError("engine: the shipped engine's fields must be its RiskParams' (use shipped())")
        if self.bonus_min < self.bonus_max:
            deep_line = (WAD + self.bonus_max) * (WAD - h_min) // WAD
            reach = self.bonus_min + self.bonus_slope * (WAD - deep_line) // WAD
            if reach < self.bonus_max:
                raise EngineError(
                    "engine: the bonus must reach bonus_max above the deep line (1 + b_max)(1 - h_min), "
                    "else splitting a deep liquidation pays more"
                )


def shipped(risk: model.RiskParams | None = None, min_debt: int | None = None) -> EngineParams:
    """The engine of contracts/modules/market_math.vy for these market parameters: health-targeted to
    max(H_init, H_maint + target_margin), bonus bonus_min + bonus_slope (1 - HF) up to `bonus` (the slope
    the market stores, which reaches the most at the deep line of h_min), the dust floor (`min_debt` in loan
    raw units; default risk.min_debt whole tokens of a 6-decimal loan token), the early write-off and the
    hourly cap liq_cap x posted depth. H_init's floor h_min + init_gap is the ratio's (model.h_init)."""
    r = risk or model.RiskParams()
    return EngineParams(
        target="init_margin",
        target_margin=r.target_margin,
        bonus_min=r.bonus_min,
        bonus_max=r.bonus,
        bonus_slope=r.bonus_slope,
        min_debt=r.min_debt * 10**6 if min_debt is None else min_debt,
        early_write_off=True,
        hourly_cap=r.liq_cap,
        risk=r,
    )


@dataclass(frozen=True)
class Outcome:
    """What one liquidation call does."""

    repaid: int  # debt repaid by the liquidator (loan raw)
    seized: int  # collateral to the liquidator (collateral raw)
    bad_debt: int  # debt written off (loan raw)
    bonus: int  # bonus applied (WAD)
    debt: int  # debt left
    collateral: int  # collateral left


# --- formulas ------------------------------------------------------------------------------------


def bonus(p: EngineParams, hf: int) -> int:
    """b(HF) = min(b_max, b_min + slope * (WAD - HF) / WAD), rounds down (the liquidator gets no more than
    the curve). Non-decreasing as HF falls, bounded by [b_min, b_max]."""
    if hf >= WAD or p.bonus_min == p.bonus_max:
        return p.bonus_min
    return min(p.bonus_max, p.bonus_min + p.bonus_slope * (WAD - hf) // WAD)


def target_haircut(p: EngineParams, h_maint: int, h_init: int) -> int:
    """H_t of a health-targeted engine for a position with these haircuts (capped below WAD)."""
    if p.target == "init":
        return h_init
    if p.target == "maint_margin":
        return min(h_maint + p.target_margin, WAD - 1)
    if p.target == "init_margin":
        return max(h_init, min(h_maint + p.target_margin, WAD - 1))
    return h_maint


def repay_to_target(debt: int, value: int, h_target: int, b: int) -> int:
    """Smallest repay r after which D - r <= (V - 1 - r (1 + b)) (1 - H_t): rounds up (the target is
    reached), and uses V - 1 so that the floor of the collateral value after the seizure cannot leave
    the position a wei short. Returns 0 when the target already holds, `debt` when no partial repay can
    reach it ((1 + b)(1 - H_t) >= 1)."""
    keep = WAD - h_target
    num = debt * WAD * WAD - max(value - 1, 0) * keep * WAD
    if num <= 0:
        return 0
    den = WAD * WAD - (WAD + b) * keep
    if den <= 0:
        return debt
    return model.ceil_div(num, den)


def is_deep(debt: int, value: int, b: int) -> bool:
    """V <= (1 + b) D: the collateral cannot pay the whole debt plus the bonus, and every partial
    liquidation lowers the health factor. Such a position is closed whole."""
    return value * WAD <= debt * (WAD + b)


def max_repay(p: EngineParams, debt: int, value: int, hf: int, h_target: int, b: int) -> int:
    """The most one call may repay, before the collateral and dust limits."""
    if p.target == "full":
        return debt
    if p.target == "close_factor":
        return debt if hf < p.full_close_hf else debt * p.close_factor // WAD  # rounds down
    if (p.min_debt and debt <= p.min_debt) or is_deep(debt, value, b):
        return debt
    return min(debt, repay_to_target(debt, value, h_target, b))


def liquidate(
    p: EngineParams, collateral: int, debt: int, price: int, h_maint: int, h_target: int, offered: int,
    room: int = model.MAX_VALUE,
) -> Outcome:
    """One liquidation call, with `offered` the most the liquidator is willing to repay and `room` the
    collateral value the hourly cap still allows (`cap_room`; only the shipped engine applies it here,
    the simulator applies it for the others).

    The shipped engine (`p.risk` set) is `model.engine` on a market holding this one position (debt shares
    = debt x VIRTUAL_DEBT_SHARES, so the position's debt is exactly `debt`), with H_init = h_target
    (target_haircut(H_maint, H_init) = h_target then). The others:

    Order (each step rounds against the liquidator and for the lenders where it can):
    1. value = model.collateral_value(collateral, price) (down); refuse a healthy position
       (`model.is_healthy`);
    2. HF = value * (1 - H_maint) // debt (down), bonus b = bonus(HF) (down);
    3. cap = max_repay(...): the whole debt (a), the close factor (Aave), or the target repay (b), the
       whole debt when too small or too deep;
    4. repaid = min(offered, cap, affordable) with affordable = max(ceil(value * WAD / (WAD + b)), 1), the
       most the collateral pays for (as market_math.engine);
    5. seized = model.seized_collateral(repaid, price, b, collateral) (down);
    6. write-off: debt left with no collateral is bad debt; with `early_write_off`, also the part of the
       debt left that the collateral left cannot pay at the bonus: D' - V' * WAD // (WAD + b) (the
       cover rounds down, so what stays can always be closed in full);
    7. dust: if the debt left after 5-6 is below min_debt but not 0, the call must take
       min(debt, affordable) instead, which always leaves 0 (the liquidator must offer it).
    """
    if debt == 0 or offered == 0:
        raise EngineError("market: zero amount")
    value = model.collateral_value(collateral, price)
    if model.is_healthy(debt, value, h_maint):
        raise EngineError("market: position healthy")
    if p.risk is not None:
        return _shipped(p, collateral, debt, price, h_maint, h_target, offered, room)
    hf = model.health_factor(debt, value, h_maint)
    b = bonus(p, hf)
    affordable = max(model.ceil_div(value * WAD, WAD + b), 1)
    cap = max_repay(p, debt, value, hf, h_target, b)
    out = _settle(p, collateral, debt, price, b, min(offered, cap, affordable, debt))
    if p.min_debt and 0 < out.debt < p.min_debt:
        # dust (after any write-off): the call must close the position; min(debt, affordable) always does
        whole = min(debt, affordable)
        if offered < whole:
            raise EngineError("market: would leave dust")
        out = _settle(p, collateral, debt, price, b, whole)
    return out


def _shipped(p: EngineParams, collateral: int, debt: int, price: int, h_maint: int, h_target: int, offered: int,
             room: int) -> Outcome:
    """`model.engine` (market_math.engine) for one position alone in its market."""
    shares = debt * model.VIRTUAL_DEBT_SHARES  # to_debt(shares, debt, shares, up) == debt exactly
    try:
        out = model.engine(p.risk, collateral, shares, debt, shares, price, h_maint, h_target, offered, room,
                           p.min_debt)
    except model.LiquidationRefused as exc:
        raise EngineError(str(exc)) from None
    return Outcome(out.repaid, out.seized, out.bad, out.bonus, out.debt_left, collateral - out.seized)


def _settle(p: EngineParams, collateral: int, debt: int, price: int, b: int, repaid: int) -> Outcome:
    """Steps 6-7 of `liquidate` for a given repaid amount."""
    seized = model.seized_collateral(repaid, price, b, collateral)
    debt_left, coll_left = debt - repaid, collateral - seized
    bad = 0
    if debt_left > 0:
        if coll_left == 0:
            bad = debt_left
        elif p.early_write_off:
            cover = model.collateral_value(coll_left, price) * WAD // (WAD + b)
            bad = max(debt_left - cover, 0)
    return Outcome(repaid, seized, bad, b, debt_left - bad, coll_left)


def cap_room(p: EngineParams, used: int, window: int, now: int, depth: int) -> tuple[int, int]:
    """(room, window) of the hourly cap: collateral value (loan raw) that may still be liquidated in the
    hour `now // 3600`, given `used` in `window`. The cap is hourly_cap * depth // WAD (down)."""
    hour = now // model.HOUR
    cap = depth * p.hourly_cap // WAD
    if hour != window:
        return cap, hour
    return max(cap - used, 0), window


# --- anti-procyclicality (EMIR RTS 153/2013 Art. 28) ----------------------------------------------


APC_BUFFER = 25 * WAD // 100  # Art. 28(1)(a): a buffer of at least 25% of the margin
APC_STRESS_WEIGHT = 25 * WAD // 100  # Art. 28(1)(b): at least 25% weight on stressed observations


def apc_buffer(base: int, recent_min: int, buffer: int = APC_BUFFER) -> int:
    """(a) A buffer released in stress: the requirement is at least (1 + buffer) times its lowest value of
    the recent past, so calm markets carry the buffer and a rise consumes it before the requirement moves.
    Rounds up."""
    return max(base, model.ceil_div(recent_min * (WAD + buffer), WAD))


def apc_stress_sigma(sigma: int, stressed: int, weight: int = APC_STRESS_WEIGHT) -> int:
    """(b) Stressed observations weigh `weight` in the variance: sqrt((1 - w) sigma^2 + w stressed^2),
    rounds up."""
    var = model.ceil_div((WAD - weight) * sigma * sigma + weight * stressed * stressed, WAD)
    root = model.isqrt(var)
    return root if root * root == var else root + 1


def apc_floor_sigma(sigma: int, long_sigma: int) -> int:
    """(c) A floor at the volatility of a long look-back (EMIR: 10 years)."""
    return max(sigma, long_sigma)


# --- the same engine over numpy floats (for the simulator) ------------------------------------------


@dataclass(frozen=True)
class FloatParams:
    """`EngineParams` as floats (fractions instead of WAD; min_debt in loan-token units)."""

    target: str
    target_margin: float
    close_factor: float
    full_close_hf: float
    bonus_min: float
    bonus_max: float
    bonus_slope: float
    min_debt: float
    early_write_off: bool

    @classmethod
    def of(cls, p: EngineParams, loan_unit: float, min_debt: float | None = None) -> FloatParams:
        """Floats of `p`; `min_debt` in loan-token units overrides p.min_debt / loan_unit."""
        return cls(
            p.target,
            p.target_margin / WAD,
            p.close_factor / WAD,
            p.full_close_hf / WAD,
            p.bonus_min / WAD,
            p.bonus_max / WAD,
            p.bonus_slope / WAD,
            float(min_debt) if min_debt is not None else p.min_debt / loan_unit,
            p.early_write_off,
        )


def bonus_vec(fp: FloatParams, hf: np.ndarray) -> np.ndarray:
    if fp.bonus_min == fp.bonus_max:
        return np.full(len(hf), fp.bonus_min)
    return np.minimum(fp.bonus_max, fp.bonus_min + fp.bonus_slope * np.maximum(1.0 - hf, 0.0))


def cap_vec(fp: FloatParams, debt, value, hf, h_target, b) -> np.ndarray:
    """`max_repay` over arrays (floats)."""
    if fp.target == "full":
        return debt.copy()
    if fp.target == "close_factor":
        return np.where(hf < fp.full_close_hf, debt, debt * fp.close_factor)
    keep = 1.0 - h_target
    den = 1.0 - (1.0 + b) * keep
    need = np.where(den > 0, (debt - value * keep) / np.where(den > 0, den, 1.0), debt)
    need = np.clip(need, 0.0, debt)
    whole = value <= debt * (1.0 + b)
    if fp.min_debt > 0:
        whole |= debt <= fp.min_debt
    return np.where(whole, debt, need)


def liquidate_vec(fp: FloatParams, coll, debt, price: float, h_maint, h_target, offered):
    """`liquidate` over arrays of unhealthy positions (floats, no rounding, no refusals: positions must be
    unhealthy and `offered` > 0). Returns (repaid, seized, bad_debt, bonus)."""
    value = coll * price
    hf = value * (1.0 - h_maint) / debt
    b = bonus_vec(fp, hf)
    affordable = value / (1.0 + b)
    repaid = np.minimum(np.minimum(offered, cap_vec(fp, debt, value, hf, h_target, b)), affordable)
    repaid = np.minimum(repaid, debt)
    seized, bad, left = _settle_vec(fp, coll, debt, price, b, repaid)
    if fp.min_debt > 0:
        dust = (left > 0) & (left < fp.min_debt)
        if dust.any():  # the engine takes it all (integer engine: the liquidator must offer it)
            repaid = np.where(dust, np.minimum(debt, affordable), repaid)
            seized, bad, left = _settle_vec(fp, coll, debt, price, b, repaid)
    return repaid, seized, bad, b


def _settle_vec(fp: FloatParams, coll, debt, price: float, b, repaid):
    seized = np.minimum(repaid * (1.0 + b) / price, coll)
    debt_left = debt - repaid
    coll_left = coll - seized
    if fp.early_write_off:
        bad = np.maximum(debt_left - coll_left * price / (1.0 + b), 0.0)
    else:
        bad = np.where(coll_left <= coll * 1e-12, debt_left, 0.0)
    return seized, bad, debt_left - bad
