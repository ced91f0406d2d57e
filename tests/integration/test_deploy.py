"""Deploy logic and `ape run deploy`: the wiring it leaves on chain, the deployments file, and the one-line
errors (unknown network, missing account, unreachable RPC, bad config) with a non-zero exit."""

import json
from pathlib import Path

import pytest
from cli_helpers import run_cli

from oracle import deploy as d
from oracle import model
from oracle.demo import Anvil


def error_line(proc):
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("ballast: error:")]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_deploy_system_wires_oracle_factory_and_market(project, deployed, admin, keeper, guardian):
    oracle = project.RiskOracle.at(deployed.oracle)
    factory = project.MarketFactory.at(deployed.factory)
    market = project.Market.at(deployed.market)
    assert oracle.owner() == admin.address
    assert oracle.is_keeper(keeper)
    assert not oracle.is_keeper(admin)
    assert oracle.guardian() == guardian.address
    assert oracle.asset_of(deployed.asset_id) == deployed.collateral_token
    assert factory.market_for(deployed.loan_token, deployed.collateral_token) == deployed.market
    assert factory.num_markets() == 1
    assert market.LOAN() == deployed.loan_token
    assert market.COLLATERAL() == deployed.collateral_token
    assert market.ORACLE() == deployed.oracle
    assert market.ASSET_ID() == deployed.asset_id
    assert tuple(market.risk_params()) == d.risk_tuple(model.RiskParams())
    assert tuple(market.rate_params()) == d.rates_tuple(model.RateParams())


def test_deploy_system_seeds_the_demo_pool_at_the_price(project, deployed):
    pool = project.ConstantProductPool.at(deployed.pool)
    r_coll, r_loan = pool.get_reserves()
    assert pool.TOKEN0() == deployed.collateral_token
    assert r_coll == d.POOL_COLLATERAL * 10**d.COLLATERAL_DECIMALS
    assert r_loan == d.POOL_COLLATERAL * d.DEFAULT_PRICE * 10**d.LOAN_DECIMALS


def test_deploy_system_on_live_network_requires_token_addresses(project, admin, chain):
    from oracle.errors import BallastError

    with pytest.raises(BallastError, match="loan_token and collateral_token"):
        d.deploy_system(project, admin, "ethereum:sepolia", chain.chain_id, d.DeployConfig(), local=False)


def test_config_overrides_and_rejects_unknown_keys(tmp_path):
    from oracle.errors import BallastError

    good = tmp_path / "c.json"
    good.write_text(json.dumps({"keeper": "0x" + "11" * 20, "risk": {"z_init": str(4 * model.WAD)}}))
    cfg = d.DeployConfig.load(good)
    assert cfg.keeper == "0x" + "11" * 20
    assert cfg.risk.z_init == 4 * model.WAD
    assert cfg.risk.z_maint == model.RiskParams().z_maint
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"keepr": "0x00"}))
    with pytest.raises(BallastError, match="unknown key"):
        d.DeployConfig.load(bad)
    bad.write_text(json.dumps({"risk": {"zinit": 1}}))
    with pytest.raises(BallastError, match="unknown risk field"):
        d.DeployConfig.load(bad)
    bad.write_text("{not json")
    with pytest.raises(BallastError, match="cannot parse config"):
        d.DeployConfig.load(bad)


def test_is_local_and_deployments_path():
    assert d.is_local("local") and d.is_local("sepolia-fork")
    assert not d.is_local("sepolia") and not d.is_local("mainnet")
    assert d.deployments_path("ethereum", "sepolia") == Path("deployments/ethereum-sepolia.json")


# --- the script, end to end, on an anvil of its own ------------------------------------------------


def test_ape_run_deploy_unknown_network_fails_in_one_line():
    proc = run_cli(["ape", "run", "deploy", "--network", "ethereum:atlantis"])
    assert proc.returncode != 0
    assert "unknown network 'ethereum:atlantis'" in error_line(proc)


def test_ape_run_deploy_missing_account_fails_in_one_line():
    with Anvil() as node:
        proc = run_cli(
            ["ape", "run", "deploy", "--network", "ethereum:local:foundry", "--account", "no-such-alias"],
            {"APE_FOUNDRY_HOST": node.uri},
        )
    assert proc.returncode != 0
    assert "no ape account named 'no-such-alias'" in error_line(proc)


def test_ape_run_deploy_unreachable_rpc_fails_in_one_line():
    import socket

    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", 8555)) == 0:
            pytest.skip("port 8555 (the sepolia node uri in ape-config.yaml) is in use by another process")
    proc = run_cli(["ape", "run", "deploy", "--network", "ethereum:sepolia:node", "--account", "deployer"])
    assert proc.returncode != 0
    assert "cannot reach the RPC of 'ethereum:sepolia:node'" in error_line(proc)


def test_ape_run_deploy_bad_config_fails_in_one_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("risk:\n  z_inti: 1\n")
    proc = run_cli(["ape", "run", "deploy", "--config", str(cfg)])
    assert proc.returncode != 0
    assert "unknown risk field(s) z_inti" in error_line(proc)


# --- configure ------------------------------------------------------------------------------------


def test_configure_changes_only_the_named_fields(project, deployed, admin, other, chain):
    oracle, market = project.RiskOracle.at(deployed.oracle), project.Market.at(deployed.market)
    snap = chain.snapshot()
    try:
        done = d.configure_system(
            project, admin, deployed, keepers_on=(other.address,), risk={"z_init": 4 * model.WAD},
            guard={"challenge_window": 2 * model.HOUR},
        )  # fmt: skip
        assert len(done) == 3
        assert oracle.is_keeper(other)
        params = model.RiskParams(*(int(x) for x in market.risk_params()))
        assert params == model.RiskParams().replace(z_init=4 * model.WAD)
        assert tuple(oracle.guard_params())[3] == 2 * model.HOUR
        assert tuple(oracle.guard_params())[:3] == d.dataclasses.astuple(model.GuardParams())[:3]
        d.configure_system(project, admin, deployed, keepers_off=(other.address,))
        assert not oracle.is_keeper(other)
    finally:
        chain.restore(snap)


def test_configure_out_of_bounds_reverts_with_the_contract_message(project, deployed, admin):
    from oracle.errors import BallastError

    with pytest.raises(BallastError, match="set_risk_params would revert: market: z_maint must be below z_init"):
        d.configure_system(project, admin, deployed, risk={"z_init": model.RiskParams().z_maint})


def test_configure_not_owner_reverts(project, deployed, other):
    from oracle.errors import BallastError

    with pytest.raises(BallastError, match="ownable: caller is not the owner"):
        d.configure_system(project, other, deployed, rates={"base": 0})


def test_parse_assignments():
    from oracle.errors import BallastError

    assert d.parse_assignments(("z_init=3_000", "bonus=1"), model.RiskParams, "risk") == {
        "z_init": 3000,
        "bonus": 1,
    }
    with pytest.raises(BallastError, match="FIELD=INTEGER"):
        d.parse_assignments(("zinit=1",), model.RiskParams, "risk")
    with pytest.raises(BallastError, match="not an integer"):
        d.parse_assignments(("z_init=lots",), model.RiskParams, "risk")


def test_ape_run_deploy_then_configure_on_local_anvil(tmp_path):
    """The scripts end to end on an anvil of their own: deploy writes the deployments file with live
    contracts at its addresses; configure applies a change and reports a bound's own revert message."""
    from web3 import Web3

    out = tmp_path / "deployments" / "local.json"
    with Anvil() as node:
        env = {"APE_FOUNDRY_HOST": node.uri}
        deployed = run_cli(
            ["ape", "run", "deploy", "--network", "ethereum:local:foundry", "--out", str(out), "--yes"], env
        )
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert "wrote" in deployed.stdout
        dep = json.loads(out.read_text())
        w3 = Web3(Web3.HTTPProvider(node.uri))
        for key in (
            "oracle",
            "market_blueprint",
            "factory",
            "market",
            "loan_token",
            "collateral_token",
            "pool",
        ):
            assert len(w3.eth.get_code(Web3.to_checksum_address(dep[key]))) > 0, key
        ok = run_cli(["ape", "run", "configure", "--deployments", str(out), "--risk", "bonus=60000000000000000",
                      "--keeper", "0x" + "22" * 20], env)  # fmt: skip
        assert ok.returncode == 0, ok.stderr
        assert "risk params" in ok.stdout and "keeper 0x2222" in ok.stdout
        bad = run_cli(["ape", "run", "configure", "--deployments", str(out), "--risk", "z_init=1"], env)
        assert bad.returncode != 0
        assert "market: z_init too low" in error_line(bad)
    assert dep["network"] == "ethereum:local"
    assert dep["chain_id"] == 31337
    assert dep["asset_id"] == 1
    assert dep["risk"]["z_init"] == str(model.RiskParams().z_init)


def test_ape_run_configure_with_nothing_to_change_fails_in_one_line():
    nothing = run_cli(["ape", "run", "configure"])
    assert nothing.returncode != 0 and "nothing to change" in error_line(nothing)
