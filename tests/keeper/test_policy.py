"""Posting policy: deviation, heartbeat, clipping to the guardrails, batching."""

import pytest

from oracle import model, policy
from oracle.policy import Measured, PolicyParams, Posted

W = model.WAD
H = model.HOUR
G = model.GuardParams()
PP = PolicyParams()
T = 1_700_000_000
STORED = Posted(price=2_000 * W, sigma=W, depth=10**24, observed_at=T)


def units(x: int) -> int:
    return model.units_to_sigma(model.sigma_to_units(x))


def test_first_post_goes_out_and_is_accepted():
    batch = policy.plan({}, {1: Measured(2_000 * W, W // 2, 10**24)}, T)
    (u,) = batch.updates
    assert u.reasons == ("first",) and u.sigma == W // 2 and u.depth == 10**24
    assert policy.accepted(Posted(), u, T, G) is None
    assert batch.words == model.pack_update(1, 2_000 * W, 10**24, W // 2)


def test_nothing_due_inside_heartbeat_and_thresholds():
    same = Measured(STORED.price, STORED.sigma, STORED.depth)
    assert not policy.plan({1: STORED}, {1: same}, T + H - 1)
    small = Measured(STORED.price * 1005 // 1000, STORED.sigma * 104 // 100, STORED.depth * 109 // 100)
    assert not policy.plan({1: STORED}, {1: small}, T + 600)


def test_heartbeat_expiry_posts():
    same = Measured(STORED.price, STORED.sigma, STORED.depth)
    (u,) = policy.plan({1: STORED}, {1: same}, T + H).updates
    assert u.reasons == ("heartbeat",)


@pytest.mark.parametrize(
    "measured, reason",
    [
        (Measured(2_000 * W, W * 106 // 100, 10**24), "sigma"),
        (Measured(2_000 * W, W, 10**24 * 85 // 100), "depth"),
        (Measured(2_030 * W, W, 10**24), "price"),
    ],
)
def test_deviation_posts(measured, reason):
    # ten minutes later: the price may move 50%/h * 10 min = 8.3%, so the 1.5% move is not clipped
    (u,) = policy.plan({1: STORED}, {1: measured}, T + 600).updates
    assert u.reasons == (reason,)
    assert policy.accepted(STORED, u, T + 600, G) is None


def test_sigma_fall_is_clipped_to_the_guardrail():
    # measured sigma halves one hour later: the oracle accepts at most a 5% fall per hour
    (u,) = policy.plan({1: STORED}, {1: Measured(STORED.price, W // 2, STORED.depth)}, T + H).updates
    assert u.sigma == units(model.min_sigma_allowed(W, H, G)) == 95 * W // 100
    assert policy.accepted(STORED, u, T + H, G) is None
    # unclipped, the oracle would revert
    raw = policy.Update(1, STORED.price, W // 2, STORED.depth)
    assert policy.accepted(STORED, raw, T + H, G) == "oracle: sigma falls too fast"


def test_long_silence_clipped_by_loosening_threshold_not_pending():
    # after 10 hours the fall bound allows -50%, but more than -20% would wait in the pending slot
    (u,) = policy.plan({1: STORED}, {1: Measured(STORED.price, W // 4, STORED.depth * 3)}, T + 10 * H).updates
    assert u.sigma == 80 * W // 100 and u.depth == STORED.depth * 120 // 100
    assert policy.accepted(STORED, u, T + 10 * H, G) is None
    raw = policy.Update(1, STORED.price, 70 * W // 100, STORED.depth)
    assert policy.accepted(STORED, raw, T + 10 * H, G) == "pending"


def test_depth_rise_clipped_and_fall_passes():
    (u,) = policy.plan({1: STORED}, {1: Measured(STORED.price, W, STORED.depth * 2)}, T + H).updates
    assert u.depth == model.max_depth_allowed(STORED.depth, H, G) == STORED.depth * 105 // 100
    (d,) = policy.plan({1: STORED}, {1: Measured(STORED.price, W, STORED.depth // 10)}, T + 60).updates
    assert d.depth == STORED.depth // 10  # risk up: immediately


def test_sigma_rise_passes_unclipped_up_to_max():
    (u,) = policy.plan({1: STORED}, {1: Measured(STORED.price, 5 * W, STORED.depth)}, T + 60).updates
    assert u.sigma == 5 * W
    (m,) = policy.plan({1: STORED}, {1: Measured(STORED.price, 50 * W, STORED.depth)}, T + 60).updates
    assert m.sigma == policy.MAX_SIGMA and policy.accepted(STORED, m, T + 60, G) is None


def test_bounds_for_first_post():
    (u,) = policy.plan({}, {1: Measured(0, 0, 0)}, T).updates
    assert (u.price, u.sigma, u.depth) == (1, policy.MIN_SIGMA, model.MIN_POSTED_DEPTH)
    assert policy.accepted(Posted(), u, T, G) is None
    assert policy.accepted(Posted(), policy.Update(1, 0, W, 1), T, G) == "oracle: price zero"
    assert policy.accepted(Posted(), policy.Update(1, 1, W, 0), T, G) == "oracle: depth zero"
    assert policy.accepted(Posted(), policy.Update(1, 1, W // 1000, 1), T, G) == "oracle: sigma too low"
    assert policy.accepted(Posted(), policy.Update(1, 1, 21 * W, 1), T, G) == "oracle: sigma too high"


def test_observation_not_newer_is_skipped():
    assert not policy.plan({1: STORED}, {1: Measured(STORED.price, 3 * W, STORED.depth)}, T)
    raw = policy.Update(1, STORED.price, 3 * W, STORED.depth)
    assert policy.accepted(STORED, raw, T, G) == "oracle: report replayed"  # this round landed already
    assert policy.accepted(STORED, raw, T - 1, G) == "oracle: observation not newer"


def test_batch_all_assets_with_piggyback():
    posted = {1: STORED, 2: STORED, 3: STORED}
    measured = {
        3: Measured(STORED.price, 2 * W, STORED.depth),  # due: sigma doubled
        1: Measured(STORED.price * 1001 // 1000, W, STORED.depth),  # small change: rides along
        2: Measured(STORED.price, STORED.sigma, STORED.depth),  # unchanged: left out
    }
    batch = policy.plan(posted, measured, T + 60)
    assert [u.asset_id for u in batch.updates] == [1, 3]
    assert batch.updates[0].reasons == () and batch.updates[1].reasons == ("sigma",)
    alone = policy.plan(posted, measured, T + 60, PolicyParams(piggyback=False))
    assert [u.asset_id for u in alone.updates] == [3]


def test_batch_limited_to_64_words():
    measured = {i: Measured(W, W, W) for i in range(1, 70)}
    batch = policy.plan({}, measured, T)
    assert len(batch.updates) == policy.MAX_UPDATES and batch.updates[-1].asset_id == 64


def test_apply_then_replay_every_hour_never_violates():
    # a measured path with a crash and a calm-down: every clipped post applies at once
    path = [W] * 3 + [6 * W] + [W // 10] * 40
    posted = Posted()
    for k, s in enumerate(path):
        now = T + k * H
        batch = policy.plan({1: posted}, {1: Measured(W, s, 10**24 // (k + 1))}, now)
        for u in batch.updates:
            assert policy.accepted(posted, u, now, G) is None
            posted = policy.apply(posted, u, now)
    assert posted.sigma > W // 10  # still coming down at the bounded pace


def test_drained_pool_does_not_brick_the_depth():
    """A measured depth of 0 (a drained pool) is posted as MIN_POSTED_DEPTH, not 1: from there the
    oracle's relative rise guard (5%/h by default) lets the depth recover once the pool refills. From a
    depth of 1 it never could (1 * 5% rounds down to 0)."""
    stored = Posted(price=2_000 * W, sigma=W, depth=10**12, observed_at=T)
    (u,) = policy.plan({1: stored}, {1: Measured(stored.price, W, 0)}, T + 3_600).updates
    assert u.depth == model.MIN_POSTED_DEPTH and policy.accepted(stored, u, T + 3_600, G) is None
    drained = policy.apply(stored, u, T + 3_600)
    now, depth = T + 3_600, drained.depth
    for _ in range(3):  # the pool refilled: each hourly post may raise the depth by 5%
        now += 3_600
        (u,) = policy.plan({1: drained}, {1: Measured(stored.price, W, 10**12)}, now).updates
        assert policy.accepted(drained, u, now, G) is None
        assert u.depth == depth + depth * G.depth_rise_per_hour // W
        drained, depth = policy.apply(drained, u, now), u.depth
    # the rounding trap the floor avoids
    assert model.max_depth_allowed(1, 3_600, G) == 1


def test_depth_floor_never_exceeds_what_the_oracle_accepts():
    """Below the floor already (posted by another keeper): the floor is capped by the rise guard."""
    old = Posted(price=2_000 * W, sigma=W, depth=100, observed_at=T)
    (u,) = policy.plan({1: old}, {1: Measured(old.price, W, 0)}, T + 3_600).updates
    assert u.depth == model.max_depth_allowed(100, 3_600, G) == 105
    assert policy.accepted(old, u, T + 3_600, G) is None
