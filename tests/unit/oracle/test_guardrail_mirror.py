"""Property test: RiskOracle.post / apply_pending accept, reject (with which message) or queue (which
fields) exactly as `oracle.model` and `oracle.policy` predict (`aggregate` for the signers' medians and
spread, `policy.accepted` for the per-asset checks, `sigma_loosens_beyond` / `depth_loosens_beyond` for the
pending slot), and the stored metrics and pending slots equal the model's, on random guard parameters,
signer sets of 3 (quorum 2) and 5 (quorum 3), and random sequences of batches whose signers disagree a
little, drawn around every bound (at it, one unit past it, far from it)."""

import os
from dataclasses import dataclass, replace

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from oracle_helpers import HOUR, SIGMA_UNIT, WAD
from signers import SIGNER_ADDRESSES, claimed_batch, signed_batch
from web3.exceptions import ContractLogicError

from oracle import model, policy

EXAMPLES = int(os.environ.get("BALLAST_ORACLE_EXAMPLES", "120"))
MIN_SIGMA, MAX_SIGMA = model.MIN_SIGMA, model.MAX_SIGMA
N_ASSETS = 2
BASE_PRICE = model.price_from_human(2_000, 6, 18)


@dataclass(frozen=True)
class Slot:
    price: int = 0
    sigma: int = 0
    depth: int = 0
    observed_at: int = 0
    spread: int = 0
    pending: tuple[int, int, int] | None = None  # (sigma or 0, depth or 0, eta)


def predict_post(slots, observed_at, now, columns, g):
    """(revert message or None, new slots, [(asset, queued sigma, queued depth)]) for a batch whose assets
    have the given columns (one half per signer) at time `now`."""
    slots = dict(slots)
    queued = []
    for column in columns:
        try:
            agg = model.aggregate(column)
        except ValueError as exc:
            return str(exc), None, None
        aid = agg.asset_id
        if aid not in slots:
            return "oracle: unknown asset", None, None
        s = slots[aid]
        stored = policy.Posted(s.price, s.sigma, s.depth, s.observed_at)
        update = policy.Update(aid, agg.price, agg.sigma, agg.depth)
        verdict = policy.accepted(stored, update, observed_at, g)
        # the contract checks the spread after the hard bounds and before the price bound and guards
        hard = {"oracle: report replayed", "oracle: observation not newer", "oracle: price zero",
                "oracle: depth zero", "oracle: sigma too low", "oracle: sigma too high"}  # fmt: skip
        if verdict not in hard and agg.spread > g.max_disagreement:
            return "oracle: signers disagree", None, None
        if verdict not in (None, "pending"):
            return verdict, None, None
        spread = agg.spread_units * model.SPREAD_UNIT
        if verdict == "pending":
            qs = agg.sigma if model.sigma_loosens_beyond(s.sigma, agg.sigma, g) else 0
            qd = agg.depth if model.depth_loosens_beyond(s.depth, agg.depth, g) else 0
            slots[aid] = Slot(agg.price, s.sigma if qs else agg.sigma, s.depth if qd else agg.depth, observed_at,
                              spread, (qs, qd, now + g.challenge_window))  # fmt: skip
            queued.append((aid, qs, qd))
        else:
            slots[aid] = Slot(agg.price, agg.sigma, agg.depth, observed_at, spread)
    return None, slots, queued


def predict_apply(slots, aid, now):
    s = slots[aid]
    if s.pending is None:
        return "oracle: nothing pending", None
    if now < s.pending[2]:
        return "oracle: challenge window open", None
    sigma, depth, _ = s.pending
    return None, {**slots, aid: replace(s, sigma=sigma or s.sigma, depth=depth or s.depth, pending=None)}


def grid(lo, hi, step):
    return st.integers(lo // step, hi // step).map(lambda x: x * step)


guard_s = st.builds(
    model.GuardParams,
    sigma_fall_per_hour=st.one_of(st.sampled_from([10**15, 5 * WAD // 100, WAD // 2]), grid(10**15, WAD // 2, 10**9)),
    depth_rise_per_hour=st.one_of(st.sampled_from([10**15, 5 * WAD // 100, WAD]), grid(10**15, WAD, 10**9)),
    loosen_threshold=st.one_of(st.sampled_from([10**16, 20 * WAD // 100, WAD // 2]), grid(10**16, WAD // 2, 10**9)),
    challenge_window=st.one_of(st.sampled_from([300, HOUR]), st.integers(300, 7 * 86_400)),
    max_price_move_per_hour=st.one_of(st.sampled_from([10**16, WAD // 2, 10 * WAD]), grid(10**16, 10 * WAD, 10**9)),
    max_disagreement=st.one_of(st.sampled_from([10**15, 5 * WAD // 100, WAD // 2]), grid(10**15, WAD // 2, 10**9)),
)
dt_s = st.one_of(st.sampled_from([0, 1, 59, HOUR, 4 * HOUR, 5 * HOUR, 30 * HOUR]), st.integers(0, 40 * HOUR))
FAULTS = ["none"] * 10 + ["unknown", "depth zero", "sigma low", "sigma high", "outlier", "other asset"]


def sigma_draw(s, dt, g):
    """Sigmas (WAD, whole storage units): mostly valid, at the fall bound and around the loosen
    threshold; one unit past the fall bound now and then."""
    if not s.observed_at:
        return st.integers(MIN_SIGMA // SIGMA_UNIT, MAX_SIGMA // SIGMA_UNIT).map(model.units_to_sigma)
    lo = model.units_to_sigma(model.sigma_to_units(model.min_sigma_allowed(s.sigma, dt, g)))
    lo = min(max(lo, MIN_SIGMA), MAX_SIGMA)
    th = model.units_to_sigma(model.sigma_to_units(model.ceil_div(s.sigma * (WAD - g.loosen_threshold), WAD)))
    near = [x for x in (lo, th, th - SIGMA_UNIT, s.sigma, s.sigma + SIGMA_UNIT) if lo <= x <= MAX_SIGMA]
    valid = st.integers(lo // SIGMA_UNIT, MAX_SIGMA // SIGMA_UNIT).map(model.units_to_sigma)
    return st.one_of(st.sampled_from(near), valid, st.sampled_from(near), valid, st.just(lo - SIGMA_UNIT))


def depth_draw(s, dt, g):
    """Depths (report floats): mostly valid, at the rise bound and around the loosen threshold."""
    if not s.observed_at:
        return st.one_of(st.sampled_from([1, model.MAX_DEPTH]), st.integers(1, 10**15)).map(model.round_depth)
    hi = model.round_depth(min(model.max_depth_allowed(s.depth, dt, g), model.MAX_DEPTH))
    th = model.round_depth(s.depth * (WAD + g.loosen_threshold) // WAD)
    over = model.depth_of(model.encode_depth(hi) + 1)
    near = [x for x in (hi, th, s.depth, model.round_depth(max(1, s.depth - 1))) if 1 <= x <= hi]
    return st.one_of(st.sampled_from(near), st.integers(1, hi).map(model.round_depth), st.sampled_from(near),
                     st.just(over))  # fmt: skip


def price_draw(s, dt, g):
    """Prices (report floats): a first post anywhere; later, around the move bound."""
    if not s.observed_at:
        return st.sampled_from([1, BASE_PRICE, model.MAX_PRICE]).map(model.round_price)
    hi = model.clip_price(s.price, model.MAX_PRICE, dt, g)
    lo = model.clip_price(s.price, 1, dt, g)
    out = [model.price_of(model.encode_price(hi) + 1), model.price_of(max(model.encode_price(lo) - 1, 1))]
    return st.one_of(st.sampled_from([hi, lo, s.price]), st.integers(lo, hi).map(model.round_price),
                     st.sampled_from(out))  # fmt: skip


def jitter(value, k, spread_ppm, rnd):
    return max(1, value + value * rnd * k * spread_ppm // 10**6)


def draw_batch(data, slots, observed_at, g, n):
    """The columns of one batch (asset order, one half per signer): each signer near the drawn median
    values (prices spread up to ~2 * the drawn ppm), with at most one planted fault."""
    ids = data.draw(st.lists(st.integers(1, N_ASSETS), min_size=1, max_size=N_ASSETS, unique=True), label="ids")
    columns = []
    for aid in ids:
        s = slots[aid]
        span = observed_at - s.observed_at if s.observed_at < observed_at else 0
        sigma = data.draw(sigma_draw(s, span, g), label="sigma")
        depth = data.draw(depth_draw(s, span, g), label="depth")
        price = data.draw(price_draw(s, span, g), label="price")
        ppm = data.draw(st.sampled_from([0, 0, 100, 10_000, 40_000]), label="spread ppm")
        rows = []
        for k in range(n):
            sign = (-1) ** k
            p = min(jitter(price, (k + 1) // 2, ppm, sign), model.MAX_PRICE)
            rows.append([aid, p, depth if k == 0 else jitter(depth, k, ppm, sign), sigma if k == 0 else
                         min(jitter(sigma, k, ppm, -sign), MAX_SIGMA)])  # fmt: skip
        columns.append(rows)
    fault = data.draw(st.sampled_from(FAULTS), label="fault")
    col = columns[data.draw(st.integers(0, len(columns) - 1), label="faulty asset")]
    row = col[data.draw(st.integers(0, n - 1), label="faulty signer")]
    if fault == "unknown":
        for r in col:
            r[0] = data.draw(st.sampled_from([0, N_ASSETS + 1, 2**16 - 1]), label="unknown id")
    elif fault == "depth zero":
        for r in col:
            r[2] = 0
    elif fault == "sigma low":
        for r in col:
            r[3] = MIN_SIGMA - SIGMA_UNIT
    elif fault == "sigma high":
        for r in col:
            r[3] = MAX_SIGMA + SIGMA_UNIT
    elif fault == "outlier":
        row[1] = min(row[1] * 100, model.MAX_PRICE)
    elif fault == "other asset":
        row[0] = N_ASSETS + 1 - row[0] if N_ASSETS > 1 else 0
    return [[half(*r) for r in c] for c in columns]


def half(aid, price, depth, sigma):
    """pack_half, but a zero depth stays zero (to plant "depth zero")."""
    if depth == 0:
        return (aid << 112) | (model.encode_price(price) << 64) | model.sigma_to_units(sigma)
    return model.pack_half(aid, price, depth, sigma)


def words_of(columns, n):
    """Each signer's report words from the columns."""
    return {k: model.pack_words([c[k] for c in columns]) for k in range(n)}


@pytest.fixture(scope="module")
def setup(project, accounts):
    admin, guardian = accounts[0], accounts[2]
    oracle = admin.deploy(project.RiskOracle, guardian, SIGNER_ADDRESSES[:3], 2)
    for i in range(N_ASSETS):
        oracle.add_asset(f"0x{i + 1:040x}", f"0x{0x100:040x}", sender=admin)
    return oracle, admin


def assert_rejects(chain, method, args, sender, msg):
    """The call reverts with exactly `msg` on the pending block (the block the next transaction would
    be mined in, same timestamp). Rejections are checked with eth_call rather than a reverted
    transaction: the EVM execution is the same and it is ~15x faster than ape's revert tracing
    (reverted transactions are covered by the unit tests). The storage check that follows shows the
    rejected batch changed nothing."""
    data = method.encode_input(*args)
    try:
        chain.provider.web3.eth.call({"from": sender.address, "to": method.contract.address, "data": data}, "pending")
    except ContractLogicError as err:
        assert str(err.message) == f"execution reverted: {msg}"
    else:
        raise AssertionError(f"expected revert {msg!r}")


def check_storage(oracle, slots):
    for aid, s in slots.items():
        assert oracle.metrics(aid) == (s.price, s.sigma, s.depth, s.observed_at, s.spread)
        assert oracle.pending(aid) == (s.pending or (0, 0, 0))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(g=guard_s, five=st.booleans(), data=st.data())
def test_contract_matches_model(setup, chain, g, five, data):
    oracle, admin = setup
    snap = chain.snapshot()
    try:
        _run(oracle, admin, chain, g, five, data)
    finally:
        chain.restore(snap)


def _run(oracle, admin, chain, g, five, data):
    oracle.set_guard_params(*g.__dict__.values(), sender=admin)
    count, quorum = (5, 3) if five else (3, 2)
    if five:
        oracle.configure_signers(SIGNER_ADDRESSES[:5], 3, sender=admin)
    now = chain.blocks.head.timestamp
    last_at = now + 1  # observation times are drawn forward from here
    slots = {aid: Slot() for aid in range(1, N_ASSETS + 1)}
    for step in range(data.draw(st.integers(2, 4), label="steps")):
        first = step == 0
        waiting = [a for a in slots if slots[a].pending]
        kind = "post" if first or not waiting else data.draw(st.sampled_from(["post", "apply", "apply"]), label="kind")
        if kind == "apply":
            aid = data.draw(st.sampled_from(waiting), label="apply asset")
            eta = slots[aid].pending[2]
            now = max(now + 1, data.draw(st.sampled_from([eta - 1, eta, eta + 7]), label="t"))
            chain.pending_timestamp = now
            msg, new = predict_apply(slots, aid, now)
            if msg:
                assert_rejects(chain, oracle.apply_pending, [aid], admin, msg)
            else:
                # a fixed gas limit: ape would estimate at the latest block, a second or more before `now`,
                # where the window may still be open (the transaction itself lands at `now`)
                oracle.apply_pending(aid, sender=admin, gas=300_000)
                slots = new
                check_storage(oracle, slots)
            event(msg or "applied")
            continue
        # enough observation time for a fall beyond the loosen threshold to be within the fall bound
        loosen_dt = model.ceil_div(g.loosen_threshold * HOUR, g.sigma_fall_per_hour)
        dt = 0 if first else data.draw(st.one_of(dt_s, st.integers(loosen_dt, loosen_dt + 2 * HOUR)), label="dt")
        observed_at = last_at + dt
        now = max(now + 1, observed_at + data.draw(st.integers(0, 600), label="lag"))
        n = data.draw(st.integers(quorum, count), label="signatures")
        if first:  # every asset gets a valid, unanimous first post, so later steps meet the rate bounds
            columns = [[model.pack_half(aid, BASE_PRICE, model.round_depth(data.draw(st.integers(1, 10**15), label="d0")),
                                        data.draw(st.integers(MIN_SIGMA, MAX_SIGMA), label="s0"))] * n
                       for aid in slots]  # fmt: skip
        else:
            columns = draw_batch(data, slots, observed_at, g, n)
        chain.pending_timestamp = now
        own = words_of(columns, n)
        # built by hand: reports.build_batch would refuse reports that cover other assets
        batch = claimed_batch(oracle, chain.chain_id, observed_at, now, own[0], [(k, k) for k in range(n)], own)
        msg, new, queued = predict_post(slots, observed_at, now, columns, g)
        if msg:
            assert_rejects(chain, oracle.post, batch.args, admin, msg)
        else:
            tx = oracle.post(*batch.args, sender=admin)
            logs = tx.decode_logs(oracle.UpdateQueued)
            assert [(x.asset_id, x.sigma, x.depth, x.eta) for x in logs] == [
                (a, qs, qd, new[a].pending[2]) for a, qs, qd in queued
            ]
            slots = new
            last_at = observed_at
            check_storage(oracle, slots)
        if not first:
            event(msg or ("queued" if queued else "posted"))


CLIP_EXAMPLES = int(os.environ.get("BALLAST_ORACLE_CLIP_EXAMPLES", "40"))
raw_sigma_s = st.one_of(st.sampled_from([0, 1, MIN_SIGMA - 1, MAX_SIGMA + 1, 10**30]), st.integers(0, 30 * WAD))
raw_depth_s = st.one_of(st.sampled_from([0, 1, model.MAX_DEPTH + 1]), st.integers(0, 10**16))
raw_price_s = st.one_of(st.sampled_from([0, 1, BASE_PRICE * 1000, model.MAX_PRICE * 2]), st.integers(1, BASE_PRICE * 4))


@settings(max_examples=CLIP_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    g=guard_s,
    first=st.tuples(raw_price_s, raw_sigma_s, raw_depth_s),
    steps=st.lists(st.tuples(st.integers(1, 30 * HOUR), raw_price_s, raw_sigma_s, raw_depth_s), min_size=1, max_size=3),
)
def test_clipped_updates_always_apply(setup, chain, g, first, steps):
    """What the keeper reports (`policy.clip` of any raw estimate) is accepted and applied at once: no
    revert, nothing queued, stored exactly."""
    oracle, admin = setup
    snap = chain.snapshot()
    try:
        oracle.set_guard_params(*g.__dict__.values(), sender=admin)
        at = chain.blocks.head.timestamp + 1
        posted = policy.Posted()
        for dt, raw_price, raw_sigma, raw_depth in [(0, *first), *steps]:
            at += dt
            m = policy.clip(posted, policy.Measured(raw_price, raw_sigma, raw_depth), at, g)
            chain.pending_timestamp = at
            words = model.pack_report([(1, m.price, m.depth, m.sigma)])
            batch = signed_batch(oracle, chain.chain_id, at, at, words, (0, 1))
            tx = oracle.post(*batch.args, sender=admin)
            assert tx.decode_logs(oracle.UpdateQueued) == []
            posted = policy.apply(posted, policy.Update(1, m.price, m.sigma, m.depth), at)
            assert oracle.metrics(1) == (posted.price, posted.sigma, posted.depth, at, 0)
    finally:
        chain.restore(snap)
