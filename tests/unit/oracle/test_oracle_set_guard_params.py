"""RiskOracle.set_guard_params (and the guard_params view): each bound has its own message; rates are kept
in units of 1e9 wei of WAD."""

import ape
import pytest
from oracle_helpers import HOUR, WAD

LOW = (10**15, 10**15, 10**16, 300, 10**16, 10**15)  # the MIN_ constants
HIGH = (WAD // 2, WAD, WAD // 2, 7 * 86_400, 10 * WAD, WAD // 2)  # the MAX_ constants
NAMES = ("sigma_fall_per_hour", "depth_rise_per_hour", "loosen_threshold", "challenge_window",
         "max_price_move_per_hour", "max_disagreement")  # fmt: skip
DEFAULT = (5 * WAD // 100, 5 * WAD // 100, 20 * WAD // 100, HOUR, 50 * WAD // 100, 5 * WAD // 100)


def test_set_guard_params(oracle, admin):
    new = (10 * WAD // 100, 7 * WAD // 100, 30 * WAD // 100, 2 * HOUR, WAD, 3 * WAD // 100)
    tx = oracle.set_guard_params(*new, sender=admin)
    assert oracle.guard_params() == new
    logs = tx.decode_logs(oracle.GuardParamsSet)
    assert [(x.sigma_fall_per_hour, x.depth_rise_per_hour, x.loosen_threshold, x.challenge_window,
             x.max_price_move_per_hour, x.max_disagreement) for x in logs] == [new]  # fmt: skip


@pytest.mark.parametrize("bounds", [LOW, HIGH], ids=["min", "max"])
def test_bounds_themselves_are_accepted(oracle, admin, bounds):
    oracle.set_guard_params(*bounds, sender=admin)
    assert oracle.guard_params() == bounds


@pytest.mark.parametrize("i", range(6), ids=NAMES)
def test_one_below_min_reverts(oracle, admin, i):
    params = list(DEFAULT)
    params[i] = LOW[i] - (1 if i == 3 else 10**9)
    with ape.reverts(f"oracle: {NAMES[i]} too low"):
        oracle.set_guard_params(*params, sender=admin)


@pytest.mark.parametrize("i", range(6), ids=NAMES)
def test_one_above_max_reverts(oracle, admin, i):
    params = list(DEFAULT)
    params[i] = HIGH[i] + (1 if i == 3 else 10**9)
    with ape.reverts(f"oracle: {NAMES[i]} too high"):
        oracle.set_guard_params(*params, sender=admin)


@pytest.mark.parametrize("i", [0, 1, 2, 4, 5], ids=[n for k, n in enumerate(NAMES) if k != 3])
def test_rates_off_the_1e9_grid_revert(oracle, admin, i):
    params = list(DEFAULT)
    params[i] += 1
    with ape.reverts("oracle: guard params are multiples of 1e9"):
        oracle.set_guard_params(*params, sender=admin)


def test_defaults_equal_the_model(oracle):
    from oracle import model

    assert oracle.guard_params() == tuple(model.GuardParams().__dict__.values()) == DEFAULT


def test_set_guard_params_not_owner_reverts(oracle, guardian):
    with ape.reverts("ownable: caller is not the owner"):
        oracle.set_guard_params(*DEFAULT, sender=guardian)


def test_set_guard_params_keeps_the_pause_and_the_signers(oracle, admin, guardian):
    signers, quorum, epoch = oracle.signers(), oracle.quorum(), oracle.epoch()
    oracle.pause(sender=guardian)
    oracle.set_guard_params(*HIGH, sender=admin)
    assert oracle.paused()
    assert oracle.guard_params() == HIGH
    assert (oracle.signers(), oracle.quorum(), oracle.epoch()) == (signers, quorum, epoch)


def test_new_guard_params_keep_the_signers_quorum_epoch_and_pause(oracle, admin, guardian, asset, post):
    """The guard parameters and the signers share one code blob: new parameters write a new blob that
    carries the same set (the same signers still sign; quorum, epoch and the pause are kept)."""
    from signers import SIGNER_ADDRESSES

    from oracle import model

    before = (list(oracle.signers()), oracle.quorum(), oracle.epoch())
    oracle.pause(sender=guardian)
    oracle.set_guard_params(10 * WAD // 100, 7 * WAD // 100, 30 * WAD // 100, 2 * HOUR, WAD, 3 * WAD // 100,
                            sender=admin)  # fmt: skip
    assert (list(oracle.signers()), oracle.quorum(), oracle.epoch()) == before
    assert before[0] == SIGNER_ADDRESSES[:3] and oracle.paused()
    assert [oracle.signer_index(a) for a in SIGNER_ADDRESSES[:3]] == [0, 1, 2]
    oracle.unpause(sender=admin)
    post([(asset, model.price_from_human(2_000, 6, 18), 10**12, WAD // 2)], signers=(1, 2))
    assert oracle.metrics(asset)[1] == WAD // 2
