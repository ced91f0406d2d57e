"""Pure helpers of oracle.deploy: RPC URLs (never shown with their key), network choices with --rpc,
stale records kept aside, the plan's wording."""

import pytest

from oracle import deploy as d
from oracle.errors import BallastError


@pytest.mark.parametrize(
    "uri, shown",
    [
        ("https://eth-sepolia.g.alchemy.com/v2/SECRETKEY", "https://eth-sepolia.g.alchemy.com/..."),
        ("https://user:pass@rpc.example.org:8545/", "https://rpc.example.org:8545"),
        ("https://rpc.example.org?apikey=SECRET", "https://rpc.example.org/..."),
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
    ],
)
def test_redact_keeps_keys_out_of_messages(uri, shown):
    assert d.redact(uri) == shown and "SECRET" not in d.redact(uri)


def test_network_with_rpc():
    assert d.network_with_rpc("ethereum:sepolia:node", None) == ("ethereum:sepolia:node", {})
    assert d.network_with_rpc("ethereum:sepolia:node", "https://x/v2/k") == ("ethereum:sepolia:https://x/v2/k", {})
    assert d.network_with_rpc("ethereum:local", "http://127.0.0.1:9") == (
        "ethereum:local:foundry", {"APE_FOUNDRY_HOST": "http://127.0.0.1:9"})  # fmt: skip
    for bad, message in [
        (("ethereum:sepolia-fork:foundry", "http://x"), "--rpc does not apply to a fork"),
        (("ethereum:sepolia", "localhost:8545"), "is not a URL"),
        (("sepolia", "http://x"), "unknown network"),
    ]:
        with pytest.raises(BallastError, match=message):
            d.network_with_rpc(*bad)


def test_keep_aside_never_overwrites(tmp_path):
    path = tmp_path / "ethereum-local.json"
    dep = d.Deployment(network="ethereum:local", chain_id=31337, deployer="0x1", block=7)
    kept = []
    for text in ("first", "second"):
        path.write_text(text)
        kept.append(d.keep_aside(path, dep))
    assert [p.name for p in kept] == ["ethereum-local.stale-chain31337-block7.json",
                                      "ethereum-local.stale-chain31337-block7-1.json"]  # fmt: skip
    assert [p.read_text() for p in kept] == ["first", "second"] and not path.exists()


def test_records_round_trip_and_bad_records_are_one_line(tmp_path):
    dep = d.Deployment(network="ethereum:local", chain_id=1, deployer="0x1", oracle="0x2", complete=False)
    path = d.write_deployment(dep, tmp_path / "r.json")
    assert d.read_deployment(path) == dep
    path.write_text("[1, 2]")
    with pytest.raises(BallastError, match="bad deployments file .*expected a JSON object"):
        d.read_deployment(path)


def test_plan_wording():
    dep = d.Deployment(network="ethereum:local", chain_id=1, deployer="0x1")
    stale = d.Deployment(network="ethereum:local", chain_id=1, deployer="0x1", oracle="0xold", block=3)
    plan = d.Plan(dep=dep, steps=[d.Step("set_guardian(0x2)", lambda: None)], notes=["oracle 0x9"], stale=stale)
    lines = plan.describe()
    assert lines[0] == "found: oracle 0x9" and "kept beside the new one" in lines[1]
    assert lines[2:] == ["plan: 1 step(s)", "  1. set_guardian(0x2)"]
    assert d.Plan(dep=dep, steps=[]).describe() == ["plan: nothing to send"]
