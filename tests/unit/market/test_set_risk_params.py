"""Market.set_risk_params: owner only, every bound checked with its own message, event."""

import ape
import pytest
from market_fixtures import RISK, WAD, risk_tuple

# (field, bad value, message): one row per bound
BAD = [
    ("z_init", WAD - 1, "market: z_init too low"),
    ("z_init", 10 * WAD + 1, "market: z_init too high"),
    ("z_maint", WAD // 2 - 1, "market: z_maint too low"),
    ("z_maint", RISK.z_init, "market: z_maint must be below z_init"),
    ("horizon", 599, "market: horizon too short"),
    ("horizon", 7 * 86_400 + 1, "market: horizon too long"),
    ("bonus", 5 * 10**15 - 1, "market: bonus too low"),
    ("bonus", 2 * 10**17 + 1, "market: bonus too high"),
    ("h_min", RISK.bonus - 1, "market: h_min below bonus"),
    ("h_max", RISK.h_min, "market: h_max must be above h_min"),
    ("h_max", 95 * 10**16 + 1, "market: h_max too high"),
    ("slip_k", 100 * WAD + 1, "market: slip_k too high"),
    ("ramp_per_hour", 10**15 - 1, "market: ramp_per_hour too low"),
    ("ramp_per_hour", 5 * 10**17 + 1, "market: ramp_per_hour too high"),
    ("stale_after", 59, "market: stale_after too short"),
    ("stale_after", 86_401, "market: stale_after too long"),
    ("stale_sigma", 10**17 - 10**10, "market: stale_sigma too low"),
    ("stale_sigma", 20 * WAD + 10**10, "market: stale_sigma too high"),
    ("stale_sigma", WAD + 1, "market: stale_sigma not in sigma units"),
    ("bonus_min", 5 * 10**15 - 10**9, "market: bonus_min too low"),
    ("bonus_min", RISK.bonus + 10**9, "market: bonus_min above bonus"),
    ("target_margin", 5 * 10**17 + 10**9, "market: target_margin too high"),
    ("init_gap", 3 * 10**17 + 10**9, "market: init_gap too high"),
    ("min_debt", 10**7 + 1, "market: min_debt too high"),
    ("liq_cap", 5 * WAD + 10**9, "market: liq_cap too high"),
    ("liq_cap", WAD + 1, "market: risk params off the 1e9 grid"),
    ("bonus_min", RISK.bonus_min + 1, "market: risk params off the 1e9 grid"),
]


@pytest.mark.parametrize("field,bad,message", BAD, ids=[m.split(": ")[1] for _, _, m in BAD])
def test_set_risk_params_bounds(market, admin, field, bad, message):
    with ape.reverts(message):
        market.set_risk_params(risk_tuple(RISK.replace(**{field: bad})), sender=admin)


def test_init_floor_must_stay_below_h_max(market, admin):
    with ape.reverts("market: init floor not below h_max"):
        market.set_risk_params(risk_tuple(RISK.replace(h_max=3 * 10**17, init_gap=17 * 10**16)), sender=admin)
    market.set_risk_params(risk_tuple(RISK.replace(h_max=3 * 10**17, init_gap=16 * 10**16)), sender=admin)


def test_h_min_too_high(market, admin):
    p = RISK.replace(h_min=5 * 10**17 + 1, h_max=9 * 10**17)
    with ape.reverts("market: h_min too high"):
        market.set_risk_params(risk_tuple(p), sender=admin)


def test_set_risk_params_at_the_bounds(market, factory, admin):
    edge = RISK.replace(
        z_init=10 * WAD,
        z_maint=WAD // 2,
        horizon=7 * 86_400,
        bonus=2 * 10**17,
        h_min=5 * 10**17,
        h_max=95 * 10**16,
        slip_k=100 * WAD,
        ramp_per_hour=5 * 10**17,
        stale_after=86_400,
        stale_sigma=20 * WAD,
    )
    tx = market.set_risk_params(risk_tuple(edge), sender=admin)
    ev = tx.decode_logs(factory.RiskParamsSet)[0]  # the factory keeps and logs the parameters
    assert ev.market == market.address
    assert (ev.z_init, ev.stale_sigma, ev.h_max) == (10 * WAD, 20 * WAD, 95 * 10**16)
    assert tuple(market.risk_params()) == risk_tuple(edge)
    low = RISK.replace(
        z_init=WAD,
        z_maint=WAD // 2,
        horizon=600,
        bonus=5 * 10**15,
        bonus_min=5 * 10**15,
        h_min=5 * 10**15,
        slip_k=0,
        ramp_per_hour=10**15,
        stale_after=60,
        stale_sigma=10**17,
    )
    market.set_risk_params(risk_tuple(low), sender=admin)
    assert tuple(market.risk_params()) == risk_tuple(low)


def test_set_risk_params_not_owner_reverts(market, attacker):
    with ape.reverts("ownable: caller is not the owner"):
        market.set_risk_params(risk_tuple(), sender=attacker)
