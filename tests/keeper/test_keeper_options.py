"""The keeper's option parsing: --asset, --source, --peer, replay windows (pure, no chain)."""

import csv

import pytest
from web3 import Web3

from oracle.chain import Rpc
from oracle.errors import BallastError
from oracle.keeper import attach_sources, parse_assets, window
from oracle.sources.csv import CsvReplaySource

POOL = "0x" + "ab" * 20


@pytest.fixture
def candle_file(tmp_path):
    path = tmp_path / "c.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["unix", "open", "high", "low", "close", "Volume ETH", "Volume USDT"])
        for i in range(48):
            w.writerow([1_583_020_800 + i * 3_600, 100, 101, 99, 100 + i % 3, 10, 1_000])  # 2020-03-01 00:00
    return path


def test_parse_assets():
    assets = parse_assets(("WETH=1", "0x" + "11" * 20 + "=2"))
    assert [(a.label, a.asset_id) for a in assets] == [("WETH", 1), ("0x" + "11" * 20, 2)]


@pytest.mark.parametrize("spec", ["WETH", "WETH=", "=1", "WETH=0", "WETH=x"])
def test_bad_asset_spec(spec):
    with pytest.raises(BallastError, match=f"bad --asset '{spec}'"):
        parse_assets((spec,))


@pytest.mark.parametrize("spec", ["0xdeadbeef=1", "0x" + "zz" * 20 + "=1", "0X12=1"])
def test_a_mistyped_address_is_an_error_not_a_label(spec):
    """issue 10, finding 10: `--asset 0xdeadbeef=1` used to become a label and the keeper did nothing."""
    with pytest.raises(BallastError, match=r"^bad --asset '.*': '0[xX].*' is not an address"):
        parse_assets((spec,))


@pytest.mark.parametrize("spec", ["1WETH=1", "W ETH=1", "WETH!=1"])
def test_a_label_is_a_name(spec):
    with pytest.raises(BallastError, match="is neither an address nor a name"):
        parse_assets((spec,))


def test_duplicate_asset_id():
    with pytest.raises(BallastError, match="asset id 1 given twice"):
        parse_assets(("WETH=1", "WBTC=1"))


def test_sources_attach_to_their_asset(candle_file):
    assets = parse_assets(("WETH=1", "WBTC=2"))
    attach_sources(assets, (f"WETH=csv:{candle_file}", f"wbtc=pool:{POOL}"), Rpc(["http://127.0.0.1:1"]))
    assert [type(s).__name__ for s in assets[0].sources] == ["CsvReplaySource"]
    assert assets[1].sources[0].pool == Web3.to_checksum_address(POOL)


def test_single_asset_needs_no_prefix(candle_file):
    assets = parse_assets(("WETH=1",))
    attach_sources(assets, (f"csv:{candle_file}",), Rpc(["http://127.0.0.1:1"]))
    assert len(assets[0].sources) == 1


def test_several_assets_need_the_prefix(candle_file):
    assets = parse_assets(("WETH=1", "WBTC=2"))
    with pytest.raises(BallastError, match="must name its asset"):
        attach_sources(assets, (f"csv:{candle_file}",), Rpc(["http://127.0.0.1:1"]))


def test_every_asset_needs_a_source(candle_file):
    assets = parse_assets(("WETH=1", "WBTC=2"))
    with pytest.raises(BallastError, match="asset WBTC has no --source"):
        attach_sources(assets, (f"WETH=csv:{candle_file}",), Rpc(["http://127.0.0.1:1"]))


def test_pool_source_window(candle_file):
    assets = parse_assets(("WETH=1",))
    attach_sources(assets, (f"pool:{POOL}", f"pool:{POOL}:600"), Rpc(["http://127.0.0.1:1"]))
    assert [s.window for s in assets[0].sources] == [1_800, 600]  # 30 minutes unless given


@pytest.mark.parametrize(
    "spec", ["csv:", "pool:0x12", f"pool:{POOL}:0", f"pool:{POOL}:x", "ccxt:binance", "ftp:x", "ccxt:nosuchx:ETH/USDT"]
)
def test_bad_source_spec(spec):
    with pytest.raises(BallastError):
        attach_sources(parse_assets(("WETH=1",)), (spec,), Rpc(["http://127.0.0.1:1"]))


def test_replay_window_by_date_and_count(candle_file):
    source = CsvReplaySource.from_path(candle_file)
    part = window(source, "2020-03-01T12:00", 5)
    assert len(part.candles) == 5 and part.candles.ts[0] == 1_583_020_800 + 12 * 3_600
    assert len(window(source, str(1_583_020_800 + 40 * 3_600), None).candles) == 8


def test_replay_window_errors(candle_file):
    source = CsvReplaySource.from_path(candle_file)
    with pytest.raises(BallastError, match="bad --replay-start 'March'"):
        window(source, "March", None)
    with pytest.raises(BallastError, match="no bars in the replay window"):
        window(source, "2021-01-01", None)


def test_post_calldata_from_the_compiled_abi_matches_the_reports_module():
    from oracle import reports
    from oracle.keeper import OracleView

    batch = reports.Batch(7, 9, [1, 2], [3, 4], 0, ["0x" + "11" * 20])
    view = OracleView(Rpc(["http://127.0.0.1:1"]), "0x" + "0c" * 20)
    assert view.post_data(batch) == batch.calldata()


def test_min_sources_defaults_to_two_on_live_networks():
    from oracle.chain import resolve_network
    from oracle.keeper import default_min_sources

    assert default_min_sources(resolve_network("ethereum:sepolia:node").is_local) == 2
    assert default_min_sources(resolve_network("ethereum:mainnet").is_local) == 2
    assert default_min_sources(resolve_network("ethereum:local:foundry").is_local) == 1
