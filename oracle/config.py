"""Config files for the long-running commands (`ballast keeper run`, `ballast bot run`): TOML or YAML,
one section per command, keys named like the command's flags, environment overrides for secrets.

```toml
# ballast.toml
[bot]
network = "ethereum:sepolia:node"
account = "liquidator"          # passphrase: BALLAST_PASSPHRASE or APE_ACCOUNTS_liquidator_PASSPHRASE
market = "0x..."
interval = 12
metrics-port = 9465             # or metrics_port
# rpc: keep the URL (it carries a key) out of the file: BALLAST_BOT_RPC=https://... in the environment
```

Precedence, highest first: a flag on the command line; the environment (`BALLAST_<SECTION>_<KEY>`, e.g.
`BALLAST_BOT_RPC`, `BALLAST_BOT_METRICS_PORT`); the file; the flag's default. So the file holds the
settings of a deployment, the environment its secrets, and a flag changes one thing for one run.

Values are checked with the same types as the flags. A missing file, a parse error, an unknown section
or key, or a value of the wrong type is one line (`BallastError`), naming the file and the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from oracle.errors import BallastError

SECTIONS = ("keeper", "bot")  # the commands that read a config file: a file may hold all of them
ENV_PREFIX = "BALLAST"
NOT_FROM_FILE = {"config", "help"}  # options a file cannot set


def env_name(section: str, key: str) -> str:
    """`BALLAST_BOT_METRICS_PORT` for section `bot`, key `metrics-port` / `metrics_port`."""
    return f"{ENV_PREFIX}_{section}_{key}".upper().replace("-", "_")


def read_file(path: str | os.PathLike) -> dict:
    """The file's top-level mapping: TOML (`.toml`) or YAML (`.yaml`, `.yml`)."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise BallastError(f"cannot read config {p}: {exc.strerror or exc}") from None
    suffix = p.suffix.lower()
    try:
        if suffix == ".toml":
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10
                try:
                    import tomli as tomllib  # type: ignore[no-redef]
                except ModuleNotFoundError:
                    raise BallastError(f"{p}: TOML needs Python 3.11 (or tomli); use YAML") from None
            data = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            raise BallastError(f"config {p}: unknown format '{suffix or '(none)'}' (use .toml or .yaml)")
    except BallastError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parse failure is the user's file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BallastError(f"cannot parse config {p}: {first}") from None
    if not isinstance(data, dict):
        raise BallastError(f"config {p}: expected sections like [bot] at the top level")
    return data


def section_values(data: dict, section: str, source: str) -> dict:
    """The `[section]` table of a parsed file (empty when absent); other known sections are ignored,
    unknown ones are an error (a typo would silently do nothing)."""
    unknown = sorted(k for k in data if k not in SECTIONS)
    if unknown:
        raise BallastError(
            f"config {source}: unknown section(s) {', '.join(unknown)} (known: {', '.join(SECTIONS)})"
        )
    values = data.get(section) or {}
    if not isinstance(values, dict):
        raise BallastError(f"config {source}: [{section}] must be a table of settings")
    return values


def options_by_key(command: click.Command) -> dict[str, click.Option]:
    """The options a file may set, by key: the long flag without dashes (`--metrics-port` ->
    `metrics_port`), whatever the parameter is called inside the command."""
    out: dict[str, click.Option] = {}
    for param in command.params:
        if not isinstance(param, click.Option) or param.name in NOT_FROM_FILE:
            continue
        longs = [opt for opt in param.opts if opt.startswith("--")]
        key = (longs[0][2:] if longs else str(param.name)).replace("-", "_")
        out[key] = param
    return out


def resolve(command: click.Command, section: str, path: str | None, ctx: click.Context) -> dict[str, Any]:
    """Defaults for `command`'s parameters from the file's `[section]` and the environment, converted and
    checked with each parameter's own type. Keys are the flags' names (`metrics-port`, `metrics_port`)."""
    params = options_by_key(command)
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    if path is not None:
        raw = section_values(read_file(path), section, str(path))
        for key, value in raw.items():
            name = str(key).replace("-", "_")
            if name not in params:
                known = ", ".join(sorted(n.replace("_", "-") for n in params))
                raise BallastError(f"config {path}: [{section}] unknown key '{key}' (known: {known})")
            values[name], origin[name] = value, f"config {path}: [{section}] {key}"
    for name, param in params.items():
        env = env_name(section, name)
        if env in os.environ:
            raw_env: Any = os.environ[env]
            if param.multiple:
                raw_env = [part for part in raw_env.replace(",", " ").split() if part]
            values[name], origin[name] = raw_env, f"environment {env}"
    out: dict[str, Any] = {}
    for key, value in values.items():
        param = params[key]
        if param.multiple and not isinstance(value, (list, tuple)):
            value = [value]
        if not param.multiple and isinstance(value, (list, tuple, dict)):
            raise BallastError(f"{origin[key]}: expected a single value, not {type(value).__name__}")
        try:
            out[str(param.name)] = param.type_cast_value(ctx, value)
        except click.BadParameter as exc:
            raise BallastError(f"{origin[key]}: {exc.message}") from None
    return out


def config_option(section: str):
    """`--config FILE` for a click command: read first (eager), it fills the command's defaults from the
    file's `[section]` and the environment, so that flags still win and required options may come
    from the file. Without --config, the environment alone still applies."""

    def callback(ctx: click.Context, _param: click.Parameter, value: str | None):
        defaults = resolve(ctx.command, section, value, ctx)
        ctx.default_map = {**(ctx.default_map or {}), **defaults}
        return value

    return click.option(
        "--config",
        type=click.Path(dir_okay=False),
        default=None,
        is_eager=True,
        expose_value=False,
        callback=callback,
        help=f"TOML or YAML file with a [{section}] table of these options (flags win; env "
        f"{ENV_PREFIX}_{section.upper()}_<OPTION> wins over the file)",
    )
