"""RiskOracle.__init__: owner, guardian, signer set and quorum, default guard parameters and bond, views."""

import ape
from oracle_helpers import WAD, ZERO
from signers import SIGNER_ADDRESSES

from oracle import model, reports


def test_deploy_sets_owner_guardian_signers_and_defaults(oracle, admin, guardian, chain):
    g = model.GuardParams()
    assert oracle.owner() == admin.address
    assert oracle.pending_owner() == ZERO
    assert oracle.guardian() == guardian.address
    assert oracle.guard_params() == tuple(g.__dict__.values())
    assert oracle.challenge_bond() == WAD // 10
    assert not oracle.paused()
    assert oracle.num_assets() == 0
    assert oracle.signers() == SIGNER_ADDRESSES[:3]
    assert (oracle.quorum(), oracle.epoch()) == (2, 1)
    receipt = chain.provider.get_receipt(oracle.txn_hash)
    assert [x.guardian for x in receipt.decode_logs(oracle.GuardianSet)] == [guardian.address]
    logs = receipt.decode_logs(oracle.SignersConfigured)
    assert [(list(x.signers), x.quorum, x.epoch) for x in logs] == [(SIGNER_ADDRESSES[:3], 2, 1)]


def test_domain_separator_binds_chain_and_oracle(oracle, chain):
    assert bytes(oracle.domain_separator()) == reports.domain_separator(chain.chain_id, oracle.address)
    assert bytes(oracle.REPORT_TYPEHASH()) == reports.REPORT_TYPEHASH


def test_deploy_with_zero_guardian_reverts(project, admin):
    with ape.reverts("oracle: zero address"):
        admin.deploy(project.RiskOracle, ZERO, SIGNER_ADDRESSES[:3], 2)


def test_deploy_with_a_bad_signer_set_reverts(project, admin, guardian):
    with ape.reverts("oracle: quorum too low"):
        admin.deploy(project.RiskOracle, guardian, SIGNER_ADDRESSES[:3], 1)
    with ape.reverts("oracle: no signers"):
        admin.deploy(project.RiskOracle, guardian, [], 0)
