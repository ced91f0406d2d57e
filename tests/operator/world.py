"""The operator's world for the long tests of tests/operator: a copy of the project
(as a fresh clone would have it: no deployments, no ape accounts), a temporary ape data folder, and an
anvil that plays Sepolia (chain id 11155111, a block every second) where the documents' commands send
`--network ethereum:sepolia:node --rpc "$SEPOLIA_RPC_URL"`.

Nothing here touches the real ~/.ape, the repo's deployments/ or a port another process owns: every node
is started on a free port and stopped by its PID."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from pathlib import Path

from web3 import Web3

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SEPOLIA_CHAIN_ID = 11_155_111
PASSPHRASE = "a passphrase for tests only"
# The aliases the documents use: their passphrases are in the environment, as an operator's would be.
ALIASES = ("deployer", "keeper1", "keeper2", "keeper3", "keeper4", "liquidator", "lender", "borrower")
# The stand-in mines every second (the keepers' round clock needs blocks) and asks for no confirmations
# (ape would wait for Sepolia's two); the other settings are Sepolia's.
STANDIN_NETWORK = json.dumps({"required_confirmations": 0, "block_time": 1, "base_fee_multiplier": 1.4})


def ports_free(*ports: int) -> bool:
    """Nothing listens on these local ports (the ones a document's commands name)."""
    import socket

    for port in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def copy_project(dest: Path) -> Path:
    """What a fresh clone holds (and its compiled contracts, so that nothing compiles twice); .venv and
    node_modules are the repo's own (symlinks). File times are kept, so `make bootstrap` sees nothing to
    install."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("ape-config.yaml", "Makefile", "pyproject.toml", "package.json", "package-lock.json", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("contracts", "scripts", "docs"):
        shutil.copytree(ROOT / name, dest / name)
    if (ROOT / ".build").is_dir():
        shutil.copytree(ROOT / ".build", dest / ".build")
    for name in (".venv", "node_modules"):
        (dest / name).symlink_to(ROOT / name)
    shared = ROOT.parent / "shared"  # the candles: ../shared beside the clone, as the README's commands name it
    if shared.is_dir() and not (dest.parent / "shared").exists():
        (dest.parent / "shared").symlink_to(shared)
    return dest


def operator_env(project: Path, ape_home: Path, rpc_url: str) -> dict[str, str]:
    """The environment of an operator's shell: no venv on PATH until the documents put it there, the
    checkout under test importable, secrets set."""
    node = shutil.which("node")
    dirs = [str(Path(node).parent)] if node else []
    path = os.pathsep.join(dict.fromkeys([*dirs, "/usr/bin", "/bin"]))
    env = {
        "PATH": path,
        "HOME": os.environ.get("HOME", str(project)),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
        "APE_DATA_FOLDER": str(ape_home),
        "SEPOLIA_RPC_URL": rpc_url,
        "APE_ETHEREUM_SEPOLIA": STANDIN_NETWORK,
        "BALLAST_BOT_RPC": rpc_url,
    }
    for alias in ALIASES:
        env[f"APE_ACCOUNTS_{alias}_PASSPHRASE"] = PASSPHRASE
    return env


@contextlib.contextmanager
def sepolia_standin(extra: str = ""):
    """An anvil on a free port playing Sepolia: chain id 11155111, a block every second."""
    from oracle.demo import Anvil

    old = os.environ.get("BALLAST_ANVIL_ARGS")
    os.environ["BALLAST_ANVIL_ARGS"] = f"--chain-id {SEPOLIA_CHAIN_ID} --block-time 1 {extra}".strip()
    try:
        with Anvil() as node:
            yield node
    finally:
        if old is None:
            os.environ.pop("BALLAST_ANVIL_ARGS", None)
        else:
            os.environ["BALLAST_ANVIL_ARGS"] = old


class Faucet:
    """Gives every keystore account in the ape data folder test ETH once (the stand-in's faucet)."""

    def __init__(self, w3: Web3, ape_home: Path):
        self.w3, self.ape_home, self.funded = w3, ape_home, set()

    def __call__(self, *_args) -> None:
        for path in sorted((self.ape_home / "accounts").glob("*.json")):
            address = Web3.to_checksum_address(json.loads(path.read_text())["address"])
            if address not in self.funded:
                self.w3.provider.make_request("anvil_setBalance", [address, hex(100 * 10**18)])
                self.funded.add(address)


def keystore_key(ape_home: Path, alias: str) -> bytes:
    """The private key of a keystore account (what its operator's keeper signs with)."""
    from eth_account import Account

    return Account.decrypt(json.loads((ape_home / "accounts" / f"{alias}.json").read_text()), PASSPHRASE)


def warp(w3: Web3, seconds: int) -> None:
    """Let `seconds` of chain time pass on the stand-in (where a document says to wait)."""
    w3.provider.make_request("evm_increaseTime", [seconds])
    w3.provider.make_request("evm_mine", [])


class World:
    """One operator's world: the project copy, the ape data folder, the environment, the stand-in node,
    and one bash session in the project copy (`shell`) that the documents' commands run in."""

    def __init__(self, base: Path, node):
        from docrun import Shell

        self.project = copy_project(base / "ballast")
        self.ape_home = base / "ape"
        self.ape_home.mkdir()
        self.logs = base / "logs"
        self.logs.mkdir()
        self.node = node
        self.w3 = Web3(Web3.HTTPProvider(node.uri))
        self.env = operator_env(self.project, self.ape_home, node.uri)
        self.faucet = Faucet(self.w3, self.ape_home)
        self.shell = Shell(self.project, self.env, self.logs)

    def doc(self, path: Path, **hooks):
        """A runner for the document at `path` (a file of the project copy, or any markdown file)."""
        from docrun import DocRunner

        hooks.setdefault("after_command", self.faucet)
        return DocRunner(path, self.shell, PASSPHRASE, **hooks)

    def record(self) -> dict:
        return json.loads((self.project / "deployments" / "ethereum-sepolia.json").read_text())

    def close(self) -> None:
        self.shell.close()
