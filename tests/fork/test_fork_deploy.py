"""Deploy on a local fork, offline: an anvil plays Sepolia on 127.0.0.1:8555 (the node uri in
ape-config.yaml), and `ape run deploy --network ethereum:sepolia-fork:foundry` forks it."""

import json
import socket
import subprocess
import time
import urllib.request

import pytest
from cli_helpers import ROOT, run_cli

PORT = 8555
SEPOLIA_CHAIN_ID = 11155111


def _answers(uri):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    try:
        req = urllib.request.Request(uri, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


@pytest.fixture
def fake_sepolia():
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", PORT)) == 0:
            pytest.skip(f"port {PORT} is taken by another process; the fork test needs it for its upstream")
    anvil = str(ROOT / "node_modules" / ".bin" / "anvil")
    proc = subprocess.Popen(
        [anvil, "--chain-id", str(SEPOLIA_CHAIN_ID), "--port", str(PORT), "--silent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not _answers(f"http://127.0.0.1:{PORT}"):
            assert proc.poll() is None, "the upstream anvil exited"
            assert time.monotonic() < deadline, "the upstream anvil did not start"
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_deploy_on_local_sepolia_fork(fake_sepolia, tmp_path):
    out = tmp_path / "fork.json"
    with socket.socket() as s:  # the fork's own anvil: a free port, never another test's node
        s.bind(("127.0.0.1", 0))
        host = f"http://127.0.0.1:{s.getsockname()[1]}"
    args = ["ape", "run", "deploy", "--network", "ethereum:sepolia-fork:foundry", "--out", str(out), "--yes"]
    proc = run_cli(args, env_extra={"APE_FOUNDRY_HOST": host}, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    dep = json.loads(out.read_text())
    assert dep["network"] == "ethereum:sepolia-fork"
    assert dep["chain_id"] == SEPOLIA_CHAIN_ID
    assert dep["pool"] is not None  # a fork is local: mock tokens and a pool
    # ape started the fork's anvil for this run and stopped it: the deploy says so, and so does the record
    assert "the chain is gone" in proc.stdout and dep["ephemeral"] is True
    # The fork's anvil was ape's and is gone; the upstream saw no transaction (a fork never writes back).
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{PORT}", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=2) as resp:
        assert json.loads(resp.read())["result"] == "0x0"
