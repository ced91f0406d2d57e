"""Deploy a complete Ballast system with ape: the logic behind `ape run deploy`, the demo and the tests.

One call, `deploy_system`, deploys RiskOracle, the Market blueprint and MarketFactory, registers the
collateral asset, sets keeper and guardian, and creates one market with the default parameters of
`oracle.model` (`RiskParams()`, `RateParams()`) unless a config overrides them. On local chains and
forks it also deploys two mock tokens and a ConstantProductPool seeded with liquidity, so that the
system has a market to observe.

`connect` turns the usual user mistakes (unknown network, unreachable RPC) into `BallastError`, one line
and a non-zero exit; accounts come from the one loader of every command, `oracle.accounts`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Iterator
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


@dataclass
class DeployConfig:
    """What a deployment may override (from `--config FILE`, JSON or YAML)."""

    keeper: str | None = None  # address; default: the deployer
    guardian: str | None = None  # address; default: the deployer
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
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BallastError(f"{source}: unknown key(s) {', '.join(unknown)}")
        kw = dict(data)
        for key, kind in (("risk", model.RiskParams), ("rates", model.RateParams)):
            if key in kw:
                sub = kw[key] or {}
                names = {f.name for f in dataclasses.fields(kind)}
                bad = sorted(set(sub) - names)
                if bad:
                    raise BallastError(f"{source}: unknown {key} field(s) {', '.join(bad)}")
                try:
                    kw[key] = kind(**{k: int(v) for k, v in sub.items()})
                except (TypeError, ValueError) as exc:
                    raise BallastError(f"{source}: {key}: {exc}") from None
        return cls(**kw)


@dataclass
class Deployment:
    """Addresses of one deployed system (what the deployments JSON holds)."""

    network: str  # ecosystem:network, e.g. ethereum:sepolia
    chain_id: int
    deployer: str
    oracle: str
    market_blueprint: str
    factory: str
    market: str
    loan_token: str
    collateral_token: str
    asset_id: int
    keeper: str
    guardian: str
    pool: str | None = None
    block: int = 0
    deployed_at: int = 0
    risk: dict = field(default_factory=dict)
    rates: dict = field(default_factory=dict)

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


@contextlib.contextmanager
def connect(network_choice: str) -> Iterator[Any]:
    """Connect ape to `network_choice` (ecosystem:network[:provider]); clear errors for the usual faults."""
    from ape import networks
    from ape.exceptions import ApeException, NetworkError

    try:
        ctx = networks.parse_network_choice(network_choice, disconnect_after=True)
    except NetworkError as exc:
        reason = _first_line(exc).split(" Options:")[0]
        raise BallastError(
            f"unknown network '{network_choice}': {reason} (see `ape networks list`)"
        ) from None
    try:
        provider = ctx.__enter__()
    except (ApeException, OSError, ConnectionError) as exc:
        raise BallastError(f"cannot reach the RPC of '{network_choice}': {_first_line(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - providers raise many kinds on a dead endpoint
        raise BallastError(f"cannot reach the RPC of '{network_choice}': {_first_line(exc)}") from None
    try:
        try:
            provider.chain_id  # noqa: B018 - first real request: fails fast on a dead endpoint
        except Exception as exc:  # noqa: BLE001
            raise BallastError(f"cannot reach the RPC of '{network_choice}': {_first_line(exc)}") from None
        yield provider
    finally:
        with contextlib.suppress(Exception):
            ctx.__exit__(None, None, None)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


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


def deploy_system(
    project,
    deployer,
    network: str,
    chain_id: int,
    cfg: DeployConfig | None = None,
    local: bool = True,
    log=None,
) -> Deployment:
    """Deploy and wire everything; returns the addresses. `network` is ecosystem:network."""
    cfg = cfg or DeployConfig()
    say = log or (lambda msg: None)
    use_mocks = cfg.mock_tokens if cfg.mock_tokens is not None else local
    use_pool = cfg.pool if cfg.pool is not None else use_mocks

    if use_mocks:
        loan = deploy_mock_token(project, deployer, "Mock USD Coin", "mUSDC", LOAN_DECIMALS)
        collateral = deploy_mock_token(project, deployer, "Mock Wrapped Ether", "mWETH", COLLATERAL_DECIMALS)
        say(f"mock tokens: loan {loan.address}, collateral {collateral.address}")
    else:
        if not (cfg.loan_token and cfg.collateral_token):
            raise BallastError(
                "loan_token and collateral_token must be set in --config on a live network "
                "(or set mock_tokens: true)"
            )
        loan = _erc20_at(cfg.loan_token)
        collateral = _erc20_at(cfg.collateral_token)

    pool = None
    if use_pool:
        pool = deploy_pool(project, deployer, loan, collateral, cfg.price, cfg.pool_collateral)
        say(f"pool: {pool.address}")

    keeper = cfg.keeper or deployer.address
    guardian = cfg.guardian or deployer.address
    oracle = deployer.deploy(project.RiskOracle, guardian)
    say(f"RiskOracle: {oracle.address}")
    # sender=: the gas estimate runs from the deployer; without it, from the zero address, which a
    # live node refuses as soon as gas has a price ("Insufficient funds for gas * price + value").
    blueprint = deployer.declare(project.Market, sender=deployer).contract_address
    say(f"Market blueprint: {blueprint}")
    factory = deployer.deploy(project.MarketFactory, blueprint, oracle.address)
    say(f"MarketFactory: {factory.address}")

    oracle.add_asset(collateral.address, sender=deployer)
    asset_id = oracle.asset_id(collateral.address)
    oracle.set_keeper(keeper, True, sender=deployer)
    if guardian != oracle.guardian():
        oracle.set_guardian(guardian, sender=deployer)

    factory.create_market(
        loan.address,
        collateral.address,
        asset_id,
        risk_tuple(cfg.risk),
        rates_tuple(cfg.rates),
        cfg.market_name,
        cfg.market_symbol,
        sender=deployer,
    )
    market = factory.market_for(loan.address, collateral.address)
    say(f"Market: {market}")

    from ape import chain

    return Deployment(
        network=network,
        chain_id=chain_id,
        deployer=deployer.address,
        oracle=oracle.address,
        market_blueprint=blueprint,
        factory=factory.address,
        market=market,
        loan_token=loan.address,
        collateral_token=collateral.address,
        asset_id=int(asset_id),
        keeper=keeper,
        guardian=guardian,
        pool=pool.address if pool is not None else None,
        block=chain.blocks.head.number,
        deployed_at=int(time.time()),
        risk={k: str(v) for k, v in dataclasses.asdict(cfg.risk).items()},
        rates={k: str(v) for k, v in dataclasses.asdict(cfg.rates).items()},
    )


def _erc20_at(address: str):
    from ape import Contract

    try:
        return Contract(address)
    except Exception as exc:  # noqa: BLE001
        raise BallastError(f"no token contract at {address}: {_first_line(exc)}") from None


def write_deployment(dep: Deployment, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dep.to_json(), indent=2) + "\n")
    return path


def read_deployment(path: Path) -> Deployment:
    try:
        return Deployment.from_json(json.loads(Path(path).read_text()))
    except OSError as exc:
        raise BallastError(f"cannot read deployments file {path}: {exc.strerror}") from None
    except (ValueError, TypeError) as exc:
        raise BallastError(f"bad deployments file {path}: {exc}") from None


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
    keepers_on: tuple[str, ...] = (),
    keepers_off: tuple[str, ...] = (),
    guardian: str | None = None,
    risk: dict[str, int] | None = None,
    rates: dict[str, int] | None = None,
    guard: dict[str, int] | None = None,
    log=None,
) -> list[str]:
    """Apply admin changes to a deployed system; returns what was done. Unchanged fields keep their
    on-chain values (read first), so a change names only what it changes."""
    say = log or (lambda msg: None)
    oracle = project.RiskOracle.at(dep.oracle)
    market = project.Market.at(dep.market)
    done: list[str] = []
    for account in keepers_on:
        oracle.set_keeper(account, True, sender=admin)
        done.append(f"keeper {account} enabled")
    for account in keepers_off:
        oracle.set_keeper(account, False, sender=admin)
        done.append(f"keeper {account} disabled")
    if guardian:
        oracle.set_guardian(guardian, sender=admin)
        done.append(f"guardian {guardian}")
    if guard:
        current = model.GuardParams(*(int(x) for x in oracle.guard_params()))
        new = dataclasses.replace(current, **guard)
        oracle.set_guard_params(*dataclasses.astuple(new), sender=admin)
        done.append(f"guard params {new}")
    if risk:
        current = model.RiskParams(*(int(x) for x in market.risk_params()))
        new = dataclasses.replace(current, **risk)
        market.set_risk_params(risk_tuple(new), sender=admin)
        done.append(f"risk params {new}")
    if rates:
        current = model.RateParams(*(int(x) for x in market.rate_params()))
        new = dataclasses.replace(current, **rates)
        market.set_rate_params(rates_tuple(new), sender=admin)
        done.append(f"rate params {new}")
    for line in done:
        say(line)
    return done
