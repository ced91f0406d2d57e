"""oracle.config: a [section] of a TOML or YAML file fills a command's options; the environment overrides
the file; flags win over both; every mistake is one line."""

import json

import click
import pytest
from click.testing import CliRunner

from oracle.config import config_option, env_name
from oracle.errors import BallastError


@click.command()
@config_option("bot")
@click.option("--network", "network_choice", required=True)  # keys are the flags' names
@click.option("--rpc", multiple=True)
@click.option("--interval", type=float, default=12.0)
@click.option("--metrics-port", type=click.IntRange(1, 65535), default=None)
@click.option("--dry-run", is_flag=True)
def show(**kw):
    click.echo(json.dumps(kw))


def invoke(args, env=None):
    result = CliRunner(mix_stderr=False).invoke(show, args, env=env or {})
    out = json.loads(result.stdout) if result.exit_code == 0 else None
    return result, out


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_toml_section_fills_the_options(tmp_path):
    cfg = write(tmp_path, "b.toml", '[bot]\nnetwork = "ethereum:local:foundry"\nmetrics-port = 9465\n'
                'rpc = ["http://a", "http://b"]\ndry_run = true\n[keeper]\noracle = "0x1"\n')  # fmt: skip
    result, out = invoke(["--config", cfg])
    assert result.exit_code == 0, result.stderr
    assert out == {"network_choice": "ethereum:local:foundry", "rpc": ["http://a", "http://b"], "interval": 12.0,
                   "metrics_port": 9465, "dry_run": True}  # fmt: skip


def test_yaml_works_too_and_a_single_rpc_is_a_list(tmp_path):
    cfg = write(tmp_path, "b.yaml", "bot:\n  network: ethereum:local:foundry\n  rpc: http://a\n  interval: 3\n")
    _, out = invoke(["--config", cfg])
    assert out["rpc"] == ["http://a"] and out["interval"] == 3.0


def test_flags_win_over_the_environment_which_wins_over_the_file(tmp_path):
    cfg = write(tmp_path, "b.toml", '[bot]\nnetwork = "ethereum:local:foundry"\ninterval = 5\nrpc = "http://file"\n')
    env = {"BALLAST_BOT_INTERVAL": "7", "BALLAST_BOT_RPC": "http://secret-1 http://secret-2"}
    _, out = invoke(["--config", cfg], env)
    assert out["interval"] == 7.0 and out["rpc"] == ["http://secret-1", "http://secret-2"]
    _, out = invoke(["--config", cfg, "--interval", "9", "--rpc", "http://flag"], env)
    assert out["interval"] == 9.0 and out["rpc"] == ["http://flag"]


def test_environment_alone_without_a_file():
    _, out = invoke([], {"BALLAST_BOT_NETWORK": "ethereum:sepolia:node"})
    assert out["network_choice"] == "ethereum:sepolia:node"
    assert env_name("bot", "metrics-port") == "BALLAST_BOT_METRICS_PORT"


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("b.toml", '[bot]\nnetwrk = "x"\n', "[bot] unknown key 'netwrk' (known: dry-run, interval,"),
        ("b.toml", '[bot]\nnetwork = "x"\ninterval = "soon"\n', "[bot] interval: 'soon' is not a valid float"),
        ("b.toml", '[bot]\nnetwork = "x"\nmetrics-port = 70000\n', "[bot] metrics-port: 70000 is not in the range"),
        ("b.toml", '[bot]\nnetwork = ["a", "b"]\n', "[bot] network: expected a single value, not list"),
        ("b.toml", '[bots]\nnetwork = "x"\n', "unknown section(s) bots (known: keeper, bot)"),
        ("b.toml", "[bot\n", "cannot parse config"),
        ("b.yaml", "bot: [1, 2\n", "cannot parse config"),
        ("b.yaml", "- 1\n", "expected sections like [bot] at the top level"),
        ("b.ini", "[bot]\n", "unknown format '.ini'"),
    ],
)
def test_mistakes_are_one_line(tmp_path, name, text, message):
    result, _ = invoke(["--config", write(tmp_path, name, text)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ballast: error: ") and message in lines[0], result.stderr


def test_missing_file_and_bad_environment_value_are_one_line(tmp_path):
    result, _ = invoke(["--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 1 and "cannot read config" in result.stderr and "No such file" in result.stderr
    result, _ = invoke(["--network", "x"], {"BALLAST_BOT_METRICS_PORT": "many"})
    assert result.exit_code == 1
    assert "environment BALLAST_BOT_METRICS_PORT: 'many' is not a valid integer range" in result.stderr


def test_required_option_missing_everywhere_is_clicks_usage_error():
    result, _ = invoke([])
    assert result.exit_code == 2 and "Missing option '--network'" in result.stderr


def test_ballast_error_type():
    from oracle.config import read_file

    with pytest.raises(BallastError):
        read_file("/nonexistent/ballast.toml")


def test_the_keeper_takes_its_options_from_the_keeper_section(tmp_path):
    """`ballast keeper run --config FILE`: the file's [keeper] table fills the required options (its
    [bot] table is the bot's); a flag still wins. The run stops at the first check of what it was given."""
    from oracle.keeper import run

    path = write(tmp_path, "ballast.toml", '[keeper]\nnetwork = "ethereum:local:foundry"\naccount = "keeper1"\n'
                 'oracle = "0xnot-an-oracle"\nasset = ["WETH=1"]\nsource = ["pool:0x1"]\nmetrics-port = 9464\n'
                 '[bot]\nnetwork = "ethereum:sepolia:node"\n')  # fmt: skip
    result = CliRunner(mix_stderr=False).invoke(run, ["--config", path], env={})
    assert result.exit_code == 1 and "--oracle '0xnot-an-oracle' is not an address" in result.stderr, result.stderr
    result = CliRunner(mix_stderr=False).invoke(run, ["--config", path, "--oracle", "0xflag"], env={})
    assert result.exit_code == 1 and "--oracle '0xflag' is not an address" in result.stderr, result.stderr
    result = CliRunner(mix_stderr=False).invoke(run, ["--config", path], env={"BALLAST_KEEPER_ORACLE": "0xenv"})
    assert result.exit_code == 1 and "--oracle '0xenv' is not an address" in result.stderr, result.stderr
