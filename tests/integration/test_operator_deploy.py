"""The operator's path on a node of its own (issue 10): a keystore account made with `ape accounts
generate` in a temporary ape data folder, a deploy that runs unattended (passphrase from the
environment, stdin closed) onto an anvil that plays Sepolia with a price on gas.

Each test starts and stops its own anvil by PID (`oracle.demo.Anvil`); ape's data folder is a temporary
one (`APE_DATA_FOLDER`), never the real ~/.ape."""

import contextlib
import json
import os
import re
import subprocess

import pytest
from cli_helpers import BIN, ROOT
from web3 import Web3

from oracle.demo import Anvil

SEPOLIA_CHAIN_ID = 11_155_111
BASE_FEE = 10 * 10**9  # 10 gwei: the zero address cannot pay for an estimate at this price
PASSPHRASE = "a passphrase for tests only"
ZERO_ADDRESS = "0x" + "00" * 20


def run(args, env_extra, input_text=None, timeout=240):
    """A command as an operator runs it: repo root, the venv and anvil on PATH, stdin closed unless given."""
    env = dict(
        os.environ,
        PATH=f"{BIN}:{ROOT / 'node_modules' / '.bin'}:{os.environ.get('PATH', '')}",
        PYTHONPATH=str(ROOT),
    )
    for key in [k for k in env if k.startswith("APE_ACCOUNTS_") or k == "BALLAST_PASSPHRASE"]:
        env.pop(key)
    env.pop("APE_FOUNDRY_HOST", None)
    env.update(env_extra)
    if args[0] == "ballast":
        args = [str(BIN / "ballast"), *args[1:]]
    return subprocess.run(
        args,
        check=False,
        cwd=ROOT,
        env=env,
        input=input_text,
        stdin=None if input_text is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def ape_home(tmp_path):
    """A temporary ape data folder with one keystore account, `deployer`, made by `ape accounts generate`."""
    env = {"APE_DATA_FOLDER": str(tmp_path / "ape")}
    gen = run(
        ["ape", "accounts", "generate", "deployer", "--hide-mnemonic"],
        env,
        input_text=f"some extra entropy\n{PASSPHRASE}\n{PASSPHRASE}\n",
    )
    assert gen.returncode == 0, gen.stdout + gen.stderr
    keyfile = json.loads((tmp_path / "ape" / "accounts" / "deployer.json").read_text())
    return env, Web3.to_checksum_address(keyfile["address"])


# The stand-in mines one block per transaction (anvil's automine) where Sepolia mines every 12 s, so
# ape's two confirmations for Sepolia would wait forever: the stand-in asks for none (ape reads its
# network config from APE_ETHEREUM_<NETWORK> too; the other fields keep Sepolia's values).
STANDIN_ENV = {
    "APE_ETHEREUM_SEPOLIA": json.dumps(
        {"required_confirmations": 0, "block_time": 1, "base_fee_multiplier": 1.4}
    )
}


@contextlib.contextmanager
def sepolia_standin(monkeypatch, base_fee):
    """An anvil that plays Sepolia (chain id 11155111) with this base fee, stopped by PID after."""
    monkeypatch.setenv("BALLAST_ANVIL_ARGS", f"--chain-id {SEPOLIA_CHAIN_ID} --block-base-fee-per-gas {base_fee}")
    with Anvil() as node:
        yield node


def fund(node, address, ether=100):
    w3 = Web3(Web3.HTTPProvider(node.uri))
    w3.provider.make_request("anvil_setBalance", [address, hex(ether * 10**18)])
    return w3


def deploy_args(node, cfg, out, *extra):
    """DEPLOY.md's command, with the stand-in's URL where the user's $SEPOLIA_RPC_URL goes."""
    return ["ape", "run", "deploy", "--network", "ethereum:sepolia:node", "--rpc", node.uri, "--account",
            "deployer", "--config", str(cfg), "--out", str(out), *extra]  # fmt: skip


def live_tokens(node, project):
    """Two ERC-20s already on the stand-in, as a live network has them (a Sepolia USDC and WETH): deployed
    by anvil's unlocked account 0 with the project's MockERC20 bytecode."""
    w3 = Web3(Web3.HTTPProvider(node.uri))
    ct = project.MockERC20.contract_type
    abi = [item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in ct.abi]
    factory = w3.eth.contract(abi=abi, bytecode=ct.deployment_bytecode.bytecode)
    out = []
    for name, symbol, decimals in (("USD Coin", "USDC", 6), ("Wrapped Ether", "WETH", 18)):
        tx = factory.constructor(name, symbol, decimals).transact({"from": w3.eth.accounts[0]})
        out.append(w3.eth.wait_for_transaction_receipt(tx).contractAddress)
    return out


def unattended_deploy(ape_home, node, tmp_path, *extra, tokens=None):
    env, address = ape_home
    w3 = fund(node, address)
    cfg = tmp_path / "sepolia.yaml"
    if tokens:
        cfg.write_text(f"loan_token: '{tokens[0]}'\ncollateral_token: '{tokens[1]}'\n")
    else:
        cfg.write_text("mock_tokens: true\n")
    out = tmp_path / "ethereum-sepolia.json"
    proc = run(deploy_args(node, cfg, out, *extra),
               {**env, **STANDIN_ENV, "APE_ACCOUNTS_deployer_PASSPHRASE": PASSPHRASE})  # fmt: skip
    return proc, out, w3, address


def test_unattended_deploy_with_a_keystore_account(ape_home, monkeypatch, tmp_path):
    """Finding 1: the passphrase comes from the environment and nothing waits at a `Sign:` prompt."""
    with sepolia_standin(monkeypatch, base_fee=0) as node:
        fund(node, ZERO_ADDRESS)  # so that finding 2 (an estimate from the zero address) cannot interfere
        proc, out, w3, address = unattended_deploy(ape_home, node, tmp_path, "--yes")
        assert "Sign:" not in proc.stdout + proc.stderr
        assert proc.returncode == 0, proc.stdout + proc.stderr
        dep = json.loads(out.read_text())
        assert dep["chain_id"] == SEPOLIA_CHAIN_ID and dep["deployer"] == address
        assert len(w3.eth.get_code(Web3.to_checksum_address(dep["market"]))) > 0


def test_blueprint_declared_from_the_deployer_where_gas_has_a_price(ape_home, monkeypatch, tmp_path):
    """Finding 2: the Market blueprint's gas is estimated from the deployer; from the zero address (no
    `sender=`) a node where gas costs something answers "Insufficient funds for gas * price + value"."""
    with sepolia_standin(monkeypatch, base_fee=BASE_FEE) as node:
        proc, out, w3, _ = unattended_deploy(ape_home, node, tmp_path, "--yes")
        assert "Insufficient funds" not in proc.stdout + proc.stderr
        assert proc.returncode == 0, proc.stdout + proc.stderr
        dep = json.loads(out.read_text())
        assert len(w3.eth.get_code(Web3.to_checksum_address(dep["market_blueprint"]))) > 0


def test_live_deploy_with_the_networks_own_tokens(ape_home, monkeypatch, tmp_path, project):
    """DEPLOY.md's Sepolia path names existing tokens in the config: they are used through the project's
    ERC-20 ABI (ape alone knows no contract type for them without an explorer plugin)."""
    with sepolia_standin(monkeypatch, base_fee=BASE_FEE) as node:
        tokens = live_tokens(node, project)
        proc, out, w3, _ = unattended_deploy(ape_home, node, tmp_path, "--yes", tokens=tokens)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        dep = json.loads(out.read_text())
        assert [dep["loan_token"], dep["collateral_token"]] == tokens and dep["pool"] is None
        assert len(w3.eth.get_code(Web3.to_checksum_address(dep["market"]))) > 0


# --- finding 3: a second deploy sends nothing; a record is never silently overwritten ----------------

ADMIN = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's test account 0 (the local deployer)
GUARDIAN = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"  # test account 2
YES = ["--yes"]


def local_deploy(node, out, *extra):
    args = ["ape", "run", "deploy", "--network", "ethereum:local:foundry", "--out", str(out), *extra]
    return run(args, {"APE_FOUNDRY_HOST": node.uri} if node else {})


def error_lines(proc):
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("ballast: error:")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_second_deploy_sends_nothing_and_a_record_is_never_silently_replaced(tmp_path):
    out = tmp_path / "deployments" / "ethereum-local.json"
    with Anvil() as node:
        w3 = Web3(Web3.HTTPProvider(node.uri))
        first = local_deploy(node, out, *YES)
        assert first.returncode == 0, first.stdout + first.stderr
        record = out.read_text()
        sent = (w3.eth.get_transaction_count(ADMIN), w3.eth.block_number)

        again = local_deploy(node, out, *YES)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "nothing to send" in again.stdout
        assert (w3.eth.get_transaction_count(ADMIN), w3.eth.block_number) == sent
        assert out.read_text() == record

        # A change: the plan names only what differs, and nothing is sent until it is confirmed.
        cfg = tmp_path / "guardian.yaml"
        cfg.write_text(f"guardian: '{GUARDIAN}'\n")
        asked = local_deploy(node, out, "--config", str(cfg))  # stdin closed: nobody to ask
        assert asked.returncode == 1
        steps = [ln for ln in asked.stdout.splitlines() if re.match(r"\s+\d+\. ", ln)]
        assert len(steps) == 1 and "set_guardian" in steps[0], asked.stdout
        assert "--yes" in error_lines(asked)
        assert w3.eth.get_transaction_count(ADMIN) == sent[0]
        changed = local_deploy(node, out, "--config", str(cfg), *YES)
        assert changed.returncode == 0, changed.stdout + changed.stderr
        assert w3.eth.get_transaction_count(ADMIN) == sent[0] + 1
        assert json.loads(out.read_text())["guardian"] == GUARDIAN

    # The chain is gone; on a new one the old record is kept aside, never silently replaced.
    before = out.read_text()
    with Anvil() as node:
        refused = local_deploy(node, out)
        assert refused.returncode == 1 and "not on this chain" in refused.stdout
        assert out.read_text() == before
        replaced = local_deploy(node, out, *YES)
        assert replaced.returncode == 0, replaced.stdout + replaced.stderr
    kept = [p for p in out.parent.iterdir() if p.name != out.name]
    assert len(kept) == 1 and kept[0].read_text() == before


def test_deploy_on_a_node_that_ape_starts_says_the_chain_is_gone(tmp_path):
    out = tmp_path / "ethereum-local.json"
    proc = local_deploy(None, out, *YES)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "the chain is gone" in proc.stdout + proc.stderr
    assert json.loads(out.read_text())["ephemeral"] is True


def test_dead_foundry_host_fails_in_one_line(tmp_path):
    """Finding 10: APE_FOUNDRY_HOST names a node that does not answer: one line, and ape starts none."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    proc = run(["ape", "run", "deploy", "--network", "ethereum:local:foundry", "--out",
                str(tmp_path / "x.json"), *YES], {"APE_FOUNDRY_HOST": dead})  # fmt: skip
    assert proc.returncode == 1
    assert f"nothing answers at APE_FOUNDRY_HOST={dead}" in error_lines(proc)
    assert not (tmp_path / "x.json").exists()


def test_rehearsal_on_a_fork_that_stays_up(monkeypatch, tmp_path):
    """DEPLOY.md's rehearsal that keeps its chain: an anvil forks "Sepolia" (here another anvil plays it;
    in real life `--fork-url "$SEPOLIA_RPC_URL"`), the deploy goes to it through APE_FOUNDRY_HOST, the
    fork is still there afterwards, and a second deploy finds everything."""
    out = tmp_path / "sepolia-rehearsal.json"
    monkeypatch.setenv("BALLAST_ANVIL_ARGS", f"--chain-id {SEPOLIA_CHAIN_ID}")
    with Anvil() as upstream:
        monkeypatch.setenv("BALLAST_ANVIL_ARGS", f"--fork-url {upstream.uri}")
        with Anvil() as fork:
            first = local_deploy(fork, out, *YES)
            assert first.returncode == 0, first.stdout + first.stderr
            assert "the chain is gone" not in first.stdout
            dep = json.loads(out.read_text())
            assert dep["chain_id"] == SEPOLIA_CHAIN_ID and dep["ephemeral"] is False
            w3 = Web3(Web3.HTTPProvider(fork.uri))
            assert len(w3.eth.get_code(Web3.to_checksum_address(dep["market"]))) > 0  # still up
            again = local_deploy(fork, out, *YES)
            assert again.returncode == 0 and "nothing to send" in again.stdout, again.stdout + again.stderr
        assert Web3(Web3.HTTPProvider(upstream.uri)).eth.block_number == 0  # a fork never writes back
