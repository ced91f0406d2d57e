"""Deploy logic and `ape run deploy`: the wiring it leaves on chain, the deployments file, and the one-line
errors (unknown network, missing account, unreachable RPC, bad config) with a non-zero exit."""

import json
from dataclasses import replace
from pathlib import Path

import pytest
from cli_helpers import run_cli
from signers import QUORUM, SIGNER_ADDRESSES

from oracle import deploy as d
from oracle import model
from oracle.demo import Anvil
from oracle.errors import BallastError


def error_line(proc):
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("ballast: error:")]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_deploy_system_wires_oracle_factory_market_and_lens(project, deployed, admin, guardian):
    oracle = project.RiskOracle.at(deployed.oracle)
    factory = project.MarketFactory.at(deployed.factory)
    market = project.Market.at(deployed.market)
    lens = project.MarketLens.at(deployed.lens)
    assert oracle.owner() == admin.address
    assert list(oracle.signers()) == SIGNER_ADDRESSES[:3] == deployed.signers
    assert oracle.quorum() == QUORUM == deployed.quorum
    assert oracle.guardian() == guardian.address
    assert tuple(oracle.asset_of(deployed.asset_id)) == (deployed.collateral_token, deployed.loan_token)
    assert factory.market_for(deployed.loan_token, deployed.collateral_token) == deployed.market
    assert factory.num_markets() == 1 and factory.is_market(deployed.market)
    assert factory.FEED_CHECK() == deployed.feed_check == market.FEED_CHECK()
    assert lens.utilisation(market) == 0 and not lens.ramping(market)
    assert d.price_feed_of(market)[0] == d.ZERO_ADDRESS and deployed.price_feed is None
    assert market.LOAN() == deployed.loan_token
    assert market.COLLATERAL() == deployed.collateral_token
    assert market.ORACLE() == deployed.oracle
    assert market.ASSET_ID() == deployed.asset_id
    assert tuple(market.risk_params()) == d.risk_tuple(model.RiskParams())
    assert tuple(market.rate_params()) == d.rates_tuple(model.RateParams())


def test_a_second_plan_sends_nothing_and_a_change_plans_only_its_call(project, admin, guardian, chain):
    """Convergence, in process: the same config on the same record plans nothing; a new signer set plans
    one configure_signers, a new price feed one set_price_feed (the config's optional section)."""
    snap = chain.snapshot()
    try:
        feed = admin.deploy(project.MockPriceFeed, 8)
        cfg = d.DeployConfig(signers=SIGNER_ADDRESSES[:3], guardian=guardian.address,
                             price_feed=d.PriceFeed(feed.address, model.WAD // 50, 900))  # fmt: skip
        dep = d.deploy_system(project, admin, "ethereum:local", chain.chain_id, cfg)
        market, oracle = project.Market.at(dep.market), project.RiskOracle.at(dep.oracle)
        assert d.price_feed_of(market) == (feed.address, model.WAD // 50, 900)
        assert dep.price_feed == {"feed": feed.address, "max_deviation": str(model.WAD // 50), "max_age": 900}
        assert dep.quorum == 2  # more than half of three, by default

        def plan(c):
            return d.plan_system(project, admin, "ethereum:local", chain.chain_id, c, record=dep)

        again = plan(cfg)
        assert again.steps == [] and again.dep.to_json() == dep.to_json()
        rotated = plan(replace(cfg, signers=SIGNER_ADDRESSES[1:4]))
        assert [s.what.split("(")[0] for s in rotated.steps] == ["configure_signers"]
        assert "new epoch" in rotated.steps[0].what
        rotated.run()
        assert list(oracle.signers()) == SIGNER_ADDRESSES[1:4]
        unfed = plan(replace(cfg, signers=SIGNER_ADDRESSES[1:4], price_feed=d.PriceFeed(None)))
        assert [s.what.split("(")[0] for s in unfed.steps] == ["set_price_feed"]
        unfed.run()
        assert d.price_feed_of(market)[0] == d.ZERO_ADDRESS and unfed.dep.price_feed is None
        unmanaged = plan(replace(cfg, signers=SIGNER_ADDRESSES[1:4], price_feed=None))  # no section: left alone
        assert unmanaged.steps == []
        with pytest.raises(BallastError, match="RiskOracle constructor would revert: oracle: quorum too low"):
            d.deploy_system(project, admin, "ethereum:local", chain.chain_id, replace(cfg, quorum=1))
    finally:
        chain.restore(snap)


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
    signers = ["0x" + c * 40 for c in "123"]
    good.write_text(json.dumps({"signers": signers, "risk": {"z_init": str(4 * model.WAD)},
                                "price_feed": {"feed": "0x" + "44" * 20, "max_age": 600}}))  # fmt: skip
    cfg = d.DeployConfig.load(good)
    assert cfg.signer_set("0xdeployer") == (signers, 2)  # quorum: more than half by default
    assert d.DeployConfig().signer_set("0xdeployer") == (["0xdeployer"], 1)  # the single-key test setup
    assert cfg.risk.z_init == 4 * model.WAD
    assert cfg.risk.z_maint == model.RiskParams().z_maint
    assert cfg.price_feed == d.PriceFeed("0x" + "44" * 20, 2 * model.WAD // 100, 600)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"signerz": ["0x00"]}))
    with pytest.raises(BallastError, match="unknown key"):
        d.DeployConfig.load(bad)
    bad.write_text(json.dumps({"keeper": "0x" + "11" * 20}))
    with pytest.raises(BallastError, match="'keeper' is gone.*signers"):
        d.DeployConfig.load(bad)
    bad.write_text(json.dumps({"signers": ["0x12"]}))
    with pytest.raises(BallastError, match="signers: '0x12' is not an address"):
        d.DeployConfig.load(bad)
    bad.write_text(json.dumps({"price_feed": {"feed": "0x" + "44" * 20, "max_dev": 1}}))
    with pytest.raises(BallastError, match="unknown price_feed field"):
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


def test_configure_changes_only_the_named_fields(project, deployed, admin, chain):
    oracle, market = project.RiskOracle.at(deployed.oracle), project.Market.at(deployed.market)
    snap = chain.snapshot()
    try:
        feed = admin.deploy(project.MockPriceFeed, 8)
        done = d.configure_system(
            project, admin, deployed, signers=SIGNER_ADDRESSES[1:4], risk={"z_init": 4 * model.WAD,
            "max_spread": model.WAD // 100}, guard={"challenge_window": 2 * model.HOUR,
            "max_disagreement": 3 * model.WAD // 100}, price_feed=d.PriceFeed(feed.address, model.WAD // 50, 900),
        )  # fmt: skip
        assert len(done) == 4
        assert list(oracle.signers()) == SIGNER_ADDRESSES[1:4] and oracle.quorum() == QUORUM  # quorum kept
        params = model.RiskParams(*(int(x) for x in market.risk_params()))
        assert params == model.RiskParams().replace(z_init=4 * model.WAD, max_spread=model.WAD // 100)
        guard = model.GuardParams(*(int(x) for x in oracle.guard_params()))
        assert guard == replace(model.GuardParams(), challenge_window=2 * model.HOUR,
                                max_disagreement=3 * model.WAD // 100)  # fmt: skip
        assert d.price_feed_of(market) == (feed.address, model.WAD // 50, 900)
        d.configure_system(project, admin, deployed, quorum=3, price_feed=d.PriceFeed(None))
        assert list(oracle.signers()) == SIGNER_ADDRESSES[1:4] and oracle.quorum() == 3
        assert d.price_feed_of(market)[0] == d.ZERO_ADDRESS
        record = d.refresh_record(project, deployed)
        assert (record.quorum, record.price_feed, record.risk["z_init"]) == (3, None, str(4 * model.WAD))
    finally:
        chain.restore(snap)


def test_configure_out_of_bounds_reverts_with_the_contract_message(project, deployed, admin):
    from oracle.errors import BallastError

    with pytest.raises(BallastError, match="set_risk_params would revert: market: z_maint must be below z_init"):
        d.configure_system(project, admin, deployed, risk={"z_init": model.RiskParams().z_maint})
    with pytest.raises(BallastError, match="set_risk_params would revert: market: max_spread too high"):
        d.configure_system(project, admin, deployed, risk={"max_spread": model.WAD})
    with pytest.raises(BallastError, match="configure_signers would revert: oracle: quorum too low"):
        d.configure_system(project, admin, deployed, quorum=1)
    with pytest.raises(BallastError, match="set_guard_params would revert: oracle: max_disagreement too high"):
        d.configure_system(project, admin, deployed, guard={"max_disagreement": model.WAD})
    with pytest.raises(BallastError, match="set_price_feed would revert: market: not a price feed"):
        d.configure_system(project, admin, deployed, price_feed=d.PriceFeed(deployed.oracle))


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


ADMIN = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's test account 0 (the local deployer)


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
            "feed_check",
            "factory",
            "lens",
            "market",
            "loan_token",
            "collateral_token",
            "pool",
        ):
            assert len(w3.eth.get_code(Web3.to_checksum_address(dep[key]))) > 0, key
        assert dep["signers"] == [ADMIN] and dep["quorum"] == 1  # default: the deployer alone
        ok = run_cli(["ape", "run", "configure", "--deployments", str(out), "--risk", "bonus=60000000000000000",
                      "--signer", SIGNER_ADDRESSES[0], "--signer", SIGNER_ADDRESSES[1], "--signer",
                      SIGNER_ADDRESSES[2], "--quorum", "2"], env)  # fmt: skip
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "risk params" in ok.stdout and f"signers {SIGNER_ADDRESSES[0]}" in ok.stdout
        updated = json.loads(out.read_text())
        assert updated["signers"] == SIGNER_ADDRESSES[:3] and updated["quorum"] == 2
        assert updated["risk"]["bonus"] == "60000000000000000"
        bad = run_cli(["ape", "run", "configure", "--deployments", str(out), "--risk", "z_init=1"], env)
        assert bad.returncode != 0
        assert "market: z_init too low" in error_line(bad)
        bad = run_cli(["ape", "run", "configure", "--deployments", str(out), "--quorum", "1"], env)
        assert "oracle: quorum too low" in error_line(bad)
    assert dep["network"] == "ethereum:local"
    assert dep["chain_id"] == 31337
    assert dep["asset_id"] == 1
    assert dep["risk"]["z_init"] == str(model.RiskParams().z_init)


def test_ape_run_configure_with_nothing_to_change_fails_in_one_line():
    nothing = run_cli(["ape", "run", "configure"])
    assert nothing.returncode != 0 and "nothing to change" in error_line(nothing)
    lonely = run_cli(["ape", "run", "configure", "--max-age", "60"])
    assert lonely.returncode != 0 and "go with --price-feed" in error_line(lonely)
