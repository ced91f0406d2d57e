"""Whole-transaction gas of RiskOracle.post on anvil (`tx.gas_used`), steady state: every asset already
has metrics, the update is accepted and applies (nothing queued). Gas is deterministic for fixed
calldata, so the ceilings are pinned just above the measured numbers: a change that costs gas fails here.

DESIGN targets 30,000 (1 asset) and 80,000 (10 assets). The interface alone costs more than that before
any execution: 21,000 intrinsic + calldata (ABI: two uint256 + offset + length + one word per asset)
+ 2,100 cold read of the keeper's allowlist entry (which also carries the guard parameters and the pause
flag) + 5,000 per asset (cold read + write of its one slot) + 1,637 for the one event (LOG2, 64 bytes).
The test prints that floor next to the measured gas; what remains is Vyper execution (~650 per asset)."""

import pytest
from oracle_helpers import HOUR, WAD

from oracle import model

# ETH/USDC-like metrics: price of 1e18 collateral units in 1e6 loan units, depth 5M USDC, sigma 60%.
PRICE = 2_000 * 10**6
DEPTH = 5_000_000 * 10**6
SIGMA = 6 * WAD // 10

CEILINGS = {
    ("up", 1): 32_250,  # measured 32,151
    ("down", 1): 32_650,  # measured 32,545
    ("up", 10): 86_150,  # measured 86,025
    ("down", 10): 90_000,  # measured 89,902
}


@pytest.fixture
def ten_assets(oracle, admin, keeper, chain):
    for i in range(10):
        oracle.add_asset(f"0x{i + 1:040x}", sender=admin)
    oracle.set_keeper(keeper, True, sender=admin)
    at = chain.pending_timestamp
    oracle.post(
        at, at + 60, [model.pack_update(i + 1, PRICE, DEPTH, SIGMA) for i in range(10)], sender=keeper
    )
    return at


def _measure(oracle, keeper, chain, first_at, n, direction):
    at = first_at + HOUR
    chain.pending_timestamp = max(chain.pending_timestamp, at)
    if direction == "up":  # risk up: sigma rises, depth falls (no rate bound to evaluate)
        sigma, depth = SIGMA + SIGMA // 10, DEPTH - DEPTH // 10
    else:  # risk down within the bounds: the fall / rise bounds are evaluated
        sigma, depth = SIGMA - SIGMA // 50, DEPTH + DEPTH // 50
    words = [model.pack_update(i + 1, PRICE + 1, depth, sigma) for i in range(n)]
    tx = oracle.post(at, at + 60, words, sender=keeper)
    assert oracle.metrics(n)[1:3] == (sigma, depth)
    assert oracle.pending(n) == (0, 0, 0)
    calldata = sum(16 if b else 4 for b in bytes(tx.transaction.data))
    floor = 21_000 + calldata + 2_100 + 5_000 * n + 1_637
    return tx.gas_used, floor


@pytest.mark.parametrize("direction", ["up", "down"])
@pytest.mark.parametrize("n", [1, 10])
def test_post_gas_is_within_its_ceiling(oracle, keeper, chain, ten_assets, n, direction, gas_report):
    gas, floor = _measure(oracle, keeper, chain, ten_assets, n, direction)
    gas_report[f"oracle post, {n} asset(s), risk {direction}"] = gas
    print(
        f"\npost {n:>2} asset(s), risk {direction:<4}: {gas:,} gas (ceiling {CEILINGS[direction, n]:,}, "
        f"storage+calldata+event floor {floor:,})"
    )
    assert gas <= CEILINGS[direction, n]
