"""RiskOracle.post: authorisation, order checks, bounds, guardrails (fast up / slow down), queueing of
loosenings beyond the threshold, events. Every guard has a test at its bound and one unit past it."""

import ape
import pytest
from oracle_helpers import DEPTH, HOUR, PRICE, SIGMA, SIGMA_UNIT, WAD, pin_next_block

from oracle import model

G = model.GuardParams()
MIN_SIGMA = WAD // 100
MAX_SIGMA = 20 * WAD


# --- authorisation and batch-level checks -------------------------------------------------------


def test_first_post_stores_metrics_and_logs_one_event(oracle, asset, post, keeper, chain):
    at = chain.pending_timestamp
    tx = post([(asset, PRICE, DEPTH, SIGMA)], observed_at=at)
    assert oracle.metrics(asset) == (PRICE, SIGMA, DEPTH, at)
    logs = tx.decode_logs(oracle.MetricsPosted)
    assert [(x.keeper, x.observed_at, x.updates) for x in logs] == [(keeper.address, at, 1)]
    assert len(tx.logs) == 1


def test_not_keeper_reverts(oracle, asset, post, other):
    with ape.reverts("oracle: not keeper"):
        post([(asset, PRICE, DEPTH, SIGMA)], sender=other)


def test_removed_keeper_reverts(oracle, asset, post, admin, keeper):
    oracle.set_keeper(keeper, False, sender=admin)
    with ape.reverts("oracle: not keeper"):
        post([(asset, PRICE, DEPTH, SIGMA)])


def test_owner_is_not_a_keeper_by_default(oracle, asset, post, admin):
    with ape.reverts("oracle: not keeper"):
        post([(asset, PRICE, DEPTH, SIGMA)], sender=admin)


def test_paused_reverts_and_unpaused_posts(oracle, asset, post, admin, guardian):
    oracle.pause(sender=guardian)
    with ape.reverts("oracle: paused"):
        post([(asset, PRICE, DEPTH, SIGMA)])
    oracle.unpause(sender=admin)
    post([(asset, PRICE, DEPTH, SIGMA)])
    assert oracle.metrics(asset)[0] == PRICE


def test_not_keeper_is_checked_before_paused(oracle, asset, post, guardian, other):
    oracle.pause(sender=guardian)
    with ape.reverts("oracle: not keeper"):
        post([(asset, PRICE, DEPTH, SIGMA)], sender=other)


def test_deadline_equal_to_block_time_passes(oracle, asset, post, chain):
    ts = pin_next_block(chain)
    post([(asset, PRICE, DEPTH, SIGMA)], observed_at=ts, deadline=ts)
    assert oracle.metrics(asset)[3] == ts


def test_deadline_one_second_past_reverts(oracle, asset, post, chain):
    ts = pin_next_block(chain)
    with ape.reverts("oracle: deadline passed"):
        post([(asset, PRICE, DEPTH, SIGMA)], observed_at=ts - 10, deadline=ts - 1)


def test_observation_at_block_time_passes(oracle, asset, post, chain):
    ts = pin_next_block(chain)
    post([(asset, PRICE, DEPTH, SIGMA)], observed_at=ts)
    assert oracle.metrics(asset)[3] == ts


def test_observation_in_future_reverts(oracle, asset, post, chain):
    ts = pin_next_block(chain)
    with ape.reverts("oracle: observation in future"):
        post([(asset, PRICE, DEPTH, SIGMA)], observed_at=ts + 1)


def test_empty_batch_logs_zero_updates(oracle, asset, post):
    tx = post([])
    assert tx.decode_logs(oracle.MetricsPosted)[0].updates == 0


def test_more_than_64_updates_reverts(oracle, asset, keeper, chain):
    ts = chain.pending_timestamp
    words = [model.pack_update(asset, PRICE, DEPTH, SIGMA)] * 65
    with ape.reverts():
        oracle.post(ts, ts + 60, words, sender=keeper)


# --- per-word checks ---------------------------------------------------------------------------


@pytest.mark.parametrize("asset_id", [0, 2, 65_535])
def test_unknown_asset_reverts(oracle, asset, post, asset_id):
    with ape.reverts("oracle: unknown asset"):
        post([(asset_id, PRICE, DEPTH, SIGMA)])


def test_word_with_bits_above_the_asset_id_reverts(oracle, asset, keeper, chain):
    ts = chain.pending_timestamp
    word = (1 << 232) | model.pack_update(asset, PRICE, DEPTH, SIGMA)
    with ape.reverts("oracle: unknown asset"):
        oracle.post(ts, ts + 60, [word], sender=keeper)


def test_same_observation_time_reverts(oracle, posted, asset, post):
    with ape.reverts("oracle: observation not newer"):
        post([(asset, PRICE, DEPTH, SIGMA)], observed_at=posted)


def test_older_observation_reverts_and_one_second_newer_passes(oracle, posted, asset, post, chain):
    chain.pending_timestamp = posted + 10
    with ape.reverts("oracle: observation not newer"):
        post([(asset, PRICE, DEPTH, SIGMA)], observed_at=posted - 1)
    post([(asset, PRICE + 1, DEPTH, SIGMA)], observed_at=posted + 1)
    assert oracle.metrics(asset) == (PRICE + 1, SIGMA, DEPTH, posted + 1)


def test_same_asset_twice_in_one_batch_reverts(oracle, asset, post):
    with ape.reverts("oracle: observation not newer"):
        post([(asset, PRICE, DEPTH, SIGMA), (asset, PRICE, DEPTH, SIGMA)])


def test_price_zero_reverts_and_one_wei_passes(oracle, asset, post):
    with ape.reverts("oracle: price zero"):
        post([(asset, 0, DEPTH, SIGMA)])
    post([(asset, 1, DEPTH, SIGMA)])
    assert oracle.metrics(asset)[0] == 1


def test_depth_zero_reverts_and_one_unit_passes(oracle, asset, post):
    with ape.reverts("oracle: depth zero"):
        post([(asset, PRICE, 0, SIGMA)])
    post([(asset, PRICE, 1, SIGMA)])
    assert oracle.metrics(asset)[2] == 1


def test_sigma_at_min_passes(oracle, asset, post):
    post([(asset, PRICE, DEPTH, MIN_SIGMA)])
    assert oracle.metrics(asset)[1] == MIN_SIGMA


def test_sigma_one_unit_below_min_reverts(oracle, asset, post):
    with ape.reverts("oracle: sigma too low"):
        post([(asset, PRICE, DEPTH, MIN_SIGMA - SIGMA_UNIT)])


def test_sigma_at_max_passes(oracle, asset, post):
    post([(asset, PRICE, DEPTH, MAX_SIGMA)])
    assert oracle.metrics(asset)[1] == MAX_SIGMA


def test_sigma_one_unit_above_max_reverts(oracle, asset, post):
    with ape.reverts("oracle: sigma too high"):
        post([(asset, PRICE, DEPTH, MAX_SIGMA + SIGMA_UNIT)])


def test_extreme_price_and_depth_fit_their_fields(oracle, asset, post):
    post([(asset, model.MAX_PRICE, model.MAX_DEPTH, SIGMA)])
    assert oracle.metrics(asset)[:3] == (model.MAX_PRICE, SIGMA, model.MAX_DEPTH)


def test_one_bad_word_reverts_the_whole_batch(oracle, admin, keeper, tokens, post):
    oracle.add_asset(tokens[0], sender=admin)
    oracle.add_asset(tokens[1], sender=admin)
    oracle.set_keeper(keeper, True, sender=admin)
    with ape.reverts("oracle: price zero"):
        post([(1, PRICE, DEPTH, SIGMA), (2, 0, DEPTH, SIGMA)])
    assert oracle.metrics(1) == (0, 0, 0, 0)


def test_batch_of_two_assets_stores_both(oracle, admin, keeper, tokens, post, chain):
    oracle.add_asset(tokens[0], sender=admin)
    oracle.add_asset(tokens[1], sender=admin)
    oracle.set_keeper(keeper, True, sender=admin)
    at = chain.pending_timestamp
    tx = post([(1, PRICE, DEPTH, SIGMA), (2, 3 * WAD, 7, 2 * WAD)], observed_at=at)
    assert oracle.metrics(1) == (PRICE, SIGMA, DEPTH, at)
    assert oracle.metrics(2) == (3 * WAD, 2 * WAD, 7, at)
    assert tx.decode_logs(oracle.MetricsPosted)[0].updates == 2


def test_sigma_rounds_up_to_its_storage_unit(oracle, asset, post):
    post([(asset, PRICE, DEPTH, SIGMA + 1)])  # pack_update rounds the WAD value up to 1e10
    assert oracle.metrics(asset)[1] == SIGMA + SIGMA_UNIT


# --- guardrails: risk up fast, down slow --------------------------------------------------------


def _later(chain, posted, seconds):
    at = posted + seconds
    chain.pending_timestamp = max(chain.pending_timestamp, at)
    return at


def test_sigma_may_rise_to_max_one_second_later(oracle, posted, asset, post, chain):
    at = _later(chain, posted, 1)
    post([(asset, PRICE, DEPTH, MAX_SIGMA)], observed_at=at)
    assert oracle.metrics(asset)[1] == MAX_SIGMA


def test_depth_may_fall_to_one_one_second_later(oracle, posted, asset, post, chain):
    at = _later(chain, posted, 1)
    post([(asset, PRICE, 1, SIGMA)], observed_at=at)
    assert oracle.metrics(asset)[2] == 1


def test_sigma_fall_exactly_at_bound_passes(oracle, posted, asset, post, chain):
    at = _later(chain, posted, HOUR)
    bound = model.min_sigma_allowed(SIGMA, HOUR, G)
    assert bound == SIGMA * 95 // 100 and bound % SIGMA_UNIT == 0
    post([(asset, PRICE, DEPTH, bound)], observed_at=at)
    assert oracle.metrics(asset)[1] == bound


def test_sigma_fall_one_unit_past_bound_reverts(oracle, posted, asset, post, chain):
    at = _later(chain, posted, HOUR)
    bound = model.min_sigma_allowed(SIGMA, HOUR, G)
    with ape.reverts("oracle: sigma falls too fast"):
        post([(asset, PRICE, DEPTH, bound - SIGMA_UNIT)], observed_at=at)


def test_sigma_fall_bound_counts_observation_time_not_block_time(oracle, posted, asset, post, chain):
    chain.pending_timestamp = posted + 10 * HOUR  # block time far ahead
    at = posted + HOUR  # but only one hour of observation time
    with ape.reverts("oracle: sigma falls too fast"):
        post([(asset, PRICE, DEPTH, model.min_sigma_allowed(SIGMA, HOUR, G) - SIGMA_UNIT)], observed_at=at)


def test_sigma_fall_bound_rounds_like_the_model(oracle, posted, asset, post, chain):
    # dt = 1 s: allowed fall = 0.8 * floor(0.05e18 * 1 / 3600) / 1e18, floor rounds up: bound is not
    # a multiple of the storage unit, so the lowest postable sigma is the bound rounded up.
    at = _later(chain, posted, 1)
    bound = model.min_sigma_allowed(SIGMA, 1, G)
    assert bound % SIGMA_UNIT != 0
    lowest = model.units_to_sigma(model.sigma_to_units(bound))
    with ape.reverts("oracle: sigma falls too fast"):
        post([(asset, PRICE, DEPTH, lowest - SIGMA_UNIT)], observed_at=at)
    post([(asset, PRICE, DEPTH, lowest)], observed_at=at)
    assert oracle.metrics(asset)[1] == lowest


def test_depth_rise_exactly_at_bound_passes(oracle, posted, asset, post, chain):
    at = _later(chain, posted, HOUR)
    bound = model.max_depth_allowed(DEPTH, HOUR, G)
    assert bound == DEPTH * 105 // 100
    post([(asset, PRICE, bound, SIGMA)], observed_at=at)
    assert oracle.metrics(asset)[2] == bound


def test_depth_rise_one_unit_past_bound_reverts(oracle, posted, asset, post, chain):
    at = _later(chain, posted, HOUR)
    with ape.reverts("oracle: depth rises too fast"):
        post([(asset, PRICE, model.max_depth_allowed(DEPTH, HOUR, G) + 1, SIGMA)], observed_at=at)


def test_sigma_check_comes_before_depth_check(oracle, posted, asset, post, chain):
    at = _later(chain, posted, 1)
    with ape.reverts("oracle: sigma falls too fast"):
        post([(asset, PRICE, DEPTH * 2, SIGMA // 2)], observed_at=at)


def test_first_post_is_not_rate_limited(oracle, asset, post, chain):
    post([(asset, PRICE, model.MAX_DEPTH, MIN_SIGMA)])
    assert oracle.metrics(asset)[1:3] == (MIN_SIGMA, model.MAX_DEPTH)
    assert oracle.pending(asset) == (0, 0, 0)


# --- loosening beyond the threshold goes to the pending slot -------------------------------------


def test_sigma_fall_exactly_at_threshold_applies(oracle, posted, asset, post, chain):
    at = _later(chain, posted, 5 * HOUR)
    sigma = SIGMA * 80 // 100  # exactly 20%: not beyond
    assert not model.is_loosening_beyond_threshold(SIGMA, sigma, DEPTH, DEPTH, G)
    tx = post([(asset, PRICE, DEPTH, sigma)], observed_at=at)
    assert oracle.metrics(asset)[1] == sigma
    assert tx.decode_logs(oracle.UpdateQueued) == []


def test_sigma_fall_one_unit_beyond_threshold_is_queued(oracle, posted, asset, post, chain):
    at = _later(chain, posted, 5 * HOUR)
    sigma = SIGMA * 80 // 100 - SIGMA_UNIT
    tx = post([(asset, PRICE + 5, DEPTH, sigma)], observed_at=at)
    eta = chain.blocks.head.timestamp + G.challenge_window
    # price and observed_at apply, sigma and depth wait
    assert oracle.metrics(asset) == (PRICE + 5, SIGMA, DEPTH, at)
    assert oracle.pending(asset) == (sigma, DEPTH, eta)
    logs = tx.decode_logs(oracle.UpdateQueued)
    assert [(x.asset_id, x.sigma, x.depth, x.eta) for x in logs] == [(asset, sigma, DEPTH, eta)]
    assert len(tx.decode_logs(oracle.MetricsPosted)) == 1


def test_depth_rise_exactly_at_threshold_applies(oracle, posted, asset, post, chain):
    at = _later(chain, posted, 5 * HOUR)
    depth = DEPTH * 120 // 100
    post([(asset, PRICE, depth, SIGMA)], observed_at=at)
    assert oracle.metrics(asset)[2] == depth
    assert oracle.pending(asset) == (0, 0, 0)


def test_depth_rise_one_unit_beyond_threshold_is_queued(oracle, posted, asset, post, chain):
    at = _later(chain, posted, 5 * HOUR)
    depth = DEPTH * 120 // 100 + 1
    tx = post([(asset, PRICE, depth, SIGMA)], observed_at=at)
    assert oracle.metrics(asset)[1:3] == (SIGMA, DEPTH)
    assert oracle.pending(asset)[:2] == (SIGMA, depth)
    assert len(tx.decode_logs(oracle.UpdateQueued)) == 1


def test_tightening_post_drops_the_pending_update(oracle, queued, asset, post, chain):
    at = queued[0] + 1
    chain.pending_timestamp = max(chain.pending_timestamp, at)
    tx = post([(asset, PRICE, DEPTH, SIGMA)], observed_at=at)
    assert oracle.pending(asset) == (0, 0, 0)
    assert [x.asset_id for x in tx.decode_logs(oracle.PendingDropped)] == [asset]
    with ape.reverts("oracle: nothing pending"):
        oracle.apply_pending(asset, sender=post.oracle.owner())


def test_post_without_pending_logs_no_drop(oracle, posted, asset, post, chain):
    at = _later(chain, posted, 1)
    tx = post([(asset, PRICE, DEPTH, SIGMA)], observed_at=at)
    assert tx.decode_logs(oracle.PendingDropped) == []


def test_second_loosening_replaces_the_pending_update(oracle, queued, asset, post, chain):
    # The fall bound counts from the stored sigma and the last observation time (which the queued
    # post advanced): 6 hours later a 30% fall from the stored sigma is allowed and still beyond 20%.
    at = queued[0] + 6 * HOUR
    chain.pending_timestamp = max(chain.pending_timestamp, at)
    sigma = SIGMA * 70 // 100
    assert model.min_sigma_allowed(SIGMA, 6 * HOUR, G) == sigma
    post([(asset, PRICE, DEPTH, sigma)], observed_at=at)
    eta = chain.blocks.head.timestamp + G.challenge_window
    assert oracle.pending(asset) == (sigma, DEPTH, eta)
    assert oracle.metrics(asset)[1] == SIGMA


def test_fall_right_after_a_queued_update_is_rate_limited(oracle, queued, asset, post, chain):
    at = queued[0] + 1
    chain.pending_timestamp = max(chain.pending_timestamp, at)
    with ape.reverts("oracle: sigma falls too fast"):
        post([(asset, PRICE, DEPTH, queued[2])], observed_at=at)


# --- the guard word copies reach every keeper ---------------------------------------------------


def test_new_guard_params_apply_to_existing_keepers(oracle, posted, asset, post, admin, chain):
    oracle.set_guard_params(10 * WAD // 100, G.depth_rise_per_hour, G.loosen_threshold, HOUR, sender=admin)
    at = _later(chain, posted, HOUR)
    post([(asset, PRICE, DEPTH, SIGMA * 90 // 100)], observed_at=at)  # 10% fall: the new bound
    assert oracle.metrics(asset)[1] == SIGMA * 90 // 100


def test_old_guard_params_no_longer_apply(oracle, posted, asset, post, admin, chain):
    oracle.set_guard_params(2 * WAD // 100, G.depth_rise_per_hour, G.loosen_threshold, HOUR, sender=admin)
    at = _later(chain, posted, HOUR)
    with ape.reverts("oracle: sigma falls too fast"):
        post([(asset, PRICE, DEPTH, SIGMA * 95 // 100)], observed_at=at)  # old bound, now too fast


def test_keeper_added_after_param_change_and_pause_sees_them(
    oracle, posted, asset, post, admin, guardian, other, chain
):
    oracle.set_guard_params(10 * WAD // 100, G.depth_rise_per_hour, G.loosen_threshold, HOUR, sender=admin)
    oracle.pause(sender=guardian)
    oracle.set_keeper(other, True, sender=admin)
    with ape.reverts("oracle: paused"):
        post([(asset, PRICE, DEPTH, SIGMA)], sender=other)
    oracle.unpause(sender=admin)
    at = _later(chain, posted, HOUR)
    post([(asset, PRICE, DEPTH, SIGMA * 90 // 100)], observed_at=at, sender=other)
    assert oracle.metrics(asset)[1] == SIGMA * 90 // 100
