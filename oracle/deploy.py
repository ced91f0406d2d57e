"""Deploy a complete Ballast system with ape: the logic behind `ape run deploy`, the demo and the tests.

A deployment converges: `plan_system` compares what the config asks for with what the record
(deployments/<ecosystem>-<network>.json) and the chain already hold, and returns the steps that are
missing, each one line a user can read before anything is sent. On a fresh chain that is everything:
RiskOracle with its signer set and quorum, the (collateral, loan) asset pair and the guardian
(`wire_oracle`), the Market blueprint, FeedCheck, MarketFactory, one market with the default parameters
of `oracle.model` (`RiskParams()`, `RateParams()`) unless the config overrides them, its price feed when
the config names one, and a MarketLens (the views); on local chains and forks also two mock tokens and a
seeded ConstantProductPool. A second identical deploy finds every contract on chain and plans nothing:
it sends no transaction. A changed guardian, signer set, parameter or price feed plans only that call.
`Plan.run` sends the steps in order and saves the record after each one, so a deploy that fails halfway
resumes where it stopped. `deploy_system` (the tests) plans and runs on a fresh chain in one call.

`connect` turns the usual user mistakes (unknown network, unreachable RPC, a dead APE_FOUNDRY_HOST) into
`BallastError`, one line and a non-zero exit; accounts come from the one loader of every command,
`oracle.accounts`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oracle import model
from oracle.errors import BallastError

DEPLOYMENTS_DIR = Path("deployments")
LOCAL_NETWORKS = ("local",)

# Seeding of the local demo market (raw token units).
LOAN_DECIMALS = 6  # a USDC-like loan token
COLLATERAL_DECIMALS = 18  # a WETH-like collateral token
DEFAULT_PRICE = 2_000  # loan tokens per collateral token
POOL_COLLATERAL = 5_000  # collateral tokens seeded into the demo pool


@dataclass(frozen=True)
class PriceFeed:
    """A Chainlink-compatible feed that cross-checks the oracle's price for new risk
    (`Market.set_price_feed`); `feed` None removes it."""

    feed: str | None
    max_deviation: int = 2 * model.WAD // 100  # largest |oracle - feed| / feed (WAD, a multiple of 1e9)
    max_age: int = 3_600  # largest age of the feed's answer, seconds

    def as_tuple(self) -> tuple[str, int, int]:
        if self.feed is None:
            return ZERO_ADDRESS, 0, 0
        return self.feed, self.max_deviation, self.max_age

    @classmethod
    def from_dict(cls, data, source: str) -> PriceFeed:
        if data is None or (isinstance(data, str) and data.lower() == "none"):
            return cls(None)
        if not isinstance(data, dict):
            raise BallastError(f"{source}: price_feed: expected feed, max_deviation, max_age (or none)")
        bad = sorted(set(data) - {"feed", "max_deviation", "max_age"})
        if bad:
            raise BallastError(f"{source}: unknown price_feed field(s) {', '.join(bad)}")
        feed = data.get("feed")
        if feed is None or str(feed).lower() == "none":
            return cls(None)
        if not _is_address(str(feed)):
            raise BallastError(f"{source}: price_feed: feed {feed!r} is not an address")
        kw = {}
        for key in ("max_deviation", "max_age"):
            if key in data:
                try:
                    kw[key] = int(str(data[key]).replace("_", ""))
                except ValueError:
                    raise BallastError(f"{source}: price_feed: {key}: not an integer: {data[key]!r}") from None
        return cls(str(feed), **kw)


ZERO_ADDRESS = "0x" + "00" * 20


def _is_address(text: str) -> bool:
    from web3 import Web3

    return Web3.is_address(text)


def default_quorum(n: int) -> int:
    """More than half of the signers: the smallest quorum the oracle accepts."""
    return n // 2 + 1


@dataclass
class DeployConfig:
    """What a deployment may override (from `--config FILE`, JSON or YAML)."""

    signers: list[str] | None = None  # the oracle's signer set (addresses or ape aliases); default: the deployer
    quorum: int | None = None  # signatures a report needs; default: more than half of the signers
    guardian: str | None = None  # address or ape alias; default: the deployer
    loan_token: str | None = None  # required on live networks unless mock_tokens
    collateral_token: str | None = None
    mock_tokens: bool | None = None  # default: True on local chains and forks only
    pool: bool | None = None  # deploy a ConstantProductPool; default like mock_tokens
    price: int = DEFAULT_PRICE  # pool seed price, loan tokens per collateral token
    pool_collateral: int = POOL_COLLATERAL  # collateral tokens seeded into the pool
    market_name: str = "Ballast WETH/USDC"
    market_symbol: str = "bWETH-USDC"
    risk: model.RiskParams = field(default_factory=model.RiskParams)
    rates: model.RateParams = field(default_factory=model.RateParams)
    price_feed: PriceFeed | None = None  # None: the deploy leaves the market's feed as it is

    def signer_set(self, deployer: str, resolve=lambda name: name) -> tuple[list[str], int]:
        """The signers and the quorum this config asks for; `resolve` turns an alias into its address."""
        signers = [resolve(s) for s in self.signers] if self.signers else [deployer]
        return signers, self.quorum if self.quorum is not None else default_quorum(len(signers))

    @classmethod
    def load(cls, path: str | Path | None) -> DeployConfig:
        if path is None:
            return cls()
        p = Path(path)
        try:
            text = p.read_text()
        except OSError as exc:
            raise BallastError(f"cannot read config {p}: {exc.strerror}") from None
        try:
            if p.suffix in (".yaml", ".yml"):
                import yaml

                data = yaml.safe_load(text) or {}
            else:
                data = json.loads(text)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the user's file
            raise BallastError(f"cannot parse config {p}: {exc}".splitlines()[0]) from None
        return cls.from_dict(data, source=str(p))

    @classmethod
    def from_dict(cls, data: dict, source: str = "config") -> DeployConfig:
        if not isinstance(data, dict):
            raise BallastError(f"{source}: expected a mapping at the top level")
        if "keeper" in data:
            raise BallastError(
                f"{source}: 'keeper' is gone: the oracle takes reports signed by k of n signers; set "
                "`signers: [ADDRESS, ...]` (the keepers' accounts) and `quorum: K`"
            )
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BallastError(f"{source}: unknown key(s) {', '.join(unknown)}")
        kw = dict(data)
        for key, kind in (("risk", model.RiskParams), ("rates", model.RateParams)):
            if key in kw:
                sub = kw[key] or {}
                if not isinstance(sub, dict):
                    raise BallastError(f"{source}: {key}: expected a mapping of fields")
                names = {f.name for f in dataclasses.fields(kind)}
                bad = sorted(set(sub) - names)
                if bad:
                    raise BallastError(f"{source}: unknown {key} field(s) {', '.join(bad)}")
                try:
                    kw[key] = kind(**{k: int(str(v).replace("_", "")) for k, v in sub.items()})
                except (TypeError, ValueError) as exc:
                    raise BallastError(f"{source}: {key}: {exc}") from None
        if "signers" in kw:
            signers = kw["signers"]
            if isinstance(signers, str):
                signers = [part for part in signers.replace(",", " ").split() if part]
            if not isinstance(signers, list) or not signers:
                raise BallastError(f"{source}: signers: expected a list of addresses (or ape account aliases)")
            for a in signers:
                if not isinstance(a, str) or not a or (a.lower().startswith("0x") and not _is_address(a)):
                    raise BallastError(f"{source}: signers: {a!r} is not an address")
            kw["signers"] = list(signers)
        if kw.get("quorum") is not None:
            try:
                kw["quorum"] = int(kw["quorum"])
            except (TypeError, ValueError):
                raise BallastError(f"{source}: quorum: not an integer: {kw['quorum']!r}") from None
        if "price_feed" in kw:
            kw["price_feed"] = PriceFeed.from_dict(kw["price_feed"], source)
        return cls(**kw)


@dataclass
class Deployment:
    """Addresses of one deployed system (what the deployments JSON holds). Empty strings are contracts a
    deploy has not reached yet: `complete` is False until every step ran."""

    network: str  # ecosystem:network, e.g. ethereum:sepolia
    chain_id: int
    deployer: str
    oracle: str = ""
    market_blueprint: str = ""
    feed_check: str = ""
    factory: str = ""
    lens: str = ""
    market: str = ""
    loan_token: str = ""
    collateral_token: str = ""
    asset_id: int = 0
    signers: list[str] = field(default_factory=list)  # the oracle's signer set
    quorum: int = 0  # signatures a report needs
    guardian: str = ""
    pool: str | None = None
    price_feed: dict | None = None  # {feed, max_deviation, max_age} when the market has a feed
    block: int = 0  # the chain's head just before the first deploy (its events come after it)
    deployed_at: int = 0  # unix time of the first deploy
    risk: dict = field(default_factory=dict)
    rates: dict = field(default_factory=dict)
    complete: bool = True  # False while a deploy is under way (or stopped halfway: run it again)
    ephemeral: bool = False  # the node was started by ape for one run and is gone: so is this chain

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Deployment:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


# --- network and account -----------------------------------------------------------------------


def is_local(network_name: str) -> bool:
    """Local chains and forks get mock tokens and a demo pool."""
    return network_name in LOCAL_NETWORKS or network_name.endswith("-fork")


def deployments_path(ecosystem: str, network: str, root: Path | None = None) -> Path:
    """deployments/<ecosystem>-<network>.json; the local and fork ones are gitignored."""
    return (root or DEPLOYMENTS_DIR) / f"{ecosystem}-{network}.json"


def network_with_rpc(network_choice: str, rpc: str | None) -> tuple[str, dict[str, str]]:
    """The ape network choice that reaches `rpc`, and the environment it needs.

    On a live network: `ecosystem:network:URL`, ape's way to name an endpoint without ape-config.yaml
    (the network keeps its chain id, confirmations and gas settings). On `local`: the foundry provider
    with APE_FOUNDRY_HOST=URL (the node provider would sign for geth's dev chain id, not anvil's)."""
    if not rpc:
        return network_choice, {}
    parts = network_choice.split(":")
    if len(parts) < 2 or not all(parts[:2]):
        raise BallastError(f"unknown network '{network_choice}' (expected ecosystem:network[:provider])")
    if parts[1].endswith("-fork"):
        raise BallastError(
            f"--rpc does not apply to a fork ('{network_choice}'): a fork's upstream is the node uri of "
            "its network in ape-config.yaml"
        )
    if "://" not in rpc:
        raise BallastError(f"--rpc '{redact(rpc)}' is not a URL (expected http(s)://HOST[:PORT][/PATH])")
    if parts[1] == "local":
        return f"{parts[0]}:local:foundry", {"APE_FOUNDRY_HOST": rpc}
    return f"{parts[0]}:{parts[1]}:{rpc}", {}


def redact(uri: str) -> str:
    """An RPC URL fit for a log line or an error: scheme, host and port; a path or query (where providers
    put the API key) is replaced with `/...`."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<unparseable URL>"
    if not parts.scheme or not parts.netloc:
        return uri if "/" not in uri else uri.split("/", 1)[0] + "/..."
    host = parts.netloc.rsplit("@", 1)[-1]
    tail = "/..." if (parts.path.strip("/") or parts.query) else ""
    return f"{parts.scheme}://{host}{tail}"


def _answers(uri: str, timeout: float = 2.0) -> bool:
    """True when a JSON-RPC node answers eth_chainId at `uri`."""
    import urllib.request

    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    try:
        req = urllib.request.Request(uri, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status == 200
    except (OSError, ValueError):
        return False


def check_foundry_host(network_choice: str) -> None:
    """On a local foundry network, APE_FOUNDRY_HOST names a node the user started and means to keep:
    when nothing answers there, ape would start a new, empty anvil in its place and stop it at exit.
    Refuse in one line instead. (On a fork, APE_FOUNDRY_HOST is where ape starts the fork: not checked.)"""
    import os

    host = os.environ.get("APE_FOUNDRY_HOST")
    parts = network_choice.split(":")
    if not host or len(parts) < 2 or parts[1] != "local" or (len(parts) > 2 and parts[2] != "foundry"):
        return
    if not _answers(host):
        raise BallastError(
            f"nothing answers at APE_FOUNDRY_HOST={host}: start your node there (e.g. `anvil --port "
            "PORT`) or unset APE_FOUNDRY_HOST to let ape start a throwaway one"
        )


def started_by_ape(provider) -> bool:
    """True when ape launched this node for this run (and stops it, with its chain, at exit)."""
    return getattr(provider, "process", None) is not None


@contextlib.contextmanager
def connect(network_choice: str, rpc: str | None = None) -> Iterator[Any]:
    """Connect ape to `network_choice` (ecosystem:network[:provider]), or to the endpoint `rpc` on that
    network; one-line errors for the usual faults (an RPC URL is shown without its path or key)."""
    from ape import networks
    from ape.exceptions import ApeException, NetworkError

    choice, env = network_with_rpc(network_choice, rpc)
    os.environ.update(env)  # this process only: it is about to talk to that node
    shown = network_choice if not rpc else f"{network_choice} at {redact(rpc)}"
    check_foundry_host(choice)
    try:
        ctx = networks.parse_network_choice(choice, disconnect_after=True)
    except NetworkError as exc:
        reason = _first_line(exc).split(" Options:")[0]
        raise BallastError(
            f"unknown network '{network_choice}': {reason} (see `ape networks list`)"
        ) from None
    try:
        provider = ctx.__enter__()
    except (ApeException, OSError, ConnectionError) as exc:
        raise BallastError(f"cannot reach the RPC of '{shown}': {_hide(exc, rpc)}") from None
    except Exception as exc:  # noqa: BLE001 - providers raise many kinds on a dead endpoint
        raise BallastError(f"cannot reach the RPC of '{shown}': {_hide(exc, rpc)}") from None
    try:
        try:
            chain_id = provider.chain_id  # first real request: fails fast on a dead endpoint
        except Exception as exc:  # noqa: BLE001
            raise BallastError(f"cannot reach the RPC of '{shown}': {_hide(exc, rpc)}") from None
        if rpc:
            _check_chain_id(provider.network, chain_id, shown)
        yield provider
    finally:
        with contextlib.suppress(Exception):
            ctx.__exit__(None, None, None)


def _check_chain_id(network, chain_id: int, shown: str) -> None:
    """An --rpc URL must serve the network it is given for (a Sepolia key passed for mainnet, or a
    mainnet URL for `local`, would otherwise deploy or liquidate on the wrong chain)."""
    if is_local(network.name):
        if chain_id == 1:  # a dev chain may have any id, but never mainnet's
            raise BallastError(f"the RPC of '{shown}' serves chain 1 (mainnet), not a local chain")
        return
    known = getattr(network, "chain_id", None)
    if known is not None and int(known) != int(chain_id):
        raise BallastError(f"the RPC of '{shown}' serves chain {chain_id}, not {network.name} ({known})")


def _hide(exc: BaseException, rpc: str | None) -> str:
    text = _first_line(exc)
    return text.replace(rpc, redact(rpc)) if rpc else text


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def transact(contract, method: str, *args, sender):
    """`contract.method(*args)` sent by `sender` through ape, simulated first (eth_call over web3, with the
    compiled ABI): a call that would revert is one line with the contract's own message, and nothing is
    sent. (Through ape, a revert on a local node first prints the whole call trace.)"""
    from ape import chain

    from oracle.views import first_line

    abi = [item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in contract.contract_type.abi]
    w3 = chain.provider.web3
    call = getattr(w3.eth.contract(address=contract.address, abi=abi).functions, method)(*args)
    try:
        call.call({"from": sender.address})
    except Exception as exc:  # noqa: BLE001 - a revert, or a node that refuses the call
        raise BallastError(f"{method} would revert: {first_line(exc)}") from None
    return getattr(contract, method)(*args, sender=sender)


# --- deployment --------------------------------------------------------------------------------


def risk_tuple(p: model.RiskParams) -> tuple:
    """RiskParams in the field order of the Market's struct."""
    return dataclasses.astuple(p)


def rates_tuple(p: model.RateParams) -> tuple:
    return dataclasses.astuple(p)


def deploy_mock_token(project, deployer, name: str, symbol: str, decimals: int):
    return deployer.deploy(project.MockERC20, name, symbol, decimals)


def create_pool(project, deployer, token0, token1, amount0: int, amount1: int):
    """A ConstantProductPool(token0, token1) seeded by `deployer` (who mints the mock tokens) with the
    given raw reserves."""
    pool = deployer.deploy(project.ConstantProductPool, token0.address, token1.address)
    token0.mint(deployer, amount0, sender=deployer)
    token1.mint(deployer, amount1, sender=deployer)
    token0.approve(pool, amount0, sender=deployer)
    token1.approve(pool, amount1, sender=deployer)
    pool.add_liquidity(amount0, amount1, sender=deployer)
    return pool


def deploy_pool(project, deployer, loan, collateral, price: int, collateral_amount: int):
    """A ConstantProductPool between the two tokens, seeded at `price` with `collateral_amount` tokens."""
    coll_raw = collateral_amount * 10 ** collateral.decimals()
    loan_raw = collateral_amount * price * 10 ** loan.decimals()
    return create_pool(project, deployer, collateral, loan, coll_raw, loan_raw)


@dataclass
class Step:
    """One thing a deploy will do, said before it is done: `what` is the line the plan shows."""

    what: str
    run: Callable[[], None]


@dataclass
class Plan:
    """What a deploy will send, in order, and what it found. `dep` is the record it builds: reused
    addresses are there from the start, new ones are filled in as their steps run."""

    dep: Deployment
    steps: list[Step]
    notes: list[str] = field(default_factory=list)  # what was found and is kept
    stale: Deployment | None = None  # an existing record whose contracts are not on this chain

    def describe(self) -> list[str]:
        lines = [f"found: {note}" for note in self.notes]
        if self.stale is not None:
            lines.append(
                f"the existing record describes contracts that are not on this chain (oracle "
                f"{self.stale.oracle or '-'} on chain {self.stale.chain_id}, block {self.stale.block}): "
                "it will be kept beside the new one, not overwritten"
            )
        if self.steps:
            lines.append(f"plan: {len(self.steps)} step(s)")
            lines += [f"  {i}. {step.what}" for i, step in enumerate(self.steps, 1)]
        else:
            lines.append("plan: nothing to send")
        return lines

    def run(self, save: Callable[[Deployment], Any] | None = None, say=None) -> Deployment:
        """Send every step in order; `save(dep)` after each (a deploy stopped halfway resumes)."""
        from ape import chain

        tell = say or (lambda msg: None)
        self.dep.complete = False
        if not self.dep.block:  # a first deploy: its events start after this block
            self.dep.block = chain.blocks.head.number
            self.dep.deployed_at = int(time.time())
        for i, step in enumerate(self.steps, 1):
            tell(f"[{i}/{len(self.steps)}] {step.what}")
            step.run()
            if save is not None:
                save(self.dep)
        self.dep.complete = True
        if save is not None:
            save(self.dep)
        return self.dep


class _Build:
    """What the steps share at run time: the project, the deployer, the config, the record being built,
    and the contracts by role (known at plan time when found on chain, set by their step otherwise)."""

    def __init__(self, project, deployer, cfg: DeployConfig, dep: Deployment):
        self.project, self.deployer, self.cfg, self.dep = project, deployer, cfg, dep
        self.c: dict[str, Any] = {}
        self.notes: list[str] = []  # what was found on chain and is kept


def has_code(address: str | None) -> bool:
    from ape import chain

    if not address:
        return False
    try:
        return len(chain.provider.get_code(address)) > 0
    except Exception:  # noqa: BLE001 - a malformed address in a hand-edited record
        return False


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").lower() == (b or "").lower()


def plan_system(
    project,
    deployer,
    network: str,
    chain_id: int,
    cfg: DeployConfig | None = None,
    local: bool = True,
    record: Deployment | None = None,
) -> Plan:
    """The steps that bring this chain to what `cfg` asks for, reusing what `record` points at when it is
    on this chain. Reads only; sends nothing. `network` is ecosystem:network."""
    cfg = cfg or DeployConfig()
    use_mocks = cfg.mock_tokens if cfg.mock_tokens is not None else local
    use_pool = cfg.pool if cfg.pool is not None else use_mocks
    prior = record
    stale = None
    if record is not None and not (record.chain_id == chain_id and has_code(record.oracle)):
        prior, stale = None, record
    dep = Deployment(network=network, chain_id=chain_id, deployer=deployer.address)
    if prior is not None:
        dep.block, dep.deployed_at = prior.block, prior.deployed_at
    b = _Build(project, deployer, cfg, dep)
    notes = b.notes

    def found(role: str, address: str | None, container=None) -> bool:
        """Is the record's contract for `role` on chain? Then keep it (a contract object, or the
        address when `container` is None)."""
        if prior is not None and has_code(address):
            b.c[role] = container.at(address) if container is not None else address
            notes.append(f"{role} {address}")
            return True
        return False

    steps: list[Step] = []
    steps += _token_steps(b, prior, use_mocks, found)
    if use_pool and not found("pool", prior and prior.pool, project.ConstantProductPool):
        steps.append(Step(f"deploy ConstantProductPool seeded with {cfg.pool_collateral:,} collateral "
                          f"tokens at a price of {cfg.price:,}", lambda: _deploy_pool(b)))  # fmt: skip
    if "pool" in b.c:
        dep.pool = b.c["pool"].address
    steps += wire_oracle(b, prior, found)
    if not found("market_blueprint", prior and prior.market_blueprint):
        steps.append(Step("declare the Market blueprint (EIP-5202)", lambda: _declare_blueprint(b)))
    else:
        dep.market_blueprint = b.c["market_blueprint"]
    factory_ok = (
        "oracle" in b.c
        and "market_blueprint" in b.c
        and found("factory", prior and prior.factory, project.MarketFactory)
        and _same(b.c["factory"].ORACLE(), dep.oracle)
        and _same(b.c["factory"].MARKET_BLUEPRINT(), dep.market_blueprint)
    )
    if factory_ok:
        dep.factory = b.c["factory"].address
        dep.feed_check = str(b.c["factory"].FEED_CHECK())  # the one its markets call
    else:
        b.c.pop("factory", None)
        if found("feed_check", prior and prior.feed_check):
            dep.feed_check = b.c["feed_check"]
        else:
            steps.append(Step("deploy FeedCheck (the markets' price-feed checker)", lambda: _deploy_feed_check(b)))
        steps.append(Step("deploy MarketFactory(blueprint, oracle, feed_check)", lambda: _deploy_factory(b)))
    steps += _market_steps(b, factory_ok)
    if found("lens", prior and prior.lens):
        dep.lens = b.c["lens"]
    else:
        steps.append(Step("deploy MarketLens (health, positions and ramp views)", lambda: _deploy_lens(b)))
    return Plan(dep=dep, steps=steps, notes=notes, stale=stale)


def _token_steps(b: _Build, prior: Deployment | None, use_mocks: bool, found) -> list[Step]:
    cfg, dep = b.cfg, b.dep
    if use_mocks:
        steps = []
        for role, name, symbol, decimals in (
            ("loan_token", "Mock USD Coin", "mUSDC", LOAN_DECIMALS),
            ("collateral_token", "Mock Wrapped Ether", "mWETH", COLLATERAL_DECIMALS),
        ):
            if found(role, prior and getattr(prior, role), b.project.MockERC20):
                setattr(dep, role, b.c[role].address)
            else:
                steps.append(Step(f"deploy mock token {symbol} ({decimals} decimals)",
                                  _mock_token(b, role, name, symbol, decimals)))  # fmt: skip
        return steps
    if not (cfg.loan_token and cfg.collateral_token):
        raise BallastError(
            "loan_token and collateral_token must be set in --config on a live network "
            "(or set mock_tokens: true)"
        )
    if prior is not None and not (
        _same(prior.loan_token, cfg.loan_token) and _same(prior.collateral_token, cfg.collateral_token)
    ):
        raise BallastError(
            f"the record's market is for loan {prior.loan_token} / collateral {prior.collateral_token}, the "
            f"config names {cfg.loan_token} / {cfg.collateral_token}: record another market with --out FILE"
        )
    b.c["loan_token"] = _erc20_at(b.project, cfg.loan_token)
    b.c["collateral_token"] = _erc20_at(b.project, cfg.collateral_token)
    dep.loan_token, dep.collateral_token = b.c["loan_token"].address, b.c["collateral_token"].address
    return []


def wire_oracle(b: _Build, prior: Deployment | None, found) -> list[Step]:
    """The RiskOracle and its wiring, the ONE place that knows the oracle's constructor and admin calls:
    deploy it (guardian, signer set, quorum), register the (collateral, loan) pair as an asset, set the
    signer set and the guardian when they differ from the config. Each step is planned only when the
    chain does not have it already. Fills the record's `oracle`, `asset_id`, `signers`, `quorum` and
    `guardian`."""
    from oracle.accounts import address_of

    cfg, dep, deployer, project = b.cfg, b.dep, b.deployer, b.project
    local = is_local(dep.network.split(":")[-1])
    signers, quorum = cfg.signer_set(deployer.address, lambda name: address_of(name, local=local))
    guardian = address_of(cfg.guardian, local=local) if cfg.guardian else deployer.address
    dep.signers, dep.quorum, dep.guardian = signers, quorum, guardian

    def deploy_oracle():
        b.c["oracle"] = _deploy(project.RiskOracle, deployer, guardian, signers, quorum)
        dep.oracle = b.c["oracle"].address

    def add_asset():
        oracle = b.c["oracle"]
        transact(oracle, "add_asset", dep.collateral_token, dep.loan_token, sender=deployer)
        dep.asset_id = int(oracle.asset_id(dep.collateral_token, dep.loan_token))

    def set_signers():
        transact(b.c["oracle"], "configure_signers", signers, quorum, sender=deployer)

    steps: list[Step] = []
    if not found("oracle", prior and prior.oracle, project.RiskOracle):
        steps.append(Step(f"deploy RiskOracle(guardian={guardian}, {len(signers)} signer(s), quorum {quorum})",
                          deploy_oracle))  # fmt: skip
        steps.append(Step("add_asset(collateral token, loan token)", add_asset))
        return steps
    oracle = b.c["oracle"]
    dep.oracle = oracle.address
    asset_id = 0
    if dep.collateral_token and dep.loan_token:
        asset_id = int(oracle.asset_id(dep.collateral_token, dep.loan_token))
    if asset_id:
        dep.asset_id = asset_id
    else:
        steps.append(Step("add_asset(collateral token, loan token)", add_asset))
    on_chain = [str(a) for a in oracle.signers()]
    on_quorum = int(oracle.quorum())
    if [a.lower() for a in on_chain] != [a.lower() for a in signers] or on_quorum != quorum:
        steps.append(Step(
            f"configure_signers({', '.join(signers)}; quorum {quorum}) (was {len(on_chain)} signer(s), quorum "
            f"{on_quorum}; a new epoch: updates pending under the old set can no longer apply)", set_signers))  # fmt: skip
    if not _same(oracle.guardian(), guardian):
        steps.append(Step(f"set_guardian({guardian})",
                          lambda: transact(oracle, "set_guardian", guardian, sender=deployer)))  # fmt: skip
    return steps


def _market_steps(b: _Build, factory_found: bool) -> list[Step]:
    cfg, dep, deployer = b.cfg, b.dep, b.deployer
    dep.risk = {k: str(v) for k, v in dataclasses.asdict(cfg.risk).items()}
    dep.rates = {k: str(v) for k, v in dataclasses.asdict(cfg.rates).items()}
    feed = cfg.price_feed
    market_address = None
    if factory_found and dep.loan_token and dep.collateral_token:
        found_at = str(b.c["factory"].market_for(dep.loan_token, dep.collateral_token))
        if int(found_at, 16):
            market_address = found_at
    if market_address is None:

        def create():
            factory = b.c["factory"]
            transact(factory, "create_market", dep.loan_token, dep.collateral_token, dep.asset_id,
                     risk_tuple(cfg.risk), rates_tuple(cfg.rates), cfg.market_name, cfg.market_symbol,
                     sender=deployer)  # fmt: skip
            dep.market = str(factory.market_for(dep.loan_token, dep.collateral_token))

        steps = [Step(f"create_market '{cfg.market_name}' ({cfg.market_symbol}) with the config's parameters",
                      create)]  # fmt: skip
        if feed is not None and feed.feed is not None:
            steps.append(_feed_step(b, feed))
        dep.price_feed = _feed_record(feed.as_tuple()) if feed is not None else None
        return steps
    market = b.project.Market.at(market_address)
    dep.market = market.address
    b.notes.append(f"market {market.address}")
    steps = []
    current_risk = model.RiskParams(*(int(x) for x in market.risk_params()))
    if current_risk != cfg.risk:
        changed = _changed(current_risk, cfg.risk)
        steps.append(Step(f"set_risk_params({changed})",
                          lambda: transact(market, "set_risk_params", risk_tuple(cfg.risk), sender=deployer)))  # fmt: skip
    current_rates = model.RateParams(*(int(x) for x in market.rate_params()))
    if current_rates != cfg.rates:
        changed = _changed(current_rates, cfg.rates)
        steps.append(Step(f"set_rate_params({changed})",
                          lambda: transact(market, "set_rate_params", rates_tuple(cfg.rates),
                                           sender=deployer)))  # fmt: skip
    on_chain = price_feed_of(market)
    current = (str(on_chain[0]), int(on_chain[1]), int(on_chain[2]))
    dep.price_feed = _feed_record(current)
    if feed is not None and not _same_feed(current, feed.as_tuple()):
        steps.append(_feed_step(b, feed, market))
        dep.price_feed = _feed_record(feed.as_tuple())
    return steps


def _feed_record(feed: tuple[str, int, int]) -> dict | None:
    """The record's `price_feed`: None without a feed."""
    address, max_deviation, max_age = feed
    if not int(address, 16):
        return None
    return {"feed": address, "max_deviation": str(max_deviation), "max_age": int(max_age)}


def _same_feed(a: tuple[str, int, int], b: tuple[str, int, int]) -> bool:
    if not int(a[0], 16) and not int(b[0], 16):
        return True
    return _same(a[0], b[0]) and (a[1], a[2]) == (b[1], b[2])


def _feed_step(b: _Build, feed: PriceFeed, market=None) -> Step:
    def run():
        m = market if market is not None else b.project.Market.at(b.dep.market)
        transact(m, "set_price_feed", *feed.as_tuple(), sender=b.deployer)

    if feed.feed is None:
        return Step("set_price_feed(none): remove the market's price feed", run)
    return Step(f"set_price_feed({feed.feed}, max_deviation {feed.max_deviation}, max_age {feed.max_age} s)", run)


def _changed(old, new) -> str:
    a, b = dataclasses.asdict(old), dataclasses.asdict(new)
    return ", ".join(f"{k}: {a[k]} -> {b[k]}" for k in a if a[k] != b[k])


def _mock_token(b: _Build, role: str, name: str, symbol: str, decimals: int) -> Callable[[], None]:
    def run():
        b.c[role] = deploy_mock_token(b.project, b.deployer, name, symbol, decimals)
        setattr(b.dep, role, b.c[role].address)

    return run


def _deploy_pool(b: _Build) -> None:
    pool = deploy_pool(b.project, b.deployer, b.c["loan_token"], b.c["collateral_token"], b.cfg.price,
                       b.cfg.pool_collateral)  # fmt: skip
    b.c["pool"] = pool
    b.dep.pool = pool.address


def _declare_blueprint(b: _Build) -> None:
    # sender=: the gas estimate runs from the deployer; without it, from the zero address, which a
    # live node refuses as soon as gas has a price ("Insufficient funds for gas * price + value").
    receipt = b.deployer.declare(b.project.Market, sender=b.deployer)
    b.c["market_blueprint"] = b.dep.market_blueprint = receipt.contract_address


def _deploy(container, deployer, *args):
    """`deployer.deploy(container, *args)`, simulated first: a constructor that would revert (a signer set
    the oracle refuses, ...) is one line with the contract's message, and nothing is sent."""
    from ape import chain

    from oracle.views import first_line

    ct = container.contract_type
    abi = [item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in ct.abi]
    w3 = chain.provider.web3
    tx = w3.eth.contract(abi=abi, bytecode=ct.deployment_bytecode.bytecode).constructor(*args)
    try:
        tx.estimate_gas({"from": deployer.address})
    except Exception as exc:  # noqa: BLE001 - a revert, or a node that refuses the call
        raise BallastError(f"{ct.name} constructor would revert: {first_line(exc)}") from None
    return deployer.deploy(container, *args)


def _deploy_feed_check(b: _Build) -> None:
    b.c["feed_check"] = b.dep.feed_check = _deploy(b.project.FeedCheck, b.deployer).address


def _deploy_factory(b: _Build) -> None:
    b.c["factory"] = _deploy(b.project.MarketFactory, b.deployer, b.dep.market_blueprint, b.dep.oracle,
                             b.dep.feed_check)  # fmt: skip
    b.dep.factory = b.c["factory"].address


def _deploy_lens(b: _Build) -> None:
    b.c["lens"] = b.dep.lens = _deploy(b.project.MarketLens, b.deployer).address


def deploy_system(
    project,
    deployer,
    network: str,
    chain_id: int,
    cfg: DeployConfig | None = None,
    local: bool = True,
    log=None,
) -> Deployment:
    """Plan and run a whole deployment on a chain without a record (the tests); returns the
    addresses. `network` is ecosystem:network."""
    plan = plan_system(project, deployer, network, chain_id, cfg, local=local)
    dep = plan.run(say=None)
    say = log or (lambda msg: None)
    say(f"mock tokens: loan {dep.loan_token}, collateral {dep.collateral_token}")
    if dep.pool:
        say(f"pool: {dep.pool}")
    say(f"RiskOracle: {dep.oracle} ({len(dep.signers)} signer(s), quorum {dep.quorum})")
    say(f"Market blueprint: {dep.market_blueprint}")
    say(f"MarketFactory: {dep.factory}")
    say(f"Market: {dep.market}")
    say(f"MarketLens: {dep.lens}")
    return dep


def _erc20_at(project, address: str):
    """An ERC-20 of the live network through the project's ERC-20 ABI (ape's `Contract(address)` would
    need an explorer plugin to learn its type); one line when there is no token there."""
    from web3 import Web3

    from oracle.views import abi_of, first_line

    if not Web3.is_address(address):
        raise BallastError(f"token {address} is not an address")
    if not has_code(address):
        raise BallastError(f"no token contract at {address} on this chain")
    from ape import chain

    w3 = chain.provider.web3
    token = w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi_of(project, "MockERC20"))
    try:
        token.functions.decimals().call()
    except Exception as exc:  # noqa: BLE001
        raise BallastError(f"{address} does not answer decimals(): not an ERC-20? ({first_line(exc)})") from None
    return project.MockERC20.at(address)


def write_deployment(dep: Deployment, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(dep.to_json(), indent=2) + "\n")
    tmp.replace(path)  # never a half-written record
    return path


def read_deployment(path: Path) -> Deployment:
    try:
        data = json.loads(Path(path).read_text())
        if not isinstance(data, dict):
            raise TypeError("expected a JSON object")
        return Deployment.from_json(data)
    except OSError as exc:
        raise BallastError(f"cannot read deployments file {path}: {exc.strerror}") from None
    except (ValueError, TypeError) as exc:
        raise BallastError(f"bad deployments file {path}: {_first_line(exc)}") from None


def keep_aside(path: Path, dep: Deployment) -> Path:
    """Move a record of contracts that are not on this chain out of the way (never overwrite it):
    <name>.stale-chain<id>-block<n>[-k].json beside it. Returns the new path."""
    stem = path.name.removesuffix(".json")
    for k in range(1000):
        suffix = f"-{k}" if k else ""
        target = path.with_name(f"{stem}.stale-chain{dep.chain_id}-block{dep.block}{suffix}.json")
        if not target.exists():
            path.replace(target)
            return target
    raise BallastError(f"too many stale records beside {path}")


# --- configuration after deployment (scripts/configure.py) ---------------------------------------


def parse_assignments(pairs: tuple[str, ...], kind, what: str) -> dict[str, int]:
    """FIELD=INT pairs for a parameter dataclass, e.g. ("z_init=3000000000000000000",)."""
    names = {f.name for f in dataclasses.fields(kind)}
    out: dict[str, int] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or key not in names:
            raise BallastError(f"--{what} expects FIELD=INTEGER with FIELD one of {', '.join(sorted(names))}")
        try:
            out[key] = int(raw.replace("_", ""))
        except ValueError:
            raise BallastError(f"--{what} {key}: not an integer: {raw!r}") from None
    return out


def configure_system(
    project,
    admin,
    dep: Deployment,
    *,
    signers: list[str] | None = None,
    quorum: int | None = None,
    guardian: str | None = None,
    risk: dict[str, int] | None = None,
    rates: dict[str, int] | None = None,
    guard: dict[str, int] | None = None,
    price_feed: PriceFeed | None = None,
    log=None,
) -> list[str]:
    """Apply admin changes to a deployed system; returns what was done. Unchanged fields keep their
    on-chain values (read first), so a change names only what it changes: `signers` alone keeps the
    quorum, `quorum` alone keeps the signers (both go out in one `configure_signers`)."""
    say = log or (lambda msg: None)
    oracle = project.RiskOracle.at(dep.oracle)
    market = project.Market.at(dep.market)
    done: list[str] = []
    if signers is not None or quorum is not None:
        new_signers = list(signers) if signers is not None else [str(a) for a in oracle.signers()]
        new_quorum = quorum if quorum is not None else int(oracle.quorum())
        transact(oracle, "configure_signers", new_signers, new_quorum, sender=admin)
        done.append(f"signers {', '.join(new_signers)}; quorum {new_quorum} (epoch {int(oracle.epoch())})")
    if guardian:
        transact(oracle, "set_guardian", guardian, sender=admin)
        done.append(f"guardian {guardian}")
    if guard:
        current = model.GuardParams(*(int(x) for x in oracle.guard_params()))
        new = dataclasses.replace(current, **guard)
        transact(oracle, "set_guard_params", *dataclasses.astuple(new), sender=admin)
        done.append(f"guard params {new}")
    if risk:
        current = model.RiskParams(*(int(x) for x in market.risk_params()))
        new = dataclasses.replace(current, **risk)
        transact(market, "set_risk_params", risk_tuple(new), sender=admin)
        done.append(f"risk params {new}")
    if rates:
        current = model.RateParams(*(int(x) for x in market.rate_params()))
        new = dataclasses.replace(current, **rates)
        transact(market, "set_rate_params", rates_tuple(new), sender=admin)
        done.append(f"rate params {new}")
    if price_feed is not None:
        transact(market, "set_price_feed", *price_feed.as_tuple(), sender=admin)
        if price_feed.feed is None:
            done.append("price feed removed")
        else:
            done.append(f"price feed {price_feed.feed} (max_deviation {price_feed.max_deviation}, "
                        f"max_age {price_feed.max_age} s)")  # fmt: skip
    for line in done:
        say(line)
    return done


def price_feed_of(market) -> tuple[str, int, int]:
    """(feed, max_deviation WAD, max_age s) of a market, decoded from `state().feed_word` (the same
    decoding as `MarketLens.price_feed`); the zero address when it has no feed."""
    w = int(market.state().feed_word)
    if w == 0:
        return ZERO_ADDRESS, 0, 0
    from eth_utils import to_checksum_address

    return to_checksum_address((w >> 96).to_bytes(20, "big")), ((w >> 40) & (2**32 - 1)) * 10**9, (w >> 8) & (2**32 - 1)


def refresh_record(project, dep: Deployment) -> Deployment:
    """The record with what `ape run configure` may change read back from the chain: signers, quorum,
    guardian, the market's parameters and its price feed (the record follows the chain)."""
    oracle, market = project.RiskOracle.at(dep.oracle), project.Market.at(dep.market)
    risk = model.RiskParams(*(int(x) for x in market.risk_params()))
    rates = model.RateParams(*(int(x) for x in market.rate_params()))
    feed = price_feed_of(market)
    return dataclasses.replace(
        dep,
        signers=[str(a) for a in oracle.signers()],
        quorum=int(oracle.quorum()),
        guardian=str(oracle.guardian()),
        risk={k: str(v) for k, v in dataclasses.asdict(risk).items()},
        rates={k: str(v) for k, v in dataclasses.asdict(rates).items()},
        price_feed=_feed_record((str(feed[0]), int(feed[1]), int(feed[2]))),
    )
