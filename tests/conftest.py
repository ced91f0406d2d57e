"""Shared fixtures: actors by role and deployers of the real contracts (on a real anvil node)."""

import pytest


@pytest.fixture(scope="session")
def admin(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def keeper(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def guardian(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def lender(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def borrower(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def liquidator(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def attacker(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def other(accounts):
    return accounts[7]


# --- gas report: tests record real transactions' gas; printed at the end of every run ----------

GAS_REPORT: dict[str, int] = {}


@pytest.fixture(scope="session")
def gas_report():
    """gas_report[name] = gas_used: shown in the terminal summary of `make test`."""
    return GAS_REPORT


def pytest_terminal_summary(terminalreporter):
    if not GAS_REPORT:
        return
    terminalreporter.section("gas per operation (whole transaction on anvil)")
    for name, gas in GAS_REPORT.items():
        terminalreporter.write_line(f"{name:<40} {gas:>10,}")
