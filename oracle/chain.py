"""Transactions for the keeper: ape accounts sign, raw JSON-RPC sends, with failover.

Ape owns the keys (keystore accounts unlocked from the environment, or ape's test accounts on a local
network); this module owns everything between a signed transaction and its receipt:

- `Rpc`: several RPC URLs in order; a call that cannot connect moves on to the next URL (and stays
  there); when every URL is down the caller gets one `BallastError` line.
- `Sender.submit(to, data)`: nonce from the node (`pending`), EIP-1559 fees from the latest base fee,
  a simulation first (a revert never costs gas and its reason ends in one error line), then send and
  wait; a transaction not mined within `stuck_after` seconds is replaced with the same nonce and fees
  bumped by at least 12.5% (nodes demand >= 10%), up to `max_bumps` times. When the account's nonce
  has moved past ours without a receipt for any of our hashes, they are asked again for `receipt_grace`
  seconds (a node may count a mined nonce before it serves that transaction's receipt) before the
  nonce counts as taken by another transaction.
- After a restart, a transaction of ours still waiting in the node's pool (pending nonce > mined nonce)
  is replaced by the next submission at its nonce with fees above its own, instead of queueing behind it.
- Dry run: build, sign-free simulate (eth_call) and estimate; nothing is sent.

`contract_abi(name)` is the compiled ABI of one of the project's contracts (STYLE: talk to contracts
through their ABI, so a renamed function or a new field fails loudly in one place); web3 contract
objects built from it work over `Rpc`'s failover.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from web3 import Web3
from web3.exceptions import BadFunctionCallOutput, ContractLogicError, TransactionNotFound

from oracle import accounts
from oracle.errors import BallastError
from oracle.logs import emit

FEE_BUMP_NUM, FEE_BUMP_DEN = 1125, 1000  # +12.5% per replacement (nodes require >= 10%)
GAS_MARGIN_NUM, GAS_MARGIN_DEN = 12, 10  # gas limit = estimate * 1.2
DEFAULT_PRIORITY_FEE = 10**9  # 1 gwei when the node has no suggestion
RECEIPT_GRACE = 5.0  # seconds to keep asking for our receipt after the account's nonce moved past ours
RECEIPT_GRACE_POLLS = 5  # and at least this many lookups, however short the grace or long the poll
REPO_ROOT = Path(__file__).resolve().parent.parent
_OFFLINE = Web3()  # encodes calldata; never connects
CONNECTION_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    ConnectionError,
    OSError,
)


# --- network and account --------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkChoice:
    ecosystem: str
    network: str
    provider: str | None
    chain_id: int | None  # None on local networks (any dev chain id is accepted)
    default_uri: str | None

    @property
    def is_local(self) -> bool:
        return self.network == "local" or self.network.endswith("-fork")

    def __str__(self) -> str:
        return ":".join(p for p in (self.ecosystem, self.network, self.provider) if p)


def resolve_network(choice: str) -> NetworkChoice:
    """Validate an ape network choice (`ecosystem:network[:provider]`) without connecting to it."""
    from ape import networks
    from ape.exceptions import ApeException

    parts = choice.split(":", 2)
    if len(parts) < 2 or not all(parts[:2]):
        raise BallastError(f"unknown network '{choice}' (expected ecosystem:network[:provider])")
    eco_name, net_name = parts[0], parts[1]
    provider_name = parts[2] if len(parts) == 3 and parts[2] else None
    try:
        network = networks.get_ecosystem(eco_name).get_network(net_name)
    except ApeException:
        raise BallastError(f"unknown network '{choice}'") from None
    uri = None
    if provider_name and "://" in provider_name:
        uri = provider_name
    else:
        try:
            provider = network.get_provider(provider_name)
        except ApeException:
            raise BallastError(f"unknown provider '{provider_name}' for network '{choice}'") from None
        local = net_name == "local" or net_name.endswith("-fork")
        settings = getattr(provider, "settings", None)
        configured = getattr(settings, "uri", None) or getattr(settings, "host", None)
        if configured and configured != "auto":
            uri = str(configured)
        elif not local:
            uri = _configured_uri(provider.name, eco_name, net_name)
        else:
            try:
                uri = provider.uri  # the plugin's default local endpoint; never a public RPC list
            except ApeException:
                uri = None
            if uri == "auto":
                uri = None  # `host: auto`: the port is chosen when ape starts the node; pass --rpc
    chain_id = None if (net_name == "local" or net_name.endswith("-fork")) else network.chain_id
    return NetworkChoice(eco_name, net_name, provider_name, chain_id, uri)


def _configured_uri(provider_name: str, ecosystem: str, network: str) -> str | None:
    """`<provider>: <ecosystem>: <network>: uri` from ape-config.yaml, without touching the network (ape's
    own `provider.uri` would fall back to probing public RPC lists)."""
    from ape import networks

    try:
        config = networks.config_manager.get_config(provider_name).model_dump(by_alias=True)
    except (AttributeError, ValueError):
        return None
    uri = (config.get(ecosystem) or {}).get(network, {}).get("uri")
    return str(uri) if uri else None


def load_account(alias: str, network: NetworkChoice):
    """The keeper's call shape of the one account loader, `oracle.accounts.load_account` (test accounts on
    local networks only; keystore accounts unlocked from the environment and set to autosign)."""
    return accounts.load_account(alias, local=network.is_local, network=str(network))


# --- compiled ABIs -------------------------------------------------------------------------------


@functools.cache
def _project(project_class):
    """The ape project of this checkout, loaded once."""
    return project_class(REPO_ROOT)


@functools.cache
def contract_abi(name: str) -> tuple:
    """The ABI of the project's contract `name` (e.g. "RiskOracle"), as ape compiled it (from the
    cached build in .build/, compiling the sources first if they changed)."""
    import sys

    from ape import Project
    from ape.logging import logger

    # ape-vyper runs the pip-installed `vyper` found on PATH: the one beside this interpreter
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    level = logger.level
    logger.set_level("ERROR")  # a compile's INFO lines are not the keeper's output
    try:
        contract_type = _project(Project).get_contract(name).contract_type
    except Exception as exc:  # noqa: BLE001 - a missing checkout or a compiler failure: one line
        raise BallastError(f"cannot load the ABI of {name} from {REPO_ROOT}: {exc}".splitlines()[0]) from None
    finally:
        logger.set_level(level)
    return tuple(item.model_dump(by_alias=True, mode="json") for item in contract_type.abi)


def token_decimals(rpc: Rpc, token: str) -> int:
    """`decimals()` of an ERC-20 token, read from the chain. A token that does not answer is one
    BallastError line: amounts are never scaled by a guessed default."""
    from eth_abi import decode as abi_decode

    token = Web3.to_checksum_address(token)
    call = {"to": token, "data": contract_at(_OFFLINE, "MockERC20", token).encode_abi("decimals", [])}
    try:
        raw = rpc.eth_call(call)
        if len(raw) < 32:  # no code there (an empty answer decodes to 0 in some web3 setups)
            raise ValueError("no answer (is it a token?)")
        decimals = int(abi_decode(["uint256"], raw[:32])[0])
    except (ContractLogicError, BadFunctionCallOutput, ValueError, OverflowError) as exc:
        raise BallastError(f"cannot read decimals() of the token {token}: {_reason(exc)}") from None
    if not 0 <= decimals <= 36:
        raise BallastError(f"the token {token} says it has {decimals} decimals")
    return decimals


def contract_at(w3: Web3, name: str, address: str):
    """A web3 contract object for the project's contract `name` at `address`, built once per web3
    instance (building one from an ABI costs tens of milliseconds)."""
    cache = w3.__dict__.setdefault("_ballast_contracts", {})
    key = (name, address)
    if key not in cache:
        cache[key] = w3.eth.contract(address=Web3.to_checksum_address(address), abi=list(contract_abi(name)))
    return cache[key]


# --- RPC with failover ----------------------------------------------------------------------------


class Rpc:
    """JSON-RPC over several URLs. A connection failure moves to the next URL; all down -> BallastError."""

    def __init__(self, urls: list[str], chain_id: int | None = None, timeout: float = 5.0):
        if not urls:
            raise BallastError("no RPC URL given (pass --rpc URL)")
        self.urls = list(urls)
        self.expected_chain_id = chain_id
        self.timeout = timeout
        self.index = 0
        self._w3: dict[int, Web3] = {}
        self._checked: set[int] = set()
        self.failovers = 0

    @property
    def url(self) -> str:
        return self.urls[self.index]

    def _web3(self, i: int) -> Web3:
        if i not in self._w3:
            # eth_chainId is asked before every call by web3's validation: a chain id never changes for an
            # endpoint (the first answer is checked against the network's), so it is cached
            provider = Web3.HTTPProvider(self.urls[i], request_kwargs={"timeout": self.timeout},
                                         cache_allowed_requests=True, cacheable_requests={"eth_chainId"})  # fmt: skip
            self._w3[i] = Web3(provider)
        return self._w3[i]

    def call(self, fn: Callable[[Web3], Any]) -> Any:
        """Run `fn(web3)` on the current URL, failing over on connection errors."""
        tried: list[str] = []
        for step in range(len(self.urls)):
            i = (self.index + step) % len(self.urls)
            w3 = self._web3(i)
            try:
                if i not in self._checked:
                    self._check_chain(i, w3)
                result = fn(w3)
            except CONNECTION_ERRORS as exc:
                tried.append(self.urls[i])
                emit("rpc_unreachable", logging.WARNING, url=self.urls[i], error=type(exc).__name__)
                continue
            if i != self.index:
                emit("rpc_failover", **{"from": self.urls[self.index], "to": self.urls[i]})
                self.failovers += 1
                self.index = i
            return result
        raise BallastError(f"unreachable RPC: {', '.join(tried)}")

    def _check_chain(self, i: int, w3: Web3) -> None:
        chain_id = w3.eth.chain_id
        if self.expected_chain_id is not None and chain_id != self.expected_chain_id:
            raise BallastError(
                f"RPC {self.urls[i]} serves chain {chain_id}, expected {self.expected_chain_id}"
            )
        self._checked.add(i)

    def raw(self, method: str, params: list) -> Any:
        def go(w3: Web3) -> Any:
            response = w3.provider.make_request(method, params)  # type: ignore[arg-type]
            if "error" in response:
                raise ValueError(response["error"].get("message", response["error"]))
            return response["result"]

        return self.call(go)

    def chain_id(self) -> int:
        return self.call(lambda w3: w3.eth.chain_id)

    def block_timestamp(self) -> int:
        return self.call(lambda w3: w3.eth.get_block("latest")["timestamp"])

    def eth_call(self, tx: dict, block: str | int = "latest") -> bytes:
        return bytes(self.call(lambda w3: w3.eth.call(tx, block)))  # type: ignore[arg-type]


# --- sending --------------------------------------------------------------------------------------


@dataclass
class Fees:
    max_fee: int
    priority: int

    def bumped(self) -> Fees:
        """At least +12.5% on both, rounded up (a replacement the node must accept)."""
        return Fees(
            -(-self.max_fee * FEE_BUMP_NUM // FEE_BUMP_DEN), -(-self.priority * FEE_BUMP_NUM // FEE_BUMP_DEN)
        )

    def at_least(self, other: Fees) -> Fees:
        return Fees(max(self.max_fee, other.max_fee), max(self.priority, other.priority))


@dataclass
class SendResult:
    tx_hash: str | None  # None in dry-run
    nonce: int
    gas_estimate: int
    fees: Fees
    replaced: list[str] = field(default_factory=list)  # hashes this one replaced (same nonce)
    block_number: int | None = None
    gas_used: int | None = None
    dry_run: bool = False


class Sender:
    """Signs with an ape account and sends through `Rpc`. One transaction in flight at a time."""

    def __init__(
        self,
        account,
        rpc: Rpc,
        *,
        dry_run: bool = False,
        stuck_after: float = 60.0,
        max_bumps: int = 5,
        poll: float = 0.2,
        max_fee_cap: int | None = None,
        receipt_grace: float = RECEIPT_GRACE,
    ):
        self.account = account
        self.address = Web3.to_checksum_address(str(account.address))
        self.rpc = rpc
        self.dry_run = dry_run
        self.stuck_after = stuck_after
        self.max_bumps = max_bumps
        self.poll = poll
        self.max_fee_cap = max_fee_cap
        self.receipt_grace = receipt_grace
        self._chain_id: int | None = None

    # --- pieces

    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = self.rpc.chain_id()
        return self._chain_id

    def nonces(self) -> tuple[int, int]:
        """(mined, pending) transaction counts of the keeper account."""
        mined = self.rpc.call(lambda w3: w3.eth.get_transaction_count(self.address, "latest"))
        pending = self.rpc.call(lambda w3: w3.eth.get_transaction_count(self.address, "pending"))
        return mined, pending

    def current_fees(self) -> Fees:
        block = self.rpc.call(lambda w3: w3.eth.get_block("latest"))
        base = int(block.get("baseFeePerGas", 0) or 0)
        try:
            priority = int(self.rpc.call(lambda w3: w3.eth.max_priority_fee))
        except (ValueError, NotImplementedError):
            priority = DEFAULT_PRIORITY_FEE
        priority = max(priority, 1)
        return Fees(2 * base + priority, priority)

    def waiting_tx(self, nonce: int) -> dict | None:
        """Our transaction with `nonce` in the node's pool (txpool_content), if the node exposes it."""
        try:
            content = self.rpc.raw("txpool_content", [])
        except ValueError:
            return None
        for bucket in ("pending", "queued"):
            by_sender = content.get(bucket, {})
            for sender, txs in by_sender.items():
                if sender.lower() != self.address.lower():
                    continue
                for key, tx in txs.items():
                    if int(key) == nonce:
                        return tx
        return None

    def simulate(self, to: str, data: bytes, block: str = "latest") -> int:
        """eth_call + estimateGas as the keeper on `block` ("pending": with what waits in the node's pool,
        e.g. another relayer's post of the same round); a revert ends in one BallastError line."""
        call = {"from": self.address, "to": Web3.to_checksum_address(to), "data": "0x" + data.hex()}
        try:
            self.rpc.eth_call(call, block)
            return int(self.rpc.call(lambda w3: w3.eth.estimate_gas(call, block)))  # type: ignore[arg-type]
        except ContractLogicError as exc:
            raise BallastError(f"transaction would revert: {_reason(exc)}") from None
        except ValueError as exc:  # node-level rejection (e.g. insufficient funds)
            raise BallastError(f"transaction rejected by the node: {_reason(exc)}") from None

    def _sign(self, to: str, data: bytes, nonce: int, gas: int, fees: Fees) -> tuple[bytes, str]:
        from ape import networks

        txn = networks.ethereum.create_transaction(
            chainId=self.chain_id(),
            nonce=nonce,
            to=Web3.to_checksum_address(to),
            data=data,
            gas=gas,
            maxFeePerGas=fees.max_fee,
            maxPriorityFeePerGas=fees.priority,
            value=0,
            type=2,
        )
        signed = self.account.sign_transaction(txn)
        if signed is None:
            raise BallastError(f"account '{self.account.alias}' refused to sign")
        return signed.serialize_transaction(), "0x" + bytes(signed.txn_hash).hex()

    def _send_raw(self, raw: bytes) -> None:
        try:
            self.rpc.call(lambda w3: w3.eth.send_raw_transaction(raw))
        except ValueError as exc:
            message = _reason(exc)
            if "already known" in message or "already imported" in message:
                return  # the same bytes reached the node earlier (e.g. before a failover)
            raise BallastError(f"transaction rejected by the node: {message}") from None

    def _receipt(self, tx_hash: str) -> dict | None:
        try:
            return self.rpc.call(lambda w3: w3.eth.get_transaction_receipt(tx_hash))  # type: ignore[arg-type]
        except TransactionNotFound:
            return None

    def _mined(self, sent: list[str]) -> tuple[str, dict] | None:
        """(hash, receipt) of whichever of `sent` (same nonce) was mined, newest first."""
        for h in reversed(sent):
            receipt = self._receipt(h)
            if receipt is not None:
                return h, receipt
        return None

    def _late_receipt(self, sent: list[str]) -> tuple[str, dict] | None:
        """`_mined(sent)`, asked again for `receipt_grace` seconds (and at least RECEIPT_GRACE_POLLS
        times). Used once the account's mined nonce has moved past ours: a node can count the nonce
        before it serves the receipt of the transaction that used it, so a missing receipt right
        then does not yet mean that another transaction took the nonce."""
        deadline = time.monotonic() + self.receipt_grace
        polls = 0
        while True:
            found = self._mined(sent)
            polls += 1
            if found is not None or (polls >= RECEIPT_GRACE_POLLS and time.monotonic() >= deadline):
                return found
            time.sleep(self.poll)

    # --- the whole thing

    def submit(self, to: str, data: bytes, label: str = "tx", simulate_on: str = "latest") -> SendResult:
        """Simulate (on `simulate_on`), then (unless dry-run) sign, send and wait, replacing a stuck
        transaction."""
        gas_estimate = self.simulate(to, data, simulate_on)
        gas = gas_estimate * GAS_MARGIN_NUM // GAS_MARGIN_DEN + 10_000
        mined, pending = self.nonces()
        fees = self.current_fees()
        nonce = pending
        replaced: list[str] = []
        if pending > mined:
            # Ours from before a restart (or from another process) waits in the pool: take its slot.
            nonce = mined
            waiting = self.waiting_tx(nonce)
            if waiting is not None:
                legacy = waiting.get("gasPrice")
                old = Fees(
                    _int(waiting.get("maxFeePerGas") or legacy),
                    _int(waiting.get("maxPriorityFeePerGas") or legacy),
                )
                fees = fees.at_least(old.bumped())
                replaced.append(waiting.get("hash", "?"))
            else:
                fees = Fees(fees.max_fee * 2, fees.priority * 2)
            emit("nonce_recovered", nonce=nonce, mined=mined, pending=pending, replaces=replaced)
        if self.dry_run:
            emit(
                "dry_run",
                label=label,
                to=to,
                nonce=nonce,
                gas_estimate=gas_estimate,
                max_fee=fees.max_fee,
                priority_fee=fees.priority,
                data_bytes=len(data),
            )
            return SendResult(None, nonce, gas_estimate, fees, replaced, dry_run=True)

        sent: list[str] = []
        fees_of: dict[str, Fees] = {}
        for attempt in range(self.max_bumps + 1):
            if self.max_fee_cap is not None and fees.max_fee > self.max_fee_cap:
                if attempt > 0:
                    raise BallastError(
                        f"{label} stuck at nonce {nonce}: the next fee bump would exceed the cap of "
                        f"{self.max_fee_cap} wei per gas"
                    )
                fees = Fees(self.max_fee_cap, min(fees.priority, self.max_fee_cap))
            raw, tx_hash = self._sign(to, data, nonce, gas, fees)
            self._send_raw(raw)
            sent.append(tx_hash)
            fees_of[tx_hash] = fees
            emit(
                "tx_sent",
                label=label,
                tx=tx_hash,
                nonce=nonce,
                attempt=attempt,
                max_fee=fees.max_fee,
                priority_fee=fees.priority,
                url=self.rpc.url,
            )
            deadline = time.monotonic() + self.stuck_after
            while time.monotonic() < deadline:
                found = self._mined(sent)
                if found is None and self.nonces()[0] > nonce:
                    found = self._late_receipt(sent)  # the node may count the nonce before the receipt
                    if found is None:
                        emit("nonce_taken", logging.ERROR, label=label, nonce=nonce, sent=sent,
                             waited_s=self.receipt_grace)  # fmt: skip
                        raise BallastError(f"{label}: nonce {nonce} was used by another transaction")
                if found is not None:
                    h, receipt = found
                    others = replaced + [x for x in sent if x != h]
                    if int(receipt["status"]) != 1:
                        why = self._replay_reason(to, data, gas, receipt["blockNumber"])
                        emit("tx_reverted", logging.ERROR, label=label, tx=h, nonce=nonce,
                             block=receipt["blockNumber"], gas_used=receipt["gasUsed"], reason=why)  # fmt: skip
                        raise BallastError(f"{label} reverted on-chain: {h} ({why})")
                    return self._finish(label, receipt, h, nonce, gas_estimate, fees_of[h], others)
                time.sleep(self.poll)
            emit("tx_stuck", label=label, tx=tx_hash, nonce=nonce, waited_s=self.stuck_after)
            fees = fees.bumped().at_least(self.current_fees())
        raise BallastError(f"{label} stuck at nonce {nonce} after {self.max_bumps} fee bumps")

    def _replay_reason(self, to: str, data: bytes, gas: int, block: int) -> str:
        """Why a mined transaction reverted, found by replaying it as a call: first on the state after
        its block (which holds whatever got in before it there, e.g. a competing keeper's post), then
        on the state before. A node that cannot replay (pruned state) leaves the reason unknown."""
        call = {
            "from": self.address,
            "to": Web3.to_checksum_address(to),
            "data": "0x" + data.hex(),
            "gas": gas,
        }
        for at in (block, block - 1):
            try:
                self.rpc.eth_call(call, at)
            except ContractLogicError as exc:
                return _reason(exc) or "reverted without a reason"
            except Exception as exc:  # noqa: BLE001 - any node failure: report it, keep the hash
                return f"reason unknown: replay failed ({_reason(exc)})"
        return "reason unknown: the call succeeds when replayed"

    def _finish(self, label, receipt, tx_hash, nonce, gas_estimate, fees, replaced) -> SendResult:
        emit(
            "tx_mined",
            label=label,
            tx=tx_hash,
            nonce=nonce,
            block=receipt["blockNumber"],
            gas_used=receipt["gasUsed"],
            replaced=replaced,
        )
        return SendResult(
            tx_hash, nonce, gas_estimate, fees, replaced, receipt["blockNumber"], receipt["gasUsed"]
        )


def _int(v: Any) -> int:
    return int(v, 16) if isinstance(v, str) else int(v or 0)


def _reason(exc: Exception) -> str:
    """The revert reason or node message of a web3 exception, on one line."""
    message = getattr(exc, "message", None) or (exc.args[0] if exc.args else str(exc))
    if isinstance(message, dict):
        message = message.get("message", str(message))
    message = str(message).replace("\n", " ").strip()
    for prefix in ("execution reverted: ", "execution reverted:"):
        if message.startswith(prefix):
            return message[len(prefix) :].strip()
    return message
