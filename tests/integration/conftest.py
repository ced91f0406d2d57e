"""Market unit-test fixtures (shared with the factory and integration tests through market_fixtures)."""

from market_fixtures import *
