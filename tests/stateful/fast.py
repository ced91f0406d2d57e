"""A lean JSON-RPC path to the contracts for the long stateful campaigns.

Through ape one contract call costs 30-100 ms (receipts, traces, config objects), and through web3's
contract objects still ~10 ms (ABI validation on every call, `requests`); a campaign of 2,000
sequences of 50 steps with its invariants makes over a million calls. This module talks to the same
anvil node over one kept-alive HTTP connection and encodes every call with `eth_abi` from the
compiled ABI (ape's contract types, from `.build`): a renamed function or a new field still fails
loudly here. Transactions go out from the node's unlocked test accounts without gas estimation.
Time is frozen (`anvil_setBlockTimestampInterval 0`): every block, call and transaction runs at the
campaign's clock until `advance_to` moves it.

Expected reverts are simulated (`eth_call` at the pending block, which runs at the same time as the
next transaction would): a reverted transaction changes no state.
"""

from __future__ import annotations

import http.client
import itertools
import json
import time
from collections import namedtuple
from types import SimpleNamespace
from urllib.parse import urlparse

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
GAS = hex(8_000_000)


class Actor:
    """An account of the node by address (ape's account objects are slow to touch)."""

    def __init__(self, account):
        self.address = to_checksum_address(str(account.address))

    def __repr__(self):
        return self.address[:10]


class Reverted(Exception):
    """A transaction or call reverted; `reason` is its message (None without one)."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def _arg(x):
    if isinstance(x, (list, tuple)):
        return [_arg(v) for v in x]
    if hasattr(x, "address"):
        return to_checksum_address(str(x.address))
    return x


def _reason(error: dict) -> str | None:
    data = error.get("data")
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        raw = bytes.fromhex(data[2:])
        if raw[:4] == ERROR_SELECTOR:
            return abi_decode(["string"], raw[4:])[0]
        return None
    msg = error.get("message", "")
    prefix = "execution reverted: "
    return msg[len(prefix):] if msg.startswith(prefix) else None


def _type(p: dict) -> str:
    """The canonical ABI type of a parameter (structs as tuples)."""
    t = p["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(_type(c) for c in p["components"]) + ")" + t[len("tuple"):]
    return t


_TUPLES: dict = {}


def _convert(p: dict, v):
    """A decoded value with addresses checksummed and structs as named tuples."""
    t = p["type"]
    if t.endswith("]"):
        inner = dict(p, type=t[: t.rindex("[")])
        return [_convert(inner, x) for x in v]
    if t == "tuple":
        names = tuple(c["name"] for c in p["components"])
        cls = _TUPLES.setdefault(names, namedtuple("Struct", names))
        return cls(*(_convert(c, x) for c, x in zip(p["components"], v)))
    if t == "address":
        return to_checksum_address(v)
    return v


class Node:
    """The JSON-RPC node (the anvil that ape started) with the campaign's clock."""

    def __init__(self, uri: str):
        u = urlparse(uri)
        self.host, self.port, self.path = u.hostname, u.port, u.path or "/"
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        self.ids = itertools.count(1_000)

    def _post(self, payload):
        body = json.dumps(payload).encode()  # bytes: headers and body leave in one packet
        for attempt in range(2):
            try:
                self.conn.request("POST", self.path, body, {"Content-Type": "application/json"})
                return json.loads(self.conn.getresponse().read())
            except (http.client.HTTPException, ConnectionError):
                if attempt:
                    raise
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    @staticmethod
    def _result(r):
        if "error" in r:
            err = r["error"]
            raise Reverted(_reason(err) if isinstance(err, dict) else str(err))
        return r["result"]

    def rpc(self, method: str, params: list):
        return self._result(self._post({"jsonrpc": "2.0", "id": next(self.ids), "method": method, "params": params}))

    def views(self, calls: list) -> list:
        """Several view calls `(function, args)` in one JSON-RPC batch, at the latest block."""
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": "eth_call",
             "params": [{"to": fn.contract.address, "data": fn._data(args)}, "latest"]}
            for i, (fn, args) in enumerate(calls)
        ]  # fmt: skip
        answers = {r["id"]: r for r in self._post(payload)}
        return [fn._decode(self._result(answers[i])) for i, (fn, _) in enumerate(calls)]

    def freeze(self, now: int):
        """Every block from here on is at `now` (until `advance_to`)."""
        self.rpc("anvil_setBlockTimestampInterval", [0])
        self.advance_to(now)

    def advance_to(self, now: int):
        self.rpc("evm_setNextBlockTimestamp", [now])
        self.rpc("evm_mine", [])

    def balance(self, who) -> int:
        return int(self.rpc("eth_getBalance", [_arg(who), "latest"]), 16)

    def contract(self, ape_contract) -> FastContract:
        return FastContract(self, ape_contract)


class Receipt:
    def __init__(self, raw: dict):
        self.raw = raw

    def decode_logs(self, event: FastEvent) -> list:
        return event.decode(self.raw["logs"])


class FastEvent:
    def __init__(self, contract: FastContract, abi: dict):
        self.contract = contract
        self.abi = abi
        sig = f"{abi['name']}({','.join(_type(i) for i in abi['inputs'])})"
        self.topic = "0x" + keccak(text=sig).hex()
        self.indexed = [i for i in abi["inputs"] if i.get("indexed")]
        self.plain = [i for i in abi["inputs"] if not i.get("indexed")]

    def decode(self, logs: list) -> list:
        out = []
        address = self.contract.address.lower()
        for log in logs:
            if log["address"].lower() != address or not log["topics"] or log["topics"][0].lower() != self.topic:
                continue
            args = {}
            for p, topic in zip(self.indexed, log["topics"][1:]):
                args[p["name"]] = _convert(p, abi_decode([_type(p)], bytes.fromhex(topic[2:]))[0])
            values = abi_decode([_type(p) for p in self.plain], bytes.fromhex(log["data"][2:]))
            for p, v in zip(self.plain, values):
                args[p["name"]] = _convert(p, v)
            out.append(SimpleNamespace(**args))
        return out


class FastFunction:
    def __init__(self, contract: FastContract, abi: dict):
        self.contract = contract
        self.name = abi["name"]
        self.abi = abi
        self.view = abi.get("stateMutability") in ("view", "pure")
        self.inputs = [_type(i) for i in abi["inputs"]]
        self.outputs = abi.get("outputs", [])
        self.out_types = [_type(o) for o in self.outputs]
        sig = f"{self.name}({','.join(self.inputs)})"
        self.selector = keccak(text=sig)[:4]

    def _data(self, args) -> str:
        return "0x" + (self.selector + abi_encode(self.inputs, _arg(list(args)))).hex()

    def __call__(self, *args, sender=None, value=0):
        if not self.view:
            return self.transact(*args, sender=sender, value=value)
        raw = self.contract.node.rpc("eth_call", [{"to": self.contract.address, "data": self._data(args)}, "latest"])
        return self._decode(raw)

    def _decode(self, raw: str):
        values = abi_decode(self.out_types, bytes.fromhex(raw[2:]))
        out = tuple(_convert(o, v) for o, v in zip(self.outputs, values))
        return out[0] if len(out) == 1 else out

    def transact(self, *args, sender, value=0) -> Receipt:
        node = self.contract.node
        tx = {"from": _arg(sender), "to": self.contract.address, "data": self._data(args), "gas": GAS,
              "value": hex(value)}  # fmt: skip
        h = node.rpc("eth_sendTransaction", [tx])
        raw = node.rpc("eth_getTransactionReceipt", [h])
        for i in range(10_000):  # anvil mines right after answering: the receipt follows at once
            if raw is not None:
                break
            time.sleep(0.0005 * min(i, 20))
            raw = node.rpc("eth_getTransactionReceipt", [h])
        if int(raw["status"], 16) != 1:
            raise Reverted(self.simulate_reason(*args, sender=sender, value=value))
        return Receipt(raw)

    def simulate_reason(self, *args, sender, value=0) -> str | None:
        """The revert message of this call at the next block (None if it would succeed)."""
        tx = {"from": _arg(sender), "to": self.contract.address, "data": self._data(args), "gas": GAS,
              "value": hex(value)}  # fmt: skip
        try:
            self.contract.node.rpc("eth_call", [tx, "pending"])
        except Reverted as exc:
            return exc.reason if exc.reason is not None else "<no reason>"
        return None


class FastContract:
    """A contract at the address of an ape contract, with the same ABI, called over JSON-RPC."""

    def __init__(self, node: Node, ape_contract):
        self.node = node
        self.address = to_checksum_address(str(ape_contract.address))
        abi = [a.model_dump(mode="json", by_alias=True, exclude_none=True) for a in ape_contract.contract_type.abi]
        self._members = {}
        for a in abi:
            if a.get("type") == "function":
                self._members[a["name"]] = FastFunction(self, a)
            elif a.get("type") == "event":
                self._members[a["name"]] = FastEvent(self, a)

    def __getattr__(self, name):
        members = self.__dict__.get("_members")
        if members is None or name not in members:
            raise AttributeError(name)
        return members[name]
