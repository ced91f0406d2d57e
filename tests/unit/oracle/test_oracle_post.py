"""RiskOracle.post: signed k-of-n batches (quorum, signer set, EIP-712 domain, replay), batch shape,
per-asset checks, medians and spread, the price bound, guardrails (fast up / slow down), the per-field
pending slot, events. Every guard has a test at its bound and one unit past it."""

import ape
import pytest
from eth_account import Account
from oracle_helpers import DEPTH, HOUR, PRICE, SIGMA, SIGMA_UNIT, WAD, G, later, pin_next_block
from signers import SIGNER_ADDRESSES, SIGNERS, claimed_batch, signed_batch

from oracle import model, reports

MIN_SIGMA = WAD // 100
MAX_SIGMA = 20 * WAD


def _words(asset, price=PRICE, depth=DEPTH, sigma=SIGMA):
    return model.pack_report([(asset, price, depth, sigma)])


# --- signatures and quorum -------------------------------------------------------------------------


def test_first_post_stores_metrics_and_logs_one_event(oracle, asset, post, other, chain):
    at = chain.pending_timestamp
    tx = post([(asset, PRICE, DEPTH, SIGMA)], observed_at=at)
    assert oracle.metrics(asset) == (PRICE, SIGMA, DEPTH, at, 0)
    logs = tx.decode_logs(oracle.MetricsPosted)
    assert [(x.relayer, x.observed_at, x.assets, x.signers) for x in logs] == [(other.address, at, 1, 0b111)]
    assert len(tx.logs) == 1


def test_anyone_may_relay(oracle, asset, post, attacker, admin):
    post([(asset, PRICE, DEPTH, SIGMA)], sender=attacker)
    assert oracle.metrics(asset)[0] == PRICE


def test_quorum_of_two_signatures_is_enough(oracle, asset, post):
    tx = post([(asset, PRICE, DEPTH, SIGMA)], signers=(0, 2))
    assert oracle.metrics(asset)[0] == PRICE
    assert tx.decode_logs(oracle.MetricsPosted)[0].signers == 0b101


def test_one_signature_below_quorum_reverts(oracle, asset, post):
    for signers in [(0,), (1,), (2,)]:
        with ape.reverts("oracle: too few signatures"):
            post([(asset, PRICE, DEPTH, SIGMA)], signers=signers)
    assert oracle.metrics(asset) == (0, 0, 0, 0, 0)


def test_duplicate_signer_reverts(oracle, asset, other, chain):
    at = chain.pending_timestamp
    one = reports.sign(SIGNERS[0], chain.chain_id, oracle.address, at, at + 60, _words(asset))
    batch = reports.Batch(at, at + 60, list(one.words) * 2, [one.r, one.vs] * 2, 0 | (0 << 8), [])
    with ape.reverts("oracle: duplicate signer"):
        oracle.post(*batch.args, sender=other)


def test_signer_not_on_the_list_reverts(oracle, asset, other, chain):
    at = chain.pending_timestamp
    batch = signed_batch(oracle, chain.chain_id, at, at + 60, _words(asset), (0, 1))
    # index 3 names no signer (the set has 3)
    with ape.reverts("oracle: not a signer"):
        oracle.post(at, at + 60, 0 | (3 << 8), batch.signatures, batch.words, sender=other)


def test_stranger_claiming_a_signers_index_reverts(oracle, asset, other, chain):
    at = chain.pending_timestamp
    stranger = Account.create()
    rep = [reports.sign(k, chain.chain_id, oracle.address, at, at + 60, _words(asset)) for k in (SIGNERS[0], stranger)]
    words = list(rep[0].words) + list(rep[1].words)
    with ape.reverts("oracle: bad signature"):
        oracle.post(at, at + 60, 0 | (1 << 8), [rep[0].r, rep[0].vs, rep[1].r, rep[1].vs], words, sender=other)


@pytest.mark.parametrize("wrong", ["chain", "oracle"])
def test_signature_for_another_chain_or_oracle_reverts(oracle, asset, other, chain, wrong):
    at = chain.pending_timestamp
    chain_id = chain.chain_id + (1 if wrong == "chain" else 0)
    target = "0x" + "11" * 20 if wrong == "oracle" else oracle.address
    reps = [reports.sign(SIGNERS[i], chain_id, target, at, at + 60, _words(asset)) for i in (0, 1)]
    batch = reports.build_batch(reps, SIGNER_ADDRESSES[:3])
    with ape.reverts("oracle: bad signature"):
        oracle.post(*batch.args, sender=other)


def test_signature_over_other_values_reverts(oracle, asset, other, chain):
    at = chain.pending_timestamp
    batch = signed_batch(oracle, chain.chain_id, at, at + 60, _words(asset), (0, 1))
    tampered = [w ^ (1 << 200) for w in batch.words[:1]] + batch.words[1:]  # raise signer 0's price
    with ape.reverts("oracle: bad signature"):
        oracle.post(at, at + 60, batch.signer_ids, batch.signatures, tampered, sender=other)


def test_signature_over_another_deadline_reverts(oracle, asset, other, chain):
    at = chain.pending_timestamp
    batch = signed_batch(oracle, chain.chain_id, at, at + 60, _words(asset), (0, 1))
    with ape.reverts("oracle: bad signature"):
        oracle.post(at, at + 600, batch.signer_ids, batch.signatures, batch.words, sender=other)


def test_replayed_batch_reverts(oracle, asset, other, chain):
    at = chain.pending_timestamp
    batch = signed_batch(oracle, chain.chain_id, at, at + 3_600, _words(asset), (0, 1))
    oracle.post(*batch.args, sender=other)
    with ape.reverts("oracle: report replayed"):
        oracle.post(*batch.args, sender=other)


def test_second_relay_of_the_same_round_with_other_signers_reverts(oracle, asset, post, chain):
    at = chain.pending_timestamp
    post([(asset, PRICE, DEPTH, SIGMA)], observed_at=at, signers=(0, 1))
    with ape.reverts("oracle: report replayed"):
        post([(asset, PRICE, DEPTH, SIGMA)], observed_at=at, signers=(1, 2))


def test_removed_signer_no_longer_counts(oracle, asset, post, admin, other, chain):
    oracle.configure_signers(SIGNER_ADDRESSES[1:4], 2, sender=admin)  # signer 0 leaves, signer 3 joins
    at = chain.pending_timestamp
    for claim in (0, 3):  # index 0 is now signer 1; index 3 is empty
        batch = claimed_batch(oracle, chain.chain_id, at, at + 60, _words(asset), [(0, claim), (1, 1)])
        with ape.reverts("oracle: bad signature" if claim == 0 else "oracle: not a signer"):
            oracle.post(*batch.args, sender=other)
    post([(asset, PRICE, DEPTH, SIGMA)], signers=(1, 3))
    assert oracle.metrics(asset)[0] == PRICE


def test_malformed_batches_revert(oracle, asset, other, chain):
    at = chain.pending_timestamp
    b = signed_batch(oracle, chain.chain_id, at, at + 60, _words(asset), (0, 1))
    cases = [
        (b.words, b.signatures[:3], b.signer_ids),  # odd number of signature words
        (b.words[:1], b.signatures, b.signer_ids),  # words not a multiple of the signers
        (b.words, b.signatures, b.signer_ids | (2 << 16)),  # an index beyond the signers given
        ([], [], 0),  # nothing
    ]
    for words, sigs, ids in cases:
        with ape.reverts():
            oracle.post(at, at + 60, ids, sigs, words, sender=other)
    with ape.reverts("oracle: malformed batch"):
        oracle.post(at, at + 60, b.signer_ids, b.signatures, b.words[:1], sender=other)


def test_paused_reverts_and_unpaused_posts(oracle, asset, post, admin, guardian):
    oracle.pause(sender=guardian)
    with ape.reverts("oracle: paused"):
        post([(asset, PRICE, DEPTH, SIGMA)])
    oracle.unpause(sender=admin)
    post([(asset, PRICE, DEPTH, SIGMA)])
    assert oracle.metrics(asset)[0] == PRICE


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


# --- batch shape and per-asset checks --------------------------------------------------------------


@pytest.mark.parametrize("asset_id", [0, 2, 65_535])
def test_unknown_asset_reverts(oracle, asset, post, asset_id):
    with ape.reverts("oracle: unknown asset"):
        post([(asset_id, PRICE, DEPTH, SIGMA)])


@pytest.mark.parametrize("n", [2, 3, 4])  # quorum 2 of 3, 3 of 4 (the median paths: pair, three, sort)
def test_reports_covering_other_assets_revert(oracle, asset, admin, tokens, loan, other, chain, n):
    oracle.add_asset(tokens[1], loan, sender=admin)
    oracle.configure_signers(SIGNER_ADDRESSES[:4], 3, sender=admin)
    if n == 2:
        oracle.configure_signers(SIGNER_ADDRESSES[:3], 2, sender=admin)
    at = chain.pending_timestamp
    own = {1: model.pack_report([(2, PRICE, DEPTH, SIGMA)])}
    batch = claimed_batch(oracle, chain.chain_id, at, at + 60, _words(1), [(k, k) for k in range(n)], own)
    with ape.reverts("oracle: reports differ in assets"):
        oracle.post(*batch.args, sender=other)


def test_report_with_an_extra_asset_reverts(oracle, asset, admin, tokens, loan, other, chain):
    oracle.add_asset(tokens[1], loan, sender=admin)
    at = chain.pending_timestamp
    # key 0: assets 1 and 2 (one word); key 1: asset 1 and an empty half (one word)
    own = {0: model.pack_report([(1, PRICE, DEPTH, SIGMA), (2, PRICE, DEPTH, SIGMA)])}
    batch = claimed_batch(oracle, chain.chain_id, at, at + 60, _words(1), [(0, 0), (1, 1)], own)
    with ape.reverts("oracle: reports differ in assets"):
        oracle.post(*batch.args, sender=other)
    # the other way round: the padding half of the second report is not empty
    batch = claimed_batch(oracle, chain.chain_id, at, at + 60, _words(1), [(1, 1), (0, 0)], own)
    with ape.reverts("oracle: reports differ in assets"):
        oracle.post(*batch.args, sender=other)


def test_same_asset_twice_in_one_batch_reverts(oracle, asset, post):
    with ape.reverts("oracle: report replayed"):
        post([(asset, PRICE, DEPTH, SIGMA), (asset, PRICE, DEPTH, SIGMA)])


def test_older_observation_reverts_and_one_second_newer_passes(oracle, posted, asset, post, chain):
    chain.pending_timestamp = posted + 10
    with ape.reverts("oracle: observation not newer"):
        post([(asset, PRICE, DEPTH, SIGMA)], observed_at=posted - 1)
    price = model.round_price(PRICE + PRICE // 10**6)
    post([(asset, price, DEPTH, SIGMA)], observed_at=posted + 1)
    assert oracle.metrics(asset) == (price, SIGMA, DEPTH, posted + 1, 0)


def test_price_zero_reverts_and_the_smallest_price_passes(oracle, asset, other, chain):
    at = chain.pending_timestamp
    zero = [((asset << 112) | (model.encode_depth(DEPTH) << 32) | model.sigma_to_units(SIGMA)) << 128]
    batch = signed_batch(oracle, chain.chain_id, at, at + 60, zero, (0, 1))
    with ape.reverts("oracle: price zero"):
        oracle.post(*batch.args, sender=other)
    batch = signed_batch(oracle, chain.chain_id, at, at + 60, _words(asset, price=1), (0, 1))
    oracle.post(*batch.args, sender=other)
    assert oracle.metrics(asset)[0] == 1


def test_depth_zero_reverts_and_one_unit_passes(oracle, asset, post, other, chain):
    at = chain.pending_timestamp
    half = (asset << 112) | (model.encode_price(PRICE) << 64) | model.sigma_to_units(SIGMA)
    batch = signed_batch(oracle, chain.chain_id, at, at + 60, [half << 128], (0, 1))
    with ape.reverts("oracle: depth zero"):
        oracle.post(*batch.args, sender=other)
    post([(asset, PRICE, 1, SIGMA)])
    assert oracle.metrics(asset)[2] == 1


def test_price_exponent_out_of_range_reverts(oracle, asset, other, chain):
    at = chain.pending_timestamp
    bits = ((model.MAX_PRICE_EXP + 1) << 40) | model.PRICE_MIN_NORMAL
    half = (asset << 112) | (bits << 64) | (model.encode_depth(DEPTH) << 32) | model.sigma_to_units(SIGMA)
    batch = signed_batch(oracle, chain.chain_id, at, at + 60, [half << 128], (0, 1))
    with ape.reverts("oracle: price out of range"):
        oracle.post(*batch.args, sender=other)


def test_non_canonical_price_reverts(oracle, asset, other, chain):
    at = chain.pending_timestamp
    bits = (1 << 40) | 5  # 50 written with exponent 1: the canonical float is (0, 50)
    half = (asset << 112) | (bits << 64) | (model.encode_depth(DEPTH) << 32) | model.sigma_to_units(SIGMA)
    good = model.pack_report([(asset, 50, DEPTH, SIGMA)])
    batch = signed_batch(oracle, chain.chain_id, at, at + 60, good, (0, 1, 2), own={1: [half << 128]})
    with ape.reverts("oracle: price not canonical"):
        oracle.post(*batch.args, sender=other)


@pytest.mark.parametrize("field", ["price", "depth"])
@pytest.mark.parametrize("k", [0, 1, 2])
def test_a_non_canonical_float_of_any_of_three_signers_reverts(oracle, asset, other, chain, field, k):
    """The batch of three has its own median path (`_apply3`, branch-free canonical checks): a float
    written with a larger exponent than its canonical form (a mantissa below the smallest normal one), in
    any signer's report, reverts with its field's message; the smallest normal mantissa itself passes."""
    at = chain.pending_timestamp
    value = 50 if field == "price" else 5_000
    if field == "price":
        bad = (1 << 40) | 5  # 50 as 5 x 10**1: canonical is (0, 50)
        half = (asset << 112) | (bad << 64) | (model.encode_depth(DEPTH) << 32) | model.sigma_to_units(SIGMA)
        good = model.pack_report([(asset, value, DEPTH, SIGMA)])
    else:
        bad = (2 << 24) | 50  # 5,000 as 50 x 10**2: canonical is (0, 5000)
        half = (asset << 112) | (model.encode_price(PRICE) << 64) | (bad << 32) | model.sigma_to_units(SIGMA)
        good = model.pack_report([(asset, PRICE, value, SIGMA)])
    batch = signed_batch(oracle, chain.chain_id, at, at + 60, good, (0, 1, 2), own={k: [half << 128]})
    with ape.reverts(f"oracle: {field} not canonical"):
        oracle.post(*batch.args, sender=other)
    # the smallest normal mantissa with exponent 1 is canonical: accepted from every signer
    if field == "price":
        edge = model.PRICE_MIN_NORMAL * 10
        batch = signed_batch(oracle, chain.chain_id, at, at + 60, model.pack_report([(asset, edge, DEPTH, SIGMA)]))
    else:
        edge = model.DEPTH_MIN_NORMAL * 10
        batch = signed_batch(oracle, chain.chain_id, at, at + 60, model.pack_report([(asset, PRICE, edge, SIGMA)]))
    oracle.post(*batch.args, sender=other)
    assert oracle.metrics(asset)[0 if field == "price" else 2] == edge


def test_sigma_at_min_passes_and_one_unit_below_reverts(oracle, asset, post):
    with ape.reverts("oracle: sigma too low"):
        post([(asset, PRICE, DEPTH, MIN_SIGMA - SIGMA_UNIT)])
    post([(asset, PRICE, DEPTH, MIN_SIGMA)])
    assert oracle.metrics(asset)[1] == MIN_SIGMA


def test_sigma_at_max_passes_and_one_unit_above_reverts(oracle, asset, post):
    with ape.reverts("oracle: sigma too high"):
        post([(asset, PRICE, DEPTH, MAX_SIGMA + SIGMA_UNIT)])
    post([(asset, PRICE, DEPTH, MAX_SIGMA)])
    assert oracle.metrics(asset)[1] == MAX_SIGMA


def test_extreme_price_and_depth_fit_their_fields(oracle, asset, post):
    post([(asset, model.MAX_PRICE, model.MAX_DEPTH, SIGMA)])
    assert oracle.metrics(asset)[:3] == (model.MAX_PRICE, SIGMA, model.MAX_DEPTH)


def test_one_bad_asset_reverts_the_whole_batch(oracle, asset, admin, tokens, loan, post):
    oracle.add_asset(tokens[1], loan, sender=admin)
    with ape.reverts("oracle: sigma too low"):
        post([(1, PRICE, DEPTH, SIGMA), (2, PRICE, DEPTH, MIN_SIGMA // 2)])
    assert oracle.metrics(1) == (0, 0, 0, 0, 0)


def test_batch_of_three_assets_stores_all(oracle, admin, tokens, loan, post, chain):
    for t in tokens:
        oracle.add_asset(t, loan, sender=admin)
    at = chain.pending_timestamp
    tx = post([(1, PRICE, DEPTH, SIGMA), (2, 3 * WAD, 7, 2 * WAD), (3, 10**6, 10**20, WAD)], observed_at=at)
    assert oracle.metrics(1) == (PRICE, SIGMA, DEPTH, at, 0)
    assert oracle.metrics(2) == (3 * WAD, 2 * WAD, 7, at, 0)
    assert oracle.metrics(3) == (10**6, WAD, 10**20, at, 0)
    assert tx.decode_logs(oracle.MetricsPosted)[0].assets == 3


@pytest.mark.parametrize("fault", ["stranger", "tampered second word", "another deadline"])
def test_a_bad_signature_on_longer_reports_reverts_the_whole_batch(oracle, admin, tokens, loan, other, chain, fault):
    """Reports of more than one word (three assets here) have their signatures checked after the assets
    are applied (post keeps the copy of the batch that check needs last in memory): a bad one must still
    revert everything, with its own message."""
    for t in tokens:
        oracle.add_asset(t, loan, sender=admin)
    words = model.pack_report([(1, PRICE, DEPTH, SIGMA), (2, PRICE, DEPTH, SIGMA), (3, PRICE, DEPTH, SIGMA)])
    assert len(words) == 2
    at = chain.pending_timestamp
    batch = signed_batch(oracle, chain.chain_id, at, at + 60, words, (0, 1))
    args = list(batch.args)
    if fault == "stranger":
        rep = reports.sign(Account.create(), chain.chain_id, oracle.address, at, at + 60, words)
        args[3] = list(batch.signatures[:2]) + [rep.r, rep.vs]
    elif fault == "tampered second word":
        args[4] = list(batch.words[:3]) + [batch.words[3] ^ (1 << 200)]  # signer 1's asset 3 price
    else:
        args[1] = at + 600
    with ape.reverts("oracle: bad signature"):
        oracle.post(*args, sender=other)
    assert [oracle.metrics(i) for i in (1, 2, 3)] == [(0, 0, 0, 0, 0)] * 3
    oracle.post(*batch.args, sender=other)  # the untouched batch lands
    assert [oracle.metrics(i)[0] for i in (1, 2, 3)] == [PRICE] * 3


def test_longer_reports_meet_the_asset_checks_before_their_signatures(oracle, admin, tokens, loan, other, chain):
    """docs/INTERFACES.md: reports of several words have their signatures checked after the assets, so a
    batch wrong in both ways (a stranger's signature and an asset out of bounds) reverts with the asset's
    message; one-word reports are checked in the first loop and revert with the signature's."""
    for t in tokens:
        oracle.add_asset(t, loan, sender=admin)
    at = chain.pending_timestamp
    low = MIN_SIGMA - SIGMA_UNIT
    for updates, expected in (
        ([(1, PRICE, DEPTH, SIGMA), (2, PRICE, DEPTH, SIGMA), (3, PRICE, DEPTH, low)], "oracle: sigma too low"),
        ([(1, PRICE, DEPTH, SIGMA), (2, PRICE, DEPTH, low)], "oracle: bad signature"),
    ):
        words = model.pack_report(updates)
        batch = signed_batch(oracle, chain.chain_id, at, at + 60, words, (0, 1, 2))
        stranger = reports.sign(Account.create(), chain.chain_id, oracle.address, at, at + 60, words)
        args = list(batch.args)
        args[3] = list(batch.signatures[:4]) + [stranger.r, stranger.vs]  # signer 2's signature
        with ape.reverts(expected):
            oracle.post(*args, sender=other)


def test_sigma_rounds_up_to_its_storage_unit(oracle, asset, post):
    post([(asset, PRICE, DEPTH, SIGMA + 1)])
    assert oracle.metrics(asset)[1] == SIGMA + SIGMA_UNIT


# --- medians and spread ---------------------------------------------------------------------------


def test_median_of_three_per_field(oracle, asset, post):
    own = {
        0: [(asset, PRICE, DEPTH * 3, SIGMA)],
        1: [(asset, PRICE * 1001 // 1000, DEPTH, SIGMA * 3)],
        2: [(asset, PRICE * 999 // 1000, DEPTH * 2, SIGMA * 2)],
    }
    post([], own=own)
    price, sigma, depth, _, spread = oracle.metrics(asset)
    assert (price, sigma, depth) == (PRICE, SIGMA * 2, DEPTH * 2)
    assert spread == model.ceil_div(model.spread_of(model.encode_price(PRICE * 999 // 1000),
                                                    model.encode_price(PRICE * 1001 // 1000),
                                                    model.encode_price(PRICE)), model.SPREAD_UNIT) * model.SPREAD_UNIT  # fmt: skip
    assert 2 * 10**15 <= spread <= 2 * 10**15 + model.SPREAD_UNIT


def test_even_count_takes_the_conservative_middle(oracle, admin, asset, post):
    oracle.configure_signers(SIGNER_ADDRESSES[:4], 3, sender=admin)
    own = {i: [(asset, PRICE + i * 10**22, DEPTH * (i + 1), SIGMA * (i + 1))] for i in range(4)}
    post([], own=own, signers=(0, 1, 2, 3))
    price, sigma, depth, _, _ = oracle.metrics(asset)
    # sorted: prices p0 < p1 < p2 < p3 -> lower middle p1; sigmas -> upper middle s2; depths -> lower d1
    assert (price, sigma, depth) == (model.round_price(PRICE + 10**22), SIGMA * 3, DEPTH * 2)


def test_spread_at_the_bound_passes_and_beyond_reverts(oracle, asset, post, chain):
    # 5% between the lowest and the highest, against the median
    hi = PRICE * 105 // 100
    post([], own={0: [(asset, PRICE, DEPTH, SIGMA)], 1: [(asset, PRICE, DEPTH, SIGMA)], 2: [(asset, hi, DEPTH, SIGMA)]})
    at = oracle.metrics(asset)[3]
    assert oracle.metrics(asset)[4] == G.max_disagreement
    with ape.reverts("oracle: signers disagree"):
        post([], observed_at=later(chain, at, 1), own={0: [(asset, PRICE, DEPTH, SIGMA)],
             1: [(asset, PRICE, DEPTH, SIGMA)], 2: [(asset, model.price_of(model.encode_price(hi) + 1), DEPTH, SIGMA)]})  # fmt: skip


# --- one compromised signer of three (quorum 2) changes nothing ------------------------------------

HONEST = (PRICE, DEPTH, SIGMA)


def _with_bad(asset, bad, signers):
    return {i: [(asset, *(bad if i == 2 else HONEST))] for i in signers}


@pytest.mark.parametrize(
    "bad",
    [
        (PRICE * 100, DEPTH, SIGMA),  # price x100
        (PRICE // 100, DEPTH, SIGMA),  # price x0.01
        (PRICE, DEPTH, MIN_SIGMA),  # sigma at its minimum
        (PRICE, DEPTH * 1000, SIGMA),  # depth x1000
    ],
    ids=["price_x100", "price_x0.01", "sigma_min", "depth_x1000"],
)
def test_one_compromised_signer_changes_nothing(oracle, posted, asset, post, chain, bad):
    before = oracle.metrics(asset)
    at = later(chain, posted, HOUR)
    # alone it cannot reach the quorum
    with ape.reverts("oracle: too few signatures"):
        post([], observed_at=at, own=_with_bad(asset, bad, (2,)), signers=(2,))
    # with one honest signer (the quorum) and with both: the bad value is never the median
    for signers in [(0, 2), (1, 2), (0, 1, 2)]:
        at = later(chain, at, 60)
        try:
            post([], observed_at=at, own=_with_bad(asset, bad, signers), signers=signers)
        except ape.exceptions.ContractLogicError as exc:
            assert "oracle: signers disagree" in str(exc)  # a price outlier is refused outright
            continue
        price, sigma, depth, observed, _ = oracle.metrics(asset)
        assert (price, sigma, depth) == before[:3] and observed == at


def test_two_colluding_signers_move_the_price_only_within_its_bound(oracle, posted, asset, post, chain):
    """The threat model's limit: a quorum of colluding signers can post what it likes, within the price
    bound (50% of the price per hour of observation time) and the other guardrails."""
    at = later(chain, posted, HOUR)
    with ape.reverts("oracle: price moves too fast"):
        post([], observed_at=at, own={0: [(asset, PRICE * 100, DEPTH, SIGMA)], 1: [(asset, PRICE * 100, DEPTH, SIGMA)]},
             signers=(0, 1))  # fmt: skip
    up = PRICE * 3 // 2
    post([], observed_at=at, own={0: [(asset, up, DEPTH, SIGMA)], 1: [(asset, up, DEPTH, SIGMA)]}, signers=(0, 1))
    assert oracle.metrics(asset)[0] == up


# --- the price bound ----------------------------------------------------------------------------------


def test_price_move_exactly_at_bound_passes(oracle, posted, asset, post, chain):
    at = later(chain, posted, HOUR)
    bound = PRICE + PRICE * G.max_price_move_per_hour // WAD
    assert model.round_price(bound) == bound
    post([(asset, bound, DEPTH, SIGMA)], observed_at=at)
    assert oracle.metrics(asset)[0] == bound


def test_price_move_one_float_past_bound_reverts(oracle, posted, asset, post, chain):
    at = later(chain, posted, HOUR)
    up = model.price_of(model.encode_price(PRICE * 3 // 2) + 1)
    down = model.price_of(model.encode_price(PRICE // 2) - 1)
    for p in (up, down):
        with ape.reverts("oracle: price moves too fast"):
            post([(asset, p, DEPTH, SIGMA)], observed_at=at)


def test_price_bound_scales_with_observation_time(oracle, posted, asset, post, chain):
    at = later(chain, posted, 60)  # one minute: 0.5 / 60 of the price
    allowed = model.clip_price(PRICE, PRICE * 2, 60, G)
    assert allowed == model.round_price(PRICE + PRICE * (G.max_price_move_per_hour * 60 // HOUR) // WAD)
    with ape.reverts("oracle: price moves too fast"):
        post([(asset, model.price_of(model.encode_price(allowed) + 1), DEPTH, SIGMA)], observed_at=at)
    post([(asset, allowed, DEPTH, SIGMA)], observed_at=at)
    assert oracle.metrics(asset)[0] == allowed


def test_price_bound_across_an_exponent_boundary(oracle, asset, post, chain):
    """A price just under 2**40 (exponent 0) moving up past it (exponent 1): the decoded comparison."""
    p0 = 2**40 - 1
    at = chain.pending_timestamp
    post([(asset, p0, DEPTH, SIGMA)], observed_at=at)
    at = later(chain, at, HOUR)
    assert model.clip_price(p0, 10**13, HOUR, G) == model.round_price(p0 * 3 // 2)
    post([(asset, p0 * 3 // 2, DEPTH, SIGMA)], observed_at=at)
    assert oracle.metrics(asset)[0] == model.round_price(p0 * 3 // 2)


# --- guardrails: risk up fast, down slow ------------------------------------------------------------


def test_sigma_may_rise_to_max_one_second_later(oracle, posted, asset, post, chain):
    post([(asset, PRICE, DEPTH, MAX_SIGMA)], observed_at=later(chain, posted, 1))
    assert oracle.metrics(asset)[1] == MAX_SIGMA


def test_depth_may_fall_to_one_one_second_later(oracle, posted, asset, post, chain):
    post([(asset, PRICE, 1, SIGMA)], observed_at=later(chain, posted, 1))
    assert oracle.metrics(asset)[2] == 1


def test_sigma_fall_exactly_at_bound_passes(oracle, posted, asset, post, chain):
    bound = model.min_sigma_allowed(SIGMA, HOUR, G)
    assert bound == SIGMA * 95 // 100 and bound % SIGMA_UNIT == 0
    post([(asset, PRICE, DEPTH, bound)], observed_at=later(chain, posted, HOUR))
    assert oracle.metrics(asset)[1] == bound


def test_sigma_fall_one_unit_past_bound_reverts(oracle, posted, asset, post, chain):
    bound = model.min_sigma_allowed(SIGMA, HOUR, G)
    with ape.reverts("oracle: sigma falls too fast"):
        post([(asset, PRICE, DEPTH, bound - SIGMA_UNIT)], observed_at=later(chain, posted, HOUR))


def test_sigma_fall_bound_counts_observation_time_not_block_time(oracle, posted, asset, post, chain):
    chain.pending_timestamp = posted + 10 * HOUR  # block time far ahead
    with ape.reverts("oracle: sigma falls too fast"):
        post([(asset, PRICE, DEPTH, model.min_sigma_allowed(SIGMA, HOUR, G) - SIGMA_UNIT)], observed_at=posted + HOUR)


def test_depth_rise_exactly_at_bound_passes_and_one_float_past_reverts(oracle, posted, asset, post, chain):
    at = later(chain, posted, HOUR)
    bound = model.max_depth_allowed(DEPTH, HOUR, G)
    assert bound == DEPTH * 105 // 100 and model.round_depth(bound) == bound
    with ape.reverts("oracle: depth rises too fast"):
        post([(asset, PRICE, model.depth_of(model.encode_depth(bound) + 1), SIGMA)], observed_at=at)
    post([(asset, PRICE, bound, SIGMA)], observed_at=at)
    assert oracle.metrics(asset)[2] == bound


def test_first_post_is_not_rate_limited(oracle, asset, post):
    post([(asset, PRICE, model.MAX_DEPTH, MIN_SIGMA)])
    assert oracle.metrics(asset)[1:3] == (MIN_SIGMA, model.MAX_DEPTH)
    assert oracle.pending(asset) == (0, 0, 0)


# --- loosening beyond the threshold: that field alone waits --------------------------------------


def test_sigma_fall_exactly_at_threshold_applies(oracle, posted, asset, post, chain):
    sigma = SIGMA * 80 // 100  # exactly 20%: not beyond
    tx = post([(asset, PRICE, DEPTH, sigma)], observed_at=later(chain, posted, 5 * HOUR))
    assert oracle.metrics(asset)[1] == sigma
    assert tx.decode_logs(oracle.UpdateQueued) == []


def test_sigma_fall_one_unit_beyond_threshold_is_queued(oracle, posted, asset, post, chain):
    at = later(chain, posted, 5 * HOUR)
    sigma = SIGMA * 80 // 100 - SIGMA_UNIT
    price = model.round_price(PRICE + PRICE // 1000)
    tx = post([(asset, price, DEPTH, sigma)], observed_at=at)
    eta = chain.blocks.head.timestamp + G.challenge_window
    # price, depth and observed_at apply, sigma waits
    assert oracle.metrics(asset) == (price, SIGMA, DEPTH, at, 0)
    assert oracle.pending(asset) == (sigma, 0, eta)
    logs = tx.decode_logs(oracle.UpdateQueued)
    assert [(x.asset_id, x.sigma, x.depth, x.eta) for x in logs] == [(asset, sigma, 0, eta)]


def test_depth_rise_one_unit_beyond_threshold_is_queued(oracle, posted, asset, post, chain):
    at = later(chain, posted, 5 * HOUR)
    depth = DEPTH * 120 // 100 + 10**5  # the float above 1.2e12
    tx = post([(asset, PRICE, depth, SIGMA)], observed_at=at)
    assert oracle.metrics(asset)[1:3] == (SIGMA, DEPTH)
    assert oracle.pending(asset)[:2] == (0, depth)
    assert len(tx.decode_logs(oracle.UpdateQueued)) == 1


def test_tightening_applies_at_once_beside_a_queued_loosening(oracle, posted, asset, post, chain, guardian, other):
    """Finding 4 of the audit: a word that raised sigma (tightening) and raised depth beyond the threshold
    went whole into the pending slot (the sigma rise waited, and a challenge erased it). Risk up applies at
    once, whatever rides with it."""
    at = later(chain, posted, 5 * HOUR)
    up_sigma, loose_depth = SIGMA * 2, DEPTH * 125 // 100
    post([(asset, PRICE, loose_depth, up_sigma)], observed_at=at)
    assert oracle.metrics(asset)[1:3] == (up_sigma, DEPTH)  # the sigma rise is in, depth waits
    assert oracle.pending(asset)[:2] == (0, loose_depth)
    oracle.challenge(asset, sender=guardian)  # a challenge discards the loosening only
    assert oracle.metrics(asset)[1:3] == (up_sigma, DEPTH)


def test_both_fields_loosening_beyond_threshold_wait_together(oracle, posted, asset, post, chain, other):
    at = later(chain, posted, 5 * HOUR)
    sigma, depth = SIGMA * 3 // 4, DEPTH * 125 // 100
    post([(asset, PRICE, depth, sigma)], observed_at=at)
    assert oracle.metrics(asset)[1:3] == (SIGMA, DEPTH)
    assert oracle.pending(asset)[:2] == (sigma, depth)
    chain.pending_timestamp = oracle.pending(asset)[2]
    oracle.apply_pending(asset, sender=other)
    assert oracle.metrics(asset)[1:3] == (sigma, depth)


def test_tightening_post_drops_the_pending_update(oracle, queued, asset, post, chain, admin):
    at = later(chain, queued[0], 1)
    tx = post([(asset, PRICE, DEPTH, SIGMA)], observed_at=at)
    assert oracle.pending(asset) == (0, 0, 0)
    assert [x.asset_id for x in tx.decode_logs(oracle.PendingDropped)] == [asset]
    with ape.reverts("oracle: nothing pending"):
        oracle.apply_pending(asset, sender=admin)


def test_post_without_pending_logs_no_drop(oracle, posted, asset, post, chain):
    tx = post([(asset, PRICE, DEPTH, SIGMA)], observed_at=later(chain, posted, 1))
    assert tx.decode_logs(oracle.PendingDropped) == []


def test_second_loosening_replaces_the_pending_update(oracle, queued, asset, post, chain):
    # The fall bound counts from the stored sigma and the last observation time (which the queued
    # post advanced): 6 hours later a 30% fall from the stored sigma is allowed and still beyond 20%.
    at = later(chain, queued[0], 6 * HOUR)
    sigma = SIGMA * 70 // 100
    assert model.min_sigma_allowed(SIGMA, 6 * HOUR, G) == sigma
    post([(asset, PRICE, DEPTH, sigma)], observed_at=at)
    eta = chain.blocks.head.timestamp + G.challenge_window
    assert oracle.pending(asset) == (sigma, 0, eta)
    assert oracle.metrics(asset)[1] == SIGMA


def test_fall_right_after_a_queued_update_is_rate_limited(oracle, queued, asset, post, chain):
    with ape.reverts("oracle: sigma falls too fast"):
        post([(asset, PRICE, DEPTH, queued[2])], observed_at=later(chain, queued[0], 1))


def test_new_guard_params_apply_to_the_next_post(oracle, posted, asset, post, admin, chain):
    oracle.set_guard_params(10 * WAD // 100, G.depth_rise_per_hour, G.loosen_threshold, HOUR,
                            G.max_price_move_per_hour, G.max_disagreement, sender=admin)  # fmt: skip
    post([(asset, PRICE, DEPTH, SIGMA * 90 // 100)], observed_at=later(chain, posted, HOUR))  # 10%: the new bound
    assert oracle.metrics(asset)[1] == SIGMA * 90 // 100
