"""The `ballast` command. Subcommands live in their own modules and are imported only when used,
so `ballast backtest` does not pay for ape's start-up."""

from __future__ import annotations

import importlib
import sys

import click

# name -> "module:attribute" of a click command or group
COMMANDS = {
    "backtest": "oracle.backtest:command",
    "keeper": "oracle.keeper:command",
    "bot": "oracle.liquidator:command",
    "demo": "oracle.demo:command",
    "position": "oracle.views:command",
    "stress": "oracle.stress:command",
}
BENCH_COMMANDS = {
    "gas": "oracle.bench_gas:command",
    "backtest": "oracle.backtest:bench_command",
    "stress": "oracle.stress:bench_command",
    "scan": "oracle.bench_scan:scan_command",
}


class LazyGroup(click.Group):
    def __init__(self, *args, lazy: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx, name):
        if name in self.lazy:
            module_name, attr = self.lazy[name].split(":")
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name == module_name:
                    return None
                raise
            return getattr(module, attr)
        return super().get_command(ctx, name)


@click.group(cls=LazyGroup, lazy=COMMANDS)
@click.version_option(package_name="ballast")
def main():
    """Ballast: dynamic-collateral lending. Keeper, backtest, demo and benchmarks."""


@main.group(cls=LazyGroup, lazy=BENCH_COMMANDS)
def bench():
    """Benchmarks: gas of every operation, backtest and stress speed."""


def run() -> None:  # pragma: no cover - console entry for python -m
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
