"""Reads of a market's state, and `ballast position --network NET [--rpc URL] [--market ADDR] [--lens ADDR]
[--deployments FILE] ACCOUNT`.

`MarketReader` is the one place where `ballast position` and the liquidation bot read a market: its
positions, health, haircuts and parameters, its tokens and their decimals, and its oracle's price. The
market keeps its raw state (`position`, `state`, `borrowers`); health, haircuts, required ratios, pages
of positions with their health and whether the ramp is moving come from a `MarketLens`, which computes
them with the market's own math module as a transaction in the same block would. It talks to the
contracts through web3 objects built from the project's compiled ABIs (no hand-made selectors), over
whatever node ape is connected to. A call that reverts is an exception turned into one line here, never
a call trace printed by the provider. The market and the lens come from the flags or from the
deployments file that `ape run deploy` wrote (`market_and_lens`).

`ballast position` prints only numbers read from the chain: collateral and debt in token units (each
token's `decimals()` read from the chain: a token whose decimals cannot be read is an error, never
shown as raw units), the health factor, the initial and maintenance haircuts and the collateral ratios
they imply for this position, what more it may borrow, and whether it can be liquidated now.
"""

from __future__ import annotations

import functools
import json
from decimal import Decimal
from typing import Any

import click
from eth_utils import to_checksum_address

from oracle import model
from oracle.errors import BallastError

WAD = model.WAD
NO_DEBT_HF = 2**255  # health_factor() of a position without debt is max uint
MAX_PAGE = 1_000  # Market.borrowers and MarketLens.positions return at most this many positions per call
SCAN_WORKERS = 4  # pages of borrowers a scan reads at once


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, without a node's "execution reverted:" prefix."""
    text = str(getattr(exc, "message", None) or exc).strip() or type(exc).__name__
    text = text.splitlines()[0]
    for prefix in ("execution reverted: ", "execution reverted:"):
        if text.startswith(prefix):
            return text[len(prefix) :].strip()
    return text


_ABIS: dict[tuple[int, str], list[dict]] = {}


def abi_of(project, name: str) -> list[dict]:
    """The compiled ABI of contract `name` of the ape project, as JSON dicts for web3 (converted once
    per project: the demo's bot reads its market every simulated hour)."""
    key = (id(project), name)
    if key not in _ABIS:
        contract_type = getattr(project, name).contract_type
        _ABIS[key] = [item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in contract_type.abi]
    return _ABIS[key]


def format_amount(raw: int, decimals: int, places: int = 6) -> str:
    """One way to print a token amount: raw units scaled by the token's decimals, thousands separated."""
    value = Decimal(int(raw)).scaleb(-int(decimals))
    return f"{value:,.{places}f}"


@functools.lru_cache(maxsize=1_000_000)
def _checksum(raw20: bytes) -> str:
    """EIP-55 of 20 raw address bytes, remembered: a bot scans the same borrowers every round, and the
    checksum is the slowest part of decoding a page."""
    return to_checksum_address(raw20)


def _decode_borrowers(raw: bytes) -> list[tuple[str, int, int]]:
    """The ABI return of `Market.borrowers`: (offset, length, then account, collateral, debt shares per
    row), decoded by slicing (web3's decoder is the slowest part of a page of 1,000)."""
    if len(raw) < 64:
        raise BallastError(f"Market.borrowers returned {len(raw)} bytes")
    n = int.from_bytes(raw[32:64], "big")
    if len(raw) < 64 + 96 * n:
        raise BallastError(f"Market.borrowers returned {len(raw)} bytes for {n} rows")
    out = []
    for i in range(64, 64 + 96 * n, 96):
        out.append((_checksum(raw[i + 12 : i + 32]), int.from_bytes(raw[i + 32 : i + 64], "big"),
                    int.from_bytes(raw[i + 64 : i + 96], "big")))  # fmt: skip
    return out


class MarketReader:
    """Read-only view of one Ballast market (and its oracle and tokens) over web3; health, haircuts and
    pages of positions come from a MarketLens (any lens serves any market: it is stateless)."""

    def __init__(self, w3, address: str, abis: dict[str, list[dict]], lens: str | None = None):
        from web3 import Web3

        if not Web3.is_address(address):
            raise BallastError(f"no Ballast market at {address}: not an address")
        self.w3 = w3
        self.address = Web3.to_checksum_address(address)
        self.abis = abis
        self.market = w3.eth.contract(address=self.address, abi=abis["Market"])
        self._decimals: dict[str, int] = {}
        self._check()
        self.lens = self._lens(lens)

    @classmethod
    def of(cls, project, address: str, lens: str | None = None, w3=None) -> MarketReader:
        """A reader over the node ape is connected to (or `w3`), with the project's ABIs."""
        if w3 is None:
            from ape import chain

            w3 = chain.provider.web3
        abis = {name: abi_of(project, name) for name in ("Market", "MarketLens", "RiskOracle", "MockERC20")}
        lens = str(getattr(lens, "address", lens)) if lens is not None else None
        return cls(w3, str(getattr(address, "address", address)), abis, lens)

    # --- identity -------------------------------------------------------------------------------

    def _check(self) -> None:
        """Is there a Ballast market here? One line when not (no code, or its views do not answer)."""
        try:
            code = self.w3.eth.get_code(self.address)
        except Exception as exc:  # noqa: BLE001 - a node that does not answer
            raise BallastError(f"cannot read {self.address}: {first_line(exc)}") from None
        if not code:
            raise BallastError(f"no Ballast market at {self.address}: no contract there")
        try:
            self.loan = self.market.functions.LOAN().call()
            self.collateral = self.market.functions.COLLATERAL().call()
            self.oracle_address = self.market.functions.ORACLE().call()
            self.asset_id = int(self.market.functions.ASSET_ID().call())
            self.market.functions.num_borrowers().call()
        except Exception as exc:  # noqa: BLE001 - reverts, empty return data, bad ABI decoding
            raise BallastError(
                f"no Ballast market at {self.address}: its views do not answer ({first_line(exc)})"
            ) from None
        self.oracle = self.w3.eth.contract(address=self.oracle_address, abi=self.abis["RiskOracle"])

    def _lens(self, address: str | None):
        """The MarketLens at `address`, checked against this market (one line when it is not a lens)."""
        from web3 import Web3

        if address is None:
            return None
        if not Web3.is_address(address):
            raise BallastError(f"no MarketLens at {address}: not an address")
        lens = self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=self.abis["MarketLens"])
        if not self.w3.eth.get_code(lens.address):
            raise BallastError(f"no MarketLens at {address}: no contract there")
        try:
            lens.functions.utilisation(self.address).call()
        except Exception as exc:  # noqa: BLE001
            raise BallastError(f"no MarketLens at {address}: its views do not answer ({first_line(exc)})") from None
        return lens

    def _call(self, what: str, fn, block: int | None = None) -> Any:
        try:
            return fn.call() if block is None else fn.call(block_identifier=block)
        except Exception as exc:  # noqa: BLE001
            raise BallastError(f"cannot read {what} of market {self.address}: {first_line(exc)}") from None

    def _view(self, name: str, *args) -> Any:
        """MarketLens.`name`(market, *args)."""
        if self.lens is None:
            raise BallastError(f"reading {name} of a market needs a MarketLens (--lens ADDRESS)")
        return self._call(name, getattr(self.lens.functions, name)(self.address, *args))

    def token(self, address: str):
        return self.w3.eth.contract(address=address, abi=self.abis["MockERC20"])

    def decimals(self, role: str) -> int:
        """decimals() of the market's `loan` or `collateral` token, read from the chain (one line when
        the token does not answer: amounts are never shown in raw units by mistake)."""
        if role not in self._decimals:
            address = self.loan if role == "loan" else self.collateral
            try:
                value = int(self.token(address).functions.decimals().call())
            except Exception as exc:  # noqa: BLE001
                raise BallastError(
                    f"cannot read decimals() of the {role} token {address}: {first_line(exc)}"
                ) from None
            if not 0 <= value <= 77:
                raise BallastError(f"the {role} token {address} reports {value} decimals")
            self._decimals[role] = value
        return self._decimals[role]

    def symbol(self, role: str) -> str:
        address = self.loan if role == "loan" else self.collateral
        try:
            return str(self.token(address).functions.symbol().call())
        except Exception:  # noqa: BLE001 - a symbol is decoration: the address will do
            return address

    # --- state ----------------------------------------------------------------------------------

    def num_borrowers(self) -> int:
        return int(self._call("num_borrowers", self.market.functions.num_borrowers()))

    def positions(self, start: int, count: int) -> list[tuple[str, int, int, int, bool]]:
        """Borrowers start .. start + count - 1 as (account, collateral, debt, health factor, liquidatable),
        from the lens (debt with interest to now, health as a liquidation in this block would judge it)."""
        rows = self._view("positions", start, count)
        return [(str(a), int(c), int(d), int(hf), bool(liq)) for a, c, d, hf, liq in rows]

    def scan(self, batch: int = MAX_PAGE, workers: int = SCAN_WORKERS) -> list[tuple[str, int, int, int, bool]]:
        """Every borrower as (account, collateral, debt, health factor, liquidatable), row for row what
        `scan_lens` returns, but faster: the market's raw pages (`Market.borrowers`: two storage reads a
        position, no math on the node) read `workers` at a time, all at one block, and each position
        judged here by oracle.model, the contract's integer mirror, against the market as the lens sees
        it at that block (the maintenance base and depth as a poke now would leave them, the debt with
        interest to now, the oracle's price). The bot liquidates only after the lens quotes the position,
        so a row here never sends a transaction by itself."""
        from concurrent.futures import ThreadPoolExecutor

        batch = max(1, min(batch, MAX_PAGE))
        if self.lens is None:
            raise BallastError("reading the positions of a market needs a MarketLens (--lens ADDRESS)")
        try:
            block = int(self.w3.eth.block_number)
        except Exception as exc:  # noqa: BLE001
            raise BallastError(f"cannot read the block number: {first_line(exc)}") from None
        lens, market = self.lens.functions, self.market.functions
        total = int(self._call("num_borrowers", market.num_borrowers(), block))
        if total == 0:
            return []
        p = model.RiskParams(*(int(x) for x in self._call("risk_params", market.risk_params(), block)))
        maint_base = int(self._call("maint_base", lens.maint_base(self.address), block))
        maint_depth = int(self._call("maint_depth", lens.maint_depth(self.address), block))
        total_debt = int(self._call("total_debt", market.total_debt(), block))
        total_shares = int(self._call("total_debt_shares", lens.total_debt_shares(self.address), block))
        word = int(self._call("the oracle's risk word", self.oracle.functions.risk_word(self.asset_id), block))
        price = model.price_of(word >> 192) if word >> 192 else 0

        def page(start: int) -> list[tuple[str, int, int]]:
            data = market.borrowers(start, min(batch, total - start))._encode_transaction_data()
            try:
                raw = bytes(self.w3.eth.call({"to": self.address, "data": data}, block))
            except Exception as exc:  # noqa: BLE001
                raise BallastError(f"cannot read borrowers of market {self.address}: {first_line(exc)}") from None
            return _decode_borrowers(raw)

        starts = range(0, total, batch)
        if workers > 1 and len(starts) > 1:
            with ThreadPoolExecutor(max_workers=min(workers, len(starts))) as pool:
                pages = list(pool.map(page, starts))
        else:
            pages = [page(s) for s in starts]
        out: list[tuple[str, int, int, int, bool]] = []
        for rows in pages:
            for account, collateral, shares in rows:
                debt = model.to_debt(shares, total_debt, total_shares, True)
                value = model.collateral_value(collateral, price)
                h = model.h_maint(p, maint_base, value, maint_depth)
                out.append((account, collateral, debt, model.health_factor(debt, value, h),
                            not model.is_healthy(debt, value, h)))  # fmt: skip
        return out

    def scan_lens(self, batch: int = MAX_PAGE) -> list[tuple[str, int, int, int, bool]]:
        """Every borrower, read in pages of `batch` (at most MAX_PAGE, the lens's largest page) from
        `MarketLens.positions`, which judges each position on the node (the reference `scan` equals)."""
        batch = max(1, min(batch, MAX_PAGE))
        total = self.num_borrowers()
        out: list[tuple[str, int, int, int, bool]] = []
        start = 0
        while start < total:
            rows = self.positions(start, min(batch, total - start))
            if not rows:
                break
            out += rows
            start += len(rows)
        return out

    def position(self, account: str) -> tuple[int, int]:
        collateral, debt = self._call("position", self.market.functions.position(account))
        return int(collateral), int(debt)

    def h_maint_of(self, account: str) -> int:
        return int(self._view("h_maint_of", account))

    def quote(self, account: str, offered: int) -> tuple[int, int, int, int, int]:
        """`MarketLens.liquidation_quote`: what `liquidate(account, offered)` would do now, as
        (repaid, seized, bonus, bad_debt, debt_left); all zero when nothing can be liquidated (healthy, no
        price, or the hourly cap spent). A call that would leave dust reverts, as the market would."""
        return tuple(int(x) for x in self._view("liquidation_quote", account, offered))  # type: ignore[return-value]

    def ramping(self) -> bool:
        """A tightening of the maintenance ramp is under way: it advances only when the market is poked."""
        return bool(self._view("ramping"))

    def bonus(self) -> int:
        return model.RiskParams(*(int(x) for x in self._call("risk_params", self.market.functions.risk_params()))).bonus

    def price(self) -> int:
        """The oracle's price of the market's collateral (loan raw units per collateral raw unit, at
        model.PRICE_SCALE = 1e36)."""
        return int(self._call("the oracle's metrics", self.oracle.functions.metrics(self.asset_id))[0])

    def value(self, collateral: int) -> int:
        """The value of `collateral` raw units in loan raw units at the oracle's price (as the market
        computes it)."""
        return model.collateral_value(collateral, self.price())

    def read_position(self, account: str) -> dict:
        """The position of `account` from the market and the lens (raw integers, WAD where a ratio)."""
        from web3 import Web3

        if not Web3.is_address(account):
            raise BallastError(f"account '{account}' is not an address")
        account = Web3.to_checksum_address(account)
        collateral, debt = self.position(account)
        return {
            "account": account,
            "market": self.address,
            "collateral": collateral,
            "debt": debt,
            "price": self.price(),
            "health_factor": int(self._view("health_factor", account)),
            "h_init": int(self._view("h_init_of", account)),
            "h_maint": self.h_maint_of(account),
            "cr_init": int(self._view("required_ratio", collateral, True)),
            "cr_maint": int(self._view("required_ratio", collateral, False)),
            "max_borrowable": int(self._view("max_borrowable", account)),
            "liquidatable": bool(self._view("is_liquidatable", account)),
        }


def market_and_lens(provider, market: str | None, lens: str | None, deployments: str | None) -> tuple[str, str]:
    """The market and the MarketLens a command reads: the flags, or the deployments file `ape run deploy`
    wrote (`--deployments FILE`, by default deployments/<ecosystem>-<network>.json) for what is not
    given. One line when neither says."""
    from pathlib import Path

    from oracle import deploy as d

    if market and lens:
        return market, lens
    net = provider.network
    path = Path(deployments) if deployments else d.deployments_path(net.ecosystem.name, net.name)
    missing = " and ".join(x for x, v in (("--market", market), ("--lens", lens)) if not v)
    if not path.exists():
        raise BallastError(f"{missing}: not given, and no deployments file {path} to read it from "
                           "(pass --deployments FILE)")  # fmt: skip
    dep = d.read_deployment(path)
    if dep.chain_id != provider.chain_id:
        raise BallastError(f"{path} is for chain {dep.chain_id}, connected to chain {provider.chain_id}")
    if not lens and not dep.lens:
        raise BallastError(f"{path} names no MarketLens: run `ape run deploy` again (it adds one) or pass --lens")
    return market or dep.market, lens or dep.lens


# --- ballast position --------------------------------------------------------------------------


def _wad(x: int) -> str:
    return f"{x / WAD:.4f}"


def render(pos: dict, loan_decimals: int, coll_decimals: int, loan_symbol: str = "", coll_symbol: str = ""):
    from rich.table import Table

    def amount(raw, decimals, symbol):
        return f"{format_amount(raw, decimals)} {symbol}".rstrip()

    t = Table(title="Ballast position", show_header=False)
    t.add_row("account", pos["account"])
    t.add_row("collateral", amount(pos["collateral"], coll_decimals, coll_symbol))
    t.add_row("debt", amount(pos["debt"], loan_decimals, loan_symbol))
    price = model.price_to_human(pos["price"], loan_decimals, coll_decimals)
    t.add_row("oracle price", f"{price:,.6g} {loan_symbol} per {coll_symbol}".strip())
    hf = pos["health_factor"]
    t.add_row("health factor", "no debt" if hf >= NO_DEBT_HF else _wad(hf))
    t.add_row("H_init / CR_init", f"{_wad(pos['h_init'])} / {_wad(pos['cr_init'])}")
    t.add_row("H_maint / CR_maint", f"{_wad(pos['h_maint'])} / {_wad(pos['cr_maint'])}")
    t.add_row("max borrowable", amount(pos["max_borrowable"], loan_decimals, loan_symbol))
    t.add_row("liquidatable", "YES" if pos["liquidatable"] else "no")
    return t


@click.command(name="position")
@click.option("--network", "network_choice", required=True, help="ecosystem:network[:provider]")
@click.option("--rpc", default=None, help='RPC URL instead of ape-config.yaml\'s, e.g. --rpc "$SEPOLIA_RPC_URL"')
@click.option("--market", "market_address", default=None, help="Market address (default: the deployments file's)")
@click.option("--lens", "lens_address", default=None, help="MarketLens address (default: the deployments file's)")
@click.option("--deployments", type=click.Path(dir_okay=False), default=None,
              help="deployments JSON (default deployments/<ecosystem>-<network>.json)")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="print JSON (raw integers and the decimals) instead")
@click.argument("account")
def command(network_choice, rpc, market_address, lens_address, deployments, as_json, account):
    """Show a borrower's collateral, debt, health and required ratios (ACCOUNT: an address or an ape
    account alias)."""
    import warnings

    warnings.filterwarnings("ignore", message=".*import_remapping.*")
    from ape.logging import LogLevel, logger
    from rich.console import Console

    from oracle import deploy as d

    logger.set_level(LogLevel.ERROR)  # the output is the table (or the JSON) alone

    with d.connect(network_choice, rpc) as provider:
        from ape import project

        from oracle.accounts import address_of

        market_address, lens_address = market_and_lens(provider, market_address, lens_address, deployments)
        reader = MarketReader.of(project, market_address, lens_address)
        if not account.lower().startswith("0x"):  # an ape account alias (or TEST::N): its address
            account = address_of(account, local=d.is_local(provider.network.name))
        pos = reader.read_position(account)
        loan_dec, coll_dec = reader.decimals("loan"), reader.decimals("collateral")
        if as_json:
            click.echo(json.dumps({**pos, "loan_decimals": loan_dec, "collateral_decimals": coll_dec}))
            return
        Console().print(render(pos, loan_dec, coll_dec, reader.symbol("loan"), reader.symbol("collateral")))
