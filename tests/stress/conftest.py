"""Fixtures of the stress tests (helpers in stress_helpers.py)."""

import pytest
from stress_helpers import FIXTURES


@pytest.fixture
def fixture_csv():
    return FIXTURES / "synthetic_ETHUSDT_1h.csv"
