"""The operator's and user's commands against a deployed system (issue 10, findings 4, 5 and 6):
`ballast position`, `ballast bot run` and `ape run configure` as subprocesses, on the test chain's
own anvil (`--rpc` its URL, or APE_FOUNDRY_HOST). Every fault ends in one line."""

import json
import signal
import socket
import subprocess
import time
import urllib.request

import pytest
from cli_helpers import BIN, ROOT, run_cli

from oracle import deploy as d
from oracle import model

WAD = model.WAD
PRICE = model.price_from_human(2_000, 6, 18)  # 2,000 mUSDC (6 decimals) per mWETH (18), at PRICE_SCALE
SIGMA = WAD // 2
DEPTH = 10**12
COLLATERAL = 10 * WAD  # 10 mWETH


@pytest.fixture(scope="module")
def system(project, deployed, lens_of, post_metrics):
    oracle, market = project.RiskOracle.at(deployed.oracle), project.Market.at(deployed.market)
    loan, coll = project.MockERC20.at(deployed.loan_token), project.MockERC20.at(deployed.collateral_token)
    return deployed, oracle, market, loan, coll, lens_of, post_metrics


def post(system, price, advance=600):
    """The three test signers report `price`; `advance` seconds of observation time (the oracle lets a
    price move at most 50% an hour)."""
    system[6](price, SIGMA, DEPTH, advance=advance)


def open_positions(system, admin, lender, borrower, other, fractions=(0.99, 0.5)):
    """A lender, a borrower near its limit and another at half of it; both hold 10 mWETH."""
    _, _, market, loan, coll, lens, _ = system
    post(system, PRICE)
    loan.mint(lender, 10**12, sender=admin)
    loan.approve(market, 10**12, sender=lender)
    market.deposit(10**12, lender, sender=lender)
    for acct, frac in zip((borrower, other), fractions):
        coll.mint(acct, COLLATERAL, sender=admin)
        coll.approve(market, COLLATERAL, sender=acct)
        market.supply_collateral(COLLATERAL, acct, sender=acct)
        market.borrow(int(lens.max_borrowable(market, acct) * frac), acct, sender=acct)


@pytest.fixture
def snapshot(chain):
    snap = chain.snapshot()
    yield
    chain.restore(snap)


def ballast(args, chain, timeout=120):
    return run_cli(["ballast", *args], env_extra={"APE_FOUNDRY_HOST": chain.provider.uri}, timeout=timeout)


def one_line(proc) -> str:
    """The whole output of a failed command: exactly one line, `ballast: error: ...`, no trace."""
    text = (proc.stdout + proc.stderr).strip()
    assert proc.returncode == 1, text
    lines = [ln for ln in text.splitlines() if not ln.startswith(("INFO:", "WARNING:"))]
    assert len(lines) == 1 and lines[0].startswith("ballast: error: "), text
    return lines[0]


def logs(proc) -> list[dict]:
    out = []
    for line in proc.stderr.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


# --- finding 4: ballast position ------------------------------------------------------------------


def test_position_shows_token_amounts_with_decimals_read_from_the_chain(
    system, admin, lender, borrower, other, chain, snapshot
):
    dep = system[0]
    open_positions(system, admin, lender, borrower, other)
    proc = ballast(["position", "--network", "ethereum:local:foundry", "--market", dep.market, "--lens", dep.lens,
                    borrower.address], chain)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    row = next(ln for ln in proc.stdout.splitlines() if "collateral" in ln)
    assert "10.000000" in row and "mWETH" in row, proc.stdout  # not 10,000,000,000,000,000,000
    price = next(ln for ln in proc.stdout.splitlines() if "oracle price" in ln)
    assert "2,000 mUSDC per mWETH" in price, proc.stdout


def test_position_with_rpc_and_json_from_the_deployments_file(
    system, admin, lender, borrower, other, chain, snapshot, tmp_path
):
    """--rpc and no --market/--lens: both come from the deployments file (the lens answers the health)."""
    dep, _, market, _, _, lens, _ = system
    open_positions(system, admin, lender, borrower, other)
    path = d.write_deployment(dep, tmp_path / "ethereum-local.json")
    args = ["position", "--network", "ethereum:local:foundry", "--rpc", chain.provider.uri, "--deployments",
            str(path), "--json", borrower.address]  # fmt: skip
    proc = run_cli(["ballast", *args])  # no APE_FOUNDRY_HOST: the node comes from --rpc alone
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["collateral"] == COLLATERAL and doc["collateral_decimals"] == 18 and doc["loan_decimals"] == 6
    assert doc["market"] == dep.market and doc["price"] == model.round_price(PRICE)
    assert doc["health_factor"] == lens.health_factor(market, borrower)
    assert doc["max_borrowable"] == lens.max_borrowable(market, borrower)
    missing = run_cli(["ballast", *args[:5], "--deployments", str(tmp_path / "none.json"), borrower.address])
    assert "--market and --lens: not given, and no deployments file" in one_line(missing)


def test_position_when_a_token_has_no_decimals_is_one_line(system, chain, borrower, snapshot):
    """A market whose collateral token no longer answers decimals() (its code replaced by the pool's, a
    contract without ERC-20 metadata; a market cannot be created with such a token): an error, not raw
    units shown as tokens."""
    dep = system[0]
    w3 = chain.provider.web3
    w3.provider.make_request("anvil_setCode", [dep.collateral_token, w3.eth.get_code(dep.pool).hex()])
    proc = ballast(["position", "--network", "ethereum:local:foundry", "--market", dep.market, "--lens", dep.lens,
                    borrower.address], chain)  # fmt: skip
    assert f"cannot read decimals() of the collateral token {dep.collateral_token}" in one_line(proc)


# --- finding 6: one line instead of a call trace --------------------------------------------------


@pytest.mark.parametrize("what", ["oracle", "account", "short"])
def test_position_on_something_that_is_not_a_market_is_one_line(system, borrower, chain, what):
    dep = system[0]
    target = {"oracle": dep.oracle, "account": borrower.address, "short": "0xdeadbeef"}[what]
    proc = ballast(["position", "--network", "ethereum:local:foundry", "--market", target, "--lens", dep.lens,
                    borrower.address], chain)  # fmt: skip
    assert f"no Ballast market at {target}" in one_line(proc)


def test_position_with_a_lens_that_is_not_a_lens_is_one_line(system, borrower, chain):
    dep = system[0]
    proc = ballast(["position", "--network", "ethereum:local:foundry", "--market", dep.market, "--lens", dep.oracle,
                    borrower.address], chain)  # fmt: skip
    assert f"no MarketLens at {dep.oracle}" in one_line(proc)


def test_configure_out_of_bounds_is_one_line_with_the_contracts_message(system, chain, tmp_path):
    path = d.write_deployment(system[0], tmp_path / "ethereum-local.json")
    args = ["ape", "run", "configure", "--deployments", str(path), "--risk", "z_init=1"]
    proc = run_cli(args, {"APE_FOUNDRY_HOST": chain.provider.uri})
    assert "market: z_init too low" in one_line(proc)
    assert int(system[2].risk_params()[0]) == model.RiskParams().z_init


# --- finding 5: the bot reports what the chain did --------------------------------------------------


def bot_args(dep, chain, *extra):
    return ["bot", "run", "--network", "ethereum:local:foundry", "--rpc", chain.provider.uri, "--account",
            "TEST::5", "--market", dep.market, "--lens", dep.lens, *extra]  # fmt: skip


def test_bot_reports_repaid_and_seized_from_the_event_and_the_bad_debt(
    system, admin, lender, borrower, other, liquidator, chain, snapshot
):
    dep, _, market, loan, _, _, _ = system
    open_positions(system, admin, lender, borrower, other)
    loan.mint(liquidator, 10**12, sender=admin)
    # -45% (an hour of observation time: the price bound): the 99% borrower is underwater, the other is fine
    post(system, PRICE * 55 // 100, advance=3_600)
    start = chain.blocks.head.number
    proc = run_cli(["ballast", *bot_args(dep, chain, "--once")])
    assert proc.returncode == 0, proc.stderr
    events = logs(proc)
    assert events[0]["event"] == "bot_started" and events[-1]["event"] == "bot_stopped"
    (liq,) = [e for e in events if e["event"] == "liquidated"]
    (bad,) = [e for e in events if e["event"] == "bad_debt"]
    (onchain,) = list(market.Liquidated.range(start + 1, chain.blocks.head.number + 1))
    (written_off,) = list(market.BadDebtRealized.range(start + 1, chain.blocks.head.number + 1))
    assert liq["borrower"] == borrower.address and liq["full"] is True
    assert (liq["repaid"], liq["seized"]) == (onchain.repaid, onchain.seized)
    assert liq["seized"] == COLLATERAL  # all of it: the position was underwater
    assert bad["assets"] == written_off.assets > 0 and liq["bad_debt"] == bad["assets"]
    assert bad["level"] == "warning"
    assert liq["repaid_tokens"] == onchain.repaid / 10**6
    (done,) = [e for e in events if e["event"] == "round_done"]
    assert done["liquidations"] == 1 and done["positions"] == 2


def test_bot_dry_run_sends_nothing(system, admin, lender, borrower, other, liquidator, chain, snapshot):
    dep, _, market, loan, _, lens, _ = system
    open_positions(system, admin, lender, borrower, other)
    loan.mint(liquidator, 10**12, sender=admin)
    loan.approve(market, 2**256 - 1, sender=liquidator)
    post(system, PRICE * 92 // 100)  # -8%: the 99% borrower (at H_init, 5 points above H_maint) in part
    nonce = liquidator.nonce
    proc = run_cli(["ballast", *bot_args(dep, chain, "--once", "--dry-run")])
    assert proc.returncode == 0, proc.stderr
    (planned,) = [e for e in logs(proc) if e["event"] == "liquidation_planned"]
    assert planned["borrower"] == borrower.address and planned["seized"] > 0
    assert not [e for e in logs(proc) if e["event"] == "liquidated"]
    assert liquidator.nonce == nonce and lens.is_liquidatable(market, borrower)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as resp:
            return resp.read().decode()
    except OSError:
        return None


def test_bot_from_a_config_file_serves_metrics_and_stops_on_sigterm(
    system, admin, lender, borrower, other, liquidator, chain, snapshot, tmp_path
):
    dep, _, market, loan, _, lens, _ = system
    open_positions(system, admin, lender, borrower, other)
    loan.mint(liquidator, 10**12, sender=admin)
    post(system, PRICE * 92 // 100)
    port = free_port()
    path = d.write_deployment(dep, tmp_path / "ethereum-local.json")
    cfg = tmp_path / "bot.toml"
    cfg.write_text(f'[bot]\nnetwork = "ethereum:local:foundry"\naccount = "TEST::5"\ndeployments = "{path}"\n'
                   f"interval = 0.2\nmetrics-port = {port}\n")  # fmt: skip
    env = dict(__import__("os").environ, PATH=f"{BIN}:{ROOT / 'node_modules' / '.bin'}", PYTHONPATH=str(ROOT),
               BALLAST_BOT_RPC=chain.provider.uri)  # the URL (a secret on a live network) from the environment
    env.pop("APE_FOUNDRY_HOST", None)
    proc = subprocess.Popen([str(BIN / "ballast"), "bot", "run", "--config", str(cfg)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline, text = time.monotonic() + 90, None
        while time.monotonic() < deadline:
            text = scrape(port)
            if text and "ballast_bot_liquidations_total 1.0" in text:
                break
            assert proc.poll() is None, proc.communicate()[1]
            time.sleep(0.3)
        assert text and "ballast_bot_liquidations_total 1.0" in text, text
        assert "ballast_bot_repaid_total" in text and "ballast_bot_rounds_total" in text
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    events = [json.loads(ln) for ln in err.splitlines() if ln.startswith("{")]
    assert any(e["event"] == "signal" and e["signal"] == "SIGTERM" for e in events)
    assert events[-1]["event"] == "bot_stopped" and events[-1]["liquidations"] == 1
    assert not lens.is_liquidatable(market, borrower)
