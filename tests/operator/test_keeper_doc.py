"""docs/KEEPER.md's network on a local node runs as written (tests/operator/docrun.py): an anvil with a block
time on port 8545, a deploy with three signers (quorum 2), three keeper processes that serve their reports
to each other, the clock moved past the pool's 30 minutes of history, and the first batch lands with at
least two signatures. Issue 10 finding 8: the quick start named an account the deploy had not made a
keeper. The document's anvil and keepers are stopped by their process groups at the end."""

from __future__ import annotations

import json
import time

import pytest
from docrun import DocRunner, Shell
from web3 import Web3
from world import PASSPHRASE, copy_project, operator_env, ports_free

PORTS = (8545, 9464, 9465, 9466)  # the ones the document names
NODE = "http://127.0.0.1:8545"


@pytest.mark.skipif(not ports_free(*PORTS),
                    reason="KEEPER.md's commands name ports 8545 and 9464-9466 and another process holds one")  # fmt: skip
def test_keeper_md_local_network_runs_as_written(tmp_path):
    from ape import project as ape_project

    from oracle.views import abi_of

    project = copy_project(tmp_path / "ballast")
    ape_home, logs = tmp_path / "ape", tmp_path / "logs"
    ape_home.mkdir()
    logs.mkdir()
    shell = Shell(project, operator_env(project, ape_home, NODE), logs)
    try:
        runner = DocRunner(project / "docs" / "KEEPER.md", shell, PASSPHRASE)
        runner.run()
        assert sum(cmd.startswith("ballast keeper run") for cmd in runner.ran) == 3
        dep = json.loads((project / "deployments" / "ethereum-local.json").read_text())
        w3 = Web3(Web3.HTTPProvider(NODE))
        oracle = w3.eth.contract(address=dep["oracle"], abi=abi_of(ape_project, "RiskOracle"))
        assert oracle.functions.quorum().call() == 2
        deadline = time.monotonic() + 180
        while oracle.functions.metrics(dep["asset_id"]).call()[3] == 0:
            assert time.monotonic() < deadline, f"no batch landed within 180 s; the keepers' logs are in {logs}"
            time.sleep(2)
        posted = oracle.events.MetricsPosted().get_logs(from_block=0)
        assert posted and all(ev["args"]["signers"].bit_count() >= 2 for ev in posted)
    finally:
        shell.close()
