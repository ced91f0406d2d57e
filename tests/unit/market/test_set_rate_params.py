"""Market.set_rate_params: owner only, bounded, event, interest so far accrues at the old rate."""

import ape
import pytest
from market_fixtures import RATES, WAD, rate_tuple

BAD = [
    ("base", WAD + 1, "market: base rate too high"),
    ("slope1", 2 * WAD + 1, "market: slope1 too high"),
    ("slope2", 10 * WAD + 1, "market: slope2 too high"),
    ("kink", 5 * 10**16 - 1, "market: kink too low"),
    ("kink", 99 * 10**16 + 1, "market: kink too high"),
]


@pytest.mark.parametrize("field,bad,message", BAD, ids=[m.split(": ")[1] for _, _, m in BAD])
def test_set_rate_params_bounds(market, admin, field, bad, message):
    from dataclasses import replace

    with ape.reverts(message):
        market.set_rate_params(rate_tuple(replace(RATES, **{field: bad})), sender=admin)


def test_set_rate_params_applies_and_logs(lens, borrowed, admin, chain):
    from dataclasses import replace

    new = replace(RATES, base=WAD, slope1=2 * WAD, slope2=10 * WAD, kink=99 * 10**16)
    before = lens.borrow_rate(borrowed)
    tx = borrowed.set_rate_params(rate_tuple(new), sender=admin)
    ev = tx.decode_logs(borrowed.RateParamsSet)[0]
    assert (ev.base, ev.slope1, ev.slope2, ev.kink) == rate_tuple(new)
    assert tuple(borrowed.rate_params()) == rate_tuple(new)
    assert lens.borrow_rate(borrowed) > before
    assert borrowed.last_update() == chain.blocks.head.timestamp


def test_set_rate_params_not_owner_reverts(market, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        market.set_rate_params(rate_tuple(), sender=attacker)
