"""docs/DEPLOY.md's commands run as written (tests/operator/docrun.py): a keystore account made from a fresh
shell, the local deploy on an anvil at port 8545, and the rehearsal on an anvil at 8546 that forks
"Sepolia" (here the stand-in of tests/operator/world.py plays the upstream behind $SEPOLIA_RPC_URL). The
document's anvils are stopped by their process groups at the end."""

from __future__ import annotations

import json

import pytest
from world import ports_free

PORTS = (8545, 8546)  # the ones the document names


@pytest.mark.skipif(not ports_free(*PORTS),
                    reason="DEPLOY.md's commands name ports 8545 and 8546 and another process holds one")  # fmt: skip
def test_deploy_md_runs_as_written(world):
    runner = world.doc(world.project / "docs" / "DEPLOY.md")
    runner.run()
    assert [cmd.split()[0] for cmd in runner.ran[:3]] == ["make", "export", "ape"]  # PATH before ape
    local = json.loads((world.project / "deployments" / "ethereum-local.json").read_text())
    rehearsal = json.loads((world.project / "deployments" / "sepolia-rehearsal.json").read_text())
    assert local["chain_id"] == 31_337 and local["market"] and local["lens"]
    assert rehearsal["chain_id"] == 11_155_111 and rehearsal["market"] and rehearsal["lens"]
    assert (world.ape_home / "accounts" / "deployer.json").exists()
