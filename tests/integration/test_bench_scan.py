"""`ballast bench scan`'s setup and measurement on a small market: every position is real (collateral and
debt on chain) and every one is read by the bot's scan. The speed itself is make bench's, not a test's."""

from oracle.bench_scan import measure_scan, setup_positions
from oracle.views import MarketReader


def test_setup_makes_real_positions_and_the_scan_reads_them_all(project, accounts, chain):
    market, lens = setup_positions(project, accounts, chain, 40)
    rows = MarketReader.of(project, market.address, lens.address).scan(batch=7)
    assert len(rows) == 40 == market.num_borrowers()
    assert len({r[0] for r in rows}) == 40
    for account, collateral, debt, hf, liquidatable in rows:
        assert collateral == 10**18 and 1_000 * 10**6 <= debt <= 1_000 * 10**6 + 10
        assert hf > 10**18 and not liquidatable


def test_measure_scan_reports_what_it_read(project, accounts, chain):
    result = measure_scan(project, accounts, chain, n=25, repeats=2)
    assert result["positions"] == 25 and result["positions_per_second"] > 0
    assert result["gas_per_page_of_1000"] > 25 * 2_100  # at least a cold read per position
