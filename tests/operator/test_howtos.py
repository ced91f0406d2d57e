"""The how-tos run as written (tests/operator/docrun.py) against a testnet playground on an anvil that
plays Sepolia: docs/HOWTO-borrow-and-lend.md (a lender and a borrower in `ape console`) and
docs/HOWTO-risk-manager.md (parameters, a price feed, pauses, a challenge drill, a signer rotation).

The playground is deployed the way the README does it, by commands in a shell: keystore accounts from
`ape accounts generate` (a deployer and three keepers, the oracle's signers with quorum 2), a config with
mock tokens and a pool, `ape run deploy --network ethereum:sepolia:node --rpc "$SEPOLIA_RPC_URL"`. The
keepers are played by the test: before each document it signs a round with two of the three signers'
keys and relays it, as the keeper network would."""

from __future__ import annotations

import json

import pytest
from web3 import Web3
from world import keystore_key, warp

from oracle import model, reports

PLAYGROUND = """\
# A testnet playground (the README's deploy)

```bash
export PATH=$PWD/.venv/bin:$PWD/node_modules/.bin:$PATH
ape accounts generate deployer
ape accounts generate keeper1
ape accounts generate keeper2
ape accounts generate keeper3
cat > playground.yaml <<'EOF'
mock_tokens: true
pool: true
signers: [keeper1, keeper2, keeper3]
quorum: 2
EOF
ape run deploy --network ethereum:sepolia:node --rpc "$SEPOLIA_RPC_URL" --account deployer \\
    --config playground.yaml --yes
```
"""


@pytest.fixture(scope="module")
def playground(world, tmp_path_factory):
    doc = tmp_path_factory.mktemp("docs") / "playground.md"
    doc.write_text(PLAYGROUND)
    world.doc(doc).run()
    return world.record()


def post_round(world, dep: dict, price_human: float = 2_000, sigma: int = model.WAD // 2,
               depth_tokens: int = 10_000_000) -> None:  # fmt: skip
    """One round of the keeper network: keeper1 and keeper2 sign the same report, anyone relays it."""
    w3 = world.w3
    price = model.price_from_human(price_human, 6, 18)
    now = w3.eth.get_block("latest")["timestamp"]
    words = model.pack_report([(dep["asset_id"], price, depth_tokens * 10**6, sigma)])
    signed = [reports.sign(keystore_key(world.ape_home, alias), w3.eth.chain_id, dep["oracle"], now, now + 600, words)
              for alias in ("keeper1", "keeper2")]  # fmt: skip
    batch = reports.build_batch(signed, dep["signers"])
    tx = w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": dep["oracle"], "data": batch.calldata()})
    assert w3.eth.wait_for_transaction_receipt(tx, timeout=60)["status"] == 1


def test_playground_is_deployed_with_three_signers(world, playground):
    keepers = [Web3.to_checksum_address(json.loads((world.ape_home / "accounts" / f"keeper{i}.json").read_text())
                                        ["address"]) for i in (1, 2, 3)]  # fmt: skip
    assert playground["signers"] == keepers and playground["quorum"] == 2
    assert playground["chain_id"] == 11_155_111 and playground["lens"] and playground["pool"]


def test_borrow_and_lend_howto_runs_as_written(world, playground):
    post_round(world, playground)
    runner = world.doc(world.project / "docs" / "HOWTO-borrow-and-lend.md")
    runner.run()
    assert runner.consoles == 1
    market = world.w3.eth.contract(address=playground["market"], abi=_abi("Market"))
    lender, borrower = (_address(world, a) for a in ("lender", "borrower"))
    assert market.functions.position(borrower).call() == [0, 0]  # repaid and withdrawn
    assert market.functions.balanceOf(lender).call() == 0  # redeemed
    usdc = world.w3.eth.contract(address=playground["loan_token"], abi=_abi("MockERC20"))
    assert usdc.functions.balanceOf(lender).call() > 100_000 * 10**6  # with the interest the borrower paid


def test_risk_manager_howto_runs_as_written(world, playground):
    post_round(world, playground)

    def before_console(_runner, _index):
        warp(world.w3, 1_200)  # the drill waits for 20 minutes since the last post: the stand-in's clock moves

    runner = world.doc(world.project / "docs" / "HOWTO-risk-manager.md", before_console=before_console)
    runner.run()
    record = world.record()  # ape run configure brought the record up to date
    assert record["signers"] == [_address(world, a) for a in ("keeper1", "keeper2", "keeper4")]
    assert record["quorum"] == 2 and record["risk"]["max_spread"] == "30000000000000000"
    oracle = world.w3.eth.contract(address=playground["oracle"], abi=_abi("RiskOracle"))
    assert oracle.functions.guard_params().call()[3] == 7_200  # the challenge window; the drill restored the rest
    assert oracle.functions.guard_params().call()[1] == model.GuardParams().depth_rise_per_hour
    assert oracle.functions.pending(playground["asset_id"]).call() == [0, 0, 0]
    assert record["price_feed"] is None


def _address(world, alias: str) -> str:
    return Web3.to_checksum_address(json.loads((world.ape_home / "accounts" / f"{alias}.json").read_text())["address"])


def _abi(name: str) -> list[dict]:
    from ape import project

    from oracle.views import abi_of

    return abi_of(project, name)
