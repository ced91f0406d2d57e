"""Stateful campaign fixtures: the real market stack from the market fixtures."""

from market_fixtures import *
