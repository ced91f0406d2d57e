"""RiskOracle.configure_signers (and the views signers, signer_index, quorum, epoch): the owner replaces
the whole signer set and quorum at once; the quorum is more than half of the signers (one signer with
quorum 1 is the explicit single-key test setup); every change starts a new epoch."""

import ape
import pytest
from oracle_helpers import DEPTH, PRICE, SIGMA, ZERO
from signers import SIGNER_ADDRESSES


def test_configure_replaces_the_set(oracle, admin):
    tx = oracle.configure_signers(SIGNER_ADDRESSES[3:8], 3, sender=admin)
    assert oracle.signers() == SIGNER_ADDRESSES[3:8]
    assert (oracle.quorum(), oracle.epoch()) == (3, 2)
    assert [oracle.signer_index(a) for a in SIGNER_ADDRESSES[3:8]] == [0, 1, 2, 3, 4]
    logs = tx.decode_logs(oracle.SignersConfigured)
    assert [(list(x.signers), x.quorum, x.epoch) for x in logs] == [(SIGNER_ADDRESSES[3:8], 3, 2)]


def test_shrinking_the_set_forgets_the_old_signers(oracle, admin):
    oracle.configure_signers(SIGNER_ADDRESSES[:5], 3, sender=admin)
    oracle.configure_signers(SIGNER_ADDRESSES[5:6], 1, sender=admin)
    assert oracle.signers() == SIGNER_ADDRESSES[5:6]
    for a in SIGNER_ADDRESSES[:5]:
        with ape.reverts("oracle: not a signer"):
            oracle.signer_index(a)


def test_single_signer_test_setup(oracle, admin, asset, post):
    oracle.configure_signers(SIGNER_ADDRESSES[4:5], 1, sender=admin)
    post([(asset, PRICE, DEPTH, SIGMA)], signers=(4,))
    assert oracle.metrics(asset)[0] == PRICE


def test_sixteen_signers_with_quorum_nine(oracle, admin, asset, post):
    oracle.configure_signers(SIGNER_ADDRESSES, 9, sender=admin)
    post([(asset, PRICE, DEPTH, SIGMA)], signers=tuple(range(15, 6, -1)))
    assert oracle.metrics(asset)[0] == PRICE


@pytest.mark.parametrize(("n", "quorum"), [(2, 1), (3, 1), (4, 2), (16, 8)])
def test_quorum_of_half_or_less_reverts(oracle, admin, n, quorum):
    with ape.reverts("oracle: quorum too low"):
        oracle.configure_signers(SIGNER_ADDRESSES[:n], quorum, sender=admin)


def test_quorum_above_the_signers_reverts(oracle, admin):
    with ape.reverts("oracle: quorum above signers"):
        oracle.configure_signers(SIGNER_ADDRESSES[:3], 4, sender=admin)


def test_bad_sets_revert(oracle, admin):
    with ape.reverts("oracle: no signers"):
        oracle.configure_signers([], 0, sender=admin)
    with ape.reverts("oracle: zero address"):
        oracle.configure_signers([SIGNER_ADDRESSES[0], ZERO, SIGNER_ADDRESSES[1]], 2, sender=admin)
    with ape.reverts("oracle: duplicate signer"):
        oracle.configure_signers([SIGNER_ADDRESSES[0], SIGNER_ADDRESSES[1], SIGNER_ADDRESSES[0]], 2, sender=admin)
    with ape.reverts():  # 17 signers do not fit the set
        oracle.configure_signers(SIGNER_ADDRESSES + [ZERO], 9, sender=admin)


def test_configure_not_owner_reverts(oracle, guardian):
    with ape.reverts("ownable: caller is not the owner"):
        oracle.configure_signers(SIGNER_ADDRESSES[:3], 2, sender=guardian)


def test_configure_keeps_the_pause_and_the_guard_params(oracle, admin, guardian):
    params = oracle.guard_params()
    oracle.pause(sender=guardian)
    oracle.configure_signers(SIGNER_ADDRESSES[:5], 3, sender=admin)
    assert oracle.paused() and oracle.guard_params() == params
