"""oracle.chain: networks, accounts (test and keystore), RPC failover, fees, dry run, one-line errors."""

import json
import socket
import uuid

import pytest
from eth_account import Account
from web3 import Web3

from oracle import model, reports
from oracle.chain import (
    FEE_BUMP_DEN,
    FEE_BUMP_NUM,
    Fees,
    Rpc,
    Sender,
    contract_abi,
    load_account,
    resolve_network,
    token_decimals,
)
from oracle.errors import BallastError

LOCAL = resolve_network("ethereum:local:foundry")
SIGNER_KEY = "0x" + "5a" * 32  # the test oracle's one signer (anyone relays its reports)
SIGNER = Account.from_key(SIGNER_KEY)


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # closed as soon as we leave: nobody listens


@pytest.fixture(scope="module")
def risk_oracle(project, admin, guardian):
    oracle = project.RiskOracle.deploy(guardian, [SIGNER.address], 1, sender=admin)
    oracle.add_asset(admin, guardian, sender=admin)  # any two addresses stand for the pair here
    return oracle


def post_data(oracle, at: int, price: int, key=SIGNER_KEY, chain_id: int = 31337) -> bytes:
    """Calldata of a post of asset 1 (one signed report, the oracle's quorum of one)."""
    words = model.pack_update(1, price, 10**12, model.WAD)
    rep = reports.sign(key, chain_id, oracle.address, at, at + 60, words)
    return reports.build_batch([rep], list(oracle.signers())).calldata()


@pytest.fixture
def keystore_account(monkeypatch):
    """A real ape keystore account (encrypted JSON in ape's accounts folder), removed afterwards."""
    from ape import accounts

    container = accounts.containers["accounts"]
    alias = f"ballast-test-{uuid.uuid4().hex[:8]}"
    key = Account.create()
    path = container.data_folder / f"{alias}.json"
    container.data_folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(Account.encrypt(key.key, "correct horse")))
    monkeypatch.delenv("BALLAST_PASSPHRASE", raising=False)
    yield alias, key.address
    path.unlink(missing_ok=True)


# --- networks


def test_resolve_local_network():
    assert LOCAL.is_local and LOCAL.chain_id is None
    assert LOCAL.default_uri is None  # ape-config.yaml `foundry: host: auto`: no port before ape starts anvil
    assert str(LOCAL) == "ethereum:local:foundry"


def test_cli_on_a_local_network_with_auto_host_asks_for_rpc():
    from click.testing import CliRunner

    from oracle.cli import main

    args = ["keeper", "run", "--network", "ethereum:local:foundry", "--account", "TEST::1", "--oracle",
            "0x" + "11" * 20, "--asset", "WETH=1", "--source", "pool:0x" + "22" * 20]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert result.output.strip() == (
        "ballast: error: no RPC URL known for network 'ethereum:local:foundry': pass --rpc URL"
    )


def test_resolve_public_network_knows_its_chain_id_and_configured_uri():
    sepolia = resolve_network("ethereum:sepolia:node")
    assert sepolia.chain_id == 11_155_111 and not sepolia.is_local
    assert sepolia.default_uri == "http://127.0.0.1:8555"  # node: ethereum: sepolia: uri in ape-config.yaml


def test_public_network_without_configured_uri_has_none():
    mainnet = resolve_network("ethereum:mainnet")
    assert mainnet.chain_id == 1 and mainnet.default_uri is None  # never a public RPC list


def test_cli_asks_for_rpc_when_the_network_has_none():
    from click.testing import CliRunner

    from oracle.cli import main

    args = ["keeper", "run", "--network", "ethereum:mainnet", "--account", "x", "--oracle", "0x" + "11" * 20,
            "--asset", "WETH=1", "--source", "pool:0x" + "22" * 20]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert (
        result.output.strip()
        == "ballast: error: no RPC URL known for network 'ethereum:mainnet': pass --rpc URL"
    )


def test_resolve_network_with_a_uri_as_provider():
    choice = resolve_network("ethereum:local:http://127.0.0.1:9999")
    assert choice.default_uri == "http://127.0.0.1:9999"


@pytest.mark.parametrize(
    "choice, message",
    [
        ("nowhere:local", "unknown network 'nowhere:local'"),
        ("ethereum:nowhere", "unknown network 'ethereum:nowhere'"),
        ("ethereum", "unknown network 'ethereum' (expected ecosystem:network[:provider])"),
        ("ethereum:local:nosuchprovider", "unknown provider 'nosuchprovider' for network"),
    ],
)
def test_unknown_network_is_a_ballast_error(choice, message):
    with pytest.raises(BallastError) as info:
        resolve_network(choice)
    assert message in info.value.format_message()


# --- accounts


def test_test_account_on_a_local_network(keeper):
    assert load_account("TEST::1", LOCAL).address == keeper.address
    assert load_account("test:1", LOCAL).address == keeper.address


def test_test_account_refused_on_a_public_network():
    with pytest.raises(BallastError, match="only for local networks"):
        load_account("TEST::1", resolve_network("ethereum:sepolia:node"))


def test_missing_account():
    with pytest.raises(BallastError, match="^no ape account named 'ghost' "):
        load_account("ghost", LOCAL)


def test_keystore_account_needs_a_passphrase(keystore_account):
    alias, _ = keystore_account
    with pytest.raises(BallastError, match=f"account '{alias}' is locked: set BALLAST_PASSPHRASE"):
        load_account(alias, LOCAL)


def test_keystore_account_wrong_passphrase(keystore_account, monkeypatch):
    alias, _ = keystore_account
    monkeypatch.setenv("BALLAST_PASSPHRASE", "wrong")
    with pytest.raises(BallastError, match=f"cannot unlock account '{alias}'"):
        load_account(alias, LOCAL)


def test_keystore_account_posts_with_passphrase_from_env(
    keystore_account, monkeypatch, admin, risk_oracle, rpc_url, chain
):
    alias, address = keystore_account
    monkeypatch.setenv(f"APE_ACCOUNTS_{alias}_PASSPHRASE", "correct horse")  # ape's own variable works too
    account = load_account(alias, LOCAL)
    assert account.address == address
    admin.transfer(address, 10**18)
    risk_oracle.configure_signers([address], 1, sender=admin)
    now = chain.blocks.head.timestamp
    words = model.pack_update(1, 2_000 * 10**6, 10**12, model.WAD)
    rep = reports.sign(account, chain.chain_id, risk_oracle.address, now, now + 60, words)  # the keystore signs
    assert rep.verify(chain.chain_id, risk_oracle.address)
    data = reports.build_batch([rep], [address]).calldata()
    result = Sender(account, Rpc([rpc_url])).submit(risk_oracle.address, data)  # and relays
    assert result.tx_hash and result.nonce == 0
    assert risk_oracle.metrics(1)[0] == 2_000 * 10**6


# --- RPC


def test_rpc_fails_over_past_a_dead_url(rpc_url, chain):
    dead = dead_url()
    rpc = Rpc([dead, rpc_url], timeout=1)
    assert rpc.chain_id() == chain.chain_id
    assert rpc.url == rpc_url and rpc.failovers == 1
    assert rpc.block_timestamp() == chain.blocks.head.timestamp  # and stays on the live one
    assert rpc.failovers == 1


def test_an_unreachable_rpc_is_logged_as_a_warning(rpc_url):
    """issue 10, finding 10: rpc_unreachable was logged at info."""
    import logging

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("ballast")
    logger.addHandler(handler)
    try:
        Rpc([dead_url(), rpc_url], timeout=1).chain_id()
    finally:
        logger.removeHandler(handler)
    [unreachable] = [r for r in records if r.getMessage() == "rpc_unreachable"]
    assert unreachable.levelno == logging.WARNING


def test_rpc_all_dead_is_one_line():
    a, b = dead_url(), dead_url()
    with pytest.raises(BallastError) as info:
        Rpc([a, b], timeout=1).block_timestamp()
    assert info.value.format_message() == f"unreachable RPC: {a}, {b}"


def test_rpc_wrong_chain_is_refused(rpc_url):
    with pytest.raises(BallastError, match=r"serves chain 31337, expected 1$"):
        Rpc([rpc_url], chain_id=1).chain_id()


def test_rpc_without_urls():
    with pytest.raises(BallastError, match="no RPC URL given"):
        Rpc([])


def test_rpc_method_error_is_not_a_failover(rpc_url):
    rpc = Rpc([rpc_url])
    with pytest.raises(ValueError):
        rpc.raw("no_such_method", [])
    assert rpc.failovers == 0


# --- fees and sending


def test_fee_bump_rounds_up_to_at_least_12_5_percent():
    for max_fee, priority in [(1, 1), (8, 8), (1_000_000_007, 999), (10**11, 10**9)]:
        bumped = Fees(max_fee, priority).bumped()
        assert bumped.max_fee * FEE_BUMP_DEN >= max_fee * FEE_BUMP_NUM and bumped.max_fee > max_fee
        assert bumped.priority * FEE_BUMP_DEN >= priority * FEE_BUMP_NUM and bumped.priority > priority
        assert bumped.max_fee * FEE_BUMP_DEN < (max_fee + 1) * FEE_BUMP_NUM + FEE_BUMP_DEN


def test_current_fees_cover_the_base_fee(rpc_url, keeper, chain):
    fees = Sender(keeper, Rpc([rpc_url])).current_fees()
    base = chain.blocks.head.base_fee
    assert fees.max_fee >= 2 * base + fees.priority - 1 and fees.priority >= 1


def test_dry_run_builds_and_estimates_without_sending(rpc_url, keeper, risk_oracle, chain):
    data = post_data(risk_oracle, chain.blocks.head.timestamp, 10**9)
    nonce = keeper.nonce
    result = Sender(keeper, Rpc([rpc_url]), dry_run=True).submit(risk_oracle.address, data)
    assert result.dry_run and result.tx_hash is None and result.nonce == nonce
    assert 25_000 < result.gas_estimate < 200_000
    assert keeper.nonce == nonce and risk_oracle.metrics(1) == (0, 0, 0, 0, 0)


def test_send_mines_and_reports_gas(rpc_url, keeper, risk_oracle, chain):
    data = post_data(risk_oracle, chain.blocks.head.timestamp, 10**9)
    result = Sender(keeper, Rpc([rpc_url])).submit(risk_oracle.address, data)
    receipt = chain.provider.get_receipt(result.tx_hash)
    assert (
        receipt.status == 1
        and receipt.gas_used == result.gas_used
        and result.block_number == receipt.block_number
    )
    assert Web3.to_checksum_address(receipt.sender) == keeper.address and not result.replaced


def test_revert_is_reported_before_sending(rpc_url, other, risk_oracle, chain):
    at = chain.blocks.head.timestamp
    forged = reports.sign("0x" + "66" * 32, 31337, risk_oracle.address, at, at + 60,
                          model.pack_update(1, 10**9, 10**12, model.WAD))  # fmt: skip
    data = reports.Batch(at, at + 60, list(forged.words), [forged.r, forged.vs], 0, [SIGNER.address]).calldata()
    nonce = other.nonce
    with pytest.raises(BallastError) as info:
        Sender(other, Rpc([rpc_url])).submit(risk_oracle.address, data)
    assert info.value.format_message() == "transaction would revert: oracle: bad signature"
    assert other.nonce == nonce


def test_contract_abi_is_the_compiled_one(project):
    names = {item.get("name") for item in contract_abi("RiskOracle")}
    assert {"post", "signers", "quorum", "asset_of", "metrics", "domain_separator"} <= names
    assert contract_abi("RiskOracle") is contract_abi("RiskOracle")  # loaded once


def test_token_decimals_read_from_the_chain_or_one_line(project, admin, rpc_url):
    usdc = project.MockERC20.deploy("USD Coin", "USDC", 6, sender=admin)
    assert token_decimals(Rpc([rpc_url]), usdc.address) == 6
    nobody = Account.create().address
    with pytest.raises(BallastError, match=f"^cannot read decimals\\(\\) of the token {nobody}"):
        token_decimals(Rpc([rpc_url]), nobody)  # no token there: never a default of 0 or 18


def test_no_waiting_transaction_in_an_idle_pool(rpc_url, keeper):
    assert Sender(keeper, Rpc([rpc_url])).waiting_tx(keeper.nonce) is None


# --- the nonce moved past ours: our receipt late, or another transaction


class LateReceipts(Sender):
    """A Sender whose first `late` receipt lookups find nothing, as from a node that already counts the
    mined nonce but does not serve the receipt yet (anvil mines at once, so the nonce has moved)."""

    def __init__(self, *args, late: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.late = late
        self.lookups = 0
        self.mined_nonce_at_first_lookup: int | None = None

    def _receipt(self, tx_hash):
        self.lookups += 1
        if self.lookups == 1:
            self.mined_nonce_at_first_lookup = self.nonces()[0]
        if self.lookups <= self.late:
            return None
        return super()._receipt(tx_hash)


class NonceThief(Sender):
    """A Sender whose signed transaction never reaches the node: the same account sends another
    transaction (a self-transfer through ape) at that nonce instead."""

    def _send_raw(self, raw):
        self.account.transfer(self.account, 0)


def test_late_receipt_after_the_nonce_moved_is_still_ours(rpc_url, keeper, risk_oracle, chain):
    data = post_data(risk_oracle, chain.blocks.head.timestamp, 3_000 * 10**6)
    nonce = keeper.nonce
    sender = LateReceipts(keeper, Rpc([rpc_url]), late=4, poll=0.05)
    result = sender.submit(risk_oracle.address, data, label="post")
    assert sender.mined_nonce_at_first_lookup == nonce + 1  # the race: nonce counted, no receipt yet
    assert sender.lookups == 5 and result.nonce == nonce and result.block_number is not None
    assert chain.provider.get_receipt(result.tx_hash).status == 1
    assert risk_oracle.metrics(1)[0] == 3_000 * 10**6


def test_nonce_taken_by_another_transaction_fails_after_the_grace(rpc_url, keeper, risk_oracle, chain):
    import time

    data = post_data(risk_oracle, chain.blocks.head.timestamp, 3_100 * 10**6)
    nonce = keeper.nonce
    before = risk_oracle.metrics(1)
    sender = NonceThief(keeper, Rpc([rpc_url]), poll=0.02, receipt_grace=0.5)
    start = time.monotonic()
    with pytest.raises(BallastError) as info:
        sender.submit(risk_oracle.address, data, label="post")
    assert info.value.format_message() == f"post: nonce {nonce} was used by another transaction"
    assert time.monotonic() - start >= 0.5  # it waited out the grace before concluding
    assert keeper.nonce == nonce + 1 and risk_oracle.metrics(1) == before
