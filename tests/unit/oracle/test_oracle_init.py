"""RiskOracle.__init__: owner, guardian, default guard parameters and bond, initial views."""

import ape
from oracle_helpers import WAD

from oracle import model

ZERO = "0x0000000000000000000000000000000000000000"


def test_deploy_sets_owner_guardian_and_defaults(oracle, admin, guardian, chain):
    g = model.GuardParams()
    assert oracle.owner() == admin.address
    assert oracle.pending_owner() == ZERO
    assert oracle.guardian() == guardian.address
    assert oracle.guard_params() == (
        g.sigma_fall_per_hour,
        g.depth_rise_per_hour,
        g.loosen_threshold,
        g.challenge_window,
    )
    assert oracle.challenge_bond() == WAD // 10
    assert not oracle.paused()
    assert oracle.num_assets() == 0
    assert oracle.keepers() == []
    receipt = chain.provider.get_receipt(oracle.txn_hash)
    assert [x.guardian for x in receipt.decode_logs(oracle.GuardianSet)] == [guardian.address]


def test_deploy_with_zero_guardian_reverts(project, admin):
    with ape.reverts("oracle: zero address"):
        admin.deploy(project.RiskOracle, ZERO)
