"""Fixtures of tests/operator: the operator's world (tests/operator/world.py)."""

import pytest
from world import World, sepolia_standin


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A World on a Sepolia stand-in, shared by the tests of one module (in file order)."""
    with sepolia_standin() as node:
        w = World(tmp_path_factory.mktemp("operator"), node)
        try:
            yield w
        finally:
            w.close()
